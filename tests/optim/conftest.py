"""The optimizer tests run on the NumPy backend."""

import pytest

import tinymed


@pytest.fixture(autouse=True)
def numpy_backend():
    """The optimizers do not depend on the backend; the reference kernels are the quickest for
    these tiny networks.  Tests that take the ``backend`` fixture still run on every backend."""
    with tinymed.using("numpy"):
        yield
