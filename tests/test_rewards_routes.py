"""Route answers and the reward's settings, rule by rule, on the corners the hand-worked
examples in test_rewards.py do not reach: section splitting, the network's lookups, the
robust repairs (names, riding sections, stated via stops) and the config's checks."""

import re

import pytest
from test_rewards import A_TO_D, NET, REF, ROB, _fresh_index, answer, route, score, section  # noqa: F401 (fixture)

from rewardmap.errors import InputError
from rewardmap.network import network_from_mapping
from rewardmap.rewards import RewardConfig, compute_reward, reference_sections, reward_index, robust_sections
from rewardmap.answers.route import _label, route_format_ok
from rewardmap.rewards.reward import ZERO
from rewardmap.rewards.route_reward import endpoints_named

A_TO_B = section("Line 1", "Alpha Station", "Bravo Station")
B_TO_F = section("Line 2", "Bravo Station", "Foxtrot Station")


@pytest.mark.parametrize("text", ["--" + A_TO_B, A_TO_B + "--" + B_TO_F, "x--" + A_TO_B + "\n--\n" + B_TO_F,
                                  "İ--" + A_TO_B + "--" + B_TO_F])
def test_sections_split_on_double_dashes_wherever_they_stand(text):
    # a dash pair right before a label, at the very start, or after a dotted capital I
    # (whose lower case is two characters) still leaves every label whole
    names = [s.route_name for s in reference_sections(text)]
    assert names == ["Line 1", "Line 2"][:len(names)] and len(names) == text.count("Route Name:")
    sections, _ = robust_sections(text)
    assert [s.route_name for s in sections] == names
    # values are cut from the answer at the label's offsets: no space after the label to hide a shift
    [s], _ = robust_sections("İ\n--\nRoute Name:Line 1\nDeparture Stop:Alpha\nArrival Stop:Bravo")
    assert (s.route_name, s.departure, s.arrival) == ("Line 1", "alpha", "bravo")


def test_labels_allow_spaces_and_tabs_between_words():
    pattern = _label("number of via stops")
    assert re.fullmatch(pattern, "number  of\tvia stops :") and re.fullmatch(pattern, "number of via stops:")
    assert not re.fullmatch(pattern, "number of\nvia stops:")


def test_the_index_is_built_once_and_maps_clean_names_to_stations():
    index = reward_index(NET)
    assert reward_index(NET) is index  # kept on the network
    assert index.members["Line 1"]["alpha"] == "Alpha Station"
    assert index.robust_members["Line 1"]["alpha"] == "Alpha Station"
    assert index.robust_rides("Line 1", "Alpha Station", "Delta Station") == [("bravo", "charlie")]
    assert index.robust_rides("Line 1", "Alpha Station", "Delta Station") is \
        index.robust_rides("Line 1", "Alpha Station", "Delta Station")  # kept
    # the released reading keeps a space before a marker (东管头南站 （换乘站） cleans to 东管头南站);
    # the robust one strips the marker first (东管头南)
    net = network_from_mapping({"Line 16": ["东管头南站 （换乘站）", "丰台站"], "Line 9": ["Tech Park Station", "丰台站"]})
    index = reward_index(net)
    assert set(index.members["Line 16"]) == {"东管头南站", "丰台"}
    assert set(index.robust_members["Line 16"]) == {"东管头南", "丰台"}
    # lines holding both stops, keyed as `members` unless robust ("Tech" is rewritten only as written)
    assert index.lines_holding("technologypark", "丰台") == {"Line 9"}
    assert index.lines_holding("techpark", "丰台", robust=True) == {"Line 9"}
    assert index.lines_holding("techpark", "丰台") == set()


def test_robust_only_riding_sections_earn():
    # Golf is not on Line 1: no ride, not correct, no detail (the reference still pays +2 - 5)
    text = section("Line 1", "Alpha Station", "Golf Station")
    record = route("Alpha Station", "Golf Station", 0)
    assert (score(text, record, ROB).correct, score(text, record, ROB).detail) == (False, 0.0)
    # a section that does not ride is passed over, the next ones still earn: 2 + 3 = 5
    text = answer(section("Line 9", "Alpha Station", "Bravo Station"), B_TO_F)
    assert score(text, route("Alpha Station", "Foxtrot Station", 1), ROB).detail == 5.0


def test_robust_plus_four_only_for_a_line_holding_both_endpoints():
    detour = answer(section("Line 1", "Bravo Station", "Delta Station"),
                    section("Line 3", "Delta Station", "Golf Station"), B_TO_F.replace("Bravo", "Golf"))
    # no transfers: only Line 2 holds Bravo and Foxtrot: credit 4, + 2 = 6, minus 5 per extra section: 6 - 10
    b = score(detour, route("Bravo Station", "Foxtrot Station", 0), ROB)
    assert (b.correct, b.detail) == (True, -4.0)


def test_robust_line_names():
    record = route("Alpha Station", "Delta Station", 0)
    assert score(section("八通线", "Alpha Station", "Delta Station"), record, ROB).correct  # released renaming kept
    # a name up to 200 characters is read; a longer one names no line
    assert score(section("Line 1" + "_" * 194, "Alpha Station", "Delta Station"), record, ROB).correct
    assert not score(section("Line 1" + "_" * 195, "Alpha Station", "Delta Station"), record, ROB).correct


def test_robust_via_stops_on_a_branching_line():
    # the file marks where a branch starts: after that the order is unknown, so stated vias
    # are only checked up to it
    net = network_from_mapping({"Line 1": ["A Station", "B Station", "C Station (Branch-starting Station)",
                                           "D Station", "E Station"]})
    record = route("A Station", "E Station", 0)
    via = "\nNumber of Via Stops: {}"
    assert compute_reward(section("Line 1", "A Station", "E Station", via.format(9)), record, net, ROB).correct
    a_to_c = route("A Station", "C Station", 0)
    assert compute_reward(section("Line 1", "A Station", "C Station", via.format(1)), a_to_c, net, ROB).correct
    assert not compute_reward(section("Line 1", "A Station", "C Station", via.format(2)), a_to_c, net, ROB).correct


def test_robust_via_count_of_ten_digits_is_no_count():
    record = route("Alpha Station", "Delta Station", 0)
    [s], _ = robust_sections(A_TO_D + "\nNumber of Via Stops: 000000002")
    assert s.via_count == 2  # nine digits
    [s], _ = robust_sections(A_TO_D + "\nNumber of Via Stops: 0000000002")
    assert s.via_count is None  # ten: not read, so not checked
    assert score(A_TO_D + "\nNumber of Via Stops: 0000000005", record, ROB).correct


def test_endpoints_named():
    assert endpoints_named(A_TO_D, "Alpha Station", "Delta Station")
    assert not endpoints_named(A_TO_D, "Bravo Station", "Delta Station")  # both ends must match
    assert not endpoints_named(A_TO_D, "Alpha Station", "Bravo Station")
    assert not endpoints_named("", "Alpha Station", "Delta Station")
    assert not endpoints_named(None, "Alpha Station", "Delta Station")


def test_non_string_responses_and_mapping_records():
    # a record may be any mapping; a response that is no string reads as an empty one
    from types import MappingProxyType

    record = route("Alpha Station", "Delta Station", 0)
    assert score(A_TO_D, MappingProxyType(record)) == score(A_TO_D, record)
    b = score(None, record, ROB)
    assert (b.parsed, b.format, b.reward) == (False, 0.0, 0.0)


def test_format_reward_of_zero_pays_nothing_and_reference_reads_no_cut():
    config = RewardConfig(variant="robust", format_reward=0)
    assert score("\\boxed{yes}", {"type": "TorF1", "answer": 1, "difficulty_city": "easy"}, config).format == 0.0
    assert score(A_TO_D, route("Alpha Station", "Delta Station", 0), config).reward == pytest.approx(1.2 * 13)
    # the reference variant has no section limit: 65 sections are read and judged
    many = answer(*[section("Line 1", "Alpha Station", "Delta Station")] + [
        section("Line 1", "Delta Station", "Alpha Station"), section("Line 1", "Alpha Station", "Delta Station")] * 32)
    assert score(many, route("Alpha Station", "Delta Station", 0), REF).correct


@pytest.mark.parametrize("bad, message", [
    ({"variant": "x"}, "variant: expected one of reference, robust"), ({"mode": "x"}, "mode: expected one of"),
    ({"map_weights": range(1, 4)}, "map_weights must be three finite numbers > 0, got range"),
    ({"alpha": -1}, "alpha must be a finite number >= 0, got -1"),
])
def test_config_errors_are_value_errors_that_say_what(bad, message):
    with pytest.raises(ValueError, match=re.escape(message)) as e:
        RewardConfig(**bad)
    assert not isinstance(e.value, InputError)  # a programming error, not a bad input file


def test_config_map_weights_become_a_tuple_of_floats():
    assert RewardConfig(map_weights=[1, 2, 3]).map_weights == (1.0, 2.0, 3.0)
    assert type(RewardConfig(map_weights=[1, 2, 3]).map_weights) is tuple


@pytest.mark.parametrize("text, names", [
    ("Route Name: Line 1\nRoute Name: Line 2\nDeparture Stop: A\nArrival Stop: B", ["Line 1"]),  # the first label
    ("Departure Stop: A\nArrival Stop: B\nNote: x", []),                          # no route name: no section
    ("Route Name: Line 1\nArrival Stop: B\nNote: x", []),                         # no departure: none
    (A_TO_D + "\n--\nArrival Stop: Bravo Station", ["Line 1"]),                   # labels of other pieces don't count
    ("Arrival Stop: Bravo Station\n--\n" + A_TO_D, ["Line 1"]),
])
def test_reference_section_needs_its_own_three_labels(text, names):
    assert [s.route_name for s in reference_sections(text)] == names


def test_reference_reads_a_section_after_reasoning_with_colons():
    # not the one-line-per-field shape: read label by label, strictly, and right
    assert score("Plan: one ride.\n" + A_TO_D, route("Alpha Station", "Delta Station", 0)).correct


def test_robust_fields_beyond_the_plain_shape():
    [s], _ = robust_sections(A_TO_D + "\nNumber of Via Stops: *2*\nNote: fine")
    assert (s.via_count, s.via_stops) == (2, None)  # "via stops:" ending the count's label is no list
    [s], _ = robust_sections("**Route Name**: Line 1\n**Departure Stop**: A\n**Arrival Stop**: B")
    assert (s.route_name, s.departure, s.arrival) == ("Line 1", "a", "b")  # markdown bold around labels
    assert robust_sections("Departure Stop: A\nArrival Stop: B\nNote: x") == ([], False)  # no route name
    # a value over 200 characters names no station: only lower-cased, not cleaned
    [s], _ = robust_sections(section("Line 1", "Alpha" + "," * 200 + " Station", "B"))
    assert s.departure == "alpha" + "," * 200 + " station"
    record = route("Alpha Station", "Delta Station", 0)
    assert score(section("Line 1", "Alpha" + "," * 187 + " Station", "Delta Station"), record, ROB).correct  # 200
    assert not score(section("Line 1", "Alpha" + "," * 188 + " Station", "Delta Station"), record, ROB).correct


def test_long_stops_and_thinking_words():
    # a stop over 256 characters is cleaned like a short one, and never raises
    long_delta = section("Line 1", "Alpha Station", "Delta" + " " * 300 + "Station")
    assert score(long_delta, route("Alpha Station", "Delta Station", 0)).correct
    # "think" without a thinking tag is part of the answer
    assert score("I think the answer is yes", {"type": "TorF1", "answer": 1, "difficulty_city": "easy"}, ROB).correct


def test_route_format_from_the_first_section_on():
    bad_then_good = "Plan.\n" + A_TO_D + "\nThen walk.\n" + B_TO_F
    assert not route_format_ok(bad_then_good)
    assert not route_format_ok("no route here")


def test_labels_of_other_integer_kinds_and_odd_difficulties():
    numpy = pytest.importorskip("numpy")
    record = {"type": "TorF1", "answer": numpy.int64(1), "difficulty_city": "easy"}
    assert score("\\boxed{yes}", record).correct  # any Integral label, not only int
    assert score("\\boxed{yes}", dict(record, difficulty_city=["easy"])) == ZERO  # no string: malformed


@pytest.mark.parametrize("blanks", [" ", "  \t  ", " " * 7, "\t" * 12])
def test_a_via_count_label_is_never_read_as_a_via_list(blanks):
    # any spacing inside `Number of Via Stops:` (bug: 7 or more blanks before "Via" made its
    # tail a via list "2", and the right route wrong)
    text = A_TO_D + f"\nNumber of{blanks}Via Stops: 2"
    [s], _ = robust_sections(text)
    assert (s.via_count, s.via_stops) == (2, None)
    assert score(text, route("Alpha Station", "Delta Station", 0), ROB).correct
    # a via list after the count is still read
    [s], _ = robust_sections(text + "\nVia Stops: Bravo Station, Charlie Station")
    assert (s.via_count, s.via_stops) == (2, ("bravo", "charlie"))
