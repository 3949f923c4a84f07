"""The vLLM backend: requests and sampling settings as plain data, the engine only when
`import vllm` works.

A request is `{"prompt": <the processor's chat template applied to one user turn, image
then question>, "multi_modal_data": {"image": <PIL image>}}`, which `LLM.generate` takes
as it is; sampling is greedy (`temperature=0`) with `max_tokens` new tokens.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from ..errors import InputError
from ..rewards.text import final_answer
from .api import RunSummary
from .local import DEFAULT_MAX_NEW_TOKENS, open_image, prompt_text
from .store import PredictionStore


def sampling_kwargs(max_new_tokens: int = DEFAULT_MAX_NEW_TOKENS) -> dict:
    """Keyword arguments of `vllm.SamplingParams`: greedy, as the transformers backend.

    >>> sampling_kwargs(16)
    {'temperature': 0.0, 'top_p': 1.0, 'top_k': -1, 'max_tokens': 16, 'skip_special_tokens': True}
    """
    if max_new_tokens < 1:
        raise InputError(f"--max-new-tokens must be at least 1, got {max_new_tokens}")
    return {"temperature": 0.0, "top_p": 1.0, "top_k": -1, "max_tokens": max_new_tokens, "skip_special_tokens": True}


def engine_kwargs(model: str, *, min_pixels: int | None = None, max_pixels: int | None = None,
                  max_model_len: int | None = None) -> dict:
    """Keyword arguments of `vllm.LLM`: one image per prompt, image size bounds passed to the processor.

    >>> engine_kwargs("m", max_pixels=100)
    {'model': 'm', 'limit_mm_per_prompt': {'image': 1}, 'mm_processor_kwargs': {'max_pixels': 100}}
    """
    kwargs: dict = {"model": str(model), "limit_mm_per_prompt": {"image": 1}}
    pixels = {k: v for k, v in (("min_pixels", min_pixels), ("max_pixels", max_pixels)) if v is not None}
    if pixels:
        kwargs["mm_processor_kwargs"] = pixels
    if max_model_len is not None:
        kwargs["max_model_len"] = max_model_len
    return kwargs


def build_request(processor, image_path: str, question: str, image=None) -> dict:
    """One vLLM prompt: the chat-template text and the map image (opened when not given)."""
    return {"prompt": prompt_text(processor, question),
            "multi_modal_data": {"image": image if image is not None else open_image(image_path)}}


def build_requests(processor, records: list[dict], requests: Callable[[dict], dict[str, str]]
                   ) -> tuple[list[dict], list[tuple[dict, str]]]:
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
    """Offline vLLM generation; `batch_size` records per `LLM.generate` call (stored after each)."""

    def __init__(self, model: str, *, batch_size: int = 64, max_new_tokens: int = DEFAULT_MAX_NEW_TOKENS,
                 min_pixels: int | None = None, max_pixels: int | None = None):
        try:
            import vllm
        except ImportError:
            raise InputError("--backend vllm needs the vllm package (pip install vllm), "
                             "or serve the model and use --api") from None
        from transformers import AutoProcessor

        from ..train import tiny  # noqa: F401

        self.batch_size = batch_size
        self.sampling = vllm.SamplingParams(**sampling_kwargs(max_new_tokens))
        pixels = {k: v for k, v in (("min_pixels", min_pixels), ("max_pixels", max_pixels)) if v is not None}
        self.processor = AutoProcessor.from_pretrained(str(model), **pixels)
        self.llm = vllm.LLM(**engine_kwargs(model, min_pixels=min_pixels, max_pixels=max_pixels))

    def run(self, records: list[dict], requests: Callable[[dict], dict[str, str]], store: PredictionStore,
            on_progress: Callable[[dict, int, int], None] | None = None) -> RunSummary:
        started = time.monotonic()
        todo = store.pending(records)
        summary = RunSummary(total=len(records), skipped=len(records) - len(todo))
        for start in range(0, len(todo), self.batch_size):
            chunk = todo[start:start + self.batch_size]
            prompts, keys = build_requests(self.processor, chunk, requests)
            outputs = self.llm.generate(prompts, self.sampling, use_tqdm=False)
            by_id: dict = {}
            for (record, name), output in zip(keys, outputs, strict=True):
                raw = output.outputs[0].text
                by_id.setdefault(record["id"], {"id": record["id"], "status": "ok"}).update(
                    {name: final_answer(raw), f"{name}_raw": raw})
            for record in chunk:
                prediction = {**by_id[record["id"]], "error": None, "attempts": 1}
                store.append(prediction)
                summary.ok += 1
                if on_progress:
                    on_progress(prediction, summary.ok, len(todo))
        summary.seconds = time.monotonic() - started
        return summary
