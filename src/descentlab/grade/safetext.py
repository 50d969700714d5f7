"""Strings from a submission, made safe for where they go: the terminal, a page, a file name.

Everything a submission brings (notebook text, exception messages, output, its folder's
name) is hostile. Python may hold text that cannot be written as UTF-8 (a lone surrogate
from a ``"\\ud800"`` escape in the notebook JSON, or a non-UTF-8 byte of a file name
decoded with surrogateescape), and text that drives a terminal (escape sequences, carriage
returns, bidirectional overrides). This module turns such text into text that is safe to
write anywhere, and decides which folder names may become student ids and file names.
"""
from __future__ import annotations

import re
import unicodedata
from typing import Any

_SURROGATES = re.compile("[\ud800-\udfff]")
MAX_STUDENT_ID_BYTES = 128  # <student>.json and .recorded must stay far below 255 bytes


def clean(text: str) -> str:
    """``text`` with every lone surrogate replaced by U+FFFD, so it encodes as UTF-8."""
    return _SURROGATES.sub("\ufffd", text)


def clean_tree(value: Any) -> Any:
    """A JSON-ready tree (a verdict) with every string in it ``clean``ed."""
    if isinstance(value, str):
        return clean(value)
    if isinstance(value, list):
        return [clean_tree(v) for v in value]
    if isinstance(value, tuple):
        return tuple(clean_tree(v) for v in value)
    if isinstance(value, dict):
        return {clean_tree(k): clean_tree(v) for k, v in value.items()}
    return value


def _visible(ch: str) -> str:
    if ch == "\n" or ch == "\t":
        return ch
    category = unicodedata.category(ch)
    if category[0] == "C" or category in ("Zl", "Zp"):  # control, format (bidi), surrogate, private, unassigned
        code = ord(ch)
        return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}" if code < 0x10000 else f"\\U{code:08x}"
    return ch


def for_terminal(text: str) -> str:
    """``text`` with every control or format character shown as an escape (``\\x1b``), so
    printing it cannot move the cursor, clear the screen, retitle the window or reorder
    what follows it. Newlines and tabs stay."""
    return "".join(_visible(ch) for ch in str(text))


def student_id_problem(name: str) -> str | None:
    """Why the folder name ``name`` cannot be a student id (and a file name), or None."""
    if _SURROGATES.search(name):
        return "its name is not valid UTF-8"
    if any(unicodedata.category(ch)[0] == "C" or ch in "\n\r\t" for ch in name):
        return "its name contains control characters (a terminal escape?)"
    if len(name.encode("utf-8")) > MAX_STUDENT_ID_BYTES:
        return f"its name is longer than {MAX_STUDENT_ID_BYTES} bytes"
    if name != name.strip() or not name or name.startswith("."):
        return "its name starts or ends with a space or starts with a dot"
    return None
