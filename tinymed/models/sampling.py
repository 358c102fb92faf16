r"""Choosing the next token from a language model's logits: greedy, temperature, top-k, top-p.

Given logits :math:`z` over the vocabulary, sampling draws token :math:`i` with probability

.. math:: p_i = \frac{e^{z_i / \tau}}{\sum_j e^{z_j / \tau}}

* the **temperature** :math:`\tau` sharpens (:math:`\tau < 1`) or flattens (:math:`\tau > 1`) the
  distribution; :math:`\tau = 0` is taken to mean greedy decoding, :math:`\arg\max_i z_i`;
* **top-k** keeps only the :math:`k` most likely tokens (ties with the :math:`k`-th are kept);
* **top-p** (nucleus sampling, Holtzman et al. 2020) keeps the smallest set of most likely tokens
  whose probabilities add up to at least :math:`p`.

The kept tokens' probabilities are renormalised; the draw is one uniform number per sequence,
looked up in the cumulative distribution, so a seeded generator gives the same tokens every time.
"""

from __future__ import annotations

import numpy as np

__all__ = ["next_token_distribution", "sample_next_token"]


def next_token_distribution(logits, temperature=1.0, top_k=None, top_p=None) -> np.ndarray:
    """Probabilities (B, V) of the next token from logits (B, V), after temperature, top-k, top-p."""
    z = np.asarray(logits, dtype=np.float64) / temperature
    if top_k is not None and top_k < z.shape[-1]:
        kth_largest = np.partition(z, -top_k, axis=-1)[:, -top_k][:, None]
        z = np.where(z < kth_largest, -np.inf, z)
    p = np.exp(z - z.max(axis=-1, keepdims=True))
    p /= p.sum(axis=-1, keepdims=True)
    if top_p is not None and top_p < 1:
        order = np.argsort(-p, axis=-1, kind="stable")
        sorted_p = np.take_along_axis(p, order, axis=-1)
        # keep a token if the tokens more likely than it add up to less than top_p: the most
        # likely one always, and the one that first reaches top_p
        keep_sorted = np.cumsum(sorted_p, axis=-1) - sorted_p < top_p
        keep = np.zeros_like(keep_sorted)
        np.put_along_axis(keep, order, keep_sorted, axis=-1)
        p = np.where(keep, p, 0.0)
        p /= p.sum(axis=-1, keepdims=True)
    return p


def sample_next_token(logits, rng: np.random.Generator, temperature=1.0, top_k=None, top_p=None) -> np.ndarray:
    """One token id per row of logits (B, V): the argmax when ``temperature == 0``, else a draw."""
    logits = np.asarray(logits)
    if temperature == 0:
        return np.argmax(logits, axis=-1)
    cumulative = np.cumsum(next_token_distribution(logits, temperature, top_k, top_p), axis=-1)
    # u uniform in [0, total): the first token whose cumulative probability exceeds u has p > 0
    # (scaling by the total, which rounding may leave a hair under 1, keeps u below the last entry)
    u = rng.random((cumulative.shape[0], 1)) * cumulative[:, -1:]
    return (cumulative <= u).sum(axis=-1)
