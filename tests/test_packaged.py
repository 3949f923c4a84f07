"""The model shipped inside the package (`tiny-base`): where it came from and that it loads.

Its weights come from the built-in recipe of the same name; `provenance.json` beside them keeps
every setting, the data seed and the SHA-256 of every file. These tests fail when a file changes
without the provenance, when the recipe in the repository no longer says what trained it, or
when the default run could ask about a map the base trained on.
"""

from __future__ import annotations

import pytest

from rewardmap.datasets.synthetic import city_seeds
from rewardmap.model.packaged import FILES, PROVENANCE, model_path, packaged_folder, provenance, sha256
from rewardmap.train.recipe import load_recipe
from test_recipes import flat  # {dotted setting: value}


def test_every_shipped_file_is_the_one_the_provenance_names():
    folder = packaged_folder("tiny-base")
    record = provenance("tiny-base")
    assert sorted(p.name for p in folder.iterdir()) == sorted([*FILES, PROVENANCE])
    assert record["files"] == {name: sha256(folder / name) for name in FILES}


def test_the_recipe_in_the_repository_is_the_one_that_trained_it():
    record = provenance("tiny-base")
    recipe = load_recipe(record["recipe"]).resolved().to_dict()
    recipe.pop("output")
    recorded, now = flat(record["settings"]), flat(recipe)
    assert {k: now.get(k) for k in recorded} == recorded
    # a setting added since the base was trained must be off (empty) in its recipe, or the recipe
    # would no longer reproduce it
    assert {k: v for k, v in now.items() if k not in recorded and v is not None} == {}
    assert record["data_seed"] == recipe["data"]["synthetic"]["seed"]
    assert record["command"] == "rewardmap train tiny-base --out runs/tiny-base"
    assert record["trained"]["steps"] == recipe["sft"]["max_steps"]  # it ran to its end


def test_the_default_run_asks_only_about_maps_the_base_never_saw():
    base = load_recipe("tiny-base").data.synthetic
    demo = load_recipe("tiny")
    assert demo.model.name_or_path == "tiny-base"
    assert base.seed != demo.data.synthetic.seed
    assert not set(city_seeds(base.seed, base.cities)) & set(city_seeds(demo.data.synthetic.seed,
                                                                         demo.data.synthetic.cities))


@pytest.mark.parametrize("name", ["tiny-base"])
def test_it_loads_by_name_and_answers_in_the_requested_form(name, tmp_path):
    from rewardmap.datasets.records import load_records
    from rewardmap.datasets.synthetic import synth_dataset
    from rewardmap.model.loading import load_model
    from rewardmap.answers.plus import plus_format_ok
    from rewardmap.train.heldout import generate_answers

    assert model_path(name) == str(packaged_folder(name)) and model_path("runs/x") == "runs/x"
    synth_dataset(tmp_path / "d", cities=2, seed=12345, size=256, per_city=8)
    records = [r for r in load_records(tmp_path / "d") if r["type"] != "planning"]
    model, processor = load_model(name, device="cpu")
    answers = generate_answers(model, processor, records, batch_size=8, max_new_tokens=16)
    assert all(plus_format_ok(a, r["type"]) for a, r in zip(answers, records)), answers
