"""The light core: `pip install rewardmap` without extras draws maps, checks, scores, evaluates an
API model and compares, and a command that needs an extra names it in one line.

`make check-core` runs this file in a fresh environment holding the core alone (no torch,
transformers, TRL, peft, accelerate: REWARDMAP_CORE_ONLY=1 says so); the main suite runs it
with everything installed, the commands' missing extras simulated."""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from commands import ENV, ROOT
from test_eval_api import FakeAPI

CORE_ONLY = os.environ.get("REWARDMAP_CORE_ONLY") == "1"


def run(*args, cwd: Path, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "rewardmap", *map(str, args)], cwd=cwd, env=env or ENV,
                          capture_output=True, text=True, timeout=300)


def ok(*args, cwd: Path) -> str:
    result = run(*args, cwd=cwd)
    assert result.returncode == 0, f"rewardmap {' '.join(map(str, args))}:\n{result.stderr[-3000:]}"
    return result.stdout


@pytest.mark.skipif(not CORE_ONLY, reason="the core environment of `make check-core`")
def test_the_core_environment_has_no_training_stack():
    for module in ("torch", "transformers", "trl", "peft", "accelerate", "tensorboard"):
        assert importlib.util.find_spec(module) is None, f"{module} is installed with the core alone"


def test_the_core_commands_run_end_to_end(tmp_path):
    ok("data", "synth", "--cities", 2, "--seed", 0, "--size", 256, "--per-city", 10, "--workers", 1,
       "--out", "data", cwd=tmp_path)
    ok("data", "check", "data", cwd=tmp_path)  # its verdicts are tested elsewhere
    records = [json.loads(line) for line in (tmp_path / "data" / "questions.jsonl").read_text().splitlines()]
    with open(tmp_path / "responses.jsonl", "w") as f:  # the count boxed: right for Counting3 (a number of lines)
        for r in records:
            f.write(json.dumps({**r, "response": f"\\boxed{{{r['answer']}}}"}) + "\n")
    ok("score", "responses.jsonl", "--stations-root", "data", "-o", "scores.jsonl", cwd=tmp_path)
    scores = [json.loads(line) for line in (tmp_path / "scores.jsonl").read_text().splitlines()]
    counting = [s["correct"] for s, r in zip(scores, records) if r["type"] == "Counting3"]
    assert len(scores) == len(records) and counting and all(counting)

    server = FakeAPI()  # answers every question with the question itself: wrong, but well formed
    try:
        for name in ("model-a", "model-b"):
            ok("eval", "--data", "data", "--benchmark", "reasonmap-plus", "--api", server.url, "--api-model", name,
               "--out", name, "--concurrency", 2, cwd=tmp_path)
    finally:
        server.close()
    summary = json.loads((tmp_path / "model-a" / "metrics.json").read_text())
    plus = sum(r["type"] != "planning" for r in records)
    assert summary["count"] == plus and summary["run"]["ok"] == plus
    table = ok("compare", "model-a", "model-b", cwd=tmp_path)
    assert "model-a" in table and "model-b" in table
    metrics = json.loads(ok("metrics", "model-a/responses.jsonl", "--benchmark", "reasonmap-plus",
                            "--stations-root", "data", cwd=tmp_path))
    assert metrics["count"] == plus and metrics["overall"] == summary["overall"]
    for fmt in ("hf", "verl", "sft", "vlmevalkit"):
        ok("data", "export", "data", "--format", fmt, "--out", f"export-{fmt}", cwd=tmp_path)
        out = tmp_path / f"export-{fmt}"
        assert out.stat().st_size > 0 if out.is_file() else any(out.iterdir())


# A command that needs the [train] or [vllm] extra, and the line it says without it
NEEDS = [(("train",), "rewardmap train needs rewardmap's [train] extra"),
         (("merge", "run", "--out", "merged"), "rewardmap merge needs rewardmap's [train] extra"),
         (("eval", "--data", "data", "--benchmark", "reasonmap-plus", "--out", "e", "--model", "m"),
          "rewardmap eval --backend transformers needs rewardmap's [train] extra"),
         (("eval", "--data", "data", "--benchmark", "reasonmap-plus", "--out", "e", "--model", "m",
           "--backend", "vllm"), "rewardmap eval --backend vllm needs rewardmap's [vllm] extra")]


@pytest.mark.parametrize("args, said", NEEDS, ids=lambda v: " ".join(v[:1]) if isinstance(v, tuple) else None)
def test_a_command_without_its_extra_names_it_in_one_line(args, said, tmp_path):
    (tmp_path / "m").mkdir()
    env = ENV
    if not CORE_ONLY:  # hide the training stack as a core install lacks it
        hide = tmp_path / "hide"
        hide.mkdir()
        (hide / "sitecustomize.py").write_text(
            "import importlib.util, sys\n"
            "_real = importlib.util.find_spec\n"
            "HIDDEN = {'torch', 'transformers', 'trl', 'peft', 'accelerate', 'tensorboard', 'vllm'}\n"
            "importlib.util.find_spec = lambda name, *a: None if name.split('.')[0] in HIDDEN else _real(name, *a)\n")
        env = {**ENV, "PYTHONPATH": os.pathsep.join([str(hide), str(ROOT / "src")])}
    result = run(*args, cwd=tmp_path, env=env)
    lines = result.stderr.strip().splitlines()
    assert result.returncode == 2 and len(lines) == 1 and lines[0].startswith(f"error: {said} ("), result.stderr
    extra = said.split("[")[1].split("]")[0]
    assert lines[0].endswith(f"pip install 'rewardmap[{extra}]'")
    assert not (tmp_path / "merged").exists() and not (tmp_path / "e").exists()


def test_an_optional_module_imported_deep_inside_a_command_is_named_by_its_extra():
    from rewardmap.extras import missing_extra

    said = missing_extra(ModuleNotFoundError("No module named 'trl.trainer'", name="trl.trainer"), "rewardmap train")
    assert str(said) == ("rewardmap train needs rewardmap's [train] extra (trl is not installed): "
                         "pip install 'rewardmap[train]'")
    assert missing_extra(ModuleNotFoundError("No module named 'yaml'", name="yaml"), "x") is None  # core: a broken install
    assert missing_extra(ValueError("trl"), "x") is None


def test_the_extras_named_in_code_are_those_pyproject_declares():
    import tomllib

    from rewardmap.extras import EXTRAS

    declared = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["optional-dependencies"]
    assert set(EXTRAS) <= set(declared)
    distributions = {"torch": "torch", "transformers": "transformers", "trl": "trl", "peft": "peft",
                     "accelerate": "accelerate", "tensorboard": "tensorboard", "vllm": "vllm",
                     "deepspeed": "deepspeed", "liger_kernel": "liger-kernel", "mkdocs": "mkdocs",
                     "material": "mkdocs-material"}

    def requirements(extra: str) -> set[str]:  # distribution names, nested extras followed
        names = set()
        for req in declared[extra]:
            name = req.split("[")[0].split(">")[0].split("<")[0].split("=")[0].strip()
            names |= requirements(req.split("[")[1].split("]")[0]) if name == "rewardmap" else {name}
        return names

    for extra, modules in EXTRAS.items():
        assert {distributions[m] for m in modules} <= requirements(extra), extra
    core = {d.split(">")[0].split("<")[0].strip() for d in tomllib.loads((ROOT / "pyproject.toml").read_text())
            ["project"]["dependencies"]}
    assert not core & set(distributions.values())  # the core stays light
