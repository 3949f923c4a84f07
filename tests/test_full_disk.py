"""A full disk (ENOSPC) or quota (EDQUOT) in every command: one line naming the path, exit status
1, nothing left under the output's name, and `eval` run again once space is freed goes on with
nothing lost or repeated (`train`, which resumes the same way: test_kills.py).

The commands write onto a small tmpfs, filled but for a few pages, where this machine can mount
one; the failures injected into each kind of writer at the end run everywhere."""

from __future__ import annotations

import errno
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from commands import ENV
from tmpfs import tmpfs
from typer.testing import CliRunner

from rewardmap import diskfull
from rewardmap.cli import app
from rewardmap.eval.store import PredictionStore
from rewardmap.fileio import write_text_atomic
from rewardmap.train.tracking import append_jsonl, read_metrics

PAGE = 4096


def invoke(*args):
    return CliRunner().invoke(app, [str(a) for a in args])


def assert_one_line(result, where: Path | str, then: str = "run the same command again") -> str:
    """Exit status 1 and one line on standard error (after what libraries print while they
    load) that names a file under WHERE."""
    assert result.exit_code == 1 and not isinstance(result.exception, OSError), result.output[-3000:]
    line, = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert line == result.stderr.strip().splitlines()[-1] and "Traceback" not in result.stderr
    assert line.startswith(f"error: {where}") and ": no space left on device; free some space, then " in line
    assert then in line
    return line


@pytest.fixture
def disk(tmp_path):
    with tmpfs(tmp_path / "disk", "4m") as d:
        yield d


@pytest.mark.parametrize("leave", [0, 12 * PAGE])
def test_data_synth_writes_nothing_and_runs_again_once_space_is_freed(disk, leave):
    out = disk.root / "synth"
    args = ("data", "synth", "--cities", 2, "--per-city", 10, "--size", 256, "--workers", 2, "--out", out)
    disk.fill(leave)
    assert_one_line(invoke(*args), out)
    assert disk.files() == set()  # nor its staging folder
    disk.free()
    assert invoke(*args).exit_code == 0 and (out / "questions.jsonl").is_file()


def test_data_build_and_import_write_nothing(disk, data):
    disk.fill(6 * PAGE)
    out = disk.root / "built"
    assert_one_line(invoke("data", "build", "--stations", data / "stations", "--maps", data / "maps", "--out", out),
                    out)
    out = disk.root / "imported"
    assert_one_line(invoke("data", "import", data / "questions.jsonl", "--search-dir", data, "--out", out), out)
    assert disk.files() == set()


@pytest.mark.parametrize("fmt,name", [("hf", "hf"), ("verl", "x.parquet"), ("sft", "sft"), ("vlmevalkit", "x.tsv")])
def test_data_export_writes_nothing(disk, data, fmt, name):
    disk.fill(2 * PAGE)  # the arrow and parquet writers (C++) and datasets' own as well as Python's
    assert_one_line(invoke("data", "export", data, "--format", fmt, "--out", disk.root / name), disk.root / name)
    assert disk.files() == set()


def test_score_metrics_and_merge_write_nothing(disk, data, model, tmp_path):
    records = [json.loads(line) for line in (data / "questions.jsonl").read_text().splitlines()]
    plus = tmp_path / "plus.jsonl"
    plus.write_text("".join(json.dumps({**r, "response": "\\boxed{1}"}) + "\n" for r in records
                            if r["type"] != "planning"))
    disk.fill()
    assert_one_line(invoke("score", plus, "--stations-root", data, "-o", disk.root / "s.jsonl"), disk.root / "s.jsonl")
    assert_one_line(invoke("metrics", plus, "--benchmark", "reasonmap-plus", "-o", disk.root / "m.jsonl"),
                    disk.root / "m.jsonl")
    with (disk.root / "summary.json").open("w") as printed:  # `metrics > FILE`: printed after the work
        result = subprocess.run([sys.executable, "-m", "rewardmap", "metrics", plus, "--benchmark", "reasonmap-plus"],
                                env=ENV, stdout=printed, stderr=subprocess.PIPE, text=True)
    assert result.returncode == 1 and result.stderr == ("error: standard output: no space left on device; free some "
                                                        "space, then run it again: the files it wrote are whole, what "
                                                        "it printed is cut short\n")
    disk.free()
    disk.fill(64 * PAGE)  # the weights (safetensors, Rust) are cut short
    assert_one_line(invoke("merge", model, "--out", disk.root / "merged"), disk.root / "merged")
    assert disk.files() == {"summary.json"}


def _eval(data, model, out, *more):
    return invoke("eval", "--data", data, "--benchmark", "reasonmap-plus", "--model", model, "--out", out,
                  "--max-new-tokens", 160, "--batch-size", 4, *more)  # 12 answers of 160 tokens: 3 pages


def _answers(run: Path) -> list[tuple]:
    return [(p["id"], p["response"]) for p in map(json.loads, (run / "predictions.jsonl").open())]


def _scores(run: Path) -> dict:
    return {k: v for k, v in json.loads((run / "metrics.json").read_text()).items() if k != "run"}


def test_eval_goes_on_once_space_is_freed_with_nothing_lost_or_repeated(disk, data, model, tmp_path):
    whole = tmp_path / "whole"
    assert _eval(data, model, whole).exit_code == 0
    out = disk.root / "eval"
    with disk.fill_when(lambda: (out / "predictions.jsonl").is_file() and (out / "predictions.jsonl").stat().st_size):
        result = _eval(data, model, out)
    assert_one_line(result, out, "run the same command again: the answers written so far are kept")
    kept = (out / "predictions.jsonl").read_bytes()
    assert kept.endswith(b"\n") and 0 < kept.count(b"\n") < len(_answers(whole))
    assert not [p for p in out.iterdir() if p.name.startswith(".")]  # no temporary file
    disk.free()
    assert _eval(data, model, out).exit_code == 0
    assert _answers(out) == _answers(whole) and _scores(out) == _scores(whole)  # each asked once, none lost
    assert json.loads((out / "metrics.json").read_text())["run"]["skipped"] > 0  # kept, not asked again

    disk.fill(PAGE)  # TABLE.md fits, TABLE.json does not
    table = disk.root / "table"
    assert_one_line(invoke("compare", whole, out, "-o", table), table)
    assert not list(disk.root.glob("table*"))


# ---------------------------------------------------------------- injected: every machine


def test_a_full_disk_is_found_however_a_library_reports_it():
    full = OSError(errno.ENOSPC, "No space left on device")
    assert diskfull.disk_full(full) is full
    try:
        try:
            raise OSError(errno.EDQUOT, "Disk quota exceeded")
        except OSError as e:
            raise RuntimeError("saving the checkpoint failed") from e
    except RuntimeError as e:
        assert diskfull.disk_full(e).errno == errno.EDQUOT
    safetensors = Exception("Error while serializing: I/O error: No space left on device (os error 28)")
    arrow = OSError("[Errno 28] Error writing bytes to file. Detail: [errno 28] No space left on device")
    for e in (safetensors, arrow):
        assert diskfull.disk_full(e).errno == errno.ENOSPC
    for other in (OSError(errno.EACCES, "Permission denied"), ValueError("28 records"), KeyError("errno 28x")):
        assert diskfull.disk_full(other) is None


def test_a_failed_torch_write_is_a_full_disk_only_when_the_disk_is_full(tmp_path, monkeypatch):
    torch_error = RuntimeError("[enforce fail at inline_container.cc:672] . unexpected pos 576 vs 534")
    for free, full in ((0, True), (10 * 2**30, False)):
        monkeypatch.setattr(diskfull, "free_bytes", lambda path: free)
        with pytest.raises(Exception) as raised, diskfull.writing(tmp_path / "ckpt"):
            raise torch_error
        assert (raised.value.filename == str(tmp_path / "ckpt")) if full else raised.value is torch_error


def test_a_failed_torch_write_under_a_quota_is_named_though_the_disk_has_room(tmp_path, monkeypatch):
    """A quota leaves the disk's free space as it was: a probe write beside the file tells."""
    torch_error = RuntimeError("PytorchStreamWriter failed writing file data/3: file write failed")
    real = os.write
    for refused, expected in ((errno.EDQUOT, errno.EDQUOT), (errno.ENOSPC, errno.ENOSPC), (None, None)):
        def write(fd, data, refused=refused):
            if refused is None:
                return real(fd, data)
            real(fd, bytes(data)[:4096])  # a quota lets part of a write through
            raise OSError(refused, os.strerror(refused))

        monkeypatch.setattr(os, "write", write)
        with pytest.raises(Exception) as raised, diskfull.writing(tmp_path / "ckpt" / "optimizer.pt"):
            raise torch_error
        monkeypatch.setattr(os, "write", real)
        if expected is None:  # room and no quota: some other failure, shown as it is
            assert raised.value is torch_error
        else:
            assert raised.value.errno == expected and raised.value.filename == str(tmp_path / "ckpt" / "optimizer.pt")
            assert raised.value.__cause__ is torch_error
        assert list(tmp_path.iterdir()) == []  # the probe is removed


def _fail_writes(monkeypatch, after: int = 0):
    """os.write writes AFTER bytes of its buffer, then raises ENOSPC (as a full disk does)."""
    real = os.write

    def write(fd, data):
        if after:
            real(fd, bytes(data)[:after])
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "write", write)


def test_append_only_logs_take_back_a_line_the_disk_cut_short(tmp_path, monkeypatch):
    metrics, predictions = tmp_path / "metrics.jsonl", tmp_path / "predictions.jsonl"
    append_jsonl(metrics, {"step": 1})
    with PredictionStore(predictions) as store:
        store.append({"id": 1, "status": "ok"})
        _fail_writes(monkeypatch, after=5)
        with pytest.raises(OSError) as raised:
            store.append({"id": 2, "status": "ok"})
        assert raised.value.filename == str(predictions)
        with pytest.raises(OSError) as raised:
            append_jsonl(metrics, {"step": 2})
        assert raised.value.filename == str(metrics)
        monkeypatch.undo()
    assert predictions.read_text() == '{"id": 1, "status": "ok"}\n' and metrics.read_text() == '{"step": 1}\n'
    with metrics.open("a") as f:
        f.write('{"step": 2, "lo')  # a process killed inside its write
    append_jsonl(metrics, {"step": 3})
    assert read_metrics(metrics) == [{"step": 1}, {"step": 3}]


def test_an_atomic_write_leaves_nothing_and_names_its_file(tmp_path, monkeypatch):
    path = tmp_path / "eval_after.json"
    monkeypatch.setattr(Path, "write_bytes", lambda self, data: (_ for _ in ()).throw(
        OSError(errno.ENOSPC, "No space left on device")))
    with pytest.raises(OSError) as raised:
        write_text_atomic(path, "{}")
    assert raised.value.filename == str(path) and list(tmp_path.iterdir()) == []


def test_the_cli_says_it_in_one_line_wherever_the_disk_fills(tmp_path, monkeypatch):
    import rewardmap.datasets.synthetic as synthetic

    def full(*args, **kwargs):
        try:
            raise OSError(errno.ENOSPC, "No space left on device")
        except OSError as e:
            raise RuntimeError("a library's own error") from e  # no file named: the output folder is

    monkeypatch.setattr(synthetic, "write_jsonl_atomic", full)
    out = tmp_path / "synth"
    result = invoke("data", "synth", "--cities", 1, "--per-city", 4, "--size", 256, "--workers", 1, "--out", out)
    line = assert_one_line(result, out)
    assert line == f"error: {out}: no space left on device; free some space, then run the same command again"
    assert not out.exists() and list(tmp_path.iterdir()) == []


def test_data_download_says_the_cache_is_full_not_that_the_network_failed(tmp_path, monkeypatch):
    import huggingface_hub

    from rewardmap.datasets import download
    from rewardmap.errors import InputError

    def full(**kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(huggingface_hub, "snapshot_download", full)
    result = invoke("data", "download", "reasonmap-plus", "--out", tmp_path / "out")
    assert_one_line(result, huggingface_hub.constants.HF_HUB_CACHE) and not (tmp_path / "out").exists()

    def git_full(source, folder, paths, dest):
        raise InputError(f"could not fetch {folder}/ from {source.url} (git checkout: fatal: unable to write "
                         "file: No space left on device)")

    monkeypatch.setattr(download, "_git_fetch_files", git_full)
    with pytest.raises(OSError) as raised:  # not a file the publisher lacks
        download.fetch_published({"./maps/testland/tinyville.png"}, tmp_path / "cache")
    assert raised.value.errno == errno.ENOSPC and raised.value.filename.startswith(str(tmp_path / "cache"))


def test_a_thread_that_meets_a_full_disk_leaves_it_to_the_main_thread(monkeypatch):
    """TensorBoard writes from a thread: its traceback would come before the one line."""
    import threading
    from types import SimpleNamespace

    from rewardmap.cli import _full_disk_hooks

    shown = []
    monkeypatch.setattr(threading, "excepthook", lambda args: shown.append(args.exc_value))
    monkeypatch.setattr(sys, "excepthook", sys.__excepthook__)  # installed afresh
    _full_disk_hooks()
    full, bug = OSError(errno.ENOSPC, "No space left on device"), ValueError("a bug")
    for error in (full, bug):
        threading.excepthook(SimpleNamespace(exc_type=type(error), exc_value=error, exc_traceback=None, thread=None))
    assert shown == [bug]
