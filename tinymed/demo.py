"""tinymed's main job: the pneumonia-screening case of article 003 §4.3, end to end and offline.

``tinymed demo`` (or :func:`run`) does what the article describes and reports what it only claims:

1. **Data**: PneumoniaMNIST when ``~/.medmnist/pneumoniamnist.npz`` is present, otherwise
   tinymed's synthetic chest radiograph phantoms (:func:`tinymed.data.chest_phantoms`); a
   stratified train / validation / test split.
2. **Preprocessing** (003 §3.2.1, F20): augmentation (rotation and scaling by bilinear
   interpolation, shifts, brightness/contrast, noise), fresh every epoch; then each image
   z-scored by its own statistics.
3. **Model**: a small CNN (three conv-ReLU-max-pool stages, dropout, two linear layers) that
   outputs a logit; binary cross-entropy from logits; Adam; early stopping on the validation
   loss with the best epoch's weights restored (the run says which epoch that was; the test
   metrics are those weights'); the best model saved as a checkpoint.
4. **Evaluation** on the held-out test split: accuracy, recall (sensitivity), specificity,
   precision, F1 and ROC AUC, printed next to the article's figures (accuracy > 90 %,
   recall > 85 %, F1 0.87); figures of samples, training curves, the confusion matrix and
   the ROC curve.
5. A second, tabular case: a small MLP on the Wisconsin breast-cancer data (real, bundled),
   with z-score normalisation fitted on the training split only.

What is reproducible: everything is seeded, so the same arguments give the same numbers on the
same machine with the same backend and the same thread counts.  What is not: the numbers differ
(in the second or third decimal of the metrics) between the ``numpy`` and ``numba`` backends and
between BLAS thread counts, because a sum split differently over threads or kernels is added in
another order; each kernel agrees to float32 rounding, but training feeds those last-bit
differences back through thousands of updates.  The thread settings are therefore printed under
the results and stored in ``demo_metrics.json`` (see :mod:`tinymed.threads`).

Interrupting (Ctrl-C) raises :class:`DemoInterrupted` (a ``KeyboardInterrupt``) that says what
was kept: nothing is written under a finished run's names until the whole run has finished --
while training, the best weights so far are in ``pneumonia_cnn.partial.npz``.
"""

from __future__ import annotations

import contextlib
import json
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

__all__ = ["run", "DemoResult", "DemoInterrupted", "ARTICLE_FIGURES", "standardize_images"]

# article 003 §4.3: "accuracy above 90 %, recall above 85 %, F1 score 0.87"
ARTICLE_FIGURES = {"accuracy": 0.90, "recall": 0.85, "f1": 0.87}
CHECKPOINT, PARTIAL_CHECKPOINT, METRICS = "pneumonia_cnn.npz", "pneumonia_cnn.partial.npz", "demo_metrics.json"
# an epoch this many times slower than the fastest before it means the machine is busy
SLOW_EPOCH = 3.0


@dataclass
class DemoResult:
    """What :func:`run` measured: test metrics per case, the data used, the epoch whose weights
    were restored (1-based), the time of each epoch, the thread settings, the files written."""

    image_metrics: dict
    tabular_metrics: dict | None
    data: str
    seconds: float
    epochs_trained: int
    restored_epoch: int | None = None
    epoch_seconds: list = field(default_factory=list)
    threads: dict = field(default_factory=dict)
    files: list = field(default_factory=list)

    def as_dict(self):
        return {"image": self.image_metrics, "tabular": self.tabular_metrics, "data": self.data,
                "seconds": round(self.seconds, 1), "epochs_trained": self.epochs_trained,
                "restored_epoch": self.restored_epoch, "epoch_seconds": [round(t, 2) for t in self.epoch_seconds],
                "threads": self.threads, "files": [str(f) for f in self.files]}


class DemoInterrupted(KeyboardInterrupt):
    """Ctrl-C during :func:`run`: the message says when, and which files were kept."""


def standardize_images(x):
    """z-score every image by its own mean and standard deviation (``(N, C, H, W)``).

    Radiographs differ in exposure and contrast from one acquisition to the next; normalising
    each image on its own removes that variation before the network sees it, so nothing has
    to be fitted (the tabular case shows normalisation fitted on the training split).
    """
    mean = x.mean(axis=(1, 2, 3), keepdims=True)
    std = x.std(axis=(1, 2, 3), keepdims=True)
    return ((x - mean) / np.maximum(std, 1e-6)).astype(np.float32, copy=False)


def _augmentation(seed):
    from .data import Compose, GaussianNoise, RandomBrightnessContrast, RandomRotation, RandomScale, RandomShift

    return Compose([
        RandomRotation(8, seed=seed), RandomScale((0.92, 1.08), seed=seed + 1),
        RandomShift(2, seed=seed + 2), RandomBrightnessContrast(0.08, 0.08, seed=seed + 3),
        GaussianNoise(0.01, seed=seed + 4),
    ])


def _cnn(size):
    from . import nn
    from .keras.models import Sequential

    flat = 64 * (size // 8) * (size // 8)
    return Sequential(
        nn.Conv2d(1, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(16, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(32, 64, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Dropout(0.3), nn.Linear(flat, 64), nn.ReLU(), nn.Linear(64, 1),
        nn.Flatten(start_dim=0),  # (N, 1) -> (N,): one logit per image
    )


def _load_images(data, n, size, seed, say):
    """``(X, y, description)`` with X float32 (N, 1, H, W) in [0, 1].

    With ``data="auto"`` a missing or unreadable PneumoniaMNIST file means phantoms, and the run
    says why; with ``data="pneumoniamnist"`` it is an error.
    """
    from .data import chest_phantoms, load_medmnist

    if data in ("auto", "pneumoniamnist"):
        try:
            parts = [load_medmnist("pneumoniamnist", split=s) for s in ("train", "val", "test")]
        except (FileNotFoundError, ValueError) as err:
            if data == "pneumoniamnist":
                raise
            reason = "not found" if isinstance(err, FileNotFoundError) else "unreadable"
            say(f"PneumoniaMNIST {reason} ({' '.join(str(err).split())}); using chest phantoms")
        else:
            X = np.concatenate([p.X for p in parts])
            y = np.concatenate([p.y for p in parts]).reshape(-1)
            return X, y, "PneumoniaMNIST (MedMNIST v2, CC BY 4.0), train+val+test re-split"
    elif data != "phantoms":
        raise ValueError(f"demo: data must be 'auto', 'phantoms' or 'pneumoniamnist', got {data!r}")
    t = time.perf_counter()
    X, y = chest_phantoms(n, size=size, seed=seed)
    say(f"generated {n} chest phantoms of {size}x{size} pixels in {time.perf_counter() - t:.1f} s")
    return X, y, f"tinymed chest phantoms (synthetic), n={n}, size={size}, seed={seed}"


def _binary_metrics(y_true, prob, threshold=0.5):
    from . import metrics as M

    pred = (prob >= threshold).astype(np.int64)
    return {
        "accuracy": float(M.accuracy_score(y_true, pred)),
        "recall": float(M.recall_score(y_true, pred, zero_division=0.0)),
        "specificity": float(M.specificity_score(y_true, pred, zero_division=0.0)),
        "precision": float(M.precision_score(y_true, pred, zero_division=0.0)),
        "f1": float(M.f1_score(y_true, pred, zero_division=0.0)),
        "auc": float(M.roc_auc_score(y_true, prob)),
    }


def _sample_figure(X, y, path, class_names=("normal", "pneumonia")):
    from .plot import _pyplot

    plt = _pyplot()
    fig, axes = plt.subplots(2, 6, figsize=(12, 4.4))
    for row, label in enumerate((0, 1)):
        picks = np.flatnonzero(y == label)[:6]
        for ax, i in zip(axes[row], picks):
            ax.imshow(X[i, 0], cmap="gray", vmin=0, vmax=1)
            ax.set_title(class_names[label], fontsize=9)
            ax.axis("off")
    fig.suptitle("Training samples (top: normal, bottom: pneumonia-like opacity)")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


@dataclass
class _Progress:
    """How far a run got, for the message of an interrupted one."""

    stage: str = "before training"
    kept: list = field(default_factory=list)
    epochs_done: int = 0
    best_epoch: int | None = None

    def interrupted(self, out) -> DemoInterrupted:
        kept = "; ".join(self.kept) if self.kept else "nothing"
        return DemoInterrupted(
            f"demo interrupted {self.stage}; kept: {kept}. No metrics, result figures or final checkpoint "
            f"were written (files in {out} from an earlier run, if any, are as they were)."
        )


def _epoch_timer(say, progress):
    """A callback that times every epoch, warns when one is far slower than the fastest before it
    (a busy machine), and keeps ``progress`` up to date."""
    from .keras.callbacks import Callback

    class EpochTimer(Callback):
        def __init__(self):
            self.seconds = []

        def on_epoch_begin(self, epoch, logs=None):
            self._start = time.perf_counter()
            progress.stage = f"during epoch {epoch + 1}"

        def on_epoch_end(self, epoch, logs=None):
            took = time.perf_counter() - self._start
            fastest = min(self.seconds, default=None)
            self.seconds.append(took)
            progress.epochs_done = epoch + 1
            if fastest is not None and took > SLOW_EPOCH * fastest:
                say(f"\nwarning: epoch {epoch + 1} took {took:.0f} s, {took / fastest:.1f}x the fastest before it "
                    f"({fastest:.1f} s): the machine is probably busy, and BLAS and Numba threads then wait for "
                    "each other; if it persists, run with OPENBLAS_NUM_THREADS=1 (README, 'Threads')")

    return EpochTimer()


def _train_image_model(X_train, y_train, X_val, y_val, size, epochs, seed, out, verbose, say, progress):
    """Train the CNN with early stopping; return the model (holding the best epoch's weights), the
    history, the 1-based number of the restored epoch and the time of each epoch."""
    import tinymed

    from . import nn, optim
    from .data import Compose, DataLoader
    from .keras.callbacks import Callback, EarlyStopping, ModelCheckpoint

    tinymed.manual_seed(seed)
    loader = DataLoader((X_train, y_train.astype(np.float32)), batch_size=32, shuffle=True,
                        transform=Compose([_augmentation(seed), standardize_images]))
    model = _cnn(size)
    model.compile(optimizer=optim.Adam(lr=1e-3), loss=nn.BCEWithLogitsLoss(), metrics=["accuracy"])
    stopper = EarlyStopping(monitor="val_loss", patience=4, restore_best_weights=True)
    saver = ModelCheckpoint(out / PARTIAL_CHECKPOINT, monitor="val_loss", save_best_only=True)
    timer = _epoch_timer(say, progress)

    class KeepTrack(Callback):  # what an interruption would leave behind
        def on_epoch_end(self, epoch, logs=None):
            if saver.saved:
                progress.best_epoch = stopper.best_epoch + 1
                progress.kept[1:] = [f"{out / PARTIAL_CHECKPOINT}, the weights of epoch {progress.best_epoch} "
                                     "(the lowest validation loss so far; not a finished run's result)"]

    say(f"training a CNN with {model.num_parameters():,} parameters for up to {epochs} epochs "
        f"(backend: {tinymed.current()})")
    history = model.fit(loader, epochs=epochs, validation_data=(standardize_images(X_val), y_val.astype(np.float32)),
                        callbacks=[stopper, saver, timer, KeepTrack()], verbose=verbose)
    if getattr(history, "interrupted", False):
        raise progress.interrupted(out)
    restored = None if stopper.best_epoch is None else stopper.best_epoch + 1
    return model, history, restored, timer.seconds


def _restored_note(history, restored):
    """Which epoch's weights the model has, beside what the last epoch showed."""
    logs = history.history
    trained = len(history.epoch)
    if restored is None:
        return f"the model keeps the weights of its last epoch ({trained})"
    last = f"; the last epoch's validation accuracy was {logs['val_accuracy'][-1]:.3f}" if restored != trained else ""
    return (f"restored the weights of epoch {restored} of {trained} (lowest validation loss "
            f"{logs['val_loss'][restored - 1]:.4f}, validation accuracy {logs['val_accuracy'][restored - 1]:.3f})"
            f"{last}; the test below uses those weights")


@dataclass
class _ImageRun:
    metrics: dict
    description: str
    model: object
    history: object
    restored_epoch: int | None
    epoch_seconds: list
    y_test: np.ndarray
    prob: np.ndarray


def _image_case(data, n, size, epochs, seed, out, verbose, say, progress) -> _ImageRun:
    from .data import stratified_split

    X, y, description = _load_images(data, n, size, seed, say)
    size = X.shape[-1]
    (X_train, y_train), (X_val, y_val), (X_test, y_test) = stratified_split(X, y, val=0.15, test=0.15, seed=seed)
    say(f"data: {description}\n      train {len(y_train)}, validation {len(y_val)}, test {len(y_test)} "
        f"images; {100 * y.mean():.0f} % with opacity")
    _sample_figure(X_train, y_train, out / "demo_samples.png")  # the data, not a result
    progress.kept[:1] = [f"{out / 'demo_samples.png'} (training samples)"]
    model, history, restored, seconds = _train_image_model(X_train, y_train, X_val, y_val, size, epochs, seed, out,
                                                           verbose, say, progress)
    progress.stage = "after training, before the results were written"
    say(_restored_note(history, restored))
    logits = model.predict(standardize_images(X_test))
    prob = 1 / (1 + np.exp(-logits.astype(np.float64)))
    return _ImageRun(_binary_metrics(y_test, prob), description, model, history, restored, seconds, y_test, prob)


def _write_image_results(image: _ImageRun, out) -> list:
    """The figures and the checkpoint of a finished run, under their final names."""
    import tinymed

    from . import plot
    from .metrics import confusion_matrix

    figures = [out / "demo_training_curves.png", out / "demo_confusion_matrix.png", out / "demo_roc.png"]
    plot.plot_history(image.history, path=figures[0])
    predicted = (image.prob >= 0.5).astype(int)
    plot.plot_confusion_matrix(confusion_matrix(image.y_test, predicted), labels=["normal", "pneumonia"],
                               path=figures[1], title="Test split, threshold 0.5")
    plot.plot_roc(image.y_test, image.prob, path=figures[2], label="CNN")
    tinymed.save(image.model, out / CHECKPOINT)  # the restored (best) weights, as tested
    (out / PARTIAL_CHECKPOINT).unlink(missing_ok=True)
    return [out / "demo_samples.png"] + figures + [out / CHECKPOINT]


def _tabular_case(seed, quick, say):
    import tinymed

    from . import optim
    from .data import StandardScaler, load_breast_cancer, stratified_split
    from .keras.callbacks import EarlyStopping
    from .keras.layers import Dense
    from .keras.models import Sequential

    X, y = load_breast_cancer()
    (X_train, y_train), (X_val, y_val), (X_test, y_test) = stratified_split(X, y, val=0.15, test=0.2, seed=seed)
    scaler = StandardScaler().fit(X_train)  # fitted on the training split only
    tinymed.manual_seed(seed)
    model = Sequential([Dense(16, activation="relu", input_shape=(X.shape[1],)), Dense(1, activation="sigmoid")])
    model.compile(optimizer=optim.Adam(lr=3e-3), loss="binary_crossentropy", metrics=["accuracy"])
    model.fit(scaler.transform(X_train), y_train, epochs=30 if quick else 60, batch_size=32, verbose=0,
              validation_data=(scaler.transform(X_val), y_val),
              callbacks=[EarlyStopping(monitor="val_loss", patience=10, restore_best_weights=True)])
    prob = model.predict(scaler.transform(X_test)).reshape(-1).astype(np.float64)
    result = _binary_metrics(y_test, prob)
    say(f"breast cancer (WDBC, 569 tumours, 30 features): MLP test accuracy {result['accuracy']:.3f}, "
        f"recall {result['recall']:.3f}, AUC {result['auc']:.3f} on {len(y_test)} held-out tumours")
    return result


def _report(m):
    lines = [f"{'metric':14s} {'tinymed':>8s} {'article 003 §4.3':>17s}"]
    for key in ("accuracy", "recall", "specificity", "precision", "f1", "auc"):
        claim = ARTICLE_FIGURES.get(key)
        text = "-" if claim is None else (f"{claim:.2f}" if key == "f1" else f"> {claim:.2f}")
        name = "recall (sens.)" if key == "recall" else key
        lines.append(f"{name:14s} {m[key]:8.3f} {text:>17s}")
    return "\n".join(lines)


def _verdict(metrics, description) -> str:
    """Whether the article's figures are met, with what that does and does not show beside it."""
    beats = all(metrics[k] > v for k, v in ARTICLE_FIGURES.items())
    verdict = "meets every figure the article reports" if beats else "does not meet every figure the article reports"
    if "phantoms" in description:
        caveat = ("on synthetic phantoms: this shows that the pipeline works, not how a model would do on real "
                  "radiographs (for that: tinymed demo --data pneumoniamnist)")
    else:
        caveat = ("on PneumoniaMNIST's 28x28 images, re-split: not the article's data, resolution or split, so "
                  "the comparison is indicative only")
    return f"-> {verdict}\n   {caveat}"


def _check_arguments(seed, epochs, n, size, blas_threads):
    checks = [("seed", seed, 0), ("epochs", epochs, 1), ("n", n, 10), ("size", size, 8)]
    if blas_threads is not None:
        checks.append(("blas_threads", blas_threads, 0))
    for name, value, low in checks:
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < low:
            raise ValueError(f"demo: {name} must be a whole number of at least {low}, got {value!r}")
    if size % 8:
        raise ValueError(f"demo: size must be a multiple of 8 (three 2x2 poolings), got {size}")


def run(data="auto", quick=False, out=None, seed=0, epochs=None, n=None, size=None, tabular=True,
        verbose=1, backend=None, blas_threads=1) -> DemoResult:
    """Run the diagnosis pipeline; print progress and results; write figures to ``out``.

    Defaults: 3,000 phantoms of 64x64 pixels, up to 15 epochs with early stopping (a few
    minutes on 2 CPU cores).  ``quick=True``: 1,200 phantoms of 32x32, 8 epochs (well under a
    minute).  ``out`` defaults to the lesson runner's folder (``$TINYMED_OUT`` or
    ``./tinymed-out``) and is checked before any work.  Returns a :class:`DemoResult`; also
    writes ``demo_metrics.json``, last, once everything else is written.  Ctrl-C raises
    :class:`DemoInterrupted`, whose message says what was kept.

    ``blas_threads`` (default 1; ``None`` leaves BLAS at its own default, every core) caps NumPy's
    BLAS threads for the run, through ``threadpoolctl`` where it is installed.  One BLAS thread
    makes the metrics the same whatever the number of cores, and keeps a busy machine from
    slowing training several times over (BLAS threads that spin while waiting for one another);
    the quick demo on a loaded 2-core machine took 16-46 s with one thread against 76-281 s with
    two.  Numba's own threads (pooling) are left as they are: they never split a sum.
    """
    import tinymed

    from . import threads
    from .lessons import out_dir, writable_folder

    start = time.perf_counter()
    n = n if n is not None else (1200 if quick else 3000)
    size = size if size is not None else (32 if quick else 64)
    epochs = epochs if epochs is not None else (8 if quick else 15)
    _check_arguments(seed, epochs, n, size, blas_threads)
    out = writable_folder(out, "output folder") if out is not None else out_dir()

    def say(text):
        if verbose:
            print(text, flush=True)

    progress = _Progress()
    context = contextlib.ExitStack()
    if backend:
        context.enter_context(tinymed.using(backend))
    limited = context.enter_context(threads.limit_blas_threads(blas_threads)) if blas_threads else False
    if blas_threads and not limited:
        say("threadpoolctl is not installed, so BLAS keeps its default threads (pip install threadpoolctl)")
    try:
        with context:
            say("tinymed demo: pneumonia screening from chest images (article 003 §4.3)")
            image = _image_case(data, n, size, epochs, seed, out, 1 if verbose else 0, say, progress)
            settings = threads.thread_settings()
            say("\nTest split, threshold 0.5:\n" + _report(image.metrics))
            say(_verdict(image.metrics, image.description))
            say(threads.describe(settings) + f"; backend {tinymed.current()}\n")
            table = _tabular_case(seed, quick, say) if tabular else None
            progress.stage = "while writing the results"
            files = _write_image_results(image, out)
    except DemoInterrupted:
        raise
    except KeyboardInterrupt:
        raise progress.interrupted(out) from None
    result = DemoResult(image.metrics, table, image.description, time.perf_counter() - start,
                        len(image.history.epoch), image.restored_epoch, image.epoch_seconds,
                        {**settings, "backend": backend or tinymed.current()}, files)
    metrics_path = out / METRICS
    result.files.append(metrics_path)
    metrics_path.write_text(json.dumps(result.as_dict(), indent=2) + "\n")
    say(f"\nfigures and results in {out}/ ({', '.join(Path(f).name for f in result.files)})")
    say(f"total time {result.seconds:.0f} s")
    return result
