"""A text progress bar for the training loop (:func:`npae.training.fit_model`, ``verbose=1``)."""

from __future__ import annotations

import math
import sys
import time


def _fmt_time(seconds: float) -> str:
    seconds = int(round(max(seconds, 0.0)))
    m, s = divmod(seconds, 60)
    h, m = divmod(m, 60)
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m}:{s:02d}"


class ProgressBar:
    """A one-line progress bar redrawn in place (``\\r``): batches, samples/s, running loss, time left.

    Written here rather than imported (no tqdm dependency). On a terminal it redraws at most every
    ``min_interval`` seconds (0.1) and ``close()`` erases it, leaving the epoch's summary line.
    When ``file`` is not a terminal (a log file, CI) a carriage return would not redraw anything,
    so the bar writes a plain line every ``min_interval`` seconds (10) instead, and nothing for
    an epoch shorter than that.
    """

    def __init__(self, total_batches: int, prefix: str = "", file=None, width: int = 24,
                 min_interval: float | None = None) -> None:
        self.total = max(int(total_batches), 1)
        self.prefix = prefix
        self.file = sys.stderr if file is None else file
        self.width = width
        self.tty = bool(getattr(self.file, "isatty", lambda: False)())
        self.min_interval = min_interval if min_interval is not None else (0.1 if self.tty else 10.0)
        self.start = time.perf_counter()
        self.last = -math.inf if self.tty else self.start
        self.shown = 0

    def render(self, done: int, samples: int, loss: float, elapsed: float) -> str:
        filled = int(self.width * done / self.total)
        bar = "=" * filled + (">" if filled < self.width else "") + " " * (self.width - filled - 1)
        rate = samples / elapsed if elapsed > 0 else 0.0
        left = elapsed / done * (self.total - done) if done else 0.0
        return (f"{self.prefix}[{bar[:self.width]}] {done}/{self.total} batches  {rate:,.0f} samples/s  "
                f"loss {loss:.4g}  {_fmt_time(left)} left")

    def update(self, done: int, samples: int, loss: float) -> None:
        now = time.perf_counter()
        if now - self.last < self.min_interval and (done < self.total or not self.tty):
            return
        self.last = now
        line = self.render(done, samples, loss, now - self.start)
        if self.tty:
            self.shown = max(self.shown, len(line))
            self.file.write("\r" + line.ljust(self.shown))
        else:
            self.file.write(line + "\n")
        self.file.flush()

    def close(self) -> None:
        if self.tty and self.shown:
            self.file.write("\r" + " " * self.shown + "\r")
            self.file.flush()


__all__ = ["ProgressBar"]
