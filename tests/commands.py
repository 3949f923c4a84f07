"""Running the `rewardmap` command in a subprocess, as a user would, for the end-to-end tests."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
ENV = {**os.environ, "OMP_NUM_THREADS": "1", "HF_HUB_OFFLINE": "1", "PYTHONUNBUFFERED": "1", "COLUMNS": "200",
       "TOKENIZERS_PARALLELISM": "false"}


def rewardmap(*args, check: bool = True, timeout: float = 600) -> subprocess.CompletedProcess:
    """`python -m rewardmap ARGS` from the repository root; a failure shows its stderr."""
    result = subprocess.run([sys.executable, "-m", "rewardmap", *map(str, args)], env=ENV, cwd=ROOT,
                            capture_output=True, text=True, timeout=timeout)
    if check and result.returncode:
        raise AssertionError(f"rewardmap {' '.join(map(str, args))} failed:\n{result.stderr[-3000:]}")
    return result


def synth_data(folder: Path) -> Path:
    """Two small synthetic cities with questions of every type, route questions included."""
    rewardmap("data", "synth", "--cities", 2, "--per-city", 10, "--size", 256, "--out", folder, "--workers", 1)
    return folder


def tiny_model(data: Path, folder: Path) -> Path:
    """A tiny Qwen2.5-VL whose tokenizer knows DATA's questions (short and long), saved to FOLDER."""
    from rewardmap.train import tiny
    from rewardmap.train.data import load_records
    from rewardmap.train.policy import question_texts

    records = load_records(data)
    model, processor = tiny.build_tiny_model(question_texts(records) + [r.get("question_long") or ""
                                                                       for r in records])
    return tiny.save_tiny(model, processor, folder)
