"""The conversions graded functions' results go through (``descentlab.expect``), on their own."""
from __future__ import annotations

import numpy as np
import pytest

from descentlab.expect import HiddenCheckFailed, as_int, as_scalar, hidden_checks


@pytest.mark.parametrize("value", [3, np.int64(3), 3.0, np.float32(3.0), np.array(3), np.array([3]), np.array([[3.0]])])
def test_as_int_accepts_what_an_int_promise_allows(value):
    got = as_int("f", value)
    assert got == 3 and type(got) is int


@pytest.mark.parametrize("value, words", [
    (2.5, "whole number"), (np.nan, "whole number"), (np.inf, "whole number"),
    (np.array([1, 2]), r"single number \(an int\)"), (np.array([]), "single number"), (None, "return"),
    ("3", "number or a numpy array"),
])
def test_as_int_refuses_what_is_not_one_int(value, words):
    with pytest.raises(AssertionError, match=words):
        as_int("f", value, inputs="n=3")


def test_as_int_in_a_hidden_check_shows_no_value():
    with hidden_checks(), pytest.raises(HiddenCheckFailed) as failure:
        as_int("f", 2.5, inputs="n=3")
    assert "2.5" not in str(failure.value) and "f for n=3" in str(failure.value)


def test_as_scalar_keeps_its_float_rule():
    assert as_scalar("f", np.array([0.5])) == 0.5
    with pytest.raises(AssertionError, match="single number"):
        as_scalar("f", [0.5, 1.0])
