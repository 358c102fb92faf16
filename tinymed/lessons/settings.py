"""What a lesson reads from its environment: where its figures go, and whether to run small.

A lesson saves its figures with ``plt.savefig(out_dir() / "02_name.png")`` and shrinks its work
when :func:`quick` is true.
"""

from __future__ import annotations

import os
from pathlib import Path

DEFAULT_OUT = "tinymed-out"


def out_dir() -> Path:
    """The folder for figures and other outputs: ``$TINYMED_OUT``, default ``./tinymed-out/`` (created)."""
    path = Path(os.environ.get("TINYMED_OUT") or DEFAULT_OUT)
    path.mkdir(parents=True, exist_ok=True)
    return path


def quick() -> bool:
    """True when ``TINYMED_QUICK=1``: lessons use small sizes so the test suite stays fast."""
    return os.environ.get("TINYMED_QUICK", "") not in ("", "0", "false", "False")
