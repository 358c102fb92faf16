r"""Synthetic ward vital signs with deterioration episodes, for early-warning prediction.

Every patient has ``length`` hourly observations of five vital signs -- the ones bedside
early-warning scores such as NEWS2 are built from:

===================  ========  ==========================  ==================================
feature              unit      typical adult at rest       drawn here (per-patient baseline)
===================  ========  ==========================  ==================================
heart_rate           beats/min 60-100                      N(78, 11), clipped to [50, 115]
systolic_bp          mmHg      100-140                     N(126, 15), clipped to [92, 175]
temperature          °C        36.1-37.5                   N(36.9, 0.3), clipped to [36.0, 37.7]
spo2                 %         95-100 (88-92 in COPD)      N(97.3, 1.0) <= 100; 12 % have chronic
                                                           lung disease: N(91.5, 1.5)
respiratory_rate     breaths/m 12-20                       N(16, 2.2), clipped to [11, 23]
===================  ========  ==========================  ==================================

On top of the baseline (each effect with its own random size per patient):

* a daily rhythm (heart rate, blood pressure and temperature lowest at night);
* slow physiological wander (an AR(1) process per vital) and measurement noise;
* benign look-alikes that also occur in stable patients: episodes of pain or anxiety (heart
  rate, breathing and pressure up for 1-4 hours), fevers that resolve after an antipyretic,
  short SpO2 probe artefacts (a single low reading), beta-blockade (heart rate low and its
  response to illness blunted) and chronic lung disease (low SpO2, faster breathing);
* **deterioration** (the event to predict, e.g. evolving sepsis): a prodrome that starts
  6-18 hours before the event and accelerates towards it -- heart rate and breathing up,
  blood pressure and SpO2 down, temperature up (or, in a fifth, down) -- with a random
  severity and a random subset of signs involved strongly.

**Label**: 1 if the event happens within ``horizon`` hours after the last observation.
Events are placed uniformly in that interval, so some positive patients show almost
nothing yet; another 10 % of patients deteriorate *later* than the horizon (label 0) and show
an early trend.  Both make the task realistically ambiguous.

**How separable** (measured by ``tests/test_sequence_data.py``; 2000 patients with seed 1
for training, 1000 with seed 2 for testing, default arguments):

* NEWS2 (the sum of its five vital-sign sub-scores) on the *last* observation: ROC AUC
  **0.67**;
* logistic regression on the standardised last observation: AUC **0.74**;
* a GRU (hidden size 16) on the whole standardised series, 5 epochs of Adam: AUC
  **0.83** -- trends relative to the patient's own baseline carry information that a single
  snapshot does not.  (Lesson 07 compares more models, a logistic regression on all 24 hours
  among them.)
"""

from __future__ import annotations

import numpy as np

from .dataset import Dataset, describe

FEATURES = ("heart_rate", "systolic_bp", "temperature", "spo2", "respiratory_rate")
UNITS = ("beats/min", "mmHg", "°C", "%", "breaths/min")
HR, SBP, TEMP, SPO2, RR = range(5)

# full-blown deterioration at the event, per vital (before the patient's own severity and
# per-sign involvement are applied)
_DETERIORATION = np.array([38.0, -32.0, 1.9, -8.0, 11.0])
# daily rhythm amplitudes (heart rate, blood pressure, temperature; the others barely move)
_CIRCADIAN = np.array([5.0, 6.0, 0.25, 0.0, 0.8])
# AR(1) wander: standard deviation of the stationary process, and measurement noise
_WANDER = np.array([4.0, 5.0, 0.12, 0.6, 1.0])
_NOISE = np.array([2.5, 4.0, 0.08, 0.7, 1.0])
_LIMITS = np.array([[25, 220], [50, 230], [33.0, 42.0], [60, 100], [5, 50]], dtype=float)


def vital_signs(n: int, length: int = 24, horizon: int = 12, seed=0, prevalence: float = 0.3) -> Dataset:
    """Generate ``n`` patients' hourly vital signs and whether each deteriorates within ``horizon`` hours.

    Returns a :class:`~tinymed.data.dataset.Dataset`: ``X`` float32 ``(n, length, 5)`` in the
    units of :data:`FEATURES` (heart rate, systolic BP, temperature, SpO2, respiratory rate),
    ``y`` int64 ``(n,)``.  About ``prevalence`` of the patients deteriorate within the
    horizon.  The same ``seed`` gives the same data.  See the module docstring for the model
    and the measured difficulty.
    """
    if not isinstance(n, (int, np.integer)) or n < 0:
        raise ValueError(f"vital_signs: n must be a non-negative integer, got {n!r}")
    if not isinstance(length, (int, np.integer)) or length < 2:
        raise ValueError(f"vital_signs: length must be an integer >= 2 (hours observed), got {length!r}")
    if not isinstance(horizon, (int, np.integer)) or horizon < 1:
        raise ValueError(f"vital_signs: horizon must be a positive integer (hours), got {horizon!r}")
    if not 0 <= prevalence <= 0.9:
        raise ValueError(f"vital_signs: prevalence must be in [0, 0.9], got {prevalence}")
    rng = np.random.default_rng(seed)
    hours = np.arange(length, dtype=float)
    X = np.empty((n, length, 5))
    y = np.zeros(n, dtype=np.int64)
    for p in range(n):
        X[p], y[p] = _patient(rng, hours, horizon, prevalence)
    X = np.clip(X, _LIMITS[:, 0], _LIMITS[:, 1])
    X[..., SPO2] = np.round(X[..., SPO2])  # pulse oximeters report whole percent
    X = X.astype(np.float32)
    notes = (f"hourly observations: {length}; label horizon: {horizon} h after the last one\n"
             "features: " + ", ".join(f"{f} ({u})" for f, u in zip(FEATURES, UNITS)))
    class_names = ("stable", f"deteriorates within {horizon} h")
    description = describe("Synthetic ward vital signs with deterioration episodes",
                           "generated by tinymed.data.vitals (seeded simulation, no patient data)",
                           "none needed (synthetic)", X, y, class_names, notes)
    return Dataset(X, y, description, feature_names=FEATURES, class_names=class_names)


def _baseline(rng):
    lung_disease = rng.random() < 0.12
    base = np.array([
        np.clip(rng.normal(78, 11), 50, 115),
        np.clip(rng.normal(126, 15), 92, 175),
        np.clip(rng.normal(36.9, 0.3), 36.0, 37.7),
        min(rng.normal(91.5, 1.5), 95.0) if lung_disease else min(rng.normal(97.3, 1.0), 100.0),
        np.clip(rng.normal(16, 2.2), 11, 23) + (2.5 if lung_disease else 0.0),
    ])
    return base, lung_disease


def _wander(rng, length):
    """AR(1) noise per vital, stationary with standard deviation _WANDER."""
    phi = 0.8
    out = np.empty((length, 5))
    out[0] = rng.normal(0, 1, 5)
    for t in range(1, length):
        out[t] = phi * out[t - 1] + np.sqrt(1 - phi**2) * rng.normal(0, 1, 5)
    return out * _WANDER


def _benign_episodes(rng, hours, series):
    """Pain/anxiety episodes, resolving fevers and SpO2 probe artefacts (stable patients too)."""
    length = len(hours)
    for _ in range(rng.poisson(0.8)):  # pain or anxiety
        start, span = rng.integers(0, length), rng.integers(1, 5)
        bump = np.array([rng.uniform(8, 25), rng.uniform(5, 18), 0.0, 0.0, rng.uniform(2, 6)])
        series[start:start + span] += bump
    if rng.random() < 0.15:  # a fever that an antipyretic brings down
        start = rng.integers(0, length)
        shape = np.exp(-0.5 * ((hours - start - 3) / 2.5) ** 2)
        peak = rng.uniform(0.8, 1.8)
        series[:, TEMP] += peak * shape
        series[:, HR] += 8 * peak * shape
    for _ in range(rng.poisson(0.4)):  # probe slipped off a finger for one reading
        series[rng.integers(0, length), SPO2] -= rng.uniform(6, 15)


def _deterioration(rng, hours, hours_to_event, beta_blocked):
    """The prodrome's effect on every vital, accelerating towards the event."""
    prodrome = rng.uniform(6, 18)
    onset = hours[-1] + hours_to_event - prodrome
    progress = np.clip((hours - onset) / prodrome, 0, 1) ** 1.7
    involvement = rng.uniform(0.15, 1.2, 5)
    effect = _DETERIORATION * rng.uniform(0.5, 1.1) * involvement
    if rng.random() < 0.2:  # some septic patients become cold, not hot
        effect[TEMP] = -abs(effect[TEMP]) * 0.6
    if beta_blocked:
        effect[HR] *= 0.35
    return progress[:, None] * effect


def _patient(rng, hours, horizon, prevalence):
    length = len(hours)
    base, _ = _baseline(rng)
    beta_blocked = rng.random() < 0.15
    if beta_blocked:
        base[HR] = min(base[HR], rng.uniform(52, 68))
    phase = rng.uniform(0, 2 * np.pi)
    daily = np.sin(2 * np.pi * hours / 24 + phase)[:, None] * _CIRCADIAN * rng.uniform(0.5, 1.5)
    series = base + daily + _wander(rng, length)
    _benign_episodes(rng, hours, series)
    u = rng.random()
    label = 0
    if u < prevalence:
        label = 1
        series += _deterioration(rng, hours, rng.uniform(0.5, horizon), beta_blocked)
    elif u < prevalence + 0.1:  # deteriorates, but after the horizon
        series += _deterioration(rng, hours, horizon + rng.uniform(1, 12), beta_blocked)
    return series + rng.normal(0, 1, (length, 5)) * _NOISE, label


# ----- the clinical baseline -------------------------------------------------------------------
def news2_score(observation) -> np.ndarray:
    """NEWS2 (Royal College of Physicians, 2017) from the five vital signs, SpO2 scale 1.

    ``observation`` (..., 5) in :data:`FEATURES` order -> integer score (...).  The parts
    of NEWS2 that are not vital signs (supplemental oxygen, new confusion) count as 0.
    """
    obs = np.asarray(observation, dtype=float)
    if obs.shape[-1:] != (5,):
        raise ValueError(f"news2_score: the last axis must hold the 5 vital signs {FEATURES}, got shape {obs.shape}")
    rr, spo2, sbp, hr, temp = obs[..., RR], obs[..., SPO2], obs[..., SBP], obs[..., HR], obs[..., TEMP]
    score = np.select([rr <= 8, rr <= 11, rr <= 20, rr <= 24], [3, 1, 0, 2], 3)
    score += np.select([spo2 <= 91, spo2 <= 93, spo2 <= 95], [3, 2, 1], 0)
    score += np.select([sbp <= 90, sbp <= 100, sbp <= 110, sbp <= 219], [3, 2, 1, 0], 3)
    score += np.select([hr <= 40, hr <= 50, hr <= 90, hr <= 110, hr <= 130], [3, 1, 0, 1, 2], 3)
    score += np.select([temp <= 35.0, temp <= 36.0, temp <= 38.0, temp <= 39.0], [3, 1, 0, 1], 2)
    return score.astype(np.int64)
