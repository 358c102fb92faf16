"""Refuse up front a data set that cannot fit in memory, instead of running until it runs out."""

from __future__ import annotations

import os


def available_bytes() -> int | None:
    """Memory the system can still give this process (Linux's MemAvailable), or None if unknown."""
    try:
        with open("/proc/meminfo", encoding="ascii") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (AttributeError, ValueError, OSError):
        return None


_SMALL = 64 * 2**20  # below this, asking the system costs more than it could save


def require_memory(op: str, nbytes: int, what: str) -> None:
    """Raise a ``MemoryError`` naming ``op`` and the sizes when ``nbytes`` exceed what is available."""
    if nbytes < _SMALL:
        return
    free = available_bytes()
    if free is not None and nbytes > free:
        raise MemoryError(f"{op}: {what} need {nbytes / 1e9:,.1f} GB, but only {free / 1e9:,.1f} GB of memory "
                          "is available; ask for fewer or smaller samples")
