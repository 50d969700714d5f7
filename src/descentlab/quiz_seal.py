"""Sealed answer keys: the workspace's quiz banks do not show their answers as plain text.

The course's own banks (``lessons/quizzes/*.yml``) keep ``correct: true`` and ``answer:``
readable for the people who write them. When ``descentlab start`` copies a bank into a
learner's workspace it writes a *sealed* copy (:func:`seal_bank_text`) instead:

* every question gets a ``salt:`` (derived from the workspace seed and the question id,
  so re-copying an unchanged bank writes the same bytes and is not taken for a change);
* the choices are written in an order drawn from the salt, and every choice loses ``correct:`` and gets ``key: <digest>`` where the digest is
  ``sha256(salt, "right" or "wrong", choice text)`` (:func:`choice_key`). Every choice has
  a key of the same shape, so not even the number of right choices shows; the quiz widget
  finds the right ones by recomputing both digests;
* a numeric question's ``answer:`` becomes ``sealed_answer:``, the float's bytes XOR-ed with
  a salt-derived mask (a digest cannot be compared within a tolerance, so this one is
  obfuscation, not a one-way digest).

This stops a glance at the YAML from giving answers away; it is not cryptography against
a learner who reads this module and recomputes the digests (the choice texts are there).
The per-choice explanations stay readable: they are the quiz's feedback.
"""
from __future__ import annotations

import hashlib
import hmac
import random
import struct

import yaml

KEY_LENGTH = 32  # hex characters of a choice key: 128 bits is plenty to tell two texts apart
SEALED_HEADER = (
    "# Your copy of this lesson's quiz. The answer keys are sealed (salted digests), so\n"
    "# reading this file does not give the answers away: take the quiz in the lesson.\n"
)


def choice_key(salt: str, text: str, correct: bool) -> str:
    """The sealed key of one choice: a salted digest of its text and whether it is right."""
    verdict = "right" if correct else "wrong"
    digest = hashlib.sha256(f"{salt}\0{verdict}\0{text}".encode("utf-8")).hexdigest()
    return digest[:KEY_LENGTH]


def _mask(salt: str) -> bytes:
    return hashlib.sha256(f"{salt}\0answer".encode("utf-8")).digest()[:8]


def seal_number(salt: str, value: float) -> str:
    raw = struct.pack(">d", float(value))
    return bytes(a ^ b for a, b in zip(raw, _mask(salt))).hex()


def unseal_number(salt: str, sealed: str) -> float | None:
    """The number behind ``sealed``; None if it is not 16 hex digits."""
    try:
        raw = bytes.fromhex(sealed)
    except ValueError:
        return None
    if len(raw) != 8:
        return None
    return struct.unpack(">d", bytes(a ^ b for a, b in zip(raw, _mask(salt))))[0]


def question_salt(seed: str, lesson: str, question_id: str) -> str:
    return hmac.new(seed.encode("utf-8"), f"{lesson}/{question_id}".encode("utf-8"), hashlib.sha256).hexdigest()[:16]


def seal_bank_text(text: str, seed: str) -> str:
    """The sealed YAML of a course bank (``text``, already valid: see ``quiz_bank.load_quiz``)."""
    data = yaml.safe_load(text)
    lesson = str(data.get("lesson", ""))
    for question in data.get("questions", []):
        salt = question_salt(seed, lesson, str(question.get("id", "")))
        sealed: dict = {}
        for key, value in question.items():
            if key == "choices":  # in a salt-drawn order: the right one is not first in the file either
                value = [_seal_choice(choice, salt) for choice in value]
                random.Random(salt).shuffle(value)
            if key == "answer":
                sealed["sealed_answer"] = seal_number(salt, value)
                continue
            sealed[key] = value
            if key == "id":
                sealed["salt"] = salt
        question.clear()
        question.update(sealed)
    body = yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=100)
    return SEALED_HEADER + body


def _seal_choice(choice: dict, salt: str) -> dict:
    correct = bool(choice.get("correct", False))
    out = {k: v for k, v in choice.items() if k != "correct"}
    return {"text": out.pop("text"), "key": choice_key(salt, str(choice["text"]).strip(), correct), **out}
