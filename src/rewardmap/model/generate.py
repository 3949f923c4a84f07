"""Batched greedy generation with transformers, as evaluation and held-out checks run it.

Each request is one user turn, the map image then the question, through the processor's
chat template (with its default system text, nothing added). Special tokens are dropped
from the outputs; the image placeholder token is never generated.

A batch that runs out of GPU memory is halved (recursively) instead of failing: the
generator lowers its `batch_size` to the half, says so once, and keeps it for the rest of
the run, so later batches do not run out again. Only a single prompt that runs out of
memory on its own fails: it gives its `OutOfMemoryError` instead of a text.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

from ..errors import InputError

DEFAULT_MAX_NEW_TOKENS = 2048

log = logging.getLogger(__name__)


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


class Generator:
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
