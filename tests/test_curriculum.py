"""Curriculum order, and the plan checked against TRL's own RepeatSampler."""

import ast
import importlib.util
import json
import math
import os
import random
import subprocess
import sys
from collections import Counter
from collections.abc import Sized
from fractions import Fraction
from pathlib import Path
from types import SimpleNamespace

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rewardmap.curriculum import PRESETS, Curriculum, difficulty_key, order_records, plan_curriculum, trl_chunking
from rewardmap.errors import InputError
from rewardmap.questions.kinds import DIFFICULTIES, QUESTION_TYPES

TRL = Path(importlib.util.find_spec("trl").submodule_search_locations[0])


def _trl_repeat_sampler():
    """TRL's RepeatSampler, compiled from the installed trl's source: `import trl.trainer.utils`
    costs ten seconds of torch/transformers imports, and without shuffling the class needs none."""
    tree = ast.parse((TRL / "trainer" / "utils.py").read_text(encoding="utf-8"))
    node = next(n for n in tree.body if isinstance(n, ast.ClassDef) and n.name == "RepeatSampler")
    scope = {"Sampler": object, "Sized": Sized}
    exec(compile(ast.Module([node], type_ignores=[]), "trl/trainer/utils.py", "exec"), scope)
    return scope["RepeatSampler"]


RepeatSampler = _trl_repeat_sampler()


def records(types, difficulties=None):
    difficulties = difficulties or [DIFFICULTIES[i % 3] for i in range(len(types))]
    return [{"id": f"r{i:03d}", "type": t, "difficulty_city": d, "difficulty_question": d,
             "question_transfer_count": 0} for i, (t, d) in enumerate(zip(types, difficulties))]


def trl_steps(plan, num_generations, steps_per_generation, num_iterations, grad_accum):
    """Replay GRPOTrainer on one process: which record ids each 1-based optimizer step trains on.

    The dataloader batch is generation_batch_size = P * G indices; TRL generates on the batch
    of every (spg * mu)-th micro-step and trains the following micro-steps on that generation;
    the Trainer steps the optimizer every GA micro-steps, and once more for a remainder.
    """
    sampler = RepeatSampler(range(len(plan.records)), mini_repeat_count=num_generations,
                            batch_size=plan.prompts_per_chunk, repeat_count=num_iterations * steps_per_generation,
                            shuffle=False)
    indices = list(sampler)
    assert len(indices) == len(sampler)
    size = plan.prompts_per_chunk * num_generations
    batches = [indices[i:i + size] for i in range(0, len(indices), size)]
    generate_every = steps_per_generation * num_iterations
    steps = {}
    for micro, batch in enumerate(batches):
        generated = batches[micro - micro % generate_every]
        assert sorted(batch) == sorted(generated)  # the repeats TRL skips hold the same chunk
        steps.setdefault(micro // grad_accum + 1, set()).update(plan.records[i]["id"] for i in generated)
    assert len(steps) == math.ceil(len(batches) / grad_accum)
    return indices, steps


def check_against_trl(plan, num_generations, steps_per_generation, num_iterations, grad_accum):
    indices, steps = trl_steps(plan, num_generations, steps_per_generation, num_iterations, grad_accum)
    # Nothing dropped: every planned row, fill included, comes out G * mu * spg times.
    assert Counter(indices) == {i: num_generations * num_iterations * steps_per_generation
                                for i in range(len(plan.records))}
    # Rows come out in plan order, so stages do too.
    assert list(dict.fromkeys(indices)) == list(range(len(plan.records)))
    stage_of = {r["id"]: s.name for s in plan.stages for r in plan.records[s.start:s.stop]}
    assert plan.total_steps == len(steps)
    for span in plan.stages:
        seen = [step for step, ids in steps.items() if any(stage_of[i] == span.name for i in ids)]
        assert (min(seen), max(seen)) == (span.first_step, span.last_step) if span.count else not seen
    assert [step for step, ids in steps.items() if len({stage_of[i] for i in ids}) > 1] == list(plan.mixed_steps)
    assert all(set(plan.stages_at(step)) == {stage_of[i] for i in ids} for step, ids in steps.items())


def test_presets_match_the_paper():
    assert Curriculum("rewardmap").names == ("TorF1+TorF2", "Counting2+Counting3", "Counting1", "planning")
    assert Curriculum("fine").names == ("TorF1", "TorF2", "Counting3", "Counting2", "Counting1", "planning")
    assert Curriculum("coarse").stages[1] == ("planning",) and len(Curriculum("coarse").stages[0]) == 5
    assert Curriculum("shuffled").stages == (QUESTION_TYPES,)
    assert Curriculum(["TorF1+TorF2", "Counting2+Counting3", "Counting1", "planning"]) == Curriculum()


def test_stage_order_and_shuffle_inside_stages():
    recs = records(["planning", "TorF2", "Counting1", "TorF1", "Counting3", "Counting2"] * 10)
    ordered = order_records(recs, Curriculum("rewardmap", seed=1))
    stage = Curriculum().stage_of
    assert [stage(r["type"]) for r in ordered] == sorted(stage(r["type"]) for r in recs)
    first = [r["type"] for r in ordered[:20]]
    assert set(first) == {"TorF1", "TorF2"} and first != sorted(first)  # mixed, not grouped by type
    assert [r["id"] for r in ordered] != [r["id"] for r in order_records(recs, Curriculum("rewardmap", seed=2))]


def test_easy_to_hard_sorts_by_map_then_question_difficulty_then_transfers():
    recs = [{"id": f"p{i}", "type": "planning", "difficulty_city": c, "difficulty_question": q,
             "question_transfer_count": n}
            for i, (c, q, n) in enumerate([("hard", "easy", 0), ("easy", "hard", 3), ("easy", "hard", 2),
                                           ("middle", "easy", 0), ("easy", "easy", 0), ("easy", "middle", 0),
                                           ("easy", "easy", 1)])]
    ordered = order_records(recs, Curriculum("shuffled", easy_to_hard=True))
    assert [r["id"] for r in ordered] == ["p4", "p6", "p5", "p2", "p1", "p3", "p0"]


def test_a_stage_order_does_not_depend_on_the_other_stages():
    """Each stage has its own seeded RNG, so the ablations train planning in the same order."""
    recs = records(["planning", "TorF1", "Counting1", "TorF2", "Counting2", "Counting3"] * 8)
    planning = [[r["id"] for r in order_records(recs, Curriculum(preset, seed=4)) if r["type"] == "planning"]
                for preset in ("rewardmap", "coarse", "fine")]
    assert planning[0] == planning[1] == planning[2]
    torf = [[r["id"] for r in order_records(recs, Curriculum(stages, seed=4))][:16]
            for stages in (["TorF1+TorF2", "planning+Counting1+Counting2+Counting3"], "rewardmap")]
    assert torf[0] == torf[1]


def test_hand_computed_plan():
    recs = records(["TorF1"] * 3 + ["Counting1"] * 4 + ["planning"] * 3)
    plan = plan_curriculum(recs, Curriculum(["TorF1", "Counting1", "planning"]), prompts_per_chunk=4)
    assert plan.filled == 2 and len(plan.records) == 12 and plan.total_steps == 3
    assert [(s.count, s.start, s.stop, s.first_step, s.last_step) for s in plan.stages] == [
        (3, 0, 3, 1, 1), (4, 3, 7, 1, 2), (3, 7, 12, 2, 3)]
    assert plan.records[10:] == plan.records[7:9]  # the fill: the last stage's first records again
    assert plan.mixed_steps == (1, 2)
    assert plan.stages_at(2) == ("Counting1", "planning")
    # Half a step per chunk (spg * mu < GA): two chunks make one optimizer step.
    half = plan_curriculum(recs, Curriculum(["TorF1", "Counting1", "planning"]), prompts_per_chunk=2,
                           steps_per_chunk=Fraction(1, 2))
    assert [(s.first_step, s.last_step) for s in half.stages] == [(1, 1), (1, 2), (2, 3)]
    assert half.total_steps == 3 and half.filled == 0


def test_summary_and_json():
    plan = plan_curriculum(records(QUESTION_TYPES * 5), Curriculum("fine", seed=7), prompts_per_chunk=4,
                           steps_per_chunk=2)
    data = json.loads(json.dumps(plan.as_dict()))
    assert data["total_steps"] == plan.total_steps == 16 and data["filled"] == 2
    assert data["ids"] == [r["id"] for r in plan.records]
    assert [s["name"] for s in data["stages"]] == list(Curriculum("fine").names)
    text = plan.summary()
    assert "curriculum fine, seed 7" in text and "Counting1" in text and "16 steps" in text
    assert [r["steps"] for r in plan.rows()] == [f"{s.first_step}-{s.last_step}" for s in plan.stages]


def test_errors_are_one_line():
    recs = records(["TorF1", "planning", "Counting1"])
    with pytest.raises(InputError, match=r"record 'r002': type 'Counting1' is in no curriculum stage"):
        plan_curriculum(recs, Curriculum(["TorF1", "planning"]))
    plan = plan_curriculum(recs, Curriculum(["TorF1", "planning"]), leave_out_unstaged=True)
    assert plan.left_out == {"Counting1": 1} and "left out: Counting1 1" in plan.summary()
    bad = [
        (lambda: Curriculum([["TorF1", "TorF2"], ["TorF2"]]), "'TorF2' is in stage 1 and stage 2"),
        (lambda: Curriculum(["TorF1", "Torf2"]), "unknown question type 'Torf2'"),
        (lambda: Curriculum("finest"), "unknown preset 'finest'"),
        (lambda: Curriculum([]), "no stages"),
        (lambda: plan_curriculum(recs + recs[:1], Curriculum()), "record 'r000': duplicate id"),
        (lambda: plan_curriculum([], Curriculum()), "no records"),
        (lambda: plan_curriculum(recs, Curriculum(), prompts_per_chunk=0), "prompts_per_chunk"),
        (lambda: plan_curriculum(recs, Curriculum(), steps_per_chunk=0.5), "steps_per_chunk"),
        (lambda: order_records([{**recs[0], "difficulty_city": "medium"}], Curriculum(easy_to_hard=True)),
         "record 'r000': field 'difficulty_city' is 'medium'"),
        (lambda: trl_chunking(SimpleNamespace(shuffle_dataset=True)), "shuffle_dataset=False"),
    ]
    for make, message in bad:
        with pytest.raises(InputError, match=message) as info:
            make()
        assert "\n" not in str(info.value)


def test_trl_chunking_reads_grpo_config():
    config = SimpleNamespace(shuffle_dataset=False, generation_batch_size=24, num_generations=4,
                             steps_per_generation=3, num_iterations=1, gradient_accumulation_steps=2)
    assert trl_chunking(config) == (6, Fraction(3, 2))


def test_trl_still_samples_as_the_plan_assumes():
    """The plan's arithmetic rests on these lines of the installed TRL and transformers."""
    grpo = " ".join((TRL / "trainer" / "grpo_trainer.py").read_text(encoding="utf-8").split())
    for line in ("mini_repeat_count=self.num_generations,",
                 "batch_size=self.args.generation_batch_size // self.num_generations,",
                 "repeat_count=self.num_iterations * self.args.steps_per_generation,",
                 "batch_size=self._train_batch_size * self.args.steps_per_generation,",
                 "generate_every = self.args.steps_per_generation * self.num_iterations"):
        assert line in grpo
    trainer = importlib.util.find_spec("transformers").submodule_search_locations[0]
    source = " ".join(Path(trainer, "trainer.py").read_text(encoding="utf-8").split())
    assert "+ int(len_dataloader % args.gradient_accumulation_steps > 0)" in source  # a last, partial step


@pytest.mark.parametrize("n, prompts, gens, spg, iters, accum", [
    (1, 4, 2, 1, 1, 1), (37, 5, 4, 2, 1, 2), (64, 16, 8, 4, 1, 4), (101, 16, 4, 4, 2, 4),
    (23, 3, 2, 3, 1, 2), (50, 7, 3, 1, 1, 3), (19, 2, 2, 2, 3, 1),
])
def test_trl_repeat_sampler_reads_the_plan(n, prompts, gens, spg, iters, accum):
    recs = records([QUESTION_TYPES[(i * 7) % 6] for i in range(n)])
    for preset in PRESETS:
        plan = plan_curriculum(recs, Curriculum(preset, seed=n), prompts_per_chunk=prompts,
                               steps_per_chunk=Fraction(spg * iters, accum))
        check_against_trl(plan, gens, spg, iters, accum)


@st.composite
def custom_stages(draw):
    """Some of the six types, in a random order, cut into consecutive stages."""
    types = draw(st.permutations(QUESTION_TYPES))[:draw(st.integers(1, 6))]
    cuts = sorted(draw(st.sets(st.integers(1, len(types)), max_size=5)) - {len(types)})
    return [list(types[a:b]) for a, b in zip([0, *cuts], [*cuts, len(types)])]


curricula = st.builds(Curriculum, st.one_of(st.sampled_from(list(PRESETS)), custom_stages()),
                      seed=st.integers(0, 2**32), easy_to_hard=st.booleans())
record_lists = st.lists(st.tuples(st.sampled_from(QUESTION_TYPES), st.sampled_from(DIFFICULTIES)),
                        min_size=1, max_size=60).map(lambda rows: records(*zip(*rows)))


@settings(max_examples=60, deadline=None)
@given(recs=record_lists, curriculum=curricula, prompts=st.integers(1, 9), gens=st.integers(1, 4),
       spg=st.integers(1, 4), iters=st.integers(1, 3), accum=st.integers(1, 5))
def test_plan_properties(recs, curriculum, prompts, gens, spg, iters, accum):
    staged = [r for r in recs if curriculum.stage_of(r["type"]) is not None]
    if not staged:
        with pytest.raises(InputError, match="no records"):
            plan_curriculum(recs, curriculum, leave_out_unstaged=True)
        return
    plan = plan_curriculum(recs, curriculum, prompts_per_chunk=prompts, steps_per_chunk=Fraction(spg * iters, accum),
                           leave_out_unstaged=True)
    body = plan.records[:len(plan.records) - plan.filled]
    assert sorted(r["id"] for r in body) == sorted(r["id"] for r in staged)  # each staged record once
    assert plan.left_out == dict(Counter(r["type"] for r in recs if r not in staged))
    assert 0 <= plan.filled < prompts and len(plan.records) % prompts == 0
    stages = [curriculum.stage_of(r["type"]) for r in plan.records]
    assert stages == sorted(stages)  # stage order, fill included
    assert [s.count for s in plan.stages] == [sum(r["type"] in s.types for r in recs) for s in plan.stages]
    if curriculum.easy_to_hard:
        for s in plan.stages:
            keys = [difficulty_key(r) for r in plan.records[s.start:s.start + s.count]]
            assert keys == sorted(keys)
    shuffled = random.Random(0).sample(recs, len(recs))  # input order does not matter
    again = plan_curriculum(shuffled, curriculum, prompts_per_chunk=prompts, steps_per_chunk=plan.steps_per_chunk,
                            leave_out_unstaged=True)
    assert again.as_dict() == plan.as_dict()
    check_against_trl(plan, gens, spg, iters, accum)


def test_same_order_in_another_process():
    """Byte-identical across processes, whatever PYTHONHASHSEED says."""
    recs = records([QUESTION_TYPES[(i * 5) % 6] for i in range(90)])
    here = json.dumps(plan_curriculum(recs, Curriculum("coarse", seed=5), prompts_per_chunk=8).as_dict())
    code = ("import json; from rewardmap.curriculum import Curriculum, plan_curriculum; "
            f"plan = plan_curriculum({recs!r}, Curriculum('coarse', seed=5), prompts_per_chunk=8); "
            "print(json.dumps(plan.as_dict()))")
    for hash_seed in ("1", "2"):
        env = {**os.environ, "PYTHONHASHSEED": hash_seed}
        out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
        assert out.stdout.strip() == here


def test_the_plan_as_json_and_as_text_in_full():
    """curriculum.json and the log lines, every field: the hand-computed plan above, and a second one
    (easy to hard, two steps a chunk, a type left out) whose summary was checked by hand: 5 records
    + 1 filled = 3 chunks of 2; TorF1 rows 0-2 fill chunks 1-2 (steps 1-4), planning rows 3-5
    chunks 2-3 (steps 3-6), so steps 3 and 4 mix the two."""
    recs = records(["TorF1"] * 3 + ["Counting1"] * 4 + ["planning"] * 3)
    plan = plan_curriculum(recs, Curriculum(["TorF1", "Counting1", "planning"]), prompts_per_chunk=4)
    assert plan.as_dict() == {
        "curriculum": {"preset": None, "stages": [["TorF1"], ["Counting1"], ["planning"]], "seed": 0,
                       "easy_to_hard": False},
        "prompts_per_chunk": 4, "steps_per_chunk": "1", "chunks": 3, "total_steps": 3, "filled": 2, "left_out": {},
        "mixed_steps": [1, 2],
        "stages": [{"name": "TorF1", "types": ["TorF1"], "count": 3, "start": 0, "stop": 3, "first_step": 1,
                    "last_step": 1},
                   {"name": "Counting1", "types": ["Counting1"], "count": 4, "start": 3, "stop": 7, "first_step": 1,
                    "last_step": 2},
                   {"name": "planning", "types": ["planning"], "count": 3, "start": 7, "stop": 12, "first_step": 2,
                    "last_step": 3}],
        "ids": [r["id"] for r in plan.records]}
    easy = [{**r, "difficulty_city": "easy"} for r in records(["TorF1"] * 3 + ["planning"] * 2 + ["Counting1"])]
    second = plan_curriculum(easy, Curriculum(["TorF1", "planning"], seed=3, easy_to_hard=True), prompts_per_chunk=2,
                             steps_per_chunk=2, leave_out_unstaged=True)
    assert second.summary().splitlines() == [
        "curriculum custom, seed 3, easy to hard: 5 records + 1 filled = 3 chunks of 2 prompts, 2 steps per chunk "
        "= 6 steps",
        "stage     records  rows  steps",
        "TorF1           3  0-2   1-4",
        "planning        2  3-5   3-6",
        "mixed steps: 3, 4; filled: 1 row (start of the last stage again); left out: Counting1 1"]
    assert second.rows() == [{"stage": "TorF1", "records": 3, "rows": "0-2", "steps": "1-4"},
                             {"stage": "planning", "records": 2, "rows": "3-5", "steps": "3-6"}]


def test_difficulty_key_defaults_and_errors():
    """A missing question difficulty is the map's; missing transfers are none; a wrong value names its field."""
    assert difficulty_key({"id": "a", "difficulty_city": "hard"}) == (2, 2, 0)
    assert difficulty_key({"id": "a", "difficulty_city": "easy", "difficulty_question": "middle"}) == (0, 1, 0)
    assert difficulty_key({"id": "a", "difficulty_city": "easy", "question_transfer_count": 3}) == (0, 0, 3)
    for record, message in (
            ({"id": "q", "difficulty_city": "easy", "difficulty_question": "medium"},
             "record 'q': field 'difficulty_question' is 'medium', expected one of easy, middle, hard"),
            ({"id": "q", "difficulty_city": None}, "record 'q': field 'difficulty_city' is None"),
            ({"id": "q", "difficulty_city": "easy", "question_transfer_count": -1},
             "record 'q': field 'question_transfer_count' is -1, expected a count"),
            ({"id": "q", "difficulty_city": "easy", "question_transfer_count": True},
             "record 'q': field 'question_transfer_count' is True, expected a count")):
        with pytest.raises(InputError) as info:
            difficulty_key(record)
        assert str(info.value).startswith(message), str(info.value)


# ---------------------------------------------------------------- every message and default, word for word

@pytest.mark.parametrize("spec, said", [
    ("gentle", f"curriculum: unknown preset 'gentle'; choose one of {', '.join(PRESETS)}"),
    ([], "curriculum: no stages"),
    ([["TorF1"], []], "curriculum: stage 2 has no question types"),
    ([["TorF1", "Counting9"]], f"curriculum: stage 1: unknown question type 'Counting9'; known types: "
                               f"{', '.join(QUESTION_TYPES)}"),
    ([["TorF1"], ["planning", "TorF1"]], "curriculum: question type 'TorF1' is in stage 1 and stage 2; "
                                         "a type belongs to one stage"),
])
def test_each_refused_stage_list_says_why(spec, said):
    with pytest.raises(InputError) as e:
        Curriculum(spec)
    assert str(e.value) == said


@pytest.mark.parametrize("seed", ["0", 1.0, None, True])
def test_a_seed_must_be_an_integer(seed):
    with pytest.raises(InputError) as e:
        Curriculum(seed=seed)
    assert str(e.value) == f"curriculum: seed must be an integer, got {seed!r}"


def test_records_without_an_id_or_of_a_type_no_stage_trains_are_refused_by_default():
    two_stages = Curriculum([["TorF1"], ["planning"]])
    with pytest.raises(InputError) as e:
        order_records([{"type": "TorF1"}], two_stages)
    assert str(e.value) == "record of type 'TorF1' has no 'id'"
    stray = [{"id": "a", "type": "TorF1"}, {"id": "b", "type": "Counting1"}]
    for refuse in (lambda: order_records(stray, two_stages), lambda: plan_curriculum(stray, two_stages)):
        with pytest.raises(InputError) as e:
            refuse()
        assert str(e.value) == ("record 'b': type 'Counting1' is in no curriculum stage (TorF1, planning); leave such "
                                "records out explicitly to skip them")
    from rewardmap.curriculum.order import group_by_stage

    with pytest.raises(InputError, match="^record 'b': type 'Counting1' is in no curriculum stage"):
        group_by_stage(stray, two_stages)
    assert [r["id"] for r in order_records(stray, two_stages, leave_out_unstaged=True)] == ["a"]
    with pytest.raises(InputError) as e:
        order_records([{"id": "b", "type": "Counting1"}], two_stages, leave_out_unstaged=True)
    assert str(e.value) == "curriculum: no records to train on"


@pytest.mark.parametrize("prompts, steps", [("2", 1), (1.5, 1), (0, 1), (1, 0), (1, -1), (1, 0.5), (1, True)])
def test_chunk_sizes_must_be_positive_whole_numbers_or_fractions(prompts, steps):
    with pytest.raises(InputError, match=r"^curriculum: (prompts|steps)_per_chunk must be a positive"):
        plan_curriculum([{"id": "a", "type": "TorF1"}], Curriculum(), prompts_per_chunk=prompts,
                        steps_per_chunk=steps)


def test_a_trl_config_that_shuffles_or_says_nothing_about_it_is_refused():
    shapes = dict(generation_batch_size=8, num_generations=4, steps_per_generation=1, num_iterations=1,
                  gradient_accumulation_steps=1)
    for args in (SimpleNamespace(shuffle_dataset=True, **shapes), SimpleNamespace(**shapes)):  # TRL shuffles by default
        with pytest.raises(InputError) as e:
            trl_chunking(args)
        assert str(e.value) == "curriculum: set shuffle_dataset=False in GRPOConfig, or TRL reshuffles the curriculum away"
    assert trl_chunking(SimpleNamespace(shuffle_dataset=False, **shapes)) == (2, Fraction(1))


def test_the_summary_line_names_what_was_left_out_filled_and_mixed():
    recs = [{"id": f"t{i}", "type": "TorF1"} for i in range(4)] + [{"id": f"p{i}", "type": "planning"} for i in range(2)]
    recs += [{"id": "c", "type": "Counting1"}, {"id": "d", "type": "Counting2"}, {"id": "e", "type": "Counting2"}]
    curriculum = Curriculum([["TorF1"], ["planning"]])
    tail = plan_curriculum(recs, curriculum, prompts_per_chunk=4, leave_out_unstaged=True).summary().splitlines()[-1]
    assert tail == ("mixed steps: none; filled: 2 rows (start of the last stage again); "
                    "left out: Counting1 1, Counting2 2")
    plan = plan_curriculum(recs[1:6], curriculum, prompts_per_chunk=2)
    assert plan.summary().splitlines()[-1] == "mixed steps: 2; filled: 1 row (start of the last stage again); left out: none"


def test_a_stage_of_one_record_spans_one_row_and_an_empty_stage_none():
    recs = [{"id": "t", "type": "TorF1"}, {"id": "p", "type": "planning"}]
    plan = plan_curriculum(recs, Curriculum([["TorF1"], ["Counting1"], ["planning"]]))
    assert [(r["rows"], r["steps"]) for r in plan.rows()] == [("0-0", "1-1"), ("-", "-"), ("1-1", "2-2")]
    empty = plan.as_dict()["stages"][1]
    assert (empty["first_step"], empty["last_step"]) == (None, None)
