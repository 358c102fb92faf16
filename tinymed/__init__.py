"""tinymed: a small, exact and fast deep-learning library for teaching AI in medicine.

>>> import tinymed
>>> x = tinymed.Tensor([[1.0, 2.0]], requires_grad=True)
>>> (x * x).sum().backward()
>>> x.grad
array([[2., 4.]], dtype=float32)
"""

from .autograd import Function, Tensor, is_grad_enabled, no_grad, ones, randn, tensor, zeros
from .backend import BackendError, available, current, use, using
from .random import get_rng_state, manual_seed, set_rng_state
from .serialization import CheckpointError, load, save

__version__ = "0.1.0"

_SUBMODULES = ("nn", "ops", "optim", "metrics", "keras", "plot", "models", "data", "gradcheck", "backend", "sparse",
               "recsys", "graph", "text", "compress", "privacy", "explain", "export", "lessons", "demo", "exercises")


def __getattr__(name):
    # submodules load on first use, so `import tinymed` stays fast
    if name in _SUBMODULES:
        import importlib

        return importlib.import_module(f"{__name__}.{name}")
    raise AttributeError(f"module 'tinymed' has no attribute {name!r}")


__all__ = [
    "Tensor", "Function", "tensor", "zeros", "ones", "randn", "no_grad", "is_grad_enabled",
    "manual_seed", "get_rng_state", "set_rng_state", "use", "using", "current", "available",
    "BackendError", "save", "load", "CheckpointError", "__version__",
]
