"""Mutation testing, package by package: each package's code is mutated (mutmut) and each mutant
run against that package's own tests, so the whole job fits in about an hour on two cores.

    python tools/mutation.py                 # every package below
    python tools/mutation.py curriculum      # one of them
    python tools/mutation.py curriculum --survivors   # only the last run's survivors, again
    make mutation

MUTATION_JOBS sets how many mutants run at once (mutmut's --max-children; default one per core).

Each package runs in a scratch copy of the repository (mutmut writes a `mutants/` folder and
reads its settings from pyproject.toml); the score per package goes to mutation/<package>.json
and a table is printed: killed / (killed + survived - equivalent), timeouts counted as killed
(a mutant that makes the code loop is caught). A surviving mutant is either killed by a new
test or listed, with the reason it cannot change behaviour, in mutation/equivalent/<package>.txt
(one `<mutant name>  <reason>` a line; `#` starts a comment). `--survivors` re-runs only the
mutants that survived last time (after new tests, in minutes instead of the whole package); the
names stay valid while the mutated code is unchanged, and a listed name that no longer survives
is reported as stale.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# package -> (code mutated, its tests)
PACKAGES = {
    # the answer readers, through the reward's and the metrics' tests (both read answers with them)
    "answers": (["src/rewardmap/answers/"], ["tests/test_rewards.py", "tests/test_rewards_adapters.py",
                                             "tests/test_rewards_hacking.py", "tests/test_scoring_memo.py",
                                             "tests/test_reference_answers.py", "tests/test_vlmevalkit.py",
                                             "tests/test_rewards_batch.py", "tests/test_rewards_plus.py",
                                             "tests/test_rewards_routes.py", "tests/test_metrics.py",
                                             "tests/test_metrics_plus.py", "tests/test_metrics_rules.py",
                                             "tests/test_answers_variants.py"]),
    "rewards": (["src/rewardmap/rewards/"], ["tests/test_rewards.py", "tests/test_rewards_adapters.py",
                                             "tests/test_rewards_hacking.py", "tests/test_scoring_memo.py",
                                             "tests/test_reference_answers.py", "tests/test_vlmevalkit.py",
                                             "tests/test_rewards_batch.py", "tests/test_rewards_plus.py",
                                             "tests/test_rewards_routes.py"]),
    "metrics": (["src/rewardmap/metrics/"], ["tests/test_metrics.py", "tests/test_metrics_plus.py",
                                             "tests/test_intervals.py", "tests/test_metrics_rules.py"]),
    "network": (["src/rewardmap/network/"], ["tests/test_network.py", "tests/test_network_files.py"]),
    "curriculum": (["src/rewardmap/curriculum/"], ["tests/test_curriculum.py"]),
    # not tests/test_bad_input.py: it runs `rewardmap` in subprocesses, which mutmut cannot tie to a function, so
    # it never runs against a mutant; nor tests/test_mutation_inputs.py: its random JSON lines take 18 s under
    # mutmut for each surviving mutant, and what they check (each problem's line) test_check_fires checks alone
    "datasets-check": (["src/rewardmap/datasets/check.py", "src/rewardmap/datasets/schema.py"],
                       ["tests/test_check_fires.py", "tests/test_build.py"]),
    # not tests/test_parity_released.py: a whole GRPO step (14 s alone, a minute beside other jobs) for each mutant
    # that reaches grpo_config_kwargs, checking the objective TRL computes rather than the recipe's mapping, which
    # test_settings_arrive (every setting arriving in what the recipe builds) and test_recipes check directly
    "recipe-mapping": (["src/rewardmap/train/recipe/"], ["tests/test_recipes.py", "tests/test_settings_arrive.py",
                                                           "tests/test_recipe_mapping.py"]),
}


def equivalent(package: str) -> dict[str, str]:
    """The package's surviving mutants that cannot change behaviour, with the reason for each."""
    path = ROOT / "mutation" / "equivalent" / f"{package}.txt"
    listed = {}
    for line in path.read_text(encoding="utf-8").splitlines() if path.exists() else []:
        if line.strip() and not line.lstrip().startswith("#"):
            name, _, reason = line.strip().partition(" ")
            listed[name] = reason.strip()
    return listed


def run(package: str, only_survivors: bool = False) -> dict:
    sources, tests = PACKAGES[package]
    out = ROOT / "mutation" / f"{package}.json"
    previous = json.loads(out.read_text(encoding="utf-8")) if only_survivors and out.exists() else None
    if only_survivors and previous is None:
        sys.exit(f"{package}: no earlier run in {out.relative_to(ROOT)}; run it whole first")
    with tempfile.TemporaryDirectory(prefix=f"mutation-{package}-") as tmp:
        work = Path(tmp) / "repo"
        shutil.copytree(ROOT, work, ignore=shutil.ignore_patterns(".git", ".venv*", "runs", "mutants", "demo",
                                                                  "__pycache__", ".pytest_cache", ".hypothesis"))
        # the package's doctests count as its tests too (pytest collects them from the mutated sources)
        selection = tests + [s for s in sources if s.endswith("/") or s.endswith(".py")]
        config = (f"\n[tool.mutmut]\nsource_paths = {json.dumps(sources)}\nalso_copy = [\"src/\", \"benchmarks/\", "
                  f"\"recipes/\", \"docs/\"]\npytest_add_cli_args_test_selection = {json.dumps(selection)}\n"
                  "pytest_add_cli_args = [\"-p\", \"no:xdist\", \"-p\", \"no:warnings\", \"-q\"]\n")
        with open(work / "pyproject.toml", "a", encoding="utf-8") as f:
            f.write(config)
        # the mutated copy must be what the tests import, not the editable install
        env = {**os.environ, "PYTHONPATH": "src", "OMP_NUM_THREADS": "1"}
        jobs = ["--max-children", os.environ["MUTATION_JOBS"]] if os.environ.get("MUTATION_JOBS") else []
        names = sorted(previous["survived"]) if previous else []
        subprocess.run([sys.executable, "-m", "mutmut", "run", *jobs, *names], cwd=work, env=env, check=False,
                       stdout=subprocess.DEVNULL)
        listing = subprocess.run([sys.executable, "-m", "mutmut", "results", "--all", "true"], cwd=work, env=env,
                                 capture_output=True, text=True).stdout
        results = dict(line.strip().rsplit(": ", 1) for line in listing.splitlines() if ": " in line)
        if previous:  # the others keep last run's outcome
            results = {name: results.get(name, "survived") for name in previous["survived"]}
        diffs = {name: subprocess.run([sys.executable, "-m", "mutmut", "show", name], cwd=work, env=env,
                                      capture_output=True, text=True).stdout
                 for name, status in results.items() if status == "survived"}  # what each survivor changed
    counts = Counter(results.values())
    if previous:
        newly_killed = len(previous["survived"]) - counts["survived"]
        counts = Counter(previous["counts"])
        counts["survived"] -= newly_killed
        counts["killed"] += newly_killed
    listed = equivalent(package)
    counts["equivalent"] = sum(1 for name in diffs if name in listed)
    stale = sorted(set(listed) - set(diffs))
    killed = counts["killed"] + counts["timeout"]
    tried = killed + counts["survived"] - counts["equivalent"]
    summary = {"package": package, "counts": dict(counts), "score": killed / tried if tried else None,
               "stale_equivalent": stale, "equivalent": sorted(set(listed) & set(diffs)),
               "survived": {name: diffs[name] for name in sorted(diffs)}}
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(summary, indent=1) + "\n", encoding="utf-8")
    return summary


def main(args: list[str]) -> None:
    only_survivors = "--survivors" in args
    names = [a for a in args if a != "--survivors"]
    unknown = [n for n in names if n not in PACKAGES]
    if unknown:
        sys.exit(f"unknown package {unknown[0]!r}; choose from {', '.join(PACKAGES)}")
    print(f"{'package':<16}{'mutants':>9}{'killed':>8}{'survived':>10}{'equivalent':>12}{'score':>8}")
    for name in names or PACKAGES:
        s = run(name, only_survivors)
        c = s["counts"]
        score = f"{100 * s['score']:.1f}%" if s["score"] is not None else "-"
        mutants = sum(v for k, v in c.items() if k != "equivalent")
        print(f"{name:<16}{mutants:>9}{c.get('killed', 0) + c.get('timeout', 0):>8}"
              f"{c.get('survived', 0):>10}{c.get('equivalent', 0):>12}{score:>8}", flush=True)
        for stale in s["stale_equivalent"]:
            print(f"  stale: {stale} is listed as equivalent but did not survive (or no longer exists)")


if __name__ == "__main__":
    main(sys.argv[1:])
