"""Optional dependencies, by extra: the core (data, synthetic maps, rewards, metrics, API
evaluation, compare) needs none of them; a command that does names the extra to install."""

from __future__ import annotations

import importlib.util

from .errors import InputError

# extra -> the modules it brings (top-level import names), as pyproject.toml declares them
EXTRAS = {
    "train": ("torch", "transformers", "trl", "peft", "accelerate", "tensorboard"),
    "vllm": ("vllm", "torch", "transformers"),
    "deepspeed": ("deepspeed",),
    "liger": ("liger_kernel",),
}


class MissingExtra(InputError):
    """A command needs an optional dependency that is not installed."""

    def __init__(self, extra: str, module: str, what: str):
        super().__init__(f"{what} needs rewardmap's [{extra}] extra ({module} is not installed): "
                         f"pip install 'rewardmap[{extra}]'")


def require(extra: str, what: str) -> None:
    """Raise MissingExtra unless every module of EXTRA can be imported (WHAT: who needs it)."""
    for module in EXTRAS[extra]:
        if importlib.util.find_spec(module) is None:
            raise MissingExtra(extra, module, what)


def missing_extra(exc: BaseException, what: str) -> MissingExtra | None:
    """EXC, an import of an optional module that is not installed, as the extra to install."""
    if not isinstance(exc, ModuleNotFoundError) or not exc.name:
        return None
    module = exc.name.split(".")[0]
    extra = next((name for name, modules in EXTRAS.items() if module in modules), None)
    return MissingExtra(extra, module, what) if extra else None
