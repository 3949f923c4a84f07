"""`rewardmap data export`: each format read back the way its consumer reads it."""

import base64
import json
import re
import shutil
import tracemalloc

import pytest

from commands import rewardmap
from rewardmap.datasets.export import VLMEVALKIT_COLUMNS, export_dataset, for_trl
from rewardmap.datasets.importer import import_dataset
from rewardmap.datasets.records import load_records
from rewardmap.datasets.synthetic import synth_dataset
from rewardmap.errors import InputError
from rewardmap.questions.prompts import target_text
from rewardmap.rewards.adapters import compute_score


@pytest.fixture(scope="module")
def ds(tmp_path_factory):
    out = tmp_path_factory.mktemp("export") / "ds"
    synth_dataset(out, cities=3, seed=4, size=256, per_city=12)
    return out


def _maps(folder):
    return {r["id"]: open(r["figure"], "rb").read() for r in load_records(folder)}


def test_hf_round_trip_gives_back_the_same_records(ds, tmp_path):
    import datasets

    export_dataset(ds, "hf", tmp_path / "hf")
    saved = datasets.load_from_disk(str(tmp_path / "hf"))
    assert isinstance(saved.features["figure"], datasets.Image) and set(saved["split"]) == {"train"}
    import_dataset(tmp_path / "hf", tmp_path / "back")
    before, after = load_records(ds), load_records(tmp_path / "back")
    assert len(after) == len(before)
    for a, b in zip(before, after):
        for k in a:
            if k not in ("figure", "json"):
                assert b.get(k) == a[k], (a["id"], k)
        assert json.load(open(b["json"])) == json.load(open(a["json"]))
    assert _maps(tmp_path / "back") == _maps(ds)


def test_verl_parquet_has_verls_columns_and_its_reward_scores_the_gold_answers(ds, tmp_path):
    import pyarrow.parquet as pq

    export_dataset(ds, "verl", tmp_path / "train.parquet")
    rows = pq.read_table(tmp_path / "train.parquet").to_pylist()
    records, maps = load_records(ds), _maps(ds)
    assert list(rows[0]) == ["data_source", "prompt", "images", "ability", "reward_model", "extra_info"]
    assert len(rows) == len(records)
    for row, record in zip(rows, records):
        (turn,) = row["prompt"]
        # verl's RL dataset splits the user turn on <image> into an image part and the text
        parts = [p for p in re.split("(<image>)", turn["content"]) if p]
        assert turn["role"] == "user" and parts == ["<image>", record["question"]]
        assert row["images"][0]["bytes"] == maps[record["id"]]
        assert row["reward_model"]["style"] == "rule" and row["extra_info"]["split"] == "train"
        score = compute_score(row["data_source"], target_text(record), row["reward_model"]["ground_truth"],
                              row["extra_info"])
        assert score["correct"] == 1.0 and score["score"] > 0, record["id"]
        assert compute_score(row["data_source"], "no idea", row["reward_model"]["ground_truth"],
                             row["extra_info"])["correct"] == 0.0
    assert {r["data_source"] for r in rows} == {"reasonmap", "reasonmap_plus"}


def test_sft_lines_are_llama_factory_sharegpt_with_maps_beside_them(ds, tmp_path):
    import datasets

    export_dataset(ds, "sft", tmp_path / "sft", split="train")
    info = json.loads((tmp_path / "sft" / "dataset_info.json").read_text())
    assert info["rewardmap_train"]["formatting"] == "sharegpt" and info["rewardmap_train"]["file_name"] == "train.jsonl"
    lines = [json.loads(line) for line in (tmp_path / "sft" / "train.jsonl").read_text().splitlines()]
    records, maps = load_records(ds), _maps(ds)
    assert len(lines) == len(records)
    for line, record in zip(lines, records):
        user, assistant = line["messages"]
        assert user["content"].count("<image>") == len(line["images"]) == 1  # LLaMA-Factory's rule
        assert assistant["content"] == target_text(record)
        assert (tmp_path / "sft" / line["images"][0]).read_bytes() == maps[record["id"]]
    loaded = datasets.load_dataset("json", data_files=str(tmp_path / "sft" / "train.jsonl"), split="train")
    assert loaded.column_names[:2] == ["messages", "images"]
    # TRL's SFTTrainer: the marker dropped, TRL places the (decoded) map before the question itself
    from trl.data_utils import prepare_multimodal_messages

    trl_rows = loaded.map(lambda row: for_trl(row, tmp_path / "sft")).cast_column(
        "images", datasets.Sequence(datasets.Image()))
    row = trl_rows[0]
    user = prepare_multimodal_messages(row["messages"], row["images"])[0]
    assert [p["type"] for p in user["content"]] == ["image", "text"] and user["content"][1]["text"] == records[0]["question"]


def test_vlmevalkit_tsv_stores_each_map_once_and_leaves_routes_out(ds, tmp_path):
    import pandas as pd

    summary = export_dataset(ds, "vlmevalkit", tmp_path / "plus.tsv")
    table = pd.read_csv(tmp_path / "plus.tsv", sep="\t")
    assert tuple(table.columns) == VLMEVALKIT_COLUMNS
    plus = [r for r in load_records(ds) if r["type"] != "planning"]
    assert len(table) == len(plus) == summary.records and sum(summary.left_out.values()) == 12 * 3 - len(plus)
    # VLMEvalKit's rule: an image field of at most 64 characters names the row that holds the map
    images = dict(zip(table["index"].astype(str), table["image"].astype(str)))
    resolved = {k: images[v] if len(v) <= 64 else v for k, v in images.items()}
    maps = _maps(ds)
    for (_, row), record in zip(table.iterrows(), plus):
        assert base64.b64decode(resolved[str(row["index"])]) == maps[record["id"]]
        assert row["answer"] == record["answer"] and row["question"] == record["question"]
    assert sum(len(v) > 64 for v in images.values()) == summary.maps == 3


def test_export_streams_the_maps(tmp_path):
    """Twelve times the records on the same maps: the peak memory of an export does not grow
    with them (holding every record's map would add megabytes)."""
    ds = tmp_path / "ds"
    synth_dataset(ds, cities=3, seed=5, size=1024, per_city=12)
    lines = (ds / "questions.jsonl").read_text().splitlines()
    many = tmp_path / "many"
    for sub in ("maps", "stations"):
        shutil.copytree(ds / sub, many / sub)
    (many / "questions.jsonl").write_text("".join(
        json.dumps({**json.loads(line), "id": f"{i}-{j}"}) + "\n" for i in range(12) for j, line in enumerate(lines)))
    held = 12 * sum(len(m) for m in _maps(ds).values())  # every record's map at once
    for fmt, name in (("verl", "v.parquet"), ("hf", "hf")):
        export_dataset(ds, fmt, tmp_path / f"warm-{name}")  # imports and caches outside the measurement
        peaks = []
        for folder in (ds, many):
            tracemalloc.start()
            export_dataset(folder, fmt, tmp_path / f"{folder.name}-{name}")
            peaks.append(tracemalloc.get_traced_memory()[1])
            tracemalloc.stop()
        assert peaks[1] - peaks[0] < 0.2 * held, (fmt, peaks, held)


def test_export_errors_are_one_line(ds, tmp_path):
    with pytest.raises(InputError, match="--format: 'csv' is not one of hf, verl, sft, vlmevalkit"):
        export_dataset(ds, "csv", tmp_path / "x")
    (tmp_path / "taken.parquet").write_text("x")
    with pytest.raises(InputError, match="already exists"):
        export_dataset(ds, "verl", tmp_path / "taken.parquet")
    assert (tmp_path / "taken.parquet").read_text() == "x"
    result = rewardmap("data", "export", str(ds), "--format", "sft", "--out", str(tmp_path / "s"), "--split", "test")
    assert result.returncode == 0 and "records" in result.stderr
    result = rewardmap("data", "export", str(tmp_path / "none"), "--format", "hf", "--out", str(tmp_path / "h"),
                       check=False)
    assert result.returncode == 2 and len(result.stderr.strip().splitlines()) == 1 and not (tmp_path / "h").exists()


def test_a_bad_station_file_is_one_line_and_nothing_is_written(ds, tmp_path):
    bad = tmp_path / "bad"
    shutil.copytree(ds, bad)
    station = next((bad / "stations").rglob("*.json"))
    station.write_bytes(b"\xff\xfe not text")
    with pytest.raises(InputError, match="station file is not UTF-8 text"):
        export_dataset(bad, "verl", tmp_path / "out.parquet")
    assert not (tmp_path / "out.parquet").exists() and not list(tmp_path.glob(".out.parquet*"))
