"""tinymed.sparse, the CSR matrix that the recommenders and the graphs share."""

import numpy as np
import pytest

from tinymed.recsys import CSRMatrix as ReExported
from tinymed.sparse import CSRMatrix, indptr_from_rows


def test_csr_products_match_dense(rng):
    dense = rng.random((5, 4)) * (rng.random((5, 4)) < 0.5)
    rows, cols = np.nonzero(dense)
    A = CSRMatrix.from_coo(rows, cols, dense[rows, cols], dense.shape)
    x4, x5 = rng.random(4), rng.random(5)
    np.testing.assert_allclose(A @ x4, dense @ x4, rtol=1e-14)
    np.testing.assert_allclose(x5 @ A, x5 @ dense, rtol=1e-14)
    np.testing.assert_allclose(A.row_sums(), dense.sum(axis=1), rtol=1e-14)
    summed = CSRMatrix.from_coo([0, 0], [1, 1], [2.0, 3.0], (1, 2))
    assert summed.toarray().tolist() == [[0.0, 5.0]]
    with pytest.raises(ValueError, match=r"entry \(0, 1\) is given twice"):
        CSRMatrix.from_coo([0, 0], [1, 1], [2.0, 3.0], (1, 2), sum_duplicates=False)
    with pytest.raises(ValueError, match="vector of length 4"):
        A.dot(np.ones(3))


def test_indptr_counts_the_entries_of_each_row():
    np.testing.assert_array_equal(indptr_from_rows(np.array([2, 0, 2, 2]), 4), [0, 1, 1, 4, 4])
    np.testing.assert_array_equal(indptr_from_rows(np.array([], dtype=np.int64), 2), [0, 0, 0])


def test_transpose_is_the_matrix_by_column(rng):
    dense = rng.random((4, 6)) * (rng.random((4, 6)) < 0.5)
    rows, cols = np.nonzero(dense)
    A = CSRMatrix.from_coo(rows, cols, dense[rows, cols], dense.shape)
    np.testing.assert_array_equal(A.T.toarray(), dense.T)
    for y in range(6):  # row y of A.T: the rows of A holding column y, ascending
        assert A.T.row(y)[0].tolist() == np.flatnonzero(dense[:, y]).tolist()


def test_rows_may_keep_any_column_order_and_recsys_reexports_the_type():
    A = CSRMatrix([0, 2, 3], [2, 0, 1], [5.0, 7.0, 1.0], (2, 3))
    assert A.row(0)[0].tolist() == [2, 0]
    np.testing.assert_array_equal(A.toarray(), [[7.0, 0.0, 5.0], [0.0, 1.0, 0.0]])
    np.testing.assert_array_equal(A @ np.array([1.0, 2.0, 3.0]), [22.0, 2.0])
    assert ReExported is CSRMatrix
