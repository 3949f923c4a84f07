"""A mapping of settings read into the schema's dataclasses: unknown names (with the nearest known
one), wrong types and values outside a field's rules are one InputError line naming the file and
the dotted setting."""

from __future__ import annotations

import dataclasses
import difflib
import functools
import math
import typing
from collections.abc import Mapping
from types import UnionType
from typing import Union

from ...errors import InputError, where
from .schema import Recipe

@functools.cache
def _hints(cls) -> dict:
    return typing.get_type_hints(cls)


@functools.cache
def _all_keys(cls, prefix: str = "") -> list[str]:
    keys = []
    for f in dataclasses.fields(cls):
        tp = _hints(cls)[f.name]
        keys.append(prefix + f.name)
        if dataclasses.is_dataclass(tp):
            keys += _all_keys(tp, f"{prefix}{f.name}.")
    return keys


# TRL / transformers / verl names that people will type, and the recipe's name for each.
_ALIASES = {
    "learning_rate": "lr", "lr_scheduler_type": "lr_scheduler", "num_train_epochs": "epochs",
    "per_device_train_batch_size": "per_device_batch_size", "kl_coef": "beta", "kl_loss_coef": "beta",
    "clip_ratio": "epsilon", "entropy_coeff": "entropy_coef", "n": "num_generations", "rollout_n": "num_generations",
    "max_response_length": "max_completion_length", "lora_rank": "r", "rank": "r", "lora_alpha": "alpha",
    "lora_dropout": "dropout", "model_name_or_path": "name_or_path", "model": "name_or_path",
    "torch_dtype": "dtype", "warmup_steps": "warmup_ratio", "gradient_accumulation_steps": "per_device_batch_size",
}


def build(cls, mapping: Mapping, path: tuple[str, ...], label: str, base=None):
    """An instance of dataclass `cls` from a (possibly partial) mapping; unknown keys, wrong
    types and values outside a field's rules are InputErrors naming `label` and the dotted key.

    A missing nested setting takes the default of its section as the parent declares it
    (sft.lora.dropout is 0.0, model.lora.dropout 0.05), not its class default.
    """
    hints, known = _hints(cls), {f.name: f for f in dataclasses.fields(cls)}
    base = cls() if base is None else base
    kwargs = {}
    for key, value in mapping.items():
        dotted = ".".join((*path, str(key)))
        if key not in known:
            alias = _ALIASES.get(str(key))
            close = ([".".join((*path, alias))] if alias in known else
                     difflib.get_close_matches(dotted, _all_keys(Recipe), n=1, cutoff=0.6))
            hint = f"; did you mean '{close[0]}'?" if close else f"; known here: {', '.join(known)}"
            raise InputError(f"{where(label, field=dotted)}: unknown setting{hint}")
        tp = hints[key]
        if dataclasses.is_dataclass(tp):
            if not isinstance(value, Mapping):
                raise _wrong(value, tp, (*path, key), label)
            value = build(tp, value, (*path, key), label, getattr(base, key))
        else:
            value = _coerce(value, tp, (*path, key), label)
        _check_rules(value, known[key].metadata, dotted, label)
        kwargs[key] = value
    return dataclasses.replace(base, **kwargs)


def _coerce(value, tp, path: tuple[str, ...], label: str):
    origin, args = typing.get_origin(tp), typing.get_args(tp)
    if origin in (Union, UnionType):
        if value is None and type(None) in args:
            return None
        for arg in (a for a in args if a is not type(None)):
            try:
                return _coerce(value, arg, path, label)
            except _WrongType:
                continue
        raise _wrong(value, tp, path, label)
    if origin is list:
        if not isinstance(value, list):
            raise _wrong(value, tp, path, label)
        return [_coerce(v, args[0], (*path, str(i)), label) for i, v in enumerate(value)]
    if tp is dict or origin is dict:
        if not isinstance(value, Mapping):
            raise _wrong(value, tp, path, label)
        if not args:
            return dict(value)
        return {_coerce(k, args[0], (*path, str(k)), label): _coerce(v, args[1], (*path, str(k)), label)
                for k, v in value.items()}
    if tp is bool:
        if not isinstance(value, bool):
            raise _wrong(value, tp, path, label)
        return value
    if tp in (int, float) and isinstance(value, str):
        try:  # PyYAML reads 1e-6 (no dot) as text
            value = float(value.strip())
        except ValueError:
            raise _wrong(value, tp, path, label) from None
    if tp is float and isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value):
        return float(value)
    if tp is int and isinstance(value, (int, float)) and not isinstance(value, bool) and float(value).is_integer():
        return int(value)
    if tp is str and isinstance(value, str):
        return value
    raise _wrong(value, tp, path, label)


class _WrongType(InputError):
    pass


def _describe(tp) -> str:
    origin, args = typing.get_origin(tp), typing.get_args(tp)
    if origin in (Union, UnionType):
        parts = [_describe(a) for a in args if a is not type(None)]
        return " or ".join(parts) + (" (or empty)" if type(None) in args else "")
    if origin is list:  # "a list of texts", "a list of lists of texts": the item's noun, without its article
        head, of, rest = _describe(args[0]).partition(" ")[2].partition(" of ")
        return f"a list of {head}s{of}{rest}"
    if dataclasses.is_dataclass(tp) or tp is dict or origin is dict:
        return "a mapping"
    return {bool: "true or false", int: "an integer", float: "a number", str: "a text"}.get(tp, str(tp))


def _wrong(value, tp, path, label) -> _WrongType:
    return _WrongType(f"{where(label, field='.'.join(path))}: expected {_describe(tp)}, got {value!r}")


def did_you_mean(word: str, known) -> str:
    """` (did you mean 'X'?)` for the known name nearest WORD, or nothing when none is near."""
    close = difflib.get_close_matches(word, known, n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""


def _check_rules(value, rules: Mapping, dotted: str, label: str) -> None:
    choices = rules.get("choices")
    if choices is not None and isinstance(value, str) and value not in choices:
        hint = did_you_mean(value, choices)
        raise InputError(f"{where(label, field=dotted)}: {value!r} is not one of {', '.join(choices)}{hint}")
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        if "min" in rules and value < rules["min"]:
            raise InputError(f"{where(label, field=dotted)}: must be at least {rules['min']}, got {value!r}")
        if "max" in rules and value > rules["max"]:
            raise InputError(f"{where(label, field=dotted)}: must be at most {rules['max']}, got {value!r}")


