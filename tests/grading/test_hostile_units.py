"""The judge-side pieces of the round-two defences, without a sandbox: how a learner's
exception comes back, what a hidden check says, how hostile text is made safe."""
from __future__ import annotations

import numpy as np
import pytest

from descentlab.expect import HiddenCheckFailed, expect_close, expect_raises, expect_true, hidden_checks
from descentlab.grade.judge import SandboxLost, hidden_error_text, split_hidden
from descentlab.grade.learner_exceptions import LearnerError
from descentlab.grade.learner_exceptions import exception_from as _exception_from
from descentlab.grade.runner import exception_text
from descentlab.grade.safetext import clean_tree, for_terminal, student_id_problem


class BatchSizeError(ValueError):
    pass


class PivotError(np.linalg.LinAlgError):
    pass


class ValueError_(Exception):
    pass


ValueError_.__name__ = "ValueError"  # a learner class that only borrows the name


def _round_trip(exc: BaseException) -> Exception:
    return _exception_from(exception_text(exc))


@pytest.mark.parametrize("raised,base", [
    (BatchSizeError("batch of 0"), ValueError),
    (PivotError("singular"), np.linalg.LinAlgError),
    (np.exceptions.AxisError(3, 1), np.exceptions.AxisError),
    (KeyError("k"), KeyError),
])
def test_an_exception_keeps_its_builtin_or_numpy_base(raised, base):
    back = _round_trip(raised)
    assert isinstance(back, base)
    assert type(back).__name__ == type(raised).__name__


def test_a_borrowed_name_or_an_unknown_module_gives_no_base():
    back = _round_trip(ValueError_("pretend"))
    assert not isinstance(back, ValueError) and isinstance(back, LearnerError)
    forged = {"type": "system", "module": "os", "bases": [["os", "system"], ["subprocess", "Popen"]], "message": "x"}
    back = _exception_from(forged)
    assert isinstance(back, LearnerError) and not isinstance(back, SandboxLost)
    assert _exception_from({"type": "SandboxLost", "module": "descentlab.grade.judge", "message": "skip"}).__class__ \
        is not SandboxLost


def test_a_hidden_check_says_no_value():
    with hidden_checks():
        with pytest.raises(HiddenCheckFailed) as wrong:
            expect_close("mse", 0.123456, 0.654321, inputs="random inputs of shape (7,)", hint="Average.")
        with pytest.raises(HiddenCheckFailed) as raised:
            expect_raises("f", ValueError, lambda: (_ for _ in ()).throw(KeyError("SECRET")))
        with pytest.raises(HiddenCheckFailed) as plain:
            expect_true(False, "got SECRET 0.654321")
    for exc in (wrong, raised, plain):
        assert "0.12" not in str(exc.value) and "0.65" not in str(exc.value) and "SECRET" not in str(exc.value)
    assert str(wrong.value) == "wrong value from mse for random inputs of shape (7,). Average."
    with pytest.raises(AssertionError, match="got 0.123456, expected 0.654321"):
        expect_close("mse", 0.123456, 0.654321)  # outside hidden checks: the full message


def test_hidden_error_text_never_quotes_the_learner():
    assert hidden_error_text(ValueError("SECRET args"), "test_mse") == (
        "a hidden test of mse failed: your code raised ValueError (hidden tests do not show the message); "
        "check the edge cases the exercise describes")
    assert "SECRET" not in hidden_error_text(AssertionError("SECRET"), "test_mse")
    assert "SECRET" not in hidden_error_text(_round_trip(type("SECRET_7", (KeyError,), {})("x")), "test_mse")


def test_a_test_cell_splits_at_its_hidden_markers():
    source = "a = 1\n### BEGIN HIDDEN TESTS\nb = 2\n### END HIDDEN TESTS\nc = 3\n"
    assert list(split_hidden(source)) == [("a = 1\n", False), ("b = 2\n", True), ("c = 3\n", False)]
    assert list(split_hidden("x = 1\n")) == [("x = 1\n", False)]
    inside = "for i in x:\n    ### BEGIN HIDDEN TESTS\n    b = 2\n    ### END HIDDEN TESTS\n"
    assert list(split_hidden(inside)) == [(inside, True)]  # cannot be split: all of it is hidden


def test_hostile_text_is_made_safe():
    assert for_terminal("a\x1b[2J\x07\r\u202eb\n") == "a\\x1b[2J\\x07\\x0d\\u202eb\n"
    assert clean_tree({"k\ud800": ["x\udfff", ("\udc80",)]}) == {"k\ufffd": ["x\ufffd", ("\ufffd",)]}
    for bad in ("eve\x1b[2J", "x" * 200, "mal\udcff", ".hidden", " ada", "a\nb", ""):
        assert student_id_problem(bad), bad
    for good in ("ada", "José", "student-01", "a.b_c"):
        assert student_id_problem(good) is None, good
