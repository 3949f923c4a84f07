"""Loading a model and its processor, with dtype, device and image-size bounds."""

from __future__ import annotations

import os

from ..errors import InputError, check_choice
from .packaged import model_path

DTYPES = ("auto", "bfloat16", "float16", "float32")  # what `load_model(dtype=...)` accepts


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
    `min_pixels` / `max_pixels` bound each image's size, and so its number of vision tokens.
    """
    check_dtype(dtype)  # before the imports and the download: a typo fails at once
    import torch
    from transformers import AutoModelForImageTextToText, AutoProcessor

    from . import tiny  # noqa: F401  (tiny folders name the tiny processor class)

    shared = {k: v for k, v in (("revision", revision), ("trust_remote_code", trust_remote_code or None)) if v}
    processor_kwargs = {**shared, **{k: v for k, v in (("min_pixels", min_pixels), ("max_pixels", max_pixels))
                                     if v is not None}}
    model_kwargs = {**shared, **{k: v for k, v in (("dtype", dtype), ("attn_implementation", attn_implementation))
                                 if v}}
    folder = model_path(path)
    try:
        processor = AutoProcessor.from_pretrained(folder, **processor_kwargs)
        model = AutoModelForImageTextToText.from_pretrained(folder, **model_kwargs)
    except (OSError, ValueError) as e:
        first = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        raise InputError(f"model {path}: cannot load ({first})") from None
    device = device or ("cuda" if torch.cuda.is_available() else "cpu")
    return model.to(device).eval(), processor
