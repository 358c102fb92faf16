r"""The language-model losses: cross-entropy over the positions that carry a label.

Labels equal to ``IGNORE_INDEX`` (-100) cost nothing, as in Hugging Face's models, and the mean
is over the counted positions only:

.. math:: L = -\frac{1}{|K|} \sum_{i \in K} \log \mathrm{softmax}(z_i)_{y_i}, \qquad K = \{i : y_i \neq -100\}

A causal language model (GPT) predicts token :math:`t+1` from tokens :math:`\le t`, so its logits
at position :math:`t` are scored against the label at :math:`t+1` ("shifted"); a masked language
model (BERT) scores each position against its own label.
"""

from __future__ import annotations

from .. import backend
from ..autograd import Tensor
from ..nn import functional as F
from ._checks import IGNORE_INDEX

__all__ = ["cross_entropy_ignoring_index", "shifted_cross_entropy"]


def cross_entropy_ignoring_index(logits: Tensor, labels) -> Tensor:
    """Mean cross-entropy of logits (N, C) against labels (N,), skipping labels equal to -100.

    NaN when every label is ignored (a mean over nothing), as PyTorch."""
    xp = backend.array_module(labels)
    counted = labels != IGNORE_INDEX
    if bool(xp.all(counted)):
        return F.cross_entropy(logits, labels)
    rows = xp.flatnonzero(counted)
    return F.cross_entropy(logits[rows], labels[rows])


def shifted_cross_entropy(logits: Tensor, labels) -> Tensor:
    """Causal language-model loss: logits (B, T, V) at position t against labels (B, T) at t + 1."""
    vocab = logits.shape[-1]
    return cross_entropy_ignoring_index(logits[:, :-1].reshape(-1, vocab), labels[:, 1:].reshape(-1))
