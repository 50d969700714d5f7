"""The `descentlab` command: one sub-command per verb of the course's workflow."""
from __future__ import annotations

import argparse
import sys

from . import __version__, assign, check, collect, export, glossary, grade, instructor, progress, report, start, submit
from .course import CourseError

# Each module adds its own sub-command with `register(subparsers)`.
COMMANDS = (start, check, submit, assign, collect, grade, export, report, glossary, progress, instructor)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="descentlab",
        description="descentlab: a self-grading course on how machine-learning models learn.",
    )
    parser.add_argument("--version", action="version", version=f"descentlab {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for module in COMMANDS:
        module.register(subparsers)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    try:
        return args.func(args)
    except CourseError as exc:
        print(f"descentlab {args.command}: error: {exc}", file=sys.stderr)
        return 2
    except BrokenPipeError:  # `descentlab glossary | head`: the reader has seen enough
        import os

        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except KeyboardInterrupt:
        print(f"descentlab {args.command}: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
