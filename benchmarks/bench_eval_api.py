"""Speed of the OpenAI-compatible evaluation backend against a local server.

The server runs in its own process (so it does not share the client's GIL): it answers
every chat completion after `--latency` seconds and works on at most `--limit` at once.

1. Throughput at concurrency 1, 8 and 32, each sending `--per-stream` requests per
   stream, twice: with the real maps (../shared, map by map as a dataset comes them;
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

    python benchmarks/bench_eval_api.py [--latency 0.05] [--limit 64] [--per-stream 50] [--image-kb 50]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from rich.console import Console
from rich.table import Table

from rewardmap.eval.api import ChatClient, image_data_url, run_requests, user_turn
from rewardmap.eval.store import PredictionStore

REAL = Path(__file__).resolve().parents[1].parent / "shared/data/reasonmap/maps"
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--latency", type=float, default=0.05)
    parser.add_argument("--limit", type=int, default=64)
    parser.add_argument("--per-stream", type=int, default=50, help="requests per stream at each concurrency")
    parser.add_argument("--image-kb", type=int, default=50, help="size of the small synthetic images")
    parser.add_argument("--records", type=int, default=10_000)
    parser.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        return serve(args.latency, args.limit)
    os.environ[KEY_ENV] = "sk-bench-not-a-secret"
    server = Server(args.latency, args.limit)
    try:
        with tempfile.TemporaryDirectory() as tmp:
            tmp = Path(tmp)
            sets = {"maps": maps(tmp), "small": maps(tmp, args.image_kb * 1000)}
            sizes = {name: [p.stat().st_size / 1e6 for p in figures] for name, figures in sets.items()}
            runs = {name: {c: throughput(server, figures, c, args.per_stream, tmp) for c in (1, 8, 32)}
                    for name, figures in sets.items()}
            res = resume(server, sets["maps"], args.records, 0.9, tmp)
    finally:
        server.close()

    table = Table(title=f"OpenAI-compatible backend vs a local server: {args.latency * 1000:.0f} ms per request, "
                        f"at most {args.limit} at once; {os.cpu_count()} CPUs")
    for col in ("check", "measured", "goal", "result", "CPU s client / server"):
        table.add_column(col, justify="left" if col == "check" else "right")
    for name, figures in sets.items():
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
    table.add_row(f"resume {args.records:,} records, 90% done ({res['mb']:.1f} MB): open the store",
                  f"{res['open']:.3f} s", "", "", "")
    table.add_row("resume: until the first new request", f"{res['first']:.3f} s", "< 2 s",
                  _verdict(res["first"] < 2), "")
    Console(width=160).print(table)


def _verdict(ok: bool) -> str:
    return "[green]PASS[/green]" if ok else "[red]FAIL[/red]"


if __name__ == "__main__":
    main()
