"""Every answer a dataset states as right must score as right, in both reward variants: on
synthetic cities and, when present, on the real ReasonMap station files."""

from __future__ import annotations

import json
import re

import pytest
from commands import synth_data

from rewardmap.datasets.build import build_dataset
from rewardmap.network import StationFiles, clean
from rewardmap.rewards import RewardConfig
from rewardmap.rewards.adapters import score_record
from rewardmap.train.data import target_text


def assert_every_reference_answer_scores_right(data):
    """In both variants; except, in `reference`, a route that departs from or arrives at a
    station whose file name has a space before its marker (Beijing's `东管头南站 （换乘站）`):
    the released code judges the right answer wrong there, and `reference` reproduces it."""
    records = [json.loads(line) for line in (data / "questions.jsonl").read_text().splitlines()]
    files = StationFiles(data)
    for variant in ("reference", "robust"):
        config = RewardConfig(variant=variant)
        wrong = [r["id"] for r in records if not score_record(target_text(r), r, files, config).correct]
        quirk = [r["id"] for r in records if variant == "reference" and r["type"] == "planning"
                 and set(STOPS.findall(r["answer"])) & _spaced_before_marker(files.load(r["json"]))]
        assert wrong == quirk, (variant, wrong[:5])
    return records


STOPS = re.compile(r"(?:Departure|Arrival) Stop: (.*)")


def _spaced_before_marker(network) -> set[str]:
    return {name for line in network.lines.values() for name, released in line.released.items()
            if clean(released) != clean(name)}


def test_on_synthetic_cities(tmp_path):
    records = assert_every_reference_answer_scores_right(synth_data(tmp_path / "data"))
    assert {r["type"] for r in records} >= {"planning", "Counting1", "TorF2"}


def test_on_the_real_station_files(tmp_path, real_data):
    stations = real_data / "stations"
    if not stations.is_dir():
        pytest.skip("no real station files")
    out = tmp_path / "real"
    build_dataset(stations, out, per_city=20, seed=3, skip_invalid=True)
    records = assert_every_reference_answer_scores_right(out)
    assert sum(r["type"] == "planning" for r in records) > 100
    assert any("东管头南站" in r["answer"] for r in records if r["type"] == "planning")  # the quirk was met
