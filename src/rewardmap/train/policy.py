"""The policy model and its processor: the offline tiny model, or any Hub / local VLM.

The tiny model is built once per run from its seed and the run's question texts, and
saved to `RUN/init`; later phases and `--resume` load it from there, so a run never
depends on being rebuilt identically.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from ..run_files import INIT
from .recipe import Recipe


def load_policy(recipe: Recipe, run: Path, texts: list[str]):
    """(model, processor) as the recipe names them; the tiny one is built (or reloaded)
    under RUN/init."""
    from ..model import tiny  # registers the tiny processor with AutoProcessor

    m = recipe.model
    if m.name_or_path == "tiny":
        init = run / INIT
        if (init / "config.json").is_file():
            return tiny.load_tiny(init)
        model, processor = tiny.build_tiny_model(texts, tiny.TinyModelConfig(**m.tiny))
        save_policy(model, processor, init)  # renamed into place whole: a stop while saving leaves no half init/
        return tiny.load_tiny(init)  # a model that names its folder, as LoRA checkpoints record it
    return load_pretrained(m.name_or_path, recipe)


def load_pretrained(path: str | Path, recipe: Recipe | None = None):
    """A Hub id or local folder (a run's `final`, a merged folder, Qwen/Qwen2.5-VL-7B-Instruct),
    with the recipe's loading settings; the Trainer places it on its device."""
    from ..model.loading import load_model

    m = recipe.model if recipe else None
    return load_model(path, device="cpu", **({} if m is None else {
        "min_pixels": m.min_pixels, "max_pixels": m.max_pixels, "dtype": m.dtype, "revision": m.revision,
        "trust_remote_code": m.trust_remote_code, "attn_implementation": m.attn_implementation}))


def question_texts(records: list[dict]) -> list[str]:
    """What the tiny tokenizer is trained on: every question and every target answer."""
    from .data import target_text

    return [r["question"] for r in records] + [target_text(r) for r in records]


def save_policy(model, processor, folder: Path) -> None:
    """Model, processor (tokenizer, chat template) and generation config, written to a
    temporary folder and renamed: a folder with a config.json is always complete (one without
    it, from a save that was cut short, is replaced)."""
    if (folder / "config.json").is_file():
        return
    with saved_whole(model, processor, folder):
        pass


@contextmanager
def saved_whole(model, processor, folder: Path) -> Iterator[Path]:
    """Save MODEL and PROCESSOR to a temporary folder beside FOLDER, yield it (to check what was
    written), then rename it onto FOLDER, replacing what is there; if the block or the save
    fails, the temporary folder goes and FOLDER is as it was."""
    import shutil

    from ..datasets.output import move_into_place, recover_replaced
    from ..diskfull import writing
    from ..fileio import follow_umask
    from ..interrupts import deferred

    tmp = folder.with_name(folder.name + ".tmp")
    folder.parent.mkdir(parents=True, exist_ok=True)
    recover_replaced(folder)  # a process killed between the two renames below left FOLDER aside
    shutil.rmtree(tmp, ignore_errors=True)
    try:
        with writing(folder):  # safetensors names no file when the disk is full
            model.save_pretrained(tmp)
            processor.save_pretrained(tmp)
        follow_umask(tmp)
        yield tmp
        with deferred():  # the old FOLDER goes only once the new one is in
            move_into_place(tmp, folder)
    except BaseException:
        with deferred():
            shutil.rmtree(tmp, ignore_errors=True)  # the space it took, back at once
        raise
