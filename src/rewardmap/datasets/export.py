"""`rewardmap data export`: a dataset folder in the form another trainer or evaluator reads.

- `hf`: a `datasets` folder (`save_to_disk`) with the ReasonMap-Train fields, the map as an
  `Image` feature and the station file inline in `json` (its JSON text): one self-contained
  folder, which `rewardmap data import` reads back to the same records.
- `verl`: one parquet file with verl's RL dataset columns: `data_source` (reasonmap or
  reasonmap_plus), `prompt` (one user turn, `<image>` then the question), `images` (the map's
  bytes), `ability`, `reward_model` (`style` rule, `ground_truth` the answer as text) and
  `extra_info` (what `rewardmap.rewards.adapters.compute_score`, verl's custom reward
  function, reads: type, difficulty, stations, transfers, the station file inline).
- `sft`: chat JSON lines (`messages`: the question, then the answer in exactly the requested
  form; `images`: the map's path) with the maps copied beside them and a `dataset_info.json`,
  as LLaMA-Factory reads ShareGPT-style multimodal data (`<image>` marks the map in the user
  turn). TRL's SFTTrainer reads the same `messages` and `images` columns once the marker is
  dropped (it places the image itself): `for_trl` below.
- `vlmevalkit`: a TSV in the layout of VLMEvalKit's ReasonMap-Plus dataset (`index`, `image`
  as base64, `question`, `answer`, `type`, `difficulty_city`, ...); a map is stored once and
  later rows name the row that holds it, as VLMEvalKit allows. VLMEvalKit (0.2rc1) scores
  ReasonMap-Plus only, so route questions are left out, and counted.

Records are read and written one at a time (a map is held only while its record is written)
into a staging path that is renamed into place at the end: an error leaves nothing behind.
"""

from __future__ import annotations

import base64
import csv
import json
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import InputError
from ..fileio import MAP_FILE_MAX_BYTES, STATION_FILE_MAX_BYTES, read_capped
from ..questions.kinds import PLUS_TYPES, ROUTE_TYPE
from ..questions.prompts import target_text
from .output import staged, staged_file
from .records import load_records
from .schema import BASE_FIELDS, TYPE_FIELDS

FORMATS = {
    "hf": "a datasets folder (save_to_disk): ReasonMap-Train fields, the map as an Image feature",
    "verl": "a parquet file of verl's RL dataset columns, scored by rewardmap.rewards.adapters.compute_score",
    "sft": "a folder of chat JSON lines (messages, images) and maps, for LLaMA-Factory and TRL's SFTTrainer",
    "vlmevalkit": "a TSV in VLMEvalKit's ReasonMap-Plus layout, maps in base64 (Plus questions only)",
}
EXTRA_FIELDS = tuple(dict.fromkeys(f for fields in TYPE_FIELDS.values() for f in fields))
REWARD_FIELDS = ("id", "type", "difficulty_city", "station_1", "station_2", "question_transfer_count", "json")
VLMEVALKIT_COLUMNS = ("index", "image", "question", "answer", "type", "difficulty_city", "country", "city", "id")


@dataclass
class ExportSummary:
    out: Path
    records: int = 0
    maps: int = 0
    left_out: dict[str, int] = field(default_factory=dict)  # why -> count


def export_dataset(folder: str | os.PathLike, fmt: str, out: str | os.PathLike, *, split: str | None = None,
                   overwrite: bool = False, on_record: Callable[[int, int], None] | None = None) -> ExportSummary:
    """Write FOLDER's records to OUT in FMT (one of `FORMATS`). SPLIT keeps the records whose
    `split` field is SPLIT, when they have one, and names the split in the output (default:
    train). `on_record(done, total)` is called after each record."""
    if fmt not in FORMATS:
        raise InputError(f"--format: {fmt!r} is not one of {', '.join(FORMATS)}")
    records = load_records(folder)
    if split is not None and any("split" in r for r in records):
        records = [r for r in records if r.get("split") == split]
        if not records:
            raise InputError(f"{folder}: no records of split {split!r}")
    summary = ExportSummary(Path(out))
    writer = {"hf": _hf, "verl": _verl, "sft": _sft, "vlmevalkit": _vlmevalkit}[fmt]
    writer(records, Path(out), split or "train", overwrite, _Reader(), summary,
           on_record or (lambda done, total: None))
    return summary


class _Reader:
    """Maps and station files, read when a record needs them; station files (small, and named
    by every question of a city) are kept."""

    def __init__(self):
        self.stations: dict[str, str] = {}

    def map(self, path: str) -> bytes:
        return read_capped(path, MAP_FILE_MAX_BYTES, "map image")

    def station_text(self, path: str) -> str:
        if path not in self.stations:
            data = read_capped(path, STATION_FILE_MAX_BYTES, "station file")
            try:
                self.stations[path] = data.decode("utf-8")
            except UnicodeDecodeError as e:
                raise InputError(f"{path}: station file is not UTF-8 text (byte {e.start})") from None
        return self.stations[path]


def _file_out(out: Path, overwrite: bool):
    if out.exists() and not overwrite:
        raise InputError(f"{out}: already exists; choose another path or pass --overwrite to replace it")
    if out.is_dir():
        raise InputError(f"{out}: is a folder; the {out.suffix or 'file'} export is one file")
    return staged_file(out)


def _fields(record: dict, reader: _Reader) -> dict:
    """The record's ReasonMap-Train fields, the station file inline and nested values as JSON."""
    row = {k: record.get(k) for k in (*BASE_FIELDS, *EXTRA_FIELDS) if k != "figure"}
    row["id"] = str(row["id"])
    row["answer"] = str(row["answer"])
    station = record.get("json")
    if isinstance(station, str):  # a path (made absolute by `load_records`), or the object as JSON text
        row["json"] = station if station.lstrip().startswith("{") else reader.station_text(station)
    else:
        row["json"] = json.dumps(station, ensure_ascii=False)
    for k in ("routes", "choices"):
        row[k] = None if row[k] is None else json.dumps(row[k], ensure_ascii=False)
    return row


def _hf(records, out, split, overwrite, reader, summary, on_record) -> None:
    import datasets
    from datasets.arrow_writer import ArrowWriter

    text = datasets.Value("string")
    integer = datasets.Value("int64")
    features = datasets.Features({
        **{k: integer if k in ("question_transfer_count", "city_line_count", "city_transfer_count") else text
           for k in (*BASE_FIELDS, *EXTRA_FIELDS) if k != "figure"},
        "figure": datasets.Image(), "split": text})

    with staged(out, overwrite) as staging:
        table = staging / ".rows.arrow"  # written in batches of 32 rows, then saved as datasets' shards
        with ArrowWriter(features=features, path=str(table), writer_batch_size=32) as writer:
            for i, record in enumerate(records, 1):
                writer.write({**_fields(record, reader), "split": split,
                              "figure": {"bytes": reader.map(record["figure"]), "path": None}})
                on_record(i, len(records))
            writer.finalize()
        dataset = datasets.Dataset.from_file(str(table))
        quiet = datasets.utils.are_progress_bars_disabled()
        datasets.disable_progress_bars()  # the command shows its own
        try:
            dataset.save_to_disk(str(staging / "data"))
        finally:
            if not quiet:
                datasets.enable_progress_bars()
        del dataset
        table.unlink()
        for path in (staging / "data").iterdir():
            path.rename(staging / path.name)
        (staging / "data").rmdir()
    summary.records, summary.maps = len(records), len({r["figure"] for r in records})


def _verl(records, out, split, overwrite, reader, summary, on_record) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    extra = pa.struct([("index", pa.int64()), ("split", pa.string()), ("question", pa.string()),
                       *((k, pa.int64() if k == "question_transfer_count" else pa.string()) for k in REWARD_FIELDS)])
    schema = pa.schema([
        ("data_source", pa.string()),
        ("prompt", pa.list_(pa.struct([("role", pa.string()), ("content", pa.string())]))),
        ("images", pa.list_(pa.struct([("bytes", pa.binary()), ("path", pa.string())]))),
        ("ability", pa.string()),
        ("reward_model", pa.struct([("style", pa.string()), ("ground_truth", pa.string())])),
        ("extra_info", extra)])
    with _file_out(out, overwrite) as tmp, pq.ParquetWriter(tmp, schema) as writer:
        batch: list[dict] = []
        for i, record in enumerate(records, 1):
            fields = _fields(record, reader)
            batch.append({
                "data_source": "reasonmap" if record["type"] == ROUTE_TYPE else "reasonmap_plus",
                "prompt": [{"role": "user", "content": "<image>" + record["question"]}],
                "images": [{"bytes": reader.map(record["figure"]), "path": None}],
                "ability": "transit_map_reading",
                "reward_model": {"style": "rule", "ground_truth": fields["answer"]},
                "extra_info": {"index": i - 1, "split": split, "question": record["question"],
                               **{k: fields[k] for k in REWARD_FIELDS}}})
            if len(batch) == 32:
                writer.write_table(pa.Table.from_pylist(batch, schema))
                batch.clear()
            on_record(i, len(records))
        if batch:
            writer.write_table(pa.Table.from_pylist(batch, schema))
    summary.records, summary.maps = len(records), len({r["figure"] for r in records})


def _sft(records, out, split, overwrite, reader, summary, on_record) -> None:
    with staged(out, overwrite) as staging, open(staging / f"{split}.jsonl", "w", encoding="utf-8") as f:
        copied: dict[str, str] = {}
        for i, record in enumerate(records, 1):
            if record["figure"] not in copied:
                name = f"maps/{record['country']}/{Path(record['figure']).name}"
                while name in copied.values():  # two folders' maps of one name
                    name = f"{name.removesuffix('.png')}-{len(copied)}.png"
                (staging / name).parent.mkdir(parents=True, exist_ok=True)
                (staging / name).write_bytes(reader.map(record["figure"]))
                copied[record["figure"]] = name
            row = {"messages": [{"role": "user", "content": "<image>" + record["question"]},
                                {"role": "assistant", "content": target_text(record)}],
                   "images": [copied[record["figure"]]], "id": str(record["id"]), "type": record["type"]}
            f.write(json.dumps(row, ensure_ascii=False) + "\n")
            on_record(i, len(records))
        info = {f"rewardmap_{split}": {"file_name": f"{split}.jsonl", "formatting": "sharegpt",
                                       "columns": {"messages": "messages", "images": "images"},
                                       "tags": {"role_tag": "role", "content_tag": "content", "user_tag": "user",
                                                "assistant_tag": "assistant"}}}
        (staging / "dataset_info.json").write_text(json.dumps(info, indent=2) + "\n", encoding="utf-8")
    summary.records, summary.maps = len(records), len(copied)


def _vlmevalkit(records, out, split, overwrite, reader, summary, on_record) -> None:
    plus = [r for r in records if r["type"] in PLUS_TYPES]
    if len(plus) < len(records):
        summary.left_out["route questions (VLMEvalKit scores ReasonMap-Plus only)"] = len(records) - len(plus)
    if not plus:
        raise InputError(f"{out}: no ReasonMap-Plus questions to export (VLMEvalKit has no ReasonMap scorer)")
    first: dict[str, int] = {}  # map -> the index of the row that holds it
    with _file_out(out, overwrite) as tmp, open(tmp, "w", encoding="utf-8", newline="") as f:
        writer = csv.writer(f, delimiter="\t", lineterminator="\n")
        writer.writerow(VLMEVALKIT_COLUMNS)
        for i, record in enumerate(plus):
            if record["figure"] in first:
                image = str(first[record["figure"]])
            else:
                first[record["figure"]] = i
                image = base64.b64encode(reader.map(record["figure"])).decode("ascii")
            writer.writerow([i, image, record["question"], record["answer"], record["type"],
                             record["difficulty_city"], record.get("country", ""), record.get("city", ""),
                             record["id"]])
            on_record(i + 1, len(plus))
    summary.records, summary.maps = len(plus), len(first)


def for_trl(row: dict, root: str | os.PathLike = ".") -> dict:
    """A line of the sft export as TRL's SFTTrainer reads it: no `<image>` marker in the text
    (TRL puts the image before the user's text itself), map paths made relative to ROOT (the
    export folder) absolute."""
    messages = [{**m, "content": m["content"].replace("<image>", "", 1) if m["role"] == "user" else m["content"]}
                for m in row["messages"]]
    return {"messages": messages, "images": [str(Path(root) / p) for p in row["images"]]}
