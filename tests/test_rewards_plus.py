"""ReasonMap-Plus answers, rule by rule: the released extraction and cleaner (method notes,
section 5), the lenient `robust` reading and VLMEvalKit's reading, on the corners the
hand-worked examples in test_rewards.py do not reach."""

import pytest

from rewardmap.rewards import reference_answer, robust_answer
from rewardmap.answers.plus import find_math_answer, judge_plus, last_boxes, plus_format_ok
from rewardmap.answers.vlmevalkit import vlmevalkit_value


@pytest.mark.parametrize("response, extracted", [
    ("the answer is 3, so the answer is 4", "4"),          # the text after the LAST phrase
    ("The answer is: 5", "5"),                             # leading ":" stripped after cleaning
    ("the answer is 5.", "5"),                             # trailing "." stripped
    ("\\boxed{3{}}", "3"),                                 # every "{}" deleted first
    ("\\boxed{{}}", ""),                                   # ... which can leave an empty box
    ("7} \\boxed{3", "7"),                                 # no "}" after the box: all of it, cut at the first "}"
    ("\\boxed{3}a}b}", "3"),                               # greedy to the last "}", then cut at the first
    ("\\boxed{x = y = 5}", "5"),                           # after the last "="
    ("\\boxed{a \\approx b \\approx 4}", "4"),             # after the last \approx
    ("\\boxed{1\\ap\\leftprox2}", "2"),                    # an \approx that deleting \left reveals: the tidy's cut
    ("\\boxed{\\sqrt{2}}", "\\sqrt{2}"),                   # a braced sqrt argument is kept
    ("\\boxed{2\\sqrt3+\\sqrt{5}}", "2\\sqrt{3}+\\sqrt{5}"),  # each sqrt on its own
    ("\\boxed{\\sqrt23}", "\\sqrt{2}3"),                   # one character braced, the rest follows
    ("\\boxed{x\\sqrt}", "x\\sqrt"),                       # a bare sqrt at the end stays
    ("\\boxed{\\sqrt2\\frac1{2}}", "\\sqrt{2}\\frac{1}{2}"),   # one unbraced frac argument
    ("\\boxed{\\sqrt2\\frac{1}{2}}", "\\sqrt{2}\\frac{1}{2}"),  # braced: kept
    ("\\boxed{\\sqrt2\\frac12+\\frac34}", "\\sqrt{2}\\frac{1}{2}+\\frac{3}{4}"),
    ("\\boxed{\\sqrt2\\frac1}", "\\sqrt{2}\\frac1"),       # an argument too short: the whole is left as it is
    ("\\boxed{1/2/3}", "1/2/3"),                           # a/b only with exactly one "/"
])
def test_reference_extraction_corners(response, extracted):
    assert reference_answer(response) == extracted


def test_find_math_answer_takes_the_greedy_group_from_the_first_box():
    # `oxed{(.*)}` matches from the first "oxed{" to the last "}", then cuts at the first "}"
    assert find_math_answer("\\boxed{1} or \\boxed{2}") == "1"


@pytest.mark.parametrize("short", ["\\boxed{+∞ km}", "\\boxed{\\dfrac{3}{4}}", "\\boxed{90^\\circ}",
                                   "\\boxed{\\text{Yes}}", "\\boxed{2\\sqrt3 \\, m^3}"])
def test_long_answers_clean_as_short_ones(short):
    # over 4,096 characters the cleaner skips patterns it knows to be absent: same result
    padded = short[:-1] + " " * 5000 + "}"
    assert reference_answer(padded) == reference_answer(short) != ""


def test_judge_plus_long_responses_read_as_short_ones():
    pad = " " * 1100  # past the memoised length
    text = pad + "\\boxed{\\text{Yes}}"
    assert judge_plus(text, "TorF1", 1) == (False, False)  # the released quirk
    assert judge_plus(text, "TorF1", 1, "robust") == (True, True)
    assert judge_plus(text, "TorF1", 0, "robust") == (True, False)
    assert judge_plus(pad + "\\boxed{C}", "Counting1", 2) == (True, True)
    assert judge_plus(pad + "The answer is Yes.", "TorF2", 1, "vlmevalkit") == (True, True)


@pytest.mark.parametrize("response, qtype, value", [
    ("\\boxed{false}", "TorF1", 0), ("\\boxed{NoX}", "TorF1", None),          # five letters read; no prefix match
    ("The answer is noX", "TorF1", None),
    ("\\boxed{(a)}", "Counting1", 0),                                          # a wrapped lone "a" is the option
    ("\\boxed{ab}", "Counting1", None), ("\\boxed{()}", "Counting1", None),    # no standalone letter
    ("\\boxed{Option A}", "Counting1", 0),                                     # read as written, not lower-cased
    ("\\boxed{\\text{Option} \\text{C}}", "Counting1", 2),                     # text parts joined by a space
    ("\\boxed{\\text{Yes}\\text{.}}", "TorF1", 1),
    ("\\boxed{" + "9" * 100 + "}", "Counting2", int("9" * 100)),               # a hundred digits still a count
    ("the answer is 3. No wait, the answer is 4", "Counting2", 4),             # the phrase's last occurrence
    ("İ \\boxed{yes}", "TorF1", 1), ("İİ the answer is C", "Counting1", 2),   # a dotted capital I keeps offsets
])
def test_robust_reading_corners(response, qtype, value):
    assert robust_answer(response, qtype) == value


@pytest.mark.parametrize("response, qtype, value", [
    ("false", "TorF1", 0), ("The answer is below.\nB", "Counting1", 1),     # nothing after the phrase: the answer
    ("The answer is below.\n4 stops", "Counting2", 4), ("X5", "Counting2", 5),  # a letter is no sign
    ("\\boxed{1} \\boxed{2} \\boxed{3}", "Counting3", 3),                    # the last box
    ("The answer is 3. Really, the answer is 4", "Counting3", 4),           # the phrase's last occurrence
    ("İ \\boxed{2}", "Counting2", 2), ("İ \\boxed{Yes}", "TorF1", 1),     # a dotted capital I keeps offsets
])
def test_vlmevalkit_reading_corners(response, qtype, value):
    assert vlmevalkit_value(response, qtype) == value


def test_last_boxes_read_after_a_dotted_capital_i():
    assert last_boxes("İ \\boxed{A} \\boxed{\\text{B}}") == ["B", "A"]


def test_format_needs_exactly_one_box():
    assert not plus_format_ok("boxed{no} \\boxed{yes}", "TorF1")  # another box, backslash or not
    assert plus_format_ok("\\boxed{yes}", "TorF1")


def test_robust_box_is_read_as_written_before_the_whole_answer():
    # the box names option A ("Option A", not lower-cased into the article "a"); the whole
    # answer, which also names B, is not read
    assert robust_answer("Not B: \\boxed{Option A}", "Counting1") == 0
