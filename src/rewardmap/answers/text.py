"""Text helpers shared by the parsers: a memoised `clean`, and the answer after thinking."""

from __future__ import annotations

from functools import lru_cache

from ..network import clean

_SHORT = 256  # strings up to this length go to `network.clean` itself, memoised


def clean_once(text: str) -> str:
    """One pass of the reward's `clean` (`network.clean`, linear in `len(text)`), memoised
    for station names and short answers: the same names come back in every rollout.

    >>> clean_once("Union Station (Transfer Station)"), clean_once("((( Line 2")
    ('union', '(((line2')
    """
    return _clean_short(text) if len(text) <= _SHORT else clean(text)


@lru_cache(maxsize=1 << 16)
def _clean_short(text: str) -> str:
    return clean(text)


# Thinking models close their reasoning with one of these; the answer follows the last one.
THINK_ENDS = ("</think>", "◁/think▷")
THINK_STARTS = ("<think>", "◁think▷")


def final_answer(response: str) -> str:
    """The answer part of a response: the text after the last end-of-thinking tag.

    A response that opens a thinking block and never closes it has given no answer.

    >>> final_answer("<think>\\\\boxed{no}</think> \\\\boxed{yes}")
    ' \\\\boxed{yes}'
    >>> final_answer("<think>so the answer is \\\\boxed{no}"), final_answer("yes")
    ('', 'yes')
    """
    if "think" not in response:  # every tag holds it
        return response
    ends = [response.rfind(tag) + len(tag) for tag in THINK_ENDS if tag in response]
    if ends:
        return response[max(ends):]
    if any(tag in response for tag in THINK_STARTS):
        return ""
    return response
