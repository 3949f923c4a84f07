"""The settings reference of the documentation site, generated from the recipe dataclasses.

MkDocs runs this file as a hook (`hooks:` in mkdocs.yml): at every build, `on_files` adds the
page `settings.md`, one table per section of `rewardmap.train.recipe.Recipe`, walked
recursively with `dataclasses.fields`: dotted name, type, default, allowed values and the
help string each field carries. Nothing is copied by hand, so a setting appears in the site
the day it is added to a dataclass.

    python tools/docs_settings.py          # print the page's Markdown
"""

from __future__ import annotations

import dataclasses
import sys
import types
import typing
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PAGE = "settings.md"

INTRO = """\
# Settings reference

Every setting of a `rewardmap train` recipe, with its type, default, allowed values and help.
This page is generated when the site is built, from the dataclasses of
`src/rewardmap/train/recipe/schema.py` (the root is `Recipe`); each setting there is declared once,
with its default and its help, and this page, the YAML files and `--set` all read it.

A recipe file sets only what differs from these defaults; dotted names are the path through
the YAML mappings:

```yaml
inherit: tiny                # a built-in recipe, or files relative to this one
grpo:
  lr: 3.0e-5
  num_generations: 8
curriculum:
  preset: fine
```

On the command line the same names take `--set`, each value read as YAML:
`rewardmap train recipes/qwen2.5-vl-7b/rewardmap.yaml --set grpo.lr=2e-6 --set 'data.types=[TorF1, planning]'`.
An unknown name, a wrong type or a value out of range stops the run with one line that names
the file, the dotted setting and the nearest known name. "empty" is YAML's `null` (or nothing
after the colon).
"""


def _recipe_class():
    """`Recipe` from this checkout's source tree (not from wherever rewardmap is installed)."""
    src = str(ROOT / "src")
    if src not in sys.path:
        sys.path.insert(0, src)
    from rewardmap.train.recipe import Recipe

    return Recipe


def _type_name(tp) -> str:
    origin, args = typing.get_origin(tp), typing.get_args(tp)
    if origin in (typing.Union, types.UnionType):
        names = [_type_name(a) for a in args if a is not type(None)]
        return " or ".join(names) + (" or empty" if type(None) in args else "")
    if origin is list:
        return f"list of {_type_name(args[0])}" if args else "list"
    if origin is dict:
        return f"mapping of {_type_name(args[0])} to {_type_name(args[1])}" if args else "mapping"
    if tp is dict:
        return "mapping"
    return getattr(tp, "__name__", str(tp))


def _value(value) -> str:
    """A default as YAML writes it."""
    if value is None:
        return "empty"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_value(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}: {_value(v)}" for k, v in value.items()) + "}"
    if isinstance(value, float):
        return repr(value)
    return str(value)


def _allowed(metadata) -> str:
    parts = []
    if "choices" in metadata:
        parts.append(", ".join(f"`{c}`" for c in metadata["choices"]))
    low, high = metadata.get("min"), metadata.get("max")
    if low is not None and high is not None:
        parts.append(f"{_value(low)} to {_value(high)}")
    elif low is not None:
        parts.append(f"at least {_value(low)}")
    elif high is not None:
        parts.append(f"at most {_value(high)}")
    return "; ".join(parts)


def _cell(text: str) -> str:
    """Text for a Markdown table cell: code spans kept, Markdown and HTML characters escaped outside them."""
    pieces = text.replace("\n", " ").split("`")
    for i in range(0, len(pieces), 2):  # outside code spans
        pieces[i] = (pieces[i].replace("\\", "\\\\").replace("*", "\\*").replace("_", "\\_")
                     .replace("<", "&lt;").replace(">", "&gt;").replace("[", "\\["))
    if len(pieces) % 2 == 0:  # an unpaired backtick: no code spans at all
        return text.replace("|", "\\|").replace("<", "&lt;").replace("*", "\\*")
    return "`".join(pieces).replace("|", "\\|")


@dataclasses.dataclass
class Section:
    """One dataclass of the recipe: its dotted name, its docstring and its plain settings."""

    name: str
    doc: str
    rows: list[tuple[str, str, str, str, str]]


def sections(instance=None, prefix: str = "") -> list[Section]:
    """The recipe's sections, depth first, read from a default instance (so that a nested
    dataclass's defaults are the ones its parent's factory gives, e.g. `sft.lora.enabled`)."""
    if instance is None:
        instance = _recipe_class()()
    cls = type(instance)
    hints = typing.get_type_hints(cls)
    doc = " ".join((cls.__doc__ or "").split())
    here = Section(prefix.rstrip(".") or "(top level)", doc, [])
    nested = []
    for f in dataclasses.fields(cls):
        value = getattr(instance, f.name)
        if dataclasses.is_dataclass(hints[f.name]):
            nested += sections(value, f"{prefix}{f.name}.")
            continue
        trl = f" Passed to TRL as `{f.metadata['trl']}`." if "trl" in f.metadata else ""
        here.rows.append((prefix + f.name, _type_name(hints[f.name]), _value(value), _allowed(f.metadata),
                          f.metadata.get("help", "") + trl))
    return ([here] if here.rows or prefix else []) + nested


def dotted_names(cls=None, prefix: str = "") -> list[str]:
    """Every dotted setting of `Recipe`, sections included (`data`, `data.synthetic`, ...)."""
    cls = cls or _recipe_class()
    hints = typing.get_type_hints(cls)
    names = []
    for f in dataclasses.fields(cls):
        names.append(prefix + f.name)
        if dataclasses.is_dataclass(hints[f.name]):
            names += dotted_names(hints[f.name], f"{prefix}{f.name}.")
    return names


def markdown() -> str:
    out = [INTRO]
    for section in sections():
        out.append(f"\n## `{section.name}`\n" if section.name != "(top level)" else "\n## Top level\n")
        if section.doc:
            out.append(_cell(section.doc) + "\n")
        if not section.rows:
            continue
        out.append("| setting | type | default | allowed | what it does |")
        out.append("|---|---|---|---|---|")
        for name, tp, default, allowed, help_ in section.rows:
            out.append(f"| `{name}` | {_cell(tp)} | `{default}` | {allowed} | {_cell(help_)} |")
    return "\n".join(out) + "\n"


def on_files(files, config):
    """MkDocs hook: add the generated settings page to the site."""
    from mkdocs.structure.files import File

    files.append(File.generated(config, PAGE, content=markdown()))
    return files


if __name__ == "__main__":
    sys.stdout.write(markdown())
