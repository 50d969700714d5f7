"""The wire between the judge and the sandbox: framed JSON carrying plain data only.

Only plain data crosses: None, bool, int, float, complex, str, bytes, numpy arrays and
scalars of boolean or numeric dtype, and lists, tuples and dicts of those. The decoder is
strict (no pickle, no classes, no object dtype), so whatever code runs in the sandbox, the
judge can only ever receive values like these; a value that overloads ``==`` or pretends
to be an array cannot come back.

Values are JSON: ``null``/``true``/numbers/strings/arrays stand for themselves (a JSON
array is a list) and every other value is an object tagged by ``"$"``.

This module is imported on both sides of the boundary and must stay light (json, base64,
numpy).
"""
from __future__ import annotations

import base64
import json
import os
import select
import struct
import time
from typing import Any, Callable

import numpy as np

MAX_FRAME = 64 * 1024 * 1024  # bytes: the most one message may carry from the sandbox
MAX_DEPTH = 64
# What one message from the sandbox may make the judge build. A frame of 64 MB of ``[]``
# would be 20 million Python lists (gigabytes); arrays travel as one base64 string each,
# so honest values stay far below these.
MAX_ELEMENTS = 1_000_000  # list/tuple/dict items in one message
MAX_DICT_KEYS = 100_000  # keys of one dict
MAX_SAME_HASH = 8  # distinct keys of one dict sharing a hash (a hash flood makes inserts quadratic)
_NUMERIC_KINDS = "biufc"
_HEADER = struct.Struct(">I")


class WireError(Exception):
    """The other side sent something that is not a well-formed message of plain data."""


class NotPlainData(TypeError):
    """A value that may not cross the boundary (an object, a generator, object dtype...)."""


class ChannelClosed(WireError):
    """The other side went away (the sandbox died or closed its end)."""


class ChannelTimeout(WireError):
    """No answer before the deadline."""


# -- values -----------------------------------------------------------------------------

def encode(value: Any, handle: Callable[[Any], dict] | None = None, _depth: int = 0) -> Any:
    """``value`` as a JSON-ready tree. ``handle`` turns a non-data value (a callable) into a
    tagged reference, or raises NotPlainData; without it only plain data is accepted."""
    if _depth > MAX_DEPTH:
        raise NotPlainData(f"data nested deeper than {MAX_DEPTH} levels")
    kind = type(value)
    if value is None or kind is bool or kind is str:
        return value
    if kind is int:
        return value
    if kind is float:
        if value != value or value in (float("inf"), float("-inf")):
            return {"$": "float", "v": repr(value)}
        return value
    if kind is list:
        return [encode(v, handle, _depth + 1) for v in value]
    if kind is tuple:
        return {"$": "tuple", "v": [encode(v, handle, _depth + 1) for v in value]}
    if kind is dict:
        return {"$": "dict", "v": [[encode(k, handle, _depth + 1), encode(v, handle, _depth + 1)] for k, v in value.items()]}
    if kind is complex:
        return {"$": "complex", "re": encode(value.real), "im": encode(value.imag)}
    if kind is bytes:
        return {"$": "bytes", "b64": base64.b64encode(value).decode("ascii")}
    if isinstance(value, np.ndarray):
        array = np.asarray(value)
        if array.dtype.kind not in _NUMERIC_KINDS:
            raise NotPlainData(f"a numpy array of dtype {array.dtype} (only numbers and booleans can be graded)")
        array = np.ascontiguousarray(array)
        return {
            "$": "nd",
            "dtype": array.dtype.str,
            "shape": list(array.shape),
            "b64": base64.b64encode(array.tobytes()).decode("ascii"),
        }
    if isinstance(value, np.generic) and np.dtype(type(value)).kind in _NUMERIC_KINDS:
        array = np.asarray(value)
        return {"$": "np", "dtype": array.dtype.str, "b64": base64.b64encode(array.tobytes()).decode("ascii")}
    # Python number subclasses (an int subclass with a lying __eq__, say) are not plain data.
    if handle is not None:
        return handle(value)
    raise NotPlainData(f"{describe_type(value)} is not plain data")


def describe_type(value: Any) -> str:
    kind = type(value)
    module = getattr(kind, "__module__", "") or ""
    name = getattr(kind, "__qualname__", kind.__name__)
    return name if module in ("builtins", "") else f"{module}.{name}"


def _dtype(text: Any) -> np.dtype:
    if not isinstance(text, str) or len(text) > 8:
        raise WireError("bad dtype")
    try:
        dtype = np.dtype(text)
    except TypeError:
        raise WireError("bad dtype") from None
    if dtype.kind not in _NUMERIC_KINDS or dtype.hasobject or dtype.fields is not None or dtype.subdtype is not None:
        raise WireError("a dtype that is not numeric")
    return dtype


def _b64(text: Any) -> bytes:
    if not isinstance(text, str):
        raise WireError("bad bytes field")
    try:
        return base64.b64decode(text.encode("ascii"), validate=True)
    except (ValueError, UnicodeEncodeError):
        raise WireError("bad base64") from None


def _check_key(key: Any, _depth: int = 0) -> None:
    """Dict keys are str, int, float, bool, None or tuples of those: nothing else crosses as
    a key (a decoded key is hashed and compared, so it must be a value of ours)."""
    if key is None or type(key) in (str, bytes, int, float, bool, complex) or isinstance(key, np.generic):
        return
    if type(key) is tuple and _depth < 4 and len(key) <= 16:
        for item in key:
            _check_key(item, _depth + 1)
        return
    raise WireError(f"a dict key of type {type(key).__name__} (keys must be strings, numbers or tuples of those)")


def _decode_dict(pairs: Any, refs: Callable[[dict], Any] | None, _depth: int) -> dict:
    if type(pairs) is not list:
        raise WireError("bad dict")
    if len(pairs) > MAX_DICT_KEYS:
        raise WireError(f"a dict with more than {MAX_DICT_KEYS} keys")
    out: dict = {}
    hashes: dict[int, int] = {}
    for pair in pairs:
        if type(pair) is not list or len(pair) != 2:
            raise WireError("bad dict item")
        key = decode(pair[0], None, _depth + 1)
        _check_key(key)
        if type(key) is not str:  # str hashes are salted per process; numbers' are not
            seen = hashes[hash(key)] = hashes.get(hash(key), 0) + 1
            if seen > MAX_SAME_HASH:
                raise WireError("a dict whose keys collide in their hash (a hash flood)")
        out[key] = decode(pair[1], refs, _depth + 1)
    return out


def check_size(body: bytes) -> None:
    """Refuse a frame that would decode to more than MAX_ELEMENTS containers and items,
    before json builds any of them: every item but a container's first follows a comma."""
    count = body.count(b",") + body.count(b"[") + body.count(b"{")
    if count > MAX_ELEMENTS:
        raise WireError(f"a message of more than {MAX_ELEMENTS} items")


def decode(tree: Any, refs: Callable[[dict], Any] | None = None, _depth: int = 0) -> Any:
    """The value ``tree`` stands for. Anything but the plain-data forms raises WireError;
    ``refs`` resolves the reference tags one side allows the other to send."""
    if _depth > MAX_DEPTH:
        raise WireError(f"data nested deeper than {MAX_DEPTH} levels")
    kind = type(tree)
    if tree is None or kind in (bool, int, float, str):
        return tree
    if kind is list:
        return [decode(v, refs, _depth + 1) for v in tree]
    if kind is not dict:
        raise WireError(f"unexpected {kind.__name__} in message")
    tag = tree.get("$")
    if tag == "float":
        text = tree.get("v")
        if text not in ("nan", "inf", "-inf"):
            raise WireError("bad float")
        return float(text)
    if tag == "tuple":
        items = tree.get("v")
        if type(items) is not list:
            raise WireError("bad tuple")
        return tuple(decode(v, refs, _depth + 1) for v in items)
    if tag == "dict":
        return _decode_dict(tree.get("v"), refs, _depth)
    if tag == "complex":
        re, im = decode(tree.get("re")), decode(tree.get("im"))
        if type(re) is not float or type(im) is not float:
            raise WireError("bad complex")
        return complex(re, im)
    if tag == "bytes":
        return _b64(tree.get("b64"))
    if tag == "nd":
        dtype = _dtype(tree.get("dtype"))
        shape = tree.get("shape")
        if type(shape) is not list or len(shape) > 32 or not all(type(n) is int and 0 <= n for n in shape):
            raise WireError("bad shape")
        raw = _b64(tree.get("b64"))
        count = 1
        for n in shape:
            count *= n
        if count * dtype.itemsize != len(raw):
            raise WireError("array data does not match its shape")
        return np.frombuffer(raw, dtype=dtype).reshape(shape).copy()
    if tag == "np":
        dtype = _dtype(tree.get("dtype"))
        raw = _b64(tree.get("b64"))
        if len(raw) != dtype.itemsize:
            raise WireError("bad numpy scalar")
        return np.frombuffer(raw, dtype=dtype)[0]
    if refs is not None and tag in ("cb", "fn"):
        return refs(tree)
    raise WireError("an unknown tag")


# -- framing ----------------------------------------------------------------------------

def dumps(message: dict) -> bytes:
    body = json.dumps(message, separators=(",", ":"), allow_nan=False).encode("utf-8")
    return _HEADER.pack(len(body)) + body


class Channel:
    """Length-prefixed JSON messages over a pair of file descriptors.

    The judge reads with deadlines (non-blocking, select), a size cap and an item cap
    (``bounded``); the sandbox side reads blocking, what the judge sends being trusted."""

    def __init__(self, read_fd: int, write_fd: int, max_frame: int = MAX_FRAME, bounded: bool = True):
        self.read_fd = read_fd
        self.write_fd = write_fd
        self.max_frame = max_frame
        self.bounded = bounded
        self._buffer = bytearray()

    def send(self, message: dict, deadline: float | None = None) -> None:
        data = memoryview(dumps(message))
        while data:
            try:
                written = os.write(self.write_fd, data)
            except BrokenPipeError:
                raise ChannelClosed("the other side closed the channel") from None
            except BlockingIOError:
                if deadline is not None and time.monotonic() >= deadline:
                    raise ChannelTimeout("the other side stopped reading") from None
                select.select([], [self.write_fd], [], 0.5)
                continue
            data = data[written:]

    def _fill(self, need: int, deadline: float | None) -> None:
        while len(self._buffer) < need:
            if deadline is not None:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise ChannelTimeout("no answer before the deadline")
                ready, _, _ = select.select([self.read_fd], [], [], left)
                if not ready:
                    raise ChannelTimeout("no answer before the deadline")
            try:
                chunk = os.read(self.read_fd, max(65536, min(need - len(self._buffer), 1 << 22)))
            except BlockingIOError:
                continue
            if not chunk:
                raise ChannelClosed("the other side closed the channel")
            self._buffer += chunk

    def recv(self, deadline: float | None = None) -> dict:
        self._fill(_HEADER.size, deadline)
        (size,) = _HEADER.unpack(self._buffer[: _HEADER.size])
        if size > self.max_frame:
            raise WireError(f"message of {size} bytes exceeds the limit of {self.max_frame}")
        self._fill(_HEADER.size + size, deadline)
        body = bytes(self._buffer[_HEADER.size : _HEADER.size + size])
        del self._buffer[: _HEADER.size + size]
        if self.bounded:
            check_size(body)
        try:
            message = json.loads(body)
        except (ValueError, RecursionError):
            raise WireError("a message was not valid JSON") from None
        if type(message) is not dict or type(message.get("op")) is not str:
            raise WireError("a message without an op")
        return message
