"""`rewardmap eval --api` against a real OpenAI-compatible server: `transformers serve`
with the tiny model, on loopback, started by the test. The server is SIGKILLed in the
middle of a run; the run is then stopped (Ctrl-C) and resumed against a restarted server.

Needs the serving extras (`pip install 'transformers[serving]'`: FastAPI, Uvicorn, openai; in the
`dev` extra); skipped without them. Left alone after the kill, a run retries each request for
about 30-60 s (6 retries with backoff) and then records it as failed; that is too slow for a
test, so the run is stopped with Ctrl-C instead.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections import Counter
from pathlib import Path

import pytest
from commands import ENV, ROOT

pytest.importorskip("fastapi")
pytest.importorskip("uvicorn")
pytest.importorskip("openai")  # transformers serve imports its types

PLUS = {"Counting1", "Counting2", "Counting3", "TorF1", "TorF2"}

# The tiny model's processor class is registered with AutoProcessor only when
# rewardmap.model.tiny is imported, so the server imports it before running the CLI.
SERVE = ("import sys\n"
         "import rewardmap.model.tiny\n"
         "from transformers.cli.transformers import app\n"
         "sys.argv = ['transformers', 'serve', *sys.argv[1:]]\n"
         "app()\n")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """`transformers serve MODEL` on 127.0.0.1:port in its own process group."""

    def __init__(self, model: Path, port: int, log: Path):
        self.port, self.log = port, log
        with open(log, "ab") as out:
            self.proc = subprocess.Popen(
                [sys.executable, "-c", SERVE, str(model), "--host", "127.0.0.1", "--port", str(port),
                 "--device", "cpu", "--log-level", "warning"],
                env=ENV, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
        self.url = f"http://127.0.0.1:{port}/v1"

    def wait_ready(self, timeout: float = 90.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError(f"the server exited ({self.proc.returncode}):\n{self.log.read_text()[-3000:]}")
            try:
                with urllib.request.urlopen(f"{self.url}/models", timeout=2) as response:
                    if response.status == 200 and json.loads(response.read())["data"]:
                        return
            except (OSError, ValueError, KeyError):
                pass
            time.sleep(0.2)
        raise AssertionError(f"the server did not answer in {timeout:.0f}s:\n{self.log.read_text()[-3000:]}")

    def kill(self) -> None:
        if self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        self.proc.wait(timeout=30)


@pytest.fixture
def servers():
    started: list[Server] = []

    def start(*args) -> Server:
        server = Server(*args)
        started.append(server)
        return server

    yield start
    for server in started:
        server.kill()


def lines_of(path: Path) -> list[str]:
    return path.read_text().split("\n") if path.exists() else []


def predictions(path: Path) -> list[dict]:
    """Every line whole (no torn tail) and parsed."""
    text = path.read_text()
    assert text == "" or text.endswith("\n"), "a torn last line"
    return [json.loads(line) for line in text.splitlines()]


def test_api_eval_survives_a_killed_server_and_resumes(data, model, servers, tmp_path):
    expected = {r["id"] for r in map(json.loads, (data / "questions.jsonl").read_text().splitlines())
                if r["type"] in PLUS}
    assert len(expected) >= 8
    port = free_port()
    first = servers(model, port, tmp_path / "server1.log")
    first.wait_ready()

    out = tmp_path / "run"
    store = out / "predictions.jsonl"
    # 128 new tokens: a few tenths of a second a request on CPU, long enough to kill mid-run
    command = [sys.executable, "-m", "rewardmap", "eval", "--data", data, "--benchmark", "reasonmap-plus",
               "--api", first.url, "--api-model", model, "--out", out, "--max-new-tokens", 128,
               "--concurrency", 2]
    command = list(map(str, command))
    with open(tmp_path / "eval1.out", "wb") as stdout, open(tmp_path / "eval1.err", "wb") as stderr:
        run = subprocess.Popen(command, env=ENV, cwd=ROOT, stdout=stdout, stderr=stderr)
    try:
        deadline = time.monotonic() + 60
        while len([line for line in lines_of(store) if line]) < 3:
            assert run.poll() is None, f"the run ended before the kill:\n{(tmp_path / 'eval1.err').read_text()}"
            assert time.monotonic() < deadline, "no predictions within 60s"
            time.sleep(0.02)
        first.kill()  # SIGKILL, mid-run: requests in flight are cut off

        # The run does not give up on a dropped server: it retries with backoff...
        time.sleep(1.5)
        assert run.poll() is None, f"the run ended at once:\n{(tmp_path / 'eval1.err').read_text()}"
        # ...until stopped: Ctrl-C abandons the requests in flight and keeps what arrived.
        run.send_signal(signal.SIGINT)
        rc = run.wait(timeout=30)
    finally:
        if run.poll() is None:
            run.kill()
            run.wait()
    err = (tmp_path / "eval1.err").read_text()
    assert rc == 130, err  # typer's exit status for a KeyboardInterrupt, without a message
    assert "Traceback" not in err, err

    done = predictions(store)
    ids = [p["id"] for p in done]
    assert len(done) >= 3 and len(ids) == len(set(ids)) and set(ids) < expected
    assert all(p["status"] == "ok" for p in done), done  # nothing recorded as failed: the stop dropped them
    assert not (out / "metrics.json").exists()

    # The same command against a restarted server (same port) resumes and finishes.
    second = servers(model, port, tmp_path / "server2.log")
    second.wait_ready()
    result = subprocess.run(command, env=ENV, cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-3000:]
    final = predictions(store)
    counts = Counter(p["id"] for p in final)
    assert set(counts) == expected and set(counts.values()) == {1}
    assert all(p["status"] == "ok" for p in final)
    before = {p["id"]: p for p in done}
    assert all(before[p["id"]] == p for p in final if p["id"] in before)  # finished records were not asked again
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["count"] == len(expected)
    assert metrics["predictions"] == {"ok": len(expected), "failed": 0}
