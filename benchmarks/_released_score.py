"""A command that scores a file of answers the way the released RewardMap reward works per call,
as the baseline of `bench_score.py`: each line's station file is opened and parsed again, and
every reward is logged (the released code printed each one and appended it to a log file).
The reward itself is ours (`variant="reference"`, the released rules), so the baseline is, if
anything, faster than the released code.

    python benchmarks/_released_score.py ANSWERS.jsonl STATIONS_ROOT OUT.jsonl
"""

import json
import sys
from pathlib import Path

from rewardmap.network import network_from_mapping
from rewardmap.rewards import RewardConfig, compute_reward


def main(answers: str, root: str, out: str) -> None:
    config = RewardConfig()
    with open(answers, encoding="utf-8") as lines, open(out, "w", encoding="utf-8") as results, \
            open(Path(out).with_suffix(".log"), "a", encoding="utf-8") as log:
        for line in lines:
            record = json.loads(line)
            network = None
            if record["type"] == "planning":
                with open(Path(root) / record["json"], encoding="utf-8") as f:
                    network = network_from_mapping(json.load(f))
            breakdown = compute_reward(record["response"], record, network, config)
            log.write(f"[reward] type={record['type']} reward={breakdown.reward} "
                      f"response={record['response'][:200]!r}\n")
            results.write(json.dumps(breakdown.as_dict()) + "\n")


if __name__ == "__main__":
    main(*sys.argv[1:4])
