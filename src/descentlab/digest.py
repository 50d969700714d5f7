"""The content digest of a file: how the workspace manifest tells a learner's edit from the
course's own copy (sha256 of the bytes, hex)."""
from __future__ import annotations

import hashlib
from pathlib import Path


def file_digest(path: Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()
