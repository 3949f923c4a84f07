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


def sets(*items: str) -> list[str]:
    """`--set` before each of ITEMS, as `rewardmap train` takes them."""
    return [arg for item in items for arg in ("--set", item)]


def synth_data(folder: Path) -> Path:
    """Two small synthetic cities with questions of every type, route questions included."""
    rewardmap("data", "synth", "--cities", 2, "--per-city", 10, "--size", 256, "--out", folder, "--workers", 1)
    return folder


def tiny_model(data: Path, folder: Path) -> Path:
    """A tiny Qwen2.5-VL whose tokenizer knows DATA's questions (short and long), saved to FOLDER."""
    from rewardmap.model import tiny
    from rewardmap.datasets.records import load_records
    from rewardmap.train.policy import question_texts

    records = load_records(data)
    model, processor = tiny.build_tiny_model(question_texts(records) + [r.get("question_long") or ""
                                                                       for r in records])
    return tiny.save_tiny(model, processor, folder)


def real_questions(real: Path, folder: Path, cities: int = 2, per_city: int = 6, types: str | None = None) -> Path:
    """A dataset built by `data build` from the first CITIES real cities that have both a
    station file and a map under REAL (the ReasonMap files beside the checkout); TYPES: `--types`
    (planning: a ReasonMap-shaped folder; the Plus types: a ReasonMap-Plus-shaped one)."""
    import shutil

    import pytest

    picked = folder.parent / f"{folder.name}-sources"
    found = 0
    for station in sorted((real / "stations").glob("*/*.json")):
        image = next(iter(sorted((real / "maps" / station.parent.name).glob(station.stem + ".*"))), None)
        if image is None or found >= cities:
            continue
        for source, kind in ((station, "stations"), (image, "maps")):
            (picked / kind / station.parent.name).mkdir(parents=True, exist_ok=True)
            shutil.copy(source, picked / kind / station.parent.name / source.name)
        found += 1
    if not found:
        pytest.skip("no real city with both a station file and a map")
    rewardmap("data", "build", "--stations", picked / "stations", "--maps", picked / "maps", "--out", folder,
              "--per-city", per_city, *(["--types", types] if types else []))
    return folder


def wrong_modes(folder: Path, umask: int = 0o022) -> dict[str, str]:
    """Files and folders under FOLDER whose permission bits are not what a plain `open` or
    `mkdir` under UMASK gives (temporary files are private; what they become must not be)."""
    wrong = {}
    for path in [folder, *folder.rglob("*")]:
        want = (0o777 if path.is_dir() else 0o666) & ~umask
        if (path.stat().st_mode & 0o777) != want:
            wrong[str(path.relative_to(folder))] = oct(path.stat().st_mode & 0o777)
    return wrong
