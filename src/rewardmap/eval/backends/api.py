"""The API backend: an OpenAI-compatible chat-completions server (vLLM, SGLang, OpenAI, ...)
answers each question through a `ChatClient`.

`run_requests` runs the records still pending in a `PredictionStore` on `concurrency` threads
and writes each prediction as it arrives. Threads rather than asyncio: each worker holds at
most one request, so the concurrency limit is simply the number of workers, a Ctrl-C lands in
the main thread, and the client's `http.client` connections (one per worker) are all it takes.
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable, Iterable, Mapping

from ...errors import InputError
from ..store import PredictionStore
from .base import Progress, Requests, RunSummary
from .client import APIError, ChatClient, Interrupted
from .messages import user_turn


class ServerGone(InputError):
    """The server stopped answering mid-run: every request would now wait out its retries,
    so the run stops (what was stored stays; the same command resumes)."""


class APIBackend:
    """An OpenAI-compatible chat-completions server (vLLM, SGLang, OpenAI, ...)."""

    def __init__(self, client: ChatClient, concurrency: int = 8):
        if concurrency < 1:
            raise InputError(f"--concurrency must be at least 1, got {concurrency}")
        self.client, self.concurrency = client, concurrency

    def run(self, records: list[dict], requests: Requests, store: PredictionStore,
            on_progress: Progress | None = None) -> RunSummary:
        def build(record: dict) -> dict[str, list[dict]]:
            return {name: user_turn(record["figure"], text) for name, text in requests(record).items()}

        return run_requests(records, build, store, self.client, self.concurrency, on_progress)


BuildMessages = Callable[[dict], "list[dict] | Mapping[str, list[dict]]"]


def run_requests(records: Iterable[dict], build_messages: BuildMessages, store: PredictionStore,
                 client: ChatClient, concurrency: int = 8,
                 on_progress: Progress | None = None, *,
                 retry_failed: bool = True, probe: bool = True) -> RunSummary:
    """Ask `client` about every record the store has not finished; append each prediction
    as it arrives.

    `build_messages(record)`: the messages of one request, or `{output name: messages}`
    for several (`{"response_short": ..., "response_long": ...}`); a single list is the
    output `response`. Each output is stored with its answer under its name and the raw
    text under `<name>_raw`. A record whose request fails after all retries is stored as
    "failed" with its error; `retry_failed` runs those again. `on_progress(prediction,
    done, todo)` is called after each write, on this thread.

    Ctrl-C (KeyboardInterrupt) stops the workers, abandons the requests in flight, writes
    the predictions already received, and re-raises; the store stays whole for a re-run.
    A request that finds no server even after its retries is stored as failed and stops
    the run the same way with `ServerGone`: the other requests would only wait out their
    own retries, a minute each, and be stored as failed too.
    """
    started = time.monotonic()
    records = list(records)
    todo = store.pending(records, retry_failed=retry_failed)
    summary = RunSummary(total=len(records), skipped=len(records) - len(todo))
    if not todo:
        return summary
    if concurrency < 1:
        raise InputError(f"concurrency must be at least 1, got {concurrency}")
    if probe:
        client.probe()
    stop = threading.Event()
    results: queue.Queue = queue.Queue()
    work, work_lock = iter(todo), threading.Lock()

    def worker() -> None:
        while not stop.is_set():
            with work_lock:
                record = next(work, None)
            if record is None:
                return
            try:
                results.put(_predict(record, build_messages, client, stop))
            except Interrupted:
                return
            except BaseException as e:  # a bug or bad data: stop the run and show it
                results.put(e)
                return

    threads = [threading.Thread(target=worker, name=f"rewardmap-api-{i}", daemon=True)
               for i in range(min(concurrency, len(todo)))]

    def shut_down() -> None:
        stop.set()
        client.close()
        for t in threads:
            t.join(timeout=10)

    for t in threads:
        t.start()
    try:
        while summary.ok + summary.failed < len(todo):
            try:
                item = results.get(timeout=0.5)
            except queue.Empty:
                if not any(t.is_alive() for t in threads) and results.empty():
                    raise RuntimeError("evaluation workers stopped early") from None
                continue
            if isinstance(item, BaseException):
                raise item
            prediction, gone = item
            summary.record(prediction, store, len(todo), on_progress)
            if gone is not None:
                left = len(todo) - summary.ok - summary.failed
                raise ServerGone(f"the server stopped answering: {gone}; {summary.ok} records answered and "
                                 f"{summary.failed} failed in this run, {left} not asked: run the same command "
                                 "again when the server is back")
    except (KeyboardInterrupt, ServerGone):
        shut_down()
        while not results.empty():  # answered before the stop: keep them (a failure may be the stop's own doing)
            item = results.get_nowait()
            if isinstance(item, tuple) and item[0].get("status") == "ok":
                store.append(item[0])
        raise
    finally:
        shut_down()
        summary.seconds = time.monotonic() - started
    return summary


def _predict(record: dict, build_messages: BuildMessages, client: ChatClient,
             stop: threading.Event) -> tuple[dict, str | None]:
    """The prediction of one record, and the error when it found no server (else None)."""
    started = time.monotonic()
    requests = build_messages(record)
    if not isinstance(requests, Mapping):
        requests = {"response": requests}
    outputs, attempts, error, gone = {}, 0, None, None
    try:
        for name, messages in requests.items():
            completion = client.complete(messages, stop=stop)
            attempts += completion.attempts
            outputs[name], outputs[f"{name}_raw"] = completion.answer, completion.text
    except APIError as e:
        attempts += e.attempts
        outputs, error = {}, str(e)
        gone = error if e.unreachable else None
    return ({"id": record["id"], "status": "failed" if error else "ok", **outputs, "error": error,
             "attempts": attempts, "seconds": round(time.monotonic() - started, 3)}, gone)

