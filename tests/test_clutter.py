"""`data synth --clutter`: what real maps carry besides the metro, never read as a station."""

import json

from commands import rewardmap
from rewardmap.synth.city import draw_city, generate_city
from rewardmap.synth.clutter import LOCAL, RAIL, SUBTITLES, naming
from rewardmap.synth.frame import map_frame
from rewardmap.synth.render import city_frame


def test_clutter_is_drawn_and_labels_stay_clear_of_it():
    plain, busy = draw_city(11, "middle", 768), draw_city(11, "middle", 768, clutter=True)
    assert busy.problems == [] and busy.city.clutter and not plain.city.clutter
    colours = {rgb for _, rgb in busy.image.convert("RGB").getcolors(1 << 20)}
    assert RAIL in colours and RAIL not in {rgb for _, rgb in plain.image.convert("RGB").getcolors(1 << 20)}
    heading, rail, _ = LOCAL[busy.city.style]
    frame = city_frame(busy.city)
    assert frame.legend_heading == heading and frame.legend_extras == (rail,)
    assert frame.subtitle == SUBTITLES[busy.city.style] and frame.title_box[3] > city_frame(plain.city).title_box[3]
    base = map_frame(768, busy.city.name, busy.city.slug, list(busy.city.lines))
    height = lambda f: f.legend_box[3] - f.legend_box[1]  # noqa: E731
    assert height(frame) == height(base) + 2 * frame.legend_row  # a heading row and a rail row


def test_no_clutter_text_names_a_station():
    assert naming(["Trains every 3-8 minutes", "Lift at Baru"], ["Baru Station"]) == ["Trains every 3-8 minutes"]
    assert naming(["Comboios a cada 3-8 minutos"], ["Cada Station"]) == []
    assert naming(["Barunya"], ["Baru Station"]) == ["Barunya"]  # whole words only
    for seed in range(300):
        city = generate_city(seed, "mixed", 512, clutter=True)
        heading, rail, _ = LOCAL[city.style]
        words = [heading, rail, SUBTITLES[city.style]]
        assert naming(words, city.positions) == words, city.slug


def test_data_synth_clutter_keeps_every_answer_and_label(tmp_path):
    rewardmap("data", "synth", "--cities", 3, "--per-city", 8, "--size", 512, "--clutter", "--seed", 2,
              "--out", tmp_path / "ds")
    result = rewardmap("data", "check", tmp_path / "ds")
    assert ": ok" in result.stderr and "labels of 3 synthetic maps: 0 problems" in result.stderr
    positions = json.loads(next((tmp_path / "ds" / "positions").rglob("*.json")).read_text())
    assert positions["other_colours"] == ["#8c8c8c", "#2c6cb0"]
    assert len(positions["reserved"]) >= 2  # title and legend, and the notes box where one fitted
