"""Reading ReasonMap-Plus answers as VLMEvalKit's ReasonMap-Plus scorer does.

Most published ReasonMap-Plus numbers of other models come from VLMEvalKit
(`vlmeval/dataset/reasonmap_plus.py`, `ReasonMap_Plus.evaluate`, as of VLMEvalKit 0.2rc1,
commit e8e78f05). This module gives its verdict on every answer, quirks included; the code is
our own, equivalent step by step but linear in the answer's length on any input:

1. The answer is stripped. The candidate is the last box found scanning left to right for
   `boxed{` (any case, optionally after a backslash) up to the first `}` after it, so a box
   ends at its first `}`: `\\boxed{\\text{Yes}}` gives `\\text{Yes` and `\\boxed{\\boxed{yes}}`
   gives `\\boxed{yes`. An empty box counts as none.
2. Without a box, the candidate follows the first phrase of `PHRASES` found in the
   lower-cased answer, at the offset of its last occurrence there (lower-casing "İ" makes
   two characters of one, so a dotted capital I before the phrase shifts the cut, as it
   does in VLMEvalKit), up to the first newline, ". " or final "."; else the whole answer.
3. TorF: the candidate, else the whole answer, must be one of yes/y/true/t/1 or
   no/n/false/f/0 once stripped and lower-cased (`Yes.` is neither). Counting1: the first
   letter A-D standing alone (any case: the article "a" counts) in the candidate, else in
   the answer. Counting2/3: the first `[-+]?\\d+` (any Unicode digits: `１`, `٣`) of the
   candidate, else of the answer, read by `int()`.

One corner is ours: a number of more than 4,300 digits, on which VLMEvalKit's `int()` raises
and the whole evaluation stops, is judged wrong here.
"""

from __future__ import annotations

import re

PHRASES = ("the final answer is", "final answer is", "the answer is", "answer is", "the correct answer is",
           "correct answer is", "final answer:", "final:", "answer:", "ans:")
# VLMEvalKit's patterns are `\b([ABCD])\b` (any case) and `[-+]?\d+`; these find the same
# matches, but start with a character class, which the regex engine skips ahead to (a
# megabyte without a match takes milliseconds, not a tenth of a second).
_LETTER = re.compile(r"[ABCDabcd](?<!\w[ABCDabcd])(?!\w)")
_DIGIT = re.compile(r"\d")
_DIGITS = re.compile(r"\d+")
_YES, _NO = {"yes", "y", "true", "t", "1"}, {"no", "n", "false", "f", "0"}
LETTERS = "ABCD"


def vlmevalkit_value(response: str, qtype: str) -> int | None:
    """The label VLMEvalKit reads in RESPONSE for a question of QTYPE (TorF: 1 yes, 0 no;
    Counting1: 0-3; Counting2/3: the integer), or None when it reads none.

    VLMEvalKit first normalises the prediction to a string (the value read, else the
    candidate) and then reads that string again; the second reading finds nothing the first
    did not, so the value is taken from the first.

    >>> vlmevalkit_value("The answer is Yes.", "TorF1"), vlmevalkit_value("Yes.", "TorF1")
    (1, None)
    >>> vlmevalkit_value("\\\\boxed{\\\\text{Yes}}", "TorF1"), vlmevalkit_value("\\\\boxed{A, B, C, D}", "Counting1")
    (None, 0)
    """
    kind = qtype.lower()
    text = response.strip()
    if not text:
        return None
    box = _last_box(text)
    candidate = box if box else _after_phrase(text)
    whole = candidate == text  # then a failed search need not run again on the answer
    if "torf" in kind:
        word = _yes_no(candidate) or _yes_no(text)
        return None if word is None else int(word == "yes")
    if "counting1" in kind:
        letter = _LETTER.search(candidate) or (None if whole else _LETTER.search(text))
        return LETTERS.index(letter.group().upper()) if letter else None
    if kind.startswith("counting"):
        number = _first_integer(candidate)
        if number is None and not whole:
            number = _first_integer(text)
        try:
            return None if number is None else int(number)
        except ValueError:  # over Python's digit limit: VLMEvalKit stops there; no reading here
            return None
    return None


def _first_integer(text: str) -> str | None:
    """The first match of `[-+]?\\d+` in TEXT: its digits start at the first digit."""
    digit = _DIGIT.search(text)
    if digit is None:
        return None
    at = digit.start()
    start = at - 1 if at and text[at - 1] in "+-" else at
    return text[start:_DIGITS.match(text, at).end()]


def _last_box(text: str) -> str | None:
    """The group of the last match of `(?:\\\\boxed|boxed)\\{([^}]*)\\}` (case-blind) that a
    left-to-right scan finds, stripped; found from the end in linear time.

    The last match starts at the first `boxed{` after the last `}` that precedes the last
    `boxed{` having a `}` after it: every match starting earlier ends at or before that
    `}`, and no match can start later.
    """
    close = text.rfind("}")
    if close == -1:
        return None
    lowered = text.replace("\u0130", "i").lower()  # "boxed{" is ASCII: offsets stay
    last = lowered.rfind("boxed{", 0, close)
    if last == -1:
        return None
    start = lowered.find("boxed{", text.rfind("}", 0, last) + 1)
    return text[start + 6:text.find("}", start + 6)].strip()


def _after_phrase(text: str) -> str:
    lowered = text.lower()
    for phrase in PHRASES:
        at = lowered.rfind(phrase)
        if at != -1:
            part = text[at + len(phrase):].strip()  # offsets of the lower-cased text, as VLMEvalKit
            return part[:_cut(part)].strip()
    return text.strip()


def _cut(part: str) -> int:
    """Where `re.split(r"\\n|\\. |\\.$", part, maxsplit=1)` cuts: the first newline, ". ", or
    "." at the end (`$` also matches before a final newline)."""
    ends = [i for i in (part.find("\n"), part.find(". ")) if i != -1]
    if part.endswith(".") or part.endswith(".\n"):
        ends.append(len(part) - (1 if part.endswith(".") else 2))
    return min(ends, default=len(part))


def _yes_no(text: str) -> str | None:
    word = text.strip()
    if len(word) > 5:  # no yes/no word is longer; a megabyte is not lower-cased to find that out
        return None
    word = word.lower()
    return "yes" if word in _YES else "no" if word in _NO else None
