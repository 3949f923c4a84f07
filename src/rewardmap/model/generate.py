"""Batched generation with transformers, as evaluation and held-out checks run it: greedy
answers, and (`Sampling`) k answers per prompt drawn as GRPO draws its rollouts.

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
from dataclasses import dataclass

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


@dataclass(frozen=True)
class Sampling:
    """`k` answers per prompt sampled as TRL's GRPOTrainer samples rollouts (temperature and
    top-p, no top-k, the image placeholder suppressed). Each `generate` call seeds its own
    draw from `seed` and the call's number, so a run gives the same samples every time
    without touching the global random state."""

    k: int = 8
    temperature: float = 1.0
    top_p: float = 1.0
    seed: int = 0

    def __post_init__(self):
        if self.k < 1:
            raise InputError(f"samples per question must be at least 1, got {self.k}")
        if not self.temperature > 0:
            raise InputError(f"the sampling temperature must be above 0, got {self.temperature}")


class Generator:
    """Greedy decoding (or `sampling`) with transformers; at most `batch_size` prompts per
    `generate` call (lowered for the rest of the run when a batch runs out of GPU memory)."""

    def __init__(self, model, processor, *, batch_size: int = 8, max_new_tokens: int = DEFAULT_MAX_NEW_TOKENS,
                 sampling: Sampling | None = None):
        if batch_size < 1:
            raise InputError(f"--batch-size must be at least 1, got {batch_size}")
        if max_new_tokens < 1:
            raise InputError(f"--max-new-tokens must be at least 1, got {max_new_tokens}")
        self.model, self.processor = model, processor
        self.batch_size, self.max_new_tokens, self.sampling = batch_size, max_new_tokens, sampling
        self.calls = 0  # generate calls (what a resumed run should not repeat)

    def generate(self, items: Sequence[tuple[str, str]]) -> list:
        """Raw outputs of (image path, question) pairs, in order, special tokens dropped: a text
        each (greedy), or with `sampling` a list of k texts each; one `model.generate` call over
        all of them (no splitting: see `generate_split`)."""
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
            s = self.sampling
            if s is None:
                decoding = {"do_sample": False, "temperature": None, "top_p": None, "top_k": None}
            else:
                # every other setting as TRL's rollouts have it, whatever the model's own defaults
                decoding = {"do_sample": True, "temperature": s.temperature, "top_p": s.top_p, "top_k": 0,
                            "min_p": None, "repetition_penalty": 1.0, "num_return_sequences": s.k}
            devices = [model.device.index or 0] if model.device.type == "cuda" else []
            with torch.no_grad(), torch.random.fork_rng(devices=devices):
                if s is not None:
                    torch.manual_seed(s.seed * 1_000_003 + self.calls)
                out = model.generate(**inputs, max_new_tokens=self.max_new_tokens, suppress_tokens=suppress,
                                     **decoding)
            texts = processor.batch_decode(out[:, inputs["input_ids"].shape[1]:], skip_special_tokens=True)
            return texts if s is None else [texts[i:i + s.k] for i in range(0, len(texts), s.k)]
        finally:
            tokenizer.padding_side = padding_side

    def generate_split(self, items: Sequence[tuple[str, str]]) -> list:
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

    def _split(self, items: list[tuple[str, str]]) -> list:
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
