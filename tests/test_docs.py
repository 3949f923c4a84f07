"""The documentation: the MkDocs site builds with --strict (no broken link or anchor, no missing
page, no page left out of the navigation), its generated settings reference names every setting
of the recipe, and the README stays a short front door."""

import dataclasses
import os
import re
import subprocess
import sys
import typing
from pathlib import Path

import pytest

from rewardmap.train.recipe import Recipe

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"


def dotted_settings(cls=Recipe, prefix=""):
    """Every dotted setting of the recipe, sections included, walked here on its own (not by the hook)."""
    hints = typing.get_type_hints(cls)
    names = []
    for f in dataclasses.fields(cls):
        names.append(prefix + f.name)
        if dataclasses.is_dataclass(hints[f.name]):
            names += dotted_settings(hints[f.name], f"{prefix}{f.name}.")
    return names


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    pytest.importorskip("mkdocs", reason="the docs extra (pip install -e '.[docs]'; part of dev)")
    pytest.importorskip("material", reason="the docs extra (pip install -e '.[docs]'; part of dev)")
    out = tmp_path_factory.mktemp("site")
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1"}
    done = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "--quiet",
                           "--config-file", str(ROOT / "mkdocs.yml"), "--site-dir", str(out)],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, f"mkdocs build --strict failed:\n{done.stdout}\n{done.stderr}"
    return out


def test_the_site_builds_strict(site):
    for page in ("index.html", "getting-started/index.html", "data/index.html", "training/index.html",
                 "settings/index.html", "evaluation/index.html", "reproduce/index.html", "rewards/index.html"):
        assert (site / page).is_file(), page


def test_the_settings_reference_names_every_setting(site):
    page = (site / "settings" / "index.html").read_text(encoding="utf-8")
    names = dotted_settings()
    assert {"grpo.lr", "data.synthetic.cities", "sft.lora.r", "eval.datasets"} <= set(names)
    missing = [n for n in names if f"<code>{n}</code>" not in page]
    assert not missing, f"settings missing from the generated reference: {missing}"


def test_the_settings_reference_shows_help_defaults_and_rules():
    sys.path.insert(0, str(ROOT / "tools"))
    try:
        import docs_settings
    finally:
        sys.path.remove(str(ROOT / "tools"))
    rows = {name: row for s in docs_settings.sections() for name, *row in s.rows}
    field = {f.name: f for f in dataclasses.fields(Recipe().grpo)}["num_generations"]
    assert rows["grpo.num_generations"] == ["int", str(field.default), f"at least {field.metadata['min']}",
                                            field.metadata["help"] + " Passed to TRL as `num_generations`."]
    assert rows["sft.lora.enabled"][1] == "true"  # the default its parent's factory gives, not LoraArgs'
    assert "`group`, `batch`, `none`" in rows["grpo.scale_rewards"][2]
    assert rows["data.synthetic.size"][2] == "256 to 8192"
    assert rows["data.synthetic.size"][3] == "Map image side in pixels (the model's processor may shrink it)."  # no TRL


def test_the_readme_is_a_short_front_door():
    text = README.read_text(encoding="utf-8")
    assert len(text.splitlines()) <= 150
    assert "make test" in text and "make test" in (ROOT / ".ci" / "run").read_text()
    for target in re.findall(r"\]\(([^)#\s]+)(?:#[^)]*)?\)", text):
        if not re.match(r"[a-z]+://", target):
            assert (ROOT / target).exists(), f"README links to a missing file: {target}"


def test_nothing_points_outside_the_repository():
    for path in [README, *sorted((ROOT / "docs").glob("*.md")), ROOT / "mkdocs.yml"]:
        text = path.read_text(encoding="utf-8")
        assert "../shared" not in text and "/work/shared" not in text, path


def test_the_bundled_real_map_is_small_and_licensed():
    from PIL import Image

    image = ROOT / "docs" / "real-map-oslo.jpg"
    assert image.stat().st_size < 300_000
    with Image.open(image) as im:
        assert max(im.size) <= 1024
    assert "MIT License" in (ROOT / "docs" / "real-map-oslo.LICENSE.txt").read_text(encoding="utf-8")
    assert "MIT License" in (ROOT / "docs" / "third-party.md").read_text(encoding="utf-8")
