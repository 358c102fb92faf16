"""Fixtures for every test (the backend to run on, a seeded generator) and the hypothesis profiles.

``HYPOTHESIS_PROFILE=ci`` (the default) draws 25 examples per property, which keeps the suite to a
few minutes on two cores; ``HYPOTHESIS_PROFILE=dev`` draws 100.  Strategies are in
``tests/strategies.py``, shared helpers and tolerances in ``tests/helpers.py``.
"""

import os

import matplotlib
import numpy as np
import pytest
from hypothesis import HealthCheck, settings

import tinymed

matplotlib.use("Agg")  # tests that draw figures never open a window

# The backend fixture is entered once per test and holds for all of its hypothesis examples: the
# function-scoped-fixture health check warns about exactly that, and here it is what we want.
_SUPPRESSED = [HealthCheck.too_slow, HealthCheck.function_scoped_fixture]
settings.register_profile("ci", max_examples=25, deadline=None, suppress_health_check=_SUPPRESSED, print_blob=True)
settings.register_profile("dev", max_examples=100, deadline=None, suppress_health_check=_SUPPRESSED)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


# TINYMED_STRICT_DEVICE=1 runs every test on the "cupy" backend served by tests/device.py, a stand-in
# whose arrays refuse implicit conversion to NumPy: host/device mixing shows up without a GPU
_STRICT = os.environ.get("TINYMED_STRICT_DEVICE", "") not in ("", "0")


@pytest.fixture(autouse=True)
def _strict_device():
    if not _STRICT:
        yield
        return
    from tests.device import StrictArray, xp

    with tinymed.backend.device_stand_in(xp, StrictArray), tinymed.using("cupy"):
        yield


@pytest.fixture(params=["cupy"] if _STRICT else tinymed.available())
def backend(request):
    """Run the test once per installed backend (CuPy only where a GPU is present), restoring the
    previous backend afterwards."""
    with tinymed.using(request.param):
        yield request.param


@pytest.fixture
def rng():
    return np.random.default_rng(1234)
