"""Synthetic cities: determinism, difficulty, names, geometry, rendering and files."""

import json
import re
from functools import cache

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image

from rewardmap.network.difficulty import map_difficulty
from rewardmap.network.loading import load_station_file
from rewardmap.network.names import clean
from rewardmap.synth import (
    SynthCity,
    generate_city,
    render_city,
    station_file_mapping,
    transfer_stations,
    write_city,
)
from rewardmap.synth.colors import COLOUR_WORDS, hex_to_rgb

LEVELS = ("easy", "middle", "hard")
SEEDS = range(4)


@cache
def city(seed: int, level: str = "mixed", size: int = 1024) -> SynthCity:
    return generate_city(seed, level, size)


@cache
def rendered(seed: int, level: str = "mixed", size: int = 1024):
    return render_city(city(seed, level, size), return_labels=True)


def cities():
    return [city(seed, level) for level in LEVELS for seed in SEEDS]


def test_same_seed_same_files_other_seed_other_city(tmp_path):
    a, b = write_city(generate_city(7), tmp_path / "a"), write_city(generate_city(7), tmp_path / "b")
    for fa, fb in zip((a.station_file, a.map_file, a.positions_file), (b.station_file, b.map_file, b.positions_file)):
        assert fa.read_bytes() == fb.read_bytes()
    other = generate_city(8)
    assert other.slug != city(7).slug and other.lines != city(7).lines


def test_requested_difficulty_is_met():
    for level in LEVELS:
        for seed in range(8):
            c = city(seed, level)
            assert map_difficulty(len(c.lines), len(transfer_stations(c))) == level, (level, seed)
            assert 2 <= len(c.lines) <= 12
            assert len(c.lines) <= 3 if level == "easy" else len(c.lines) >= 4
    mixed = {map_difficulty(len(city(s).lines), len(transfer_stations(city(s)))) for s in range(30)}
    assert mixed == set(LEVELS)


def test_station_names_are_unique_and_give_no_line_away():
    for c in cities():
        names = list(c.positions)
        assert len({clean(n) for n in names}) == len(names)
        assert set(names) == {s for stations in c.lines.values() for s in stations}
        for name in names:
            base = name.removesuffix(" Station")
            assert name.endswith(" Station") and "Station" not in base and base.strip()
            words = {w.casefold() for w in re.findall(r"[^\W\d_]+", base)}
            assert not words & COLOUR_WORDS and "line" not in words, name
            assert not re.search(r"\d", base), name
            assert not any(line.casefold() in name.casefold() for line in c.lines), name


def test_transfer_markers_mark_exactly_the_stations_on_two_lines(tmp_path):
    for c in cities():
        mapping = station_file_mapping(c)
        on = {s: sum(s in stations for stations in c.lines.values()) for s in c.positions}
        for line, marked in mapping.items():
            for raw, name in zip(marked, c.lines[line]):
                assert raw == (f"{name} (Transfer Station)" if on[name] > 1 else name)
        files = write_city(c, tmp_path)
        network = load_station_file(files.station_file)
        assert network.transfer_count == sum(n > 1 for n in on.values())
        assert network.difficulty == map_difficulty(len(c.lines), network.transfer_count)


def test_loops_close_and_branches_fork_from_their_main_line():
    pool = [city(seed) for seed in range(40)]
    loops = [(c, line) for c in pool for line, st in c.lines.items() if st[0] == st[-1]]
    branches = [(c, line) for c in pool for line in c.lines if line.endswith(" Branch")]
    assert loops and branches
    for c, line in loops:
        stations = c.lines[line]
        assert len(set(stations)) == len(stations) - 1 >= 3
        assert c.paths[line][0] == c.paths[line][-1]
    for c, line in branches:
        main = line.removesuffix(" Branch")
        first = c.lines[line][0]
        assert main in c.lines and first in c.lines[main]
        assert set(c.lines[line][1:]).isdisjoint(c.lines[main])


def _step(a, b):
    return b[0] - a[0], b[1] - a[1]


def test_network_is_octilinear_with_stations_on_their_paths():
    for c in cities():
        cells = set()
        for line, path in c.paths.items():
            steps = [_step(a, b) for a, b in zip(path, path[1:])]
            for dx, dy in steps:
                assert dx == 0 or dy == 0 or abs(dx) == abs(dy), (line, dx, dy)
                cells.add(max(abs(dx), abs(dy)))
            stations = c.lines[line]
            loop = stations[0] == stations[-1]
            index = [path.index(c.positions[s]) for s in stations[:-1 if loop else None]]
            assert index == sorted(index)
            assert loop or (index[0], index[-1]) == (0, len(path) - 1)
            for i, j in zip(index, index[1:]):  # at most one bend between consecutive stations
                assert sum(a != b for a, b in zip(steps[i:j], steps[i + 1:j])) <= 1, (line, i, j)
        assert len(cells) == 1  # every step is one grid cell
        margin = c.size * 0.04
        assert all(margin <= x <= c.size - margin and margin <= y <= c.size - margin
                   for x, y in c.positions.values())


def test_map_shows_line_colours_at_stations_and_white_transfer_circles():
    for level in LEVELS:
        c = city(1, level)
        image, _ = rendered(1, level)
        pixels = image.load()
        transfers = transfer_stations(c)
        for line, stations in c.lines.items():
            rgb = hex_to_rgb(c.colors[line])
            for s in stations:
                x, y = c.positions[s]
                if s in transfers:
                    assert pixels[x, y] == (255, 255, 255)
                    ring = [pixels[x + dx, y] for dx in range(4, 30)]
                    assert any(sum(p) < 200 for p in ring), s  # the dark outline
                else:
                    near = {pixels[x + dx, y + dy] for dx in range(-6, 7) for dy in range(-6, 7)}
                    assert rgb in near, (line, s)


def test_labels_do_not_overlap_and_stay_inside():
    for level in LEVELS:
        for seed in SEEDS:
            c = city(seed, level)
            _, labels = rendered(seed, level)
            assert set(labels) == set(c.positions)
            boxes = sorted(labels.values())
            for box in boxes:
                assert 0 <= box[0] < box[2] <= c.size and 0 <= box[1] < box[3] <= c.size
            for i, a in enumerate(boxes):
                for b in boxes[i + 1:]:
                    if b[0] >= a[2]:
                        break
                    assert not (a[1] < b[3] and b[1] < a[3]), (level, seed, a, b)


def test_write_city_writes_three_files_atomically(tmp_path):
    c = city(3)
    files = write_city(c, tmp_path)
    assert files.station_file == tmp_path / "stations" / "synthetic" / f"{c.slug}.json"
    assert files.map_file == tmp_path / "maps" / "synthetic" / f"{c.slug}.png"
    assert files.positions_file == tmp_path / "positions" / "synthetic" / f"{c.slug}.json"
    assert not list(tmp_path.rglob("*.tmp"))
    with Image.open(files.map_file) as image:
        assert image.size == (c.size, c.size)
    assert json.loads(files.station_file.read_text(encoding="utf-8")) == station_file_mapping(c)
    positions = json.loads(files.positions_file.read_text(encoding="utf-8"))
    assert positions["size"] == c.size and positions["lines"] == c.colors
    assert positions["stations"] == {s: list(xy) for s, xy in c.positions.items()}


@pytest.mark.parametrize("size", [512, 2048])
def test_other_sizes_scale_the_map(size):
    c = city(2, "middle", size)
    image, labels = rendered(2, "middle", size)
    assert image.mode == "RGB" and image.size == (size, size)
    assert all(0 < x < size and 0 < y < size for x, y in c.positions.values())
    assert set(labels) == set(c.positions)


@pytest.mark.parametrize("kwargs, argument", [
    ({"seed": -1}, "seed"), ({"seed": 1, "difficulty": "expert"}, "difficulty"),
    ({"seed": 1, "size": 255}, "size"), ({"seed": 1, "size": 8193}, "size"),
])
def test_bad_arguments_raise_value_error_naming_them(kwargs, argument):
    with pytest.raises(ValueError, match=argument):
        generate_city(**kwargs)


@settings(max_examples=8, deadline=None)
@given(seed=st.integers(0, 10**6), level=st.sampled_from(LEVELS))
def test_any_seed_gives_a_valid_city(seed, level):
    c = generate_city(seed, level, 768)
    assert map_difficulty(len(c.lines), len(transfer_stations(c))) == level
    assert c.country == "synthetic" and re.fullmatch(r"[a-z0-9_]+", c.slug)
    assert all(re.fullmatch(r"#[0-9a-f]{6}", colour) for colour in c.colors.values())
    for path in c.paths.values():
        assert all(dx == 0 or dy == 0 or abs(dx) == abs(dy) for dx, dy in (_step(a, b) for a, b in zip(path, path[1:])))
