"""Checks used by exercise test cells: type, then shape, then values, with messages that teach.

Every check first converts what the learner returned with ``np.asarray(..., dtype=float)``
so no returned object can pass by overloading ``==``; a value that cannot be converted
fails with a message saying what came back.

    expect_close("mse", got, 0.25, inputs="y_pred=[1, 2], y_true=[1.5, 2.5]")

While the grader runs a test cell's hidden part it turns on ``hidden_checks()``: then a
failing check raises ``HiddenCheckFailed`` whose message holds only what the course wrote
(the function's name, ``inputs``, ``hint``, what kind of check failed) and never a value:
neither the expected one (repeated submissions would harvest hidden outputs) nor what the
learner's code returned or raised (a function could echo its hidden inputs).
"""
from __future__ import annotations

import contextlib
import contextvars
import traceback
from types import TracebackType
from typing import Any, Iterator

import numpy as np

__all__ = [
    "as_float_array",
    "as_scalar",
    "as_int",
    "expect_close",
    "expect_shape",
    "expect_raises",
    "expect_true",
    "relative_error",
    "numerical_gradient",
    "HiddenCheckFailed",
    "hidden_checks",
]

# Per thread (judges may run side by side in one Dask worker), so a context variable.
_hidden = contextvars.ContextVar("descentlab_hidden_checks", default=False)


class HiddenCheckFailed(AssertionError):
    """A check in a hidden test failed; the message is the course's own words only."""


@contextlib.contextmanager
def hidden_checks() -> Iterator[None]:
    """Checks inside this block report failures without values (see the module docstring)."""
    token = _hidden.set(True)
    try:
        yield
    finally:
        _hidden.reset(token)


def _fail(full: str, course_words: str) -> AssertionError:
    """The error to raise: ``full`` normally, ``course_words`` (no values) in hidden checks."""
    return HiddenCheckFailed(course_words) if _hidden.get() else CheckFailed(full)


def _where(inputs: str) -> str:
    return f" for {inputs}" if inputs else ""


# Every check sets ``__tracebackhide__ = True``: IPython leaves such frames out of the
# traceback it shows, so a failing test cell shows the learner's own line (the test call,
# or their code when it raised) and the message, not this module's internals.


def _number(value: Any) -> str:
    """A number as a learner writes it: ``0.5``, not ``np.float64(0.5)``."""
    if isinstance(value, (bool, np.bool_)):
        return str(bool(value))
    if isinstance(value, (int, np.integer)):
        return str(int(value))
    return repr(float(value))


# Every check sets ``__tracebackhide__ = True``: IPython leaves such frames out of the
# tracebacks it shows, so when the learner's code raises inside a check (numerical_gradient
# calling their function, say) the traceback goes from their test line to their own code.
# IPython always shows the frame that raised, though, so a failed check raises CheckFailed,
# which renders its traceback without the hidden frames at its end: the learner's line,
# then the message.


class CheckFailed(AssertionError):
    """A check failed. To every reader (nbgrader, the grader, ``except AssertionError``) it
    is an AssertionError, and it is called one; only its rendering in IPython differs."""

    def __reduce__(self):  # pickled (a worker pool, Dask) as the plain AssertionError it claims to be
        return (AssertionError, self.args)

    def _render_traceback_(self) -> list[str]:
        from IPython import get_ipython

        shell = get_ipython()
        tb = _without_hidden_tail(self.__traceback__)
        if shell is None or tb is None:
            return traceback.format_exception_only(AssertionError, self)
        return shell.InteractiveTB.structured_traceback(AssertionError, self, tb, tb_offset=1)


CheckFailed.__name__ = CheckFailed.__qualname__ = "AssertionError"


def _without_hidden_tail(tb: TracebackType | None) -> TracebackType | None:
    """``tb`` up to its last frame that does not set ``__tracebackhide__``."""
    frames = []
    while tb is not None:
        frames.append(tb)
        tb = tb.tb_next
    while frames and frames[-1].tb_frame.f_locals.get("__tracebackhide__"):
        frames.pop()
    rebuilt = None
    for frame in reversed(frames):
        rebuilt = TracebackType(rebuilt, frame.tb_frame, frame.tb_lasti, frame.tb_lineno)
    return rebuilt


def _number(value: Any) -> str:
    """A number as a learner writes it: ``0.5``, not ``np.float64(0.5)``."""
    if isinstance(value, (bool, np.bool_)):
        return str(bool(value))
    if isinstance(value, (int, np.integer)):
        return str(int(value))
    return repr(float(value))


def _describe(value: Any) -> str:
    """What came back, readably: plain numbers and ``[1.0, 2.0]``-style arrays."""
    if isinstance(value, (int, float, np.number, bool, np.bool_)):
        text = _number(value)
    elif isinstance(value, np.ndarray) and value.dtype.kind in "biuf":
        text = np.array2string(value, separator=", ", threshold=12)
    else:
        text = repr(value)
    return text if len(text) <= 200 else text[:197] + "..."


def as_float_array(name: str, value: Any) -> np.ndarray:
    """``value`` as a float ndarray, or an AssertionError naming ``name`` and what came back."""
    __tracebackhide__ = True
    if value is None:
        message = f"{name} returned None: did you forget a `return` statement?"
        raise _fail(message, message)
    # Only plain data converts: a custom object cannot masquerade as an array.
    if not isinstance(value, (int, float, np.number, np.ndarray, list, tuple, bool, np.bool_)):
        raise _fail(
            f"{name} should return a number or a numpy array, got {type(value).__name__}: "
            f"{_describe(value)}",
            f"{name} should return a number or a numpy array, and returned something else",
        )
    try:
        array = np.array(value, dtype=float)
    except (TypeError, ValueError) as exc:
        raise _fail(
            f"{name} returned {_describe(value)}, which is not a number or an array of "
            f"numbers ({exc})",
            f"{name} returned something that is not a number or an array of numbers",
        ) from None
    return array


def as_scalar(name: str, value: Any, inputs: str = "") -> float:
    """``value`` as a Python float, for a graded function that promises "a float".

    Accepted, as every such docstring says: a Python float (or int), a NumPy scalar, a 0-d
    array and an array of exactly one element (shape ``(1,)``, ``(1, 1)``...), so that
    ``np.array([0.5])`` where ``0.5`` was promised costs nothing, neither in the function's
    own test nor in the test of another function that reads it. An array of several numbers
    (or of none) fails with a message naming ``name``.
    """
    __tracebackhide__ = True
    return _single(name, value, inputs, "a float")


def _single(name: str, value: Any, inputs: str, kind: str) -> float:
    """The one number in ``value`` (a number, a 0-d or a 1-element array), as a float."""
    __tracebackhide__ = True
    array = as_float_array(name, value)
    if array.size != 1:
        what = "an empty array" if array.size == 0 else f"an array of shape {array.shape}"
        raise _fail(
            f"{name}{_where(inputs)} should return a single number ({kind}), got {what}: "
            f"{_describe(array)}",
            f"{name}{_where(inputs)} should return a single number ({kind}), and returned an "
            f"array of {'no' if array.size == 0 else 'several'} numbers",
        )
    return float(array.reshape(()))


def as_int(name: str, value: Any, inputs: str = "") -> int:
    """``value`` as a Python int, for a graded function that promises "an int".

    The same rule as ``as_scalar``'s for floats, as every such docstring says: a Python int, a
    NumPy integer, a whole float (``3.0``), a 0-d array and an array of exactly one element
    are accepted. A number that is not whole (``2.5``, nan, inf) fails with a message naming
    ``name``, as does an array of several numbers.
    """
    __tracebackhide__ = True
    number = _single(name, value, inputs, "an int")
    if not number.is_integer():
        raise _fail(
            f"{name}{_where(inputs)} should return a whole number (an int), got {_number(number)}",
            f"{name}{_where(inputs)} should return a whole number (an int), and returned another number",
        )
    return int(number)


def expect_shape(name: str, got: Any, shape: tuple[int, ...], inputs: str = "") -> np.ndarray:
    __tracebackhide__ = True
    array = as_float_array(name, got)
    if array.shape != tuple(shape):
        raise _fail(
            f"wrong shape from {name}{_where(inputs)}: got {array.shape}, expected {tuple(shape)}",
            f"wrong shape from {name}{_where(inputs)}",
        )
    return array


def expect_close(
    name: str,
    got: Any,
    expected: Any,
    *,
    rtol: float = 1e-7,
    atol: float = 1e-9,
    inputs: str = "",
    hint: str = "",
) -> None:
    """Fail unless ``got`` has ``expected``'s shape, is finite where it is, and is close."""
    __tracebackhide__ = True
    want = np.asarray(expected, dtype=float)
    array = expect_shape(name, got, want.shape, inputs)
    where = _where(inputs)
    if not np.array_equal(np.isfinite(array), np.isfinite(want)):
        raise _fail(
            f"{name}{where} returned non-finite values (nan or inf) where finite ones were "
            f"expected: got {_describe(array)}. {hint}".rstrip(),
            f"{name}{where} returned non-finite values (nan or inf) where finite ones were "
            f"expected, or finite ones where they were not. {hint}".rstrip(),
        )
    if not np.allclose(array, want, rtol=rtol, atol=atol, equal_nan=True):
        worst = np.unravel_index(np.argmax(np.abs(array - want)), array.shape) if array.shape else ()
        detail = (
            f"at index {tuple(int(i) for i in worst)}: got {_number(array[worst])}, expected {_number(want[worst])}"
            if array.shape
            else f"got {_number(array)}, expected {_number(want)}"
        )
        raise _fail(f"wrong value from {name}{where}: {detail}. {hint}".rstrip(),
                    f"wrong value from {name}{where}. {hint}".rstrip())


def expect_true(condition: Any, message: str, *, hidden_message: str = "") -> None:
    """Fail with ``message`` unless ``condition`` is a real boolean True. In a hidden check
    the message is ``hidden_message`` (course words; ``message`` may quote values)."""
    __tracebackhide__ = True
    if not isinstance(condition, (bool, np.bool_)) or not bool(condition):
        raise _fail(message, hidden_message or "a hidden check failed")


def expect_raises(name: str, exception: type[BaseException], call, *args, **kwargs) -> None:
    """Fail unless ``call(*args, **kwargs)`` raises ``exception`` (NotImplementedError never counts)."""
    __tracebackhide__ = True
    try:
        call(*args, **kwargs)
    except NotImplementedError:
        raise _fail(f"{name} is not implemented yet", f"{name} is not implemented yet") from None
    except exception:
        return
    except Exception as exc:  # noqa: BLE001 - the message reports what was raised instead
        raise _fail(
            f"{name} should raise {exception.__name__} here, but raised "
            f"{type(exc).__name__}: {exc}",
            f"{name} should raise {exception.__name__} here, but raised another exception",
        ) from None
    message = f"{name} should raise {exception.__name__} here, but returned normally"
    raise _fail(message, message)


def relative_error(a: Any, b: Any) -> float:
    """``max |a-b| / max(1e-8, |a|+|b|)``, the course's measure for gradient checks."""
    a = np.asarray(a, dtype=float)
    b = np.asarray(b, dtype=float)
    return float(np.max(np.abs(a - b) / np.maximum(1e-8, np.abs(a) + np.abs(b))))


def numerical_gradient(f, x: np.ndarray, h: float = 1e-5) -> np.ndarray:
    """Centred finite differences of the scalar function ``f`` at ``x`` (float64)."""
    __tracebackhide__ = True
    x = np.array(x, dtype=float)
    grad = np.zeros_like(x)
    for index in np.ndindex(x.shape):
        old = x[index]
        x[index] = old + h
        up = float(f(x.copy()))
        x[index] = old - h
        down = float(f(x.copy()))
        x[index] = old
        grad[index] = (up - down) / (2 * h)
    return grad
