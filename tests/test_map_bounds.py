"""Maps brought within `data.min_pixels` / `data.max_pixels` before the processor, as the
released trainer does: one factor on both sides, sides truncated, nearest-neighbour, once per run."""

import math

from hypothesis import given
from hypothesis import strategies as st
from PIL import Image

from rewardmap.images import quiet_pillow
from rewardmap.train.map_bounds import bounded_maps, bounded_size
from rewardmap.train.recipe import load_recipe
from rewardmap.train.run import _within_bounds


def _released(width, height, min_pixels, max_pixels):
    """The released loader's rule, written out step by step from its description."""
    if width * height > max_pixels:
        f = math.sqrt(max_pixels / (width * height))
        width, height = int(width * f), int(height * f)
    if width * height < min_pixels:
        f = math.sqrt(min_pixels / (width * height))
        width, height = int(width * f), int(height * f)
    return width, height


@given(st.integers(1, 20_000), st.integers(1, 20_000))
def test_sizes_follow_the_released_rule(width, height):
    size = bounded_size(width, height, 3136, 12_845_056)
    assert size == _released(width, height, 3136, 12_845_056)
    if width * height > 12_845_056:
        assert size[0] * size[1] <= 12_845_056 and size[0] <= width and size[1] <= height
    elif width * height >= 3136:
        assert size == (width, height)


def test_only_maps_out_of_bounds_are_copied_once_and_resized_by_nearest(tmp_path):
    big, small = tmp_path / "big.png", tmp_path / "small.png"
    pattern = Image.new("RGB", (300, 200))
    pattern.putdata([((x * 7) % 256, (y * 11) % 256, (x * y) % 256) for y in range(200) for x in range(300)])
    pattern.save(big)
    Image.new("L", (80, 60), 128).save(small)  # 4,800 pixels: within bounds
    folder = tmp_path / "bounded"
    paths = bounded_maps([str(big), str(small), str(big)], folder, 3136, 10_000)
    assert paths[str(small)] == str(small)
    copy = paths[str(big)]
    assert copy.startswith(str(folder))
    with Image.open(copy) as image:
        assert image.size == bounded_size(300, 200, 3136, 10_000) == (122, 81)
        assert image.mode == "RGB"
        assert image.tobytes() == pattern.resize((122, 81), resample=Image.Resampling.NEAREST).tobytes()
    stamp = (folder / copy.split("/")[-1]).stat().st_mtime_ns
    assert bounded_maps([str(big)], folder, 3136, 10_000) == {str(big): copy}
    assert (folder / copy.split("/")[-1]).stat().st_mtime_ns == stamp  # made once
    assert len(list(folder.iterdir())) == 1


def test_training_rows_read_the_bounded_copy_and_nothing_without_bounds(tmp_path):
    Image.new("RGB", (400, 400), "white").save(tmp_path / "map.png")
    rows = [{"image": str(tmp_path / "map.png"), "id": 1}, {"image": str(tmp_path / "map.png"), "id": 2}]
    assert _within_bounds(load_recipe("tiny"), tmp_path / "run", rows) == rows
    bounded = _within_bounds(load_recipe("tiny", ["data.max_pixels=10000"]), tmp_path / "run", rows)
    assert {r["image"] for r in bounded} == {str(next((tmp_path / "run" / "maps_within_bounds").iterdir()))}
    assert [r["id"] for r in bounded] == [1, 2]
    records = [{"figure": str(tmp_path / "map.png"), "id": 1}]  # what the run's evaluations ask
    assert _within_bounds(load_recipe("tiny", ["data.max_pixels=10000"]), tmp_path / "run", records,
                          key="figure")[0]["figure"] == bounded[0]["image"]


def test_real_maps_get_the_released_trainers_image_tokens(real_data):
    """With the 7B recipe's bounds every real ReasonMap map ends as the released trainer's does:
    resized by the data bounds only when over 128,450,560 pixels (Dubai), then bounded by the
    processor's own 12,845,056 pixels (Qwen2.5-VL-7B-Instruct's published preprocessor setting,
    kept because the recipe sets no model pixels): at most 16,384 image tokens, where the
    processor bounded by 128,450,560 gave Dubai 163,540."""
    from transformers.models.qwen2_vl.image_processing_pil_qwen2_vl import smart_resize

    recipe = load_recipe("recipes/qwen2.5-vl-7b/rewardmap.yaml")
    assert recipe.model.max_pixels is None and recipe.model.min_pixels is None

    def tokens(width, height, max_pixels):
        h, w = smart_resize(height, width, factor=28, min_pixels=3136, max_pixels=max_pixels)
        return (h // 14) * (w // 14) // 4

    maps = sorted((real_data / "maps").rglob("*.png"))
    assert maps
    resized = []
    for path in maps:
        with quiet_pillow(), Image.open(path) as image:
            size = image.size
        bounded = bounded_size(*size, recipe.data.min_pixels, recipe.data.max_pixels)
        assert bounded == _released(*size, 3136, 128_450_560)
        if bounded != size:
            resized.append(path.stem)
        assert tokens(*bounded, 12_845_056) <= 16_384, path
    assert resized == ["dubai"]
    assert tokens(9934, 14044, 128_450_560) == 163_540  # Dubai as the processor alone bounded it before
