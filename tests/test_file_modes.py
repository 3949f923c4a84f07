"""What the commands write ends with the permissions the user's umask gives, as a plain write
would, although every file is written under a private temporary name first."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from commands import ENV, ROOT, wrong_modes


def run_under(umask: int, *args) -> None:
    result = subprocess.run([sys.executable, "-m", "rewardmap", *map(str, args)], env=ENV, cwd=ROOT,
                            capture_output=True, text=True, timeout=300, preexec_fn=lambda: os.umask(umask))
    assert result.returncode == 0, result.stderr[-2000:]


def test_data_and_scores_follow_the_umask(tmp_path):
    synth, built = tmp_path / "synth", tmp_path / "built"
    run_under(0o027, "data", "synth", "--cities", 1, "--per-city", 6, "--size", 256, "--out", synth, "--workers", 1)
    run_under(0o027, "data", "build", "--stations", synth / "stations", "--maps", synth / "maps", "--out", built,
              "--per-city", 6)
    record = json.loads((built / "questions.jsonl").read_text().splitlines()[0])
    answers = tmp_path / "answers"
    answers.mkdir(mode=0o750)
    (answers / "in.jsonl").write_text(json.dumps({**record, "response": record["answer"]}) + "\n")
    (answers / "in.jsonl").chmod(0o640)
    run_under(0o027, "score", answers / "in.jsonl", "--stations-root", built, "-o", answers / "scores.jsonl")
    for folder in (synth, built, answers):
        assert wrong_modes(folder, umask=0o027) == {}, folder


def test_the_modes_are_those_of_a_plain_write_under_the_default_umask(tmp_path):
    synth = tmp_path / "synth"
    run_under(0o022, "data", "synth", "--cities", 1, "--per-city", 6, "--size", 256, "--out", synth, "--workers", 1)
    assert wrong_modes(synth) == {}
    assert (synth / "questions.jsonl").stat().st_mode & 0o777 == 0o644
