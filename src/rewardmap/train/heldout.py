"""Greedy answers of a model to held-out questions, scored with the training reward.

Used before and after training to print honest before/after numbers: per question type,
the share of answers that could be read, that are right, and the mean reward.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Sequence

import torch
from PIL import Image

from ..network import StationFiles
from ..rewards import RewardConfig
from ..rewards.adapters import score_record
from .data import prompt_messages


def generate_answers(model, processor, records: Sequence[dict], *, batch_size: int = 8, max_new_tokens: int = 256,
                     on_batch: Callable[[int], None] | None = None) -> list[str]:
    """Greedy answers, one per record, in order (the prompt as training shows it).

    Tokens that sampling suppresses in training (the image placeholder) are suppressed here
    too, so a model that learned to put mass on them is judged by what it can emit.
    """
    answers: list[str] = []
    tokenizer = processor.tokenizer
    padding_side, tokenizer.padding_side = tokenizer.padding_side, "left"
    suppress = [model.config.image_token_id] if getattr(model.config, "image_token_id", None) is not None else None
    model.eval()
    try:
        for start in range(0, len(records), batch_size):
            batch = records[start:start + batch_size]
            texts = [processor.apply_chat_template(_with_image(prompt_messages(r)), add_generation_prompt=True,
                                                   tokenize=False) for r in batch]
            images = [_open(r["figure"]) for r in batch]
            inputs = processor(text=texts, images=images, return_tensors="pt", padding=True).to(model.device)
            with torch.no_grad():
                out = model.generate(**inputs, do_sample=False, max_new_tokens=max_new_tokens, suppress_tokens=suppress)
            new = out[:, inputs["input_ids"].shape[1]:]
            answers.extend(processor.batch_decode(new, skip_special_tokens=True))
            if on_batch:
                on_batch(len(batch))
    finally:
        tokenizer.padding_side = padding_side
    return answers


def score_answers(records: Sequence[dict], answers: Sequence[str], config: RewardConfig) -> dict:
    """{"overall": stats, "by_type": {type: stats}}, stats = count, parsed, accuracy, reward."""
    files = StationFiles(None)
    sums: dict[str, list[float]] = defaultdict(lambda: [0, 0.0, 0.0, 0.0])
    for record, answer in zip(records, answers, strict=True):
        b = score_record(answer, record, files, config)
        for key in (record["type"], "overall"):
            s = sums[key]
            s[0] += 1
            s[1] += b.parsed
            s[2] += b.correct
            s[3] += b.reward

    def stats(s):
        return {"count": int(s[0]), "parsed": s[1] / s[0], "accuracy": s[2] / s[0], "reward": s[3] / s[0]}

    overall = sums.pop("overall", [0, 0.0, 0.0, 0.0])
    return {"overall": stats(overall) if overall[0] else None, "by_type": {k: stats(v) for k, v in sorted(sums.items())}}


def _with_image(messages: list[dict]) -> list[dict]:
    first = messages[0]
    return [{**first, "content": [{"type": "image"}, {"type": "text", "text": first["content"]}]}, *messages[1:]]


def _open(path: str) -> Image.Image:
    with Image.open(path) as im:
        return im.convert("RGB")
