"""The transformers backend: batched greedy decoding of a local or Hub model.

Each request is one user turn, the map image then the question, through the processor's
chat template (with its default system text, nothing added). The raw output is kept whole,
thinking included; the answer is what follows the last end-of-thinking tag
(`rewards.text.final_answer`). Predictions are written to the store after each batch.

A batch that runs out of GPU memory is halved (recursively) instead of failing: the backend
lowers its `batch_size` to the half, says so once, and keeps it for the rest of the run,
so later batches do not run out again. Only a single prompt that runs out of memory on its
own fails; its record is stored as failed with the error, and the rest of the batch is kept.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable, Sequence

from ..errors import InputError, check_choice
from ..rewards.text import final_answer
from .api import RunSummary
from .store import PredictionStore

DEFAULT_MAX_NEW_TOKENS = 2048
DTYPES = ("auto", "bfloat16", "float16", "float32")  # what `load_model(dtype=...)` accepts

log = logging.getLogger(__name__)


def one_line(error: BaseException) -> str:
    """An exception as one short line, as predictions store it."""
    return " ".join(f"{type(error).__name__}: {error}".split())[:500]


def answered(record_id, raws: dict[str, str] | None, error: str | None, seconds: float) -> dict:
    """The store line of a record a local backend answered in one try: each output's answer
    (after the thinking) and raw text, or the error."""
    if error:
        return {"id": record_id, "status": "failed", "error": error, "attempts": 1, "seconds": seconds}
    outputs = {key: value for name, raw in raws.items() for key, value in ((name, final_answer(raw)),
                                                                           (f"{name}_raw", raw))}
    return {"id": record_id, "status": "ok", **outputs, "error": None, "attempts": 1, "seconds": seconds}


def check_dtype(dtype: str | None) -> str | None:
    """DTYPE when it is None or one of `DTYPES`, else a one-line InputError."""
    if dtype is not None:
        check_choice("--dtype", dtype, DTYPES)
    return dtype


def load_model(path: str | os.PathLike, *, min_pixels: int | None = None, max_pixels: int | None = None,
               dtype: str | None = None, device: str | None = None, revision: str | None = None,
               trust_remote_code: bool = False, attn_implementation: str | None = None):
    """(model, processor) from a model folder or Hub id; one-line InputError when it cannot load.

    `device`: None puts the model on the GPU when there is one; "cpu" leaves it where it
    loads (a Trainer places it itself). `dtype`: one of `DTYPES` (None: transformers' default).
    """
    check_dtype(dtype)  # before the imports and the download: a typo fails at once
    import torch
    from transformers import AutoModelForImageTextToText, AutoProcessor

    from ..train import tiny  # noqa: F401  (tiny folders name the tiny processor class)

    shared = {k: v for k, v in (("revision", revision), ("trust_remote_code", trust_remote_code or None)) if v}
    processor_kwargs = {**shared, **{k: v for k, v in (("min_pixels", min_pixels), ("max_pixels", max_pixels))
                                     if v is not None}}
    model_kwargs = {**shared, **{k: v for k, v in (("dtype", dtype), ("attn_implementation", attn_implementation))
                                 if v}}
    try:
        processor = AutoProcessor.from_pretrained(str(path), **processor_kwargs)
        model = AutoModelForImageTextToText.from_pretrained(str(path), **model_kwargs)
    except (OSError, ValueError) as e:
        first = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        raise InputError(f"model {path}: cannot load ({first})") from None
    device = device or ("cuda" if torch.cuda.is_available() else "cpu")
    return model.to(device).eval(), processor


def chat_messages(question: str) -> list[dict]:
    """The one user turn of a request: the image, then the question."""
    return [{"role": "user", "content": [{"type": "image"}, {"type": "text", "text": question}]}]


def prompt_text(processor, question: str) -> str:
    """The prompt string the processor's chat template makes of a question."""
    return processor.apply_chat_template(chat_messages(question), add_generation_prompt=True, tokenize=False)


def open_image(path: str):
    from PIL import Image

    with Image.open(path) as im:
        return im.convert("RGB")


class LocalBackend:
    """Greedy decoding with transformers; at most `batch_size` prompts per `generate` call
    (lowered for the rest of the run when a batch runs out of GPU memory)."""

    def __init__(self, model, processor, *, batch_size: int = 8, max_new_tokens: int = DEFAULT_MAX_NEW_TOKENS):
        if batch_size < 1:
            raise InputError(f"--batch-size must be at least 1, got {batch_size}")
        if max_new_tokens < 1:
            raise InputError(f"--max-new-tokens must be at least 1, got {max_new_tokens}")
        self.model, self.processor = model, processor
        self.batch_size, self.max_new_tokens = batch_size, max_new_tokens
        self.calls = 0  # generate calls (what a resumed run should not repeat)

    @classmethod
    def from_path(cls, path, *, min_pixels=None, max_pixels=None, dtype=None, **kwargs) -> LocalBackend:
        model, processor = load_model(path, min_pixels=min_pixels, max_pixels=max_pixels, dtype=dtype)
        return cls(model, processor, **kwargs)

    def generate(self, items: Sequence[tuple[str, str]]) -> list[str]:
        """Raw greedy outputs of (image path, question) pairs, in order, special tokens dropped;
        one `model.generate` call over all of them (no splitting: see `generate_split`)."""
        import torch

        self.calls += 1
        processor, model = self.processor, self.model
        tokenizer = processor.tokenizer
        padding_side, tokenizer.padding_side = tokenizer.padding_side, "left"
        suppress = [model.config.image_token_id] if getattr(model.config, "image_token_id", None) is not None \
            else None
        try:
            texts = [prompt_text(processor, q) for _, q in items]
            images = [open_image(p) for p, _ in items]
            inputs = processor(text=texts, images=images, return_tensors="pt", padding=True).to(model.device)
            with torch.no_grad():
                out = model.generate(**inputs, do_sample=False, max_new_tokens=self.max_new_tokens,
                                     suppress_tokens=suppress, temperature=None, top_p=None, top_k=None)
            return processor.batch_decode(out[:, inputs["input_ids"].shape[1]:], skip_special_tokens=True)
        finally:
            tokenizer.padding_side = padding_side

    def generate_split(self, items: Sequence[tuple[str, str]]) -> list[str | BaseException]:
        """The outputs of ITEMS, in order, in `generate` calls of at most `batch_size` prompts;
        a call that runs out of GPU memory is halved (and `batch_size` lowered to the half).
        A prompt that runs out of memory alone gives its `OutOfMemoryError` instead of a text;
        any other exception propagates."""
        before = self.batch_size
        try:
            return self._split(list(items))
        finally:
            if self.batch_size < before:  # one line per lowering, not one per halving
                log.warning("out of GPU memory: batch size lowered to %d prompts", self.batch_size)

    def _split(self, items: list[tuple[str, str]]) -> list[str | BaseException]:
        import torch

        out: list[str | BaseException] = []
        while len(out) < len(items):  # `batch_size` may shrink on the way: re-read it per chunk
            chunk = items[len(out):len(out) + self.batch_size]
            try:
                out.extend(self.generate(chunk))
                continue
            except torch.cuda.OutOfMemoryError as e:
                # Drop the traceback: its frames hold the batch's tensors, which must be freed.
                error = e.with_traceback(None)
            if torch.cuda.is_available():
                torch.cuda.empty_cache()
            if len(chunk) == 1:
                out.append(error)
            else:
                self.batch_size = min(self.batch_size, (len(chunk) + 1) // 2)
                out.extend(self._split(chunk))
        return out

    def run(self, records: list[dict], requests: Callable[[dict], dict[str, str]], store: PredictionStore,
            on_progress: Callable[[dict, int, int], None] | None = None) -> RunSummary:
        """Answer the records the store has not finished; store each batch as it completes.

        A record is stored once all its prompts are answered; it fails when one of them ran
        out of memory alone, or the batch's generation raised (the whole batch fails then).
        KeyboardInterrupt propagates; what was stored stays."""
        import torch

        started = time.monotonic()
        todo = store.pending(records)
        summary = RunSummary(total=len(records), skipped=len(records) - len(todo))
        batch: list[tuple[dict, dict[str, str]]] = []

        def flush() -> None:
            items = [(r["figure"], text) for r, named in batch for text in named.values()]
            t0 = time.monotonic()
            batch_error = None
            try:
                outputs = iter(self.generate_split(items))
            except (RuntimeError, ValueError, OSError, torch.cuda.OutOfMemoryError) as e:
                batch_error = one_line(e)
            seconds = round((time.monotonic() - t0) / len(batch), 3)
            for record, named in batch:
                answers = {} if batch_error else {name: next(outputs) for name in named}
                error = batch_error or next((one_line(a) for a in answers.values() if isinstance(a, BaseException)),
                                            None)
                summary.record(answered(record["id"], answers, error, seconds), store, len(todo), on_progress)
            batch.clear()

        for record in todo:
            named = requests(record)
            # `batch_size` as it is now: lowered after running out of memory
            if batch and sum(len(n) for _, n in batch) + len(named) > self.batch_size:
                flush()
            batch.append((record, named))
        if batch:
            flush()
        summary.seconds = time.monotonic() - started
        return summary
