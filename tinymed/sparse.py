"""A small compressed-sparse-row (CSR) matrix in NumPy.

The user-item rating matrix R of a recommender (F13) is mostly empty, and so is the adjacency
matrix of a knowledge graph. CSR keeps only the stored entries, row by row:

* ``indptr``  (n_rows + 1,): row ``i`` owns the positions ``indptr[i]:indptr[i+1]``;
* ``indices`` (nnz,):        the column of each stored entry;
* ``data``    (nnz,):        its value.

So row ``i`` is ``indices[indptr[i]:indptr[i+1]]`` and ``data[indptr[i]:indptr[i+1]]``.
That is the whole idea; scipy.sparse is the industrial version (:meth:`CSRMatrix.to_scipy`
converts when scipy is installed) but tinymed never needs it.

A row's entries may come in any column order: :meth:`CSRMatrix.from_coo` sorts them, while a
recommender's trainset keeps each patient's ratings in the order they came.

Building ``indptr`` is counting: how many entries each row has, then a running sum
(:func:`indptr_from_rows`). The transpose ``A.T`` is the same entries by column, i.e. the
compressed-sparse-column (CSC) form of ``A``.
"""

from __future__ import annotations

import numpy as np


def indptr_from_rows(rows, n_rows):
    """``indptr`` ``(n_rows + 1,)`` of a CSR matrix whose entry ``k`` lies in row ``rows[k]``.

    ``indptr[i + 1] - indptr[i]`` is the number of entries in row ``i``:
    ``indptr = [0, cumsum(bincount(rows))]``. The entries themselves must then be laid out
    grouped by row (e.g. in the order of a stable ``argsort(rows)``).
    """
    return np.concatenate(([0], np.cumsum(np.bincount(rows, minlength=n_rows))))


class CSRMatrix:
    """An ``(n_rows, n_cols)`` sparse matrix stored as ``indptr, indices, data``."""

    __array_ufunc__ = None  # so ``vector @ A`` calls our __rmatmul__ instead of NumPy's matmul

    def __init__(self, indptr, indices, data, shape):
        self.indptr = np.asarray(indptr, dtype=np.int64)
        self.indices = np.asarray(indices, dtype=np.int64)
        self.data = np.asarray(data, dtype=np.float64)
        self.shape = (int(shape[0]), int(shape[1]))
        if self.indptr.shape != (self.shape[0] + 1,) or self.indptr[0] != 0:
            raise ValueError(f"CSRMatrix: indptr must have n_rows + 1 = {self.shape[0] + 1} entries "
                             f"starting at 0, got shape {self.indptr.shape}")
        if self.indices.shape != self.data.shape or self.indptr[-1] != len(self.data):
            raise ValueError(f"CSRMatrix: indices {self.indices.shape} and data {self.data.shape} must "
                             f"both hold indptr[-1] = {self.indptr[-1]} entries")
        self._rows = None

    @classmethod
    def from_coo(cls, rows, cols, values, shape, sum_duplicates=True):
        """Build from coordinate triples ``(rows[k], cols[k], values[k])``.

        Entries are sorted by row, then column. Repeated ``(row, col)`` pairs are summed
        (as scipy does), or rejected with ``sum_duplicates=False``.
        """
        rows = np.asarray(rows, dtype=np.int64).ravel()
        cols = np.asarray(cols, dtype=np.int64).ravel()
        values = np.asarray(values, dtype=np.float64).ravel()
        n_rows, n_cols = int(shape[0]), int(shape[1])
        if not (len(rows) == len(cols) == len(values)):
            raise ValueError(f"CSRMatrix.from_coo: rows, cols and values must have one length, got "
                             f"{len(rows)}, {len(cols)}, {len(values)}")
        if len(rows) and (rows.min() < 0 or rows.max() >= n_rows or cols.min() < 0 or cols.max() >= n_cols):
            raise ValueError(f"CSRMatrix.from_coo: an index lies outside the shape {shape}")
        if n_rows * n_cols >= 2**63:
            raise ValueError(f"CSRMatrix.from_coo: shape {shape} has more entries than an int64 can number")
        # Sorting the one key row * n_cols + col sorts by row, then column, about twice as fast as
        # np.lexsort((cols, rows)). Only repeated entries need the slower stable sort, so that they
        # are summed in the order they were given.
        key = rows * n_cols + cols
        order = np.argsort(key)
        repeat = np.diff(key[order]) == 0  # sorted entry k + 1 repeats entry k (whichever sort)
        if not repeat.any():
            return cls(indptr_from_rows(rows[order], n_rows), cols[order], values[order], (n_rows, n_cols))
        if not sum_duplicates:
            k = int(order[np.flatnonzero(repeat)[0]])
            raise ValueError(f"CSRMatrix.from_coo: entry ({rows[k]}, {cols[k]}) is given twice")
        order = np.argsort(key, kind="stable")
        first = np.concatenate(([True], ~repeat))
        values = np.bincount(np.cumsum(first) - 1, weights=values[order])
        order = order[first]
        return cls(indptr_from_rows(rows[order], n_rows), cols[order], values, (n_rows, n_cols))

    @property
    def nnz(self) -> int:
        """Number of stored entries."""
        return len(self.data)

    def row(self, i):
        """``(columns, values)`` of the stored entries of row ``i``."""
        lo, hi = self.indptr[i], self.indptr[i + 1]
        return self.indices[lo:hi], self.data[lo:hi]

    def row_of_entries(self):
        """The row index of every stored entry, ``(nnz,)`` (the COO row array); computed once."""
        if self._rows is None:
            self._rows = np.repeat(np.arange(self.shape[0]), np.diff(self.indptr))
        return self._rows

    def toarray(self, fill=0.0):
        """Dense ``(n_rows, n_cols)`` array; entries not stored are ``fill`` (e.g. ``np.nan``)."""
        dense = np.full(self.shape, fill, dtype=np.float64)
        dense[self.row_of_entries(), self.indices] = self.data
        return dense

    def transpose(self) -> CSRMatrix:
        """``A^T`` ``(n_cols, n_rows)``: the same entries by column (A's CSC form), rows ascending."""
        return CSRMatrix.from_coo(self.indices, self.row_of_entries(), self.data,
                                  (self.shape[1], self.shape[0]))

    T = property(transpose)

    def dot(self, x):
        """``A @ x`` for a vector ``x`` of length n_cols: ``y_i = sum_k A_ik x_k``."""
        x = self._vector(x, self.shape[1], "dot")
        return np.bincount(self.row_of_entries(), weights=self.data * x[self.indices],
                           minlength=self.shape[0])

    def rdot(self, x):
        """``x @ A`` for a vector ``x`` of length n_rows: ``y_k = sum_i x_i A_ik``."""
        x = self._vector(x, self.shape[0], "rdot")
        return np.bincount(self.indices, weights=self.data * x[self.row_of_entries()],
                           minlength=self.shape[1])

    def __matmul__(self, x):
        return self.dot(x)

    def __rmatmul__(self, x):
        return self.rdot(x)

    def row_sums(self):
        """``(n_rows,)`` sums of each row's stored values."""
        return np.bincount(self.row_of_entries(), weights=self.data, minlength=self.shape[0])

    def to_scipy(self):
        """The same matrix as a ``scipy.sparse.csr_array`` (needs scipy)."""
        try:
            from scipy.sparse import csr_array
        except ImportError as exc:
            raise ImportError("CSRMatrix.to_scipy needs scipy: pip install scipy") from exc
        return csr_array((self.data, self.indices, self.indptr), shape=self.shape)

    def _vector(self, x, n, op):
        x = np.asarray(x, dtype=np.float64)
        if x.shape != (n,):
            raise ValueError(f"CSRMatrix.{op}: expected a vector of length {n}, got shape {x.shape}")
        return x

    def __repr__(self):
        return f"<CSRMatrix {self.shape[0]}x{self.shape[1]}, {self.nnz} stored entries>"
