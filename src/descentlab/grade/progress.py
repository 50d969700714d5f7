"""A plain-text progress bar with an ETA, on stderr."""
from __future__ import annotations

import sys
import time


class Progress:
    def __init__(self, total: int, label: str, enabled: bool = True, stream=None, width: int = 30):
        self.total, self.label, self.enabled, self.width = total, label, enabled, width
        self.stream = stream or sys.stderr
        self.done = 0
        self.problems = 0
        self.started = time.monotonic()
        self.tty = hasattr(self.stream, "isatty") and self.stream.isatty()
        self._last_line = -1
        if enabled:
            self._draw()

    def advance(self, status: str) -> None:
        self.done += 1
        if status != "graded":
            self.problems += 1
        if self.enabled:
            self._draw()

    def line(self) -> str:
        elapsed = time.monotonic() - self.started
        fraction = self.done / self.total if self.total else 1.0
        filled = int(self.width * fraction)
        rate = self.done / elapsed if elapsed > 0 and self.done else 0.0
        eta = (self.total - self.done) / rate if rate else None
        eta_text = time.strftime("%M:%S", time.gmtime(eta)) if eta is not None else "--:--"
        problems = f"  {self.problems} not graded cleanly" if self.problems else ""
        return (f"{self.label} [{'#' * filled}{'.' * (self.width - filled)}] {self.done}/{self.total} "
                f"{fraction:4.0%}  {rate:.1f}/s  ETA {eta_text}{problems}")

    def _draw(self) -> None:
        if self.tty:
            self.stream.write("\r" + self.line())
        else:
            step = max(1, self.total // 10)
            if self.done not in (0, self.total) and self.done // step == self._last_line:
                return
            self._last_line = self.done // step
            self.stream.write(self.line() + "\n")
        self.stream.flush()

    def close(self) -> None:
        if self.enabled and self.tty:
            self.stream.write("\n")
            self.stream.flush()
