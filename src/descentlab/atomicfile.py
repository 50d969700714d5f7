"""Atomic file writes: the one way descentlab replaces a file.

A reader (a widget, formgrader, a second grader run, a learner's kernel) sees either the old
file or the new one, never half of one: the new content goes to a temporary file in the same
folder, is flushed to disk, then ``os.replace``-d over the target.
"""
from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any


def write_bytes(path: Path | str, data: bytes, *, durable: bool = True) -> Path:
    """Replace ``path`` with ``data`` atomically (creating its folder); returns the path.

    ``durable`` fsyncs the data before the rename, so a crash cannot leave an empty file."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name[:80]}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            if durable:
                os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
    return path


def write_text(path: Path | str, text: str, *, durable: bool = True) -> Path:
    """``write_bytes`` for UTF-8 text. Text that cannot be encoded (lone surrogates from a
    hostile notebook) is written with replacement characters rather than failing."""
    return write_bytes(path, text.encode("utf-8", errors="replace"), durable=durable)


def write_json(path: Path | str, data: Any, *, indent: int | None = 1, durable: bool = True,
               sort_keys: bool = False) -> Path:
    """``write_text`` of ``data`` as JSON."""
    return write_text(path, json.dumps(data, indent=indent, sort_keys=sort_keys), durable=durable)
