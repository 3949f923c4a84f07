"""Reward speed and robustness.

1. Throughput on a realistic mix of responses (right, partly right and wrong routes, long
   answers, boxed and unboxed Plus answers, thinking text, garbage) to questions built on the
   real station files ($REWARDMAP_REAL_DATA; synthetic cities when absent), for both variants, against
   a baseline that behaves like the released code: the station file re-read from disk and one
   log line written per reward. Goal: at least 20x the baseline and 50,000 rewards/s on one core.
   Each of `--repeats` passes scores fresh responses (a new draw: nothing memoised carries
   over but station names); the best pass counts, as with `timeit`, since a shared machine
   only ever slows a pass down.
2. Adversarial responses of 1 MB (nested braces, endless `--`, repeated `Route Name:`, ...):
   the slowest must score in under 50 ms (best of `--repeats`; nothing over 1 KB is memoised)
   in both reward variants; the time to read them as VLMEvalKit does is shown beside.
3. Fuzz: N random and mutated responses; counts exceptions and non-finite rewards (goal: 0).

    OMP_NUM_THREADS=1 python benchmarks/bench_rewards.py [--responses 50000] [--fuzz 1000000]
"""

from __future__ import annotations

import argparse
import io
import json
import math
import random
import tempfile
import time
from pathlib import Path

from rich.console import Console
from rich.table import Table

from rewardmap.datasets.build import build_dataset
from rewardmap.datasets.synthetic import synth_dataset
from rewardmap.network import load_station_file, network_from_mapping
from rewardmap.questions import prompts
from rewardmap.rewards import RewardConfig, compute_reward
from rewardmap.answers.plus import judge_plus

from _real_data import REAL_DATA  # noqa: E402  (beside this script)

REAL = REAL_DATA / "stations"


def dataset(tmp: Path) -> tuple[list[dict], Path]:
    """Records with station files under the returned root."""
    out = tmp / "ds"
    if REAL.is_dir():
        stations = tmp / "stations"
        for p in REAL.glob("*/*.json"):
            if p.stem != "new_york":
                (stations / p.parent.name).mkdir(parents=True, exist_ok=True)
                (stations / p.parent.name / p.name).write_bytes(p.read_bytes())
        build_dataset(stations, out, per_city=60, seed=0)
    else:
        synth_dataset(out, cities=30, seed=0, size=512, per_city=60)
    records = [json.loads(line) for line in (out / "questions.jsonl").read_text().splitlines()]
    return records, out


def response_for(record: dict, rng: random.Random) -> str:
    """A plausible model output: right, partly right, mangled or unrelated."""
    roll = rng.random()
    think = "<think>Let me look at the map carefully.</think>\n" if rng.random() < 0.2 else ""
    if record["type"] != "planning":
        truth = record["answer"]
        if record["type"] == "Counting1":
            value = "ABCD"[truth if roll < 0.5 else rng.randrange(4)]
        elif record["type"].startswith("TorF"):
            value = ("yes" if truth else "no") if roll < 0.5 else rng.choice(["yes", "no", "\\text{Yes}"])
        else:
            value = str(truth if roll < 0.5 else truth + rng.randint(-2, 2))
        style = rng.random()
        if style < 0.6:
            return f"{think}Looking at the map, the answer is \\boxed{{{value}}}."
        if style < 0.8:
            return f"{think}The final answer is {value}. I am fairly sure."
        return f"{think}{value}"
    plan = record["routes"][rng.randrange(len(record["routes"]))]
    if roll < 0.3:
        return think + prompts.route_answer(plan, long=rng.choice([None, "count", "list"]))
    if roll < 0.6:  # a wrong line or a wrong stop somewhere
        sections = [dict(s) for s in plan]
        s = rng.choice(sections)
        s[rng.choice(["route_name", "arrival_stop", "departure_stop"])] = "Line 99" if rng.random() < 0.5 else "Nowhere"
        return think + prompts.route_answer(sections)
    if roll < 0.8:  # right start, stops short
        return think + prompts.route_answer(plan[:1])
    return think + "I cannot read this map clearly, sorry."


def adversarial() -> dict[str, str]:
    mb = 1 << 20
    return {
        "nested braces": ("\\boxed{" * (mb // 8)) + ("}" * (mb // 8)),
        "endless --": "-" * mb,
        "repeated Route Name:": ("Route Name: Line 1\n" * (mb // 19)),
        "repeated full sections": ("Route Name: Line 1\nDeparture Stop: A\nArrival Stop: B\n--\n" * (mb // 52)),
        "oxed{ repeated": "oxed{" * (mb // 5),
        "phrase spam": "the answer is " * (mb // 14),
        "one long line": "x" * mb,
        "an unclosed box of brace groups": "\\boxed{" + "{a}" * (mb // 3),
        "one value repeated": "3 " * (mb // 2),
        "words with option letters": "Bob and Dad " * (mb // 12),
        "dotted capital I": "\u0130" * mb,
        "distinct well-formed sections": "\n--\n".join(
            f"Route Name: Line {i}\nDeparture Stop: S{i}\nArrival Stop: S{i + 1}" for i in range(mb // 60)),
    }


def timed(fn, *args) -> float:
    start = time.perf_counter()
    fn(*args)
    return time.perf_counter() - start


def best_of(repeats: int, fn, *args) -> float:
    return min(timed(fn, *args) for _ in range(max(1, repeats)))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--responses", type=int, default=50_000)
    parser.add_argument("--baseline", type=int, default=5_000, help="responses scored by the baseline")
    parser.add_argument("--fuzz", type=int, default=100_000)
    parser.add_argument("--repeats", type=int, default=3, help="passes per measurement; the best counts")
    args = parser.parse_args()
    console = Console(width=160)
    rng = random.Random(0)
    with tempfile.TemporaryDirectory() as tmp:
        records, root = dataset(Path(tmp))
        draws = [[(r, response_for(r, rng)) for r in (rng.choice(records) for _ in range(args.responses))]
                 for _ in range(max(1, args.repeats))]
        work = draws[0]
        networks = {r["json"]: load_station_file(root / r["json"]) for r in records}
        table = Table(title=f"rewardmap rewards ({len(work):,} responses, one core)")
        for col in ("benchmark", "time (s)", "rate", "vs baseline / goal"):
            table.add_column(col)

        log = io.StringIO()

        def baseline(items):  # like the released code: re-read the station file, log every reward
            for record, response in items:
                with open(root / record["json"], encoding="utf-8") as f:
                    net = network_from_mapping(json.load(f))
                b = compute_reward(response, record, net, RewardConfig())
                log.write(f"[reward] type={record['type']} reward={b.reward} response={response[:200]!r}\n")

        t_base = min(timed(baseline, w[: args.baseline]) for w in draws) / min(args.baseline, len(work))
        for variant in ("reference", "robust"):
            config = RewardConfig(variant=variant)

            def ours(items, config=config):
                for record, response in items:
                    compute_reward(response, record, networks[record["json"]], config)

            t = min(timed(ours, w) for w in draws) / len(work)
            rate = 1 / t
            ok = rate >= 50_000 and t_base / t >= 20
            table.add_row(f"{variant}: realistic mix", f"{t * len(work):.2f}", f"{rate:,.0f} rewards/s",
                          f"{t_base / t:.0f}x baseline ({1 / t_base:,.0f}/s); goal >= 20x and >= 50,000/s: "
                          f"{'PASS' if ok else 'FAIL'}")

        plan_record = next(r for r in records if r["type"] == "planning")
        plus_record = next(r for r in records if r["type"] == "TorF1")
        kinds = adversarial()
        # Distinct well-formed sections are not a trick: the reference variant reproduces a
        # reward with no cap on sections, so it reads all of them (linear, a few us each);
        # the robust one stops at MAX_SECTIONS. Reported on its own row.
        many = kinds.pop("distinct well-formed sections")
        worst, slowest = 0.0, ""
        for variant in ("reference", "robust"):
            config = RewardConfig(variant=variant)
            for name, text in kinds.items():
                for record in (plan_record, plus_record):
                    t = best_of(args.repeats, compute_reward, text, record, networks[record["json"]], config)
                    if t > worst:
                        worst, slowest = t, f"{name}, {variant}, {record['type']}"
        table.add_row(f"1 MB adversarial responses ({len(kinds)} kinds x 2 types x 2 variants)",
                      f"{worst:.3f} (slowest: {slowest})", "", f"goal < 0.050 s: {'PASS' if worst < 0.05 else 'FAIL'}")
        # The evaluation's third reading of Plus answers, VLMEvalKit's (no reward of its own)
        vk_worst, vk_slowest = 0.0, ""
        for name, text in kinds.items():
            for qtype in ("TorF1", "Counting1", "Counting2"):
                t = best_of(args.repeats, judge_plus, text, qtype, 1, "vlmevalkit")
                if t > vk_worst:
                    vk_worst, vk_slowest = t, f"{name}, {qtype}"
        table.add_row(f"the same, read as VLMEvalKit reads them ({len(kinds)} kinds x 3 types)",
                      f"{vk_worst:.3f} (slowest: {vk_slowest})", "",
                      "no goal: evaluation only (no reward reads this way); linear")
        sections = many.count("--") + 1
        for variant in ("reference", "robust"):
            t = best_of(args.repeats, compute_reward, many, plan_record, networks[plan_record["json"]],
                        RewardConfig(variant=variant))
            table.add_row(f"1 MB of {sections:,} distinct sections, {variant}", f"{t:.3f}",
                          f"{t / sections * 1e6:.1f} us/section", "no goal: every section is read" if
                          variant == "reference" else "no goal: reads at most MAX_SECTIONS")

        alphabet = "Route Name: Departure Stop: Arrival Stop: -- \\boxed{ } oxed{ yes no A B 12 站 Line \n"
        failures, start = 0, time.perf_counter()
        for i in range(args.fuzz):
            record, response = work[i % len(work)]
            if i % 2:
                chars = list(response)
                for _ in range(rng.randint(1, 6)):
                    pos = rng.randrange(len(chars) + 1)
                    chars[pos:pos + rng.randint(0, 3)] = rng.choice(alphabet.split(" ") + [rng.choice(alphabet)])
                response = "".join(chars)
            else:
                response = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 80)))
            try:
                b = compute_reward(response, record, networks[record["json"]],
                                   RewardConfig(variant="robust" if i % 4 < 2 else "reference"))
                failures += not math.isfinite(b.reward)
            except Exception:
                failures += 1
        table.add_row(f"fuzz: {args.fuzz:,} random and mutated responses", f"{time.perf_counter() - start:.1f}",
                      "", f"exceptions or non-finite rewards: {failures} (goal 0): {'PASS' if not failures else 'FAIL'}")
    console.print(table)


if __name__ == "__main__":
    main()
