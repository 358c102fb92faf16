"""Shared test set-up: backends to run on, tolerances, hypothesis profiles."""

import os

import matplotlib
import numpy as np
import pytest
from hypothesis import HealthCheck, settings

import tinymed

matplotlib.use("Agg")

# The backend fixture is set once per test and holds for all its hypothesis examples, so the
# function-scoped-fixture health check does not apply.
# Every backend that works on this machine; CuPy joins only where a GPU is present.
BACKENDS = tinymed.available()

# Agreement between backends (DESIGN.md): float64 to ~1e-12 relative, float32 to ~1e-5.
AGREEMENT = {np.dtype(np.float64): dict(rtol=1e-12, atol=1e-12), np.dtype(np.float32): dict(rtol=1e-5, atol=1e-5)}

settings.register_profile(
    "ci", max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
    print_blob=True,
)
settings.register_profile(
    "dev", max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


@pytest.fixture(params=BACKENDS)
def backend(request):
    """Run the test once per installed backend, restoring the previous one afterwards."""
    with tinymed.using(request.param):
        yield request.param


@pytest.fixture
def rng():
    return np.random.default_rng(1234)


def assert_agree(actual, expected, dtype=None):
    """Backends agree with the reference to the tolerance of ``dtype``."""
    actual = tinymed.backend.to_numpy(actual)
    expected = tinymed.backend.to_numpy(expected)
    tol = AGREEMENT[np.dtype(dtype or expected.dtype)]
    np.testing.assert_allclose(actual, expected, **tol)


def grad_tensor(a):
    """``a`` on the active backend as a Tensor that requires a gradient."""
    return tinymed.Tensor(tinymed.backend.asarray(a), requires_grad=True)


def assert_gradients(fn, *arrays):
    """Every gradient of ``fn`` at ``arrays`` matches central differences (gradcheck's tolerance)."""
    from tinymed.gradcheck import TOLERANCE, check

    report = check(fn, *[grad_tensor(a) for a in arrays])
    assert report.max_rel_error <= TOLERANCE, str(report)
