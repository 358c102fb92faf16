"""The backend switch: names, defaults, the environment variable, errors, kernel fallback."""

import importlib.util
import os
import subprocess
import sys

import numpy as np
import pytest

import tinymed
from tinymed import backend
from tinymed.kernels import reference


def _python(code, **env):
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            env={**os.environ, **env}, timeout=120)
    return result


def test_use_and_using_restore():
    start = tinymed.current()
    with tinymed.using("numpy"):
        assert tinymed.current() == "numpy"
    assert tinymed.current() == start


def test_using_restores_after_an_error():
    start = tinymed.current()
    with pytest.raises(ZeroDivisionError):
        with tinymed.using("numpy"):
            raise ZeroDivisionError
    assert tinymed.current() == start


def test_unknown_backend_lists_the_valid_names():
    with pytest.raises(backend.BackendError, match="numpy, numba, cupy"):
        tinymed.use("torch")


@pytest.mark.skipif(importlib.util.find_spec("cupy") is not None, reason="CuPy is installed here")
def test_missing_cupy_says_what_to_install():
    with pytest.raises(backend.BackendError, match=r"tinymed\[gpu\]"):
        tinymed.use("cupy")


def test_default_is_numba_where_it_imports():
    out = _python("import tinymed; print(tinymed.current())", TINYMED_BACKEND="")
    expected = "numba" if importlib.util.find_spec("numba") else "numpy"
    assert out.stdout.strip() == expected, out.stderr


def test_environment_variable_picks_the_backend():
    out = _python("import tinymed; print(tinymed.current())", TINYMED_BACKEND="numpy")
    assert out.stdout.strip() == "numpy", out.stderr


def test_bad_environment_variable_is_a_clear_error():
    out = _python("import tinymed; tinymed.current()", TINYMED_BACKEND="fortran")
    assert out.returncode != 0 and "TINYMED_BACKEND" in out.stderr and "fortran" in out.stderr


def test_import_is_lazy():
    """`import tinymed` must not import numba, cupy or matplotlib (it stays fast)."""
    code = ("import sys, tinymed; print(sorted(m for m in ('numba', 'cupy', 'matplotlib') "
            "if m in sys.modules))")
    out = _python(code)
    assert out.stdout.strip() == "[]", out.stdout + out.stderr


def test_kernel_lookup_falls_back_to_reference():
    # linear is one BLAS product: no backend overrides it
    assert backend.kernel("linear_forward", backend="numba") is reference.linear_forward
    assert backend.kernel("conv2d_forward", backend="numpy") is reference.conv2d_forward
    if "numba" in backend.available():
        assert backend.kernel("conv2d_forward", backend="numba") is not reference.conv2d_forward


def test_unknown_kernel_is_a_clear_error():
    with pytest.raises(backend.BackendError, match="no_such_op"):
        backend.kernel("no_such_op")


def test_tensors_follow_the_active_backend():
    with tinymed.using("numpy"):
        t = tinymed.Tensor([1.0, 2.0])
        assert isinstance(t.data, np.ndarray) and t.dtype == np.float32
