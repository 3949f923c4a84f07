"""Property tests: the fast reference implementation against a literal one written from the
released rules, and every variant on arbitrary and mutated answers (never raises, finite,
within its bounds)."""

import math
import random
import re

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_rewards import A_TO_D, A_TO_F, A_TO_J, NET, REF, ROB, plus, route, section

from rewardmap.network import clean
from rewardmap.rewards import (
    RewardConfig,
    compute_reward,
    reference_answer,
    reference_sections,
)
from rewardmap.answers.plus import _fix_a_slash_b, _fix_fracs, _fix_sqrt
from rewardmap.answers.route import released_stop

FAST = settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
CONFIGS = [REF, ROB, RewardConfig(mode="baseline"), RewardConfig(variant="robust", mode="baseline", format_reward=2.5)]
PLUS_RECORDS = [plus("TorF1", 1, "easy"), plus("TorF2", 0, "hard"), plus("Counting1", 2, "middle"),
                plus("Counting2", 3, "hard"), plus("Counting3", 12, "easy")]
ROUTE_RECORDS = [route("Alpha Station", "Foxtrot Station", 1), route("Alpha Station", "Delta Station", 0, "hard"),
                 route("Alpha Station", "Juliet Station", 2, "easy"), route("火车西站站", "南门站", 0)]

# ------------------------------------------------------------------ literal reference, from the released rules

PHRASES = ("the final answer is", "the answer is", "the correct answer is", "the answer should be")


def literal_plus(a: str) -> str:
    if "oxed{" not in a:
        for phrase in PHRASES:
            for p in (phrase, "T" + phrase[1:]):
                remembered = a
                a = a.split(p)[-1].strip()
                if p in remembered:
                    a = a.split("\n")[0].split(". ")[0]
    elif a.count("oxed{") > 1:
        a = "\\boxed{" + a.split("oxed{")[-1]
    s = a.lower().replace("{}", "")
    found = re.findall("oxed{(.*)}", s, re.S)
    ans = found[-1] if found else s
    if "}" in ans and ("{" not in ans or ans.index("}") < ans.index("{")):
        ans = ans.split("}")[0]
    ans = ans.split("=")[-1].split("\\approx")[-1]
    for old, new in [(" ", ""), ("\\,", ""), ("∞", "\\infty"), ("+\\infty", "\\infty"), ("\\\\", "\\"), ("\n", ""),
                     ("\\text", ""), ("\\mbox", ""), ("bmatrix", "pmatrix"), ("\\left", ""), ("\\right", ""),
                     ("^{\\circ}", ""), ("^\\circ", ""), ("{m}^3", ""), ("m^3", ""), ("{units}", ""), ("units", ""),
                     ("{km}", ""), ("km", ""),
                     ("\n", ""), ("\\!", ""), ("\\\\", "\\"), ("tfrac", "frac"), ("dfrac", "frac"), ("\\left", ""),
                     ("\\right", ""), ("^{\\circ}", ""), ("^\\circ", ""), ("\\$", ""), ("$", "")]:
        ans = ans.replace(old, new)
    s = ans.split("\\text{ ")[0].replace("\\%", "").replace(" .", " 0.").replace("{.", "{0.")
    if s:
        s = "0" + s if s[0] == "." else s
        s = s.split("=")[-1] if len(s.split("=")) == 2 else s
        s = s.split("\\approx")[-1] if len(s.split("\\approx")) == 2 else s
        s = _fix_sqrt(s) if "sqrt" in s else s
        s = s.replace(" ", "")
        s = _fix_fracs(s) if "sqrt" in s else s
        s = _fix_a_slash_b("\\frac{1}{2}" if s == "0.5" else s)
    return s.rstrip(".").lstrip(":").strip()


def literal_sections(text: str, exact_case: bool) -> list[tuple[str, str, str]]:
    """(name, departure, arrival) as parsed: stops cleaned once, "Wrong" when missing."""
    out = []
    for part in text.split("--"):
        probe, labels = (part, ("Route Name:", "Departure Stop:", "Arrival Stop:")) if exact_case else \
            (part.lower(), ("route name:", "departure stop:", "arrival stop:"))
        if not part.strip() or not all(label in probe for label in labels):
            continue
        name, departure = re.search(r"Route Name: (.*?)\n", part), re.search(r"Departure Stop: (.*?)\n", part)
        out.append((name.group(1).strip() if name else "Wrong", clean(departure.group(1)) if departure else "Wrong",
                    clean(part.split("Arrival Stop:")[-1].strip())))
    return out


def literal_route(text: str, start: str, goal: str, transfers: int) -> tuple[bool, float]:
    metro = {name: list(line.stations) for name, line in NET.lines.items()}

    def renamed(name):
        name = "Line 1" if "八通" in name else name
        return "Line 4" if "大兴" in name else name

    def on_line(name, stop):
        return clean(stop) in [clean(s) for s in metro[name]]

    correct, secs = False, literal_sections(text, True)
    if secs and clean(secs[0][1]) == clean(start) and clean(secs[-1][2]) == clean(goal):
        correct = True
        for i, (name, dep, arr) in enumerate(secs):
            name = renamed(name)
            if name not in metro or not (on_line(name, dep) and on_line(name, arr)):
                correct = False
            elif i < len(secs) - 1 and clean(arr) != clean(secs[i + 1][1]):
                correct = False
    score, secs = 0, literal_sections(text, False)
    if secs and clean(secs[0][1]) == clean(start) and clean(secs[-1][2]) == clean(goal):
        score = 2
        for i, (name, dep, arr) in enumerate(secs, 1):
            if i > transfers:
                score -= 5
            name = renamed(name)
            if name not in metro:
                continue
            if transfers == 0:
                score += 4 * any(line == name and on_line(line, start) and on_line(line, goal) for line in metro)
            else:
                score += 3
            if (on_line(name, dep) and on_line(name, arr) and i < len(secs)
                    and clean(arr) == clean(secs[i][1]) and i <= transfers):
                score += 1
    return correct, min(score, 10)


# ------------------------------------------------------------------ strategies

PLUS_TOKENS = ["\\boxed{", "oxed{", "OXED{", "}", "{", "{}", "yes", "No", "A", "b", "C)", "3", "12", "0.5", ".5", "=",
               "\\approx", " ", "\n", ". ", "the answer is ", "The answer is ", "the final answer is ",
               "The correct answer is ", "the answer should be ", "\\text{", "\\text{ ", "km", "units", "\\frac",
               "\\dfrac", "\\sqrt", "/", "$", "\\%", "^\\circ", "∞", "\\\\", ":", "\\left", "bmatrix", "<think>",
               "</think>", "-", "İ", "true"]
LINES = ["Line 1", "Line 2", "Line 3", "Line 4", "Line 5", "Ring", "line 1", "Line1", "Line 9", "",
         "八通线", "大兴", "2号线"]
STOPS = NET.stations + ["火车西站站站", "Nowhere", "alpha station", "Alpha Station (x)", "",
                        "Bravo Station\nNumber of Via Stops: 1", "Charlie Station, Bravo Station"]
LABELS = [("Route Name: ", "Departure Stop: ", "Arrival Stop: "), ("Route Name:", "Departure Stop:", "Arrival Stop:"),
          ("route name: ", "departure stop: ", "Arrival Stop: "),
          ("ROUTE NAME: ", "Departure Stop: ", "arrival stop: ")]
SEPARATORS = ["\n--\n", "--", "\n---\n", "\n", " -- ", "\n\n--\n\n"]


@st.composite
def route_answers(draw, start="Alpha Station", goal="Foxtrot Station"):
    """Answers of 1-5 sections of random fields, labels and separators; most begin at
    `start` and end at `goal`, so that the detail and correctness rules are reached."""
    fields = []
    for _ in range(draw(st.integers(1, 5))):
        fields.append([draw(st.sampled_from(LINES)), draw(st.sampled_from(STOPS)), draw(st.sampled_from(STOPS))])
    if draw(st.integers(0, 9)) < 7:
        fields[0][1], fields[-1][2] = start, goal
    if draw(st.booleans()):  # chain each arrival to the next departure
        for before, after in zip(fields, fields[1:]):
            after[1] = before[2]
    parts = []
    for line, departure, arrival in fields:
        name, dep, arr = draw(st.sampled_from(LABELS))
        tail = draw(st.sampled_from(["", "\n", "\nNumber of Via Stops: 2", "\nVia Stops: Bravo Station", " 站"]))
        parts.append(f"{name}{line}\n{dep}{departure}\n{arr}{arrival}{tail}")
    text = parts[0]
    for part in parts[1:]:
        text += draw(st.sampled_from(SEPARATORS)) + part
    return draw(st.sampled_from(["", "<think>x</think>", "Plan:\n"])) + text


@st.composite
def route_questions(draw):
    record = draw(st.sampled_from(ROUTE_RECORDS))
    return draw(route_answers(record["station_1"], record["station_2"])), record


def mutate(text: str, rng: random.Random) -> str:
    """Insert, delete or duplicate separators, labels and braces at random places."""
    pieces = ["--", "\n--\n", "Route Name: ", "Departure Stop: ", "Arrival Stop: ", "{", "}", "\\boxed{", "\n",
              "</think>", "<think>", "(", ")", "站"]
    for _ in range(rng.randint(1, 6)):
        at = rng.randrange(len(text) + 1)
        kind = rng.random()
        if kind < 0.5:
            text = text[:at] + rng.choice(pieces) + text[at:]
        elif kind < 0.75:
            text = text[:at] + text[at + rng.randint(1, 8):]
        else:
            span = text[at:at + rng.randint(1, 30)]
            text = text[:at] + span + span + text[at:]
    return text


def check_bounds(response, record, config):
    b = compute_reward(response, record, NET, config)
    assert all(math.isfinite(v) for v in (b.detail, b.weight, b.format, b.reward))
    assert b.weight in {1.0, 1.2, 1.5, 1.7, 2.0}
    top = b.weight * (config.format_reward + config.correct_reward + (0 if record["type"] != "planning" else
                                                                      config.alpha * 10))
    sections = 64 if config.variant == "robust" else str(response).lower().count("arrival stop:")
    bottom = -b.weight * config.alpha * 5 * sections
    assert bottom - 1e-9 <= b.reward <= top + 1e-9
    assert b.format in (0.0, config.format_reward)
    parts = b.format + config.correct_reward * b.correct + config.alpha * b.detail
    assert b.reward == pytest.approx(b.weight * parts)
    return b


# ------------------------------------------------------------------ the fast code equals the literal one


@FAST
@given(st.lists(st.sampled_from(PLUS_TOKENS), max_size=14).map("".join))
def test_plus_extraction_equals_the_literal_steps(text):
    assert reference_answer(text) == literal_plus(text)


@FAST
@given(route_questions())
def test_route_reward_equals_the_literal_algorithm(question):
    text, record = question
    b = compute_reward(text, record, NET)
    expected = literal_route(text, record["station_1"], record["station_2"], record["question_transfer_count"])
    assert (b.correct, b.detail) == expected


RIGHT = [(A_TO_F, ROUTE_RECORDS[0]), (A_TO_D, ROUTE_RECORDS[1]), (A_TO_J, ROUTE_RECORDS[2]),
         (section("Line 4", "火车西站站站", "南门站"), ROUTE_RECORDS[3])]


@FAST
@given(st.sampled_from(RIGHT), st.randoms(use_true_random=False), st.booleans())
def test_mutated_right_routes_equal_the_literal_algorithm(right, rng, mutated):
    text, record = right
    text = mutate(text, rng) if mutated else text
    b = compute_reward(text, record, NET)
    assert (b.correct, b.detail) == literal_route(text, record["station_1"], record["station_2"],
                                                  record["question_transfer_count"])


@FAST
@given(route_answers())
def test_reference_sections_equal_a_plain_split(text):
    mine = [(s.route_name, released_stop(s.departure), released_stop(s.arrival)) for s in reference_sections(text)]
    assert mine == [(n, clean(d), clean(a)) for n, d, a in literal_sections(text, False)]
    assert [s for s in reference_sections(text) if s.strict].__len__() == len(literal_sections(text, True))


@FAST
@given(route_answers())
def test_robust_plain_section_shortcut_reads_as_the_general_path(text):
    from rewardmap.answers import route

    with_shortcut = route.robust_sections(text)
    shortcut, route._PLAIN_SECTION = route._PLAIN_SECTION, re.compile(r"(?!)")  # never matches
    try:
        assert route.robust_sections(text) == with_shortcut
    finally:
        route._PLAIN_SECTION = shortcut


@FAST
@given(route_answers())
def test_reference_plain_section_shortcut_reads_as_the_general_path(text):
    from rewardmap.answers import route

    with_shortcut = route.reference_sections(text)
    shortcut, route._REFERENCE_PLAIN = route._REFERENCE_PLAIN, re.compile(r"(?!)")
    try:
        assert route.reference_sections(text) == with_shortcut
    finally:
        route._REFERENCE_PLAIN = shortcut




# ------------------------------------------------------------------ never raises, finite, bounded


@FAST
@given(st.text(max_size=300), st.sampled_from(PLUS_RECORDS + ROUTE_RECORDS), st.sampled_from(CONFIGS))
def test_arbitrary_text(text, record, config):
    check_bounds(text, record, config)


@FAST
@given(st.lists(st.sampled_from(PLUS_TOKENS), max_size=30).map("".join), st.sampled_from(PLUS_RECORDS),
       st.sampled_from(CONFIGS))
def test_plus_token_soup(text, record, config):
    check_bounds(text, record, config)


@FAST
@given(route_questions(), st.sampled_from(CONFIGS))
def test_route_answers_in_every_variant(question, config):
    check_bounds(*question, config)


def test_mutated_right_answers():
    rng = random.Random(0)
    right = [(A_TO_F, ROUTE_RECORDS[0]), (A_TO_D + "\nNumber of Via Stops: 2", ROUTE_RECORDS[1]),
             (A_TO_J, ROUTE_RECORDS[2]),
             ("So the answer is \\boxed{yes}.", PLUS_RECORDS[0]), ("\\boxed{\\text{C}}", PLUS_RECORDS[2])]
    changed = 0
    for i in range(3000):
        text, record = right[i % len(right)]
        mutated = mutate(text, rng)
        for config in (REF, ROB):
            b = check_bounds(mutated, record, config)
            changed += b.reward != compute_reward(text, record, NET, config).reward
    assert changed > 1000  # the mutations do reach the scoring


@FAST
@given(st.dictionaries(st.sampled_from(["type", "answer", "station_1", "station_2", "difficulty_city",
                                        "question_transfer_count"]),
                       st.one_of(st.none(), st.integers(-3, 15), st.text(max_size=8), st.floats(), st.booleans(),
                                 st.lists(st.integers(), max_size=2),
                                 st.dictionaries(st.text(max_size=2), st.integers()),
                                 st.sampled_from(["planning", "TorF1", "Counting1", "easy", "hard", "Alpha Station"]))))
def test_arbitrary_records_never_raise(record):
    for config in (REF, ROB):
        b = compute_reward(A_TO_F, record, NET, config)
        assert math.isfinite(b.reward)


ADVERSARIAL = {  # a quarter of a megabyte each: a quadratic step would take minutes
    "nested braces": "{" * 250_000,
    "boxes": "\\boxed{" * 35_000 + "}" * 35_000,
    "dashes": "Arrival Stop:" + "-" * 250_000,
    "labels without newline": "Route Name: " * 20_000 + "Departure Stop: Arrival Stop:",
    "repeated sections": (section("Line 1", "Alpha Station", "Delta Station") + "\n--\n") * 4_000,
    "oxed": "oxed{" * 50_000,
    "unclosed brackets in a stop": section("Line 1", "Alpha Station", "(" * 250_000),
    "spaces in a stop": section("Line 1", "Alpha Station", "a b " * 60_000),
    "digits": "9" * 250_000,
    "via labels": A_TO_D + "\nNumber of Via Stops: 1" * 10_000,
}


@pytest.mark.timeout(5)  # each takes under 0.1 s; a step quadratic in the length would take minutes
@pytest.mark.parametrize("name", ADVERSARIAL)
def test_adversarial_responses_are_scored(name):
    for record in (ROUTE_RECORDS[1], PLUS_RECORDS[2], PLUS_RECORDS[3]):
        for config in (REF, ROB):
            check_bounds(ADVERSARIAL[name], record, config)
