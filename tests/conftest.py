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


@pytest.fixture(params=tinymed.available())
def backend(request):
    """Run the test once per installed backend (CuPy only where a GPU is present), restoring the
    previous backend afterwards."""
    with tinymed.using(request.param):
        yield request.param


@pytest.fixture
def rng():
    return np.random.default_rng(1234)
