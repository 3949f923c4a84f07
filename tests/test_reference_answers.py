"""Every answer a dataset states as right must score as right, in both reward variants: on
synthetic cities and, when present, on the real ReasonMap station files."""

from __future__ import annotations

import json

import pytest
from commands import synth_data

from rewardmap.datasets.build import build_dataset
from rewardmap.network import StationFiles
from rewardmap.rewards import RewardConfig
from rewardmap.rewards.adapters import score_record
from rewardmap.train.data import target_text


def assert_every_reference_answer_scores_right(data):
    records = [json.loads(line) for line in (data / "questions.jsonl").read_text().splitlines()]
    files = StationFiles(data)
    for variant in ("reference", "robust"):
        config = RewardConfig(variant=variant)
        wrong = [r["id"] for r in records if not score_record(target_text(r), r, files, config).correct]
        assert wrong == [], (variant, wrong[:5])
    return records


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
