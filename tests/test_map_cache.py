"""Maps prepared once per GRPO run (`rewardmap.train.map_cache`): what the model receives is
the processor's output bit for bit, for the tiny processor and for Qwen2.5-VL-7B's image
settings, on synthetic and real maps; a map rewritten on disk is prepared again; each pixel
setting is its own entry; the cache stays within its bytes; a GRPO run trains the same weights
with and without it."""

from __future__ import annotations

import copy
import os

import numpy as np
import pytest
import torch
from PIL import Image, ImageDraw
from transformers.models.qwen2_vl.image_processing_pil_qwen2_vl import Qwen2VLImageProcessorPil
from trl import GRPOConfig, GRPOTrainer

from rewardmap.images import quiet_pillow
from rewardmap.model.packaged import model_path
from rewardmap.model.tiny import ImageOnlyQwen2_5_VLProcessor, load_tiny
from rewardmap.train.map_cache import CachingImageProcessor, MapDecoder, PreparedMaps, maps_prepared_once


@pytest.fixture(scope="module")
def tiny():
    return load_tiny(model_path("tiny-base"))


def seven_b(processor, **settings) -> ImageOnlyQwen2_5_VLProcessor:
    """PROCESSOR's tokenizer with Qwen2.5-VL-7B-Instruct's image processor settings (or SETTINGS)."""
    image_processor = Qwen2VLImageProcessorPil(**{"min_pixels": 3136, "max_pixels": 12_845_056, "patch_size": 14,
                                                  "merge_size": 2, "temporal_patch_size": 2, **settings})
    return ImageOnlyQwen2_5_VLProcessor(image_processor=image_processor, tokenizer=processor.tokenizer,
                                        chat_template=processor.chat_template)


def draw_map(path, size, mode="RGB", seed=0):
    """A map-like picture: lines and discs of many colours on a light ground."""
    rng = np.random.default_rng(seed)
    image = Image.new("RGB", size, (250, 248, 240))
    pen = ImageDraw.Draw(image)
    w, h = size
    for _ in range(12):
        colour = tuple(int(c) for c in rng.integers(0, 256, 3))
        pen.line([tuple(int(v) for v in rng.integers(0, (w, h))) for _ in range(4)], fill=colour, width=3)
        x, y = (int(v) for v in rng.integers(0, (w, h)))
        pen.ellipse((x - 4, y - 4, x + 4, y + 4), fill=colour)
    image.convert(mode).save(path)
    return str(path)


def prepared(rows: list[dict], processor, cache_bytes: int):
    """`maps_prepared_once` of ROWS as `run.grpo_dataset` casts them."""
    from datasets import Dataset, Image as DatasetImage

    return maps_prepared_once(Dataset.from_list(rows).cast_column("image", DatasetImage()), processor, cache_bytes)


def rows_for(paths: list[str]) -> list[dict]:
    return [{"prompt": [{"role": "user", "content": f"How many lines? ({i})"}], "image": p}
            for i, p in enumerate(paths)]


class NoGeneration(GRPOTrainer):
    """Rollouts of one fixed token: the data phase of a step without the model's generation."""

    def _generate_single_turn(self, prompt_ids, images, multimodal_fields, num_generations, **kwargs):
        return [[self.eos_token_ids[0]] for _ in prompt_ids], None


def data_phase(model, processor, rows, cache_bytes, tmp_path, steps=2, generations=2):
    """What TRL's GRPOTrainer hands the model in each of STEPS steps (every micro-batch's inputs),
    with each prompt rolled out GENERATIONS times, one prompt per step; and the cache."""
    config = GRPOConfig(output_dir=str(tmp_path / f"out{cache_bytes}"), per_device_train_batch_size=1,
                        gradient_accumulation_steps=generations, steps_per_generation=generations,
                        num_generations=generations, beta=0.0, max_completion_length=2, shuffle_dataset=False,
                        use_cpu=True, report_to="none", disable_tqdm=True)
    dataset, processing, maps = prepared(rows, processor, cache_bytes)
    trainer = NoGeneration(model=model, reward_funcs=lambda completions, **kw: [0.0] * len(completions), args=config,
                           train_dataset=dataset, processing_class=processing)
    model.train()
    batches, inputs = iter(trainer.get_train_dataloader()), []
    for _ in range(steps):
        samples, _ = trainer.get_batch_samples(batches, generations, trainer.args.device)
        for batch in samples:
            inputs.append(trainer._prepare_inputs(batch))
            trainer._step += 1
    return inputs, maps


def assert_identical(a: dict, b: dict):
    assert list(a) == list(b)
    for key in a:
        if isinstance(a[key], torch.Tensor):
            assert a[key].dtype == b[key].dtype and torch.equal(a[key], b[key]), key
        elif isinstance(a[key], np.ndarray):
            assert a[key].dtype == b[key].dtype and np.array_equal(a[key], b[key]), key
        else:
            assert a[key] == b[key], key


@pytest.mark.parametrize("settings", ["tiny", "7b"])
def test_grpo_inputs_with_the_cache_are_the_processors_bit_for_bit(tiny, tmp_path, settings):
    model, processor = tiny
    if settings == "7b":
        processor = seven_b(processor)
    maps = [draw_map(tmp_path / "a.png", (420, 300)), draw_map(tmp_path / "b.png", (40, 30), "L", 1),
            draw_map(tmp_path / "c.png", (900, 180), "RGBA", 2)]
    rows = rows_for([maps[0], maps[1], maps[0], maps[2], maps[0]])  # one prompt a step: map a in steps 1, 3 and 5
    plain, _ = data_phase(model, processor, rows, 0, tmp_path, steps=5)
    cached, cache = data_phase(model, processor, rows, 2**30, tmp_path, steps=5)
    assert len(plain) == len(cached) == 10
    for a, b in zip(plain, cached):
        assert_identical(a, b)
    assert "pixel_values" in cached[0]
    # each map prepared once; every other use of it (two per rollout, and the repeat) served from the cache
    assert cache.misses == 3 and cache.hits == 5 * 2 * 2 - 3


@pytest.mark.parametrize("settings", ["tiny", "7b"])
def test_real_maps_prepared_once_are_the_processors_bit_for_bit(tiny, real_data, settings):
    """Real maps: Miami and Oslo, within Qwen2.5-VL-7B's 12.8 Mpx, and Sydney (54 Mpx), which it shrinks."""
    processor = seven_b(tiny[1]) if settings == "7b" else tiny[1]
    paths = {p.stem: str(p) for p in (real_data / "maps").glob("*/*.png")}
    rows = [{"image": paths[name]} for name in ("miami", "oslo", "sydney", "miami", "oslo")]
    with quiet_pillow():
        plain = [r["image"] for r in prepared(rows, processor, 0)[0]]
        dataset, cached, cache = prepared(rows, processor, 2**32)
        marked = dataset[:]["image"]
        assert marked[0] is marked[3] and marked[1] is marked[4]  # decoded once
        expected = processor.image_processor(images=plain, return_tensors="pt")
        for _ in range(2):  # prepared, then served
            got = cached.image_processor(images=[copy.deepcopy(m) for m in marked], return_tensors="pt")
            assert_identical(dict(expected), dict(got))
    assert cache.misses == 3 and cache.hits == 7 and len(cache) == 3
    assert int(expected["image_grid_thw"].prod(-1).max()) * 14 * 14 <= 12_845_056


def test_a_map_rewritten_on_disk_is_prepared_again(tiny, tmp_path):
    processor = tiny[1]
    path = draw_map(tmp_path / "map.png", (300, 200))
    dataset, cached, cache = prepared([{"image": path}], processor, 2**30)
    first = cached.image_processor(images=[dataset[0]["image"]])["pixel_values"]
    assert np.array_equal(cached.image_processor(images=[dataset[0]["image"]])["pixel_values"], first)
    assert (cache.misses, cache.hits) == (1, 1)
    draw_map(path, (300, 200), seed=7)  # new pixels; the same name
    stat = os.stat(path)
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 10**9))
    image = dataset[0]["image"]
    again = cached.image_processor(images=[image])["pixel_values"]
    with quiet_pillow(), Image.open(path) as fresh:
        assert np.array_equal(again, processor.image_processor(images=[fresh])["pixel_values"])
    assert not np.array_equal(again, first) and cache.misses == 2 and len(cache) == 2


def test_each_pixel_setting_is_its_own_entry(tiny, tmp_path):
    path = draw_map(tmp_path / "map.png", (640, 480))
    image = MapDecoder()({"image": [{"path": path, "bytes": None}]})["image"][0]
    maps = PreparedMaps(2**30)
    large, small = seven_b(tiny[1]), seven_b(tiny[1], max_pixels=50_000)
    outputs = []
    for processor, kwargs in ((large, {}), (small, {}), (large, {"size": {"shortest_edge": 3136,
                                                                          "longest_edge": 20_000}})):
        got = CachingImageProcessor(processor.image_processor, maps)(images=[image], **kwargs)
        assert_identical(dict(processor.image_processor(images=[image], **kwargs)), dict(got))
        outputs.append(got["image_grid_thw"].tolist())
    assert len(maps) == 3 and maps.misses == 3
    assert outputs[0] != outputs[1] != outputs[2]


def test_the_cache_stays_within_its_bytes_least_recently_used_first_out(tiny, tmp_path):
    processor = tiny[1]  # every map 112 x 112 pixels: outputs of one size
    paths = [draw_map(tmp_path / f"{i}.png", (200, 150), seed=i) for i in range(3)]
    images = MapDecoder()({"image": [{"path": p, "bytes": None} for p in paths]})["image"]
    one = sum(v.nbytes for v in processor.image_processor(images=[images[0]]).values())
    maps = PreparedMaps(2 * one + one // 2)
    cached = CachingImageProcessor(processor.image_processor, maps)
    for i in (0, 1, 0, 2):  # 1 is then the least recently used
        cached(images=[images[i]])
        assert maps.bytes <= maps.max_bytes
    assert len(maps) == 2 and maps.misses == 3
    cached(images=[images[0]])  # kept
    assert maps.misses == 3
    cached(images=[images[1]])  # evicted: prepared again
    assert maps.misses == 4 and len(maps) == 2 and maps.bytes == 2 * one
    tight = PreparedMaps(one - 1)  # an output larger than the bound is served, not kept
    got = CachingImageProcessor(processor.image_processor, tight)(images=[images[0]])
    assert np.array_equal(got["pixel_values"], processor.image_processor(images=[images[0]])["pixel_values"])
    assert len(tight) == 0 and tight.bytes == 0


def test_other_images_go_to_the_real_image_processor(tiny, tmp_path):
    processor = tiny[1]
    path = draw_map(tmp_path / "map.png", (300, 200))
    marked = MapDecoder()({"image": [{"path": path, "bytes": None}]})["image"][0]
    maps = PreparedMaps(2**30)
    cached = CachingImageProcessor(processor.image_processor, maps)
    with Image.open(path) as opened:
        plain = opened.convert("RGB")
    for image in (plain,  # not decoded by MapDecoder
                  marked.convert("L"),  # derived from a map: keeps its info, not its mode
                  marked.resize((150, 100))):
        assert np.array_equal(cached(images=[image])["pixel_values"],
                              processor.image_processor(images=[image])["pixel_values"])
    assert len(maps) == 0 and maps.hits == maps.misses == 0


def test_a_dataloader_workers_copy_of_the_decoder_decodes_as_the_column_did(tmp_path):
    import pickle

    from datasets import Image as DatasetImage

    path = draw_map(tmp_path / "map.png", (120, 90))
    decoder = pickle.loads(pickle.dumps(MapDecoder(DatasetImage(mode="L"))))  # what a worker process receives
    a, b = decoder({"image": [{"path": path, "bytes": None}] * 2})["image"]
    assert a is b and a.mode == "L"
    assert a.info["rewardmap_map_file"][1:] == (os.path.getsize(path), os.stat(path).st_mtime_ns, (120, 90), "L")


def test_a_checkpoint_saves_the_processor_as_it_was(tiny, tmp_path):
    processor = seven_b(tiny[1])
    _, cached, _ = prepared([{"image": draw_map(tmp_path / "m.png", (64, 64))}], processor, 2**30)
    assert isinstance(processor.image_processor, Qwen2VLImageProcessorPil)  # the caller's is untouched
    cached.save_pretrained(tmp_path / "cached")
    processor.save_pretrained(tmp_path / "plain")
    files = sorted(p.name for p in (tmp_path / "plain").iterdir())
    assert files == sorted(p.name for p in (tmp_path / "cached").iterdir()) and "processor_config.json" in files
    for name in files:
        assert (tmp_path / "cached" / name).read_bytes() == (tmp_path / "plain" / name).read_bytes(), name


def test_grpo_trains_the_same_weights_with_and_without_the_cache(data, tmp_path):
    from io import StringIO

    from rich.console import Console

    from rewardmap.train.recipe import load_recipe
    from rewardmap.train.run import train

    weights, printed = [], []
    for cache_mb in (0, 64):
        out = StringIO()
        recipe = load_recipe("tiny", [f"output.dir={tmp_path / f'run{cache_mb}'}", f"data.dataset={data}",
                                      "data.heldout_cities=0", "eval.enabled=false", "grpo.per_type={}",
                                      "grpo.max_steps=2", "grpo.prompts_per_step=2", "grpo.num_generations=4",
                                      "grpo.per_device_batch_size=2", "grpo.max_completion_length=8",
                                      "grpo.save_steps=0", "grpo.report_to=none", f"grpo.map_cache_mb={cache_mb}"])
        run = train(recipe, console=Console(file=out, width=200))
        weights.append(load_file(run / "final" / "model.safetensors"))
        printed.append(out.getvalue())
    assert weights[0].keys() == weights[1].keys() and all(torch.equal(weights[0][k], weights[1][k])
                                                          for k in weights[0])
    init = load_file(model_path("tiny-base") + "/model.safetensors")
    assert any(not torch.equal(weights[0][k], init[k]) for k in init if k in weights[0])  # it trained
    assert "map preparations" not in printed[0]
    # 2 steps x 2 processor calls x 8 rollouts: 32 map uses; the 2 cities' maps prepared once each at most
    line = next(line for line in printed[1].splitlines() if "map preparations" in line)
    prepared = int(line.split("grpo: ")[1].split()[0])
    assert 1 <= prepared <= 2 and "served 32 map uses" in line


def load_file(path):
    from safetensors.torch import load_file as load

    return load(str(path))
