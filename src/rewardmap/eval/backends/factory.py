"""The backend `rewardmap eval` runs, from its options: checked before anything is read, named
in the run folder's `run.json`, and built last (a local model loads for seconds to minutes), once
the run folder and the benchmark are known to be usable."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from ...errors import InputError, check_choice
from ...extras import require
from ..run import local_settings, run_settings
from .api import APIBackend
from .base import Backend
from .client import ChatClient
from .local import LocalBackend
from .vllm import VLLMBackend

LOCAL_BACKENDS = ("transformers", "vllm")  # what --backend runs a --model with


@dataclass(frozen=True, kw_only=True)
class BackendOptions:
    """`rewardmap eval`'s backend options: a model run here (--model, by --backend) or a server
    (--api, serving --api-model), and how either generates."""

    model: str | None = None
    backend: str = "transformers"
    api: str | None = None
    api_model: str | None = None
    api_key_env: str
    concurrency: int  # requests in flight (API)
    timeout: float  # seconds to wait for one answer (API)
    retries: int  # tries after the first (API)
    max_new_tokens: int
    batch_size: int  # prompts per generate call (local)
    min_pixels: int | None = None  # image area bounds (local)
    max_pixels: int | None = None
    dtype: str | None = None  # weights' dtype (local)

    def check(self) -> None:
        """A one-line InputError for options that make no backend, or whose extra is not
        installed; nothing is read or loaded."""
        if (self.model is None) == (self.api is None):
            raise InputError("give either --model PATH or --api URL --api-model NAME")
        if self.api is not None and not self.api_model:
            raise InputError("--api needs --api-model NAME (the model the server serves)")
        if self.model is not None and not Path(self.model).expanduser().exists() and _is_local_path(self.model):
            raise InputError(f"--model {self.model}: no such folder")
        if self.api is None:
            check_choice("--backend", self.backend, LOCAL_BACKENDS)
            require("vllm" if self.backend == "vllm" else "train", f"rewardmap eval --backend {self.backend}")
        if self.timeout <= 0 or self.retries < 0:
            raise InputError(f"--timeout must be positive and --retries at least 0, got {self.timeout} and "
                             f"{self.retries}")

    def settings(self, benchmark: str, data: str | os.PathLike) -> dict:
        """What the predictions depend on (`run_settings`, kept in `run.json`): the model the
        server serves, or the local model and how it is loaded."""
        if self.api is not None:
            return run_settings(benchmark, data, max_new_tokens=self.max_new_tokens, backend="api",
                                model=self.api_model)
        return local_settings(benchmark, data, self.model, max_new_tokens=self.max_new_tokens, backend=self.backend,
                              min_pixels=self.min_pixels, max_pixels=self.max_pixels, dtype=self.dtype)


def create_backend(options: BackendOptions) -> Backend:
    """The backend OPTIONS name (after `options.check()`), ready to run: a local model is
    loaded, a server is not asked anything yet."""
    if options.api is not None:
        client = ChatClient(options.api, options.api_model, api_key_env=options.api_key_env,
                            max_tokens=options.max_new_tokens, timeout=options.timeout, retries=options.retries)
        return APIBackend(client, options.concurrency)
    if options.backend == "vllm":
        return VLLMBackend.from_path(options.model, batch_size=options.batch_size,
                                     max_new_tokens=options.max_new_tokens, min_pixels=options.min_pixels,
                                     max_pixels=options.max_pixels, dtype=options.dtype)
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()  # our progress bar only
    return LocalBackend.from_path(options.model, min_pixels=options.min_pixels, max_pixels=options.max_pixels,
                                  dtype=options.dtype, batch_size=options.batch_size,
                                  max_new_tokens=options.max_new_tokens)


def _is_local_path(name: str) -> bool:
    """Whether NAME can only mean a folder: a Hub id is `name` or `org/name`, never `./x`, `/x`,
    `~/x` or `a/b/c`."""
    return name.startswith(("/", ".", "~")) or name.count("/") > 1 or os.sep != "/" and os.sep in name
