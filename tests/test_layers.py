"""The package layers: `train` and `eval` both build on `model`, `metrics`, `rewards` and
`datasets`, and neither imports the other (nor does anything below them import either);
`rewards` and `metrics` both read answers with `answers`, which imports neither."""

import ast
from pathlib import Path

import rewardmap

SRC = Path(rewardmap.__file__).parent
LOWER = ("model", "metrics", "rewards", "answers", "datasets", "network", "questions", "curriculum", "synth")


def imported(path: Path) -> set[str]:
    """The rewardmap packages a module imports (absolute or relative), as `rewardmap.X...`."""
    package = ["rewardmap", *path.parent.relative_to(SRC).parts]
    out = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            out |= {a.name for a in node.names if a.name.startswith("rewardmap")}
        elif isinstance(node, ast.ImportFrom):
            base = package[:len(package) - node.level + 1] if node.level else []
            module = ".".join(base + ([node.module] if node.module else []))
            names = [module] if node.module else [f"{module}.{a.name}" for a in node.names]
            out |= {n for n in names if n.startswith("rewardmap")}
    return out


def importers_of(target: str, packages) -> list[str]:
    return [f"{path.relative_to(SRC)} imports {name}" for package in packages for path in (SRC / package).rglob("*.py")
            for name in imported(path) if name == f"rewardmap.{target}" or name.startswith(f"rewardmap.{target}.")]


def test_imported_reads_relative_imports():
    path = SRC / "train" / "policy.py"
    assert "rewardmap.model.loading" in imported(path) and "rewardmap.train.recipe" in imported(path)


def test_train_and_eval_do_not_import_each_other():
    assert importers_of("eval", ["train"]) == []
    assert importers_of("train", ["eval"]) == []


def test_lower_layers_import_neither_train_nor_eval():
    assert importers_of("train", LOWER) == [] and importers_of("eval", LOWER) == []


def test_answers_sit_below_rewards_and_metrics():
    assert importers_of("rewards", ["answers"]) == [] and importers_of("metrics", ["answers"]) == []
    assert importers_of("answers", ["rewards"]) and importers_of("answers", ["metrics"])  # both read it
