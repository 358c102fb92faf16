r"""Byte-pair encoding (BPE) kernels: count adjacent pairs, merge one pair, learn merges, apply them.

:class:`tinymed.text.BPETokenizer` cuts text into *chunks* (words, numbers, punctuation runs),
turns each distinct chunk into its UTF-8 bytes, and calls these kernels by name through
:func:`tinymed.backend.kernel`; :mod:`tinymed.kernels.numba.text` gives the same results faster.

Conventions, shared by every kernel here:

* a corpus is its distinct chunks laid end to end: ``ids (n,)`` int64, the symbols of every
  chunk one after the other; ``starts (c + 1,)`` int64, chunk ``k`` being
  ``ids[starts[k]:starts[k + 1]]``; ``weights (c,)`` int64, how often chunk ``k`` occurs in the text;
* a pair is two symbols side by side *inside one chunk*: BPE never merges across a chunk boundary;
* symbols ``0..255`` are bytes, and merge ``r`` (``merges[r] = (a, b)``) makes the new symbol
  ``first_id + r``.

The algorithm (Sennrich et al. 2016, after Gage 1994): start from bytes; repeatedly count every
pair, weighted by how often its chunk occurs,

.. math:: \operatorname{count}(a, b) = \sum_k w_k \, \#\{\, i : (s_{k,i}, s_{k,i+1}) = (a, b) \,\},

take the most frequent pair -- of equal counts, the smallest :math:`(a, b)` in lexicographic
order, so training is deterministic -- and replace its occurrences, left to right and without
overlap, by a new symbol.  Encoding replays the learned merges in the order they were learned.

These are NumPy code on the CPU: the merges are sequential by nature (each count depends on the
previous merge); under the CuPy backend the tokenizer still runs them.
"""

import numpy as np


def _pair_keys(left, right, base):
    """One integer per pair, ``a * base + b`` with ``base`` above every symbol: sorting the keys
    sorts the pairs lexicographically."""
    return left * base + right


def bpe_count_pairs(ids, starts, weights):
    r"""Every pair that occurs, with its weighted count.

    Returns ``pairs (p, 2)`` int64, sorted lexicographically, and ``counts (p,)`` int64,
    :math:`\operatorname{count}(a, b) = \sum_k w_k \, \#\{i : (s_{k,i}, s_{k,i+1}) = (a, b)\}`.
    """
    ids, starts, weights = (np.asarray(a, dtype=np.int64) for a in (ids, starts, weights))
    chunk = np.repeat(np.arange(len(weights)), np.diff(starts))  # the chunk of every position
    inside = chunk[:-1] == chunk[1:]  # positions whose right neighbour is in the same chunk
    left, right = ids[:-1][inside], ids[1:][inside]
    base = int(ids.max(initial=0)) + 1
    keys, which = np.unique(_pair_keys(left, right, base), return_inverse=True)
    counts = np.zeros(len(keys), dtype=np.int64)
    np.add.at(counts, which.ravel(), weights[chunk[:-1][inside]])
    return np.stack([keys // base, keys % base], axis=1), counts


def bpe_merge_pair(ids, starts, pair, new_id):
    """Replace each occurrence of ``pair = (a, b)`` in every chunk by ``new_id``, left to right.

    Occurrences do not overlap: in ``a a a`` the pair ``(a, a)`` is merged once, at the left.
    Returns the new ``(ids, starts)``; each merge shortens its chunk by one.
    """
    ids, starts = np.asarray(ids, dtype=np.int64), np.asarray(starts, dtype=np.int64)
    a, b = int(pair[0]), int(pair[1])
    chunk = np.repeat(np.arange(len(starts) - 1), np.diff(starts))
    hits = np.flatnonzero((ids[:-1] == a) & (ids[1:] == b) & (chunk[:-1] == chunk[1:]))
    taken, last = [], -2
    for i in hits.tolist():  # left to right: an occurrence overlapping the last one taken is skipped
        if i != last + 1:
            taken.append(i)
            last = i
    taken = np.asarray(taken, dtype=np.int64)
    merged = ids.copy()
    merged[taken] = new_id
    removed = np.zeros(len(ids) + 1, dtype=np.int64)
    removed[taken + 2] = 1  # the right half of each merged pair goes; count removals before each start
    keep = np.ones(len(ids), dtype=bool)
    keep[taken + 1] = False
    return merged[keep], starts - np.cumsum(removed)[starts]


def bpe_train_merges(ids, starts, weights, n_merges, first_id):
    """Learn up to ``n_merges`` merges: count the pairs, merge the most frequent one, repeat.

    Returns ``merges (m, 2)`` int64, ``m <= n_merges`` (fewer when no pair is left: every chunk
    has become one symbol).  Of equal counts, the smallest pair wins.
    """
    ids, starts = np.asarray(ids, dtype=np.int64), np.asarray(starts, dtype=np.int64)
    merges = []
    for r in range(n_merges):
        pairs, counts = bpe_count_pairs(ids, starts, weights)
        if len(counts) == 0:
            break
        best = pairs[np.argmax(counts)]  # argmax takes the first maximum: the smallest pair, as pairs are sorted
        ids, starts = bpe_merge_pair(ids, starts, best, first_id + r)
        merges.append(best)
    return np.asarray(merges, dtype=np.int64).reshape(-1, 2)


def bpe_encode_chunks(ids, starts, merges, first_id):
    """Encode chunks of bytes: apply every merge, in the order learned, to every chunk.

    ``merges (m, 2)`` as :func:`bpe_train_merges` returns them.  Returns the encoded
    ``(ids, starts)``.  The same as repeatedly merging the adjacent pair of lowest rank (how the
    Numba twin does it): a pair of rank ``r`` can only contain symbols made by merges before ``r``.
    """
    ids, starts = np.asarray(ids, dtype=np.int64), np.asarray(starts, dtype=np.int64)
    for r, pair in enumerate(np.asarray(merges, dtype=np.int64).reshape(-1, 2)):
        ids, starts = bpe_merge_pair(ids, starts, pair, first_id + r)
    return ids, starts
