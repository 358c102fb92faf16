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
   loss with the best weights restored; the best model saved as a checkpoint.
4. **Evaluation** on the held-out test split: accuracy, recall (sensitivity), specificity,
   precision, F1 and ROC AUC, printed next to the article's figures (accuracy > 90 %,
   recall > 85 %, F1 0.87); figures of samples, training curves, the confusion matrix and
   the ROC curve.
5. A second, tabular case: a small MLP on the Wisconsin breast-cancer data (real, bundled),
   with z-score normalisation fitted on the training split only.

Everything is seeded: the same arguments give the same numbers on the same backend.
"""

from __future__ import annotations

import contextlib
import json
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

__all__ = ["run", "DemoResult", "ARTICLE_FIGURES", "standardize_images"]

# article 003 §4.3: "accuracy above 90 %, recall above 85 %, F1 score 0.87"
ARTICLE_FIGURES = {"accuracy": 0.90, "recall": 0.85, "f1": 0.87}


@dataclass
class DemoResult:
    """What :func:`run` measured: test metrics per case, the data used, timings, files written."""

    image_metrics: dict
    tabular_metrics: dict | None
    data: str
    seconds: float
    epochs_trained: int
    files: list = field(default_factory=list)

    def as_dict(self):
        return {"image": self.image_metrics, "tabular": self.tabular_metrics, "data": self.data,
                "seconds": round(self.seconds, 1), "epochs_trained": self.epochs_trained,
                "files": [str(f) for f in self.files]}


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
    """``(X, y, description)`` with X float32 (N, 1, H, W) in [0, 1]."""
    from .data import chest_phantoms, load_medmnist

    if data in ("auto", "pneumoniamnist"):
        try:
            parts = [load_medmnist("pneumoniamnist", split=s) for s in ("train", "val", "test")]
        except FileNotFoundError as err:
            if data == "pneumoniamnist":
                raise
            say(f"PneumoniaMNIST not found ({str(err).splitlines()[0]}); using chest phantoms")
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


def _image_case(data, n, size, epochs, seed, out, verbose, say):
    import tinymed

    from . import nn, optim, plot
    from .data import Compose, DataLoader, stratified_split
    from .keras.callbacks import EarlyStopping, ModelCheckpoint
    from .metrics import confusion_matrix

    X, y, description = _load_images(data, n, size, seed, say)
    size = X.shape[-1]
    (X_train, y_train), (X_val, y_val), (X_test, y_test) = stratified_split(X, y, val=0.15, test=0.15, seed=seed)
    say(f"data: {description}\n      train {len(y_train)}, validation {len(y_val)}, test {len(y_test)} "
        f"images; {100 * y.mean():.0f} % with opacity")
    files = [out / "demo_samples.png"]
    _sample_figure(X_train, y_train, files[0])

    tinymed.manual_seed(seed)
    loader = DataLoader((X_train, y_train.astype(np.float32)), batch_size=32, shuffle=True,
                        transform=Compose([_augmentation(seed), standardize_images]))
    model = _cnn(size)
    model.compile(optimizer=optim.Adam(lr=1e-3), loss=nn.BCEWithLogitsLoss(), metrics=["accuracy"])
    checkpoint = out / "pneumonia_cnn.npz"
    callbacks = [EarlyStopping(monitor="val_loss", patience=4, restore_best_weights=True),
                 ModelCheckpoint(checkpoint, monitor="val_loss", save_best_only=True)]
    say(f"training a CNN with {model.num_parameters():,} parameters for up to {epochs} epochs "
        f"(backend: {tinymed.current()})")
    history = model.fit(loader, epochs=epochs, validation_data=(standardize_images(X_val), y_val.astype(np.float32)),
                        callbacks=callbacks, verbose=verbose)

    logits = model.predict(standardize_images(X_test))
    prob = 1 / (1 + np.exp(-logits.astype(np.float64)))
    result = _binary_metrics(y_test, prob)
    figures = [out / "demo_training_curves.png", out / "demo_confusion_matrix.png", out / "demo_roc.png"]
    plot.plot_history(history, path=figures[0])
    plot.plot_confusion_matrix(confusion_matrix(y_test, (prob >= 0.5).astype(int)), labels=["normal", "pneumonia"],
                               path=figures[1], title="Test split, threshold 0.5")
    plot.plot_roc(y_test, prob, path=figures[2], label="CNN")
    files += figures + [checkpoint]
    return result, description, len(history.epoch), files


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


def run(data="auto", quick=False, out=None, seed=0, epochs=None, n=None, size=None, tabular=True,
        verbose=1, backend=None) -> DemoResult:
    """Run the diagnosis pipeline; print progress and results; write figures to ``out``.

    Defaults: 3,000 phantoms of 64x64 pixels, up to 15 epochs with early stopping (a few
    minutes on 2 CPU cores).  ``quick=True``: 1,200 phantoms of 32x32, 8 epochs (well under a
    minute).  ``out`` defaults to the lesson runner's folder (``$TINYMED_OUT`` or
    ``./tinymed-out``).  Returns a :class:`DemoResult`; also writes ``demo_metrics.json``.
    """
    import tinymed

    from .lessons import out_dir

    start = time.perf_counter()
    out = Path(out) if out is not None else out_dir()
    out.mkdir(parents=True, exist_ok=True)

    def say(text):
        if verbose:
            print(text, flush=True)

    n = n if n is not None else (1200 if quick else 3000)
    size = size if size is not None else (32 if quick else 64)
    epochs = epochs if epochs is not None else (8 if quick else 15)
    if size % 8:
        raise ValueError(f"demo: size must be a multiple of 8 (three 2x2 poolings), got {size}")
    context = tinymed.using(backend) if backend else contextlib.nullcontext()
    with context:
        say("tinymed demo: pneumonia screening from chest images (article 003 §4.3)")
        image, description, trained, files = _image_case(data, n, size, epochs, seed, out,
                                                          1 if verbose else 0, say)
        say("\nTest split, threshold 0.5:\n" + _report(image))
        beats = all(image[k] > v for k, v in ARTICLE_FIGURES.items())
        say("-> " + ("meets every figure the article reports" if beats else
                     "does not meet every figure the article reports") + "\n")
        table = _tabular_case(seed, quick, say) if tabular else None
    result = DemoResult(image, table, description, time.perf_counter() - start, trained, files)
    metrics_path = out / "demo_metrics.json"
    metrics_path.write_text(json.dumps(result.as_dict(), indent=2) + "\n")
    result.files.append(metrics_path)
    say(f"\nfigures and results in {out}/ ({', '.join(Path(f).name for f in result.files)})")
    say(f"total time {result.seconds:.0f} s")
    return result
