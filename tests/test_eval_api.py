"""The OpenAI-compatible backend against a real HTTP server on 127.0.0.1 whose behaviour each
test programs: latency, 429 with Retry-After, 5xx, dropped connections, held requests."""

from __future__ import annotations

import _thread
import base64
import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from rewardmap.errors import InputError
from rewardmap.eval.backends.api import ServerGone, run_requests
from rewardmap.eval.backends.client import ChatClient, redactor
from rewardmap.eval.backends.messages import request_body, user_turn
from rewardmap.eval.store import PredictionStore

KEY = "sk-test-4f1d9c2b7e"


class FakeAPI:
    """`POST /v1/chat/completions` and `GET /v1/models`.

    `plan[question]`: actions for that question's next requests, one each, then "ok":
    "429:S" (Retry-After S seconds), "500", "503", "400", "drop" (close without answering),
    "echo-key" (400 whose body repeats the Authorization header), "reasoning" (thinking in
    `reasoning_content`). `gate`: cleared, requests wait in flight until it is set;
    `hold_after`: requests after that many wait until `release` is set.
    """

    def __init__(self, latency: float = 0.0):
        self.latency = latency
        self.plan: dict[str, list[str]] = {}
        self.models_status = 200
        self.bodies: list[dict] = []
        self.auth: list[str | None] = []
        self.arrivals: list[tuple[str, float]] = []
        self.in_flight = self.max_in_flight = 0
        self.lock = threading.Lock()
        self.gate = threading.Event()
        self.gate.set()
        self.hold_after: int | None = None
        self.release = threading.Event()
        self.server = _Server(("127.0.0.1", 0), _Handler)
        self.server.daemon_threads = True
        self.server.api = self
        self.thread = threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/v1"

    def questions(self) -> list[str]:
        return [q for q, _ in self.arrivals]

    def close(self) -> None:
        self.gate.set()
        self.release.set()
        self.server.shutdown()
        self.server.server_close()


class _Server(ThreadingHTTPServer):
    request_queue_size = 64
    def handle_error(self, request, client_address):
        if not isinstance(sys.exc_info()[1], ConnectionError):  # a client that hung up: expected here
            super().handle_error(request, client_address)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body go out as two writes

    def log_message(self, *args):
        pass

    def do_GET(self):
        api = self.server.api
        self._send(api.models_status, {"object": "list", "data": [{"id": "map-model"}]})

    def do_POST(self):
        api = self.server.api
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        question = body["messages"][-1]["content"][-1]["text"]
        with api.lock:
            api.bodies.append(body)
            api.auth.append(self.headers.get("Authorization"))
            api.arrivals.append((question, time.monotonic()))
            steps = api.plan.get(question) or []
            action = steps.pop(0) if steps else "ok"
            api.in_flight += 1
            api.max_in_flight = max(api.max_in_flight, api.in_flight)
            held = api.hold_after is not None and len(api.arrivals) > api.hold_after
        try:
            api.gate.wait()
            if held:
                api.release.wait()
            time.sleep(api.latency)
        finally:
            with api.lock:
                api.in_flight -= 1
        if action == "drop":
            self.close_connection = True
        elif action.startswith("429"):
            self._send(429, {"error": {"message": "rate limited"}}, {"Retry-After": action.split(":")[1]})
        elif action in ("500", "503", "400"):
            self._send(int(action), {"error": {"message": f"status {action}"}})
        elif action == "echo-key":
            self._send(400, {"error": {"message": f"bad request from {self.headers.get('Authorization')}"}})
        elif action.startswith("echo-key-at:"):  # the key after N characters of a long message
            filler = "x" * int(action.split(":")[1])
            self._send(400, {"error": {"message": f"{filler}{self.headers.get('Authorization')} and more" * 3}})
        elif action == "key-in-answer":
            self._send(200, {"object": "chat.completion", "choices": [{"index": 0, "finish_reason": "stop", "message": {
                "role": "assistant", "content": f"\\boxed{{{self.headers.get('Authorization')[7:19]}}}"}}]})
        else:
            message = {"role": "assistant", "content": f"<think>reading the map</think>\\boxed{{{question}}}"}
            if action == "reasoning":
                message = {"role": "assistant", "content": f"\\boxed{{{question}}}", "reasoning_content": "hmm"}
            self._send(200, {"id": "c1", "object": "chat.completion", "model": body["model"],
                             "choices": [{"index": 0, "message": message, "finish_reason": "stop"}]})

    def _send(self, status: int, obj: dict, headers: dict | None = None):
        data = json.dumps(obj).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(data)


@pytest.fixture
def api():
    server = FakeAPI()
    yield server
    server.close()


@pytest.fixture
def records(tmp_path):
    """Records in the project's layout: an absolute `figure`, a question, an id."""
    maps = []
    for city in range(3):
        path = tmp_path / "maps" / f"city{city}.png"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes([city]) * (1000 + city))
        maps.append(path)
    return [{"id": i, "figure": str(maps[i % 3]), "question": f"q{i}"} for i in range(30)]


def plus_messages(record):
    return user_turn(record["figure"], record["question"])


def text_turn(record):
    """A message without a map, for tests about the text that comes back."""
    return [{"role": "user", "content": [{"type": "text", "text": record["question"]}]}]


def client_for(api, **kwargs):
    return ChatClient(api.url, "map-model", **{"backoff": 0.001, "max_backoff": 0.01, "timeout": 30, **kwargs})


def lines(path):
    text = path.read_text(encoding="utf-8")
    assert text.endswith("\n")
    return [json.loads(line) for line in text.splitlines()]


def test_requests_carry_the_map_as_a_data_url_the_question_and_the_key(api, records, tmp_path, monkeypatch):
    monkeypatch.setenv("EVAL_KEY", KEY)
    path = tmp_path / "run" / "predictions.jsonl"
    seen = []
    with PredictionStore(path) as store:
        summary = run_requests(records[:6], plus_messages, store, client_for(api, api_key_env="EVAL_KEY"),
                               concurrency=3, on_progress=lambda p, done, todo: seen.append((p["id"], done, todo)))
    assert (summary.total, summary.skipped, summary.ok, summary.failed) == (6, 0, 6, 0)
    assert sorted(i for i, _, _ in seen) == list(range(6))
    assert [(done, todo) for _, done, todo in seen] == [(n, 6) for n in range(1, 7)]
    assert api.auth == [f"Bearer {KEY}"] * 6
    by_question = {body["messages"][0]["content"][1]["text"]: body for body in api.bodies}
    for record in records[:6]:
        body = by_question[record["question"]]
        assert (body["model"], body["max_tokens"], body["temperature"]) == ("map-model", 2048, 0.0)
        image, text = body["messages"][0]["content"]
        assert body["messages"][0]["role"] == "user" and text == {"type": "text", "text": record["question"]}
        assert image["type"] == "image_url" and image["image_url"]["url"].startswith("data:image/png;base64,")
        assert base64.b64decode(image["image_url"]["url"].split(",", 1)[1]) == Path(record["figure"]).read_bytes()
    rows = {r["id"]: r for r in lines(path)}
    assert sorted(rows) == list(range(6))
    row = rows[4]
    assert row["status"] == "ok" and row["error"] is None and row["attempts"] == 1 and row["seconds"] >= 0
    assert row["response"] == "\\boxed{q4}"  # the answer after </think>
    assert row["response_raw"] == "<think>reading the map</think>\\boxed{q4}"
    assert KEY not in path.read_text()


def test_the_key_stays_out_of_the_store_errors_and_repr_even_when_the_server_echoes_it(
        api, records, tmp_path, monkeypatch, capsys, caplog):
    monkeypatch.setenv("OPENAI_API_KEY", KEY)
    api.plan = {"q0": ["echo-key"], "q1": ["echo-key"] * 10}
    path = tmp_path / "predictions.jsonl"
    client = client_for(api, retries=1)
    with PredictionStore(path) as store:
        summary = run_requests(records[:3], plus_messages, store, client, concurrency=2)
    assert summary.failed == 2 and api.auth[0] == f"Bearer {KEY}"
    rows = {r["id"]: r for r in lines(path)}
    assert rows[0]["status"] == "failed" and "bad request from Bearer ***" in rows[0]["error"]
    everything = path.read_text() + repr(client) + str(capsys.readouterr()) + caplog.text
    assert KEY not in everything and KEY[3:] not in everything


def test_no_piece_of_the_key_reaches_the_store_at_any_offset_of_a_long_error(api, tmp_path, monkeypatch):
    """Errors are cut to 200 characters; the key must be hidden before the cut, and so must
    any piece of it of 8 or more characters (here: the key cut by the 200-character limit,
    and 12 characters of it put into an answer)."""
    key = "sk-live-" + "0123456789abcdefghijklmnopqrstuvwxyz"
    monkeypatch.setenv("OPENAI_API_KEY", key)
    offsets = range(0, 260, 3)
    records = [{"id": n, "figure": None, "question": f"q{n}"} for n in offsets] + [
        {"id": "answer", "figure": None, "question": "qa"}]
    api.plan = {f"q{n}": [f"echo-key-at:{n}"] for n in offsets} | {"qa": ["key-in-answer"]}
    path = tmp_path / "predictions.jsonl"
    with PredictionStore(path) as store:
        summary = run_requests(records, text_turn, store,
                               client_for(api, retries=0), concurrency=4)
    assert summary.failed == len(offsets) and summary.ok == 1
    stored = path.read_text()
    pieces = {key[i:i + 8] for i in range(len(key) - 7)}
    assert not [p for p in pieces if p in stored]
    errors = {r["id"]: r["error"] for r in lines(path) if r["status"] == "failed"}
    assert all("***" in errors[n] for n in offsets if n < 160)  # the message is kept, the key hidden
    assert [r["response"] for r in lines(path) if r["id"] == "answer"] == ["\\boxed{***}"]


def test_a_response_body_over_the_cap_is_refused_without_reading_it_whole(api, records, tmp_path, monkeypatch):
    from rewardmap.eval.backends import client as client_module

    monkeypatch.setattr(client_module, "MAX_BODY", 200)  # a normal answer here is about 250 bytes
    with PredictionStore(tmp_path / "p.jsonl") as store:
        summary = run_requests(records[:2], text_turn, store, client_for(api), concurrency=1)
        stored = store.records()
    assert summary.failed == 2 and all("larger than 200 bytes" in p["error"] for p in stored)
    monkeypatch.setattr(client_module, "MAX_BODY", 64 << 20)
    with PredictionStore(tmp_path / "p.jsonl") as store:  # the connection was not left half-read
        assert run_requests(records[:2], text_turn, store, client_for(api), concurrency=1).ok == 2


def test_the_key_is_hidden_from_exceptions_raised_while_sending(api, tmp_path, monkeypatch):
    key = "sk-0123456789abcdefghij"
    monkeypatch.setenv("OPENAI_API_KEY", key)

    request = http.client.HTTPConnection.request

    def failing_request(self, method, *args, **kwargs):
        if method != "POST":  # the probe passes
            return request(self, method, *args, **kwargs)
        raise ConnectionResetError(f"reset while sending Authorization: Bearer {key[:15]}")

    monkeypatch.setattr(http.client.HTTPConnection, "request", failing_request)
    path = tmp_path / "predictions.jsonl"
    with PredictionStore(path) as store:
        summary = run_requests([{"id": 0, "question": "q0"}], text_turn, store,
                               client_for(api, retries=0))
    [row] = lines(path)
    assert summary.failed == 1 and "reset while sending" in row["error"] and key[:15] not in path.read_text()


def test_redactor_hides_the_key_and_its_pieces_wherever_they_are():
    key = "sk-abcdefghijklmnopqrstuvwxyz0123456789"
    hide = redactor(key)
    for offset in range(0, 300, 7):
        for text in (f"{'y' * offset}{key}{'z' * 40}", f"{'y' * offset}{key[5:30]} and {key[-9:]}",
                     f"{'y' * offset}{key[:20]}\n{key[20:]}"):
            hidden = hide(text)
            assert not any(key[i:i + 8] in hidden for i in range(len(key) - 7)), (offset, text)
            assert hidden.startswith("y" * offset) and "***" in hidden
    assert hide("nothing secret here") == "nothing secret here"
    assert hide(f"{key[:7]}") == key[:7]  # 7 characters of a key are not a leak worth hiding text for
    assert redactor("short")("a short key") == "a *** key" and redactor("")("text") == "text"


def test_thinking_returned_apart_is_kept_in_the_raw_text(api, records, tmp_path):
    api.plan = {"q0": ["reasoning"]}
    with PredictionStore(tmp_path / "p.jsonl") as store:
        run_requests(records[:1], plus_messages, store, client_for(api))
    [row] = lines(tmp_path / "p.jsonl")
    assert (row["response"], row["response_raw"]) == ("\\boxed{q0}", "<think>hmm</think>\\boxed{q0}")


def test_route_records_store_each_named_output(api, records, tmp_path):
    def route_messages(record):
        return {"response_short": user_turn(record["figure"], record["question"] + " short"),
                "response_long": user_turn(record["figure"], record["question"] + " long")}
    with PredictionStore(tmp_path / "p.jsonl") as store:
        run_requests(records[:2], route_messages, store, client_for(api))
    rows = {r["id"]: r for r in lines(tmp_path / "p.jsonl")}
    assert rows[1]["response_short"] == "\\boxed{q1 short}" and rows[1]["response_long"] == "\\boxed{q1 long}"
    assert rows[1]["response_long_raw"].startswith("<think>") and rows[1]["attempts"] == 2


def test_429_waits_for_retry_after_and_5xx_and_dropped_connections_are_retried(api, records, tmp_path):
    api.plan = {"q0": ["429:0.3"], "q1": ["500", "drop", "503", "drop"]}
    with PredictionStore(tmp_path / "p.jsonl") as store:
        summary = run_requests(records[:2], plus_messages, store, client_for(api), concurrency=2)
    assert summary.ok == 2
    rows = {r["id"]: r for r in lines(tmp_path / "p.jsonl")}
    assert rows[0]["attempts"] == 2 and rows[1]["attempts"] >= 3
    times = [t for q, t in api.arrivals if q == "q0"]
    assert len(times) == 2 and times[1] - times[0] >= 0.3  # the backoff alone is milliseconds
    assert api.questions().count("q1") == 5


def test_a_failure_after_all_retries_is_recorded_and_retried_on_the_next_run(api, records, tmp_path):
    api.plan = {"q2": ["500"] * 3, "q3": ["400"]}
    path = tmp_path / "p.jsonl"
    with PredictionStore(path) as store:
        summary = run_requests(records[:5], plus_messages, store, client_for(api, retries=2), concurrency=2)
    assert (summary.ok, summary.failed) == (3, 2)
    rows = {r["id"]: r for r in lines(path)}
    assert rows[2]["status"] == "failed" and rows[2]["attempts"] == 3 and api.questions().count("q2") == 3
    assert "HTTP 500" in rows[2]["error"] and "status 500" in rows[2]["error"] and "\n" not in rows[2]["error"]
    assert rows[3]["attempts"] == 1 and "HTTP 400" in rows[3]["error"]  # another 4xx is not retried
    assert api.questions().count("q3") == 1
    with PredictionStore(path) as store:
        assert run_requests(records[:5], plus_messages, store, client_for(api), retry_failed=False).skipped == 5
        summary = run_requests(records[:5], plus_messages, store, client_for(api))
    assert (summary.skipped, summary.ok) == (3, 2)
    assert sorted((r["id"], r["status"]) for r in lines(path)) == [(i, "ok") for i in range(5)]  # one line each


def test_concurrency_bounds_the_requests_in_flight(api, records, tmp_path):
    api.gate.clear()
    done = threading.Event()

    def run():
        with PredictionStore(tmp_path / "p.jsonl") as store:
            run_requests(records, plus_messages, store, client_for(api), concurrency=4)
        done.set()
    thread = threading.Thread(target=run)
    thread.start()
    deadline = time.monotonic() + 20
    while api.in_flight < 4 and time.monotonic() < deadline:
        time.sleep(0.01)
    time.sleep(0.2)  # room for a fifth to arrive, if the limit leaked
    assert api.in_flight == 4
    api.gate.set()
    thread.join(30)
    assert done.is_set() and api.max_in_flight == 4 and len(api.bodies) == 30


def test_an_interrupted_run_resumes_without_duplicates(api, records, tmp_path):
    api.latency = 0.01
    path = tmp_path / "p.jsonl"

    def interrupt_after_10(prediction, done, todo):
        if done == 10:
            raise KeyboardInterrupt
    client = client_for(api)
    with PredictionStore(path) as store, pytest.raises(KeyboardInterrupt):
        run_requests(records, plus_messages, store, client, concurrency=4, on_progress=interrupt_after_10)
    first = [r["id"] for r in lines(path)]
    assert 10 <= len(first) < 30 and len(set(first)) == len(first)
    asked_before = len(api.bodies)
    with PredictionStore(path) as store:  # the same client: it reconnects after the stop
        summary = run_requests(records, plus_messages, store, client, concurrency=4)
    assert summary.skipped == len(first) and summary.ok == 30 - len(first)
    ids = [r["id"] for r in lines(path)]
    assert sorted(ids) == list(range(30))
    again = [q for q, _ in api.arrivals[asked_before:]]
    assert not {f"q{i}" for i in first} & set(again)  # finished records are not asked again


def test_ctrl_c_abandons_requests_in_flight_and_returns(api, records, tmp_path):
    api.gate.clear()
    fallback = threading.Timer(20, api.gate.set)  # never hang the suite
    fallback.start()

    def press_ctrl_c():
        while api.in_flight < 3:
            time.sleep(0.01)
        _thread.interrupt_main()
    threading.Thread(target=press_ctrl_c, daemon=True).start()
    try:
        with PredictionStore(tmp_path / "p.jsonl") as store, pytest.raises(KeyboardInterrupt):
            run_requests(records, plus_messages, store, client_for(api), concurrency=3)
        assert not api.gate.is_set()  # it returned while the server still held every request
    finally:
        fallback.cancel()
        api.gate.set()
    assert (tmp_path / "p.jsonl").read_bytes() == b""
    assert not [t for t in threading.enumerate() if t.name.startswith("rewardmap-api")]


def test_an_unreachable_server_is_a_one_line_input_error_naming_it(records, tmp_path):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed again: nobody listens there
    url = f"http://127.0.0.1:{port}/v1"
    with PredictionStore(tmp_path / "p.jsonl") as store, pytest.raises(InputError) as e:
        run_requests(records, plus_messages, store, ChatClient(url, "m"))
    assert url in str(e.value) and "\n" not in str(e.value) and "Connection refused" in str(e.value)
    assert (tmp_path / "p.jsonl").read_bytes() == b""


def test_a_server_that_dies_mid_run_stops_the_run_at_once_and_the_run_resumes(api, records, tmp_path):
    path = tmp_path / "p.jsonl"

    def kill_after_5(prediction, done, todo):
        if done == 5:  # gone: kept-alive connections drop, new ones are refused
            api.plan = {r["question"]: ["drop"] * 100 for r in records}
            api.close()
    with PredictionStore(path) as store, pytest.raises(ServerGone) as e:
        run_requests(records, plus_messages, store, client_for(api, retries=2), concurrency=2,
                     on_progress=kill_after_5)
    message = str(e.value)
    assert "\n" not in message and "stopped answering" in message and "Connection refused" in message
    assert "run the same command again" in message and "not asked" in message
    stored = {r["id"]: r for r in lines(path)}
    failed = [r for r in stored.values() if r["status"] == "failed"]
    assert sum(r["status"] == "ok" for r in stored.values()) >= 5 and 1 <= len(failed) <= 2  # one per worker at most
    assert len(stored) < 30  # the rest were not asked (how many were answered first depends on the machine's load)
    assert failed[0]["attempts"] == 3 and "after 3 attempts" in failed[0]["error"]

    back = FakeAPI()  # the server is back (on another port): the same store resumes
    try:
        with PredictionStore(path) as store:
            summary = run_requests(records, plus_messages, store, client_for(back), concurrency=2)
    finally:
        back.close()
    assert summary.skipped == len(stored) - len(failed) and summary.ok == 30 - summary.skipped
    assert sorted(r["id"] for r in lines(path) if r["status"] == "ok") == list(range(30))


def test_a_request_the_server_keeps_dropping_fails_alone_without_stopping_the_run(api, records, tmp_path):
    api.plan = {"q3": ["drop"] * 10}  # a server that crashes on one input is still there for the others
    with PredictionStore(tmp_path / "p.jsonl") as store:
        summary = run_requests(records[:8], plus_messages, store, client_for(api, retries=2), concurrency=2)
    assert (summary.ok, summary.failed) == (7, 1)
    [failed] = [r for r in lines(tmp_path / "p.jsonl") if r["status"] == "failed"]
    assert failed["id"] == 3 and "closed the connection" in failed["error"]


def test_a_refused_key_fails_fast_naming_the_variable_not_the_key(api, records, tmp_path, monkeypatch):
    monkeypatch.setenv("EVAL_KEY", KEY)
    api.models_status = 401
    with PredictionStore(tmp_path / "p.jsonl") as store, pytest.raises(InputError, match=r"\$EVAL_KEY") as e:
        run_requests(records, plus_messages, store, client_for(api, api_key_env="EVAL_KEY"))
    assert KEY not in str(e.value) and "HTTP 401" in str(e.value) and not api.bodies


def test_a_missing_map_stops_the_run_with_its_path(api, records, tmp_path):
    bad = [*records[:3], {"id": 99, "figure": str(tmp_path / "nowhere.png"), "question": "q"}]
    with PredictionStore(tmp_path / "p.jsonl") as store, pytest.raises(InputError, match="nowhere.png"):
        run_requests(bad, plus_messages, store, client_for(api), concurrency=1)


def test_nothing_pending_sends_nothing(api, records, tmp_path):
    path = tmp_path / "p.jsonl"
    with PredictionStore(path) as store:
        run_requests(records[:4], plus_messages, store, client_for(api))
        n = len(api.bodies)
        summary = run_requests(records[:4], plus_messages, store, ChatClient("http://127.0.0.1:9/v1", "m"))
    assert summary.skipped == 4 and len(api.bodies) == n  # not even a probe of the dead URL


@pytest.mark.parametrize(("url", "base"), [
    ("http://localhost:8000", "http://localhost:8000/v1"),
    ("http://localhost:8000/v1/", "http://localhost:8000/v1"),
    ("https://user:pw@api.example.com/v1/chat/completions", "https://api.example.com/v1"),
    ("http://[::1]:8000/openai/v1", "http://[::1]:8000/openai/v1"),
])
def test_api_urls(url, base):
    assert ChatClient(url, "m").url == base


@pytest.mark.parametrize("url", ["localhost:8000", "ftp://host/v1", "http://:80", "http://host:99999/v1"])
def test_bad_api_urls(url):
    with pytest.raises(InputError, match="expected http"):
        ChatClient(url, "m")


CHILD = """
import sys
from rewardmap.eval.backends.api import ServerGone, run_requests
from rewardmap.eval.backends.client import ChatClient, redactor
from rewardmap.eval.backends.messages import request_body, user_turn
from rewardmap.eval.store import PredictionStore
url, path, figure = sys.argv[1:4]
records = [{"id": f"r{i}", "figure": figure, "question": f"q{i}"} for i in range(120)]
with PredictionStore(path) as store:
    run_requests(records, lambda r: user_turn(r["figure"], r["question"]), store,
                 ChatClient(url, "map-model", backoff=0.001), concurrency=6)
"""


def test_sigkill_mid_run_then_rerun_leaves_each_id_once(api, records, tmp_path):
    api.latency, api.hold_after = 0.01, 60  # the first run cannot finish
    path = tmp_path / "run" / "predictions.jsonl"
    args = [sys.executable, "-c", CHILD, api.url, str(path), records[0]["figure"]]
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    child = subprocess.Popen(args, env=env, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 60
    while (not path.exists() or path.read_bytes().count(b"\n") < 40) and time.monotonic() < deadline:
        assert child.poll() is None, child.stderr.read().decode()
        time.sleep(0.005)
    child.send_signal(signal.SIGKILL)
    child.wait()
    child.stderr.close()
    killed = path.read_bytes()
    assert 40 <= killed.count(b"\n") <= 60
    api.release.set()
    rerun = subprocess.run(args, env=env, capture_output=True, text=True, timeout=120)
    assert rerun.returncode == 0, rerun.stderr
    ids = [r["id"] for r in lines(path)]
    assert sorted(ids) == sorted(f"r{i}" for i in range(120))  # each exactly once
    assert path.read_bytes().startswith(killed[:killed.rfind(b"\n") + 1])  # finished lines kept as written


def test_request_bodies_splice_data_urls_into_valid_json(tmp_path):
    figure = tmp_path / "m.jpg"
    figure.write_bytes(os.urandom(3000))
    messages = user_turn(figure, 'Which line? "北京" \\ rewardmap-') + [
        {"role": "user", "content": [{"type": "image_url", "image_url": {"url": "https://example.com/m.png"}},
                                     {"type": "image_url", "image_url": {"url": 'data:x;base64,"odd'}}]},
        {"role": "assistant", "content": "plain text"}]
    payload = {"model": "m", "messages": messages, "max_tokens": 7, "stop": ["\n"]}
    assert json.loads(request_body(payload)) == payload
    assert messages[0]["content"][0]["image_url"]["url"].startswith("data:image/jpeg;base64,")
