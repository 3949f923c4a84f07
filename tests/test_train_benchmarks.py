"""`eval.datasets`: a training run (and an evaluation-only one) answers each benchmark folder as
`rewardmap eval --model RUN/final` does, into RUN/benchmarks/<folder>/<benchmark>/; the folders are
checked before anything runs; report.md and `rewardmap compare` read the results. On questions
built from the real ReasonMap station files and maps, with the tiny model and a few questions."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from commands import ROOT, real_questions, rewardmap, sets

from rewardmap.errors import InputError
from rewardmap.eval.compare import compare_runs
from rewardmap.eval.suite import BenchmarkSuite
from rewardmap.metrics.published import PUBLISHED_PLUS, PUBLISHED_REASONMAP
from rewardmap.questions.kinds import PLUS_TYPES

# the shipped tiny-base model, no held-out cities, 2 questions per benchmark, short answers
COMMON = ["data.heldout_cities=0", "eval.max_questions=2", "eval.max_new_tokens=8", "eval.batch_size=4",
          "grpo.report_to=none"]
FILES = ("predictions.jsonl", "responses.jsonl", "metrics.json", "run.json", "report.html", "report.md")


@pytest.fixture(scope="module")
def folders(real_data, tmp_path_factory) -> dict[str, Path]:
    """A ReasonMap-shaped folder (route questions) and a ReasonMap-Plus-shaped one, on one real city."""
    root = tmp_path_factory.mktemp("benchmarks")
    return {"reasonmap": real_questions(real_data, root / "routes", cities=1, types="planning"),
            "reasonmap-plus": real_questions(real_data, root / "plus", cities=1, types=",".join(PLUS_TYPES))}


def datasets(folders: dict[str, Path]) -> str:
    return f"eval.datasets=[{folders['reasonmap']}, {folders['reasonmap-plus']}]"


@pytest.fixture(scope="module")
def trained(folders, tmp_path_factory) -> Path:
    """One GRPO step on the Plus folder's questions, then the benchmarks."""
    out = tmp_path_factory.mktemp("trained") / "run"
    rewardmap("train", "--out", out, *sets(*COMMON, f"data.dataset={folders['reasonmap-plus']}", "grpo.per_type={}",
                                           "grpo.max_steps=1", "grpo.max_completion_length=16",
                                           "grpo.lr_scheduler=constant", datasets(folders)))
    return out


@pytest.fixture(scope="module")
def zero_shot(folders, tmp_path_factory) -> Path:
    """No SFT, no GRPO: the model as shipped, evaluated only (the zero-shot rows)."""
    out = tmp_path_factory.mktemp("zero-shot") / "run"
    rewardmap("train", "--out", out, *sets(*COMMON, f"data.dataset={folders['reasonmap-plus']}", "grpo.enabled=false",
                                           datasets(folders)))
    return out


def _benchmark(run: Path, folders: dict[str, Path], benchmark: str) -> Path:
    return run / "benchmarks" / folders[benchmark].name / benchmark


def _predictions(folder: Path) -> list[dict]:
    """The stored answers, without their timings."""
    return [{k: v for k, v in json.loads(line).items() if k != "seconds"}
            for line in (folder / "predictions.jsonl").read_text().splitlines()]


def test_a_training_run_answers_its_benchmarks_as_rewardmap_eval_does(trained, folders, tmp_path):
    assert (trained / "grpo" / "final" / "config.json").is_file()  # it trained
    def command(benchmark):  # the tiny recipe evaluates with the robust parser
        return ["eval", "--model", trained / "final", "--data", folders[benchmark], "--benchmark", benchmark,
                "--variant", "robust", "--max-new-tokens", 8, "--batch-size", 4, "--limit", 2]

    for benchmark in folders:
        written = _benchmark(trained, folders, benchmark)
        assert all((written / name).is_file() for name in FILES), sorted(p.name for p in written.iterdir())
        run = json.loads((written / "metrics.json").read_text())
        assert run["benchmark"] == benchmark and run["count"] == 2 and run["predictions"] == {"ok": 2, "failed": 0}
        # the same command on RUN/final, into a folder of its own: the same answers and figures
        rewardmap(*command(benchmark), "--out", tmp_path / benchmark)
        alone = json.loads((tmp_path / benchmark / "metrics.json").read_text())
        assert {k: v for k, v in alone.items() if k != "run"} == {k: v for k, v in run.items() if k != "run"}
        assert _predictions(tmp_path / benchmark) == _predictions(written)
    # into the run's own folder: its run.json is that command's, so the command resumes it
    resumed = rewardmap(*command("reasonmap-plus"), "--out", _benchmark(trained, folders, "reasonmap-plus"))
    assert "0 generated now, 2 already done" in resumed.stdout


def test_report_shows_each_benchmark_beside_the_published_figures(trained, folders):
    report = (trained / "report.md").read_text()
    assert "## Benchmarks" in report
    for benchmark, published in (("reasonmap", PUBLISHED_REASONMAP), ("reasonmap-plus", PUBLISHED_PLUS)):
        section = report.split(f"### {folders[benchmark].name}: {benchmark}\n", 1)[1].split("###", 1)[0]
        ours = json.loads((_benchmark(trained, folders, benchmark) / "metrics.json").read_text())["published"]
        first = "acc_short" if benchmark == "reasonmap" else "overall"
        assert f"| **this run** | {ours[first]:.2f} |" in section
        name, value, *_ = published[0]
        assert f"| {name} | {value:.2f} |" in section
        assert f"](benchmarks/{folders[benchmark].name}/{benchmark}/report.md)" in section


def test_an_evaluation_only_run_answers_the_benchmarks(zero_shot, folders):
    assert not (zero_shot / "grpo").exists() and not (zero_shot / "sft").exists()
    for benchmark in folders:
        metrics = json.loads((_benchmark(zero_shot, folders, benchmark) / "metrics.json").read_text())
        assert metrics["count"] == 2 and metrics["predictions"]["ok"] == 2
    assert "## Benchmarks" in (zero_shot / "report.md").read_text()


def test_compare_lines_training_runs_up_on_their_benchmarks(trained, zero_shot):
    assert not (trained / "eval_after.json").exists()  # no held-out cities: the benchmarks are all there is
    comparison = compare_runs([zero_shot, trained])
    base, row = comparison.rows
    assert [r.runs[0].kind for r in comparison.rows] == ["training", "training"]
    assert {"plus_overall", "acc_short", "map_score_long"} <= row.values.keys()
    assert row.runs[0].questions.keys() == {"reasonmap", "reasonmap-plus"}
    plus = next(c for c in comparison.columns if c.key == "plus_overall")
    assert base.intervals["plus_overall"] and comparison.difference_interval(row, plus, "weighted") is not None
    assert rewardmap("compare", zero_shot, trained).stdout == comparison.markdown()


def test_resume_asks_only_the_questions_not_answered(folders, tmp_path):
    """A run killed during its benchmarks goes on where the answers stopped."""
    plus = folders["reasonmap-plus"]
    args = ["train", "--out", tmp_path / "run", *sets(*COMMON, f"data.dataset={plus}", "grpo.enabled=false",
                                                      f"eval.datasets=[{plus}]")]
    rewardmap(*args)
    written = _benchmark(tmp_path / "run", folders, "reasonmap-plus")
    first, _ = (written / "predictions.jsonl").read_text().splitlines()
    kept = {**json.loads(first), "response_raw": "kept", "response": "kept"}  # an answer asked again would change
    (written / "predictions.jsonl").write_text(json.dumps(kept) + "\n")
    (written / "metrics.json").unlink()
    rewardmap(*args, "--resume")
    metrics = json.loads((written / "metrics.json").read_text())
    assert metrics["run"]["skipped"] == 1 and metrics["run"]["ok"] == 1  # one asked, one kept
    stored = _predictions(written)
    assert len(stored) == 2 and stored[0] == {k: v for k, v in kept.items() if k != "seconds"}


def test_a_missing_benchmark_folder_stops_the_run_before_it_starts(folders, tmp_path):
    out = tmp_path / "run"
    result = rewardmap("train", "--out", out, *sets(*COMMON, f"data.dataset={folders['reasonmap-plus']}",
                                                    f"eval.datasets=[{folders['reasonmap']}, {tmp_path / 'typo'}]"),
                       check=False)
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert result.stderr.strip().splitlines() == [
        f"error: tiny (built-in): field 'eval.datasets': {tmp_path / 'typo'}: no such folder (relative to the working "
        f"directory, {ROOT})"]
    assert not out.exists()  # nothing drawn, loaded or written


def test_the_check_loads_each_folder_as_rewardmap_eval_does(folders, real_data, tmp_path):
    """Which benchmarks a folder holds, and the one line naming what makes a folder unusable."""
    both = real_questions(real_data, tmp_path / "both", cities=1)
    suite = BenchmarkSuite([str(folders["reasonmap"]), str(both)], limit=2)
    assert suite.check() == [(folders["reasonmap"], "reasonmap"), (both, "reasonmap"), (both, "reasonmap-plus")]
    assert suite.out_folder(Path("RUN"), both, "reasonmap") == Path("RUN/both/reasonmap")

    empty = tmp_path / "empty"
    empty.mkdir()
    (empty / "questions.jsonl").write_text("")
    broken = tmp_path / "broken"
    shutil.copytree(folders["reasonmap-plus"], broken)
    image = next((broken / "maps").rglob("*.png"))
    image.write_bytes(image.read_bytes()[:1000])
    twin = tmp_path / "twin" / "both"
    shutil.copytree(both, twin)
    for chosen, message in (([empty], f"{empty / 'questions.jsonl'}: no records"),
                            ([broken], f"{image}: not a usable map image"),
                            ([both, twin], f"two folders named 'both' ({both}, {twin})")):
        with pytest.raises(InputError) as caught:
            BenchmarkSuite([str(f) for f in chosen]).check()
        assert str(caught.value).startswith(message) and "\n" not in str(caught.value)
