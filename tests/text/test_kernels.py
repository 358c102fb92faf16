"""The byte-pair-encoding kernels (tinymed.kernels.{reference,numba}.text): each against a plain
statement of its rule, on every backend, and the Numba twins against the reference on drawn corpora."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import tinymed
from tinymed.backend import kernel

KERNELS = ("bpe_count_pairs", "bpe_merge_pair", "bpe_train_merges", "bpe_encode_chunks")
needs_numba = pytest.mark.skipif("numba" not in tinymed.available(), reason="numba is not installed")


@st.composite
def corpora(draw, max_chunks=6, max_length=8, alphabet=3):
    """Chunks over a small alphabet (so pairs repeat, tie and overlap), some empty, with weights."""
    chunks = draw(st.lists(st.lists(st.integers(0, alphabet - 1), max_size=max_length), max_size=max_chunks))
    ids = np.array([s for chunk in chunks for s in chunk], dtype=np.int64)
    starts = np.concatenate([[0], np.cumsum([len(c) for c in chunks])]).astype(np.int64)
    weights = np.array(draw(st.lists(st.integers(1, 4), min_size=len(chunks), max_size=len(chunks))), dtype=np.int64)
    return ids, starts, weights


def _chunks(ids, starts):
    return [ids[starts[k]:starts[k + 1]].tolist() for k in range(len(starts) - 1)]


def test_the_merge_of_a_worked_example():
    # "aaabdaaabac": aa (4 times) first, Z = 256: "ZabdZabac"; ab and Za tie at 2, and the smaller
    # pair, (a, b), wins, Y = 257: "ZYdZYac"; then ZY (2), X = 258: "XdXac"; four pairs tie at 1
    # and (a, c) is the smallest: "XdXW"; ... until the chunk is one symbol
    ids = np.frombuffer(b"aaabdaaabac", dtype=np.uint8).astype(np.int64)
    merges = kernel("bpe_train_merges")(ids, np.array([0, len(ids)]), np.array([1]), 10, 256)
    np.testing.assert_array_equal(merges[:4], [[97, 97], [97, 98], [256, 257], [97, 99]])
    assert len(merges) == 7  # "XdXW" is four symbols: three more merges make it one


@given(corpora())
def test_count_pairs_counts_each_pair_inside_its_chunk(backend, corpus):
    ids, starts, weights = corpus
    expected = {}
    for chunk, w in zip(_chunks(ids, starts), weights.tolist()):
        for pair in zip(chunk, chunk[1:]):
            expected[pair] = expected.get(pair, 0) + w
    pairs, counts = kernel("bpe_count_pairs")(ids, starts, weights)
    assert [tuple(p) for p in pairs.tolist()] == sorted(expected)
    assert counts.tolist() == [expected[p] for p in sorted(expected)]


@given(corpora(), st.integers(0, 2), st.integers(0, 2))
def test_merge_pair_merges_left_to_right_without_overlap(backend, corpus, a, b):
    ids, starts, _ = corpus
    merged, new_starts = kernel("bpe_merge_pair")(ids, starts, (a, b), 9)
    for chunk, result in zip(_chunks(ids, starts), _chunks(merged, new_starts)):
        expected, i = [], 0
        while i < len(chunk):
            if chunk[i:i + 2] == [a, b]:
                expected.append(9)
                i += 2
            else:
                expected.append(chunk[i])
                i += 1
        assert result == expected


def test_a_run_of_equal_symbols_merges_from_the_left(backend):
    merged, starts = kernel("bpe_merge_pair")(np.array([5, 5, 5, 5, 5]), np.array([0, 5]), (5, 5), 7)
    np.testing.assert_array_equal(merged, [7, 7, 5])
    np.testing.assert_array_equal(starts, [0, 3])


@given(corpora())
def test_encoding_the_training_chunks_gives_what_training_made_of_them(backend, corpus):
    ids, starts, weights = corpus
    merges = kernel("bpe_train_merges")(ids, starts, weights, 6, 256)
    replayed = ids, starts
    for r, pair in enumerate(merges):
        replayed = kernel("bpe_merge_pair")(*replayed, pair, 256 + r)
    encoded = kernel("bpe_encode_chunks")(ids, starts, merges, 256)
    assert _chunks(*encoded) == _chunks(*replayed)


@given(corpora())
def test_training_takes_the_most_frequent_pair_and_stops_when_none_is_left(backend, corpus):
    ids, starts, weights = corpus
    merges = kernel("bpe_train_merges")(ids, starts, weights, 50, 256)
    current = ids, starts
    for r, pair in enumerate(merges):
        pairs, counts = kernel("bpe_count_pairs")(*current, weights)
        best = [tuple(p) for p, c in zip(pairs.tolist(), counts) if c == counts.max()]
        assert tuple(pair) == min(best)
        current = kernel("bpe_merge_pair")(*current, pair, 256 + r)
    assert len(kernel("bpe_count_pairs")(*current, weights)[1]) == 0 or len(merges) == 50


def test_empty_input(backend):
    empty, no_chunks = np.zeros(0, np.int64), np.zeros(1, np.int64)
    pairs, counts = kernel("bpe_count_pairs")(empty, no_chunks, empty)
    assert pairs.shape == (0, 2) and counts.shape == (0,)
    assert kernel("bpe_train_merges")(empty, no_chunks, empty, 5, 256).shape == (0, 2)
    ids, starts = kernel("bpe_encode_chunks")(empty, no_chunks, np.zeros((0, 2), np.int64), 256)
    assert ids.shape == (0,) and starts.tolist() == [0]


@needs_numba
def test_numba_overrides_every_text_kernel():
    for name in KERNELS:
        assert kernel(name, "numba") is not kernel(name, "numpy"), name


def _same(actual, expected):
    actual = actual if isinstance(actual, tuple) else (actual,)
    expected = expected if isinstance(expected, tuple) else (expected,)
    assert len(actual) == len(expected)
    for a, e in zip(actual, expected):
        assert a.dtype == np.int64
        np.testing.assert_array_equal(a, e)


@needs_numba
@given(corpora(max_chunks=10, max_length=12), st.integers(0, 12))
def test_numba_agrees_with_reference(corpus, n_merges):
    ids, starts, weights = corpus
    merges = kernel("bpe_train_merges", "numpy")(ids, starts, weights, n_merges, 256)
    _same(kernel("bpe_train_merges", "numba")(ids, starts, weights, n_merges, 256), merges)
    _same(kernel("bpe_count_pairs", "numba")(ids, starts, weights),
          kernel("bpe_count_pairs", "numpy")(ids, starts, weights))
    _same(kernel("bpe_encode_chunks", "numba")(ids, starts, merges, 256),
          kernel("bpe_encode_chunks", "numpy")(ids, starts, merges, 256))
    for pair in [(0, 0), (0, 1), (2, 1)]:
        _same(kernel("bpe_merge_pair", "numba")(ids, starts, pair, 300),
              kernel("bpe_merge_pair", "numpy")(ids, starts, pair, 300))


@needs_numba
def test_numba_agrees_with_reference_on_text():
    text = "no evidence of pneumonia; 未见肺炎。 consolidation in the right lower lobe, 右下肺实变影 " * 3
    data = [w.encode() for w in text.split(" ")]
    ids = np.frombuffer(b"".join(data), dtype=np.uint8).astype(np.int64)
    starts = np.concatenate([[0], np.cumsum([len(d) for d in data])])
    weights = np.arange(1, len(data) + 1)
    merges = kernel("bpe_train_merges", "numpy")(ids, starts, weights, 40, 256)
    _same(kernel("bpe_train_merges", "numba")(ids, starts, weights, 40, 256), merges)
    _same(kernel("bpe_encode_chunks", "numba")(ids, starts, merges, 256),
          kernel("bpe_encode_chunks", "numpy")(ids, starts, merges, 256))
