"""Reverse-mode automatic differentiation on a tape, in the style of PyTorch.

A :class:`Tensor` wraps a raw array of the active backend (``.data``).  Every operation on
tensors that require gradients is a :class:`Function`: its ``forward`` computes the result
from raw arrays and saves what the derivative needs; its ``backward`` turns the gradient of
the output into gradients of the inputs.  ``loss.backward()`` visits the recorded Functions
from the loss back to the leaves, in reverse topological order, and adds each leaf's gradient
into its ``.grad``.

Every operation that is a ``Tensor`` method is defined here, each with its local derivative
right beside its forward: arithmetic (``+``, ``@``, ``exp``, ``sum``, indexing, ...) and the
activations (``relu``, ``sigmoid``, ``tanh``, ``softmax``, ``log_softmax``), whose forward and
backward are kernels of the active backend (``tinymed/kernels/*/activations.py``).  Fused
operations (convolution, pooling, losses, recurrent layers, attention, ...) live one family
per file in :mod:`tinymed.ops`, and :mod:`tinymed.nn.functional` gives them PyTorch's
signatures.
"""

from __future__ import annotations

import contextlib
import weakref

import numpy as np

from . import backend
from .random import generator

DEFAULT_DTYPE = np.float32

_grad_enabled = True


@contextlib.contextmanager
def no_grad():
    """Context manager: operations inside it record nothing and build no graph."""
    global _grad_enabled
    previous, _grad_enabled = _grad_enabled, False
    try:
        yield
    finally:
        _grad_enabled = previous


def is_grad_enabled() -> bool:
    return _grad_enabled


def unbroadcast(grad, shape):
    """Sum ``grad`` down to ``shape``: the adjoint of broadcasting ``shape`` up to ``grad.shape``.

    Broadcasting copies a value along new leading axes and along axes of length 1, so its
    gradient adds those copies back together.
    """
    if grad.shape == tuple(shape):
        return grad
    extra = grad.ndim - len(shape)
    if extra > 0:
        grad = grad.sum(axis=tuple(range(extra)))
    axes = tuple(i for i, n in enumerate(shape) if n == 1 and grad.shape[i] != 1)
    if axes:
        grad = grad.sum(axis=axes, keepdims=True)
    return grad.reshape(shape)


class Function:
    """One differentiable operation.

    Subclasses implement ``forward(self, *arrays, **kwargs) -> array`` and
    ``backward(self, grad) -> tuple`` with one gradient (or ``None``) per positional input.
    ``Function.apply`` unwraps tensors, runs forward, and records the node on the tape when
    any input requires a gradient.  ``needs_input_grad`` then says, per positional input,
    whether its gradient will be used, so a backward can skip work nobody reads (the input
    gradient of a network's first layer, for one).
    """

    inputs: tuple = ()
    needs_input_grad: tuple = ()
    versions: tuple = ()
    output = None
    returns_view = False  # True where the output may be a view of input 0 (reshape, permute, indexing)

    @classmethod
    def apply(cls, *args, **kwargs):
        fn = cls()
        raw = [a.data if isinstance(a, Tensor) else a for a in args]
        out = fn.forward(*raw, **kwargs)
        needs_grad = _grad_enabled and any(isinstance(a, Tensor) and a.requires_grad for a in args)
        result = Tensor(out, requires_grad=needs_grad)
        if cls.returns_view and isinstance(args[0], Tensor) and backend.array_module(out).may_share_memory(
                out, args[0].data):
            result._version = args[0]._version  # a view and its base count changes together, as in PyTorch
        if needs_grad:
            fn.inputs = args
            fn.needs_input_grad = tuple(isinstance(a, Tensor) and a.requires_grad for a in args)
            # the versions are cheap to note; which tensors were saved is asked only if one changed
            fn.versions = tuple(a._version[0] if isinstance(a, Tensor) else None for a in args) + (0,)
            fn.output = weakref.ref(result)
            result._fn = fn
        return result

    def check_saved_versions(self):
        """Raise if a tensor whose values this Function saved for backward was changed in place since
        (a tensor it only read, as ``Add`` does, may change freely, as in PyTorch)."""
        tensors = [(f"input {i}", a) for i, a in enumerate(self.inputs)] + [("output", self.output())]
        for (role, tensor), version in zip(tensors, self.versions):
            if isinstance(tensor, Tensor) and tensor._version[0] != version and _kept_by(self, tensor):
                raise RuntimeError(
                    "backward: one of the variables needed for gradient computation has been modified by an "
                    f"inplace operation: the {role} of {type(self).__name__} (a tensor of shape {tensor.shape}) "
                    f"is at version {tensor._version[0]}; expected version {version} instead. Change it "
                    "after backward() (as an optimizer step does), or compute the loss again after changing it."
                )

    def forward(self, *args, **kwargs):
        raise NotImplementedError(f"{type(self).__name__}.forward")

    def backward(self, grad):
        raise NotImplementedError(f"{type(self).__name__}.backward")

    def __repr__(self):
        return f"<{type(self).__name__}>"


def _kept_by(fn, tensor) -> bool:
    """Whether ``fn`` kept (an attribute shares memory with) the array of ``tensor`` for its backward."""
    may_share = backend.array_module(tensor.data).may_share_memory
    for name, value in vars(fn).items():
        if name in ("inputs", "output", "versions"):
            continue
        for a in value if isinstance(value, (tuple, list)) else (value,):
            if hasattr(a, "shape") and hasattr(a, "dtype") and may_share(tensor.data, a):
                return True
    return False


class _Freed:
    """Stands where a Function was, once ``backward()`` has freed it (without ``retain_graph``)."""

    inputs = ()

    def __init__(self, name):
        self.name = name


def _as_array(data, dtype):
    """Turn ``data`` into an array of the active backend; Python floats become float32."""
    if isinstance(data, Tensor):
        data = data.data
    from_python = not hasattr(data, "dtype")
    try:
        arr = backend.asarray(data)
    except (TypeError, ValueError) as err:
        raise TypeError(f"Tensor: data must be numbers (a number, nested lists of numbers or an array), "
                        f"got {type(data).__name__} ({err})") from None
    if arr.dtype.kind not in "biufc":
        raise TypeError(f"Tensor: data must be numbers (a number, nested lists of numbers or an array), "
                        f"got {type(data).__name__} of dtype {arr.dtype}")
    if dtype is not None:
        arr = arr.astype(dtype, copy=False)
    elif from_python and arr.dtype == np.float64:
        arr = arr.astype(DEFAULT_DTYPE)
    return arr


class Tensor:
    """An array with an optional gradient.

    ``Tensor(data, requires_grad=False, dtype=None)``: ``data`` is an array (its dtype is
    kept), a nested list or a number (floats become float32, as in PyTorch).
    """

    __array_priority__ = 100  # make ``ndarray * Tensor`` call Tensor.__rmul__

    def __init__(self, data, requires_grad: bool = False, dtype=None):
        array = _as_array(data, dtype)
        # the version counter is shared by tensors that share an array (Tensor(t), t.detach())
        shared = isinstance(data, Tensor) and array is data.data
        self._version = data._version if shared else [0]
        self._data = array
        if requires_grad and self.data.dtype.kind != "f":
            raise TypeError(
                f"Tensor: only floating-point tensors can require gradients, got dtype {self.data.dtype}"
            )
        self.requires_grad = bool(requires_grad)
        self.grad = None
        self._fn: Function | None = None

    # ----- the data and its version ---------------------------------------------------------
    @property
    def data(self):
        """The raw array of the active backend."""
        return self._data

    @data.setter
    def data(self, value):
        # ``t.data *= 2`` hands the same array back after changing it in place: count that, so a
        # backward that needs the old values refuses instead of computing a wrong gradient.
        # (Writes the tensor cannot see, ``t.data[0] = 1`` or ``out=t.data``, are not counted.)
        if value is self._data:
            self._version[0] += 1
        else:
            self._data = value

    # ----- basic properties -------------------------------------------------------------
    @property
    def shape(self):
        return tuple(self.data.shape)

    @property
    def dtype(self):
        return self.data.dtype

    @property
    def ndim(self):
        return self.data.ndim

    @property
    def size(self):
        return int(self.data.size)

    @property
    def is_leaf(self):
        return self._fn is None

    def __len__(self):
        return self.shape[0]

    def numpy(self):
        """A NumPy copy of the data (from any backend)."""
        return np.array(backend.to_numpy(self.data))

    def item(self):
        return self.data.item()

    def detach(self):
        """The same data (and the same version counter), cut off from the graph."""
        return Tensor(self)

    def astype(self, dtype):
        return Tensor(self.data.astype(dtype), requires_grad=self.requires_grad)

    def zero_grad(self):
        self.grad = None

    def __repr__(self):
        grad = ", requires_grad=True" if self.requires_grad else ""
        body = np.array2string(self.numpy(), precision=4, separator=", ", threshold=20)
        return f"Tensor({body}, dtype={self.dtype}{grad})"

    # ----- backward -------------------------------------------------------------------------
    def backward(self, grad=None, retain_graph=False):
        """Backpropagate from this tensor, adding gradients into every leaf's ``.grad``.

        ``grad`` defaults to 1 for a scalar; for a non-scalar tensor it must be given.  The
        graph is freed on the way (as PyTorch does), so a second ``backward`` through it raises
        unless the first was called with ``retain_graph=True``.  A tensor that a Function saved
        for its backward and that was changed in place since makes backward raise before any
        gradient is added.
        """
        if not self.requires_grad:
            raise RuntimeError(
                "backward: this tensor does not require a gradient (no input had requires_grad=True, "
                "or it was computed inside no_grad())"
            )
        xp = backend.array_module(self.data)
        if grad is None:
            if self.size != 1:
                raise RuntimeError(
                    f"backward: grad can be omitted only for a scalar output, got shape {self.shape}"
                )
            grad = xp.ones_like(self.data)
        else:
            grad = _as_array(grad, self.dtype)
            if grad.shape != self.data.shape:
                raise ValueError(f"backward: grad has shape {grad.shape}, expected {self.shape}")

        order = _topological_order(self)
        for node in order:
            if isinstance(node._fn, _Freed):
                raise RuntimeError(
                    f"backward: trying to backward through the graph a second time: the {node._fn.name} that "
                    "computed this part of it was freed by the first backward(). Call backward(retain_graph=True) "
                    "the first time if you need to go through it again, or compute the loss again."
                )
            if node._fn is not None:
                node._fn.check_saved_versions()
        grads = {id(self): grad}
        for node in order:
            g = grads.pop(id(node), None)
            if g is None:
                continue
            if node._fn is None:
                node.grad = g if node.grad is None else node.grad + g
                continue
            fn = node._fn
            input_grads = fn.backward(g)
            if not isinstance(input_grads, tuple):
                input_grads = (input_grads,)
            for inp, ig in zip(fn.inputs, input_grads):
                if ig is None or not isinstance(inp, Tensor) or not inp.requires_grad:
                    continue
                if ig.shape != inp.data.shape:
                    raise RuntimeError(
                        f"{type(fn).__name__}.backward returned a gradient of shape {ig.shape} "
                        f"for an input of shape {inp.shape}"
                    )
                prev = grads.get(id(inp))
                grads[id(inp)] = ig if prev is None else prev + ig
            if not retain_graph:  # free the graph as we go, as PyTorch does
                node._fn = _Freed(type(fn).__name__)

    # ----- arithmetic -------------------------------------------------------------------
    def __add__(self, other):
        return Add.apply(self, _lift(other, self))

    def __radd__(self, other):
        return Add.apply(_lift(other, self), self)

    def __sub__(self, other):
        return Sub.apply(self, _lift(other, self))

    def __rsub__(self, other):
        return Sub.apply(_lift(other, self), self)

    def __mul__(self, other):
        return Mul.apply(self, _lift(other, self))

    def __rmul__(self, other):
        return Mul.apply(_lift(other, self), self)

    def __truediv__(self, other):
        return Div.apply(self, _lift(other, self))

    def __rtruediv__(self, other):
        return Div.apply(_lift(other, self), self)

    def __neg__(self):
        return Neg.apply(self)

    def __pow__(self, exponent):
        if isinstance(exponent, Tensor):
            return exp(log(self) * exponent)
        return Pow.apply(self, exponent=exponent)

    def __matmul__(self, other):
        return MatMul.apply(self, _lift(other, self))

    def __rmatmul__(self, other):
        return MatMul.apply(_lift(other, self), self)

    # comparisons give plain boolean tensors (no gradient)
    def _compare(self, other, op):
        other = other.data if isinstance(other, Tensor) else other
        return Tensor(op(self.data, other))

    def __lt__(self, other):
        return self._compare(other, lambda a, b: a < b)

    def __le__(self, other):
        return self._compare(other, lambda a, b: a <= b)

    def __gt__(self, other):
        return self._compare(other, lambda a, b: a > b)

    def __ge__(self, other):
        return self._compare(other, lambda a, b: a >= b)

    # ----- reductions and shape ------------------------------------------------------
    def sum(self, dim=None, keepdim=False):
        return Sum.apply(self, axes=dim_indices("sum", self, dim), keepdim=keepdim)

    def mean(self, dim=None, keepdim=False):
        return Mean.apply(self, axes=dim_indices("mean", self, dim), keepdim=keepdim)

    def max(self, dim=None, keepdim=False):
        return Max.apply(self, axes=dim_indices("max", self, dim), keepdim=keepdim)

    def argmax(self, dim=None):
        xp = backend.array_module(self.data)
        axis = None if dim is None or self.ndim == 0 else dim_index("argmax", self, dim)
        return Tensor(xp.argmax(self.data, axis=axis))

    def reshape(self, *shape):
        if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
            shape = tuple(shape[0])
        return Reshape.apply(self, shape=shape)

    view = reshape

    def flatten(self, start_dim=0, end_dim=-1):
        start, end = dim_index("flatten", self, start_dim), dim_index("flatten", self, end_dim)
        if start > end:
            raise ValueError(f"flatten: start_dim={start_dim} comes after end_dim={end_dim} "
                             f"for a tensor of shape {self.shape}")
        if self.ndim == 0:
            return self.reshape(1)
        # the size spelled out, not -1: an empty batch leaves -1 undetermined
        flat = int(np.prod(self.shape[start:end + 1], dtype=np.int64))
        return self.reshape(self.shape[:start] + (flat,) + self.shape[end + 1:])

    def transpose(self, dim0=-2, dim1=-1):
        axes = list(range(self.ndim))
        dim0, dim1 = dim_index("transpose", self, dim0), dim_index("transpose", self, dim1)
        if self.ndim == 0:
            return self.reshape(())
        axes[dim0], axes[dim1] = axes[dim1], axes[dim0]
        return Permute.apply(self, axes=tuple(axes))

    def permute(self, *dims):
        if len(dims) == 1 and isinstance(dims[0], (tuple, list)):
            dims = tuple(dims[0])
        if len(dims) != self.ndim:
            raise ValueError(f"permute: expected {self.ndim} dimensions for a tensor of shape {self.shape}, "
                             f"got dims={dims}")
        axes = tuple(dim_index("permute", self, d) for d in dims)
        if len(set(axes)) != len(axes):
            raise ValueError(f"permute: a dimension appears more than once in dims={dims}")
        return Permute.apply(self, axes=axes)

    @property
    def T(self):
        return Permute.apply(self, axes=tuple(reversed(range(self.ndim))))

    def __getitem__(self, index):
        if isinstance(index, Tensor):
            index = index.data
        elif isinstance(index, tuple):
            index = tuple(i.data if isinstance(i, Tensor) else i for i in index)
        return Index.apply(self, index=index)

    # ----- elementwise functions --------------------------------------------------------
    def clamp(self, min=None, max=None):
        """Clip every element into ``[min, max]`` (either bound may be None)."""
        if min is None and max is None:
            raise ValueError("clamp: give at least one of min and max")
        if min is not None and max is not None and min > max:
            raise ValueError(f"clamp: min must be <= max, got min={min}, max={max}")
        return Clamp.apply(self, lo=min, hi=max)

    def exp(self):
        return Exp.apply(self)

    def log(self):
        return Log.apply(self)

    def relu(self):
        return ReLUFunction.apply(_floating("relu", self))

    def sigmoid(self):
        return SigmoidFunction.apply(_floating("sigmoid", self))

    def tanh(self):
        return TanhFunction.apply(_floating("tanh", self))

    def softmax(self, dim=-1):
        return SoftmaxFunction.apply(_floating("softmax", _at_least_1d("softmax", self)),
                                     dim=dim_index("softmax", self, dim))

    def log_softmax(self, dim=-1):
        return LogSoftmaxFunction.apply(_floating("log_softmax", _at_least_1d("log_softmax", self)),
                                        dim=dim_index("log_softmax", self, dim))


def _lift(value, like: Tensor):
    """Python numbers stay numbers (NumPy keeps the tensor's dtype); arrays become tensors."""
    if isinstance(value, Tensor):
        return value
    if isinstance(value, (int, float)):
        return value
    return Tensor(_as_array(value, None))


def _topological_order(root: Tensor) -> list:
    """Tensors reachable from ``root`` through recorded Functions, outputs before inputs."""
    order, seen = [], set()
    stack = [(root, False)]
    while stack:
        node, expanded = stack.pop()
        if expanded:
            order.append(node)
            continue
        if id(node) in seen:
            continue
        seen.add(id(node))
        stack.append((node, True))
        if node._fn is not None:
            for inp in node._fn.inputs:
                if isinstance(inp, Tensor) and inp.requires_grad and id(inp) not in seen:
                    stack.append((inp, False))
    order.reverse()
    return order


def _shape(x):
    return x.shape if hasattr(x, "shape") else ()


def _broadcastable(op, a, b):
    try:
        np.broadcast_shapes(_shape(a), _shape(b))
    except ValueError:
        raise ValueError(
            f"{op}: operands of shapes {tuple(_shape(a))} and {tuple(_shape(b))} cannot be broadcast together"
        ) from None


# ----- elementwise arithmetic ----------------------------------------------------------
class Add(Function):
    r""":math:`z = a + b`; :math:`\partial z/\partial a = \partial z/\partial b = 1`."""

    def forward(self, a, b):
        _broadcastable("add", a, b)
        self.shapes = _shape(a), _shape(b)
        return a + b

    def backward(self, g):
        return unbroadcast(g, self.shapes[0]), unbroadcast(g, self.shapes[1])


class Sub(Function):
    r""":math:`z = a - b`; :math:`\partial z/\partial a = 1,\ \partial z/\partial b = -1`."""

    def forward(self, a, b):
        _broadcastable("sub", a, b)
        self.shapes = _shape(a), _shape(b)
        return a - b

    def backward(self, g):
        return unbroadcast(g, self.shapes[0]), unbroadcast(-g, self.shapes[1])


class Mul(Function):
    r""":math:`z = ab`; :math:`\partial z/\partial a = b,\ \partial z/\partial b = a`."""

    def forward(self, a, b):
        _broadcastable("mul", a, b)
        self.a, self.b = a, b
        return a * b

    def backward(self, g):
        return unbroadcast(g * self.b, _shape(self.a)), unbroadcast(g * self.a, _shape(self.b))


class Div(Function):
    r""":math:`z = a/b`; :math:`\partial z/\partial a = 1/b,\ \partial z/\partial b = -a/b^2`."""

    def forward(self, a, b):
        _broadcastable("div", a, b)
        self.a, self.b = a, b
        return a / b

    def backward(self, g):
        ga = g / self.b
        return unbroadcast(ga, _shape(self.a)), unbroadcast(-ga * self.a / self.b, _shape(self.b))


class Neg(Function):
    def forward(self, a):
        return -a

    def backward(self, g):
        return (-g,)


class Pow(Function):
    r""":math:`z = a^p` for a constant :math:`p`; :math:`\partial z/\partial a = p\,a^{p-1}`."""

    def forward(self, a, exponent):
        self.a, self.p = a, exponent
        return a**exponent

    def backward(self, g):
        return (g * self.p * self.a ** (self.p - 1),)


class Exp(Function):
    r""":math:`z = e^a`; :math:`\partial z/\partial a = e^a = z`."""

    def forward(self, a):
        xp = backend.array_module(a)
        self.z = xp.exp(a)
        return self.z

    def backward(self, g):
        return (g * self.z,)


class Log(Function):
    r""":math:`z = \ln a`; :math:`\partial z/\partial a = 1/a`."""

    def forward(self, a):
        xp = backend.array_module(a)
        self.a = a
        return xp.log(a)

    def backward(self, g):
        return (g / self.a,)


# ----- activations: kernels of the active backend (tinymed/kernels/*/activations.py) ---------
def _floating(op, t: Tensor) -> Tensor:
    if t.dtype.kind != "f":
        raise TypeError(f"{op}: input must be floating point, got dtype {t.dtype}")
    return t


def _at_least_1d(op, t: Tensor) -> Tensor:
    if t.ndim == 0:
        raise ValueError(f"{op}: input must have at least one dimension, got a scalar")
    return t


def dim_index(op, t, dim) -> int:
    """``dim`` of a tensor (or of a number of dimensions ``t``) as an index in ``range(ndim)``,
    negative counting from the end -- the one check of every ``dim`` argument in tinymed, with
    PyTorch's rule and message.  A 0-d tensor accepts -1 and 0, as in PyTorch."""
    ndim = t if isinstance(t, (int, np.integer)) else t.ndim
    if isinstance(dim, (bool, np.bool_)) or not isinstance(dim, (int, np.integer)):
        raise TypeError(f"{op}: dim must be an integer, got {dim!r}")
    span = max(ndim, 1)
    if not -span <= dim < span:
        raise IndexError(f"{op}: Dimension out of range (expected to be in range of [{-span}, {span - 1}], "
                         f"but got {dim})")
    return int(dim) % span if ndim else 0


def dim_indices(op, t, dim) -> tuple:
    """``dim`` (None for all, an int, or a tuple/list of ints) as sorted distinct indices."""
    ndim = t if isinstance(t, (int, np.integer)) else t.ndim
    if dim is None:
        return tuple(range(ndim))
    dims = tuple(dim) if isinstance(dim, (tuple, list)) else (dim,)
    axes = [dim_index(op, ndim, d) for d in dims]
    if len(set(axes)) != len(axes):
        raise ValueError(f"{op}: a dimension appears more than once in dim={dim!r}")
    return tuple(a for a in axes if a < ndim) if ndim else ()


class ReLUFunction(Function):
    r""":math:`y = \max(x, 0)`; :math:`\partial y/\partial x = 1` where :math:`x > 0`, else 0
    (0 at the kink itself, as PyTorch)."""

    def forward(self, x):
        self.x = x
        return backend.kernel("relu_forward")(x)

    def backward(self, g):
        return (backend.kernel("relu_backward")(g, self.x),)


class SigmoidFunction(Function):
    r""":math:`y = \sigma(x) = 1/(1+e^{-x})`; :math:`\partial y/\partial x = y(1-y)`, from the output."""

    def forward(self, x):
        self.y = backend.kernel("sigmoid_forward")(x)
        return self.y

    def backward(self, g):
        return (backend.kernel("sigmoid_backward")(g, self.y),)


class TanhFunction(Function):
    r""":math:`y = \tanh x`; :math:`\partial y/\partial x = 1 - y^2`, from the output."""

    def forward(self, x):
        self.y = backend.kernel("tanh_forward")(x)
        return self.y

    def backward(self, g):
        return (backend.kernel("tanh_backward")(g, self.y),)


class SoftmaxFunction(Function):
    r""":math:`y_i = e^{x_i} / \sum_k e^{x_k}` along ``dim``; backward
    :math:`dx_i = y_i\,(g_i - \sum_k g_k y_k)` (a Jacobian-vector product, no Jacobian built)."""

    def forward(self, x, dim):
        self.dim = dim
        self.y = backend.kernel("softmax_forward")(x, dim)
        return self.y

    def backward(self, g):
        return (backend.kernel("softmax_backward")(g, self.y, self.dim),)


class LogSoftmaxFunction(Function):
    r""":math:`y_i = x_i - \log\sum_k e^{x_k}` along ``dim`` (stable); backward
    :math:`dx_i = g_i - e^{y_i} \sum_k g_k`."""

    def forward(self, x, dim):
        self.dim = dim
        self.y = backend.kernel("log_softmax_forward")(x, dim)
        return self.y

    def backward(self, g):
        return (backend.kernel("log_softmax_backward")(g, self.y, self.dim),)


class Clamp(Function):
    """``min(max(a, lo), hi)``; the gradient passes where ``lo <= a <= hi`` and is 0 where
    the value was clipped (PyTorch's convention, also at the bounds themselves)."""

    def forward(self, a, lo, hi):
        xp = backend.array_module(a)
        inside = xp.ones(a.shape, dtype=bool)
        if lo is not None:
            inside &= a >= lo
        if hi is not None:
            inside &= a <= hi
        self.inside = inside
        return xp.clip(a, lo, hi)

    def backward(self, g):
        return (g * self.inside,)


class MatMul(Function):
    r"""NumPy's ``matmul``: 1-D operands are promoted (and the added axis removed), leading
    axes broadcast.  :math:`\partial L/\partial A = G B^\top`, :math:`\partial L/\partial B = A^\top G`."""

    def forward(self, a, b):
        if a.ndim == 0 or b.ndim == 0:
            raise ValueError("matmul: both operands must have at least one dimension, got a scalar")
        if a.shape[-1] != b.shape[-2 if b.ndim > 1 else 0]:
            raise ValueError(
                f"matmul: inner dimensions differ: {tuple(a.shape)} @ {tuple(b.shape)}"
            )
        self.a, self.b = a, b
        return a @ b

    def backward(self, g):
        a, b = self.a, self.b
        a2 = a.reshape(1, -1) if a.ndim == 1 else a
        b2 = b.reshape(-1, 1) if b.ndim == 1 else b
        # put back the axes that 1-D promotion removed from the output
        if a.ndim == 1:
            g = g[..., None, :] if b.ndim > 1 else g[..., None]
        if b.ndim == 1:
            g = g[..., None]
        ga = g @ b2.swapaxes(-1, -2)
        gb = a2.swapaxes(-1, -2) @ g
        ga = unbroadcast(ga, a2.shape).reshape(a.shape)
        gb = unbroadcast(gb, b2.shape).reshape(b.shape)
        return ga, gb


# ----- reductions --------------------------------------------------------------------------
def _expand(g, shape, axes, keepdim):
    """Re-insert reduced axes so ``g`` broadcasts against the input."""
    if not keepdim:
        for ax in sorted(axes):
            g = g.reshape(g.shape[:ax] + (1,) + g.shape[ax:])
    return g


class Sum(Function):
    r""":math:`z = \sum_i a_i`; every :math:`a_i` receives the gradient unchanged."""

    def forward(self, a, axes, keepdim=False):
        xp = backend.array_module(a)
        self.shape, self.axes, self.keepdim = a.shape, axes, keepdim
        return xp.sum(a, axis=axes, keepdims=keepdim)

    def backward(self, g):
        xp = backend.array_module(g)
        g = _expand(g, self.shape, self.axes, self.keepdim)
        return (xp.broadcast_to(g, self.shape).copy(),)


class Mean(Function):
    r""":math:`z = \frac1n\sum_i a_i`; every :math:`a_i` receives :math:`g/n`."""

    def forward(self, a, axes, keepdim=False):
        xp = backend.array_module(a)
        self.shape, self.axes, self.keepdim = a.shape, axes, keepdim
        self.count = int(np.prod([a.shape[ax] for ax in axes]))
        return xp.mean(a, axis=axes, keepdims=keepdim)

    def backward(self, g):
        xp = backend.array_module(g)
        g = _expand(g, self.shape, self.axes, self.keepdim) / self.count
        return (xp.broadcast_to(g, self.shape).copy(),)


class Max(Function):
    r""":math:`z = \max_i a_i`.  The gradient goes to the maximum; ties share it equally
    (a valid subgradient, and the same as PyTorch's ``amax``)."""

    def forward(self, a, axes, keepdim=False):
        xp = backend.array_module(a)
        self.a, self.axes, self.keepdim = a, axes, keepdim
        self.z = xp.max(a, axis=self.axes, keepdims=True)
        return self.z if keepdim else xp.squeeze(self.z, axis=self.axes)

    def backward(self, g):
        xp = backend.array_module(g)
        winners = self.a == self.z
        share = winners / xp.sum(winners, axis=self.axes, keepdims=True)
        return ((_expand(g, self.a.shape, self.axes, self.keepdim) * share).astype(g.dtype),)


# ----- shape -----------------------------------------------------------------------------
class Reshape(Function):
    returns_view = True

    def forward(self, a, shape):
        self.shape = a.shape
        try:
            return a.reshape(shape)
        except ValueError:
            raise ValueError(f"reshape: cannot reshape {tuple(a.shape)} into {tuple(shape)}") from None

    def backward(self, g):
        return (g.reshape(self.shape),)


class Permute(Function):
    returns_view = True

    def forward(self, a, axes):
        xp = backend.array_module(a)
        if sorted(ax % a.ndim for ax in axes) != list(range(a.ndim)):
            raise ValueError(f"permute: {axes} is not a permutation of the {a.ndim} axes")
        self.axes = axes
        return xp.transpose(a, axes)

    def backward(self, g):
        xp = backend.array_module(g)
        return (xp.transpose(g, tuple(np.argsort([ax % g.ndim for ax in self.axes]))),)


def _basic_index(index) -> bool:
    """True for basic indexing (ints, slices, None, ...): it picks every element at most once."""
    parts = index if isinstance(index, tuple) else (index,)
    return all(p is None or p is Ellipsis or isinstance(p, (int, np.integer, slice)) for p in parts)


def _index_on(xp, index):
    """``index`` with its integer or boolean arrays on the device of ``xp``, so the gather forward and
    the scatter-add backward (``xp.add.at``) see device arrays only."""
    if xp is np:
        return index
    if isinstance(index, tuple):
        return tuple(_index_on(xp, part) for part in index)
    return xp.asarray(index) if isinstance(index, np.ndarray) else index


class Index(Function):
    """``a[index]`` for basic and advanced indexing; the backward scatter-adds, so an
    element picked twice receives both gradients."""

    returns_view = True

    def forward(self, a, index):
        index = _index_on(backend.array_module(a), index)
        self.shape, self.dtype, self.index = a.shape, a.dtype, index
        return a[index]

    def backward(self, g):
        xp = backend.array_module(g)
        out = xp.zeros(self.shape, dtype=g.dtype)
        if _basic_index(self.index):
            out[self.index] = g  # no element is picked twice: a plain copy
        else:
            xp.add.at(out, self.index, g)  # unbuffered: repeated indices accumulate
        return (out,)


# ----- functional forms ----------------------------------------------------------------
def tensor(data, requires_grad=False, dtype=None) -> Tensor:
    return Tensor(data, requires_grad=requires_grad, dtype=dtype)


def exp(x: Tensor) -> Tensor:
    return Exp.apply(x)


def log(x: Tensor) -> Tensor:
    return Log.apply(x)


def matmul(a, b) -> Tensor:
    return MatMul.apply(a, b)


def zeros(*shape, dtype=DEFAULT_DTYPE, requires_grad=False) -> Tensor:
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        shape = tuple(shape[0])
    return Tensor(backend.xp().zeros(shape, dtype=dtype), requires_grad=requires_grad)


def ones(*shape, dtype=DEFAULT_DTYPE, requires_grad=False) -> Tensor:
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        shape = tuple(shape[0])
    return Tensor(backend.xp().ones(shape, dtype=dtype), requires_grad=requires_grad)


def randn(*shape, dtype=DEFAULT_DTYPE, requires_grad=False) -> Tensor:
    """Standard normal samples from tinymed's seeded generator."""
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        shape = tuple(shape[0])
    return Tensor(generator().standard_normal(shape).astype(dtype), requires_grad=requires_grad)
