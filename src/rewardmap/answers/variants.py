"""The scoring variants, described once: how an answer is read.

- `reference`: the released code's reading, quirks included (what produced the published numbers);
- `robust`: the reference's parsing quirks repaired (docs/rewards.md lists each repair);
- `vlmevalkit`: VLMEvalKit's ReasonMap-Plus reading, quirks included; evaluation of
  ReasonMap-Plus only (VLMEvalKit has no ReasonMap scorer, and no reward reads this way).

A variant from outside (an option, a setting, a public function's argument) is checked once,
by `check_variant`, where it comes in; the parsers and scorers below that trust it.
"""

from __future__ import annotations

from ..errors import InputError, check_choice

REFERENCE, ROBUST, VLMEVALKIT = "reference", "robust", "vlmevalkit"
MEANING = {
    REFERENCE: "the released code's reading, quirks included",
    ROBUST: "the reference's parsing quirks repaired",
    VLMEVALKIT: "VLMEvalKit's ReasonMap-Plus reading, quirks included; evaluation only",
}
TRAINING = (REFERENCE, ROBUST)  # what the reward reads with (and ReasonMap's evaluation)
EVALUATION = (*TRAINING, VLMEVALKIT)  # what the metrics read with; vlmevalkit: ReasonMap-Plus only


def described(variants: tuple[str, ...]) -> str:
    """VARIANTS with their meaning, for a help text.

    >>> described(TRAINING)
    "reference (the released code's reading, quirks included) or robust (the reference's parsing quirks repaired)."
    """
    named = [f"{v} ({MEANING[v]})" for v in variants]
    return f"{', '.join(named[:-1])} or {named[-1]}."


def check_variant(name: str, variant, accepted: tuple[str, ...], error: type[Exception] = InputError,
                  benchmark: str | None = None) -> str:
    """VARIANT when it is one of ACCEPTED, else a one-line ERROR; NAME is how the caller calls
    the setting (`--variant`). With BENCHMARK (the name of what is scored), an unknown variant
    is told every evaluation variant, and one that scores another benchmark only is told so.

    >>> check_variant("variant", "robust", TRAINING)
    'robust'
    >>> check_variant("--variant", "vlmevalkit", TRAINING, benchmark="reasonmap")
    Traceback (most recent call last):
    rewardmap.errors.InputError: --variant vlmevalkit scores ReasonMap-Plus only (VLMEvalKit's scorer); for reasonmap use reference or robust
    """
    if benchmark is None:
        return check_choice(name, variant, accepted, error)
    if variant in EVALUATION and variant not in accepted:  # vlmevalkit, on ReasonMap
        raise error(f"{name} {variant} scores ReasonMap-Plus only (VLMEvalKit's scorer); "
                    f"for {benchmark} use {' or '.join(accepted)}")
    return check_choice(name, variant, EVALUATION, error)
