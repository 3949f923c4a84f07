"""Reading a recipe: a built-in name or a YAML file, the files it inherits (mappings merge key by
key over the parent, lists and scalars replace), then the `--set a.b=value` overrides, each value
read as YAML; every file is checked on its own, so an error names the file that holds it."""

from __future__ import annotations

import os
from collections.abc import Mapping
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from ...errors import InputError, where
from .coerce import build
from .schema import Recipe
from .validate import validate

BUILTIN_DIR = "recipes"
BUILTIN_PACKAGE = "rewardmap.train"  # the built-in recipes ship as rewardmap/train/recipes/*.yaml


def builtin_recipes() -> list[str]:
    """Names of the recipes shipped inside the package."""
    folder = resources.files(BUILTIN_PACKAGE).joinpath(BUILTIN_DIR)
    if not folder.is_dir():
        return []
    return sorted(p.name[:-5] for p in folder.iterdir() if p.name.endswith(".yaml"))


def load_recipe(name_or_path: str | os.PathLike = "tiny", overrides: list[str] | tuple[str, ...] = ()) -> Recipe:
    """Read a built-in recipe by name (`tiny`) or a YAML file, its `inherit:` chain, then
    the `key=value` overrides; check everything; return the recipe (not yet `resolved()`).

    >>> load_recipe("tiny", ["grpo.lr=1e-5", "curriculum.preset=fine"]).grpo.lr
    1e-05
    """
    path, label = _locate(str(name_or_path), None)
    tree = _read_tree(path, label, (str(path.resolve()),))
    for item in overrides:
        key, value = _parse_override(item, label)
        tree = _merge(tree, _nest(key, value))
        build(Recipe, _nest(key, value), (), f"{label} (--set {key})")
    recipe = build(Recipe, tree, (), label)
    recipe.source, recipe.overrides = label, tuple(str(item) for item in overrides)
    validate(recipe, label)
    return recipe


def _locate(name: str, relative_to: Path | None) -> tuple[Path, str]:
    """(path, label) of a recipe file: a path (relative to `relative_to` when given), else a built-in name."""
    candidate = Path(name) if relative_to is None else relative_to.parent / name
    if candidate.is_file():
        return candidate, str(candidate if relative_to is None else os.path.normpath(candidate))
    if name in builtin_recipes():
        builtin = resources.files(BUILTIN_PACKAGE).joinpath(BUILTIN_DIR).joinpath(f"{name}.yaml")
        return Path(str(builtin)), f"{name} (built-in)"
    where_from = f" (relative to {relative_to})" if relative_to is not None else ""
    raise InputError(f"{name}: no such recipe file{where_from}; built-in recipes: {', '.join(builtin_recipes())}")


class _Loader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):
    """SafeLoader (libyaml's when there is one) that refuses a key given twice (PyYAML would
    keep the last one silently)."""


def _no_duplicates(loader: _Loader, node: yaml.MappingNode, deep: bool = False) -> dict:
    seen = set()
    for key_node, _ in node.value:
        key = loader.construct_object(key_node, deep=deep)
        if key in seen:
            raise yaml.constructor.ConstructorError(None, None, f"key {key!r} given twice", key_node.start_mark)
        seen.add(key)
    return loader.construct_mapping(node, deep)


_Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _no_duplicates)


def _read_yaml(path: Path, label: str) -> dict:
    try:
        data = yaml.load(path.read_text(encoding="utf-8"), Loader=_Loader)
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        at = f":{mark.line + 1}" if mark is not None else ""
        problem = getattr(e, "problem", None) or str(e)
        raise InputError(f"{label}{at}: invalid YAML: {' '.join(str(problem).split())}") from None
    except OSError as e:
        raise InputError(f"{label}: cannot read ({e.strerror})") from None
    except UnicodeDecodeError as e:
        raise InputError(f"{label}: not UTF-8 text (byte {e.start})") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise InputError(f"{label}: a recipe is a mapping of settings, got {type(data).__name__}")
    return data


def _read_tree(path: Path, label: str, chain: tuple[str, ...]) -> dict:
    """The file's settings merged over those of the files it inherits, each file checked on its own
    (so an error names the file that holds the bad setting)."""
    raw = _read_yaml(path, label)
    parents = raw.pop("inherit", None)
    if parents is None:
        parents = []
    elif isinstance(parents, str):
        parents = [parents]
    elif not (isinstance(parents, list) and all(isinstance(p, str) for p in parents)):
        raise InputError(f"{where(label, field='inherit')}: expected a path or a list of paths, got {parents!r}")
    build(Recipe, raw, (), label)
    tree: dict = {}
    for parent in parents:
        ppath, plabel = _locate(parent, path)
        key = str(ppath.resolve())
        if key in chain:
            raise InputError(f"{where(label, field='inherit')}: {parent} inherits back from this file (a cycle)")
        tree = _merge(tree, _read_tree(ppath, plabel, chain + (key,)))
    return _merge(tree, raw)


def _merge(base: dict, over: Mapping) -> dict:
    out = dict(base)
    for key, value in over.items():
        if isinstance(value, Mapping) and isinstance(out.get(key), Mapping):
            out[key] = _merge(out[key], value)
        else:
            out[key] = value
    return out


def _nest(dotted: str, value) -> dict:
    tree = value
    for part in reversed(dotted.split(".")):
        tree = {part: tree}
    return tree


def _parse_override(item: str, label: str) -> tuple[str, Any]:
    key, eq, text = str(item).partition("=")
    key = key.strip()
    if not eq or not key or any(not part for part in key.split(".")):
        raise InputError(f"{label}: override {item!r}: expected key=value with a dotted key, e.g. grpo.lr=1e-6")
    if key == "inherit" or key.startswith("inherit."):
        raise InputError(f"{label}: override {item!r}: inherit is read from files only")
    try:
        value = yaml.safe_load(text) if text.strip() else None
    except yaml.YAMLError as e:
        problem = getattr(e, "problem", None) or str(e)
        raise InputError(f"{where(f'{label} (--set {key})', field=key)}: value {text!r} is not valid YAML "
                         f"({' '.join(str(problem).split())})") from None
    return key, value




def stem(label: str) -> str:
    return Path(label.removesuffix(" (built-in)")).stem


