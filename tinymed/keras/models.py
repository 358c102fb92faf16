"""Keras's models: :class:`Model` and :class:`Sequential`, with ``compile``, ``fit``, ``evaluate``
and ``predict``.

:class:`Model` is a ``tinymed.nn`` :class:`~tinymed.nn.Module` that can train itself: subclass
it, or use :class:`Sequential`, which is ``nn.Sequential`` (PyTorch's container, so state-dict
keys match) plus these methods.  Any tinymed layers may go in, Keras-style or PyTorch-style.
Under the hood ``fit`` is the loop every PyTorch user writes::

    for epoch in range(epochs):
        for xb, yb in batches:                  # shuffled every epoch
            loss = loss_fn(model(xb), yb)
            optimizer.zero_grad(); loss.backward(); optimizer.step()

plus what makes it pleasant: a progress bar, per-epoch metrics and validation, callbacks
(early stopping, checkpoints, schedules), a clear stop on a NaN loss, and Ctrl-C that keeps
the model and returns the history so far.

Metrics by name are in :mod:`tinymed.keras.metrics`, optimizers by name in
:mod:`tinymed.keras.optimizers`, losses by name in :mod:`tinymed.keras.losses`.
"""

from __future__ import annotations

import math
import sys
import time

import numpy as np

from .. import backend
from ..autograd import Tensor, no_grad
from ..nn import losses as _torch_losses
from ..nn.module import Module
from ..nn.sequential import Sequential as _Container
from ..progress import ProgressBar, format_logs
from ..random import generator
from ..serialization import load, save
from . import losses as _losses
from . import metrics as _metrics
from . import optimizers as _optimizers
from .callbacks import Callback, History

__all__ = ["Model", "Sequential"]

_BINARY_LOSSES = (_losses.BinaryCrossentropy, _torch_losses.BCELoss, _torch_losses.BCEWithLogitsLoss)


def _from_logits(loss):
    return bool(getattr(loss, "from_logits", False)) or isinstance(loss, _torch_losses.BCEWithLogitsLoss)


# ----- data ---------------------------------------------------------------------------------
def _host(a, what):
    if a is None:
        return None
    if isinstance(a, Tensor):
        return a.numpy()
    if isinstance(a, np.ndarray):
        return a
    if hasattr(a, "__cuda_array_interface__"):
        return backend.to_numpy(a)
    try:
        array = np.asarray(a)
    except Exception:
        array = None
    if array is None or array.ndim == 0 or array.dtype.kind not in "biuf":
        got = type(a).__name__ if array is None else f"{type(a).__name__} of dtype {array.dtype}, shape {array.shape}"
        raise TypeError(f"{what}: expected an array or a Tensor of numbers, one row per sample, got {got}")
    return array


def _count(op, name, value, minimum=0):
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)) or value < minimum:
        raise ValueError(f"{op}: {name} must be an integer >= {minimum}, got {value!r}")
    return int(value)


def _is_loader(x):
    """A ``tinymed.data.DataLoader`` or any other re-iterable source of ``(x, y)`` batches with
    a length -- anything iterable that is not itself an array of samples."""
    if isinstance(x, (Tensor, np.ndarray, list, tuple, str, bytes, dict)) or hasattr(x, "__array__"):
        return False
    return hasattr(x, "__iter__") and hasattr(x, "__len__") and not hasattr(x, "__cuda_array_interface__")


class _ArrayBatches:
    """Mini-batches of ``(x, y)`` arrays, optionally shuffled with tinymed's generator."""

    def __init__(self, x, y, batch_size, shuffle):
        self.x, self.y, self.batch_size, self.shuffle = x, y, batch_size, shuffle

    def __len__(self):
        return math.ceil(len(self.x) / self.batch_size)

    def __iter__(self):
        n = len(self.x)
        order = generator().permutation(n) if self.shuffle else None
        for start in range(0, n, self.batch_size):
            if order is None:
                part = slice(start, start + self.batch_size)
            else:
                part = order[start:start + self.batch_size]
            yield self.x[part], (None if self.y is None else self.y[part])


class Model(Module):
    """A Module with Keras's training methods.  Subclass it (or use ``Sequential``)."""

    def __init__(self):
        super().__init__()
        self._reset_training_state()

    def _reset_training_state(self):
        self.optimizer = None
        # the loss may be a Module; kept out of the registry so it is not taken for a layer
        object.__setattr__(self, "loss", None)
        self.compiled_metrics = []
        self.stop_training = False
        self.history = None

    # ----- set-up ---------------------------------------------------------------------------
    def compile(self, optimizer="rmsprop", loss=None, metrics=None):
        """Choose the optimizer, the loss and the metrics (names or objects, as Keras)."""
        if loss is None:
            raise ValueError("compile: a loss is needed, e.g. loss='binary_crossentropy' or nn.CrossEntropyLoss()")
        self.optimizer = _optimizers.get(optimizer)
        object.__setattr__(self, "loss", _losses.get(loss))
        if isinstance(metrics, (str, bytes)) or callable(metrics):
            metrics = [metrics]
        logits = _from_logits(self.loss)
        binary = isinstance(self.loss, _BINARY_LOSSES)
        self.compiled_metrics = [_metrics.get(m, logits, binary) for m in (metrics or [])]
        first = next((m for m in self.modules() if getattr(m, "input_shape", None) is not None), None)
        if first is not None:
            self._build(np.zeros((1,) + tuple(first.input_shape), dtype=np.float32))
        if self._is_built():
            self.optimizer.bind(self.parameters())
        return self

    def _is_built(self):
        return all(getattr(m, "built", True) for m in self.modules())

    def _build(self, x_sample):
        """Run one sample through to make the weights of layers that infer their sizes."""
        if self._is_built():
            return
        was_training = self.training
        self.eval()
        with no_grad():
            self(self._tensor(x_sample[:1]))
        self.train(was_training)

    def _ensure_ready(self, x_sample, what):
        if self.optimizer is None or self.loss is None:
            raise RuntimeError(f"{what}: call compile(optimizer, loss, metrics) first")
        if not self._is_built():
            self._build(x_sample)
        if not self.optimizer.params:
            self.optimizer.bind(self.parameters())

    def _dtype(self):
        first = next(iter(self.parameters()), None)
        return np.dtype(np.float32) if first is None else first.dtype

    def _tensor(self, x):
        x = np.asarray(x)
        if x.dtype.kind in "fiub" and x.dtype != self._dtype():  # Keras casts inputs to the model's dtype
            x = x.astype(self._dtype())
        return Tensor(backend.asarray(x))

    def _compute_loss(self, output, y):
        return _losses.call(self.loss, output, y)

    # ----- training ---------------------------------------------------------------------------
    def fit(self, x=None, y=None, batch_size=None, epochs=1, verbose="auto", callbacks=None,
            validation_split=0.0, validation_data=None, shuffle=True, initial_epoch=0):
        """Train for ``epochs`` epochs and return a :class:`History`.

        ``x, y`` are arrays or Tensors (``batch_size`` default 32), or ``x`` is a
        ``DataLoader`` yielding ``(x, y)`` batches (then ``y`` and ``batch_size`` are not given).
        ``validation_data=(x_val, y_val)`` or ``validation_split=f`` (the last fraction ``f`` of
        the samples, before shuffling, as Keras) is evaluated after every epoch.
        ``verbose``: 0 silent, 1 a live progress bar, 2 one line per epoch.
        """
        epochs, initial_epoch = _count("fit", "epochs", epochs), _count("fit", "initial_epoch", initial_epoch)
        if verbose not in ("auto", 0, 1, 2):
            raise ValueError(f"fit: verbose must be 'auto', 0, 1 or 2, got {verbose!r}")
        if callbacks is not None and not isinstance(callbacks, (list, tuple)):
            raise TypeError(f"fit: callbacks must be a list of Callback objects, got {type(callbacks).__name__}")
        batches, sample = self._training_batches(x, y, batch_size, shuffle, validation_split, validation_data)
        self._ensure_ready(sample, "fit")
        verbose = 1 if verbose == "auto" else int(verbose)
        history = History()
        callbacks = list(callbacks or []) + [history]  # last: it records what the others logged
        for cb in callbacks:
            if not isinstance(cb, Callback):
                raise TypeError(f"fit: callbacks must be Callback objects, got {type(cb).__name__}")
            cb.set_model(self)
        history.params = {"epochs": epochs, "steps": len(batches), "verbose": verbose}
        self.stop_training, self.history = False, history
        epoch = initial_epoch
        for cb in callbacks:
            cb.on_train_begin({})
        try:
            for epoch in range(initial_epoch, epochs):
                for cb in callbacks:
                    cb.on_epoch_begin(epoch, {})
                logs = self._train_epoch(batches, epoch, epochs, verbose, callbacks)
                for cb in callbacks:
                    cb.on_epoch_end(epoch, logs)
                if verbose:
                    self._epoch_line(epoch, epochs, logs, verbose)
                if self.stop_training:
                    break
        except KeyboardInterrupt:
            history.interrupted = True
            print(f"\nfit: interrupted during epoch {epoch + 1}; the model keeps the weights of its "
                  f"last completed step, and the history of the {len(history.epoch)} finished epoch(s) "
                  "is returned", file=sys.stderr)
        for cb in callbacks:
            cb.on_train_end({})
        return history

    def _training_batches(self, x, y, batch_size, shuffle, validation_split, validation_data):
        if _is_loader(x):
            if y is not None or batch_size is not None:
                raise ValueError("fit: with a DataLoader as x, give neither y nor batch_size (the loader has them)")
            if validation_split:
                raise ValueError("fit: validation_split needs arrays; with a DataLoader pass validation_data")
            self._validation = validation_data
            first = next(iter(x))
            return x, first[0]
        x, y = _host(x, "fit x"), _host(y, "fit y")
        if x is None or y is None:
            raise ValueError("fit: needs inputs x and targets y (or a DataLoader as x)")
        if len(x) != len(y):
            raise ValueError(f"fit: x has {len(x)} samples but y has {len(y)}")
        if not 0 <= validation_split < 1:
            raise ValueError(f"fit: validation_split must be in [0, 1), got {validation_split}")
        if validation_split and validation_data is not None:
            raise ValueError("fit: give validation_data or validation_split, not both")
        if validation_split:
            cut = len(x) - int(round(len(x) * validation_split))
            if cut < 1 or cut == len(x):
                raise ValueError(f"fit: validation_split={validation_split} leaves no training or no "
                                 "validation samples")
            validation_data = (x[cut:], y[cut:])
            x, y = x[:cut], y[:cut]
        self._validation = validation_data
        if len(x) == 0:
            raise ValueError("fit: got no training samples")
        batch_size = 32 if batch_size is None else batch_size
        if isinstance(batch_size, bool) or not isinstance(batch_size, (int, np.integer)) or batch_size < 1:
            raise ValueError(f"fit: batch_size must be a positive integer, got {batch_size!r}")
        return _ArrayBatches(x, y, int(batch_size), bool(shuffle)), x

    def _train_epoch(self, batches, epoch, epochs, verbose, callbacks):
        self.train()
        self._epoch_start = time.perf_counter()
        bar = ProgressBar(len(batches), prefix=f"Epoch {epoch + 1}/{epochs}") if verbose == 1 else None
        total, seen, outputs, targets = 0.0, 0, [], []
        for step, (xb, yb) in enumerate(batches):
            output = self(self._tensor(xb))
            loss = self._compute_loss(output, yb)
            value = float(loss.item())
            if not math.isfinite(value):
                raise FloatingPointError(
                    f"fit: the loss is {value} at epoch {epoch + 1}, batch {step + 1} of {len(batches)}; "
                    "training stopped before that update, so the weights are the last finite ones. "
                    "Common causes: a learning rate too high, unscaled inputs, or probabilities of "
                    "exactly 0 or 1 fed to a loss that expects logits."
                )
            self.optimizer.zero_grad()
            loss.backward()
            self.optimizer.step()
            n = len(xb)
            total, seen = total + value * n, seen + n
            if self.compiled_metrics:
                outputs.append(output.numpy())
                targets.append(_host(yb, "fit y"))
            for cb in callbacks:
                cb.on_train_batch_end(step, {"loss": value})
            if bar is not None:
                bar.update(step + 1, {"loss": total / seen})
        logs = {"loss": total / seen}
        if self.compiled_metrics:
            logs.update(self._metric_values(np.concatenate(targets), np.concatenate(outputs)))
        if self._validation is not None:
            val = self._evaluate_logs(self._validation, batch_size=getattr(batches, "batch_size", 32))
            logs.update({f"val_{k}": v for k, v in val.items()})
        self._bar = bar
        return logs

    def _epoch_line(self, epoch, epochs, logs, verbose):
        if verbose == 1:
            self._bar.close(logs)
        else:
            print(f"Epoch {epoch + 1}/{epochs}  {time.perf_counter() - self._epoch_start:.1f}s  {format_logs(logs)}",
                  flush=True)

    def _metric_values(self, y_true, y_pred):
        return {name: float(fn(y_true, y_pred)) for name, fn in self.compiled_metrics}

    # ----- inference ----------------------------------------------------------------------------
    def _outputs(self, x, y, batch_size):
        """Outputs (and targets, and the loss) over ``x`` in eval mode, without a graph."""
        if _is_loader(x):
            batches = x
        else:
            x, y = _host(x, "x"), _host(y, "y")
            batches = _ArrayBatches(x, y, batch_size, shuffle=False)
        was_training = self.training
        self.eval()
        outputs, targets, total, seen = [], [], 0.0, 0
        try:
            with no_grad():
                for xb, yb in batches:
                    if not self._is_built():
                        self._build(xb)
                    out = self(self._tensor(xb))
                    outputs.append(out.numpy())
                    if yb is not None and self.loss is not None:
                        total += float(self._compute_loss(out, yb).item()) * len(xb)
                        targets.append(_host(yb, "y"))
                    seen += len(xb)
        finally:
            self.train(was_training)
        if not outputs:
            raise ValueError("got no samples")
        y_all = np.concatenate(targets) if targets else None
        return np.concatenate(outputs), y_all, (total / seen if targets else None)

    def _evaluate_logs(self, data, batch_size):
        if _is_loader(data):
            y_pred, y_true, loss = self._outputs(data, None, batch_size)
        else:
            if not (isinstance(data, (tuple, list)) and len(data) == 2):
                raise ValueError("validation_data must be (x_val, y_val) or a DataLoader")
            y_pred, y_true, loss = self._outputs(data[0], data[1], batch_size)
        logs = {"loss": loss}
        logs.update(self._metric_values(y_true, y_pred))
        return logs

    def evaluate(self, x=None, y=None, batch_size=None, verbose="auto", return_dict=False):
        """The loss and metrics on ``(x, y)``: a number, ``[loss, metric, ...]``, or a dict."""
        if self.loss is None:
            raise RuntimeError("evaluate: call compile(optimizer, loss, metrics) first")
        data = x if _is_loader(x) else (x, y)
        if not _is_loader(x) and (x is None or y is None):
            raise ValueError("evaluate: needs inputs x and targets y (or a DataLoader as x)")
        logs = self._evaluate_logs(data, 32 if batch_size is None else batch_size)
        if verbose:
            print("evaluate: " + format_logs(logs))
        if return_dict:
            return logs
        return logs["loss"] if len(logs) == 1 else list(logs.values())

    def save_weights(self, path):
        """Keras's name for ``tinymed.save(model, path)`` (atomic, no pickle)."""
        return save(self, path)

    def load_weights(self, path):
        """Keras's name for ``model.load_state_dict(tinymed.load(path))``; a wrong file changes nothing."""
        self.load_state_dict(load(path))
        return self

    def predict(self, x, batch_size=None, verbose=0):
        """The model's outputs for ``x`` as a NumPy array (eval mode, batches of 32)."""
        out, _, _ = self._outputs(x, None, 32 if batch_size is None else batch_size)
        return out


class Sequential(_Container, Model):
    """``Sequential([layer, ...])`` or ``Sequential()`` then ``model.add(layer)``: layers applied
    one after another (``nn.Sequential``), with Keras's ``compile``, ``fit``, ``evaluate`` and
    ``predict``.  Layers are registered under their position (``"0"``, ``"1"``, ...), so state
    dicts match PyTorch's ``nn.Sequential``."""

    def __init__(self, *layers):
        super().__init__(*layers)  # nn.Sequential's, then Model's (the MRO runs both once)
