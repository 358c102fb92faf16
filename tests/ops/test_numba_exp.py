"""``exp_float32`` (``tinymed/kernels/numba/_exp.py``), the float32 exponential that Numba loops
compute inline: within 1.5 units in the last place of the correctly rounded value from x = -87.3
up (all of float32's normal results above 1.2e-38), 0 below, and exact where e^x is 1, 0 or inf."""

import numpy as np
import pytest

from tinymed import backend

pytestmark = pytest.mark.skipif("numba" not in backend.available(), reason="numba is not installed")


def _exp_all(x):
    from numba import njit

    from tinymed.kernels.numba._exp import exp_float32

    @njit
    def run(x, y):
        for i in range(x.size):
            y[i] = exp_float32(x[i])

    y = np.empty_like(x)
    run(x, y)
    return y


def test_within_one_and_a_half_units_in_the_last_place():
    x = np.linspace(-110, 90, 2_000_001, dtype=np.float32)
    got = _exp_all(x).astype(np.float64)
    exact = np.exp(x.astype(np.float64))
    normal = (x >= np.float32(-87.3)) & (exact <= np.finfo(np.float32).max)
    ulp = np.spacing(exact[normal].astype(np.float32)).astype(np.float64)
    assert np.max(np.abs(got[normal] - exact[normal]) / ulp) <= 1.5
    assert np.all(got[x < np.float32(-87.3)] == 0)  # below 1.2e-38: no subnormal numbers
    assert np.all(got[exact > np.finfo(np.float32).max] == np.inf)


def test_special_values():
    x = np.array([0.0, -0.0, 1e-30, -1e-30, -np.inf, np.inf, np.nan, -1e30, 1e30, 88.7, 88.8, -104.0], np.float32)
    got = _exp_all(x)
    np.testing.assert_array_equal(got[:9], [1, 1, 1, 1, 0, np.inf, np.nan, 0, np.inf])
    assert np.isfinite(got[9]) and got[10] == np.inf and got[11] == 0
