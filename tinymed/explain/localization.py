r"""Does an explanation point at the lesion?  The share of a map's positive mass inside a mask
(the "energy-based pointing game" of Wang et al., 2020):

.. math:: \text{inside}(a, M) = \frac{\sum_j [a_j]_+ \, M_j}{\sum_j [a_j]_+}

per example, with :math:`[a]_+ = \max(a, 0)` the evidence *for* the explained output (or
:math:`|a|` with ``absolute=True``).  A map that knows nothing about the lesion -- random, or
flat -- puts on average the mask's share of the area inside it,
:math:`\frac1{|x|}\sum_j M_j`: that is the baseline an explanation has to beat.
"""

from __future__ import annotations

import numpy as np

from .. import backend
from ..autograd import Tensor


def fraction_in_mask(attributions, mask, absolute: bool = False) -> np.ndarray:
    """The share of each example's positive (or, with ``absolute``, absolute) attribution that
    falls inside ``mask``; ``attributions (N, ...)`` and a boolean ``mask`` broadcasting to them.
    Returns ``(N,)``; an example whose map has no mass gets NaN."""
    a = backend.to_numpy(attributions.data) if isinstance(attributions, Tensor) else np.asarray(attributions)
    m = np.asarray(mask)
    if m.dtype != bool:
        raise TypeError(f"fraction_in_mask: mask must be boolean, got dtype {m.dtype}")
    try:
        m = np.broadcast_to(m, a.shape)
    except ValueError:
        raise ValueError(f"fraction_in_mask: a mask of shape {m.shape} does not match attributions of shape "
                         f"{a.shape}") from None
    mass = (np.abs(a) if absolute else np.maximum(a, 0)).reshape(len(a), -1).astype(np.float64)
    inside = (mass * m.reshape(len(a), -1)).sum(axis=1)
    total = mass.sum(axis=1)
    return np.divide(inside, total, out=np.full(len(a), np.nan), where=total > 0)
