"""Resumable predictions: RUN/predictions.jsonl, one finished record per line, append-only.

A line is `{"id", "status": "ok" | "failed", <outputs>, "error", "attempts", "seconds"}`;
the outputs are whatever the backend names (`response`, or `response_short` and
`response_long` for a ReasonMap route question, each with its `_raw` text).

Why it survives a SIGKILL: every line goes to the file in one `os.write` on an O_APPEND
descriptor, so the kernel holds either all of it or (if the process dies inside a short
write) a tail without its newline, which the next open truncates away. What the page cache
holds survives the process; `fsync` only guards against a power cut, so it runs at most
once per `fsync_interval` seconds (and at close) instead of once per line.

Re-running skips ids whose line says "ok"; a "failed" id is tried again unless the caller
says not to (`pending(..., retry_failed=False)`), because failures after all retries are
mostly transient (an overloaded or restarting server) and re-running is how a user asks
for another try. The new line supersedes the old one (the last line of an id wins), and a
clean `close` rewrites the file atomically with one line per id. Two "ok" lines for one id
should never happen; if they do the last wins and `duplicates` counts them.

One process writes a store at a time (an exclusive `flock`, released by the kernel when the
process dies); within it, `append` is thread-safe and cheap enough (one write, no fsync on
most calls) to call from an asyncio event loop.
"""

from __future__ import annotations

import json
import os
import threading
import time
from collections.abc import Iterable
from pathlib import Path

from ..diskfull import named
from ..errors import InputError, where
from ..fileio import write_bytes_atomic

try:
    import fcntl
except ImportError:  # not POSIX: no cross-process guard
    fcntl = None

STATUSES = ("ok", "failed")


class PredictionStore:
    """The predictions of one run; open it, ask what is `pending`, `append` as results arrive.

    `fsync_interval`: seconds between fsyncs (0: after every line; None: only at close).
    `repaired`: bytes of a torn tail truncated on open; `duplicates`: "ok" lines that a
    later line of the same id replaced (should stay 0).
    """

    def __init__(self, path: str | os.PathLike, fsync_interval: float | None = 1.0):
        self.path = Path(path)
        self.fsync_interval = fsync_interval
        self.repaired = 0
        self.duplicates = 0
        self._superseded = 0
        self._status: dict[str | int, str] = {}
        self._lock = threading.Lock()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        created = not self.path.exists()
        self._fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_APPEND | getattr(os, "O_CLOEXEC", 0), 0o644)
        try:
            if fcntl is not None:
                try:
                    fcntl.flock(self._fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                except BlockingIOError:
                    raise InputError(f"{self.path}: another process is writing these predictions "
                                     "(is the same evaluation still running?)") from None
            self._size = self._load()
            if created:
                _fsync_dir(self.path.parent)
        except BaseException:
            os.close(self._fd)
            raise
        self._synced = time.monotonic()
        self._dirty = False

    # --- reading -----------------------------------------------------------------------

    def _load(self) -> int:
        """Index the file; truncate a torn last line; returns the size of the good part."""
        good = 0
        last_bad = None  # (line number, message) of an unreadable complete line
        with open(self.path, "rb") as f:
            for lineno, line in enumerate(f, 1):
                if last_bad is not None:  # an unreadable line with lines after it: not ours to drop
                    raise InputError(f"{where(self.path, lineno - 1)}: {last_bad}")
                if not line.endswith(b"\n"):
                    break  # torn: the process died inside the write
                if not line.strip():
                    good += len(line)
                    continue
                try:
                    key, status = _parse(line)
                except ValueError as e:
                    last_bad = str(e)
                    continue
                previous = self._status.get(key)
                if previous is not None:
                    self._superseded += 1
                    self.duplicates += previous == "ok"
                self._status[key] = status
                good += len(line)
        size = os.fstat(self._fd).st_size
        if size != good:  # a torn or unreadable last line: the record goes back to pending
            os.ftruncate(self._fd, good)
            os.fsync(self._fd)
            self.repaired = size - good
        return good

    def status(self, record_id) -> str | None:
        """"ok", "failed", or None when the id has no line yet."""
        return self._status.get(record_id)

    def __contains__(self, record_id) -> bool:
        return record_id in self._status

    def __len__(self) -> int:
        return len(self._status)

    def counts(self) -> dict[str, int]:
        out = dict.fromkeys(STATUSES, 0)
        for status in self._status.values():
            out[status] += 1
        return out

    def pending(self, records: Iterable[dict], retry_failed: bool = True) -> list[dict]:
        """The records still to run, in order: no line yet, or "failed" when `retry_failed`."""
        seen, out = set(), []
        for i, record in enumerate(records, 1):
            key = _key(record.get("id"), f"record {i}")
            if key in seen:
                raise InputError(f"record {i}: id {key!r} appears twice; predictions are resumed by id")
            seen.add(key)
            status = self._status.get(key)
            if status is None or (status == "failed" and retry_failed):
                out.append(record)
        return out

    def records(self) -> list[dict]:
        """Every prediction, the last line of each id, in the order of those lines."""
        with self._lock:
            self._flush_check()
            latest: dict = {}
            with open(self.path, "rb") as f:
                for line in f:
                    if not line.strip():
                        continue
                    record = json.loads(line)
                    latest.pop(record["id"], None)  # re-inserted: ordered by its last line
                    latest[record["id"]] = record
        return list(latest.values())

    # --- writing -----------------------------------------------------------------------

    def append(self, prediction: dict) -> None:
        """Write one finished record as one line; thread-safe."""
        key = _key(prediction.get("id"), "prediction")
        status = prediction.get("status")
        if status not in STATUSES:
            raise ValueError(f"prediction {key!r}: status must be one of {STATUSES}, got {status!r}")
        data = (json.dumps(prediction, ensure_ascii=False) + "\n").encode("utf-8")
        with self._lock:
            self._flush_check()
            view = memoryview(data)
            try:
                while view:  # a regular file takes it in one write unless the disk fills up
                    view = view[os.write(self._fd, view):]
            except BaseException as e:
                os.ftruncate(self._fd, self._size)  # never leave half a line for the next one to glue onto
                raise named(e, self.path) from None
            self._size += len(data)
            previous = self._status.get(key)
            if previous is not None:
                self._superseded += 1
                self.duplicates += previous == "ok"
            self._status[key] = status
            self._dirty = True
            if self.fsync_interval is not None and time.monotonic() - self._synced >= self.fsync_interval:
                self._sync()

    def sync(self) -> None:
        """fsync now (close does it too)."""
        with self._lock:
            self._flush_check()
            self._sync()

    def _sync(self) -> None:
        if self._dirty:
            os.fsync(self._fd)
            self._dirty = False
        self._synced = time.monotonic()

    def _flush_check(self) -> None:
        if self._fd < 0:
            raise ValueError(f"{self.path}: the prediction store is closed")

    def close(self) -> None:
        """fsync, and rewrite the file with one line per id if a line was superseded."""
        with self._lock:
            if self._fd < 0:
                return
            try:
                self._sync()
                if self._superseded:
                    self._compact()
            finally:
                os.close(self._fd)  # releases the lock, after the rename
                self._fd = -1

    def _compact(self) -> None:
        latest: dict = {}
        with open(self.path, "rb") as f:
            for line in f:
                if not line.strip():
                    continue
                key = json.loads(line)["id"]
                latest.pop(key, None)
                latest[key] = line
        write_bytes_atomic(self.path, b"".join(latest.values()))
        self._superseded = 0

    def __enter__(self) -> PredictionStore:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"PredictionStore({str(self.path)!r}, {self.counts()})"


def _key(value, what: str):
    """Ids are JSON strings or integers (1 and "1" are different records)."""
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        raise InputError(f"{what}: field 'id': expected a string or an integer, got {value!r}")
    return value


def _parse(line: bytes) -> tuple[str | int, str]:
    try:
        record = json.loads(line)
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise ValueError(f"not valid JSON ({getattr(e, 'msg', e)})") from None
    if not isinstance(record, dict) or record.get("status") not in STATUSES:
        raise ValueError("not a prediction (expected an object with 'id' and 'status')")
    try:
        return _key(record.get("id"), "prediction"), record["status"]
    except InputError as e:
        raise ValueError(str(e)) from None


def _fsync_dir(path: Path) -> None:
    """A new file's name is durable once its directory is synced."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
