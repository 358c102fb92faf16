r"""The language-model losses: cross-entropy over the positions that carry a label.

Labels equal to ``IGNORE_INDEX`` (-100) cost nothing, as in Hugging Face's models, and the mean
is over the counted positions only:

.. math:: L = -\frac{1}{|K|} \sum_{i \in K} \log \mathrm{softmax}(z_i)_{y_i}, \qquad K = \{i : y_i \neq -100\}

A causal language model (GPT) predicts token :math:`t+1` from tokens :math:`\le t`, so its logits
at position :math:`t` are scored against the label at :math:`t+1` ("shifted"); a masked language
model (BERT) scores each position against its own label.
"""

from __future__ import annotations

import numpy as np

from .. import backend
from ..autograd import Tensor
from ..nn import functional as F
from ._checks import IGNORE_INDEX

__all__ = ["cross_entropy_ignoring_index", "shifted_cross_entropy"]


def cross_entropy_ignoring_index(logits: Tensor, labels) -> Tensor:
    r"""Mean cross-entropy of logits (N, C) against labels (N,), skipping labels equal to -100.

    Computed as :math:`\sum_i w_i\,\ell_i` with per-row losses :math:`\ell_i` and weights
    :math:`w_i = [y_i \neq -100] / |K|`: the ignored rows are scored against class 0 and weighted 0,
    which costs one row each but copies and gathers nothing.  NaN when every label is ignored
    (a mean over nothing), as PyTorch."""
    xp = backend.array_module(labels)
    counted = labels != IGNORE_INDEX
    per_row = F.cross_entropy(logits, xp.where(counted, labels, 0), reduction="none")
    with np.errstate(invalid="ignore", divide="ignore"):
        weights = counted.astype(logits.dtype) / counted.sum().astype(logits.dtype)  # the count stays on the device
    return (per_row * Tensor(weights)).sum()


def shifted_cross_entropy(logits: Tensor, labels) -> Tensor:
    """Causal language-model loss: logits (B, T, V) at position t against labels (B, T) at t + 1.

    The labels move one place left and the last position, with nothing after it, gets -100."""
    xp = backend.array_module(labels)
    shifted = xp.concatenate([labels[:, 1:], xp.full((labels.shape[0], 1), IGNORE_INDEX, dtype=labels.dtype)], axis=1)
    return cross_entropy_ignoring_index(logits.reshape(-1, logits.shape[-1]), shifted.reshape(-1))
