"""Maps decoded once per step and prepared once per GRPO run, not once per rollout.

One training process's GRPO step covers `prompts x rollouts` rows, the rollouts of a prompt
naming the same map, and the Trainer fetches all of the step's micro-batches (each a copy of
that rollout batch) before the first one runs. Left alone, `datasets.Image` decodes the map of
every row of every micro-batch, TRL deep-copies the prompts (maps included), and the processor
prepares each row's map twice: to tokenise the prompts for generation, and again for the
policy's forward pass. Under the 7B recipes (2 prompts x 8 rollouts per process, one row per
micro-batch) that is 256 decodes, all held at once, and 32 preparations of 2 maps a step; at
Qwen2.5-VL-7B's settings a real ReasonMap map takes 0.06-3.6 s of one core to prepare (1.0 s on
average over the 11: resized to at most 12,845,056 pixels, normalised, cut into 14-pixel
patches), and its output up to 307 MB.

Here the rows naming one map file share one image while any of them is alive (`MapDecoder`),
decoded as `datasets.Image` decodes it and marked with the file's identity (path, size,
modification time) in `Image.info`, which copies of the image keep. The trainer's processor
gets an image processor (`CachingImageProcessor`) that serves each marked map, under the same
settings, from `PreparedMaps` (in memory, least recently used first out, at most
`grpo.map_cache_mb` per process) and calls the real one, one map at a time, for a map it does
not hold. A map rewritten on disk has another identity and is prepared again. Other images, and
image processors whose output is not Qwen2-VL's (`pixel_values`, `image_grid_thw`), go to the
real image processor as before. The model receives the real processor's output, bit for bit
(`tests/test_map_cache.py`); `benchmarks/bench_map_prep.py` measures the step's data phase.

Each training process holds its own cache and decoder: nothing is shared between processes.
"""

from __future__ import annotations

import copy
import json
import os
import weakref
from collections import OrderedDict
from pathlib import Path

MAP_FILE = "rewardmap_map_file"  # the `Image.info` key of a map's file identity
OUTPUTS = {"pixel_values", "image_grid_thw"}  # what a cached entry holds: Qwen2-VL's image processor output


def maps_prepared_once(dataset, processor, cache_bytes: int):
    """(train_dataset, processing_class, PreparedMaps or None) for `GRPOTrainer` from DATASET
    (GRPO's rows, their "image" column a `datasets.Image`) and PROCESSOR: with CACHE_BYTES, each
    map decoded once while rows naming it are alive and prepared once while the cache holds it;
    0: DATASET and PROCESSOR as they are, every row's map decoded and prepared as TRL does alone."""
    from datasets import Image

    if not cache_bytes:
        return dataset, processor, None
    decoder = MapDecoder(dataset.features["image"])  # decodes as the column did
    dataset = dataset.cast_column("image", Image(decode=False)).with_transform(decoder)
    maps = PreparedMaps(cache_bytes)
    cached = copy.copy(processor)  # the caller's processor (saved with the final model) stays as it is
    cached.image_processor = CachingImageProcessor(processor.image_processor, maps)
    return dataset, cached, maps


class MapDecoder:
    """A `Dataset.with_transform` for an `Image(decode=False)` column "image": each row's map
    decoded by FEATURE (a `datasets.Image`, by default one with no mode) and marked with its
    file's identity, the rows naming one file sharing one image while any of them is alive. The
    Trainer fetches every micro-batch of a step before the first runs, and GRPO's micro-batches
    of a step repeat one rollout batch: its maps are decoded once a step, not once per row and
    micro-batch."""

    def __init__(self, feature=None):
        from datasets import Image

        self.feature = feature or Image()
        self._alive: weakref.WeakValueDictionary = weakref.WeakValueDictionary()

    def __reduce__(self):  # a copy (a dataloader worker's) starts with no images
        return MapDecoder, (self.feature,)

    def __call__(self, batch: dict) -> dict:
        return {**batch, "image": [self._decode(value) for value in batch["image"]]}

    def _decode(self, value: dict):
        if value.get("bytes") is not None or value.get("path") is None:  # not a file: decoded as it is, unmarked
            return self.feature.decode_example(value)
        identity = file_identity(value["path"])  # before decoding: a file rewritten meanwhile is read again next time
        image = self._alive.get(identity)
        if image is None:
            image = self.feature.decode_example(value)
            image.info[MAP_FILE] = (*identity, image.size, image.mode)
            self._alive[identity] = image
        return image


def file_identity(path: str | os.PathLike) -> tuple[str, int, int]:
    """(resolved path, size in bytes, modification time in ns): another value once the file is rewritten."""
    stat = os.stat(path)
    return str(Path(path).resolve()), stat.st_size, stat.st_mtime_ns


class PreparedMaps:
    """Image-processor outputs by (map, settings), least recently used first out, at most
    `max_bytes` in all; an output larger than that is not kept."""

    def __init__(self, max_bytes: int):
        self.max_bytes = max_bytes
        self.bytes = self.hits = self.misses = 0
        self._entries: OrderedDict[tuple, tuple[dict, int]] = OrderedDict()

    def __len__(self) -> int:
        return len(self._entries)

    def get(self, key: tuple) -> dict | None:
        entry = self._entries.get(key)
        if entry is None:
            self.misses += 1
            return None
        self.hits += 1
        self._entries.move_to_end(key)
        return entry[0]

    def put(self, key: tuple, output: dict) -> None:
        size = sum(_nbytes(v) for v in output.values())
        if size > self.max_bytes:
            return
        if key in self._entries:
            self.bytes -= self._entries.pop(key)[1]
        while self.bytes + size > self.max_bytes:
            self.bytes -= self._entries.popitem(last=False)[1][1]
        self._entries[key] = (output, size)
        self.bytes += size


class CachingImageProcessor:
    """A processor's image processor that prepares each marked map once while `maps` holds it;
    every other attribute is the real image processor's."""

    def __init__(self, image_processor, maps: PreparedMaps):
        self.image_processor, self.maps = image_processor, maps

    def __getattr__(self, name: str):
        if name in ("image_processor", "maps"):  # not set yet (copying): no recursion
            raise AttributeError(name)
        return getattr(self.image_processor, name)

    def __deepcopy__(self, memo):
        """The real image processor: a processor saved at a checkpoint (its `to_dict` deep-copies
        its attributes) holds exactly what it held before."""
        return copy.deepcopy(self.image_processor, memo)

    def __call__(self, images=None, *args, **kwargs):
        flat = _marked(images)
        if flat is None or args:
            return self.image_processor(images, *args, **kwargs)
        from transformers import BatchFeature

        options = {k: v for k, v in kwargs.items() if k != "return_tensors"}  # one entry serves numpy and torch
        settings = json.dumps([self.image_processor.to_dict(), options], sort_keys=True, default=repr)
        outputs = []
        for image in flat:
            key = (image.info[MAP_FILE], settings)
            output = self.maps.get(key)
            if output is None:
                output = dict(self.image_processor([image], **options))
                if set(output) != OUTPUTS:  # not an output whose rows concatenate per image
                    return self.image_processor(images, **kwargs)
                self.maps.put(key, output)
            outputs.append(output)
        joined = {name: _concatenate([o[name] for o in outputs]) for name in outputs[0]}
        return BatchFeature(joined, tensor_type=kwargs.get("return_tensors"))


def _marked(images) -> list | None:
    """IMAGES as a flat list when every one is a marked map of the size and mode it was decoded
    with (an image derived from it is not the map), else None."""
    from PIL import Image
    from transformers.image_utils import make_flat_list_of_images

    try:
        flat = make_flat_list_of_images(images)
    except (ValueError, TypeError, AttributeError):
        return None
    for image in flat:
        mark = image.info.get(MAP_FILE) if isinstance(image, Image.Image) else None
        if mark is None or tuple(mark[-2:]) != (image.size, image.mode):
            return None
    return list(flat)


def _concatenate(parts: list):
    """PARTS joined along the first axis (a new array: the cached parts are never handed out)."""
    import numpy as np
    import torch

    return torch.cat(parts) if isinstance(parts[0], torch.Tensor) else np.concatenate(parts)


def _nbytes(value) -> int:
    import torch

    return value.element_size() * value.nelement() if isinstance(value, torch.Tensor) else value.nbytes
