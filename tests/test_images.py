"""Every command that takes a map image checks it the same way (`rewardmap.images`): the
pixel count is bounded before decoding and the image is decoded whole, so neither a
decompression bomb nor a PNG with right checksums over a broken stream gets through."""

from __future__ import annotations

import io
import json
import shutil
import struct
import zlib

import pytest
from commands import rewardmap, synth_data
from PIL import Image

from rewardmap.images import MAX_MAP_PIXELS, ImageProblem, check_map


def png(width=12, height=8) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (width, height), "red").save(buffer, format="PNG")
    return buffer.getvalue()


def chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def with_chunk(data: bytes, kind: bytes, new: bytes) -> bytes:
    """DATA with its first KIND chunk's content replaced by NEW, its checksum made right."""
    at = data.index(kind) - 4
    length = struct.unpack(">I", data[at:at + 4])[0]
    return data[:at] + chunk(kind, new) + data[at + 12 + length:]


def bomb() -> bytes:
    """A few hundred bytes whose header says 30,000 x 30,000 pixels."""
    data = png()
    header = data[data.index(b"IHDR") + 4:data.index(b"IHDR") + 17]
    return with_chunk(data, b"IHDR", struct.pack(">II", 30000, 30000) + header[8:])


def broken_stream() -> bytes:
    """Every checksum right, the compressed pixels far too short: `verify` passes, decoding fails."""
    return with_chunk(png(), b"IDAT", zlib.compress(b"\x00" * 5))


def truncated() -> bytes:
    """The first half of a map whose pixels do not compress away."""
    buffer = io.BytesIO()
    Image.frombytes("RGB", (64, 64), bytes(range(256)) * 48).save(buffer, format="PNG")
    data = buffer.getvalue()
    return data[:len(data) // 2]


def dds_of_unknown_format() -> bytes:
    """A DDS header with no pixel format: Pillow's plugin raises NotImplementedError on opening."""
    return b"DDS " + struct.pack("<7I", 124, 0x1007, 0, 0, 0, 0, 0) + bytes(100)


def tiff_with_float_strip_offsets() -> bytes:
    """A TIFF whose strip offsets are typed FLOAT: Pillow raises TypeError on decoding."""
    buffer = io.BytesIO()
    Image.new("RGB", (12, 8), "red").save(buffer, format="TIFF")
    data = bytearray(buffer.getvalue())
    ifd = struct.unpack("<I", data[4:8])[0]
    for k in range(struct.unpack("<H", data[ifd:ifd + 2])[0]):
        entry = ifd + 2 + 12 * k
        if struct.unpack("<H", data[entry:entry + 2])[0] == 273:  # StripOffsets
            data[entry + 2:entry + 4] = struct.pack("<H", 11)
    return bytes(data)


BAD = {"empty": b"", "not an image": b"just text", "truncated": truncated(), "bomb": bomb(),
       "broken stream": broken_stream()}


def test_check_map_accepts_a_map_and_names_what_is_wrong_with_the_others():
    assert check_map(png()) == (12, 8)
    reasons = {}
    for name, data in BAD.items():
        with pytest.raises(ImageProblem) as e:
            check_map(data)
        reasons[name] = str(e.value)
    assert reasons["bomb"] == f"30000x30000 pixels, more than the {MAX_MAP_PIXELS:,} allowed"
    assert reasons["broken stream"].startswith("does not decode")
    assert reasons["empty"] == reasons["not an image"] == "not an image file"
    Image.open(io.BytesIO(broken_stream())).verify()  # what the old check relied on lets it through


def test_check_map_turns_what_any_pillow_plugin_raises_into_a_problem():
    """Pillow's plugins raise more than OSError and ValueError on crafted files: these two once
    escaped as a traceback from `data check`, `eval` and `data build`."""
    with pytest.raises(ImageProblem, match=r"^cannot be opened \(Unknown pixel format flags 0\)$"):
        check_map(dds_of_unknown_format())
    with pytest.raises(ImageProblem, match=r"^does not decode \('float' object cannot be interpreted as an integer\)$"):
        check_map(tiff_with_float_strip_offsets())


@pytest.fixture(scope="module")
def clean(tmp_path_factory):
    return synth_data(tmp_path_factory.mktemp("images") / "data")


@pytest.mark.parametrize("case", list(BAD))
def test_every_command_refuses_a_bad_map(clean, tmp_path, case):
    data = tmp_path / "data"
    shutil.copytree(clean, data)
    victim = sorted((data / "maps").rglob("*.png"))[0]
    victim.write_bytes(BAD[case])
    # data check: a problem on the records of that map
    result = rewardmap("data", "check", data, check=False)
    assert result.returncode == 1 and f"image {victim.relative_to(data)} is unreadable" in result.stdout
    assert "Traceback" not in result.stderr and "Warning" not in result.stderr
    # eval: one line before anything is asked
    result = rewardmap("eval", "--data", data, "--benchmark", "reasonmap-plus", "--api", "http://127.0.0.1:9/v1",
                       "--api-model", "m", "--out", tmp_path / "run", check=False)
    assert result.returncode == 2 and f"{victim}: not a usable map image" in result.stderr and "Traceback" not in result.stderr
    # data build: the map is refused before anything is written
    result = rewardmap("data", "build", "--stations", data / "stations", "--maps", data / "maps",
                       "--out", tmp_path / "built", check=False)
    assert result.returncode == 2 and f"{victim}: not a usable map image" in result.stderr and not (tmp_path / "built").exists()
    # data import: the row that carries it
    record = json.loads((data / "questions.jsonl").read_text().splitlines()[0])
    source = tmp_path / "source"
    source.mkdir()
    (source / "map.png").write_bytes(BAD[case])
    (source / "rows.json").write_text(json.dumps([{**record, "figure": "map.png", "json": None}]))
    result = rewardmap("data", "import", source / "rows.json", "--out", tmp_path / "imported", check=False)
    assert result.returncode == 2 and "field 'figure': not a usable map image" in result.stderr
    assert not (tmp_path / "imported").exists()


def test_eval_decodes_each_map_once_across_resumed_runs(clean, tmp_path):
    from rewardmap.eval.run import check_images

    maps = sorted(str(p) for p in (clean / "maps").rglob("*.png"))
    checked = tmp_path / "maps_checked.json"
    check_images(maps, checked)
    assert sorted(json.loads(checked.read_text())) == maps
    copy = tmp_path / "copy.png"
    shutil.copy(maps[0], copy)
    check_images([copy], checked)
    copy.write_bytes(broken_stream())  # changed since it was found sound: checked again
    with pytest.raises(Exception, match="not a usable map image: does not decode"):
        check_images([copy], checked)
