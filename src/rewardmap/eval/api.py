"""Evaluation over an OpenAI-compatible chat-completions API (vLLM, SGLang, OpenAI, ...).

`ChatClient` sends one request per question: the map as a base64 data URL, then the
question text, greedy (temperature 0). It retries 429, 5xx and dropped connections with
exponential backoff and jitter (a `Retry-After` wins), and nothing else: another 4xx will
fail the same way every time. `run_requests` runs the records still pending in a
`PredictionStore` on `concurrency` threads and writes each prediction as it arrives.

Threads rather than asyncio: each worker holds at most one request, so the concurrency
limit is simply the number of workers, a Ctrl-C lands in the main thread, and the standard
library's `http.client` (keep-alive, one connection per worker) is all it takes -- no HTTP
package to depend on (the one huggingface_hub brings has changed name between its
versions: httpx, then httpx2).

The API key is read from the environment variable named by `api_key_env` and lives only
in the client's request headers: it is not an attribute that `repr` shows, and every error
text and answer is scrubbed of it (whole, or any piece of 8 or more characters a server may
echo) before it is cut short and before it reaches a message, a log or the store.
"""

from __future__ import annotations

import base64
import email.utils
import errno
import http.client
import json
import os
import queue
import random
import re
import socket
import ssl
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from urllib.parse import urlsplit

from ..errors import InputError
from ..rewards.text import final_answer
from .store import PredictionStore

DEFAULT_KEY_ENV = "OPENAI_API_KEY"
RETRY_AFTER_MAX = 600.0  # a server asking for more than 10 minutes is not coming back soon
MAX_BODY = 64 << 20  # bytes of one response read; a larger one is refused, not held in memory
_MIME = {".png": "image/png", ".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".webp": "image/webp",
         ".gif": "image/gif"}


class APIError(Exception):
    """A request that failed for good (after its retries, or a status not worth retrying);
    the message is one line without the key."""

    def __init__(self, message: str, attempts: int, unreachable: bool = False):
        super().__init__(message)
        self.attempts = attempts
        self.unreachable = unreachable  # the last try found no server (`_no_server`)


class ServerGone(InputError):
    """The server stopped answering mid-run: every request would now wait out its retries,
    so the run stops (what was stored stays; the same command resumes)."""


class _Interrupted(Exception):
    """The run is stopping: drop this request without recording it."""


@dataclass(frozen=True)
class Completion:
    text: str  # the raw output, thinking included
    answer: str  # what follows the last end-of-thinking tag (`final_answer`)
    finish_reason: str | None
    attempts: int


# --- messages ------------------------------------------------------------------------

def image_data_url(path: str | os.PathLike) -> str:
    """`data:image/png;base64,...` of a map image; the last 32 are cached, since every
    question about a map sends it again."""
    return _data_url(str(path))


@lru_cache(maxsize=32)  # a benchmark's maps (ReasonMap has 30 cities), a megabyte or two each
def _data_url(path: str) -> str:
    mime = _MIME.get(Path(path).suffix.lower(), "image/png")
    try:
        data = Path(path).read_bytes()
    except OSError as e:
        raise InputError(f"{path}: cannot read the map image ({e.strerror or e})") from None
    return f"data:{mime};base64,{base64.b64encode(data).decode('ascii')}"


def user_turn(image: str | os.PathLike, text: str) -> list[dict]:
    """One user message: the image, then the question (the order training uses)."""
    return [{"role": "user", "content": [{"type": "image_url", "image_url": {"url": image_data_url(image)}},
                                         {"type": "text", "text": text}]}]


def request_body(payload: Mapping) -> bytes:
    """The JSON of a request, with each data URL spliced in as bytes.

    A map is a megabyte of base64, which needs no JSON escaping; `json.dumps` would spend
    milliseconds per request scanning it for characters to escape, and that, not the
    network, is what capped throughput at high concurrency.

    >>> request_body({"messages": [{"content": [{"image_url": {"url": "data:a;base64,QQ=="}}]}]})
    b'{"messages": [{"content": [{"image_url": {"url": "data:a;base64,QQ=="}}]}]}'
    """
    urls: list[bytes] = []

    def placeholder(part):
        url = part.get("image_url", {}).get("url") if isinstance(part, dict) and isinstance(
            part.get("image_url"), dict) else None
        raw = _spliceable(url) if isinstance(url, str) else None
        if raw is None:
            return part
        urls.append(raw)
        return {**part, "image_url": {**part["image_url"], "url": f"{nonce}{len(urls) - 1}"}}

    nonce = f"rewardmap-{os.urandom(6).hex()}-"
    messages = [{**m, "content": [placeholder(p) for p in m["content"]]}
                if isinstance(m, dict) and isinstance(m.get("content"), list) else m
                for m in payload.get("messages", ())]
    text = json.dumps({**payload, "messages": messages} if "messages" in payload else dict(payload))
    if not urls:
        return text.encode("ascii")
    pieces = text.split(f'"{nonce}')
    out = [pieces[0].encode("ascii")]
    for piece in pieces[1:]:
        index, rest = piece.split('"', 1)
        out += [b'"', urls[int(index)], b'"', rest.encode("ascii")]
    return b"".join(out)


_URL_SAFE = re.compile(r"data:[\w.+/-]+;base64,[A-Za-z0-9+/]*={0,2}")


@lru_cache(maxsize=32)
def _spliceable(url: str) -> bytes | None:
    """The bytes of a base64 data URL, None for any other URL (left to `json.dumps`).
    Keyed by the very string `image_data_url` caches, whose hash Python keeps."""
    return url.encode("ascii") if url.startswith("data:") and _URL_SAFE.fullmatch(url) else None


# --- client --------------------------------------------------------------------------

class ChatClient:
    """A thread-safe client of `URL/chat/completions`.

    `url`: the API base (`http://localhost:8000/v1`; a bare `http://host:port` means
    `/v1`; a full `.../chat/completions` is accepted). `timeout`: seconds to connect and
    to wait for the answer (nothing streams, so it bounds the whole generation).
    `retries`: tries after the first; the k-th waits about `backoff * 2**(k-1)` seconds
    (at most `max_backoff`, jittered), or what `Retry-After` says.
    `extra`: more request fields (`top_p`, `seed`, `stop`, ...).
    """

    def __init__(self, url: str, model: str, *, api_key_env: str = DEFAULT_KEY_ENV, max_tokens: int = 2048,
                 temperature: float = 0.0, timeout: float = 300.0, retries: int = 6, backoff: float = 1.0,
                 max_backoff: float = 60.0, extra: Mapping | None = None):
        parts = urlsplit(url)
        try:
            port = parts.port
        except ValueError:
            port = -1
        if parts.scheme not in ("http", "https") or not parts.hostname or port == -1:
            raise InputError(f"API URL {_public(url)!r}: expected http(s)://host[:port][/v1]")
        path = parts.path.rstrip("/")
        if path.endswith("/chat/completions"):
            path = path[:-len("/chat/completions")]
        elif not path:
            path = "/v1"
        host = parts.hostname if ":" not in parts.hostname else f"[{parts.hostname}]"
        self.url = f"{parts.scheme}://{host}{f':{port}' if port else ''}{path}"  # no user info, no query
        self.model = model
        self.api_key_env = api_key_env
        self.max_tokens, self.temperature, self.timeout = max_tokens, temperature, timeout
        self.retries, self.backoff, self.max_backoff = retries, backoff, max_backoff
        self.extra = dict(extra or {})
        self._host, self._port, self._https = parts.hostname, port, parts.scheme == "https"
        self._path = path
        self._query = f"?{parts.query}" if parts.query else ""
        key = os.environ.get(api_key_env) or ""
        self._redact = redactor(key)
        self._headers = {"Content-Type": "application/json", "Accept": "application/json",
                         "User-Agent": "rewardmap-eval"}
        if key:
            self._headers["Authorization"] = f"Bearer {key}"
        self._lock = threading.Lock()
        self._local = threading.local()
        self._conns: set[http.client.HTTPConnection] = set()
        self._generation = 0
        self._ssl: ssl.SSLContext | None = None

    def __repr__(self) -> str:
        return f"ChatClient({self.url!r}, model={self.model!r}, api_key_env={self.api_key_env!r})"

    def probe(self) -> None:
        """Fail fast, in one line, when the server cannot be reached or refuses the key.
        Any other answer to `GET /models` (even 404) means a server is there."""
        conn = self._new_connection(min(self.timeout, 10.0))
        try:
            conn.request("GET", f"{self._path}/models{self._query}", headers=self._headers)
            status = conn.getresponse().status
        except (OSError, http.client.HTTPException) as e:
            raise InputError(self._redact(f"cannot reach the API at {self.url}: {_describe(e)}")) from None
        finally:
            conn.close()
        if status in (401, 403):
            raise InputError(f"the API at {self.url} refused the request (HTTP {status}): {self._key_hint()}")

    def complete(self, messages: list[dict], stop: threading.Event | None = None) -> Completion:
        """One chat completion, retried as the class says; raises `APIError` when it fails."""
        body = request_body({"model": self.model, "messages": messages, "max_tokens": self.max_tokens,
                             "temperature": self.temperature, **self.extra})
        attempts = 0
        while True:
            attempts += 1
            retry_after, unreachable = None, False
            try:
                status, headers, data = self._post(body, stop)
            except (OSError, http.client.HTTPException) as e:
                if stop is not None and stop.is_set():
                    raise _Interrupted from None
                error, retryable = f"connection to {self.url} failed: {_describe(e)}", True
                unreachable = _no_server(e)
            else:
                if len(data) > MAX_BODY:
                    raise APIError(f"the response from {self.url} is larger than {MAX_BODY:,} bytes; "
                                   "not read further", attempts)
                if status == 200:
                    return self._completion(data, attempts)
                error = f"HTTP {status} from {self.url}{_snippet(data, self._redact)}"
                if status in (401, 403):
                    error += f" ({self._key_hint()})"
                retryable = status == 429 or status >= 500
                retry_after = _retry_after(headers) if retryable else None
            if not retryable or attempts > self.retries:
                tries = f" (after {attempts} attempts)" if attempts > 1 else ""
                raise APIError(self._redact(error) + tries, attempts, unreachable)
            if retry_after is None:
                delay = min(self.max_backoff, self.backoff * 2 ** (attempts - 1))
                delay = delay / 2 + random.uniform(0, delay / 2)  # jitter: spread a burst of retries
            else:
                delay = retry_after + random.uniform(0, 0.1 * retry_after)
            if stop is None:
                time.sleep(delay)
            elif stop.wait(delay):
                raise _Interrupted

    def close(self) -> None:
        """Close every connection; a request in flight on another thread fails at once (its
        socket is shut down), which is how a Ctrl-C stops waiting for slow answers."""
        with self._lock:
            self._generation += 1
            for conn in list(self._conns):
                if getattr(conn, "rm_busy", False):
                    if conn.sock is not None:
                        try:
                            socket.socket.shutdown(conn.sock, socket.SHUT_RDWR)
                        except OSError:
                            pass
                else:
                    conn.close()
                    self._conns.discard(conn)

    # --- plumbing ----------------------------------------------------------------------

    def _post(self, body: bytes, stop: threading.Event | None):
        """POST once; a kept-alive connection that the server closed meanwhile is reopened
        and the request sent again at once (that is not a failed attempt)."""
        for fresh_try in (False, True):
            with self._lock:
                if stop is not None and stop.is_set():
                    raise _Interrupted
                conn, generation = self._thread_connection(), self._generation
                conn.rm_busy = True
            reused = conn.sock is not None
            try:
                if not reused:
                    conn.connect()
                    with self._lock:
                        if generation != self._generation:  # closed while connecting
                            raise ConnectionAbortedError("the client was closed")
                conn.request("POST", f"{self._path}/chat/completions{self._query}", body=body,
                             headers=self._headers)
                response = conn.getresponse()
                data = response.read(MAX_BODY + 1)
            except (OSError, http.client.HTTPException) as e:
                self._discard(conn)
                stale = isinstance(e, (ConnectionResetError, BrokenPipeError, http.client.RemoteDisconnected))
                if reused and stale and not fresh_try:
                    continue
                raise
            except BaseException:
                self._discard(conn)
                raise
            if response.will_close or len(data) > MAX_BODY:  # the rest of a body too large is not read
                self._discard(conn)
            else:
                with self._lock:
                    conn.rm_busy = False
            return response.status, response.headers, data
        raise AssertionError("unreachable")

    def _thread_connection(self) -> http.client.HTTPConnection:
        conn = getattr(self._local, "conn", None)
        if conn is None or conn.rm_generation != self._generation:
            if conn is not None:  # from before a `close`
                conn.close()
                self._conns.discard(conn)
            conn = self._new_connection(self.timeout)
            conn.rm_generation = self._generation
            self._conns.add(conn)
            self._local.conn = conn
        return conn

    def _new_connection(self, timeout: float) -> http.client.HTTPConnection:
        if self._https:
            if self._ssl is None:
                self._ssl = ssl.create_default_context()
            return http.client.HTTPSConnection(self._host, self._port, timeout=timeout, context=self._ssl)
        return http.client.HTTPConnection(self._host, self._port, timeout=timeout)

    def _discard(self, conn) -> None:
        conn.close()
        with self._lock:
            self._conns.discard(conn)
            if getattr(self._local, "conn", None) is conn:
                self._local.conn = None

    def _completion(self, data: bytes, attempts: int) -> Completion:
        try:
            choice = json.loads(data)["choices"][0]
            message = choice["message"]
            content = message.get("content") or ""
            if isinstance(content, list):  # content parts
                content = "".join(p.get("text") or "" for p in content if isinstance(p, dict))
            # servers with a reasoning parser return the thinking apart; keep the raw text whole
            reasoning = message.get("reasoning_content") or message.get("reasoning")
            finish = choice.get("finish_reason")
            if not isinstance(content, str):
                raise TypeError
        except (ValueError, KeyError, IndexError, TypeError, AttributeError):
            raise APIError(self._redact(f"HTTP 200 from {self.url} but not a chat completion"
                                        f"{_snippet(data, self._redact)}"), attempts) from None
        text = f"<think>{reasoning}</think>{content}" if isinstance(reasoning, str) and reasoning else content
        text = self._redact(text)  # a server that puts the key into an answer does not get it stored
        return Completion(text=text, answer=final_answer(text), finish_reason=finish, attempts=attempts)

    def _key_hint(self) -> str:
        if "Authorization" in self._headers:
            return f"check the key in ${self.api_key_env}"
        return f"${self.api_key_env} is not set"


# --- runs ----------------------------------------------------------------------------

@dataclass
class RunSummary:
    total: int  # records given
    skipped: int  # already finished in the store
    ok: int = 0
    failed: int = 0
    seconds: float = 0.0

    def record(self, prediction: dict, store: PredictionStore, todo: int,
               on_progress: Callable[[dict, int, int], None] | None = None) -> None:
        """Store PREDICTION, count it, and report progress (done of TODO): every backend's
        last step for each record."""
        store.append(prediction)
        if prediction["status"] == "ok":
            self.ok += 1
        else:
            self.failed += 1
        if on_progress is not None:
            on_progress(prediction, self.ok + self.failed, todo)


BuildMessages = Callable[[dict], "list[dict] | Mapping[str, list[dict]]"]


def run_requests(records: Iterable[dict], build_messages: BuildMessages, store: PredictionStore,
                 client: ChatClient, concurrency: int = 8,
                 on_progress: Callable[[dict, int, int], None] | None = None, *,
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
            except _Interrupted:
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


# --- helpers -------------------------------------------------------------------------

def _describe(e: BaseException) -> str:
    text = str(e) or type(e).__name__
    if isinstance(e, (socket.timeout, TimeoutError)):
        text = "timed out"
    elif isinstance(e, http.client.RemoteDisconnected):
        text = "the server closed the connection without answering"
    return " ".join(f"{type(e).__name__}: {text}".split())


def _no_server(e: BaseException) -> bool:
    """Whether a failed request found no server at all (refused, unknown host, no route),
    as opposed to a slow one or one that dropped this request (which may be the request's
    own fault: a server that crashes on one input must not stop the whole run)."""
    return isinstance(e, (ConnectionRefusedError, socket.gaierror)) or \
        getattr(e, "errno", None) in (errno.EHOSTUNREACH, errno.ENETUNREACH)


def redactor(secret: str, fragment: int = 8) -> Callable[[str], str]:
    """A function that replaces SECRET in a text with `***`: every occurrence, and every piece
    of it FRAGMENT or more characters long (a server may echo a key cut short or mangled).

    >>> hide = redactor("sk-0123456789abcdef")
    >>> hide("bad key sk-0123456789abcdef; was it 23456789ab?")
    'bad key ***; was it ***?'
    """
    if not secret:
        return lambda text: text
    if len(secret) < fragment:
        return lambda text: text.replace(secret, "***")
    pieces = {secret[i:i + fragment] for i in range(len(secret) - fragment + 1)}
    first = re.compile("|".join(re.escape(p) for p in sorted(pieces)))

    def redact(text: str) -> str:
        out, pos = [], 0
        while (match := first.search(text, pos)) is not None:
            end = match.end()
            while end < len(text) and text[end - fragment + 1:end + 1] in pieces:  # as far as it goes
                end += 1
            out += [text[pos:match.start()], "***"]
            pos = end
        return "".join(out) + text[pos:] if out else text

    return redact


def _snippet(data: bytes, redact: Callable[[str], str], limit: int = 200) -> str:
    """The server's own words, one line: OpenAI-style `error.message` when there is one,
    redacted before it is cut to LIMIT characters (cut first, a key could survive in part)."""
    text = data.decode("utf-8", "replace")
    try:
        error = json.loads(text).get("error")
        text = error.get("message", text) if isinstance(error, dict) else error if isinstance(error, str) else text
    except (ValueError, AttributeError):
        pass
    text = redact(" ".join(str(text).split()))
    if len(text) > limit:
        text = text[:limit] + "..."
    return f": {text}" if text else ""


def _retry_after(headers) -> float | None:
    """Seconds to wait from `retry-after-ms` (OpenAI) or `Retry-After` (seconds or a date)."""
    value = headers.get("retry-after-ms")
    try:
        if value is not None:
            return min(max(float(value) / 1000, 0.0), RETRY_AFTER_MAX)
    except ValueError:
        pass
    value = headers.get("Retry-After")
    if value is None:
        return None
    try:
        seconds = float(value)
    except ValueError:
        try:
            seconds = email.utils.parsedate_to_datetime(value).timestamp() - time.time()
        except (TypeError, ValueError, IndexError):
            return None
    return min(max(seconds, 0.0), RETRY_AFTER_MAX)


def _public(url: str) -> str:
    """A URL as it may appear in a message: without `user:password@`."""
    return re.sub(r"//[^/@]*@", "//", url)
