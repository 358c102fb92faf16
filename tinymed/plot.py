"""Figures for lessons: training curves, confusion matrices, ROC and precision-recall curves.

Each function returns the matplotlib ``Figure`` and, given ``path``, also saves it there
(creating missing folders; the format follows the file extension).  matplotlib is imported
only when a function is called; without a display the non-interactive Agg backend is used,
so the functions work on a headless server or in CI.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import numpy as np

__all__ = ["plot_history", "plot_confusion_matrix", "plot_roc", "plot_precision_recall"]

_FILE_BACKENDS = ("agg", "pdf", "ps", "svg", "cairo", "template")


def _pyplot():
    import matplotlib

    headless = sys.platform.startswith("linux") and not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))
    if headless and "matplotlib.pyplot" not in sys.modules:
        matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _finish(plt, fig, path):
    """Save to ``path`` if given; under a file-only backend also release pyplot's reference."""
    fig.tight_layout()
    if path is not None:
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        fig.savefig(path, dpi=120)
    if plt.get_backend().lower() in _FILE_BACKENDS:
        # nothing can be shown, so let pyplot forget the figure (the caller still holds it):
        # lessons that draw many figures do not pile them up in memory
        plt.close(fig)
    return fig


def _host(x):
    """A NumPy array from an array, a list or a tinymed Tensor."""
    from .autograd import Tensor
    from .backend import to_numpy

    return x.numpy() if isinstance(x, Tensor) else np.asarray(to_numpy(x) if hasattr(x, "shape") else x)


def _history_dict(history):
    h = getattr(history, "history", history)
    if not isinstance(h, dict) or not h:
        raise TypeError(
            "plot_history: expected a History (from fit) or a non-empty dict such as "
            f"{{'loss': [...], 'val_loss': [...]}}, got {type(history).__name__}"
        )
    curves = {}
    for key, values in h.items():
        values = np.asarray(values, dtype=np.float64)
        if values.ndim != 1:
            raise ValueError(f"plot_history: history[{key!r}] must be one number per epoch, got shape {values.shape}")
        curves[str(key)] = values
    return curves


def plot_history(history, path=None, metrics=None):
    """Loss and metric curves per epoch: one panel per quantity, training solid, validation dashed.

    ``history``: a ``History`` returned by ``fit`` or its ``.history`` dict
    (``{"loss": [...], "val_loss": [...], "accuracy": [...], ...}``).  ``metrics`` picks and
    orders the panels (default: every quantity, loss first).
    """
    plt = _pyplot()
    curves = _history_dict(history)
    names = list(dict.fromkeys(k[4:] if k.startswith("val_") else k for k in curves))
    if metrics is not None:
        missing = [m for m in metrics if m not in names]
        if missing:
            raise ValueError(f"plot_history: no curves named {missing}; the history has {names}")
        names = list(metrics)
    else:
        names.sort(key=lambda n: n != "loss")
    fig, axes = plt.subplots(1, len(names), figsize=(4.5 * len(names), 3.5), squeeze=False)
    for ax, name in zip(axes[0], names):
        for key, style, label in ((name, "-", "train"), ("val_" + name, "--", "validation")):
            if key in curves:
                epochs = np.arange(1, len(curves[key]) + 1)
                ax.plot(epochs, curves[key], style, marker="o", markersize=3, label=label)
        ax.set_xlabel("epoch")
        ax.set_ylabel(name)
        ax.set_title(name)
        ax.grid(alpha=0.3)
        ax.legend()
    return _finish(plt, fig, path)


def plot_confusion_matrix(cm, labels=None, normalize=False, path=None, title=None, cmap="Blues"):
    """A confusion matrix as a heat map with the count (or fraction) written in each cell.

    ``cm`` from :func:`tinymed.metrics.confusion_matrix` (rows: true class, columns:
    predicted).  ``normalize``: ``False``; ``True`` or ``"true"`` (each row sums to 1, the
    diagonal is each class's recall); ``"pred"`` (columns); ``"all"``.
    """
    plt = _pyplot()
    cm = _host(cm).astype(np.float64)
    if cm.ndim != 2 or cm.shape[0] != cm.shape[1]:
        raise ValueError(f"plot_confusion_matrix: cm must be a square matrix, got shape {cm.shape}")
    n = cm.shape[0]
    labels = [str(i) for i in range(n)] if labels is None else [str(label) for label in labels]
    if len(labels) != n:
        raise ValueError(f"plot_confusion_matrix: {len(labels)} labels for a {n}x{n} matrix")
    axis = {False: None, True: 1, "true": 1, "pred": 0, "all": "all"}.get(normalize, "bad")
    if axis == "bad":
        raise ValueError(
            f"plot_confusion_matrix: normalize must be False, True, 'true', 'pred' or 'all'; got {normalize!r}"
        )
    if axis is not None:
        with np.errstate(all="ignore"):
            cm = np.nan_to_num(cm / (cm.sum() if axis == "all" else cm.sum(axis=axis, keepdims=True)))
    integral = axis is None and np.all(cm == np.round(cm))
    fig, ax = plt.subplots(figsize=(1.0 + 0.8 * n, 0.8 + 0.8 * n) if n > 4 else (4.5, 4))
    image = ax.imshow(cm, cmap=cmap, vmin=0)
    fig.colorbar(image, ax=ax, fraction=0.046, pad=0.04)
    ax.set_xticks(range(n), labels=labels)
    ax.set_yticks(range(n), labels=labels)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    ax.set_title(title or ("confusion matrix (normalized)" if axis is not None else "confusion matrix"))
    threshold = cm.max() / 2 if cm.size else 0
    for i in range(n):
        for j in range(n):
            text = f"{int(cm[i, j])}" if integral else f"{cm[i, j]:.2f}"
            ax.text(j, i, text, ha="center", va="center", color="white" if cm[i, j] > threshold else "black")
    return _finish(plt, fig, path)


def plot_roc(y_true, y_score, path=None, pos_label=None, label=None, title="ROC curve"):
    """The ROC curve (sensitivity against 1 - specificity) with its AUC in the legend,
    and the diagonal of a test that guesses."""
    from .metrics import auc, roc_curve

    plt = _pyplot()
    fpr, tpr, _ = roc_curve(y_true, y_score, pos_label=pos_label)
    area = auc(fpr, tpr)
    fig, ax = plt.subplots(figsize=(4.5, 4.5))
    ax.plot(fpr, tpr, lw=2, label=f"{label or 'model'} (AUC = {area:.3f})")
    ax.plot([0, 1], [0, 1], "--", color="grey", lw=1, label="chance (AUC = 0.5)")
    ax.set_xlim(-0.01, 1.01)
    ax.set_ylim(-0.01, 1.01)
    ax.set_xlabel("false positive rate (1 - specificity)")
    ax.set_ylabel("true positive rate (sensitivity)")
    ax.set_title(title)
    ax.grid(alpha=0.3)
    ax.legend(loc="lower right")
    return _finish(plt, fig, path)


def plot_precision_recall(y_true, y_score, path=None, pos_label=None, label=None, title="Precision-recall curve"):
    """The precision-recall curve (a step curve) with the average precision in the legend, and
    the prevalence line of a test that guesses."""
    from .metrics import average_precision_score, precision_recall_curve

    plt = _pyplot()
    precision, recall, _ = precision_recall_curve(y_true, y_score, pos_label=pos_label)
    y = _host(y_true).ravel()
    positive = 1 if pos_label is None else pos_label
    ap = average_precision_score(y, y_score, pos_label=positive)
    prevalence = float(np.mean(y == positive))
    fig, ax = plt.subplots(figsize=(4.5, 4.5))
    ax.step(recall, precision, where="post", lw=2, label=f"{label or 'model'} (AP = {ap:.3f})")
    ax.axhline(prevalence, ls="--", color="grey", lw=1, label=f"chance (prevalence = {prevalence:.2f})")
    ax.set_xlim(-0.01, 1.01)
    ax.set_ylim(-0.01, 1.05)
    ax.set_xlabel("recall (sensitivity)")
    ax.set_ylabel("precision")
    ax.set_title(title)
    ax.grid(alpha=0.3)
    ax.legend(loc="lower left")
    return _finish(plt, fig, path)
