"""One random secret per learner workspace, in ``<workspace>/.descentlab/seed``.

It makes the quiz choice order stable for one learner but different between learners
(:func:`descentlab.quiz.choice_order`) and salts the sealed answer keys of the workspace's
quiz banks (:mod:`descentlab.quiz_seal`). ``descentlab start`` creates it once; widgets
only read it, so showing a quiz never writes a file. Without a seed file (a quiz opened
outside any workspace) the seed is derived from the folder, which is still stable.
"""
from __future__ import annotations

import hashlib
import secrets
from pathlib import Path

from .atomicfile import write_text

SEED_FILE = "seed"


def read_seed(state_dir: Path) -> str:
    """The workspace's seed; a stable stand-in derived from the folder if there is none."""
    try:
        text = (Path(state_dir) / SEED_FILE).read_text(encoding="ascii").strip()
    except (OSError, UnicodeDecodeError):
        text = ""
    if len(text) >= 16 and all(c in "0123456789abcdef" for c in text):
        return text
    return hashlib.sha256(str(Path(state_dir).resolve()).encode()).hexdigest()[:32]


def ensure_seed(state_dir: Path) -> str:
    """Create the seed file if it is missing (or unreadable) and return the seed."""
    path = Path(state_dir) / SEED_FILE
    try:
        text = path.read_text(encoding="ascii").strip()
        if len(text) >= 16 and all(c in "0123456789abcdef" for c in text):
            return text
    except (OSError, UnicodeDecodeError):
        pass
    seed = secrets.token_hex(16)
    write_text(path, seed + "\n")
    return seed
