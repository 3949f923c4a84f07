"""`PredictionStore`: append-only predictions that a crash can cut short but never corrupt."""

from __future__ import annotations

import errno
import json
import os
import signal
import subprocess
import sys
import threading
import time

import pytest

from rewardmap.errors import InputError
from rewardmap.eval import store as store_module
from rewardmap.eval.store import PredictionStore


def ok(i, **extra):
    return {"id": i, "status": "ok", "response": f"answer {i}", "error": None, "attempts": 1, "seconds": 0.1, **extra}


def failed(i):
    return {"id": i, "status": "failed", "error": "HTTP 500", "attempts": 3, "seconds": 0.2}


def lines(path):
    text = path.read_bytes().decode("utf-8")
    assert text == "" or text.endswith("\n")
    return [json.loads(line) for line in text.splitlines()]


def test_appends_survive_reopen_and_finished_ids_are_skipped(tmp_path):
    path = tmp_path / "run" / "predictions.jsonl"
    records = [{"id": i} for i in range(5)] + [{"id": "q-5"}]
    with PredictionStore(path) as store:
        assert store.pending(records) == records
        store.append(ok(0))
        store.append(failed(1))
        store.append(ok("q-5"))
    with PredictionStore(path) as store:
        assert (store.status(0), store.status(1), store.status(2), store.status("q-5")) == ("ok", "failed", None, "ok")
        assert store.counts() == {"ok": 2, "failed": 1} and len(store) == 3 and 0 in store and "0" not in store
        assert [r["id"] for r in store.pending(records)] == [1, 2, 3, 4]  # failed ones are tried again
        assert [r["id"] for r in store.pending(records, retry_failed=False)] == [2, 3, 4]
    assert [r["id"] for r in lines(path)] == [0, 1, "q-5"]


def test_a_torn_last_line_is_truncated_and_its_record_goes_back_to_pending(tmp_path):
    path = tmp_path / "predictions.jsonl"
    good = "".join(json.dumps(ok(i)) + "\n" for i in range(3))
    path.write_text(good + json.dumps(ok(3))[:25], encoding="utf-8")  # killed inside the write
    with PredictionStore(path) as store:
        assert store.repaired == len(json.dumps(ok(3))[:25]) and len(store) == 3
        assert [r["id"] for r in store.pending([{"id": i} for i in range(4)])] == [3]
        store.append(ok(3))
    assert [r["id"] for r in lines(path)] == [0, 1, 2, 3]


@pytest.mark.parametrize("tail", ['{"id": 3, "status": "o\n', '{"id": 3, "status": "ok"}', "\x00\x00\x00\x00\n",
                                  '{"id": 3}\n'])
def test_an_unreadable_or_unterminated_last_line_is_dropped(tmp_path, tail):
    path = tmp_path / "predictions.jsonl"
    path.write_text(json.dumps(ok(0)) + "\n" + tail, encoding="utf-8")
    with PredictionStore(path) as store:
        assert store.repaired == len(tail.encode()) and len(store) == 1
    assert lines(path) == [ok(0)]


def test_an_unreadable_line_in_the_middle_is_an_input_error_naming_it(tmp_path):
    path = tmp_path / "predictions.jsonl"
    path.write_text(json.dumps(ok(0)) + "\nnot json\n" + json.dumps(ok(1)) + "\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"predictions.jsonl:2: not valid JSON") as e:
        PredictionStore(path)
    assert "\n" not in str(e.value)
    assert path.read_text().count("\n") == 3  # left alone


def test_a_retried_failure_replaces_its_line_and_duplicates_are_counted_last_wins(tmp_path):
    path = tmp_path / "predictions.jsonl"
    with PredictionStore(path) as store:
        store.append(failed(1))
        store.append(ok(2))
    rows = [json.dumps(r) for r in (failed(1), ok(2), ok(1), ok(2, response="second"))]
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")  # as a crash before the close leaves it
    with PredictionStore(path) as store:
        assert store.duplicates == 1  # only the second "ok" of id 2; replacing a failure is the point of a re-run
        assert store.status(1) == "ok" and store.pending([{"id": 1}, {"id": 2}]) == []
        assert [(r["id"], r["response"]) for r in store.records()] == [(1, "answer 1"), (2, "second")]
    assert [(r["id"], r["response"]) for r in lines(path)] == [(1, "answer 1"), (2, "second")]  # one line per id


def test_close_keeps_an_append_only_file_without_rewriting_it(tmp_path):
    path = tmp_path / "predictions.jsonl"
    with PredictionStore(path) as store:
        for i in range(3):
            store.append(ok(i))
        inode = os.stat(path).st_ino
    assert os.stat(path).st_ino == inode  # nothing superseded: no rewrite


def test_input_ids_must_be_unique_strings_or_integers(tmp_path):
    with PredictionStore(tmp_path / "p.jsonl") as store:
        with pytest.raises(InputError, match="record 3: id 1 appears twice"):
            store.pending([{"id": 1}, {"id": 2}, {"id": 1}])
        for bad in (None, True, 1.5, [1]):
            with pytest.raises(InputError, match="field 'id'"):
                store.pending([{"id": bad}])
        with pytest.raises(ValueError, match="status"):
            store.append({"id": 1, "status": "done"})
    assert (tmp_path / "p.jsonl").read_bytes() == b""


def test_a_second_writer_is_refused(tmp_path):
    path = tmp_path / "p.jsonl"
    with PredictionStore(path):
        with pytest.raises(InputError, match="another process is writing"):
            PredictionStore(path)
    PredictionStore(path).close()  # free again once closed


def test_concurrent_appends_from_threads_give_whole_unique_lines(tmp_path):
    path = tmp_path / "p.jsonl"
    with PredictionStore(path) as store:
        def write(t):
            for i in range(300):
                store.append(ok(f"{t}-{i}", response="x" * (i * 7 % 5000)))
        threads = [threading.Thread(target=write, args=(t,)) for t in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert len(store) == 2400
    ids = [r["id"] for r in lines(path)]
    assert len(ids) == len(set(ids)) == 2400


def test_a_failed_write_leaves_no_half_line(tmp_path, monkeypatch):
    path = tmp_path / "p.jsonl"
    real_write = os.write
    with PredictionStore(path) as store:
        store.append(ok(0))

        def disk_full(fd, data):
            real_write(fd, bytes(data[:10]))
            raise OSError(errno.ENOSPC, "No space left on device")
        monkeypatch.setattr(store_module.os, "write", disk_full)
        with pytest.raises(OSError):
            store.append(ok(1))
        monkeypatch.setattr(store_module.os, "write", real_write)
        assert store.status(1) is None
        store.append(ok(2))
    assert [r["id"] for r in lines(path)] == [0, 2]


@pytest.mark.parametrize(("interval", "during", "after"), [(0, 5, 5), (None, 0, 1), (3600, 0, 1)])
def test_fsync_is_batched_by_interval(tmp_path, monkeypatch, interval, during, after):
    calls = []
    real = os.fsync
    monkeypatch.setattr(store_module.os, "fsync", lambda fd: calls.append(fd) or real(fd))
    store = PredictionStore(tmp_path / "p.jsonl", fsync_interval=interval)
    calls.clear()  # a new file's directory
    for i in range(5):
        store.append(ok(i))
    assert len(calls) == during
    store.close()
    assert len(calls) == after


def test_a_closed_store_refuses_appends(tmp_path):
    store = PredictionStore(tmp_path / "p.jsonl")
    store.close()
    store.close()
    with pytest.raises(ValueError, match="closed"):
        store.append(ok(0))


WRITER = """
import sys
from rewardmap.eval.store import PredictionStore
store = PredictionStore(sys.argv[1], fsync_interval=None)
start = int(sys.argv[2])
print("ready", flush=True)
for i in range(start, start + 10**7):
    store.append({"id": i, "status": "ok", "response": "y" * (i * 7919 % 20000), "error": None})
"""


def test_sigkill_while_appending_leaves_whole_lines(tmp_path):
    path = tmp_path / "p.jsonl"
    start = 0
    for _ in range(3):
        child = subprocess.Popen([sys.executable, "-c", WRITER, str(path), str(start)], stdout=subprocess.PIPE,
                                 env={**os.environ, "OMP_NUM_THREADS": "1"})
        assert child.stdout.readline().strip() == b"ready"
        deadline = time.monotonic() + 30
        size = path.stat().st_size
        while path.stat().st_size < size + 200_000 and time.monotonic() < deadline:
            time.sleep(0.005)
        child.send_signal(signal.SIGKILL)
        child.wait()
        child.stdout.close()
        with PredictionStore(path) as store:  # repairs a tail the kill may have torn
            start = len(store)
        ids = [r["id"] for r in lines(path)]
        assert ids == list(range(start))
    assert start > 0
