"""docs/reproduce.md, run: every command of its bash blocks, at tiny scale, so that the guide
cannot rot. The network is replaced by local copies laid out as the published ones are (the
Hub datasets as parquet files, the authors' GitHub repositories as git repositories read over
file://), drawn from synthetic cities; the 7B recipes run with the shipped tiny model, one
optimizer step and two questions per benchmark. Environment set-up (venv, pip) is checked,
not run: the extras it names must exist."""

from __future__ import annotations

import base64
import json
import re
import shlex
import shutil
import subprocess
import sys
from importlib.metadata import metadata
from pathlib import Path

import pytest
from typer.testing import CliRunner

from commands import ENV, ROOT, rewardmap, sets
from test_download import local_github, local_hub

GUIDE = ROOT / "docs" / "reproduce.md"
SETUP = ("python -m venv", "source ", "pip install")
# what a GPU-sized recipe becomes on this CPU: the tiny model, one step, two questions per benchmark
TINY = sets("model.name_or_path=tiny-base", "model.dtype=float32", "model.device=cpu", "grpo.use_vllm=false",
            "grpo.bf16=false", "grpo.gradient_checkpointing=false", "grpo.max_steps=1", "grpo.prompts_per_step=2",
            "grpo.num_generations=2", "grpo.max_completion_length=8", "grpo.report_to=none", "sft.bf16=false",
            "sft.gradient_checkpointing=false", "sft.max_steps=1", "sft.batch_size=2", "sft.max_pixels=null",
            "sft.report_to=none", "eval.max_questions=2", "eval.max_new_tokens=8", "eval.batch_size=2")


def guide_commands() -> list[str]:
    """The commands of the guide's bash blocks, one per line (continuations joined, comments dropped)."""
    blocks = re.findall(r"```bash\n(.*?)```", GUIDE.read_text(encoding="utf-8"), flags=re.S)
    text = "\n".join(block.replace("\\\n", " ") for block in blocks)
    lines = [line.split(" #")[0].strip() for line in text.splitlines()]
    return [line for line in lines if line and not line.startswith("#")]


def published(tmp_path: Path, monkeypatch) -> None:
    """The Hub datasets and the two GitHub repositories, as local copies of synthetic cities."""
    from rewardmap.datasets.records import load_records

    source = tmp_path / "source"
    rewardmap("data", "synth", "--cities", 3, "--per-city", 12, "--size", 256, "--out", source, "--workers", 1)
    records = [{**r, "figure": Path(r["figure"]).relative_to(source.resolve()).as_posix(),
                "json": Path(r["json"]).relative_to(source.resolve()).as_posix()} for r in load_records(source)]
    cities = sorted({r["city"] for r in records})
    maps = {r["figure"]: (source / r["figure"]).read_bytes() for r in records}
    stations = {r["json"]: (source / r["json"]).read_bytes() for r in records}

    def plus_row(r: dict) -> dict:  # ReasonMap-Plus / -Train: files named by path
        row = {k: v for k, v in r.items() if k not in ("id", "choices")}
        row.update(figure=f"./{r['figure']}", json=f"./{r['json']}", answer=str(r["answer"]))
        if r["type"] == "planning":
            row["routes"] = json.dumps(r["routes"]) if not isinstance(r["routes"], str) else r["routes"]
        return row

    def route_row(r: dict) -> dict:  # ReasonMap: the map and the station data inline
        return {"country": r["country"], "city": r["city"], "figure": base64.b64encode(maps[r["figure"]]).decode(),
                "json": stations[r["json"]].decode(), "question_short": r["question"],
                "question_long": r["question_long"], "station_1": r["station_1"], "station_2": r["station_2"],
                "difficulty_city": r["difficulty_city"], "difficulty_question": r["difficulty_question"],
                "routes": plus_row(r)["routes"]}

    of = lambda city, types: [r for r in records if r["city"] == city and r["type"] in types]  # noqa: E731
    plus = ("TorF1", "TorF2", "Counting1", "Counting2", "Counting3")
    hub = {"FSCCS/ReasonMap-Train": {"data/train.parquet": [plus_row(r) for c in cities[:2]
                                                            for r in of(c, (*plus, "planning"))]},
           "FSCCS/ReasonMap-Plus": {"data/train.parquet": [plus_row(r) for r in of(cities[0], plus)],
                                    "data/test.parquet": [plus_row(r) for r in of(cities[2], plus)]},
           "FSCCS/ReasonMap": {"data/reasonmap-1008-train.parquet": [route_row(r) for r in of(cities[0], ("planning",))],
                               "data/reasonmap-1008-validation.parquet": [route_row(r) for r in
                                                                          of(cities[2], ("planning",))]}}
    local_hub(hub, tmp_path, monkeypatch)
    local_github(maps, stations, tmp_path, monkeypatch)


def test_every_command_of_the_guide_runs(tmp_path, monkeypatch):
    if shutil.which("git") is None:
        pytest.skip("git is not installed")
    from rewardmap.cli import app

    published(tmp_path, monkeypatch)
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    extras = metadata("rewardmap").get_all("Provides-Extra")
    commands = guide_commands()
    assert len(commands) >= 15, commands
    trained = []
    for command in commands:
        if command.startswith(SETUP):
            for named in re.findall(r"\.\[([^\]]*)\]", command):
                assert set(named.split(",")) <= set(extras), command
            continue
        argv = shlex.split(command)
        if argv[:2] == ["accelerate", "launch"]:
            config, rest = argv[argv.index("--config_file") + 1], argv[argv.index("-m") + 2:]
            assert (ROOT / config).is_file(), command
            assert rest[0] == "train" and (ROOT / rest[1]).is_file(), command
            trained.append(Path(rest[1]).stem)
            run = subprocess.run([sys.executable, "-m", "rewardmap", "train", str(ROOT / rest[1]), *rest[2:], *TINY],
                                 cwd=work, env=ENV, capture_output=True, text=True, timeout=600)
            assert run.returncode == 0, f"{command}\n{run.stderr[-3000:]}"
        elif argv[0] == "rewardmap" and argv[1] == "data":
            result = CliRunner().invoke(app, argv[1:])  # in this process: the network is replaced here
            assert result.exit_code == 0, f"{command}\n{result.output[-3000:]}"
            assert "warning" not in result.output.lower(), f"{command}\n{result.output[-3000:]}"
        elif argv[0] == "rewardmap":
            if "--backend" in argv:  # no vLLM on this CPU: the same evaluation with transformers
                argv[argv.index("--backend") + 1] = "transformers"
            run = subprocess.run([sys.executable, "-m", *argv, *(["--max-new-tokens", "8", "--limit", "2"]
                                                                  if argv[1] == "eval" else [])],
                                 cwd=work, env=ENV, capture_output=True, text=True, timeout=600)
            assert run.returncode == 0, f"{command}\n{run.stderr[-3000:]}"
        else:
            pytest.fail(f"docs/reproduce.md: a command this test does not know how to run: {command}")

    # every Table 1 row ran and answered both benchmarks, and the table was written
    rows = {p.stem for p in (ROOT / "recipes" / "qwen2.5-vl-7b").glob("*.yaml")} - {
        "base", "rewardmap-released-script", "rewardmap-vllm-server"}
    assert set(trained) == rows
    for row in rows:
        for benchmark in ("reasonmap-test/reasonmap", "reasonmap-plus-test/reasonmap-plus"):
            metrics = work / "runs" / f"qwen2.5-vl-7b-{row}" / "benchmarks" / benchmark / "metrics.json"
            assert json.loads(metrics.read_text())["count"] == 2, metrics
    assert (work / "table1.md").is_file() and (work / "models" / "qwen2.5-vl-7b-rewardmap" / "config.json").is_file()
