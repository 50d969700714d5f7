"""Memory measured across the sandbox boundary, for test cells that use ``tracemalloc``.

Exercise 05 (gradient checkpointing) checks how much memory a learner's function peaks at
with ``tracemalloc``. In one kernel tracemalloc sees the learner's allocations; here they
happen in the sandbox, so the judge gives such test cells this stand-in for the module.
"""
from __future__ import annotations


class TracemallocShim:
    """``tracemalloc`` for test cells that measure a learner function's memory.

    In one kernel, tracemalloc would see the learner's allocations; here they happen in the
    sandbox. So while a test traces, each proxy call pauses the judge's own tracing (the
    wire's copies must not count), the sandbox traces the call, and the peak the test reads
    is what one process would have seen: the judge's memory before the call plus the
    call's own peak, and the call's retained memory (its result) afterwards."""

    def __init__(self):
        import tracemalloc

        self._real = tracemalloc
        self._offset_current = 0
        self._offset_peak = 0
        self._base = 0
        self._active = False

    def __getattr__(self, name: str):
        return getattr(self._real, name)

    def start(self, *args) -> None:
        self._offset_current = self._offset_peak = 0
        self._active = True
        self._real.start(*args)

    def stop(self) -> None:
        self._active = False
        self._real.stop()

    def is_tracing(self) -> bool:
        return self._active

    def get_traced_memory(self) -> tuple[int, int]:
        current, peak = self._real.get_traced_memory() if self._real.is_tracing() else (0, 0)
        return self._offset_current + current, max(self._offset_peak, self._offset_current + peak)

    def reset_peak(self) -> None:
        current, _ = self.get_traced_memory()
        self._offset_peak = current
        if self._real.is_tracing():
            self._real.reset_peak()
            self._offset_peak = self._offset_current

    def pause(self) -> bool:
        if not (self._active and self._real.is_tracing()):
            return False
        current, peak = self.get_traced_memory()
        self._offset_peak = peak
        self._base = current
        self._real.stop()
        return True

    def add_call(self, measured) -> None:
        if isinstance(measured, list) and len(measured) == 2 and all(type(v) is int for v in measured):
            call_current, call_peak = measured
        else:
            call_current, call_peak = 0, 1 << 62
        self._offset_peak = max(self._offset_peak, self._base + call_peak)
        self._base += call_current

    def resume(self) -> None:
        self._offset_current = self._base
        if self._active:
            self._real.start()
