"""The transformers backend's out-of-memory halving and dtype, and `VLLMBackend.run` with a
fake engine (vLLM itself is not installed here)."""

from __future__ import annotations

import logging
import sys
from types import SimpleNamespace

import pytest
import torch

from rewardmap.errors import InputError
from rewardmap.eval.backends.local import LocalBackend
from rewardmap.eval.backends.vllm import VLLMBackend, build_requests, engine_kwargs
from rewardmap.eval.run import load_benchmark, requests_for
from rewardmap.eval.store import PredictionStore
from rewardmap.answers.text import final_answer


def backend_of(model, **kwargs) -> LocalBackend:
    """A LocalBackend on the tiny model with its weights redrawn from a fixed seed: the saved
    random init is so small that every prompt gets the same text, which would hide a reordering."""
    from rewardmap.model.tiny import load_tiny

    backend = LocalBackend(*load_tiny(model), **kwargs)
    g = torch.Generator().manual_seed(0)
    with torch.no_grad():
        for p in backend.model.parameters():
            if p.dim() > 1:
                p.copy_(torch.randn(p.shape, generator=g) * 0.3)
    return backend


def answer(backend, records, benchmark, path):
    """Run BACKEND over RECORDS into a store at PATH; (summary, {id: prediction})."""
    with PredictionStore(path) as store:
        summary = backend.run(records, requests_for(benchmark), store)
        return summary, {p["id"]: p for p in store.records()}


def oom_above(backend, most: int) -> list[int]:
    """Make BACKEND's model raise OutOfMemoryError when given more than MOST prompts, as a
    GPU would; returns the list of prompt counts it is called with."""
    sizes, real = [], backend.model.generate

    def generate(**inputs):
        sizes.append(inputs["input_ids"].shape[0])
        if sizes[-1] > most:
            raise torch.cuda.OutOfMemoryError("CUDA out of memory. Tried to allocate 20.00 GiB")
        return real(**inputs)

    backend.model.generate = generate  # an instance attribute: this backend's model only
    return sizes


# --- out of memory -------------------------------------------------------------------

@pytest.mark.parametrize("benchmark,limit,sizes", [
    # 8 one-prompt records, batches of 4: the first OOMs and is halved; later batches hold 2
    ("reasonmap-plus", 8, [4, 2, 2, 2, 2]),
    # a route record asks two prompts: 2 records (4 prompts) OOM, then one record per batch
    ("reasonmap", 3, [4, 2, 2, 2]),
])
def test_out_of_memory_halves_the_batch_and_keeps_the_lower_size(data, model, tmp_path, caplog, benchmark, limit,
                                                                   sizes):
    records = load_benchmark(data, benchmark, limit=limit)
    reference = backend_of(model, batch_size=2, max_new_tokens=4)
    _, expected = answer(reference, records, benchmark, tmp_path / "reference.jsonl")

    backend = backend_of(model, batch_size=4, max_new_tokens=4)
    called = oom_above(backend, 2)
    with caplog.at_level(logging.WARNING, logger="rewardmap.model.generate"):
        summary, got = answer(backend, records, benchmark, tmp_path / "split.jsonl")
    assert summary.ok == len(records) and summary.failed == 0
    assert all(p["status"] == "ok" and p["error"] is None for p in got.values())
    strip = ("seconds",)
    assert [{k: v for k, v in got[r["id"]].items() if k not in strip} for r in records] == \
        [{k: v for k, v in expected[r["id"]].items() if k not in strip} for r in records]
    raws = [p[k] for p in got.values() for k in p if k.endswith("_raw")]
    assert len(set(raws)) > len(raws) // 2  # mostly distinct outputs, so a reordering would show
    assert called == sizes and backend.calls == len(sizes)  # the lowered size is kept
    assert backend.batch_size == 2
    said = [r.getMessage() for r in caplog.records if "batch size" in r.getMessage()]
    assert said == ["out of GPU memory: batch size lowered to 2 prompts"]


def test_a_prompt_out_of_memory_alone_fails_only_its_record(data, model, tmp_path):
    records = load_benchmark(data, "reasonmap-plus", limit=6)
    bad = records[1]["question"]
    failing = {r["id"] for r in records if r["question"] == bad}
    backend = backend_of(model, batch_size=4, max_new_tokens=2)
    real = backend.generate
    chunks = []

    def generate(items):
        chunks.append(len(items))
        if any(q == bad for _, q in items):
            raise torch.cuda.OutOfMemoryError("CUDA out of memory. Tried to allocate 20.00 GiB")
        return real(items)

    backend.generate = generate
    summary, got = answer(backend, records, "reasonmap-plus", tmp_path / "p.jsonl")
    assert {i for i, p in got.items() if p["status"] == "failed"} == failing
    assert summary.failed == len(failing) and summary.ok == len(records) - len(failing)
    for i in failing:
        assert got[i]["error"].startswith("OutOfMemoryError: CUDA out of memory") and "\n" not in got[i]["error"]
    assert all(isinstance(p["response_raw"], str) for i, p in got.items() if i not in failing)
    assert chunks[:3] == [4, 2, 1] and backend.batch_size == 1  # halved down to the one prompt

    backend.generate = real  # the next run retries only the failed record(s)
    backend.calls = 0
    summary, got = answer(backend, records, "reasonmap-plus", tmp_path / "p.jsonl")
    assert summary.skipped == len(records) - len(failing) and summary.ok == len(failing)
    assert all(p["status"] == "ok" for p in got.values())


def test_other_errors_fail_the_batch_and_keyboard_interrupt_stops_at_once(data, model, tmp_path):
    records = load_benchmark(data, "reasonmap-plus", limit=6)
    backend = backend_of(model, batch_size=2, max_new_tokens=2)
    real = backend.model.generate
    calls = []

    def generate(**inputs):
        calls.append(1)
        if len(calls) == 2:
            raise ValueError("bad\ninput")  # not memory: no halving, the batch fails
        if len(calls) == 3:
            raise KeyboardInterrupt
        return real(**inputs)

    backend.model.generate = generate
    with pytest.raises(KeyboardInterrupt):
        answer(backend, records, "reasonmap-plus", tmp_path / "p.jsonl")
    assert len(calls) == 3 and backend.batch_size == 2
    with PredictionStore(tmp_path / "p.jsonl") as store:
        stored = {p["id"]: p for p in store.records()}
    assert [stored[r["id"]]["status"] for r in records[:4]] == ["ok", "ok", "failed", "failed"]
    assert stored[records[2]["id"]]["error"] == "ValueError: bad input"
    assert len(stored) == 4  # the interrupted batch stored nothing


# --- dtype ---------------------------------------------------------------------------

def test_bfloat16_loads_and_generates_on_cpu(data, model):
    backend = LocalBackend.from_path(model, dtype="bfloat16", batch_size=2, max_new_tokens=3)
    assert backend.model.dtype == torch.bfloat16
    records = load_benchmark(data, "reasonmap-plus", limit=2)
    outputs = backend.generate([(r["figure"], r["question"]) for r in records])
    assert len(outputs) == 2 and all(isinstance(o, str) for o in outputs)
    assert LocalBackend.from_path(model, dtype="float32").model.dtype == torch.float32


def test_an_unknown_dtype_is_a_one_line_input_error(model):
    for call in (lambda: LocalBackend.from_path(model, dtype="bf16"),
                 lambda: engine_kwargs("m", dtype="bf16")):
        with pytest.raises(InputError) as e:
            call()
        assert str(e.value) == "--dtype: expected one of auto, bfloat16, float16, float32; got 'bf16'"
    assert engine_kwargs("m", dtype="bfloat16")["dtype"] == "bfloat16"
    assert "dtype" not in engine_kwargs("m")


# --- vLLM with a fake engine ---------------------------------------------------------

class FakeLLM:
    """`vllm.LLM.generate`'s shape: answers prompt number n (counted over all calls) with
    "<think>n</think>answer n"; `fail` makes the next calls raise it."""

    def __init__(self, sampling):
        self.sampling, self.prompts, self.calls, self.fail = sampling, [], 0, None

    def generate(self, prompts, sampling, use_tqdm=True):
        assert sampling is self.sampling and use_tqdm is False
        self.calls += 1
        if self.fail is not None:
            raise self.fail
        first = len(self.prompts)
        self.prompts.extend(prompts)
        return [SimpleNamespace(outputs=[SimpleNamespace(text=f"<think>{n}</think>answer {n}")])
                for n in range(first, first + len(prompts))]


@pytest.fixture(scope="module")
def processor(model):
    from rewardmap.model.tiny import load_tiny

    return load_tiny(model)[1]


def test_vllm_backend_sends_the_built_requests_and_stores_final_answers(data, processor, tmp_path):
    records = load_benchmark(data, "reasonmap", limit=3)
    requests = requests_for("reasonmap")
    sampling = object()
    llm = FakeLLM(sampling)
    backend = VLLMBackend(processor, llm, sampling, batch_size=2)
    summary, got = answer(backend, records, "reasonmap", tmp_path / "p.jsonl")
    assert summary.ok == 3 and summary.failed == 0 and llm.calls == 2  # 2 records, then 1

    prompts, keys = build_requests(processor, records, requests)
    assert [p["prompt"] for p in llm.prompts] == [p["prompt"] for p in prompts]
    assert all(sent["multi_modal_data"]["image"] == built["multi_modal_data"]["image"]  # same pixels
               for sent, built in zip(llm.prompts, prompts, strict=True))
    for n, (record, name) in enumerate(keys):
        p = got[record["id"]]
        assert p["status"] == "ok" and p["error"] is None
        assert p[f"{name}_raw"] == f"<think>{n}</think>answer {n}"
        assert p[name] == final_answer(p[f"{name}_raw"]) == f"answer {n}"

    summary, _ = answer(backend, records, "reasonmap", tmp_path / "p.jsonl")  # resumed: nothing to ask
    assert summary.skipped == 3 and summary.ok == 0 and llm.calls == 2 and backend.calls == 2


def test_vllm_generate_errors_are_recorded_and_retried(data, processor, tmp_path):
    records = load_benchmark(data, "reasonmap-plus", limit=3)
    llm = FakeLLM("greedy")
    backend = VLLMBackend(processor, llm, "greedy", batch_size=2)
    llm.fail = RuntimeError("engine died\nwith a traceback")
    summary, got = answer(backend, records, "reasonmap-plus", tmp_path / "p.jsonl")
    assert summary.failed == 3 and summary.ok == 0 and llm.calls == 2  # every chunk tried, the run went on
    assert all(p["status"] == "failed" and p["error"] == "RuntimeError: engine died with a traceback"
               for p in got.values())

    llm.fail = None
    summary, got = answer(backend, records, "reasonmap-plus", tmp_path / "p.jsonl")
    assert summary.ok == 3 and summary.skipped == 0 and llm.calls == 4
    assert all(p["status"] == "ok" for p in got.values())

    llm.fail = KeyboardInterrupt()  # not swallowed
    with pytest.raises(KeyboardInterrupt):
        answer(backend, load_benchmark(data, "reasonmap-plus", limit=4), "reasonmap-plus", tmp_path / "p.jsonl")


def test_vllm_from_path_without_vllm_is_a_one_line_input_error(model, monkeypatch):
    monkeypatch.setitem(sys.modules, "vllm", None)  # `import vllm` raises ImportError
    with pytest.raises(InputError) as e:
        VLLMBackend.from_path(str(model), batch_size=4, max_new_tokens=8, min_pixels=None, max_pixels=None,
                              dtype="bfloat16")
    assert str(e.value) == ("--backend vllm needs the vllm package (pip install vllm), "
                            "or serve the model and use --api")
    with pytest.raises(InputError, match="bf16"):
        VLLMBackend.from_path(str(model), dtype="bf16")


def test_training_held_out_answers_split_a_batch_out_of_memory(data, model):
    from rewardmap.train.heldout import generate_answers

    records = load_benchmark(data, "reasonmap-plus", limit=6)
    backend = backend_of(model)
    expected = generate_answers(backend.model, backend.processor, records, batch_size=2, max_new_tokens=4)
    called = oom_above(backend, 2)
    got = generate_answers(backend.model, backend.processor, records, batch_size=4, max_new_tokens=4)
    assert got == expected and called[:2] == [4, 2] and max(called[1:]) == 2

    oom_above(backend, 0)  # nothing fits: every answer is empty (scored as wrong), no crash
    assert generate_answers(backend.model, backend.processor, records[:2], batch_size=2, max_new_tokens=4) == ["", ""]


# --- sampled answers -----------------------------------------------------------------

def test_sampled_answers_are_k_per_prompt_seeded_and_greedy_at_a_vanishing_temperature(data, model):
    """k samples per question, the same for the same seed (and the global random state left alone),
    other samples for another seed, and, with the temperature near 0, the greedy answer k times:
    sampling reads the same prompt and image as greedy decoding."""
    from rewardmap.model.generate import Generator, Sampling

    records = load_benchmark(data, "reasonmap-plus", limit=4)
    backend = backend_of(model)
    items = [(r["figure"], r["question"]) for r in records]
    greedy = Generator(backend.model, backend.processor, batch_size=4, max_new_tokens=6).generate_split(items)

    def sample(seed, temperature=1.0, batch_size=4):
        generator = Generator(backend.model, backend.processor, batch_size=batch_size, max_new_tokens=6,
                              sampling=Sampling(k=5, temperature=temperature, seed=seed))
        return generator.generate_split(items)

    state = torch.random.get_rng_state()
    first = sample(0)
    assert torch.equal(state, torch.random.get_rng_state())
    assert len(first) == 4 and all(isinstance(s, list) and len(s) == 5 for s in first)
    assert sample(0) == first and sample(1) != first
    assert len({text for s in first for text in s}) > 4  # temperature 1 on random weights: varied
    assert sample(0, temperature=1e-4) == [[g] * 5 for g in greedy]


def test_sampling_settings_are_checked():
    from rewardmap.model.generate import Sampling

    with pytest.raises(InputError, match="at least 1"):
        Sampling(k=0)
    with pytest.raises(InputError, match="above 0"):
        Sampling(temperature=0.0)
