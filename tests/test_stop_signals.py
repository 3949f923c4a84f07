"""Ctrl-C (SIGINT) and SIGTERM stop `train` and the `data` commands within seconds, with one
line saying how to go on, exit status 130 and 143, and what is left is usable: a run that
`train --resume` finishes, or no dataset folder at all (never a half one).

A process is paused (SIGSTOP) at the point to interrupt, sent the signal and let go (SIGCONT),
so the signal always lands there, however fast the command runs on the machine."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from commands import ENV, ROOT, rewardmap, sets
from test_bad_input import one_line_error
from test_one_writer import SYNTH, files

# GRPO alone, five short steps, a checkpoint after each
TRAIN = sets("model.name_or_path=tiny", "model.tiny.hidden_size=64", "model.tiny.num_hidden_layers=2",
             "data.synthetic.cities=2", "data.synthetic.per_city=6", "data.synthetic.size=256",
             "data.heldout_cities=1", "sft.enabled=false", "eval.enabled=false", "grpo.max_steps=5",
             "grpo.save_steps=1", "grpo.logging_steps=1", "grpo.max_completion_length=16", "grpo.report_to=none")


def start(tmp_path: Path, *args) -> subprocess.Popen:
    """The command in a process group of its own (a terminal's Ctrl-C goes to a whole group)."""
    with open(tmp_path / "stopped.err", "wb") as err:
        return subprocess.Popen([sys.executable, "-m", "rewardmap", *map(str, args)], env=ENV, cwd=ROOT,
                                stdout=subprocess.DEVNULL, stderr=err, start_new_session=True)


def stop_when(condition, process: subprocess.Popen, how: signal.Signals, tmp_path: Path, group: bool = False) -> str:
    """Send HOW to PROCESS (or its whole group) once CONDITION holds; returns its last line of
    stderr after checking that it ended within seconds with 128 + HOW and no traceback."""
    send = (lambda sig: os.killpg(process.pid, sig)) if group else process.send_signal
    deadline = time.monotonic() + 300
    while not condition():
        assert process.poll() is None, f"ended first:\n{(tmp_path / 'stopped.err').read_text()[-2000:]}"
        assert time.monotonic() < deadline
        time.sleep(0.01)
    send(signal.SIGSTOP)
    send(how)
    send(signal.SIGCONT)
    sent = time.monotonic()
    status = process.wait(timeout=60)
    assert time.monotonic() - sent < 20
    stderr = (tmp_path / "stopped.err").read_text()
    assert status == 128 + how and "Traceback" not in stderr, stderr[-3000:]
    return stderr.strip().splitlines()[-1]


def grpo_steps(run: Path) -> list[int]:
    lines = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]
    return [line["step"] for line in lines if "loss" in line]


def wait_for(condition, process: subprocess.Popen, tmp_path: Path) -> None:
    deadline = time.monotonic() + 300
    while not condition():
        assert process.poll() is None, f"ended first:\n{(tmp_path / 'stopped.err').read_text()[-2000:]}"
        assert time.monotonic() < deadline
        time.sleep(0.01)


def group_gone(process: subprocess.Popen) -> bool:
    """Whether no process of PROCESS's group (its workers) is left, after a second at most."""
    for _ in range(100):
        try:
            os.killpg(process.pid, 0)
        except ProcessLookupError:
            return True
        time.sleep(0.01)
    return False


def test_train_refuses_a_second_writer_stops_on_sigterm_and_ctrl_c_and_resumes(tmp_path):
    run = tmp_path / "run"
    first = start(tmp_path, "train", "--out", run, *TRAIN)
    checkpoint = run / "grpo" / "checkpoint-1" / "trainer_state.json"
    wait_for(checkpoint.is_file, first, tmp_path)
    first.send_signal(signal.SIGSTOP)  # one writer: a second run started meanwhile is refused, changing nothing
    try:
        before = files(run)
        second = rewardmap("train", "--out", run, "--resume", *TRAIN, check=False)
        assert files(run) == before
    finally:
        first.send_signal(signal.SIGCONT)
    one_line_error(second, f"{run}: another rewardmap process (process id {first.pid}) is writing it")

    line = stop_when(checkpoint.is_file, first, signal.SIGTERM, tmp_path)
    assert line.startswith("interrupted by SIGTERM: add --resume to the same command") and "grpo/checkpoint-" in line
    assert not (run / "final").exists() and not (tmp_path / ".run.lock").exists()

    resumed = start(tmp_path, "train", "--out", run, "--resume", *TRAIN)
    line = stop_when((run / "grpo" / "checkpoint-3" / "trainer_state.json").is_file, resumed, signal.SIGINT, tmp_path)
    assert line.startswith("interrupted: add --resume") and "grpo/checkpoint-" in line

    rewardmap("train", "--out", run, "--resume", *TRAIN)
    assert grpo_steps(run) == [1, 2, 3, 4, 5] and (run / "final" / "model.safetensors").is_file()


def test_data_commands_stop_and_leave_no_folder(data, tmp_path):
    out = tmp_path / "out"
    drawing = lambda: any(tmp_path.glob(".out.*.partial/maps"))  # noqa: E731  (workers are writing cities)
    for how, group in ((signal.SIGINT, True), (signal.SIGTERM, False)):  # a terminal's Ctrl-C; a scheduler's kill
        synth = start(tmp_path, *SYNTH, "--cities", 8, "--workers", 2, "--out", out)
        line = stop_when(drawing, synth, how, tmp_path, group)
        assert line.startswith("interrupted") and f"nothing was written to {out}" in line
        assert sorted(p.name for p in tmp_path.iterdir()) == ["stopped.err"]  # no folder, half or whole; no lock
        assert group_gone(synth)  # nor a worker
    old = tmp_path / "old"
    shutil.copytree(data, old)
    before = files(old)
    export = start(tmp_path, "data", "export", data, "--format", "hf", "--out", old, "--overwrite")
    line = stop_when((tmp_path / ".old.lock").is_file, export, signal.SIGTERM, tmp_path)
    assert line.startswith("interrupted by SIGTERM") and files(old) == before  # the folder it would replace
    assert sorted(p.name for p in tmp_path.iterdir()) == ["old", "stopped.err"]


def test_only_the_main_process_of_a_launch_says_it_was_interrupted(monkeypatch, capsys):
    """Under `accelerate launch` Ctrl-C reaches every process: the line is printed once (RANK 0)."""
    import typer

    from rewardmap.cli import _interrupted

    for rank, said in (("1", False), ("0", True)):
        monkeypatch.setenv("RANK", rank)
        with pytest.raises(typer.Exit) as stopped, _interrupted("run the same command again"):
            raise KeyboardInterrupt
        assert stopped.value.exit_code == 130
        assert ("interrupted: run the same command again" in capsys.readouterr().err) is said


def _second_ctrl_c_in(module, name: str, monkeypatch) -> None:
    """MODULE.NAME (a cleanup step) meets a second Ctrl-C as it starts, as an impatient user gives."""
    real = getattr(module, name)

    def interrupted(*args, **kwargs):
        os.kill(os.getpid(), signal.SIGINT)  # Python acts on it at its next step: before the real call
        return real(*args, **kwargs)

    monkeypatch.setattr(module, name, interrupted)


def test_a_second_ctrl_c_does_not_cut_the_cleanup_of_a_data_command(tmp_path, monkeypatch):
    from rewardmap.datasets import output

    _second_ctrl_c_in(output.shutil, "rmtree", monkeypatch)
    with pytest.raises(KeyboardInterrupt):
        with output.staged(tmp_path / "out") as staging:
            (staging / "questions.jsonl").write_text("{}\n")
            raise KeyboardInterrupt  # the first Ctrl-C
    assert list(tmp_path.iterdir()) == []  # no staging folder left behind


def test_a_ctrl_c_during_a_model_folder_swap_takes_effect_after_it(tmp_path, monkeypatch):
    from rewardmap.datasets import output
    from rewardmap.train import policy

    class Saves:  # what save_pretrained writes, in miniature
        def __init__(self, text):
            self.text = text

        def save_pretrained(self, folder):
            Path(folder).mkdir(exist_ok=True)
            (Path(folder) / f"{type(self).__name__}.txt").write_text(self.text)

    folder = tmp_path / "final"
    with policy.saved_whole(Saves("old"), Saves("old"), folder):
        pass
    _second_ctrl_c_in(output.os, "replace", monkeypatch)  # lands between moving the old one aside and the new in
    with pytest.raises(KeyboardInterrupt):
        with policy.saved_whole(Saves("new"), Saves("new"), folder):
            pass
    monkeypatch.undo()
    assert (folder / "Saves.txt").read_text() == "new" and sorted(p.name for p in tmp_path.iterdir()) == ["final"]


def test_deferred_holds_sigterm_and_ctrl_c_until_the_block_ends():
    from rewardmap.interrupts import Terminated, deferred

    for sig, raised in ((signal.SIGINT, KeyboardInterrupt), (signal.SIGTERM, Terminated)):
        before = signal.getsignal(sig)
        done = []
        with pytest.raises(raised):
            with deferred():
                os.kill(os.getpid(), sig)
                time.sleep(0.01)
                done.append(True)  # reached: the signal waited
        assert done and signal.getsignal(sig) is before
