r"""Synthetic patient-treatment responses with a known truth, for recommender lessons.

**Synthetic; no clinical meaning.** The comorbidity names make the table readable; the
effects tying them to treatment responses are random numbers drawn from the seed.

How the data are made (:func:`make_treatment_responses`):

1. *Patients* have a comorbidity profile :math:`x_u \in \{0,1\}^C` (independent flags with
   the prevalences in :data:`COMORBIDITIES`).
2. *Treatments* belong to one of ``n_classes`` mechanism classes and carry three binary
   properties (route, dosing, clearance): a feature vector :math:`f_i \in \{0,1\}^M`.
3. The true response is low rank plus biases, driven by those features:

   .. math::
      p_u = A^\top x_u + \sigma_p z_u, \quad q_i = B^\top f_i + \sigma_q z_i, \quad
      b_u = a^\top x_u, \quad b_i = b^\top f_i + \sigma_b z'_i, \\
      t_{ui} = 3 + s\,(b_u + b_i + p_u^\top q_i - m), \text{ clipped to } [1, 5]

   with Gaussian :math:`A, B, a, b, z`, rank ``n_factors``, and :math:`m, s` chosen so the
   responses have mean 3 and standard deviation ``signal_std`` (a few entries in the tails
   are clipped; ``description`` reports how many).
4. The observed response adds noise of known size: :math:`r_{ui} = \mathrm{clip}(t_{ui} +
   \varepsilon_{ui}, 1, 5)`, :math:`\varepsilon \sim \mathcal N(0, \texttt{noise\_std}^2)`.
   No method can beat predicting :math:`t_{ui}`: its RMSE -- about ``noise_std``,
   :meth:`TreatmentResponses.oracle_rmse` -- is the irreducible error.
5. *Missing not at random* (``missing='mnar'``, default): a response is recorded with
   probability :math:`\sigma(c + \beta (t_{ui} - 3) + g_i)` -- patients who respond are kept
   on a treatment and followed up, and some treatments are prescribed more (:math:`g_i`);
   :math:`c` is set so a fraction ``density`` of the matrix is observed. ``missing='mcar'``
   records every entry with the same probability ``density``.

**Implicit feedback** (:func:`make_treatment_prescriptions`): the same patients and treatments,
seen as a prescription record -- which treatments each patient was given (step 5's mask, so
the same seed gives the very pairs whose responses :func:`make_treatment_responses` records),
not how they responded. The truth is still known: the true response :math:`t_{ui}` of every
pair, prescribed or not, and so which treatments truly suit a patient.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..sparse import CSRMatrix
from .dataset import Dataset, Reader

COMORBIDITIES = (("hypertension", 0.35), ("type_2_diabetes", 0.20), ("chronic_kidney_disease", 0.10),
                 ("heart_failure", 0.08), ("copd", 0.08), ("depression", 0.15), ("obesity", 0.25),
                 ("age_over_65", 0.30))
PROPERTIES = ("oral", "once_daily", "renally_cleared")
RATING_SCALE = (1, 5)


@dataclass
class TreatmentResponses:
    """The generated data and the truth behind it.

    ``patients``, ``treatments``: raw ids (``"P0001"``, ``"T001"``); ``ratings``: list of
    ``(patient, treatment, response)``; ``patient_features`` ``(n_patients, C)`` and
    ``treatment_features`` ``(n_treatments, M)`` with their names; ``treatment_class``:
    each treatment's mechanism class index; ``true_response`` ``(n_patients,
    n_treatments)``: :math:`t_{ui}` for every pair, observed or not; ``observed``: the mask.
    """

    patients: tuple
    treatments: tuple
    ratings: list
    patient_features: np.ndarray
    patient_feature_names: tuple
    treatment_features: np.ndarray
    treatment_feature_names: tuple
    treatment_class: np.ndarray
    true_response: np.ndarray
    observed: np.ndarray
    noise_std: float
    missing: str
    description: str = ""
    _patient_row: dict = field(default_factory=dict, repr=False)
    _treatment_col: dict = field(default_factory=dict, repr=False)

    def __post_init__(self):
        self._patient_row = {p: k for k, p in enumerate(self.patients)}
        self._treatment_col = {t: k for k, t in enumerate(self.treatments)}

    def to_dataset(self, reader=None):
        """The ratings as a :class:`tinymed.recsys.Dataset` on the 1-5 scale."""
        return Dataset.load_from_triples(self.ratings, reader or Reader(rating_scale=RATING_SCALE))

    def item_features(self):
        """``{treatment id: feature vector}``, the input of :class:`ContentBased`."""
        return dict(zip(self.treatments, self.treatment_features))

    def true_rating(self, patient, treatment):
        """:math:`t_{ui}`, the noise-free response of ``patient`` to ``treatment``."""
        try:
            return float(self.true_response[self._patient_row[patient], self._treatment_col[treatment]])
        except KeyError as exc:
            raise ValueError(f"TreatmentResponses.true_rating: unknown patient or treatment {exc.args[0]!r}") from None

    def oracle_rmse(self, testset):
        """RMSE of predicting every case of ``testset`` (triples or Predictions) by its true response.

        The irreducible error: what a perfect model of the response would still miss.
        """
        rows = list(testset)
        if not rows:
            raise ValueError("TreatmentResponses.oracle_rmse: the test set is empty")
        errors = [float(row[2]) - self.true_rating(row[0], row[1]) for row in rows]
        return float(np.sqrt(np.mean(np.square(errors))))


def make_treatment_responses(n_patients=500, n_treatments=40, n_factors=3, noise_std=0.5, density=0.15,
                             missing="mnar", n_classes=6, signal_std=0.9, random_state=0):
    """Generate seeded synthetic patient-treatment response data (recipe in the module docstring).

    Returns a :class:`TreatmentResponses`; ``.to_dataset()`` gives the ratings as a Dataset.
    """
    _check_args(n_patients, n_treatments, n_factors, noise_std, density, missing, n_classes, signal_std)
    rng = np.random.default_rng(random_state)
    names, X, cls, F, true, n_clipped = _latent_truth(rng, n_patients, n_treatments, n_factors, n_classes,
                                                      signal_std)
    observed = _observation_mask(true, density, missing, rng)
    noisy = np.clip(true + noise_std * rng.normal(0, 1, true.shape), *RATING_SCALE)
    patients = tuple(f"P{k + 1:04d}" for k in range(n_patients))
    treatments = tuple(f"T{k + 1:03d}" for k in range(n_treatments))
    rows, cols = np.nonzero(observed)
    # shuffle the rows so the table is not sorted by patient, as real extracts rarely are
    order = rng.permutation(len(rows))
    ratings = [(patients[r], treatments[c], float(noisy[r, c])) for r, c in zip(rows[order], cols[order])]
    description = "\n".join([
        "Synthetic patient-treatment responses (tinymed.recsys.make_treatment_responses); no clinical meaning",
        (f"patients: {n_patients} with {len(names)} comorbidity flags; treatments: {n_treatments} in "
         f"{n_classes} mechanism classes with properties {', '.join(PROPERTIES)}"),
        (f"true response: rank-{n_factors} interaction + biases on the 1-5 scale, sd {signal_std}; "
         f"{n_clipped} of {true.size} entries clipped to the scale"),
        (f"observed: {len(ratings)} responses ({len(ratings) / true.size:.1%} of the matrix), missing {missing}, "
         f"noise sd {noise_std}"),
    ])
    return TreatmentResponses(patients, treatments, ratings, X, tuple(names), F,
                              tuple([f"class_{chr(65 + c)}" for c in range(n_classes)] + list(PROPERTIES)),
                              cls, true, observed, float(noise_std), missing, description)


def _latent_truth(rng, n_patients, n_treatments, n_factors, n_classes, signal_std):
    """Steps 1-3 of the recipe: ``(comorbidity names, X, classes, F, true response, n clipped)``."""
    names, prevalence = zip(*COMORBIDITIES)
    X = (rng.random((n_patients, len(names))) < np.array(prevalence)).astype(np.float64)
    cls = rng.integers(0, n_classes, size=n_treatments)
    F = np.concatenate([np.eye(n_classes)[cls], (rng.random((n_treatments, len(PROPERTIES))) < 0.5)], axis=1)

    A = rng.normal(0, 1, (X.shape[1], n_factors))
    B = rng.normal(0, 1, (F.shape[1], n_factors))
    P = X @ A + 0.3 * rng.normal(0, 1, (n_patients, n_factors))
    Q = F @ B + 0.3 * rng.normal(0, 1, (n_treatments, n_factors))
    b_user = X @ rng.normal(-0.3, 0.3, X.shape[1])  # comorbidities mostly lower the response
    b_item = F @ rng.normal(0, 0.5, F.shape[1]) + 0.3 * rng.normal(0, 1, n_treatments)
    raw = b_user[:, None] + b_item[None, :] + P @ Q.T / np.sqrt(n_factors)
    scaled = 3.0 + signal_std * (raw - raw.mean()) / raw.std()
    true = np.clip(scaled, *RATING_SCALE)
    return names, X, cls, F, true, int(np.sum(true != scaled))


@dataclass
class TreatmentPrescriptions:
    """Which treatments each patient was given (implicit feedback), and the truth behind it.

    ``prescribed``: a ``(n_patients, n_treatments)`` :class:`~tinymed.sparse.CSRMatrix` of 1s,
    the input of the implicit-feedback models; ``true_response``: :math:`t_{ui}` of every pair;
    the features as in :class:`TreatmentResponses`.
    """

    patients: tuple
    treatments: tuple
    prescribed: CSRMatrix
    patient_features: np.ndarray
    treatment_features: np.ndarray
    treatment_class: np.ndarray
    true_response: np.ndarray
    description: str = ""

    def suited(self, threshold=4.0):
        """``(n_patients, n_treatments)`` booleans: the pairs whose true response is at least ``threshold``."""
        return self.true_response >= threshold


def make_treatment_prescriptions(n_patients=500, n_treatments=40, n_factors=3, density=0.15, n_classes=6,
                                 signal_std=0.9, random_state=0):
    """Seeded synthetic prescriptions: steps 1-3 and 5 of the recipe (module docstring) with
    ``missing='mnar'`` -- patients are given, more often, the treatments that suit them, and the
    popular ones. Returns a :class:`TreatmentPrescriptions`."""
    _check_args(n_patients, n_treatments, n_factors, 0.0, density, "mnar", n_classes, signal_std)
    rng = np.random.default_rng(random_state)
    _, X, cls, F, true, _ = _latent_truth(rng, n_patients, n_treatments, n_factors, n_classes, signal_std)
    rows, cols = np.nonzero(_observation_mask(true, density, "mnar", rng))
    prescribed = CSRMatrix.from_coo(rows, cols, np.ones(len(rows)), true.shape)
    description = "\n".join([
        "Synthetic prescriptions (tinymed.recsys.make_treatment_prescriptions); no clinical meaning",
        f"patients: {n_patients}; treatments: {n_treatments} in {n_classes} mechanism classes",
        (f"prescribed: {prescribed.nnz} pairs ({prescribed.nnz / true.size:.1%} of the matrix), more often where the "
         f"true response is high; true response: rank-{n_factors} + biases, sd {signal_std}"),
    ])
    return TreatmentPrescriptions(tuple(f"P{k + 1:04d}" for k in range(n_patients)),
                                  tuple(f"T{k + 1:03d}" for k in range(n_treatments)), prescribed, X, F, cls, true,
                                  description)


def _observation_mask(true, density, missing, rng):
    n_t = true.shape[1]
    if missing == "mcar":
        return rng.random(true.shape) < density
    popularity = rng.normal(0, 1, n_t)
    logits = 1.5 * (true - 3.0) + popularity[None, :]
    # find the offset c with mean(sigmoid(c + logits)) = density by bisection
    lo, hi = -30.0, 30.0
    for _ in range(100):
        c = (lo + hi) / 2
        if np.mean(1 / (1 + np.exp(-(c + logits)))) < density:
            lo = c
        else:
            hi = c
    return rng.random(true.shape) < 1 / (1 + np.exp(-(c + logits)))


def _check_args(n_patients, n_treatments, n_factors, noise_std, density, missing, n_classes, signal_std):
    where = "make_treatment_responses"
    for name, value, least in (("n_patients", n_patients, 2), ("n_treatments", n_treatments, 2),
                               ("n_factors", n_factors, 1), ("n_classes", n_classes, 1)):
        if not (isinstance(value, (int, np.integer)) and value >= least):
            raise ValueError(f"{where}: {name} must be an integer >= {least}, got {value!r}")
    if not (0 < density <= 1):
        raise ValueError(f"{where}: density must be in (0, 1], got {density!r}")
    if not noise_std >= 0 or not signal_std > 0:
        raise ValueError(f"{where}: noise_std must be >= 0 and signal_std > 0, got {noise_std!r}, {signal_std!r}")
    if missing not in ("mnar", "mcar"):
        raise ValueError(f"{where}: missing must be 'mnar' or 'mcar', got {missing!r}")
