"""The scoring variants, described once (`answers.variants`): the help text they give and the one
check a variant from outside passes, with the messages every entry point shows."""

import pytest

from rewardmap.answers.variants import EVALUATION, TRAINING, check_variant, described
from rewardmap.errors import InputError


def test_help_names_each_variant_with_its_meaning():
    assert described(EVALUATION) == (
        "reference (the released code's reading, quirks included), robust (the reference's parsing quirks "
        "repaired) or vlmevalkit (VLMEvalKit's ReasonMap-Plus reading, quirks included; evaluation only).")


@pytest.mark.parametrize("accepted, benchmark, variant, text", [
    (TRAINING, None, "vlmevalkit", "variant: expected one of reference, robust; got 'vlmevalkit'"),
    (TRAINING, "reasonmap", "vlmevalkit", "variant vlmevalkit scores ReasonMap-Plus only (VLMEvalKit's scorer); "
                                          "for reasonmap use reference or robust"),
    (TRAINING, "reasonmap", "lenient", "variant: expected one of reference, robust, vlmevalkit; got 'lenient'"),
    (EVALUATION, "reasonmap-plus", ["robust"], "variant: expected one of reference, robust, vlmevalkit; "
                                               "got ['robust']"),
])
def test_a_bad_variant_gets_one_line_of_the_callers_error_type(accepted, benchmark, variant, text):
    for error in (InputError, ValueError):
        with pytest.raises(error) as e:
            check_variant("variant", variant, accepted, error, benchmark)
        assert type(e.value) is error and str(e.value) == text


def test_a_good_variant_comes_back():
    assert [check_variant("--variant", v, EVALUATION, benchmark="reasonmap-plus") for v in EVALUATION] == \
        list(EVALUATION)
    assert check_variant("variant", "robust", TRAINING, ValueError) == "robust"
