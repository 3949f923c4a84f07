"""Every command that writes refuses an output it cannot write in one line and exit status 2,
before doing the work, and leaves nothing behind: a read-only folder, an output folder that
is itself read-only, a path through a file. Missing parent folders are made.

The commands run in this process (typer's runner): dozens of refusals, each a second or more
as a new process, take milliseconds here."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
from contextlib import contextmanager
from pathlib import Path
from types import SimpleNamespace

import pytest
from commands import sets
from test_bad_input import one_line_error
from test_compare import PLUS, eval_run
from typer.testing import CliRunner

from rewardmap.cli import app


@pytest.fixture(autouse=True)
def sigterm_as_it_was():
    """The command makes SIGTERM raise in its process, here pytest's: put it back."""
    before = signal.getsignal(signal.SIGTERM)
    yield
    signal.signal(signal.SIGTERM, before)


def rewardmap(*args, check: bool = True):
    """`rewardmap ARGS`, in this process; the result as `commands.rewardmap` gives it."""
    result = CliRunner().invoke(app, [str(a) for a in args])
    if check and result.exit_code:
        raise AssertionError(f"rewardmap {' '.join(map(str, args))} failed:\n{result.stderr[-3000:]}")
    return SimpleNamespace(returncode=result.exit_code, stderr=result.stderr)


@contextmanager
def read_only(folder: Path):
    """FOLDER made unwritable, to root too: a permission bit does not stop root, an immutable
    folder (chattr +i) does."""
    folder.mkdir(exist_ok=True)
    if os.geteuid() != 0:
        folder.chmod(0o555)
        try:
            yield folder
        finally:
            folder.chmod(0o755)
        return
    if not shutil.which("chattr") or subprocess.run(["chattr", "+i", folder], capture_output=True).returncode:
        pytest.skip("running as root, and chattr +i is not available here: no folder can be read-only")
    try:
        yield folder
    finally:
        subprocess.run(["chattr", "-i", folder], check=True)


@pytest.fixture(scope="module")
def inputs(data, tmp_path_factory) -> dict:
    """What the commands read: the module's dataset, answers to its Plus questions, a run to compare."""
    folder = tmp_path_factory.mktemp("inputs")
    records = [json.loads(line) for line in (data / "questions.jsonl").read_text().splitlines()]
    answers = folder / "answers.jsonl"
    answers.write_text("".join(json.dumps({**r, "response": str(r["answer"])}) + "\n"
                               for r in records if r["type"] != "planning"))
    return {"data": data, "answers": answers, "run": eval_run(folder / "run", [True] * len(PLUS))}


COMMANDS = {  # name: (arguments with OUT for the output, whether the output is a folder)
    "data synth": (["data", "synth", "--cities", 1, "--per-city", 4, "--size", 256, "--workers", 1, "--out", "OUT"],
                   True),
    "data build": (["data", "build", "--stations", "DATA/stations", "--per-city", 4, "--out", "OUT"], True),
    "data import": (["data", "import", "DATA/questions.jsonl", "--out", "OUT"], True),
    "data export": (["data", "export", "DATA", "--format", "sft", "--out", "OUT"], True),
    "data export (file)": (["data", "export", "DATA", "--format", "verl", "--out", "OUT"], False),
    "train": (["train", "--out", "OUT", *sets("data.dataset=DATA", "data.heldout_cities=1")], True),
    "eval": (["eval", "--data", "DATA", "--benchmark", "reasonmap-plus", "--api", "http://127.0.0.1:9/v1",
              "--api-model", "m", "--retries", 0, "--out", "OUT"], True),
    "merge": (["merge", "DATA", "--out", "OUT"], True),
    "score": (["score", "ANSWERS", "--stations-root", "DATA", "-o", "OUT"], False),
    "metrics": (["metrics", "ANSWERS", "--benchmark", "reasonmap-plus", "-o", "OUT"], False),
    "compare": (["compare", "RUN", "--output", "OUT"], False),
}


def command(name: str, out: Path, inputs: dict) -> list[str]:
    """NAME's arguments, OUT and the inputs put in."""
    names = {"OUT": out, "DATA": inputs["data"], "ANSWERS": inputs["answers"], "RUN": inputs["run"]}
    args = [str(a) for a in COMMANDS[name][0]]
    return [str(names[a]) if a in names else
            a.replace("DATA", str(inputs["data"])) if "DATA" in a else a for a in args]


def listing(folder: Path) -> list[str]:
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*"))


@pytest.mark.parametrize("name", list(COMMANDS))
def test_an_output_through_a_file_is_refused(name, inputs, tmp_path):
    (tmp_path / "notes").write_text("mine")
    out = tmp_path / "notes" / "out"
    one_line_error(rewardmap(*command(name, out, inputs), check=False), str(out),
                   f"{tmp_path / 'notes'} is a file, not a folder")
    assert listing(tmp_path) == ["notes"] and (tmp_path / "notes").read_text() == "mine"


@pytest.mark.parametrize("name", list(COMMANDS))
def test_an_output_in_a_read_only_folder_is_refused(name, inputs, tmp_path):
    with read_only(tmp_path / "shelf") as shelf:
        out = shelf / "out"
        one_line_error(rewardmap(*command(name, out, inputs), check=False), str(out), "cannot write")
    assert listing(tmp_path) == ["shelf"]


@pytest.mark.parametrize("name", [name for name, (_, folder) in COMMANDS.items() if folder])
def test_a_read_only_output_folder_is_refused(name, inputs, tmp_path):
    with read_only(tmp_path / "out") as out:
        one_line_error(rewardmap(*command(name, out, inputs), check=False), f"{out}: cannot write in it")
    assert listing(tmp_path) == ["out"]


def test_missing_parents_are_made_and_a_refused_command_leaves_none(inputs, tmp_path):
    for name in ("data synth", "score"):
        out = tmp_path / name / "a" / "b" / "out"
        rewardmap(*command(name, out, inputs))
        assert out.exists()
    refused = tmp_path / "refused" / "a" / "b" / "out"
    for name, wrong, why in (("data synth", ["--cities", 0], "--cities must be at least 1"),  # found after the lock
                             ("eval", ["--benchmark", "nope"], "--benchmark: expected one of")):
        one_line_error(rewardmap(*command(name, refused, inputs), *wrong, check=False), why)
    assert not (tmp_path / "refused").exists()
