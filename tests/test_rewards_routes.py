"""Route answers and the reward's settings, rule by rule, on the corners the hand-worked
examples in test_rewards.py do not reach: section splitting, the network's lookups, the
robust repairs (names, riding sections, stated via stops) and the config's checks."""

import re

import pytest
from test_rewards import A_TO_D, NET, REF, ROB, answer, route, score, section

from rewardmap.errors import InputError
from rewardmap.network import network_from_mapping
from rewardmap.rewards import RewardConfig, compute_reward, reference_sections, reward_index, robust_sections
from rewardmap.rewards.parse_route import _label
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
    detour = answer(section("Line 1", "Bravo Station", "Delta Station"), section("Line 3", "Delta Station", "Golf Station"),
                    B_TO_F.replace("Bravo", "Golf"))
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
    assert compute_reward(section("Line 1", "A Station", "C Station", via.format(1)), route("A Station", "C Station", 0),
                          net, ROB).correct
    assert not compute_reward(section("Line 1", "A Station", "C Station", via.format(2)),
                              route("A Station", "C Station", 0), net, ROB).correct


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
