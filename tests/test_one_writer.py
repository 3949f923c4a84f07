"""One writer per output folder: a second process on a folder that a `data` command is writing
is refused at once, naming the folder and the first one's process id, and the first ends exactly
as it would have alone; a killed writer's lock never blocks the next run. (`train`'s run folder:
tests/test_stop_signals.py, where the refused run is the first step of a longer story.)

The first process is paused (SIGSTOP) while it holds the lock, in the middle of its work, so
that the second always meets it there, however fast or slow the machine."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from commands import ENV, ROOT, rewardmap
from test_bad_input import one_line_error

SYNTH = ["data", "synth", "--cities", 3, "--per-city", 6, "--size", 256]


def start(tmp_path: Path, *args) -> subprocess.Popen:
    with open(tmp_path / "first.err", "wb") as err:
        return subprocess.Popen([sys.executable, "-m", "rewardmap", *map(str, args)], env=ENV, cwd=ROOT,
                                stdout=subprocess.DEVNULL, stderr=err)


def wait_for(condition, process: subprocess.Popen, tmp_path: Path, timeout: float = 300) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert process.poll() is None, f"ended first:\n{(tmp_path / 'first.err').read_text()[-2000:]}"
        assert time.monotonic() < deadline
        time.sleep(0.01)


def files(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def test_a_second_data_command_is_refused_and_the_first_ends_as_if_alone(tmp_path):
    alone = tmp_path / "alone"
    rewardmap(*SYNTH, "--workers", 1, "--out", alone)
    out = tmp_path / "shared"
    first = start(tmp_path, *SYNTH, "--workers", 1, "--out", out)
    wait_for(lambda: any(tmp_path.glob(".shared.*.partial/maps")), first, tmp_path)  # drawing its cities
    first.send_signal(signal.SIGSTOP)
    try:
        second = rewardmap(*SYNTH, "--workers", 1, "--out", out, "--overwrite", check=False)
    finally:
        first.send_signal(signal.SIGCONT)
    one_line_error(second, f"{out}: another rewardmap process (process id {first.pid}) is writing it")
    assert first.wait(timeout=300) == 0, (tmp_path / "first.err").read_text()
    assert files(out) == files(alone)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["alone", "first.err", "shared"]  # no lock file left


def test_the_lock_of_a_killed_writer_does_not_block(tmp_path):
    """SIGKILL leaves the lock file, and worker processes that outlive their parent: neither keeps
    the lock, which went with the process."""
    out = tmp_path / "out"
    first = start(tmp_path, *SYNTH, "--cities", 6, "--workers", 2, "--out", out)
    wait_for(lambda: any(tmp_path.glob(".out.*.partial/maps")), first, tmp_path)  # the workers are drawing
    workers = [int(pid) for path in Path(f"/proc/{first.pid}/task").glob("*/children")
               for pid in path.read_text().split()]
    first.kill()
    first.wait()
    try:
        assert workers and (tmp_path / ".out.lock").read_text().strip() == str(first.pid)
        rewardmap(*SYNTH, "--workers", 1, "--out", out)
    finally:
        for pid in workers:
            try:
                os.kill(pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
    assert (out / "questions.jsonl").is_file() and not (tmp_path / ".out.lock").exists()
