"""Privacy for medical data (every article asks for it: 000 §5-6, 004 §6, F22).

What the articles name -- encryption, access control, audits -- belongs to the systems around a
model.  What a model's own code can do, and this package does:

* :mod:`~tinymed.privacy.deid` -- de-identification of clinical notes: names, dates, record
  numbers and phone numbers found and replaced (:func:`deidentify`), measured on identifiers
  planted with known positions (:func:`plant_identifiers`, :func:`evaluate`);
* DP-SGD (beyond the articles): per-example gradients (:class:`GradSampleModule`), clipping and
  noise (:class:`DPOptimizer`), Poisson batches (:class:`DPDataLoader`), all three set up by
  :meth:`PrivacyEngine.make_private`, and the privacy spent (:class:`RDPAccountant`) -- Opacus's
  names;
* federated averaging (beyond the articles): :func:`federated_averaging` across hospitals that
  keep their data, :func:`aggregate` for one round's average.
"""

from . import deid
from .accountant import RDPAccountant, get_noise_multiplier
from .data_loader import DPDataLoader
from .deid import deidentify, evaluate, find_identifiers
from .engine import PrivacyEngine
from .federated import aggregate, federated_averaging
from .grad_sample import GradSampleModule
from .optimizer import DPOptimizer
from .planted import plant_identifiers

__all__ = [
    "RDPAccountant", "get_noise_multiplier", "DPDataLoader", "PrivacyEngine", "GradSampleModule", "DPOptimizer",
    "deid", "find_identifiers", "deidentify", "evaluate", "plant_identifiers", "aggregate", "federated_averaging",
]
