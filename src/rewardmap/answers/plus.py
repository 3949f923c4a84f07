"""Reading ReasonMap-Plus answers: the released extraction and a lenient one.

`reference_answer` reproduces the released RewardMap code step by step, quirks included;
`robust_answer` reads answers as leniently as VLMEvalKit's ReasonMap-Plus scorer (boxes,
answer phrases, yes/y/true/...), also reads a `\\boxed{\\text{yes}}`, and refuses an
answer that names two values. Every step is a string method or a linear-time
regex, so any response, however long or malformed, is read in time linear in its length.
"""

from __future__ import annotations

import re
from functools import lru_cache

from .vlmevalkit import vlmevalkit_value
from .text import final_answer

TORF = ("TorF1", "TorF2")
COUNTING = ("Counting2", "Counting3")
LETTERS = "abcd"

# ------------------------------------------------------------------ the released extraction

_PHRASES = ("the final answer is", "the answer is", "the correct answer is", "the answer should be")


def reference_answer(response: str) -> str:
    """The released code's answer string for a Plus response: phrase cut, cleaner, strip.

    >>> reference_answer("so the answer is \\\\boxed{B}.")
    'b'
    >>> reference_answer("The answer is Yes. It is on line 2.")
    'yes'
    >>> reference_answer("\\\\boxed{\\\\text{Yes}}")  # the known quirk: judged wrong
    '{yes}'
    """
    a = response
    if "oxed{" not in a:
        for phrase in _PHRASES:
            # The released code repeats each step with the phrase capitalised; its
            # `replace("the", "The")` changes every "the" (each phrase has one).
            for p in (phrase, phrase.replace("the", "The")):
                if p in a:  # a.split(p)[-1] is the text after the last p: no p overlaps itself
                    a = a.rpartition(p)[2].strip().partition("\n")[0].partition(". ")[0]
                else:
                    a = a.strip()
    elif a.count("oxed{") > 1:
        a = "\\boxed{" + a.rpartition("oxed{")[2]
    return find_math_answer(a).rstrip(".").lstrip(":").strip()


def find_math_answer(s: str) -> str:
    """The released answer cleaner (step 2): the boxed content, cleaned of LaTeX.

    >>> find_math_answer("x = \\\\boxed{\\\\dfrac{1}{2}}"), find_math_answer("\\\\boxed{3 km}")
    ('\\\\frac{1}{2}', '3')
    """
    s = s.lower().replace("{}", "")
    # `re.findall("oxed{(.*)}", s, re.S)[-1]`, without the regex: the greedy group runs from
    # the first "oxed{" to the last "}", and there is at most one such match. The regex
    # would take quadratic time on many "oxed{" with no "}" after them.
    start, end = s.find("oxed{"), s.rfind("}")
    ans = s[start + 5:end] if start != -1 and end >= start + 5 else s
    close, open_ = ans.find("}"), ans.find("{")
    if close != -1 and (open_ == -1 or close < open_):
        ans = ans[:close]
    ans = ans.rpartition("=")[2].rpartition("\\approx")[2]
    return _clean_short(ans) if len(ans) <= 256 else _clean(ans)


def _clean(ans: str) -> str:
    return _tidy(_replace_all(ans, _CLEANER))


_clean_short = lru_cache(maxsize=1 << 14)(_clean)  # boxed values repeat: "b", "yes", "3"


# The answer cleaner's replacements, then the final tidy's (released `_strip_string`), in order.
_CLEANER = (
    (" ", ""), ("\\,", ""), ("∞", "\\infty"), ("+\\infty", "\\infty"), ("\\\\", "\\"), ("\n", ""),
    ("\\text", ""), ("\\mbox", ""), ("bmatrix", "pmatrix"), ("\\left", ""), ("\\right", ""),
    ("^{\\circ}", ""), ("^\\circ", ""), ("{m}^3", ""), ("m^3", ""), ("{units}", ""), ("units", ""),
    ("{km}", ""), ("km", ""),
)
_TIDY = (
    ("\n", ""), ("\\!", ""), ("\\\\", "\\"), ("tfrac", "frac"), ("dfrac", "frac"), ("\\left", ""),
    ("\\right", ""), ("^{\\circ}", ""), ("^\\circ", ""), ("\\$", ""), ("$", ""),
)
_AFTER_UNITS = (("\\%", ""), (" .", " 0."), ("{.", "{0."))
# Characters that patterns need and long answers may lack (" ": the cleaner drops them).
_RARE = " \\^{$∞\nbfkmu"
_LONG = 4096


def _replace_all(s: str, pairs) -> str:
    """`s.replace(old, new)` for each pair in order; on a long `s`, skipping the patterns
    that hold a character `s` is known to lack (a megabyte is not searched forty times)."""
    if len(s) < _LONG:
        for old, new in pairs:
            s = s.replace(old, new)
        return s
    absent = {c for c in _RARE if c not in s}
    for old, new in pairs:
        if absent.isdisjoint(old):
            s = s.replace(old, new)
            absent.difference_update(new)
    return s


def _tidy(s: str) -> str:
    """The released final tidy (`_strip_string`), step by step."""
    s = _replace_all(_replace_all(s, _TIDY).partition("\\text{ ")[0], _AFTER_UNITS)
    if not s:
        return s
    if s[0] == ".":
        s = "0" + s
    if s.count("=") == 1:
        s = s.partition("=")[2]
    if s.count("\\approx") == 1:
        s = s.partition("\\approx")[2]
    if "sqrt" in s:
        s = _fix_sqrt(s)
    s = s.replace(" ", "")
    if "sqrt" in s:
        s = _fix_fracs(s)
    if s == "0.5":
        s = "\\frac{1}{2}"
    return _fix_a_slash_b(s)


def _fix_sqrt(s: str) -> str:
    """Brace a one-character `\\sqrt` argument: `\\sqrt2` -> `\\sqrt{2}`."""
    head, *parts = s.split("\\sqrt")
    return head + "".join("\\sqrt{" + p[0] + "}" + p[1:] if p and p[0] != "{" else "\\sqrt" + p
                          for p in parts)


def _fix_fracs(s: str) -> str:
    """Brace one-character `\\frac` arguments: `\\frac12` -> `\\frac{1}{2}`.

    As released: an unbraced argument shorter than two characters returns the input as is.
    """
    head, *parts = s.split("\\frac")
    out = head
    for p in parts:
        out += "\\frac"
        if p[:1] == "{":
            out += p
        elif len(p) < 2:
            return s
        elif p[1] != "{":
            out += "{" + p[0] + "}{" + p[1] + "}" + p[2:]
        else:
            out += "{" + p[0] + "}" + p[1:]
    return out


def _fix_a_slash_b(s: str) -> str:
    """`a/b` with integers a, b written plainly -> `\\frac{a}{b}`."""
    if s.count("/") != 1:
        return s
    a, b = s.split("/")
    try:
        a_int, b_int = int(a), int(b)
    except ValueError:  # also numbers too long for int(), as the released bare except
        return s
    return f"\\frac{{{a_int}}}{{{b_int}}}" if s == f"{a_int}/{b_int}" else s


def reference_value(qtype: str, answer: str) -> int | None:
    """The released code's reading of an extracted answer as a label (None: unreadable).

    TorF: yes -> 1, no -> 0; Counting1: a-d -> 0-3; Counting2/3: `int(answer)`.

    >>> reference_value("TorF1", "yes"), reference_value("Counting1", "c"), reference_value("Counting2", "+3")
    (1, 2, 3)
    """
    if qtype in TORF:
        return {"yes": 1, "no": 0}.get(answer.lower())
    if qtype == "Counting1":
        letter = answer.lower()
        return LETTERS.index(letter) if len(letter) == 1 and letter in LETTERS else None
    try:
        return int(answer)
    except ValueError:
        return None


# ------------------------------------------------------------------ the lenient extraction

# A `boxed{...}` that closes, one level of nested braces allowed so that `\boxed{\text{yes}}`
# reads; possessive quantifiers keep every attempt linear.
_BOXED = re.compile(r"boxed\{((?:[^{}]++|\{[^{}]*+\})*+)\}", re.IGNORECASE)
_BOXES_TRIED = 8
_TEXT = re.compile(r"\\(?:text|textbf|textrm|mathrm|mathbf)\{([^{}]*)\}")
_PHRASES_ROBUST = ("the final answer is", "final answer is", "the answer is", "answer is", "the correct answer is",
                   "correct answer is", "final answer:", "final:", "answer:", "ans:")
_YES, _NO = {"yes", "y", "true", "t", "1"}, {"no", "n", "false", "f", "0"}
# An option letter standing alone: A-D in capitals, or b-d in lower case. A lower-case "a"
# is the article far more often than the option, so it counts only as a whole answer.
_LETTER = re.compile(r"[ABCDbcd](?<!\w[ABCDbcd])(?!\w)")
_WRAPPING = " \t\n()[]*.:`'\"$"
_DIGITS = re.compile(r"[0-9]+")  # a "-" before it makes it negative
_MAX_DIGITS = 100  # a longer run of digits is no count (and int() refuses > 4,300 digits)
_MAX_VALUES = 64  # a candidate naming more values than this, even one value repeated, is no answer


def robust_answer(response: str, qtype: str) -> int | None:
    """The lenient reading of a Plus answer as a label, or None when there is none.

    Only the text after the last `</think>` is read. Its `\\boxed{}`s (any case) are the
    answer (the last `_BOXES_TRIED` openings; `\\text{}` inside unwrapped): every box that names a value
    must name the same one, and boxes that disagree are no answer. Without a readable box,
    the text after the first phrase of `_PHRASES_ROBUST` that occurs (its last occurrence, to
    the end of the line or ". ") is read, and the whole answer when that names no value.
    TorF accepts yes/y/true/t/1 and no/n/false/f/0 as the whole candidate; Counting1 one
    option letter (`_LETTER`); Counting2/3 one integer in ASCII digits. A candidate naming
    two different values names none: `\\boxed{A, B, C, D}`, `\\boxed{1-10}` and
    `\\boxed{yes} \\boxed{no}` are not answers.

    >>> robust_answer("\\\\boxed{\\\\text{Yes}}", "TorF1"), robust_answer("Answer: (C) 4 stops", "Counting1")
    (1, 2)
    >>> robust_answer("<think>maybe 3</think>There are 5 lines.", "Counting3")
    5
    >>> robust_answer("\\\\boxed{1, 2, 3}", "Counting2"), robust_answer("\\\\boxed{yes} \\\\boxed{no}", "TorF1")
    (None, None)
    """
    text = final_answer(response)
    lower = text.replace("\u0130", "i").lower()  # "İ" is the one letter whose lower case is two: offsets stay
    read = _yes_no if qtype in TORF else _one_letter if qtype == "Counting1" else _one_integer
    values = {value for box in last_boxes(text, lower) if (value := read(box)) is not None}
    if values:
        return values.pop() if len(values) == 1 else None
    candidate = _after_phrase(text, lower)
    value = read(candidate)
    return value if value is not None or candidate is text else read(text)


def last_boxes(text: str, lower: str | None = None) -> list[str]:
    """The contents of the boxes among the last `_BOXES_TRIED` `boxed{` openings (any case)
    that close, `\\text{}` parts unwrapped, last first. Only these are tried, so that a
    megabyte of unclosed boxes is not tried one by one. LOWER: TEXT lower-cased, offsets kept.

    >>> last_boxes("\\\\boxed{A} or rather \\\\BOXED{ \\\\text{B} } \\\\boxed{unclosed")
    ['B', 'A']
    """
    lower = text.replace("\u0130", "i").lower() if lower is None else lower
    found, at = [], len(text)
    for _ in range(_BOXES_TRIED):
        at = lower.rfind("boxed{", 0, at)
        if at == -1:
            break
        match = _BOXED.match(text, at)
        if match:
            raw = match.group(1).strip()
            texts = _TEXT.findall(raw)
            found.append(" ".join(t.strip() for t in texts) if texts else raw)
    return found


def _after_phrase(text: str, lower: str) -> str:
    """The text after the last occurrence of the first phrase that occurs in LOWER (TEXT
    lower-cased, offsets kept), to the end of its line or ". "; TEXT itself when none does."""
    for phrase in _PHRASES_ROBUST:
        at = lower.rfind(phrase)
        if at != -1:
            return text[at + len(phrase):].strip().partition("\n")[0].partition(". ")[0].rstrip(".").strip()
    return text


def _one_letter(text: str) -> int | None:
    word = text.strip(_WRAPPING)
    if len(word) == 1 and word.lower() in LETTERS:
        return LETTERS.index(word.lower())
    letter = None
    for count, match in enumerate(_LETTER.finditer(text)):
        found = match.group().lower()
        if count == _MAX_VALUES or letter not in (None, found):
            return None
        letter = found
    return LETTERS.index(letter) if letter else None


def _one_integer(text: str) -> int | None:
    value = None
    for count, match in enumerate(_DIGITS.finditer(text)):
        digits, at = match.group(), match.start()
        if count == _MAX_VALUES or len(digits) > _MAX_DIGITS:
            return None
        number = -int(digits) if at and text[at - 1] == "-" else int(digits)
        if value not in (None, number):
            return None
        value = number
    return value


def _yes_no(text: str) -> int | None:
    word = text.strip().strip(".!*`'\"").strip()
    if len(word) > 5:  # no yes/no word is longer; a megabyte is not lower-cased to find that out
        return None
    word = word.lower()
    return 1 if word in _YES else 0 if word in _NO else None


def judge_plus(response: str, qtype: str, label: int, variant: str = "reference") -> tuple[bool, bool]:
    """(parsed, correct) for a Plus response: whether a value of the right kind was read,
    and whether it is the label's, with the variant's reading.

    >>> judge_plus("\\\\boxed{\\\\text{Yes}}", "TorF1", 1), judge_plus("\\\\boxed{\\\\text{Yes}}", "TorF1", 1, "robust")
    ((False, False), (True, True))

    `variant="vlmevalkit"` reads as VLMEvalKit's ReasonMap-Plus scorer (`answers.vlmevalkit`).
    """
    if len(response) <= 1024:  # answers repeat ("\\boxed{yes}"): short ones are read once
        return _judge_memo(response, qtype, label, variant)
    return _judge(response, qtype, label, variant)


def _judge(response: str, qtype: str, label: int, variant: str) -> tuple[bool, bool]:
    if variant == "reference":
        value = reference_value(qtype, reference_answer(response))
    elif variant == "vlmevalkit":
        value = vlmevalkit_value(response, qtype)
    else:
        value = robust_answer(response, qtype)
    return value is not None, _is_label(qtype, value, label)


_judge_memo = lru_cache(maxsize=1 << 15)(_judge)


def _is_label(qtype: str, value: int | None, label: int) -> bool:
    # TorF: "yes" is right for the label 1 and "no" for any other label, as released
    return value is not None and value == (int(label == 1) if qtype in TORF else label)


# ------------------------------------------------------------------ the requested format

# The exact form the prompts ask for (questions/prompts.py): one `\boxed{}` holding only the
# value, optionally as `\text{}`, and nothing after it but closing math delimiters. Digits
# are ASCII, as the robust reading reads them: `\boxed{٣}` earns no format point.
_VALUE = {"TorF1": r"(?i:yes|no)", "TorF2": r"(?i:yes|no)", "Counting1": r"[A-Da-d]",
          "Counting2": r"[0-9]{1,9}", "Counting3": r"[0-9]{1,9}"}
_FORMAT = {
    qtype: re.compile(r"\\boxed\{\s*(?:" + value + r"|\\text\{\s*" + value + r"\s*\})\s*\}[\s.$\\\])]*+")
    for qtype, value in _VALUE.items()
}


def plus_format_ok(response: str, qtype: str) -> bool:
    """Whether the answer is exactly one `\\boxed{value}` in the requested form, at its end.

    >>> plus_format_ok("It is on the line. \\\\boxed{Yes}.", "TorF2")
    True
    >>> plus_format_ok("\\\\boxed{A}\\\\boxed{B}", "Counting1")
    False
    """
    text = final_answer(response)
    start = text.find("\\boxed{")
    if start == -1 or text.count("boxed{") != 1:
        return False
    return _FORMAT[qtype].fullmatch(text, start) is not None
