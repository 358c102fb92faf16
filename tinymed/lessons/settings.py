"""What a lesson reads from its environment, and how it saves a figure.

A lesson saves each figure with ``save_figure(fig, "02_name.png")`` (from ``tinymed.lessons``):
the file goes into :func:`out_dir`, and the figure shows under its cell when the lesson is
opened as a notebook.  It shrinks its work when :func:`quick` is true.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

DEFAULT_OUT = "tinymed-out"


class OutDirError(ValueError):
    """The folder for figures and results cannot be used: it is a file, or cannot be written."""


def writable_folder(path, what: str = "output folder") -> Path:
    """``path`` as a folder that can be written into (created, with its parents, if missing).

    Raises :class:`OutDirError` naming the folder and the reason when it is a file, cannot be
    created, or refuses a new file -- before any work is done, rather than at the first save.
    """
    path = Path(path)
    if path.exists() and not path.is_dir():
        raise OutDirError(f"{what} {path} is a file, not a folder")
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OutDirError(f"cannot create the {what} {path}: {exc.strerror or exc}") from None
    try:
        with tempfile.TemporaryFile(dir=path):
            pass
    except OSError as exc:
        raise OutDirError(f"cannot write into the {what} {path}: {exc.strerror or exc}") from None
    return path


def out_dir() -> Path:
    """The folder for figures and other outputs: ``$TINYMED_OUT``, default ``./tinymed-out/``
    (created; :class:`OutDirError` if it cannot be written)."""
    return writable_folder(os.environ.get("TINYMED_OUT") or DEFAULT_OUT)


def quick() -> bool:
    """True when ``TINYMED_QUICK=1``: lessons use small sizes so the test suite stays fast."""
    return os.environ.get("TINYMED_QUICK", "") not in ("", "0", "false", "False")


def in_notebook() -> bool:
    """True when matplotlib draws into a notebook (Jupyter's inline or widget backends)."""
    import matplotlib

    backend = matplotlib.get_backend().lower()
    return any(name in backend for name in ("inline", "ipympl", "widget", "nbagg"))


def save_figure(fig, name: str, **savefig_kwargs) -> None:
    """Save ``fig`` as ``out_dir() / name`` (``savefig_kwargs`` go to ``fig.savefig``, e.g. ``dpi``).

    In a notebook the figure is left open, so that it shows under the cell as every figure a cell
    leaves open does; anywhere else it is closed, so that a lesson run from a terminal does not
    keep dozens of figures in memory.  The figure is named explicitly, never taken to be
    matplotlib's "current" one, so a lesson cannot save one chart under another's name.
    """
    if Path(name).name != name or not name:
        raise ValueError(f"save_figure: name must be a file name such as '02_edges.png', got {name!r}")
    fig.savefig(out_dir() / name, **savefig_kwargs)
    if not in_notebook():
        import matplotlib.pyplot as plt

        plt.close(fig)
