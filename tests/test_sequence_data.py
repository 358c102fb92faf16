"""Sequence data: vital-sign series, clinical notes, medication orders -- and how hard they are.

The baseline figures quoted in the docstrings of ``tinymed.data.vitals`` and
``tinymed.data.notes`` are measured here (printed with ``pytest -s``), and pinned to ranges.
"""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import tinymed
import tinymed.nn as nn
import tinymed.nn.functional as F
from tinymed import Tensor
from tinymed.data import Tokenizer, clinical_notes, medication_orders, news2_score, vital_signs
from tinymed.data.notes import _FINDINGS, DIAGNOSES
from tinymed.data.vitals import FEATURES
from tinymed.metrics import roc_auc_score


# ----- vital signs -------------------------------------------------------------------------------
def test_vitals_shapes_ranges_and_reproducibility():
    data = vital_signs(300, length=20, horizon=8, seed=4)
    X, y = data
    assert X.shape == (300, 20, 5) and X.dtype == np.float32 and y.dtype == np.int64
    assert data.feature_names == FEATURES and "8 h" in data.class_names[1]
    assert 0.2 < y.mean() < 0.4
    median = np.median(X.reshape(-1, 5), axis=0)
    assert 65 < median[0] < 90 and 110 < median[1] < 140 and 36.5 < median[2] < 37.4
    assert 94 <= median[3] <= 99 and 13 < median[4] < 20
    assert X[..., 3].max() <= 100 and np.all(X[..., 3] == np.round(X[..., 3]))
    again, _ = vital_signs(300, length=20, horizon=8, seed=4)
    other, _ = vital_signs(300, length=20, horizon=8, seed=5)
    assert np.array_equal(X, again) and not np.array_equal(X, other)


# The directions the module docstring documents for deterioration: heart rate, temperature
# (up in four fifths, down in one) and breathing up, blood pressure and SpO2 down.
SEPSIS_DIRECTION = np.array([+1, -1, +1, -1, +1])


@settings(max_examples=4, deadline=None)
@given(st.integers(0, 2**32 - 1))
def test_deteriorating_patients_drift_the_way_sepsis_does(seed):
    """Every vital drifts the documented way, by far more than the sampling noise, for any seed.

    The drift's *size* is random per patient (severity, involvement of each sign, beta-blockade,
    events up to 12 h after the last observation that show almost nothing yet), so a fixed
    threshold on the mean difference is a coin toss near its population value (heart rate:
    5.1 beats/min, seed-to-seed SD 0.5).  What the data must guarantee is the direction with a
    margin: the difference in means, in standard errors (Welch), is at least 4 -- it is 6 to 15
    over seeds, so this fails when a drift vanishes, shrinks to a third or turns the wrong way.
    """
    X, y = vital_signs(2000, seed=seed)
    change = X[:, -3:].mean(axis=1) - X[:, :6].mean(axis=1)  # last 3 hours minus first 6
    sick, well = change[y == 1], change[y == 0]
    difference = sick.mean(axis=0) - well.mean(axis=0)
    standard_error = np.sqrt(sick.var(axis=0, ddof=1) / len(sick) + well.var(axis=0, ddof=1) / len(well))
    z = SEPSIS_DIRECTION * difference / standard_error
    assert np.all(z > 4), dict(zip(FEATURES, np.round(z, 1)))
    # and in bedside units: the rise in heart rate is clinically visible, not a statistical artefact
    assert difference[0] > 2.5 and difference[4] > 0.7, difference


def test_news2_sub_scores():
    # heart rate, systolic BP, temperature, SpO2, respiratory rate
    assert news2_score([75, 120, 37.0, 97, 16]) == 0
    assert news2_score([135, 88, 39.5, 90, 26]) == 3 + 3 + 2 + 3 + 3
    assert news2_score([45, 105, 35.8, 94, 10]) == 1 + 1 + 1 + 1 + 1
    assert news2_score(np.zeros((4, 7, 5))).shape == (4, 7)
    with pytest.raises(ValueError, match="news2_score: the last axis must hold the 5 vital signs"):
        news2_score(np.zeros(4))


def _logistic_regression(A, y, A_test, ridge=1e-3, iterations=25):
    """Newton's method (IRLS) for logistic regression with a small ridge penalty."""
    A = np.hstack([A, np.ones((len(A), 1))])
    w = np.zeros(A.shape[1])
    for _ in range(iterations):
        p = 1 / (1 + np.exp(-A @ w))
        hessian = (A * (p * (1 - p))[:, None]).T @ A + ridge * np.eye(len(w))
        w -= np.linalg.solve(hessian, A.T @ (p - y) + ridge * w)
    return np.hstack([A_test, np.ones((len(A_test), 1))]) @ w


def test_vitals_need_the_sequence_snapshot_baselines_vs_gru():
    """The figures quoted in tinymed.data.vitals: a snapshot of the last hour vs a GRU on 24 hours."""
    Xtr, ytr = vital_signs(2000, seed=1)
    Xte, yte = vital_signs(1000, seed=2)
    news2 = roc_auc_score(yte, news2_score(Xte[:, -1]))
    mean, std = Xtr.reshape(-1, 5).mean(axis=0), Xtr.reshape(-1, 5).std(axis=0)
    last = roc_auc_score(yte, _logistic_regression((Xtr[:, -1] - mean) / std, ytr, (Xte[:, -1] - mean) / std))

    tinymed.manual_seed(0)
    gru, head = nn.GRU(5, 16, batch_first=True), nn.Linear(16, 1)
    params = list(gru.parameters()) + list(head.parameters())
    opt = tinymed.optim.Adam(params, lr=1e-2)
    Ztr, Zte = ((Xtr - mean) / std).astype(np.float32), ((Xte - mean) / std).astype(np.float32)
    rng = np.random.default_rng(0)
    for _ in range(5):
        order = rng.permutation(len(Ztr))
        for start in range(0, len(order), 64):
            rows = order[start:start + 64]
            _, h = gru(Tensor(Ztr[rows]))
            loss = F.binary_cross_entropy_with_logits(head(h[0]).reshape(-1), ytr[rows].astype(np.float32))
            opt.zero_grad()
            loss.backward()
            opt.step()
    with tinymed.no_grad():
        _, h = gru(Tensor(Zte))
        gru_auc = roc_auc_score(yte, head(h[0]).numpy().ravel())
    print(f"\nvitals ROC AUC: NEWS2 {news2:.3f}, logistic regression on the last hour {last:.3f}, GRU {gru_auc:.3f}")
    assert 0.6 < news2 < 0.8 and 0.65 < last < 0.82
    assert gru_auc > last + 0.04 and gru_auc < 0.95


# ----- clinical notes ---------------------------------------------------------------------------
def test_notes_shapes_labels_and_reproducibility():
    data = clinical_notes(200, seed=3)
    X, y = data
    assert X.shape == (200,) and isinstance(X[0], str) and y.dtype == np.int64
    assert data.class_names == DIAGNOSES and set(np.unique(y)) == {0, 1, 2, 3}
    assert np.array_equal(X, clinical_notes(200, seed=3).X) and not np.array_equal(X, clinical_notes(200, seed=4).X)
    assert all(note.endswith(".") and "year old" in note for note in X)


def test_notes_are_not_keyword_separable_baselines():
    """The figures quoted in tinymed.data.notes.clinical_notes."""
    Xtr, ytr = clinical_notes(2000, seed=1)
    Xte, yte = clinical_notes(1000, seed=2)
    majority = np.mean(yte == np.bincount(ytr).argmax())
    word_lists = [{w for part in _FINDINGS[d].values() for phrase in part for w in Tokenizer.tokenize(phrase)}
                  for d in DIAGNOSES]
    keyword = np.mean([np.argmax([len(set(Tokenizer.tokenize(t)) & words) for words in word_lists]) == label
                       for t, label in zip(Xte, yte)])
    tok = Tokenizer().fit(Xtr)

    def counts(X):
        ids = tok.encode(list(X))
        out = np.zeros((len(X), len(tok.vocab)))
        np.add.at(out, (np.repeat(np.arange(len(X)), ids.shape[1]), ids.ravel()), 1.0)
        out[:, 0] = 0  # padding
        return out

    A, A_test = counts(Xtr), counts(Xte)
    W, b, Y = np.zeros((A.shape[1], 4)), np.zeros(4), np.eye(4)[ytr]
    for _ in range(1000):  # softmax regression, full-batch gradient descent
        Z = A @ W + b
        P = np.exp(Z - Z.max(axis=1, keepdims=True))
        P /= P.sum(axis=1, keepdims=True)
        G = (P - Y) / len(A)
        W -= A.T @ G + 1e-3 * W
        b -= G.sum(axis=0)
    bag = np.mean((A_test @ W + b).argmax(axis=1) == yte)
    print(f"\nnotes accuracy: majority {majority:.3f}, keyword rule {keyword:.3f}, bag of words {bag:.3f}")
    assert 0.2 < majority < 0.32
    assert 0.6 < keyword < 0.8 and 0.7 < bag < 0.9 and bag > keyword


# ----- medication orders ---------------------------------------------------------------------------
def test_medication_orders_are_consistent():
    X, y = medication_orders(500, seed=0)
    assert X.shape == y.shape == (500,)
    units = {"mg", "g", "milligrams", "gram", "grams"}
    for text, canonical in zip(X, y):
        drug, dose, unit, route, freq = canonical.split()
        assert unit == "mg" and route in {"PO", "IV", "SC"} and freq in {"QD", "BID", "TID", "QID", "Q6H", "Q4H"}
        words = Tokenizer.tokenize(text)
        assert units & set(words), text
        if "g" in words or "gram" in words or "grams" in words:
            assert float(dose) >= 250, (text, canonical)  # grams were converted to milligrams
    assert len({c.split()[0] for c in y}) == 11
    again = medication_orders(500, seed=0)
    assert np.array_equal(X, again.X) and np.array_equal(y, again.y)
    tinymed_orders = dict(zip(X, y))
    assert all(tinymed_orders[t] == c for t, c in zip(X, y))  # one text never means two orders
