"""Put a trained run's model into the package, with its provenance (`rewardmap.model.packaged`).

    rewardmap train tiny-base --out runs/tiny-base
    python -m rewardmap.train.ship runs/tiny-base

Only a finished run of the built-in recipe itself, settings unchanged, is shipped: the recipe in
the repository must be what reproduces the weights. The provenance keeps every setting, the data
seed, the command, the library versions, the held-out figures reached and each file's SHA-256.
"""

from __future__ import annotations

import json
import os
import platform
import shutil
import sys
from pathlib import Path

from ..errors import InputError
from ..model.packaged import FILES, PROVENANCE, packaged_folder, sha256
from ..run_files import EVAL_AFTER, FINAL, RECIPE, TRAINING_METRICS
from .recipe import load_recipe
from .tracking import read_metrics


def ship(run: str | os.PathLike, name: str = "tiny-base") -> Path:
    """Copy RUN's final model into the package as NAME (the built-in recipe RUN was trained with)."""
    import torch
    import transformers
    import trl

    run = Path(run)
    final = run / FINAL
    missing = [f for f in FILES if not (final / f).is_file()]
    if missing:
        raise InputError(f"{final}: not a finished run's model ({', '.join(missing)} missing)")
    saved = load_recipe(run / RECIPE).resolved().to_dict()
    builtin = load_recipe(name, [f"output.dir={saved['output']['dir']}"]).resolved().to_dict()
    if saved != builtin:
        changed = sorted(k for k in builtin if builtin[k] != saved.get(k))
        raise InputError(f"{run}: trained with settings other than the built-in recipe {name} ({', '.join(changed)})")
    settings = {k: v for k, v in saved.items() if k != "output"}
    metrics = read_metrics(run / TRAINING_METRICS)
    evaluation = json.loads((run / EVAL_AFTER).read_text(encoding="utf-8")) if (run / EVAL_AFTER).is_file() else {}
    out = packaged_folder(name)
    tmp = out.with_name(out.name + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    for f in FILES:
        shutil.copyfile(final / f, tmp / f)
    record = {
        "name": name,
        "recipe": name,
        "command": f"rewardmap train {name} --out runs/{name}",
        "data_seed": settings["data"]["synthetic"]["seed"],
        "settings": settings,
        "files": {f: sha256(tmp / f) for f in FILES},
        "trained": {"steps": max((r.get("step", 0) for r in metrics if r.get("phase") == "sft"), default=0),
                    "seconds": round(sum(r.get("train_runtime", 0.0) for r in metrics), 1),
                    "torch": torch.__version__, "transformers": transformers.__version__, "trl": trl.__version__,
                    "python": platform.python_version(), "machine": platform.machine()},
        "heldout": {key: evaluation[key] for key in ("overall", "plus", "by_type") if key in evaluation},
    }
    (tmp / PROVENANCE).write_text(json.dumps(record, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    shutil.rmtree(out, ignore_errors=True)
    os.replace(tmp, out)
    return out


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: python -m rewardmap.train.ship RUN_FOLDER")
    try:
        print(ship(sys.argv[1]))
    except InputError as e:
        sys.exit(f"error: {e}")
