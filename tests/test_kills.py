"""A SIGKILL or a full disk at any moment.

`data synth` and `data export` killed while writing leave nothing or the whole output, and the
next run cleans up what the killed one left (a killed synth's workers die with it). `train` is stopped again and again on one run folder, killed while
it draws its data, at an SFT checkpoint save, during GRPO, during the held-out evaluation and
during the report, and out of disk space at a GRPO checkpoint and at the evaluation's files
(where this machine can mount a small tmpfs), each time resumed with `--resume`: it ends with
the weights, held-out answers and figures of a run never interrupted, no step logged twice.

Moments are chosen by polling for the files that mark progress, two after a seeded random
delay; a moment the command passes before it is polled for ends it normally, and the test
stops there (at most one, the last)."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest
import torch
from commands import ENV, ROOT, rewardmap, sets
from safetensors.torch import load_file
from test_train import SMALL
from tmpfs import FILLER, Disk, mount
from typer.testing import CliRunner

from rewardmap.cli import app

# SMALL (test_train) with a checkpoint at every step and the held-out evaluation on
SETTINGS = sets(*SMALL, "grpo.max_steps=4", "grpo.save_steps=1", "sft.save_steps=1", "grpo.entropy_coef=0.05",
                "eval.train_per_type=0")


def start(*args) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "rewardmap", *map(str, args)], env=ENV, cwd=ROOT,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)


def interrupt(proc: subprocess.Popen, ready: Callable[[], bool], fault: Disk | None = None, delay: float = 0.0,
              timeout: float = 120) -> str | None:
    """Once READY() holds and DELAY seconds later, SIGKILL PROC, or fill the disk FAULT; then
    its standard error. None when PROC ended normally before."""
    deadline = time.monotonic() + timeout
    while not ready():
        if proc.poll() is not None:
            break
        assert time.monotonic() < deadline, "the moment never came"
        time.sleep(0.005)
    else:
        time.sleep(delay)
        if fault is None:
            proc.kill()
            timeout = 10  # for what it started to die with it, and close its end of the pipe
        else:
            fault.fill()
    stderr = proc.communicate(timeout=timeout)[1]
    if proc.returncode == 0:
        return None
    assert proc.returncode == (1 if fault else -signal.SIGKILL), stderr[-3000:]
    return stderr


def leftovers(folder: Path) -> list[str]:
    return [p.name for p in folder.iterdir() if p.name.startswith(".") and p.name != FILLER]


def children(pid: int) -> list[int]:
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            if int(stat.read_text().rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(stat.parent.name))
        except (OSError, ValueError, IndexError):
            continue
    return found


def test_killed_data_synth_leaves_nothing_or_the_whole_dataset_and_the_next_run_cleans_up(tmp_path):
    out = tmp_path / "out"
    synth = ["data", "synth", "--cities", 3, "--per-city", 10, "--size", 256, "--workers", 2, "--seed", 5]
    proc, workers = start(*synth, "--out", out), []

    def drawn() -> bool:
        workers[:] = children(proc.pid)
        return any(tmp_path.glob(".out.*.partial/maps/synthetic/*.png"))

    assert interrupt(proc, drawn, delay=random.Random(23).uniform(0, 0.1)) is not None
    assert workers
    deadline = time.monotonic() + 10
    while any(Path(f"/proc/{pid}").exists() for pid in workers):  # they die with it (they used to wait forever)
        assert time.monotonic() < deadline, f"worker processes {workers} outlived the command"
        time.sleep(0.01)
    killed_at = sorted(p.name for p in tmp_path.iterdir())
    assert ".out.lock" in killed_at  # the writer's lock file (writer_lock), naming the dead process
    killed_at.remove(".out.lock")
    result = CliRunner().invoke(app, [*map(str, synth), "--out", str(tmp_path / "whole")])
    assert result.exit_code == 0
    if out.exists():  # killed once it was done
        assert same_tree(out, tmp_path / "whole")
        again = [*synth, "--out", out, "--overwrite"]
    else:
        assert killed_at[0].startswith(".out.") and killed_at[0].endswith(".partial")  # locked by no one now
        again = [*synth, "--out", out]
    assert CliRunner().invoke(app, [*map(str, again)]).exit_code == 0
    assert leftovers(tmp_path) == []  # the next run removed the killed one's staging folder and took its lock over


def test_killed_data_export_leaves_nothing_or_the_whole_export_and_the_next_run_cleans_up(tmp_path, data):
    import datasets
    import pyarrow.parquet as pq

    rng, records = random.Random(23), len((data / "questions.jsonl").read_text().splitlines())
    for fmt, name, rows in (("hf", "hf", lambda out: len(datasets.load_from_disk(str(out)))),
                            ("verl", "out.parquet", lambda out: pq.read_table(out).num_rows)):
        out = tmp_path / name
        writing = lambda: any(p.suffix in (".partial", ".tmp") for p in tmp_path.glob(f".{name}.*"))  # noqa: E731
        # (its staging folder or temporary file; not `.{name}.lock`, the writer's lock taken before)
        assert interrupt(start("data", "export", data, "--format", fmt, "--out", out), writing,
                         delay=rng.uniform(0, 0.01)) is not None
        assert not out.exists() or rows(out) == records  # nothing, or all of it
        result = CliRunner().invoke(app, ["data", "export", str(data), "--format", fmt, "--out", str(out),
                                          "--overwrite"])
        assert result.exit_code == 0 and rows(out) == records and leftovers(tmp_path) == []


def test_the_next_run_removes_only_what_killed_commands_left(tmp_path):
    """The sweep of OUT's leftovers passes over every lock file (OUT's own, live; another
    output's, left by a killed command), what a live command is writing, and what a command on
    another output (`out.v2`, `out.b`) writes: only the staging folders and temporary files of
    OUT that no one holds go."""
    from rewardmap.datasets.output import held, sweep
    from rewardmap.writer_lock import one_writer

    out = tmp_path / "out"
    dead = [tmp_path / ".out.k1ll3d_0.partial", tmp_path / ".out.k1ll3d_0.tmp"]
    kept = [tmp_path / ".out.v2.k1ll3d_0.partial", tmp_path / ".out.b.k1ll3d_0.tmp", tmp_path / ".out.v2.lock",
            tmp_path / ".out.b.lock", tmp_path / ".out.livelive.partial", tmp_path / ".out.livelive.tmp"]
    for path in dead + kept:
        path.mkdir() if path.suffix == ".partial" else path.write_text("")
    with one_writer(out) as lock, held(kept[-2]), held(kept[-1]):
        sweep(out, ".partial")
        sweep(out, ".tmp")
        assert lock.name == ".out.lock" and lock.is_file()
        assert [p for p in dead if p.exists()] == [] and [p for p in kept if not p.exists()] == []


def test_killed_eval_keeps_its_answers_and_the_same_command_ends_as_one_run(data, model, tmp_path):
    """SIGKILL while answering (a few answers stored) and again while scoring (the answers all in):
    the same command asks only the rest and ends with the answers and scores of one uninterrupted run."""
    def command(out):
        return ("eval", "--data", data, "--benchmark", "reasonmap-plus", "--model", model, "--out", out,
                "--limit", 12, "--batch-size", 2, "--max-new-tokens", 4)

    rewardmap(*command(tmp_path / "whole"))
    out = tmp_path / "killed"
    answered = out / "predictions.jsonl"
    interrupt(start(*command(out)), lambda: answered.is_file() and answered.read_text().count("\n") >= 4)
    interrupt(start(*command(out)), lambda: (out / "responses.jsonl").exists() or (out / "metrics.json").exists())
    rewardmap(*command(out))

    def answers(folder):
        return sorted((r["id"], r["response_raw"]) for r in map(json.loads, (folder / "predictions.jsonl").open()))
    assert answers(out) == answers(tmp_path / "whole") and len(answers(out)) == 12  # each record once
    scores = [json.loads((folder / "metrics.json").read_text())["overall"] for folder in (out, tmp_path / "whole")]
    assert scores[0] == scores[1]
    assert [p.name for p in out.rglob(".*.tmp")] == []


def test_a_kill_between_the_two_renames_of_overwrite_loses_nothing(tmp_path):
    """`--overwrite` moves the old OUT aside (`.OUT.old-PID`), renames the new one in, then removes
    the old one. Killed between the two renames, OUT is missing and its old copy aside: the next
    command writing OUT puts it back first; killed after them, the old copy is removed. A live
    command's copy is left alone."""
    from rewardmap.datasets.output import recover_replaced, staged

    gone = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True,
                          text=True, check=True)
    dead = int(gone.stdout)  # a process that has ended
    out = tmp_path / "out"
    aside = tmp_path / f".out.old-{dead}"
    aside.mkdir()
    (aside / "questions.jsonl").write_text("old\n")
    live = tmp_path / f".out.old-{os.getppid()}"  # a process still running
    live.mkdir()
    recover_replaced(out)
    assert (out / "questions.jsonl").read_text() == "old\n" and not aside.exists() and live.is_dir()
    aside.mkdir()  # killed after the new OUT was in
    with staged(out, overwrite=True) as folder:
        (folder / "questions.jsonl").write_text("new\n")
    assert (out / "questions.jsonl").read_text() == "new\n" and not aside.exists() and live.is_dir()


def same_tree(a: Path, b: Path) -> bool:
    files = sorted(str(p.relative_to(a)) for p in a.rglob("*") if p.is_file())
    return files == sorted(str(p.relative_to(b)) for p in b.rglob("*") if p.is_file()) and all(
        (a / f).read_bytes() == (b / f).read_bytes() for f in files)


@pytest.fixture(scope="module")
def whole(tmp_path_factory) -> Path:
    """The run never interrupted."""
    out = tmp_path_factory.mktemp("whole") / "run"
    rewardmap("train", "--out", out, *SETTINGS)
    return out


def _lines(run: Path, phase: str) -> int:
    path = run / "metrics.jsonl"
    return sum(f'"phase": "{phase}"' in line for line in path.read_text().splitlines()) if path.is_file() else 0


def _appears(run: Path, pattern: str) -> Callable[[], bool]:
    """Whether a file or folder matching PATTERN has appeared (or been replaced) since this call."""
    def written() -> set:
        found = set()
        for path in run.glob(pattern):
            try:
                found.add((path, path.stat().st_mtime_ns))
            except FileNotFoundError:  # removed meanwhile
                continue
        return found

    before = written()
    return lambda: bool(written() - before)


def _figures(run: Path) -> str:
    """The report's figures (all but its timings) and the policy change."""
    report = (run / "report.md").read_text().split("## Where a step's time goes")[0]
    return report + (run / "policy_change.json").read_text()


def _nothing_half_written(run: Path) -> None:
    """Every JSON file whole, metrics.jsonl whole lines, every checkpoint complete, no temporary file."""
    for path in run.rglob("*.json"):
        json.loads(path.read_text())
    assert all(json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines(keepends=True)
               if line.endswith("\n"))
    assert (run / "metrics.jsonl").read_bytes().endswith(b"\n")
    for checkpoint in run.glob("*/checkpoint-*"):
        assert (checkpoint / "trainer_state.json").is_file(), checkpoint
    assert not [p for p in run.rglob("*") if p.name.endswith((".tmp", ".partial"))]


def test_train_killed_or_out_of_space_in_every_phase_resumes_to_the_same_weights_and_figures(tmp_path, whole):
    rng = random.Random(23)
    disk = mount(tmp_path / "disk", "64m")  # None: no full disks here, kills only
    run = (tmp_path / "disk" if disk else tmp_path) / "run"
    moments = [  # (what, when: made at the start, it says the moment has come; fault: kill or full disk; delay)
        ("drawing its data", lambda: lambda: any(run.glob(".data.*.partial/maps/synthetic/*.png")), "kill", 0),
        ("an sft checkpoint save", lambda: _appears(run, "sft/checkpoint-*"), "kill", 0),
        ("grpo", lambda: lambda: _lines(run, "grpo") >= 1, "kill", rng.uniform(0, 0.5)),
        ("a grpo checkpoint save", lambda: _appears(run, "grpo/checkpoint-*"), "full", 0),
        ("the held-out evaluation", lambda: lambda: (run / "final").is_dir(), "kill", rng.uniform(0, 0.5)),
        ("writing the evaluation", lambda: lambda: (run / "eval_after.json").is_file(), "full", 0),
        ("the report", lambda: _appears(run, "plots/*.png"), "kill", 0),
    ]
    try:
        for what, when, fault, delay in moments:
            if fault == "full" and disk is None:
                continue
            began = time.monotonic()
            full = disk if fault == "full" else None
            stderr = interrupt(start("train", "--out", run, *SETTINGS, "--resume"), when(), full, delay)
            if stderr is None:
                assert what == moments[-1][0], f"ended before {what}"
                break
            print(f"{'out of space' if full else 'killed'} at {what} after {time.monotonic() - began:.1f} s")
            assert not (run / "report.md").exists()
            if full:
                errors = [line for line in stderr.splitlines() if line.startswith("error:")]
                assert "Traceback" not in stderr and errors == stderr.strip().splitlines()[-1:], stderr[-3000:]
                assert f"{run}" in errors[0] and "no space left on device" in errors[0] and "--resume" in errors[0]
                print(errors[0])
                _nothing_half_written(run)
                full.free()
        else:
            rewardmap("train", "--out", run, *SETTINGS, "--resume")

        a, b = load_file(whole / "final" / "model.safetensors"), load_file(run / "final" / "model.safetensors")
        assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)
        for name in ("eval_before.json", "eval_after_sft.json", "eval_after.json", "eval_baseline.json"):
            assert json.loads((run / name).read_text()) == json.loads((whole / name).read_text()), name
        rows = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]
        steps = [(r["phase"], r["step"]) for r in rows if "loss" in r or "reward" in r]
        assert steps == [("sft", 1), ("sft", 2), ("sft", 3), ("grpo", 1), ("grpo", 2), ("grpo", 3), ("grpo", 4)]
        assert _figures(run) == _figures(whole) and (run / "plots" / "reward.png").is_file()
        _nothing_half_written(run)
        assert leftovers(run) == []
    finally:
        if disk:
            disk.unmount()
