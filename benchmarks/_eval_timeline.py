"""Run `rewardmap ...` with timers on the steps before the first request (bench_eval_api part 3).

    REWARDMAP_BENCH_SPAWN=<time.time() at spawn> python benchmarks/_eval_timeline.py TIMELINE.json eval ...

The command runs unchanged (the same `app()` as `python -m rewardmap`); a few library
functions are wrapped, from outside, to note when they start and end, in wall seconds since
the spawn and in this process's CPU seconds. The timeline is written when the first chat
completion is about to be sent (and at exit if none is). CPU seconds do not grow when other
processes hold the CPUs, so they tell contention from work.
"""

from __future__ import annotations

import atexit
import functools
import json
import os
import sys
import time

SPAWN = float(os.environ.get("REWARDMAP_BENCH_SPAWN", time.time()))
OUT = sys.argv.pop(1)
EVENTS: list[dict] = []
_written = False


def note(event: str) -> None:
    EVENTS.append({"event": event, "wall": time.time() - SPAWN, "cpu": time.process_time()})


def write() -> None:
    global _written
    if not _written:
        _written = True
        with open(OUT, "w", encoding="utf-8") as f:
            json.dump(EVENTS, f)


def wrap(owner, name: str, label: str, once: bool = False, last: bool = False) -> None:
    """Note `label start` / `label end` around owner.name (only its first call when `once`)."""
    inner = getattr(owner, name)
    calls = [0]

    @functools.wraps(inner)
    def timed(*args, **kwargs):
        calls[0] += 1
        if once and calls[0] > 1:
            return inner(*args, **kwargs)
        note(f"{label} start")
        if last:  # the first request: everything before it is what the user waited for
            write()
        try:
            return inner(*args, **kwargs)
        finally:
            note(f"{label} end")

    setattr(owner, name, timed)


note("script start")  # the interpreter and site are up
import rewardmap.cli  # noqa: E402  (timed: the command's own imports)
import rewardmap.eval.backends.api as api_backend  # noqa: E402
import rewardmap.eval.backends.client as client  # noqa: E402
import rewardmap.eval.run as run  # noqa: E402
import rewardmap.eval.store as store  # noqa: E402
import rewardmap.datasets.records as data  # noqa: E402

note("imports end")
atexit.register(write)
wrap(run, "load_benchmark", "load_benchmark")
wrap(data, "load_records", "load_records")  # load_benchmark imports it at call time; the map
# checks are the rest of load_benchmark, after load_records
wrap(store.PredictionStore, "__init__", "open the store")
wrap(store.PredictionStore, "pending", "pending")
wrap(client.ChatClient, "probe", "GET /models")
wrap(api_backend, "user_turn", "first message", once=True)  # the API backend's own binding
wrap(client.ChatClient, "_post", "first POST", once=True, last=True)
sys.argv[0] = "rewardmap"
rewardmap.cli.app()
