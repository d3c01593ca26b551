"""Progress for long work (reading big files, profiling, resampling) in the `mlgate` command.

In an interactive terminal it redraws one status line on stderr, at most ten times a
second; in CI logs (``CI`` set, or stderr not a terminal) it stays quiet and prints one
summary line at the end. Library calls and pytest runs print nothing: only the CLI
turns it on, with ``enable()``.
"""

from __future__ import annotations

import os
import sys
import time
from types import TracebackType
from typing import TextIO

_enabled = False
REDRAW_S = 0.1


def enable(on: bool = True) -> None:
    global _enabled
    _enabled = on


def interactive(stream: TextIO) -> bool:
    if os.environ.get("CI") or os.environ.get("MLGATE_NO_PROGRESS") or os.environ.get("TERM") == "dumb":
        return False
    isatty = getattr(stream, "isatty", None)
    return bool(isatty and isatty())


class Progress:
    """``with Progress("profile", unit="rows") as p: p.advance(len(chunk))``."""

    def __init__(
        self, label: str, *, total: int | None = None, unit: str = "rows", stream: TextIO | None = None
    ) -> None:
        self.label = label
        self.total = total
        self.unit = unit
        self.stream = stream if stream is not None else sys.stderr
        self.done = 0
        self.note = ""
        self.active = _enabled
        self.live = self.active and interactive(self.stream)
        self._start = time.perf_counter()
        self._drawn = 0.0

    def __enter__(self) -> Progress:
        return self

    def advance(self, n: int = 1, note: str = "") -> None:
        self.done += n
        self.note = note or self.note
        now = time.perf_counter()
        if self.live and now - self._drawn >= REDRAW_S:
            self._drawn = now
            self.stream.write("\r\x1b[2K" + self._line(now))
            self.stream.flush()

    def restart(self, note: str = "") -> None:
        """Count from zero again: a second pass over the same rows must not double them."""
        self.done = 0
        self.note = note

    def _line(self, now: float) -> str:
        share = f" ({self.done / self.total:.0%})" if self.total else ""
        note = f" {self.note}" if self.note else ""
        of = f"/{self.total:,}" if self.total else ""
        return f"{self.label}: {self.done:,}{of} {self.unit}{share}{note}, {now - self._start:.1f} s"

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        if not self.active:
            return
        if self.live:
            self.stream.write("\r\x1b[2K")
        if kind is None:
            elapsed = time.perf_counter() - self._start
            self.stream.write(f"{self.label}: {self.done:,} {self.unit} in {elapsed:.1f} s\n")
        self.stream.flush()
