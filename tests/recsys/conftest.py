"""What several recommender test files share: small trainsets, the synthetic treatment data,
and random rows for BPMF's draw."""

import numpy as np
import pytest

from tinymed.recsys import Dataset, Reader, make_treatment_responses
from tinymed.sparse import indptr_from_rows


@pytest.fixture
def make_trainset():
    """``make_trainset(triples)``: the full trainset of ``(user, item, rating)`` triples, scale 1-5."""
    def make(triples):
        return Dataset.load_from_triples(triples, Reader(rating_scale=(1, 5))).build_full_trainset()
    return make


@pytest.fixture(scope="module")
def treatments():
    """``(data, trainset)``: 150 synthetic patients, 25 treatments, 30% of the responses seen."""
    d = make_treatment_responses(150, 25, density=0.3, random_state=5)
    return d, d.to_dataset().build_full_trainset()


@pytest.fixture
def bpmf_rows():
    """``bpmf_rows(rng, n_rows, n_other, k, density)``: the inputs of a BPMF row draw,
    ``(indptr, columns, values, other, precision, mean0)``, with a well-conditioned precision."""
    def make(rng, n_rows=30, n_other=12, k=4, density=0.4):
        rows, cols = np.nonzero(rng.random((n_rows, n_other)) < density)
        values = rng.normal(0, 1, len(rows))
        other = rng.normal(0, 1, (n_other, k))
        A = rng.normal(0, 1, (k, k))
        precision = A @ A.T + k * np.eye(k)
        return indptr_from_rows(rows, n_rows), cols, values, other, precision, rng.normal(0, 1, k)
    return make
