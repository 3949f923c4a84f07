"""How much a training phase changed the policy: its weights, and its greedy answers.

A phase can log rising rewards and still leave the model's greedy answers where they were
(every rollout of a group alike gives no advantage, so no gradient); these two figures tell
a user whether GRPO moved the policy at all, and how far.
"""

from __future__ import annotations

import math
from collections import defaultdict
from pathlib import Path


def weight_change(before: str | Path, after: str | Path) -> dict:
    """Relative L2 change `|after - before| / |before|` over every floating-point weight the
    two saved models (folders of `*.safetensors`) share, the largest change of one weight,
    and how many tensors changed at all. Tensors are read one at a time, so a 7B model needs
    the memory of its largest tensor only."""
    from safetensors import safe_open

    def tensors(folder: Path) -> dict[str, Path]:
        return {name: file for file in sorted(Path(folder).glob("*.safetensors"))
                for name in safe_open(str(file), "pt").keys()}

    a, b = tensors(before), tensors(after)
    diff2 = base2 = largest = 0.0
    changed = compared = 0
    for name in sorted(a.keys() & b.keys()):
        x = safe_open(str(a[name]), "pt").get_tensor(name)
        if not x.is_floating_point():
            continue
        y = safe_open(str(b[name]), "pt").get_tensor(name)
        if x.shape != y.shape:
            continue
        x, y = x.double(), y.double()
        d = (y - x)
        diff2 += float(d.pow(2).sum())
        base2 += float(x.pow(2).sum())
        largest = max(largest, float(d.abs().max()) if d.numel() else 0.0)
        changed += bool(d.any())
        compared += 1
    return {"relative_l2": math.sqrt(diff2 / base2) if base2 else 0.0, "max_abs": largest,
            "tensors_changed": changed, "tensors": compared}


def answer_change(before: dict, after: dict) -> dict:
    """The share of held-out questions whose greedy answer differs between two evaluations
    (`eval_*.json` contents, matched by question id; a route question counts as changed when
    its short or its long answer changed), overall and per type.

    >>> a = {"answers": [{"id": 1, "type": "TorF1", "answer": "x"}, {"id": 2, "type": "TorF1", "answer": "y"}]}
    >>> b = {"answers": [{"id": 1, "type": "TorF1", "answer": "x"}, {"id": 2, "type": "TorF1", "answer": "z"}]}
    >>> answer_change(a, b)
    {'overall': {'count': 2, 'changed': 0.5}, 'by_type': {'TorF1': {'count': 2, 'changed': 0.5}}}
    """
    old = {a.get("id"): a for a in before.get("answers", [])}
    sums: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for new in after.get("answers", []):
        was = old.get(new.get("id"))
        if was is None:
            continue
        differs = any(was.get(k) != new.get(k) for k in ("answer", "answer_long"))
        for key in (new.get("type"), "overall"):
            sums[key][0] += 1
            sums[key][1] += differs
    overall = sums.pop("overall", [0, 0])

    def share(s):
        return {"count": s[0], "changed": s[1] / s[0] if s[0] else 0.0}

    return {"overall": share(overall), "by_type": {k: share(v) for k, v in sorted(sums.items())}}
