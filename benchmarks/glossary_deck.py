"""Benchmark: a generated 1,000-term glossary loads (with full schema checks) and builds a
Flashcards deck. Target: under 0.5 s for load + deck.

    .venv/bin/python benchmarks/glossary_deck.py [--terms 1000] [--repeat 5]

Prints the best and median of several runs, each step on its own, plus the course's own
glossary as a baseline measured in the same process. The progress file holds a review
record for half of the cards, so the deck's due-first ordering has real work to do.
"""
from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

from descentlab.course import LESSON_IDS
from descentlab.flashcards import Flashcards
from descentlab.glossary import load_glossary

REPO = Path(__file__).resolve().parents[1]


def write_glossary(path: Path, n: int) -> None:
    lines = ["# generated for benchmarks/glossary_deck.py"]
    for i in range(n):
        lines += [
            f"- term: generated term {i}",
            f"  aliases: [gt{i}, alias {i}]",
            f"  topic: {LESSON_IDS[i % len(LESSON_IDS)]}",
            "  definition: >-",
            f"    Term number {i} stands for $\\theta_{{{i}}} \\leftarrow \\theta_{{{i}}} - \\eta \\nabla J$.",
            "    It is here only to make the file large; the second sentence adds realistic length.",
            f"  example: With $\\eta = 0.{i % 10}$ the step is small.",
        ]
        if i:
            lines.append(f"  see_also: [generated term {i - 1}]")
    path.write_text("\n".join(lines) + "\n")


def write_progress(path: Path, n: int) -> None:
    now = datetime(2025, 3, 1, tzinfo=timezone.utc)
    cards = {
        f"generated term {i}": {
            "box": 1 + i % 5, "reviews": 3, "lapses": 0,
            "due": (now + timedelta(days=(i % 11) - 5)).isoformat(), "last": now.isoformat(),
        }
        for i in range(0, n, 2)
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"version": 1, "cards": cards}))


def measure(glossary_path: Path, progress_path: Path, repeat: int) -> dict[str, list[float]]:
    times: dict[str, list[float]] = {"load": [], "deck": [], "total": []}
    clock = lambda: datetime(2025, 3, 1, tzinfo=timezone.utc)  # noqa: E731
    for _ in range(repeat):
        t0 = time.perf_counter()
        glossary = load_glossary(glossary_path)
        t1 = time.perf_counter()
        deck = Flashcards(glossary=glossary, progress_path=progress_path, clock=clock)
        t2 = time.perf_counter()
        assert len(deck.cards) == len(glossary)
        times["load"].append(t1 - t0)
        times["deck"].append(t2 - t1)
        times["total"].append(t2 - t0)
    return times


def report(name: str, times: dict[str, list[float]]) -> None:
    parts = [f"{step} best {min(v) * 1000:6.1f} ms, median {statistics.median(v) * 1000:6.1f} ms"
             for step, v in times.items()]
    print(f"{name:<28} " + " | ".join(parts))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--terms", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        tmp_path = Path(tmp)
        big = tmp_path / "glossary.yml"
        write_glossary(big, args.terms)
        progress = tmp_path / ".descentlab" / "progress.json"
        write_progress(progress, args.terms)
        course = measure(REPO / "glossary.yml", tmp_path / "none" / "progress.json", args.repeat)
        generated = measure(big, progress, args.repeat)
    n_course = len(load_glossary(REPO / "glossary.yml"))
    report(f"course glossary ({n_course} terms)", course)
    report(f"generated ({args.terms} terms)", generated)
    total = statistics.median(generated["total"])
    ratio = total / statistics.median(course["total"])
    verdict = "meets" if total < 0.5 else "MISSES"
    print(f"median load + deck for {args.terms} terms: {total:.3f} s ({verdict} the 0.5 s target); "
          f"{ratio:.1f}x the course glossary's time")
    return 0 if total < 0.5 else 1


if __name__ == "__main__":
    sys.exit(main())
