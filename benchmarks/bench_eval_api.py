"""Speed of the OpenAI-compatible evaluation backend against a local server.

The server runs in its own process (so it does not share the client's GIL): it answers
every chat completion after `--latency` seconds and works on at most `--limit` at once.

1. Throughput at concurrency 1, 8 and 32, each sending `--per-stream` requests per
   stream, twice: with the real maps ($REWARDMAP_REAL_DATA, map by map as a dataset comes them;
   synthetic 1 MB images when absent) and with small `--image-kb` images. Goal: within
   10% of concurrency x the single-stream rate, measured in the same run, up to the
   server's limit. The maps are encoded before the clock starts (as they are after the
   first question about each), so the baseline is not slowed by work the others skip.
   Real maps move about a gigabyte a second through loopback at concurrency 32: on a
   small machine the kernel's copies, not the client, can be the limit, and the CPU
   columns show it.
2. Resume: a 10,000-record run that is 90% done (prediction lines of thinking-model size,
   and a torn last line) is run again: the time from opening the store until the server
   sees the first new request. Goal: under 2 s.
3. Resume, the whole command: what a user waits for. A dataset of `--records` (10,000)
   ReasonMap-Plus records is built with the real command (`data synth` at 512 px; and,
   when the real data exists, `data build` on the cities that have a real map,
   up to 2 MB and 1.4e8 pixels, whose check before asking is what part 2 leaves out).
   `questions.jsonl` keeps the planning records the build makes (the command reads every
   line) and every map (the Plus records are thinned evenly, not cut off). Against its own
   server process (`--resume-latency`, fast so that this setup is quick), `python -m
   rewardmap eval --benchmark reasonmap-plus --limit <90%>` answers the first 90%, for
   real; then the same command without `--limit` is spawned (OMP_NUM_THREADS=1) and timed
   from the spawn until the server receives the first POST /chat/completions (the server
   stamps it with time.time(); same machine, same clock): Python start and imports,
   reading questions.jsonl, checking each map once, opening the store (9,000 lines),
   GET /models and the first request. Goal: under 2 s. The command is left to finish,
   and must ask the server exactly the remaining 10% and leave one prediction per record.
   Each of `--repeats` runs starts again from a copy of the 90% store (the median is
   judged). Files are in the page cache (they were just written and read): a cold disk
   would add its reads. The rows below it show where the time goes, from one more resume
   run through `_eval_timeline.py` (the same command, with timers wrapped around the
   library's steps from outside; not judged): wall and CPU seconds of the interpreter's
   start, the imports, argument parsing, reading questions.jsonl, checking the maps,
   opening the store, GET /models and the first request. CPU seconds do not grow when
   other processes hold the CPUs, so compare them with the wall seconds on a busy machine
   (the title gives the load average). Last, the command's own start:
   `python -c pass` and `python -m rewardmap --help` (best of 3).

    python benchmarks/bench_eval_api.py [--parts 1,2,3] [--latency 0.05] [--limit 64] [--per-stream 50]
                                        [--image-kb 50] [--records 10000] [--resume-latency 0.002] [--repeats 3]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from rich.console import Console
from rich.table import Table

from rewardmap.eval.backends.api import run_requests
from rewardmap.eval.backends.client import ChatClient
from rewardmap.eval.backends.messages import image_data_url, user_turn
from rewardmap.eval.store import PredictionStore
from rewardmap.questions.kinds import PLUS_TYPES

from _real_data import REAL_DATA  # noqa: E402  (beside this script)

REAL = REAL_DATA / "maps"
STATIONS = REAL.parent / "stations"
KEY_ENV = "REWARDMAP_BENCH_KEY"
ANSWER = json.dumps({"id": "c", "object": "chat.completion", "model": "bench", "choices": [
    {"index": 0, "finish_reason": "stop", "message": {"role": "assistant", "content":
     "<think>" + "Line 2 meets Line 5 at the hub. " * 20 + "</think>Route Name: Line 2\\n--\\n"}}]}).encode()


# --- the server (its own process) ----------------------------------------------------

class _Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 256

    def handle_error(self, request, client_address):
        if not isinstance(sys.exc_info()[1], ConnectionError):  # clients close kept-alive connections
            super().handle_error(request, client_address)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body go out as two writes

    def log_message(self, *args):
        pass

    def do_GET(self):
        s = self.server
        with s.lock:
            body = json.dumps({"requests": s.count, "first": s.first, "max_in_flight": s.max_in_flight}).encode()
        self._send(200, body)

    def do_POST(self):
        s = self.server
        self.rfile.read(int(self.headers["Content-Length"]))
        if self.path == "/reset":
            with s.lock:
                s.count, s.first, s.max_in_flight = 0, None, 0
            return self._send(200, b"{}")
        with s.lock:
            s.count += 1
            s.first = s.first or time.time()
        with s.slots:  # the server's concurrency limit
            with s.lock:
                s.in_flight += 1
                s.max_in_flight = max(s.max_in_flight, s.in_flight)
            time.sleep(s.latency)
            with s.lock:
                s.in_flight -= 1
        self._send(200, ANSWER)

    def _send(self, status, body):
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


def serve(latency: float, limit: int) -> None:
    server = _Server(("127.0.0.1", 0), _Handler)
    server.latency, server.slots, server.lock = latency, threading.BoundedSemaphore(limit), threading.Lock()
    server.count, server.first, server.in_flight, server.max_in_flight = 0, None, 0, 0
    print(server.server_address[1], flush=True)
    server.serve_forever()


class Server:
    def __init__(self, latency: float, limit: int):
        self.proc = subprocess.Popen([sys.executable, __file__, "--serve", "--latency", str(latency),
                                      "--limit", str(limit)], stdout=subprocess.PIPE, text=True)
        self.port = int(self.proc.stdout.readline())
        self.url = f"http://127.0.0.1:{self.port}/v1"

    def call(self, method: str, path: str) -> dict:
        import http.client
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        conn.request(method, path, body=b"" if method == "POST" else None)
        out = json.loads(conn.getresponse().read())
        conn.close()
        return out

    def cpu(self) -> float:
        """CPU seconds the server process has used (Linux; 0 elsewhere)."""
        try:
            fields = Path(f"/proc/{self.proc.pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            return 0.0
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def close(self):
        self.proc.terminate()
        self.proc.wait()


# --- the client ------------------------------------------------------------------------

def maps(tmp: Path, size: int | None = None) -> list[Path]:
    """The real maps, or four synthetic images of `size` bytes (1 MB without real maps)."""
    if size is None and REAL.is_dir():
        return sorted(REAL.glob("*/*.png"))
    out = []
    for i in range(4):
        path = tmp / f"map{size}-{i}.png"
        path.write_bytes(b"\x89PNG\r\n\x1a\n" + os.urandom(size or 1_000_000))
        out.append(path)
    return out


def records_for(n: int, figures: list[Path]) -> list[dict]:
    block = max(1, -(-n // len(figures)))  # questions come map by map
    return [{"id": f"q{i:05d}", "figure": str(figures[i // block]), "question": f"From A to B, question {i}?"}
            for i in range(n)]


def messages(record: dict) -> list[dict]:
    return user_turn(record["figure"], record["question"])


def client(server: Server) -> ChatClient:
    return ChatClient(server.url, "bench-model", api_key_env=KEY_ENV, timeout=60, backoff=0.05)


def throughput(server: Server, figures: list[Path], concurrency: int, per_stream: int, tmp: Path) -> dict:
    n = concurrency * per_stream
    records = records_for(n, figures)
    for figure in figures:
        image_data_url(figure)
    server.call("POST", "/reset")
    server_cpu, own = server.cpu(), os.times()
    with PredictionStore(tmp / f"c{concurrency}-{figures[0].stem}.jsonl") as store:
        start = time.perf_counter()
        summary = run_requests(records, messages, store, client(server), concurrency=concurrency)
        seconds = time.perf_counter() - start
    stats = server.call("GET", "/stats")
    assert summary.ok == n and stats["requests"] == n, (summary, stats)
    end = os.times()
    return {"rate": n / seconds, "n": n, "max_in_flight": stats["max_in_flight"], "seconds": seconds,
            "client_cpu": end.user + end.system - own.user - own.system, "server_cpu": server.cpu() - server_cpu}


def resume(server: Server, figures: list[Path], total: int, done_share: float, tmp: Path) -> dict:
    records = records_for(total, figures)
    done = int(total * done_share)
    path = tmp / "resume" / "predictions.jsonl"
    path.parent.mkdir()
    thinking = "<think>" + "I follow Line 3 north, change at the hub, then two stops on Line 7. " * 25 + "</think>"
    answer = "Route Name: Line 3\nDeparture Stop: A\nArrival Stop: Hub\n--\nRoute Name: Line 7\n"
    with open(path, "w", encoding="utf-8") as f:
        for r in records[:done]:
            f.write(json.dumps({"id": r["id"], "status": "ok", "response": answer, "response_raw": thinking + answer,
                                "error": None, "attempts": 1, "seconds": 3.2}) + "\n")
        f.write('{"id": "q09000", "status": "o')  # the kill tore the last line
    size = path.stat().st_size
    server.call("POST", "/reset")
    start_wall, start = time.time(), time.perf_counter()
    with PredictionStore(path) as store:
        opened = time.perf_counter() - start
        summary = run_requests(records, messages, store, client(server), concurrency=32)
    first = server.call("GET", "/stats")["first"] - start_wall
    ids = [json.loads(line)["id"] for line in path.read_text(encoding="utf-8").splitlines()]
    assert summary.skipped == done and len(ids) == len(set(ids)) == total, (summary, len(ids))
    return {"open": opened, "first": first, "mb": size / 1e6, "repaired": store.repaired}


# --- part 3: the whole command, resumed ----------------------------------------------

def _rewardmap(*args: str) -> list[str]:
    """The real command, as a user runs it (a fresh interpreter: start and imports count)."""
    return [sys.executable, "-m", "rewardmap", *args]


def _env() -> dict:
    return {**os.environ, "OMP_NUM_THREADS": "1"}


def _run(cmd: list[str], what: str) -> subprocess.CompletedProcess:
    proc = subprocess.run(cmd, env=_env(), capture_output=True, text=True)
    if proc.returncode:
        raise RuntimeError(f"{what} failed (exit {proc.returncode}): {' '.join(cmd)}\n{proc.stderr[-3000:]}")
    return proc


def cli_dataset(kind: str, tmp: Path, records: int) -> dict:
    """A dataset folder built by the command, with exactly `records` Plus records."""
    out = tmp / f"data-{kind}"
    if kind == "synthetic":
        # --per-city 1000 gives about 500 Plus questions per city (the rest are planning,
        # and some Plus types run out of distinct questions), so a city per 400 leaves spare.
        _run(_rewardmap("data", "synth", "--cities", str(max(2, -(-records // 400))), "--per-city", "1000",
                        "--size", "512", "--out", str(out), "--workers", "2"), "data synth")
    else:
        # Only the cities that have a map: a record without one cannot be evaluated.
        stations = tmp / "stations-with-maps"
        for png in sorted(REAL.glob("*/*.png")):
            source = STATIONS / png.parent.name / f"{png.stem}.json"
            if source.is_file():
                (stations / png.parent.name).mkdir(parents=True, exist_ok=True)
                shutil.copy(source, stations / png.parent.name / source.name)
        cities = len(list(stations.glob("*/*.json")))
        # 11 cities at --per-city 2500 give about 11,300 Plus questions (Counting2/3 run out).
        per_city = max(100, -(-records * 11 // (4 * cities)))
        _run(_rewardmap("data", "build", "--stations", str(stations), "--maps", str(REAL), "--per-city",
                        str(per_city), "--out", str(out), "--workers", "2"), "data build")
    questions = out / "questions.jsonl"
    lines = questions.read_bytes().splitlines(keepends=True)
    plus = [i for i, line in enumerate(lines) if json.loads(line)["type"] in PLUS_TYPES]
    if len(plus) < records:
        raise RuntimeError(f"{out}: the build made {len(plus)} Plus records, fewer than --records {records}")
    # Thin the Plus records evenly, in file order: every map stays asked about, and the
    # last 10% (the resumed part) spans the last cities as a real run's would.
    keep = {plus[i * len(plus) // records] for i in range(records)}
    plus_set = set(plus)
    kept = [line for i, line in enumerate(lines) if i in keep or i not in plus_set]
    questions.write_bytes(b"".join(kept))
    figures = sorted({json.loads(line)["figure"] for i, line in enumerate(lines) if i in keep})
    sizes = [(out / f).stat().st_size / 1e6 for f in figures]
    return {"kind": kind, "path": out, "records": records, "lines": len(kept), "maps": len(figures),
            "mb": (min(sizes), max(sizes))}


def resume_cli(server: Server, data: dict, tmp: Path, repeats: int, concurrency: int) -> dict:
    """Answer 90% with the command, then time the resumed command until its first request."""
    run = tmp / f"run-{data['kind']}"
    predictions = run / "predictions.jsonl"
    total, done = data["records"], int(data["records"] * 0.9)
    args = ("eval", "--data", str(data["path"]), "--benchmark", "reasonmap-plus", "--api", server.url,
            "--api-model", "bench-model", "--api-key-env", KEY_ENV, "--out", str(run),
            "--concurrency", str(concurrency))
    server.call("POST", "/reset")
    _run(_rewardmap(*args, "--limit", str(done)), "the first 90%")
    asked = server.call("GET", "/stats")["requests"]
    assert asked == done, (asked, done)
    saved = predictions.read_bytes()

    def resumed(cmd: list[str], env: dict | None = None) -> tuple[float, float, int]:
        """(spawn to first POST, whole command, POSTs) of one resume from the 90% store."""
        predictions.write_bytes(saved)
        server.call("POST", "/reset")
        # Both ends stamp time.time(): the spawn here, the first POST in the server process.
        start = time.time()
        proc = subprocess.run(cmd, env={**_env(), **(env or {}), "REWARDMAP_BENCH_SPAWN": repr(start)},
                              capture_output=True, text=True)  # left to finish, so the POSTs can be counted
        whole = time.time() - start
        if proc.returncode:
            raise RuntimeError(f"the resumed run failed (exit {proc.returncode}):\n{proc.stderr[-3000:]}")
        stats = server.call("GET", "/stats")
        ids = [json.loads(line)["id"] for line in predictions.read_bytes().splitlines()]
        assert stats["requests"] == total - done, (stats["requests"], total - done)
        assert len(ids) == len(set(ids)) == total, (len(ids), len(set(ids)), total)
        return stats["first"] - start, whole, stats["requests"]

    runs = [resumed(_rewardmap(*args)) for _ in range(repeats)]
    # One more, through the timeline wrapper (not judged): where the time goes.
    timeline = tmp / f"timeline-{data['kind']}.json"
    traced = resumed([sys.executable, str(Path(__file__).with_name("_eval_timeline.py")), str(timeline), *args])
    return {"first": statistics.median(r[0] for r in runs), "firsts": [r[0] for r in runs],
            "whole": statistics.median(r[1] for r in runs), "posts": [r[2] for r in runs], "done": done,
            "expected": total - done, "store_mb": len(saved) / 1e6, "traced": traced[0],
            "timeline": json.loads(timeline.read_text())}


# Spans of the traced run: (label, from event, to event); the events are _eval_timeline.py's.
SPANS = (
    ("interpreter start", None, "script start"),
    ("imports: rewardmap.cli, eval, train.data", "script start", "imports end"),
    ("argument parsing (typer)", "imports end", "load_benchmark start"),
    ("read questions.jsonl (load_records, {lines:,} lines)", "load_records start", "load_records end"),
    ("check {maps} maps (the rest of load_benchmark)", "load_records end", "load_benchmark end"),
    ("open the store ({done:,} lines, {store_mb:.1f} MB)", "open the store start", "open the store end"),
    ("the store's pending records", "pending start", "pending end"),
    ("GET /models", "GET /models start", "GET /models end"),
    ("the first message (map to base64)", "first message start", "first message end"),
)


def spans(timeline: list[dict], received: float) -> list[tuple[str, float, float | None]]:
    """(label, wall s, CPU s) of each span, then what lies between them until the first POST
    is sent, then until the server has it (`received`: seconds from the spawn)."""
    at = {e["event"]: e for e in timeline}
    zero = {"wall": 0.0, "cpu": 0.0}  # the spawn: a new process has used no CPU
    out = []
    for label, a, b in SPANS:
        if b in at and (a is None or a in at):
            a = at[a] if a else zero
            out.append((label, at[b]["wall"] - a["wall"], at[b]["cpu"] - a["cpu"]))
    end = at.get("first POST start")
    if end:
        out.append(("everything else until the first POST is sent", end["wall"] - sum(s[1] for s in out),
                    end["cpu"] - sum(s[2] for s in out)))
        out.append(("sending it, until the server has read it", received - end["wall"], None))
    return out


def start_costs(repeats: int) -> dict:
    """Best-of wall times of the command's own start, in fresh interpreters."""
    commands = {"python": [sys.executable, "-c", "pass"], "help": _rewardmap("--help")}
    out = {}
    for name, cmd in commands.items():
        times = []
        for _ in range(max(3, repeats)):
            start = time.time()
            _run(cmd, name)
            times.append(time.time() - start)
        out[name] = min(times)
    return out


def part3(args: argparse.Namespace) -> None:
    kinds = ["synthetic"] + (["real"] if REAL.is_dir() and STATIONS.is_dir() else [])
    load = os.getloadavg()[0]
    # Its own server: fast answers keep the 90% setup short (it is not what is measured),
    # and the limit lets the setup run at concurrency 64.
    server = Server(args.resume_latency, 64)
    try:
        with tempfile.TemporaryDirectory() as tmp:
            tmp = Path(tmp)
            results = []
            for kind in kinds:
                data = cli_dataset(kind, tmp, args.records)
                results.append((data, resume_cli(server, data, tmp, args.repeats, concurrency=64)))
    finally:
        server.close()
    start = start_costs(args.repeats)

    table = Table(title=f"The whole command resumed: rewardmap eval --benchmark reasonmap-plus, {args.records:,} "
                        f"records 90% done; server {args.resume_latency * 1000:.0f} ms per request; "
                        f"{os.cpu_count()} CPUs, load average {load:.1f} at the start")
    for col in ("check", "measured", "goal", "result", "detail"):
        table.add_column(col, justify="left" if col in ("check", "detail") else "right")
    for data, res in results:
        label = (f"{data['kind']} maps ({data['maps']}, {data['mb'][0]:.2f}-{data['mb'][1]:.2f} MB; "
                 f"questions.jsonl {data['lines']:,} lines)")
        table.add_row(f"{label}: spawn -> first new request (median of {len(res['firsts'])})",
                      f"{res['first']:.3f} s", "< 2 s", _verdict(res["first"] < 2),
                      f"runs {', '.join(f'{t:.2f}' for t in res['firsts'])} s; POSTs {res['posts']}, "
                      f"{res['expected']:,} expected ({res['done']:,} done before); whole command "
                      f"{res['whole']:.1f} s")
        names = {"lines": data["lines"], "maps": data["maps"], "done": res["done"], "store_mb": res["store_mb"]}
        for name, wall, cpu in spans(res["timeline"], res["traced"]):
            table.add_row(f"  traced run ({res['traced']:.2f} s): {name.format(**names)}", f"{wall:.3f} s", "", "",
                          "" if cpu is None else f"CPU {cpu:.3f} s")
    table.add_row("start: python -c pass (best)", f"{start['python']:.3f} s", "", "", "the interpreter and site")
    table.add_row("start: python -m rewardmap --help (best)", f"{start['help']:.3f} s", "", "",
                  "interpreter + CLI imports + typer/rich help")
    Console(width=200).print(table)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--parts", default="1,2,3", help="which parts to run, e.g. 3 or 1,2")
    parser.add_argument("--latency", type=float, default=0.05, help="the server's seconds per request (parts 1, 2)")
    parser.add_argument("--limit", type=int, default=64, help="requests the server works on at once (parts 1, 2)")
    parser.add_argument("--per-stream", type=int, default=50, help="requests per stream at each concurrency")
    parser.add_argument("--image-kb", type=int, default=50, help="size of the small synthetic images")
    parser.add_argument("--records", type=int, default=10_000, help="records of the resumed run (parts 2 and 3)")
    parser.add_argument("--resume-latency", type=float, default=0.002, help="the part 3 server's seconds per request")
    parser.add_argument("--repeats", type=int, default=3, help="timed resumes of the command (part 3)")
    parser.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        return serve(args.latency, args.limit)
    parts = {p.strip() for p in args.parts.split(",")}
    if not parts or not parts <= {"1", "2", "3"}:
        parser.error(f"--parts: expected numbers among 1, 2, 3, got {args.parts!r}")
    os.environ[KEY_ENV] = "sk-bench-not-a-secret"
    if parts & {"1", "2"}:
        parts_1_2(args, parts)
    if "3" in parts:
        part3(args)


def parts_1_2(args: argparse.Namespace, parts: set[str]) -> None:
    server = Server(args.latency, args.limit)
    runs, res = {}, None
    try:
        with tempfile.TemporaryDirectory() as tmp:
            tmp = Path(tmp)
            sets = {"maps": maps(tmp), "small": maps(tmp, args.image_kb * 1000)}
            sizes = {name: [p.stat().st_size / 1e6 for p in figures] for name, figures in sets.items()}
            if "1" in parts:
                runs = {name: {c: throughput(server, figures, c, args.per_stream, tmp) for c in (1, 8, 32)}
                        for name, figures in sets.items()}
            if "2" in parts:
                res = resume(server, sets["maps"], args.records, 0.9, tmp)
    finally:
        server.close()

    table = Table(title=f"OpenAI-compatible backend vs a local server: {args.latency * 1000:.0f} ms per request, "
                        f"at most {args.limit} at once; {os.cpu_count()} CPUs")
    for col in ("check", "measured", "goal", "result", "CPU s client / server"):
        table.add_column(col, justify="left" if col == "check" else "right")
    for name, figures in sets.items() if runs else ():
        label = (f"{len(figures)} {'real ' if name == 'maps' and REAL.is_dir() else ''}images "
                 f"{min(sizes[name]):.2f}-{max(sizes[name]):.2f} MB")
        single = runs[name][1]["rate"]
        for c, run in runs[name].items():
            check = f"{label}, concurrency {c} ({run['n']} requests, {run['max_in_flight']} in flight)"
            cpu = f"{run['client_cpu']:.2f} / {run['server_cpu']:.2f} in {run['seconds']:.2f}"
            if c == 1:
                table.add_row(check, f"{run['rate']:.1f} req/s", f"ideal {1 / args.latency:.1f}", "baseline", cpu)
                continue
            goal = 0.9 * min(c, args.limit) * single
            table.add_row(check, f"{run['rate']:.1f} req/s ({run['rate'] / (c * single):.0%} of {c}x)",
                          f">= {goal:.1f}", _verdict(run["rate"] >= goal), cpu)
    if res is not None:
        table.add_row(f"resume {args.records:,} records, 90% done ({res['mb']:.1f} MB): open the store",
                      f"{res['open']:.3f} s", "", "", "")
        table.add_row("resume: until the first new request", f"{res['first']:.3f} s", "< 2 s",
                      _verdict(res["first"] < 2), "")
    Console(width=160).print(table)


def _verdict(ok: bool) -> str:
    return "[green]PASS[/green]" if ok else "[red]FAIL[/red]"


if __name__ == "__main__":
    main()
