"""Models shipped inside the package, loadable by name wherever a model folder is asked for.

`tiny-base` is the tiny Qwen2.5-VL after a supervised warm-up on 15,700 synthetic maps (the
built-in recipe of the same name), so that a short run can spend its minutes on RL from a start
that already reads maps. Each packaged folder holds a
`provenance.json`: the recipe that trained it (every setting), the data seed, the command, the
library versions, the held-out figures it reached, and the SHA-256 of every file, which the
tests check, so the weights cannot drift from the recipe that made them unnoticed.

    python -m rewardmap.train.ship runs/tiny-base    # after `rewardmap train tiny-base`
"""

from __future__ import annotations

import hashlib
import json
import os
from importlib import resources
from pathlib import Path

PACKAGED = ("tiny-base",)
FOLDER = "packaged"
PROVENANCE = "provenance.json"
# what a model folder needs to load (weights, configs, tokenizer, processor, chat template)
FILES = ("config.json", "generation_config.json", "model.safetensors", "tokenizer.json", "tokenizer_config.json",
         "processor_config.json", "chat_template.jinja")


def packaged_folder(name: str) -> Path:
    """The folder of a packaged model."""
    return Path(str(resources.files(__package__).joinpath(FOLDER).joinpath(name)))


def model_path(name_or_path: str | os.PathLike) -> str:
    """The folder of a packaged model (`tiny-base`), else NAME_OR_PATH as given (a folder or Hub id)."""
    return str(packaged_folder(str(name_or_path))) if str(name_or_path) in PACKAGED else str(name_or_path)


def provenance(name: str) -> dict:
    return json.loads((packaged_folder(name) / PROVENANCE).read_text(encoding="utf-8"))


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
