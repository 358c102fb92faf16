"""Callbacks for ``fit`` (Keras's names and arguments): EarlyStopping, ModelCheckpoint,
LearningRateScheduler, and a History that ``fit`` returns.

A callback gets ``set_model(model)`` once, then ``on_train_begin(logs)``,
``on_epoch_begin(epoch, logs)``, ``on_train_batch_end(batch, logs)``,
``on_epoch_end(epoch, logs)`` and ``on_train_end(logs)``.  ``logs`` at an epoch's end holds
that epoch's ``loss``, metrics and ``val_*`` values.  Setting ``model.stop_training = True``
ends training after the current epoch.

Early stopping is also a regulariser (article 000 §6, F22): stop when the validation loss
no longer improves, and keep the weights from the best epoch.
"""

from __future__ import annotations

import math
import warnings

import numpy as np

from ..serialization import save

__all__ = ["Callback", "History", "EarlyStopping", "ModelCheckpoint", "LearningRateScheduler"]


class Callback:
    """Base class: every hook does nothing."""

    model = None

    def set_model(self, model):
        self.model = model

    def on_train_begin(self, logs=None): ...

    def on_train_end(self, logs=None): ...

    def on_epoch_begin(self, epoch, logs=None): ...

    def on_epoch_end(self, epoch, logs=None): ...

    def on_train_batch_end(self, batch, logs=None): ...


class History(Callback):
    """``history.history["loss"]`` etc.: one value per epoch; ``history.epoch`` the epoch numbers."""

    def __init__(self):
        self.history, self.epoch, self.params = {}, [], {}

    def on_train_begin(self, logs=None):
        self.history, self.epoch = {}, []

    def on_epoch_end(self, epoch, logs=None):
        self.epoch.append(epoch)
        for key, value in (logs or {}).items():
            self.history.setdefault(key, []).append(value)

    def __repr__(self):
        keys = ", ".join(self.history)
        return f"History({len(self.epoch)} epochs: {keys})"


def _mode(owner, monitor, mode):
    if mode not in ("auto", "min", "max"):
        raise ValueError(f"{owner}: mode must be 'auto', 'min' or 'max', got {mode!r}")
    if mode == "auto":  # as Keras: accuracy-like quantities grow, everything else falls
        name = monitor[4:] if monitor.startswith("val_") else monitor
        mode = "max" if name in ("accuracy", "acc", "auc", "precision", "recall", "f1") else "min"
    return mode


def _better(mode, value, best, min_delta):
    return value < best - min_delta if mode == "min" else value > best + min_delta


def _monitored(owner, monitor, logs):
    if monitor not in (logs or {}):
        available = ", ".join(sorted(logs or {})) or "none"
        warnings.warn(f"{owner}: '{monitor}' is not among the epoch's logs ({available}); "
                      "nothing is monitored (pass validation data for val_* quantities)", stacklevel=3)
        return None
    return float(logs[monitor])


class EarlyStopping(Callback):
    """Stop when ``monitor`` has not improved by more than ``min_delta`` for ``patience`` epochs.

    ``EarlyStopping(monitor="val_loss", min_delta=0, patience=0, verbose=0, mode="auto",
    baseline=None, restore_best_weights=False, start_from_epoch=0)``.  With
    ``restore_best_weights`` the model ends with the weights of its best epoch.
    """

    def __init__(self, monitor="val_loss", min_delta=0.0, patience=0, verbose=0, mode="auto",
                 baseline=None, restore_best_weights=False, start_from_epoch=0):
        if patience < 0 or min_delta < 0:
            raise ValueError(f"EarlyStopping: patience and min_delta must be >= 0, got {patience}, {min_delta}")
        self.monitor, self.min_delta, self.patience = monitor, abs(float(min_delta)), int(patience)
        self.verbose, self.baseline = verbose, baseline
        self.mode = _mode("EarlyStopping", monitor, mode)
        self.restore_best_weights, self.start_from_epoch = bool(restore_best_weights), int(start_from_epoch)

    def on_train_begin(self, logs=None):
        self.wait, self.stopped_epoch, self.best_epoch, self.best_weights = 0, None, None, None
        self.best = math.inf if self.mode == "min" else -math.inf
        if self.baseline is not None:
            self.best = float(self.baseline)

    def on_epoch_end(self, epoch, logs=None):
        value = _monitored("EarlyStopping", self.monitor, logs)
        if value is None or epoch < self.start_from_epoch:
            return
        if _better(self.mode, value, self.best, self.min_delta):
            self.best, self.best_epoch, self.wait = value, epoch, 0
            if self.restore_best_weights:
                self.best_weights = self.model.state_dict()
            return
        self.wait += 1
        if self.wait > self.patience:
            self.stopped_epoch = epoch
            self.model.stop_training = True

    def on_train_end(self, logs=None):
        if self.stopped_epoch is not None and self.verbose:
            best_epoch = "-" if self.best_epoch is None else self.best_epoch + 1
            print(f"EarlyStopping: stopped after epoch {self.stopped_epoch + 1}; "
                  f"best {self.monitor} {self.best:.4f} at epoch {best_epoch}")
        if self.restore_best_weights and self.best_weights is not None:
            if self.verbose:
                print(f"EarlyStopping: restoring the weights of epoch {self.best_epoch + 1}")
            self.model.load_state_dict(self.best_weights)


class ModelCheckpoint(Callback):
    """Save the model (``tinymed.save``, atomically) after each epoch, or only when it improves.

    ``ModelCheckpoint(filepath, monitor="val_loss", verbose=0, save_best_only=False, mode="auto")``.
    ``filepath`` may contain ``{epoch}`` (1-based, as Keras) and logged values, e.g.
    ``"ckpt-{epoch:02d}-{val_loss:.3f}.npz"``.  The file holds the model's state dict; load it
    with ``model.load_state_dict(tinymed.load(path))``.
    """

    def __init__(self, filepath, monitor="val_loss", verbose=0, save_best_only=False, mode="auto",
                 save_weights_only=True):
        self.filepath, self.monitor, self.verbose = str(filepath), monitor, verbose
        self.save_best_only = bool(save_best_only)
        self.mode = _mode("ModelCheckpoint", monitor, mode)
        self.best = math.inf if self.mode == "min" else -math.inf
        self.saved = []

    def on_epoch_end(self, epoch, logs=None):
        logs = logs or {}
        if self.save_best_only:
            value = _monitored("ModelCheckpoint", self.monitor, logs)
            if value is None or not _better(self.mode, value, self.best, 0.0):
                return
            self.best = value
        try:
            path = self.filepath.format(epoch=epoch + 1, **logs)
        except KeyError as err:
            raise KeyError(f"ModelCheckpoint: filepath {self.filepath!r} names {err}, which is not logged "
                           f"(available: epoch, {', '.join(logs)})") from None
        save(self.model, path)
        self.saved.append(path)
        if self.verbose:
            print(f"ModelCheckpoint: saved {path}")


class LearningRateScheduler(Callback):
    """Set the learning rate at the start of each epoch: ``schedule(epoch, lr) -> new lr``.

    E.g. the article's :math:`\\alpha_t = \\alpha_0/\\sqrt{t}` (F11):
    ``LearningRateScheduler(lambda epoch, lr: 0.1 / math.sqrt(epoch + 1))``.
    """

    def __init__(self, schedule, verbose=0):
        if not callable(schedule):
            raise TypeError(f"LearningRateScheduler: schedule must be callable, got {type(schedule).__name__}")
        self.schedule, self.verbose = schedule, verbose

    def on_epoch_begin(self, epoch, logs=None):
        optimizer = self.model.optimizer
        lr = self.schedule(epoch, optimizer.lr)
        if not isinstance(lr, (int, float, np.floating)) or not math.isfinite(lr):
            raise ValueError(f"LearningRateScheduler: the schedule must return a finite number, got {lr!r}")
        optimizer.lr = float(lr)
        if self.verbose:
            print(f"Epoch {epoch + 1}: learning rate {optimizer.lr:.6g}")

    def on_epoch_end(self, epoch, logs=None):
        if logs is not None:
            logs["lr"] = self.model.optimizer.lr
