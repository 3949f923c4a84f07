"""Synthetic maps of real maps' shapes: landscape, portrait, any W:H, or mixed per city."""

import json

import pytest
from PIL import Image

from commands import rewardmap
from rewardmap.datasets.synthetic import parse_aspect
from rewardmap.errors import InputError
from rewardmap.synth.city import draw_city, generate_city


@pytest.mark.parametrize("aspect, size", [(1.5, (1024, 683)), (2 / 3, (683, 1024)), (16 / 9, (1024, 576))])
def test_a_city_fills_a_map_of_its_shape(aspect, size):
    drawn = draw_city(3, "hard", 1024, aspect)
    assert drawn.image.size == size and drawn.problems == []
    xs, ys = zip(*drawn.city.positions.values())
    width, height = size
    assert 0 < min(xs) and max(xs) < width and 0 < min(ys) and max(ys) < height
    # the networks spread along the longer side, not only over a square in the middle
    spreads = []
    for seed in range(10):
        city = generate_city(seed, "hard", 1024, aspect=aspect)
        xs, ys = zip(*city.positions.values())
        spreads.append((max(xs) - min(xs)) / width if width > height else (max(ys) - min(ys)) / height)
    assert sorted(spreads)[5] > 0.6


def test_square_maps_are_the_maps_they_always_were():
    assert generate_city(5, "middle", 768, aspect=1.0) == generate_city(5, "middle", 768)


def test_aspect_option(tmp_path):
    assert parse_aspect("landscape") == 1.5 and parse_aspect("16:9") == 16 / 9 and parse_aspect("mixed") is None
    for bad in ("wide", "1:0", "9:1"):
        with pytest.raises(InputError, match="--aspect"):
            parse_aspect(bad)
    rewardmap("data", "synth", "--cities", 8, "--per-city", 4, "--size", 512, "--aspect", "mixed", "--seed", 1,
              "--out", tmp_path / "ds")
    sizes = {Image.open(p).size for p in (tmp_path / "ds" / "maps").rglob("*.png")}
    assert any(w > h for w, h in sizes) and any(w < h for w, h in sizes) and all(max(s) == 512 for s in sizes)
    position = json.loads(next((tmp_path / "ds" / "positions").rglob("*.json")).read_text())
    assert {"width", "height", "size"} <= set(position)
    result = rewardmap("data", "synth", "--aspect", "9:1", "--out", tmp_path / "x", check=False)
    assert result.returncode == 2 and "--aspect" in result.stderr and not (tmp_path / "x").exists()
