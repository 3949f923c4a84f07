"""`rewardmap merge`: a trained policy as one complete Hugging Face folder.

The source is a run folder (its `final/`), a phase's `final/`, or a Trainer checkpoint,
with full weights or a LoRA adapter. The output holds the weights (adapter merged), the
processor with its chat template, and the generation config; it is written to a
temporary folder, reloaded, checked against the source model's logits on a probe input,
and only then renamed into place.
"""

from __future__ import annotations

import json
from pathlib import Path

from ..errors import InputError
from ..run_files import FINAL

TOLERANCE = 1e-4  # float32 round trip and LoRA merge rounding stay far below this


def merge_model(source: str | Path, out: str | Path) -> float:
    """Write the merged model to OUT; returns the largest logit difference of the reload."""
    import torch

    from .policy import load_pretrained, saved_whole

    out = Path(out)
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        what = "exists and is not empty" if out.is_dir() else "exists and is not a folder"
        raise InputError(f"{out}: {what}; choose a new --out folder")
    folder = model_folder(Path(source))
    adapter = folder / "adapter_config.json"
    if adapter.is_file():
        from peft import PeftModel

        base_path = json.loads(adapter.read_text(encoding="utf-8")).get("base_model_name_or_path")
        if not base_path:
            raise InputError(f"{adapter}: no base_model_name_or_path to merge the adapter into")
        base, processor = load_pretrained(base_path)
        if _has_processor(folder):  # the run's own processor (pixel bounds, chat template) over the base's
            processor = _processor(folder)
        trained = PeftModel.from_pretrained(base, str(folder))
    else:
        trained, processor = load_pretrained(folder)
    trained.eval()
    with torch.no_grad():
        expected = trained(**_probe(processor)).logits
    merged = trained.merge_and_unload() if adapter.is_file() else trained
    with saved_whole(merged, processor, out) as tmp:  # renamed into place only once the check passes
        reloaded, reprocessor = load_pretrained(tmp)
        reloaded.eval()
        with torch.no_grad():
            got = reloaded(**_probe(reprocessor)).logits
        diff = (got - expected).abs().max().item()
        if not diff <= TOLERANCE:
            raise InputError(f"{folder}: the merged model's logits differ from the trained one's by {diff:.3g}")
    return diff


def model_folder(source: Path) -> Path:
    """The folder holding the model: SOURCE itself, or a run folder's `final/`."""
    for candidate in (source, source / FINAL):
        if (candidate / "config.json").is_file() or (candidate / "adapter_config.json").is_file():
            return candidate
    raise InputError(f"{source}: no model here (expected a run folder with final/, or a folder with config.json "
                     "or adapter_config.json)")


def _has_processor(folder: Path) -> bool:
    return any((folder / name).is_file() for name in ("processor_config.json", "preprocessor_config.json"))


def _processor(folder: Path):
    from transformers import AutoProcessor

    from ..model import tiny  # noqa: F401  (tiny folders name the tiny processor class)

    return AutoProcessor.from_pretrained(str(folder))


def _probe(processor):
    """A map-like image and a question, as training shows them."""
    from PIL import Image, ImageDraw

    image = Image.new("RGB", (224, 224), "white")
    ImageDraw.Draw(image).line([(20, 200), (200, 20)], fill="red", width=6)
    messages = [{"role": "user", "content": [{"type": "image"}, {"type": "text", "text": "How many lines are there?"}]}]
    text = processor.apply_chat_template(messages, add_generation_prompt=True, tokenize=False)
    return processor(text=[text], images=[image], return_tensors="pt")
