"""What the op tests share: the backends, the tolerances (all of them, here), comparing a kernel
on two backends, checking gradients, memory layouts, and running the same numbers in PyTorch."""

import importlib

import numpy as np
import pytest

import tinymed
from tinymed import Tensor, backend
from tinymed.gradcheck import TOLERANCE, check
from tinymed.gradcheck_suite import cases

BACKENDS = tinymed.available()
"""Every backend that works on this machine; CuPy joins only where a GPU is present."""

FAST = [name for name in BACKENDS if name != "numpy"]
"""The backends checked against the reference kernels."""

on_fast_backends = pytest.mark.parametrize(
    "name", FAST or [pytest.param("numba", marks=pytest.mark.skip(reason="no backend besides numpy is installed"))])
"""Run an agreement test once per fast backend, as its ``name`` argument."""

# Agreement of a backend with the reference: float64 to ~1e-12 relative, float32 to ~1e-5.
AGREEMENT = {np.dtype(np.float64): dict(rtol=1e-12, atol=1e-12), np.dtype(np.float32): dict(rtol=1e-5, atol=1e-5)}

# tinymed against PyTorch on the same numbers.  float64: both are exact to a few rounding
# errors of the sums involved; float32: the two libraries add in different orders.
TORCH_TOLERANCE = {np.dtype(np.float64): dict(rtol=1e-10, atol=1e-12),
                   np.dtype(np.float32): dict(rtol=2e-4, atol=2e-5)}

try:
    torch = importlib.import_module("torch")
except ImportError:
    torch = None
needs_torch = pytest.mark.skipif(torch is None, reason="PyTorch is not installed (pip install 'tinymed[torch]')")


# ----- backend agreement -----------------------------------------------------------------------
def in_layout(a, strided):
    """The same values, as a non-contiguous view when ``strided`` (a fast kernel that silently
    assumes C order is a classic bug)."""
    if not strided:
        return a
    wide = np.zeros(a.shape[:-1] + (2 * a.shape[-1],), dtype=a.dtype)
    wide[..., ::2] = a
    return wide[..., ::2]


def _on(name, arrays):
    """NumPy arrays moved to backend ``name`` (other arguments as they are)."""
    module = importlib.import_module("cupy") if name == "cupy" else np
    return [module.asarray(a) if isinstance(a, np.ndarray) else a for a in arrays]


def reference(op, *args, **weights):
    """Kernel ``op`` of the reference (NumPy) backend."""
    return backend.kernel(op, backend="numpy")(*args, **weights)


def assert_agree(actual, expected, dtype=None):
    """A backend's result agrees with the reference's to the tolerance of ``dtype``."""
    actual = backend.to_numpy(actual)
    expected = backend.to_numpy(expected)
    np.testing.assert_allclose(actual, expected, **AGREEMENT[np.dtype(dtype or expected.dtype)])


def compare(op, name, args, dtype, weights=None):
    """Run kernel ``op`` on the reference and on backend ``name`` and compare every output: integer
    outputs (the argmax of max pooling) exactly, float ones to the agreement tolerance.
    ``weights`` are keyword arguments (the recurrent kernels take their weights by name)."""
    weights = weights or {}
    expected = reference(op, *args, **weights)
    on_device = dict(zip(weights, _on(name, list(weights.values()))))
    actual = backend.kernel(op, backend=name)(*_on(name, args), **on_device)
    expected = expected if isinstance(expected, tuple) else (expected,)
    actual = actual if isinstance(actual, tuple) else (actual,)
    assert len(expected) == len(actual)
    for e, a in zip(expected, actual):
        if np.asarray(e).dtype.kind in "iu":
            np.testing.assert_array_equal(backend.to_numpy(a), e)
        else:
            assert backend.to_numpy(a).dtype == np.dtype(dtype), op
            assert_agree(a, e, dtype)


# ----- gradients ---------------------------------------------------------------------------------
def grad_tensor(a):
    """``a`` on the active backend as a Tensor that requires a gradient."""
    return Tensor(backend.asarray(a), requires_grad=True)


def assert_gradients(fn, *arrays):
    """Every element of every gradient of ``fn`` at ``arrays`` matches central differences
    (``tinymed.gradcheck.TOLERANCE``)."""
    assert_report_passes(check(fn, *[grad_tensor(a) for a in arrays]))


def assert_report_passes(report):
    """A :func:`tinymed.gradcheck.check` report within ``TOLERANCE``; the report is the message."""
    assert report.max_rel_error <= TOLERANCE, str(report)


def backward(y, g):
    """Backpropagate the cotangent ``g`` (a NumPy array) from ``y`` on the active backend."""
    y.backward(backend.asarray(np.asarray(g, dtype=y.dtype)))


def grad(t):
    """The gradient of Tensor ``t`` as a NumPy array."""
    return backend.to_numpy(t.grad)


# ----- PyTorch ------------------------------------------------------------------------------------
def torch_pair(a, dtype=np.float64):
    """The same values as a tinymed Tensor and a torch tensor, both requiring a gradient."""
    a = np.asarray(a, dtype=dtype)
    return Tensor(backend.asarray(a), requires_grad=True), torch.tensor(a, requires_grad=True)


def assert_close_to_torch(ours, theirs, dtype, what=""):
    """A tinymed Tensor or array equals a torch tensor to the PyTorch tolerance of ``dtype``."""
    ours = backend.to_numpy(ours.data if isinstance(ours, Tensor) else ours)
    np.testing.assert_allclose(ours, theirs.detach().numpy(), err_msg=what, **TORCH_TOLERANCE[np.dtype(dtype)])


def load_torch_weights(ours, theirs, dtype):
    """Our module made like theirs: the same dtype, the same weights (through a NumPy state dict)."""
    ours.to(dtype)
    theirs.to({np.float32: torch.float32, np.float64: torch.float64}[dtype])
    state = {k: v.detach().numpy() for k, v in theirs.state_dict().items()}
    assert list(ours.state_dict()) == list(state), "parameter names or their order differ from PyTorch's"
    ours.load_state_dict(state)
    return ours, theirs


def assert_module_gradients_match(ours, theirs, pairs, dtype):
    """The gradients of every parameter of two modules, and of each ``(ours, theirs)`` input pair."""
    for (name, p), (_, q) in zip(ours.named_parameters(), theirs.named_parameters()):
        assert_close_to_torch(p.grad, q.grad, dtype, f"gradient of {name}")
    for i, (a, b) in enumerate(pairs):
        assert_close_to_torch(a.grad, b.grad, dtype, f"gradient of input {i}")


def gradcheck_cases(*ops):
    """The cases of ``tinymed gradcheck`` for ``ops`` (each with its PyTorch twin), as pytest
    parameters named ``op:label``."""
    return [pytest.param(c, id=f"{c.op}:{c.label}") for c in cases(seed=3) if c.op in ops]
