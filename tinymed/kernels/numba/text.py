"""Numba loops for byte-pair encoding, with the signatures and results of
:mod:`tinymed.kernels.reference.text` (the conventions and the algorithm are stated there).

* :func:`bpe_count_pairs`  -- one pass writes every pair's key, a sort groups equal keys;
* :func:`bpe_merge_pair`   -- one pass copies each chunk, merging as it goes;
* :func:`bpe_train_merges` -- counts are kept up to date instead of recounted: a merge touches only
  the chunks holding its pair, so only their pairs are taken out of the counts before the merge
  and put back after it.  The reference recounts the whole corpus for every merge;
* :func:`bpe_encode_chunks` -- per chunk, merge the adjacent pair of lowest rank until none is
  left, ranks found by binary search in the sorted merge keys.  The reference replays every merge
  over every chunk; the two give the same ids (see its docstring).

``NUMBA_DISABLE_JIT=1`` runs them as plain Python to step through in a debugger.
"""

import numpy as np
from numba import njit, types
from numba.typed import Dict


def _int64(*arrays):
    return [np.ascontiguousarray(a, dtype=np.int64) for a in arrays]


@njit(cache=True)
def _merge_in_place(symbols, begin, end, a, b, new_id):
    """Merge ``(a, b)`` in ``symbols[begin:end]`` left to right, without overlap; return the new end."""
    write, i = begin, begin
    while i < end:
        if i + 1 < end and symbols[i] == a and symbols[i + 1] == b:
            symbols[write] = new_id
            i += 2
        else:
            symbols[write] = symbols[i]
            i += 1
        write += 1
    return write


# ----- counting --------------------------------------------------------------------------------
@njit(cache=True)
def _count_pairs(ids, starts, weights, base):
    n_pairs = 0
    for k in range(len(weights)):
        n_pairs += max(starts[k + 1] - starts[k] - 1, 0)
    keys, key_weights = np.empty(n_pairs, np.int64), np.empty(n_pairs, np.int64)
    p = 0
    for k in range(len(weights)):
        for i in range(starts[k], starts[k + 1] - 1):
            keys[p], key_weights[p] = ids[i] * base + ids[i + 1], weights[k]
            p += 1
    order = np.argsort(keys)
    pairs, counts = np.empty((n_pairs, 2), np.int64), np.zeros(n_pairs, np.int64)
    n_distinct = 0
    for j in range(n_pairs):
        key = keys[order[j]]
        if j == 0 or key != keys[order[j - 1]]:
            pairs[n_distinct, 0], pairs[n_distinct, 1] = key // base, key % base
            n_distinct += 1
        counts[n_distinct - 1] += key_weights[order[j]]
    return pairs[:n_distinct], counts[:n_distinct]


def bpe_count_pairs(ids, starts, weights):
    """``pairs (p, 2)`` sorted and their weighted ``counts (p,)``: the reference's ``bpe_count_pairs``."""
    ids, starts, weights = _int64(ids, starts, weights)
    base = int(ids.max(initial=0)) + 1
    return _count_pairs(ids, starts, weights, base)


# ----- merging ---------------------------------------------------------------------------------
@njit(cache=True)
def _merge_pair(ids, starts, a, b, new_id):
    merged, new_starts = ids.copy(), np.empty_like(starts)
    new_starts[0] = 0
    for k in range(len(starts) - 1):
        length = starts[k + 1] - starts[k]
        merged[new_starts[k]:new_starts[k] + length] = ids[starts[k]:starts[k + 1]]
        new_starts[k + 1] = _merge_in_place(merged, new_starts[k], new_starts[k] + length, a, b, new_id)
    return merged[:new_starts[-1]], new_starts


def bpe_merge_pair(ids, starts, pair, new_id):
    """``(ids, starts)`` with ``pair`` merged into ``new_id``: the reference's ``bpe_merge_pair``."""
    ids, starts = _int64(ids, starts)
    return _merge_pair(ids, starts, int(pair[0]), int(pair[1]), int(new_id))


# ----- learning merges -------------------------------------------------------------------------
@njit(cache=True)
def _add_pairs(symbols, begin, end, weight, base, slot_of, keys, counts, n_slots):
    """Add ``weight`` to the count of every pair in ``symbols[begin:end]``; new pairs get a slot."""
    for i in range(begin, end - 1):
        key = symbols[i] * base + symbols[i + 1]
        if key in slot_of:
            counts[slot_of[key]] += weight
        else:
            slot_of[key], keys[n_slots], counts[n_slots] = n_slots, key, weight
            n_slots += 1
    return n_slots


@njit(cache=True)
def _most_frequent(keys, counts, n_slots):
    """The slot of the highest count (of equal counts, the smallest key); -1 if every count is 0."""
    best = -1
    for s in range(n_slots):
        if counts[s] > 0 and (best < 0 or counts[s] > counts[best]
                              or (counts[s] == counts[best] and keys[s] < keys[best])):
            best = s
    return best


@njit(cache=True)
def _holds(symbols, begin, end, a, b):
    for i in range(begin, end - 1):
        if symbols[i] == a and symbols[i + 1] == b:
            return True
    return False


@njit(cache=True)
def _train_merges(ids, starts, weights, n_merges, first_id, base):
    symbols, ends = ids.copy(), starts[1:].copy()  # chunk k shrinks in place within starts[k]:ends[k]
    # distinct pairs ever seen: at most the n - c first ones plus two per merged occurrence (<= n)
    capacity = 3 * len(ids) + 1
    keys, counts = np.empty(capacity, np.int64), np.zeros(capacity, np.int64)
    slot_of = Dict.empty(key_type=types.int64, value_type=types.int64)
    n_slots = 0
    for k in range(len(weights)):
        n_slots = _add_pairs(symbols, starts[k], ends[k], weights[k], base, slot_of, keys, counts, n_slots)
    merges = np.empty((n_merges, 2), np.int64)
    for r in range(n_merges):
        best = _most_frequent(keys, counts, n_slots)
        if best < 0:
            return merges[:r]
        a, b = keys[best] // base, keys[best] % base
        for k in range(len(weights)):
            if _holds(symbols, starts[k], ends[k], a, b):
                n_slots = _add_pairs(symbols, starts[k], ends[k], -weights[k], base, slot_of, keys, counts, n_slots)
                ends[k] = _merge_in_place(symbols, starts[k], ends[k], a, b, first_id + r)
                n_slots = _add_pairs(symbols, starts[k], ends[k], weights[k], base, slot_of, keys, counts, n_slots)
        merges[r, 0], merges[r, 1] = a, b
    return merges


def bpe_train_merges(ids, starts, weights, n_merges, first_id):
    """``merges (m, 2)``, ``m <= n_merges``: the reference's ``bpe_train_merges``, counts kept up to date."""
    ids, starts, weights = _int64(ids, starts, weights)
    base = max(int(first_id) + int(n_merges), int(ids.max(initial=0)) + 1)
    return _train_merges(ids, starts, weights, int(n_merges), int(first_id), base)


# ----- encoding --------------------------------------------------------------------------------
@njit(cache=True)
def _encode_chunks(ids, starts, merges, sorted_keys, ranks, base, first_id):
    encoded, new_starts = ids.copy(), np.empty_like(starts)
    new_starts[0] = 0
    for k in range(len(starts) - 1):
        begin = new_starts[k]
        end = begin + starts[k + 1] - starts[k]
        encoded[begin:end] = ids[starts[k]:starts[k + 1]]
        while end - begin > 1:
            lowest = -1
            for i in range(begin, end - 1):
                key = encoded[i] * base + encoded[i + 1]
                at = np.searchsorted(sorted_keys, key)
                if at < len(sorted_keys) and sorted_keys[at] == key and (lowest < 0 or ranks[at] < lowest):
                    lowest = ranks[at]
            if lowest < 0:
                break
            end = _merge_in_place(encoded, begin, end, merges[lowest, 0], merges[lowest, 1], first_id + lowest)
        new_starts[k + 1] = end
    return encoded[:new_starts[-1]], new_starts


def bpe_encode_chunks(ids, starts, merges, first_id):
    """Encoded ``(ids, starts)``: the reference's ``bpe_encode_chunks``, lowest rank first per chunk."""
    ids, starts, merges = _int64(ids, starts, np.reshape(merges, (-1, 2)))
    base = max(int(first_id) + len(merges), int(ids.max(initial=0)) + 1)
    keys = merges[:, 0] * base + merges[:, 1]
    order = np.argsort(keys)
    return _encode_chunks(ids, starts, merges, keys[order], order.astype(np.int64), base, int(first_id))
