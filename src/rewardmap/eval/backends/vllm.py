"""The vLLM backend: requests and sampling settings as plain data, the engine only when
`import vllm` works.

A request is `{"prompt": <the processor's chat template applied to one user turn, image
then question>, "multi_modal_data": {"image": <PIL image>}}`, which `LLM.generate` takes
as it is; sampling is greedy (`temperature=0`) with `max_tokens` new tokens.

`VLLMBackend.from_path` builds the engine; `VLLMBackend(processor, llm, sampling)` takes any
object with vLLM's `generate(prompts, sampling, use_tqdm=False)` (the tests pass a fake one).
A `generate` call that raises stores its chunk's records as failed (tried again on the next
run) instead of stopping the run; vLLM manages GPU memory itself, so there is no splitting.
"""

from __future__ import annotations

import time

from ...errors import InputError
from ...model.generate import DEFAULT_MAX_NEW_TOKENS, open_image, prompt_text
from ...model.loading import check_dtype
from ..store import PredictionStore
from .base import Progress, Requests, RunSummary, answered, one_line


def sampling_kwargs(max_new_tokens: int = DEFAULT_MAX_NEW_TOKENS) -> dict:
    """Keyword arguments of `vllm.SamplingParams`: greedy, as the transformers backend.

    >>> sampling_kwargs(16)
    {'temperature': 0.0, 'top_p': 1.0, 'top_k': -1, 'max_tokens': 16, 'skip_special_tokens': True}
    """
    if max_new_tokens < 1:
        raise InputError(f"--max-new-tokens must be at least 1, got {max_new_tokens}")
    return {"temperature": 0.0, "top_p": 1.0, "top_k": -1, "max_tokens": max_new_tokens, "skip_special_tokens": True}


def engine_kwargs(model: str, *, min_pixels: int | None = None, max_pixels: int | None = None,
                  max_model_len: int | None = None, dtype: str | None = None) -> dict:
    """Keyword arguments of `vllm.LLM`: one image per prompt, image size bounds passed to the
    processor, and `dtype` (one of `model.loading.DTYPES`) when given.

    >>> engine_kwargs("m", max_pixels=100)
    {'model': 'm', 'limit_mm_per_prompt': {'image': 1}, 'mm_processor_kwargs': {'max_pixels': 100}}
    """
    kwargs: dict = {"model": str(model), "limit_mm_per_prompt": {"image": 1}}
    pixels = {k: v for k, v in (("min_pixels", min_pixels), ("max_pixels", max_pixels)) if v is not None}
    if pixels:
        kwargs["mm_processor_kwargs"] = pixels
    if max_model_len is not None:
        kwargs["max_model_len"] = max_model_len
    if check_dtype(dtype) is not None:
        kwargs["dtype"] = dtype
    return kwargs


def build_request(processor, image_path: str, question: str, image=None) -> dict:
    """One vLLM prompt: the chat-template text and the map image (opened when not given)."""
    return {"prompt": prompt_text(processor, question),
            "multi_modal_data": {"image": image if image is not None else open_image(image_path)}}


def build_requests(processor, records: list[dict], requests: Requests) -> tuple[list[dict], list[tuple[dict, str]]]:
    """The prompts of RECORDS, and (record, output name) of each, in order; each map opened once."""
    images: dict[str, object] = {}
    prompts, keys = [], []
    for record in records:
        for name, text in requests(record).items():
            path = record["figure"]
            if path not in images:
                images[path] = open_image(path)
            prompts.append(build_request(processor, path, text, images[path]))
            keys.append((record, name))
    return prompts, keys


class VLLMBackend:
    """Offline vLLM generation; `batch_size` records per `llm.generate` call (stored after each).

    `llm`: a `vllm.LLM`, or anything with its `generate(prompts, sampling, use_tqdm=False)`
    returning one object with `.outputs[0].text` per prompt; `sampling`: what it takes as
    sampling settings. `from_path` builds both from a model folder or Hub id.
    """

    def __init__(self, processor, llm, sampling, *, batch_size: int = 64):
        if batch_size < 1:
            raise InputError(f"--batch-size must be at least 1, got {batch_size}")
        self.processor, self.llm, self.sampling, self.batch_size = processor, llm, sampling, batch_size
        self.calls = 0  # generate calls (what a resumed run should not repeat)

    @classmethod
    def from_path(cls, model: str, *, batch_size: int = 64, max_new_tokens: int = DEFAULT_MAX_NEW_TOKENS,
                  min_pixels: int | None = None, max_pixels: int | None = None,
                  dtype: str | None = None) -> VLLMBackend:
        """The engine and processor of MODEL; a one-line InputError when vllm is missing."""
        sampling = sampling_kwargs(max_new_tokens)  # bad settings fail before the slow engine start
        engine = engine_kwargs(model, min_pixels=min_pixels, max_pixels=max_pixels, dtype=dtype)
        try:
            import vllm
        except ImportError:
            raise InputError("--backend vllm needs the vllm package (pip install vllm), "
                             "or serve the model and use --api") from None
        from transformers import AutoProcessor

        from ...model import tiny  # noqa: F401

        pixels = {k: v for k, v in (("min_pixels", min_pixels), ("max_pixels", max_pixels)) if v is not None}
        processor = AutoProcessor.from_pretrained(str(model), **pixels)
        return cls(processor, vllm.LLM(**engine), vllm.SamplingParams(**sampling), batch_size=batch_size)

    def run(self, records: list[dict], requests: Requests, store: PredictionStore,
            on_progress: Progress | None = None) -> RunSummary:
        """Answer the records the store has not finished, `batch_size` records per call; a
        call that raises (any Exception) stores its records as failed and the run goes on."""
        started = time.monotonic()
        todo = store.pending(records)
        summary = RunSummary(total=len(records), skipped=len(records) - len(todo))
        for start in range(0, len(todo), self.batch_size):
            chunk = todo[start:start + self.batch_size]
            prompts, keys = build_requests(self.processor, chunk, requests)
            t0 = time.monotonic()
            raws: dict = {record["id"]: {} for record in chunk}
            error = None
            try:
                self.calls += 1
                outputs = self.llm.generate(prompts, self.sampling, use_tqdm=False)
                for (record, name), output in zip(keys, outputs, strict=True):
                    raws[record["id"]][name] = output.outputs[0].text
            except Exception as e:  # an engine error fails this chunk, not the run (KeyboardInterrupt passes)
                error = one_line(e)
            seconds = round((time.monotonic() - t0) / len(chunk), 3)
            for record in chunk:
                summary.record(answered(record["id"], raws[record["id"]], error, seconds), store, len(todo),
                               on_progress)
        summary.seconds = time.monotonic() - started
        return summary
