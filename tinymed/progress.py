"""A small progress bar for long work (training epochs, benchmarks, lessons).

On a terminal it redraws one line in place::

    Epoch 3/10  24/40 [=============>...........] 1.3s  loss 0.4521  accuracy 0.8125

Elsewhere (a log file, CI, a notebook's captured output) it prints only the finished line, so
logs stay readable.
"""

from __future__ import annotations

import sys
import time

__all__ = ["ProgressBar", "format_logs"]


def format_logs(logs: dict) -> str:
    """``{"loss": 0.45213, "accuracy": 0.8125}`` -> ``"loss 0.4521  accuracy 0.8125"``."""
    parts = []
    for key, value in logs.items():
        parts.append(f"{key} {value:.4f}" if isinstance(value, float) else f"{key} {value}")
    return "  ".join(parts)


class ProgressBar:
    """``bar = ProgressBar(total, prefix="Epoch 1/5")``; ``bar.update(done, logs)``; ``bar.close(logs)``."""

    def __init__(self, total: int, prefix: str = "", width: int = 25, stream=None, live=None):
        self.total, self.prefix, self.width = max(int(total), 1), prefix, width
        self.stream = sys.stdout if stream is None else stream
        self.live = self.stream.isatty() if live is None and hasattr(self.stream, "isatty") else bool(live)
        self.start = time.perf_counter()
        self._last_draw = 0.0

    def _line(self, done, logs):
        filled = self.width * done // self.total
        arrow = ">" if filled < self.width else ""
        bar = "=" * filled + arrow + "." * (self.width - filled - len(arrow))
        digits = len(str(self.total))
        line = f"{self.prefix}  {done:{digits}d}/{self.total} [{bar}] {time.perf_counter() - self.start:.1f}s"
        text = format_logs(logs or {})
        return f"{line}  {text}" if text else line

    def update(self, done: int, logs: dict | None = None) -> None:
        """Redraw at most ten times a second (terminal only)."""
        now = time.perf_counter()
        if self.live and (now - self._last_draw > 0.1 or done >= self.total):
            self._last_draw = now
            self.stream.write("\r" + self._line(done, logs))
            self.stream.flush()

    def close(self, logs: dict | None = None, done: int | None = None) -> None:
        """Write the final line (with the end-of-epoch logs) and a newline."""
        line = self._line(self.total if done is None else done, logs)
        self.stream.write(("\r" + line + "\033[K\n") if self.live else line + "\n")
        self.stream.flush()
