"""`rewardmap eval`: local (tiny model) and API backends end to end, resume, failures,
errors, and the vLLM request builders."""

from __future__ import annotations

import json
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from canned import CannedAPI, right_answers
from commands import ENV, ROOT, real_questions, rewardmap

from rewardmap.errors import InputError
from rewardmap.eval.backends.local import LocalBackend
from rewardmap.model.generate import prompt_text
from rewardmap.eval.run import load_benchmark, run_eval
from rewardmap.eval.backends.vllm import (
    build_request,
    build_requests,
    engine_kwargs,
    sampling_kwargs,
)


def records_of(data: Path) -> list[dict]:
    return [json.loads(line) for line in (data / "questions.jsonl").read_text().splitlines()]


# --- local backend -------------------------------------------------------------------

@pytest.mark.parametrize("benchmark,types", [("reasonmap", {"planning"}),
                                             ("reasonmap-plus", {"Counting1", "Counting2", "Counting3",
                                                                 "TorF1", "TorF2"})])
def test_local_backend_end_to_end(data, model, tmp_path, benchmark, types):
    out = tmp_path / "run"
    result = rewardmap("eval", "--data", data, "--benchmark", benchmark, "--model", model, "--out", out,
                       "--max-new-tokens", 8, "--batch-size", 4)
    expected = [r for r in records_of(data) if r["type"] in types]
    assert expected
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["benchmark"] == benchmark and metrics["count"] == len(expected)
    assert metrics["predictions"] == {"ok": len(expected), "failed": 0}
    page = (out / "report.html").read_text()
    assert benchmark in page and "data:image/png;base64," in page and (out / "report.md").is_file()
    assert sum(g["count"] for g in metrics["by_city"].values()) == len(expected)
    assert sum(g["count"] for g in metrics["by_map_difficulty"].values()) == len(expected)
    names = ("response",) if benchmark == "reasonmap-plus" else ("response_short", "response_long")
    metric = "correct" if benchmark == "reasonmap-plus" else "acc_short"
    assert {"mean", "weighted"} <= set(metrics["overall"][metric])
    if benchmark == "reasonmap-plus":
        assert set(metrics["by_type"]) == {r["type"] for r in expected}
    else:
        assert sum(g["count"] for g in metrics["by_question_difficulty"].values()) == len(expected)
    predictions = [json.loads(line) for line in (out / "predictions.jsonl").read_text().splitlines()]
    assert [p["id"] for p in predictions] == [r["id"] for r in expected]
    for p in predictions:
        assert p["status"] == "ok" and all(isinstance(p[n], str) and isinstance(p[f"{n}_raw"], str) for n in names)
    responses = [json.loads(line) for line in (out / "responses.jsonl").read_text().splitlines()]
    assert [r["id"] for r in responses] == [r["id"] for r in expected]
    assert f"{len(expected)} generated now" in result.stdout


def test_resume_makes_no_new_generations(data, model, tmp_path):
    from rewardmap.model.tiny import load_tiny

    backend = LocalBackend(*load_tiny(model), batch_size=3, max_new_tokens=4)
    out = tmp_path / "run"
    first = run_eval(data, "reasonmap-plus", out, backend, limit=7)
    assert backend.calls == 3 and first.run.ok == 7 and first.summary["count"] == 7
    second = run_eval(data, "reasonmap-plus", out, backend, limit=7)
    assert backend.calls == 3 and second.run.skipped == 7 and second.run.ok == 0
    assert second.summary["overall"] == first.summary["overall"]
    # a route question needs two prompts: a batch of 3 prompts holds one record
    backend.calls = 0
    run_eval(data, "reasonmap", tmp_path / "routes", backend, limit=3)
    assert backend.calls == 3
    # one record dropped from the store: only it is asked again; what a killed run's writes left goes
    lines = (out / "predictions.jsonl").read_text().splitlines()
    left = [out / ".metrics.json.k1ll3d00.tmp", out / "eval_plots" / ".accuracy.png.k1ll3d00.tmp"]
    for path in left:
        path.parent.mkdir(exist_ok=True)
        path.write_text("half")
    (out / "predictions.jsonl").write_text("\n".join(lines[:-1]) + "\n")
    backend.calls = 0
    third = run_eval(data, "reasonmap-plus", out, backend, limit=7)
    assert backend.calls == 1 and third.run.ok == 1 and third.run.skipped == 6
    assert not any(path.exists() for path in left)


def test_generation_failures_are_recorded_scored_wrong_and_retried(data, model, tmp_path):
    from rewardmap.model.tiny import load_tiny

    class Flaky(LocalBackend):
        fail = True

        def generate(self, items):
            if self.fail:
                self.calls += 1
                raise RuntimeError("CUDA out of memory")
            return super().generate(items)

    backend = Flaky(*load_tiny(model), batch_size=2, max_new_tokens=2)
    out = tmp_path / "run"
    result = run_eval(data, "reasonmap-plus", out, backend, limit=4)
    assert result.predictions == {"ok": 0, "failed": 4} and result.summary["count"] == 4
    assert result.summary["overall"]["correct"]["mean"] == 0
    stored = [json.loads(line) for line in (out / "predictions.jsonl").read_text().splitlines()]
    assert all(p["status"] == "failed" and "out of memory" in p["error"] for p in stored)
    backend.fail = False
    again = run_eval(data, "reasonmap-plus", out, backend, limit=4)
    assert again.predictions == {"ok": 4, "failed": 0} and again.run.ok == 4


# --- API backend ---------------------------------------------------------------------

@pytest.fixture
def canned(data):
    server = CannedAPI(right_answers(data))
    yield server
    server.close()


def test_api_backend_with_correct_canned_answers_scores_full_marks(data, canned, tmp_path):
    plus = [r for r in records_of(data) if r["type"] != "planning"]
    out = tmp_path / "plus"
    rewardmap("eval", "--data", data, "--benchmark", "reasonmap-plus", "--api", canned.url, "--api-model", "canned",
              "--out", out, "--concurrency", 3)
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["count"] == len(plus) and metrics["overall"]["correct"] == {"mean": 1.0, "weighted": 1.0}
    assert metrics["published"]["overall"] == 100.0
    assert len(canned.requests) == len(plus)
    body = canned.requests[0]
    assert body["model"] == "canned" and body["temperature"] == 0 and len(body["messages"]) == 1
    assert body["messages"][0]["content"][0]["type"] == "image_url"

    routes = [r for r in records_of(data) if r["type"] == "planning"]
    out = tmp_path / "routes"
    rewardmap("eval", "--data", data, "--benchmark", "reasonmap", "--api", canned.url, "--api-model", "canned",
              "--out", out)
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["count"] == len(routes) and metrics["overall"]["acc_short"]["mean"] == 1.0
    assert metrics["overall"]["map_score_short"]["mean"] > 10  # a correct route earns +10 on top
    assert metrics["overall"]["acc_long"]["mean"] == 1.0 and metrics["overall"]["map_score_long"]["mean"] > 10
    asked = [b["messages"][0]["content"][1]["text"] for b in canned.requests[len(plus):]]
    assert sorted(asked) == sorted([r["question"] for r in routes] + [r["question_long"] for r in routes])
    stored = {json.loads(line)["id"]: json.loads(line) for line in (out / "predictions.jsonl").read_text().splitlines()}
    assert stored[routes[0]["id"]]["response_short_raw"].startswith("<think>looking</think>")
    assert stored[routes[0]["id"]]["response_short"] == routes[0]["answer"]
    # a re-run asks nothing
    before = len(canned.requests)
    result = rewardmap("eval", "--data", data, "--benchmark", "reasonmap", "--api", canned.url,
                       "--api-model", "canned", "--out", out)
    assert len(canned.requests) == before and "0 generated now" in result.stdout


def test_api_failures_are_recorded_and_scored_wrong(data, canned, tmp_path):
    plus = [r for r in records_of(data) if r["type"] != "planning"]
    canned.fail.add(plus[0]["question"])
    failing = sum(r["question"] == plus[0]["question"] for r in plus)
    out = tmp_path / "run"
    result = rewardmap("eval", "--data", data, "--benchmark", "reasonmap-plus", "--api", canned.url,
                       "--api-model", "canned", "--out", out, check=False)
    assert result.returncode == 1 and f"{failing} records failed" in result.stderr  # incomplete, said so
    assert "The first: HTTP 400" in result.stderr and "image too large for [this] model" in result.stderr  # why
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["count"] == len(plus) and metrics["predictions"]["failed"] == failing
    assert metrics["overall"]["correct"]["mean"] == pytest.approx(1 - failing / len(plus))
    stored = {json.loads(line)["id"]: json.loads(line) for line in (out / "predictions.jsonl").read_text().splitlines()}
    assert stored[plus[0]["id"]]["status"] == "failed" and "HTTP 400" in stored[plus[0]["id"]]["error"]


def test_a_huge_answer_is_scored_whole_and_kept_cut_in_responses_and_report(data, canned, tmp_path):
    from rewardmap.eval.cut import KEPT_CHARS, SHOWN_CHARS

    padding = "the map shows many lines " * 200_000  # 5 MB before the right answer
    canned.answers = {key: padding + text for key, text in canned.answers.items()}
    out = tmp_path / "run"
    api_eval(data, canned, out, "--limit", "3", "--variant", "robust")
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["overall"]["correct"]["mean"] == 1.0  # the answer at the end was read
    full = len("<think>looking</think>") + len(padding)
    predictions = [json.loads(line) for line in (out / "predictions.jsonl").read_text().splitlines()]
    assert all(len(p["response_raw"]) > full for p in predictions)  # kept whole, to be scored again
    for row in map(json.loads, (out / "responses.jsonl").read_text().splitlines()):
        assert len(row["response"]) < KEPT_CHARS + 100 and row["response_chars"] > len(padding)
        assert "characters left out" in row["response"] and row["response"].endswith("}")
        assert row["response_raw_chars"] > full
    assert (out / "report.html").stat().st_size < 3 * 2 * SHOWN_CHARS + 2_000_000  # maps are most of it


def api_eval(data, canned, out, *args, benchmark="reasonmap-plus", check=True):
    return rewardmap("eval", "--data", data, "--benchmark", benchmark, "--api", canned.url, "--api-model", "canned",
                     "--out", out, *args, check=check)


def test_a_run_folder_resumes_only_the_run_it_holds(data, canned, tmp_path):
    out = tmp_path / "run"
    api_eval(data, canned, out, "--limit", 3)
    settings = json.loads((out / "run.json").read_text())
    assert settings["benchmark"] == "reasonmap-plus" and settings["model"] == "canned"
    assert settings["data"] == str(data.resolve()) and settings["max_new_tokens"] == 2048
    written = (out / "predictions.jsonl").read_bytes()
    asked = len(canned.requests)
    for args, field in ((("--api-model", "other"), "model"), (("--max-new-tokens", 64), "max_new_tokens"),
                        (("--benchmark", "reasonmap"), "benchmark")):
        result = rewardmap("eval", "--data", data, "--benchmark", "reasonmap-plus", "--api", canned.url,
                           "--api-model", "canned", "--out", out, *args, check=False)
        one_line_error(result, f"holds a run with {field} = ", "another --out")
    assert (out / "predictions.jsonl").read_bytes() == written and len(canned.requests) == asked
    # what changes how, not what, is generated may change; the run goes on
    result = api_eval(data, canned, out, "--concurrency", 2, "--retries", 1, "--timeout", 30)
    assert "3 already done" in result.stdout


def test_a_training_run_folder_is_not_overwritten(data, canned, tmp_path):
    run = tmp_path / "train-run"
    run.mkdir()
    (run / "recipe.yaml").write_text("name: tiny\n")
    (run / "report.md").write_text("training report\n")
    one_line_error(api_eval(data, canned, run, check=False), "training run folder", str(run / "eval"))
    assert (run / "report.md").read_text() == "training report\n" and not (run / "predictions.jsonl").exists()


@pytest.mark.parametrize("how", [signal.SIGINT, signal.SIGTERM], ids=["ctrl-c", "sigterm"])
def test_ctrl_c_stops_with_a_line_and_the_same_command_resumes(data, canned, tmp_path, how):
    out = tmp_path / "run"
    canned.delay = 0.2
    args = [sys.executable, "-m", "rewardmap", "eval", "--data", str(data), "--benchmark", "reasonmap-plus", "--api",
            canned.url, "--api-model", "canned", "--out", str(out), "--concurrency", "1"]
    process = subprocess.Popen(args, env=ENV, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 60
        while not (out / "predictions.jsonl").exists() or not (out / "predictions.jsonl").read_text():
            assert time.monotonic() < deadline and process.poll() is None
            time.sleep(0.05)
        process.send_signal(how)
        _, stderr = process.communicate(timeout=30)
    finally:
        process.kill()
    assert process.returncode == 128 + how and "Traceback" not in stderr, stderr  # 130 or 143
    assert stderr.strip().splitlines()[-1].startswith("interrupted") and "run the same command again" in stderr
    first = [json.loads(line)["id"] for line in (out / "predictions.jsonl").read_text().splitlines()]
    plus = [r["id"] for r in records_of(data) if r["type"] != "planning"]
    assert 1 <= len(first) < len(plus) and not (out / "metrics.json").exists()
    canned.delay = 0
    result = api_eval(data, canned, out)
    assert f"{len(first)} already done" in result.stdout
    ids = [json.loads(line)["id"] for line in (out / "predictions.jsonl").read_text().splitlines()]
    assert sorted(ids) == sorted(plus)


# --- errors --------------------------------------------------------------------------

def one_line_error(result, *words):
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error:"), result.stderr
    for word in words:
        assert word in lines[0], lines[0]


def test_errors_are_one_line(data, tmp_path):
    api = ("--api", "http://127.0.0.1:9/v1", "--api-model", "m")
    one_line_error(rewardmap("eval", "--data", tmp_path, "--benchmark", "reasonmap", *api, "--out", tmp_path / "o",
                             check=False), "no questions.jsonl")
    one_line_error(rewardmap("eval", "--data", data, "--benchmark", "mathvista", *api, "--out", tmp_path / "o",
                             check=False), "--benchmark: expected one of reasonmap, reasonmap-plus")
    one_line_error(rewardmap("eval", "--data", data, "--benchmark", "reasonmap", *api, "--out", tmp_path / "o",
                             check=False), "cannot reach the API")
    one_line_error(rewardmap("eval", "--data", data, "--benchmark", "reasonmap", "--out", tmp_path / "o",
                             check=False), "--model")
    one_line_error(rewardmap("eval", "--data", data, "--benchmark", "reasonmap", *api, "--retries", -1,
                             "--out", tmp_path / "o", check=False), "--retries")
    one_line_error(rewardmap("eval", "--data", data, "--benchmark", "reasonmap", "--model", "m", "--backend", "sglang",
                             "--out", tmp_path / "o", check=False), "--backend", "sglang")

    broken = tmp_path / "broken"
    shutil.copytree(data, broken)
    figure = records_of(data)[0]["figure"]
    whole = (broken / figure).read_bytes()
    (broken / figure).write_bytes(b"not a png at all")
    one_line_error(rewardmap("eval", "--data", broken, "--benchmark", "reasonmap-plus", *api, "--out",
                             tmp_path / "o", check=False), "not a usable map image")
    (broken / figure).write_bytes(whole[: len(whole) // 2])  # a real PNG, cut short
    one_line_error(rewardmap("eval", "--data", broken, "--benchmark", "reasonmap-plus", *api, "--out",
                             tmp_path / "o", check=False), "not a usable map image")
    (broken / figure).unlink()
    one_line_error(rewardmap("eval", "--data", broken, "--benchmark", "reasonmap-plus", *api, "--out",
                             tmp_path / "o", check=False), "not found")

    plus_only = tmp_path / "plus_only"
    rewardmap("data", "synth", "--cities", 1, "--per-city", 4, "--size", 256, "--types", "TorF1", "--out",
              plus_only, "--workers", 1)
    one_line_error(rewardmap("eval", "--data", plus_only, "--benchmark", "reasonmap", *api, "--out",
                             tmp_path / "o", check=False), "no records", "planning")
    assert (tmp_path / "o" / "predictions.jsonl").read_text() == ""  # nothing was answered


def test_load_benchmark_checks(data):
    assert {r["type"] for r in load_benchmark(data, "reasonmap")} == {"planning"}
    assert len(load_benchmark(data, "reasonmap-plus", limit=3)) == 3
    with pytest.raises(InputError, match="limit"):
        load_benchmark(data, "reasonmap", limit=0)


# --- vLLM inputs ---------------------------------------------------------------------

def test_vllm_requests_and_sampling(data, model):
    from PIL import Image

    from rewardmap.model.tiny import load_tiny

    _, processor = load_tiny(model)
    records = load_benchmark(data, "reasonmap", limit=2)
    r = records[0]
    request = build_request(processor, r["figure"], r["question"])
    assert set(request) == {"prompt", "multi_modal_data"}
    assert request["prompt"] == prompt_text(processor, r["question"])
    assert r["question"] in request["prompt"] and "<|vision_start|>" in request["prompt"]
    assert request["prompt"].index("<|vision_start|>") < request["prompt"].index(r["question"])
    assert isinstance(request["multi_modal_data"]["image"], Image.Image)
    assert request["multi_modal_data"]["image"].mode == "RGB"
    prompts, keys = build_requests(processor, records, lambda rec: {"response_short": rec["question"],
                                                                     "response_long": rec["question_long"]})
    assert [(k[0]["id"], k[1]) for k in keys] == [(rec["id"], n) for rec in records
                                                  for n in ("response_short", "response_long")]
    assert records[0]["question_long"] in prompts[1]["prompt"]
    assert prompts[0]["multi_modal_data"]["image"] is prompts[1]["multi_modal_data"]["image"]  # opened once
    assert sampling_kwargs(100) == {"temperature": 0.0, "top_p": 1.0, "top_k": -1, "max_tokens": 100,
                                    "skip_special_tokens": True}
    assert engine_kwargs("m", min_pixels=4, max_pixels=9)["mm_processor_kwargs"] == {"min_pixels": 4,
                                                                                      "max_pixels": 9}
    with pytest.raises(InputError):
        sampling_kwargs(0)


# --- real ReasonMap files ------------------------------------------------------------

def test_real_maps_with_canned_correct_answers(real_data, tmp_path):
    data = real_questions(real_data, tmp_path / "data")
    server = CannedAPI(right_answers(data))
    try:
        for benchmark, names in (("reasonmap", ("acc_short", "acc_long")), ("reasonmap-plus", ("correct",))):
            out = tmp_path / benchmark
            rewardmap("eval", "--data", data, "--benchmark", benchmark, "--api", server.url, "--api-model", "m",
                      "--out", out)
            metrics = json.loads((out / "metrics.json").read_text())
            assert metrics["count"] > 0, metrics
            assert all(metrics["overall"][name]["mean"] == 1.0 for name in names), metrics["overall"]
    finally:
        server.close()


def test_every_backend_has_the_run_method_the_protocol_states():
    """`run_eval` calls `backend.run(records, requests, store, on_progress)` of any backend."""
    import inspect

    from rewardmap.eval.backends.api import APIBackend
    from rewardmap.eval.backends.base import Backend
    from rewardmap.eval.backends.vllm import VLLMBackend

    stated = list(inspect.signature(Backend.run).parameters)
    for backend in (APIBackend, LocalBackend, VLLMBackend):
        assert list(inspect.signature(backend.run).parameters) == stated, backend.__name__
