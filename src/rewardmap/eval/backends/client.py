"""A client of an OpenAI-compatible chat-completions API (vLLM, SGLang, OpenAI, ...).

`ChatClient` sends one request per question: the map as a base64 data URL, then the
question text, greedy (temperature 0). It retries 429, 5xx and dropped connections with
exponential backoff and jitter (a `Retry-After` wins), and nothing else: another 4xx will
fail the same way every time. The standard library's `http.client` (keep-alive, one
connection per thread) is all it takes -- no HTTP package to depend on (the one
huggingface_hub brings has changed name between its versions: httpx, then httpx2).

The API key is read from the environment variable named by `api_key_env` and lives only
in the client's request headers: it is not an attribute that `repr` shows, and every error
text and answer is scrubbed of it (whole, or any piece of 8 or more characters a server may
echo) before it is cut short and before it reaches a message, a log or the store.
"""

from __future__ import annotations

import email.utils
import errno
import http.client
import json
import os
import random
import re
import socket
import ssl
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urlsplit

from ...answers.text import final_answer
from ...errors import InputError
from .messages import request_body

DEFAULT_KEY_ENV = "OPENAI_API_KEY"
RETRY_AFTER_MAX = 600.0  # a server asking for more than 10 minutes is not coming back soon
MAX_BODY = 64 << 20  # bytes of one response read; a larger one is refused, not held in memory


class APIError(Exception):
    """A request that failed for good (after its retries, or a status not worth retrying);
    the message is one line without the key."""

    def __init__(self, message: str, attempts: int, unreachable: bool = False):
        super().__init__(message)
        self.attempts = attempts
        self.unreachable = unreachable  # the last try found no server (`_no_server`)


class Interrupted(Exception):
    """The run is stopping: drop this request without recording it."""


@dataclass(frozen=True)
class Completion:
    text: str  # the raw output, thinking included
    answer: str  # what follows the last end-of-thinking tag (`final_answer`)
    finish_reason: str | None
    attempts: int


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
                    raise Interrupted from None
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
                raise Interrupted

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
                    raise Interrupted
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
