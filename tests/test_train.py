"""`rewardmap train` end to end on the tiny model: run folder, curriculum order, resume after
SIGKILL, merge, errors, and a 2-process accelerate launch. Small settings keep each run to
seconds; the full default recipe is what `make demo` runs."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch
from commands import ENV, ROOT, real_questions, rewardmap, sets, wrong_modes
from safetensors.torch import load_file

from rewardmap.curriculum import PRESETS
from rewardmap.metrics.summary import evaluate_predictions
from rewardmap.fileio import umask
from rewardmap.train.merge import merge_model
from rewardmap.train.policy import load_pretrained

# three small cities (one held out), a few SFT steps, a short GRPO run over every stage that logs
# every step, short answers
SMALL = ["model.name_or_path=tiny", "sft.enabled=true", "model.tiny.hidden_size=64", "model.tiny.num_hidden_layers=2",
         "data.synthetic.cities=3", "data.synthetic.per_city=20", "data.heldout_cities=1",
         "sft.max_steps=3", "sft.logging_steps=1", "grpo.logging_steps=1", "eval.max_questions=8",
         "sft.per_type={Counting3: 8, planning: 8, TorF1: 4, TorF2: 4, Counting1: 4, Counting2: 4}",
         "grpo.per_type={Counting3: 2, planning: 8, TorF1: 3, TorF2: 3, Counting1: 3, Counting2: 3}",
         "grpo.max_completion_length=24", "eval.max_new_tokens=24"]


@pytest.fixture(scope="module")
def run(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("train") / "run"
    rewardmap("train", "--out", str(out), *sets(*SMALL, "grpo.entropy_coef=0.01"))
    return out


def test_run_folder_holds_every_artifact(run):
    for name in ("recipe.yaml", "curriculum.json", "metrics.jsonl", "eval_before.json", "eval_after.json",
                 "eval_after_sft.json", "eval_baseline.json", "policy_change.json", "eval_train_before_grpo.json",
                 "eval_train_after.json",
                 "report.md", "init/config.json", "sft/final/config.json", "final/model.safetensors",
                 "final/chat_template.jinja", "final/generation_config.json", "plots/reward.png",
                 "plots/before_after.png", "plots/by_type.png"):
        assert (run / name).is_file(), name
    assert list((run / "tensorboard" / "grpo").rglob("events.out.tfevents.*"))
    assert wrong_modes(run, umask()) == {}  # weights, reports and recipe as readable as a plain write makes them
    report = (run / "report.md").read_text()
    assert "| **overall** |" in report and "plots/reward.png" in report and "TorF1+TorF2" in report
    assert "| type | n | trivial baseline | before training | after SFT | after GRPO |" in report
    assert "map score, short (of 20)" in report and "How much GRPO changed the policy" in report
    assert "## What GRPO changed" in report and "| type | held out, greedy | held out, sampled |" in report
    after = json.loads((run / "eval_after.json").read_text())
    assert after["overall"]["count"] == 8 and set(after["by_type"]) <= set(PRESETS["shuffled"][0])
    # every held-out evaluation (and the baseline) asks the same questions and scores them with both benchmarks
    ids = [a["id"] for a in after["answers"]]
    for name in ("eval_before.json", "eval_after_sft.json", "eval_baseline.json"):
        other = json.loads((run / name).read_text())
        assert [a["id"] for a in other["answers"]] == ids
        assert other["reasonmap"]["count"] + other["reasonmap-plus"]["count"] == 8
    routes = [a for a in after["answers"] if a["type"] == "planning"]
    assert routes and all("answer_long" in a for a in routes)
    # every answer is kept with its scores; Plus answers with their samples, drawn at the rollouts' temperature
    k = 8  # the tiny recipe's eval.samples
    plus = [a for a in after["answers"] if a["type"] != "planning"]
    assert plus and all(len(a["samples"]) == k and a["scores"]["samples"] == k for a in plus)
    assert after["sampling"]["temperature"] == 1.0 and after["plus"]["k"] == k
    before_sft = json.loads((run / "eval_before.json").read_text())  # the model SFT is about to train: greedy only
    assert not any("samples" in a for a in before_sft["answers"])
    probe = json.loads((run / "eval_train_after.json").read_text())
    trained = {i.split("#")[0] for i in json.loads((run / "curriculum.json").read_text())["ids"]}
    assert probe["answers"] and {a["id"] for a in probe["answers"]} <= trained  # GRPO's own questions
    change = json.loads((run / "policy_change.json").read_text())
    assert change["weights"]["from"] == "sft/final" and change["weights"]["relative_l2"] > 0
    assert change["answers"]["from"] == "after sft" and change["answers"]["overall"]["count"] == 8
    # the saved recipe reloads to the same settings
    from rewardmap.train.recipe import load_recipe

    assert load_recipe(run / "recipe.yaml").resolved().to_dict() == load_recipe(
        "tiny", [*SMALL, "grpo.entropy_coef=0.01", f"output.dir={run}"]).resolved().to_dict()


def test_grpo_follows_the_curriculum(run):
    plan = json.loads((run / "curriculum.json").read_text())
    lines = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]
    grpo = [r for r in lines if r["phase"] == "grpo" and "by_type" in r]
    assert grpo and [r["step"] for r in grpo] == list(range(1, len(grpo) + 1))
    stages = {s["name"]: s for s in plan["stages"]}
    assert all(s["count"] for s in plan["stages"])  # every stage of the rewardmap curriculum trains, routes last
    routes = [r["by_type"]["planning"] for r in grpo if "planning" in r["by_type"]]
    assert routes and all({"detail", "parsed", "reward"} <= set(r) for r in routes)
    mixed = set(plan.get("mixed_steps", []))
    for row in grpo:
        stage = stages[row["stage"]]
        assert stage["first_step"] <= row["step"] <= stage["last_step"]
        if row["step"] not in mixed:  # a step trains on its stage's question types only
            assert set(row["by_type"]) <= set(stage["types"]), row
    # stage order as the rewardmap preset has it
    seen = list(dict.fromkeys(r["stage"] for r in grpo))
    names = [s["name"] for s in plan["stages"] if s["count"]]
    assert seen == names[:len(seen)] and len(seen) >= 2
    sft = [r for r in lines if r["phase"] == "sft" and "loss" in r]
    assert [r["step"] for r in sft] == [1, 2, 3]


def test_every_logged_step_says_where_its_time_went(run):
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    from rewardmap.train.timing import PHASES

    lines = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]
    for phase in ("sft", "grpo"):
        rows = [r for r in lines if r["phase"] == phase and "loss" in r]
        assert rows and all(f"time/{p}" in r for r in rows for p in PHASES), phase
        for r in rows:
            assert sum(r[f"time/{p}"] for p in PHASES) == pytest.approx(r["time/step"])
            assert r["time/forward_backward"] > 0 and r["tokens/trained_per_s"] > 0
    grpo = [r for r in lines if r["phase"] == "grpo" and "time/step" in r]
    assert sum(r["time/generation"] for r in grpo) > 0 and sum(r["time/reward"] for r in grpo) > 0
    events = EventAccumulator(str(next((run / "tensorboard" / "grpo").rglob("events.out.tfevents.*")))).Reload()
    assert {"train/time/generation", "train/time/step"} <= set(events.Tags()["scalars"])
    report = (run / "report.md").read_text()
    assert "## Where a step's time goes" in report and "| grpo |" in report and "| sft |" in report
    assert (run / "plots" / "grpo_time.png").is_file() and (run / "plots" / "sft_time.png").is_file()


def test_merge_writes_a_model_that_reloads_with_the_same_logits(run, tmp_path):
    diff = merge_model(run, tmp_path / "merged")
    assert diff <= 1e-5
    merged = tmp_path / "merged"
    for name in ("config.json", "model.safetensors", "generation_config.json", "chat_template.jinja",
                 "processor_config.json"):
        assert (merged / name).is_file(), name
    a, b = load_file(run / "final" / "model.safetensors"), load_file(merged / "model.safetensors")
    assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)
    model, processor = load_pretrained(merged)
    assert model.generation_config.eos_token_id == processor.tokenizer.convert_tokens_to_ids("<|im_end|>")
    with pytest.raises(Exception, match="not empty"):
        merge_model(run, merged)


def test_train_merge_eval_end_to_end(run, tmp_path):
    """The merged model, evaluated by `rewardmap eval`, answers the held-out questions exactly
    as the trained model did in training's own evaluation."""
    merged = tmp_path / "merged"
    rewardmap("merge", str(run), "--out", str(merged))
    trained = json.loads((run / "eval_after.json").read_text())
    for benchmark, fields in (("reasonmap-plus", {"response": "answer"}),
                              ("reasonmap", {"response_short": "answer", "response_long": "answer_long"})):
        out = tmp_path / benchmark
        rewardmap("eval", "--data", str(run / "data"), "--benchmark", benchmark, "--model", str(merged),
                  "--out", str(out), "--max-new-tokens", "24", "--variant", "robust")
        metrics = json.loads((out / "metrics.json").read_text())
        assert metrics["predictions"]["failed"] == 0 and (out / "report.html").is_file()
        stored = {json.loads(line)["id"]: json.loads(line)
                  for line in (out / "predictions.jsonl").read_text().splitlines()}
        answers = [a for a in trained["answers"] if (a["type"] == "planning") == (benchmark == "reasonmap")]
        assert answers and all(stored[a["id"]][f"{name}_raw"] == a[key] for a in answers for name, key in fields.items())
        # the training run's own ReasonMap / ReasonMap-Plus figures are what `rewardmap eval` computes
        asked = {a["id"] for a in answers}
        rows = [json.loads(line) for line in (out / "responses.jsonl").read_text().splitlines()]
        kept = out / "asked.jsonl"
        kept.write_text("".join(json.dumps(r) + "\n" for r in rows if r["id"] in asked))
        summary, _ = evaluate_predictions(kept, benchmark, variant="robust")
        assert summary["overall"] == trained[benchmark]["overall"]


def test_the_merged_model_answers_questions_on_real_maps(run, real_data, tmp_path):
    """Train -> merge -> eval on questions built from real station files and maps: every
    question answered (the tiny model knows none of these words), scored, reported."""
    data = real_questions(real_data, tmp_path / "real")
    merged = tmp_path / "merged"
    rewardmap("merge", str(run), "--out", str(merged))
    for benchmark, metric in (("reasonmap", "acc_short"), ("reasonmap-plus", "correct")):
        out = tmp_path / benchmark
        rewardmap("eval", "--data", data, "--benchmark", benchmark, "--model", merged, "--out", out,
                  "--max-new-tokens", 8, "--limit", 4)
        metrics = json.loads((out / "metrics.json").read_text())
        assert metrics["count"] == 4 and metrics["predictions"] == {"ok": 4, "failed": 0}, metrics
        assert metric in metrics["overall"] and (out / "report.html").is_file()


def test_lora_run_merges_into_full_weights(tmp_path):
    out = tmp_path / "lora"
    rewardmap("train", "--out", str(out), *sets(*SMALL, "sft.enabled=false", "eval.enabled=false",
                                                  "model.lora.enabled=true", "model.lora.target_modules=all-linear",
                                                  "grpo.max_steps=2", "grpo.save_steps=1", "grpo.entropy_coef=0.01"))
    checkpoint = out / "grpo" / "checkpoint-2"
    assert (checkpoint / "adapter_config.json").is_file()  # LoRA checkpoints hold the adapter only
    merged = tmp_path / "merged"
    assert merge_model(checkpoint, merged) <= 1e-4
    assert not (merged / "adapter_config.json").exists() and wrong_modes(merged, umask()) == {}
    weights = load_file(merged / "model.safetensors")
    assert not any("lora" in k for k in weights)
    init = load_file(out / "init" / "model.safetensors")
    assert any(not torch.equal(weights[k], init[k]) for k in init if k in weights)  # the adapter was merged in


def _weights(folder: Path) -> dict:
    return load_file(folder / "model.safetensors")


def test_resume_after_sigkill_ends_with_the_same_weights(tmp_path):
    common = sets(*SMALL, "sft.enabled=false", "eval.enabled=false", "grpo.max_steps=6", "grpo.save_steps=1",
                  "grpo.entropy_coef=0.05", "grpo.report_to=none")
    whole = tmp_path / "whole"
    rewardmap("train", "--out", str(whole), *common)

    cut = tmp_path / "cut"
    proc = subprocess.Popen([sys.executable, "-m", "rewardmap", "train", "--out", str(cut), *common], env=ENV,
                            cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.time() + 300
    while not (cut / "grpo" / "checkpoint-2" / "trainer_state.json").is_file():
        assert proc.poll() is None, proc.stderr.read().decode()[-2000:]
        assert time.time() < deadline
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert not (cut / "final").exists()  # killed mid-run
    assert rewardmap("train", "--out", str(cut), *common, check=False).returncode == 2  # not without --resume
    rewardmap("train", "--out", str(cut), "--resume", *common)

    a, b = _weights(whole / "final"), _weights(cut / "final")
    assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)
    assert any(not torch.equal(a[k], _weights(whole / "init")[k]) for k in a)  # training changed the weights
    steps = [json.loads(line)["step"] for line in (cut / "metrics.jsonl").read_text().splitlines()
             if "reward" in json.loads(line)]
    assert steps == [1, 2, 3, 4, 5, 6]  # no step logged twice


def test_errors_are_one_line(tmp_path):
    bad = rewardmap("train", *sets("grpo.lrr=1"), check=False)
    assert bad.returncode == 2 and "grpo.lr" in bad.stderr and "Traceback" not in bad.stderr
    out = tmp_path / "r"
    (out).mkdir()
    (out / "recipe.yaml").write_text((ROOT / "src/rewardmap/train/recipes/tiny.yaml").read_text())
    changed = rewardmap("train", "--out", str(out), "--resume", *sets("grpo.lr=0.1"), check=False)
    assert changed.returncode == 2 and "different settings" in changed.stderr and "grpo.lr" in changed.stderr
    missing = rewardmap("train", "--out", str(tmp_path / "m"), *sets("data.dataset=/nonexistent"), check=False)
    assert missing.returncode == 2 and "questions.jsonl" in missing.stderr
    assert not (tmp_path / "m" / "recipe.yaml").exists()  # a failed start is not a run to resume


def test_two_process_accelerate_launch(tmp_path):
    out = tmp_path / "ddp"
    result = subprocess.run(
        [sys.executable, "-m", "accelerate.commands.launch", "--config_file",
         str(ROOT / "recipes/accelerate/multi_cpu.yaml"), "-m", "rewardmap", "train", "--out", str(out),
         *sets(*SMALL, "sft.max_steps=2", "grpo.max_steps=2", "grpo.per_device_batch_size=16",
               "sft.per_device_batch_size=4")],
        env=ENV, cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    lines = [json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines()]
    grpo = [r for r in lines if r["phase"] == "grpo" and "reward" in r]
    assert [r["step"] for r in grpo] == [1, 2]  # logged once, by the main process
    assert (out / "final" / "model.safetensors").is_file() and (out / "report.md").is_file()
    assert "2 processes" in result.stderr


def test_the_grpo_reward_pays_every_reference_answer_routes_included(run):
    """The reward GRPO trains with reads each route question's station file from the dataset
    folder: a reward that could not read it would score every route rollout 0 (it once did,
    silently, when station files outside the working directory became refused)."""
    from rewardmap.datasets.records import load_records
    from rewardmap.train.data import grpo_rows, target_text
    from rewardmap.train.recipe import load_recipe
    from rewardmap.train.run import training_reward

    recipe = load_recipe(run / "recipe.yaml")
    records = load_records(run / "data")
    rows = grpo_rows(records)
    reward = training_reward(recipe, run)
    columns = {k: [r[k] for r in rows] for k in rows[0] if k not in ("prompt", "image")}
    reward([[{"role": "assistant", "content": target_text(r)}] for r in records], **columns)
    assert all(reward.last_breakdown["correct"]) and any(r["type"] == "planning" for r in records)
    lines = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]
    routes = [r["by_type"]["planning"] for r in lines if "planning" in r.get("by_type", {})]
    assert routes and all("detail_paid" in r for r in routes)
