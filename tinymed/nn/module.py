"""``Module`` and ``Parameter``: the containers every layer and model is built from.

A Module owns Parameters (tensors that an optimizer updates) and sub-Modules, found by
attribute assignment exactly as in PyTorch, so ``state_dict()`` keys (``"conv1.weight"``,
``"0.bias"``, ...) match PyTorch's for the same architecture and weights can be exchanged.
"""

from __future__ import annotations

from collections import OrderedDict

import numpy as np

from .. import backend
from ..autograd import Tensor


class Parameter(Tensor):
    """A Tensor that is a learnable parameter of a Module (``requires_grad=True`` by default)."""

    def __init__(self, data, requires_grad: bool = True, dtype=None):
        super().__init__(data, requires_grad=requires_grad, dtype=dtype)

    def __repr__(self):
        return "Parameter containing:\n" + super().__repr__()


class RemovableHandle:
    """What ``register_forward_hook`` returns: ``handle.remove()`` unregisters the hook."""

    _next_id = 0

    def __init__(self, hooks: OrderedDict, hook):
        self.hooks, self.id = hooks, RemovableHandle._next_id
        RemovableHandle._next_id += 1
        hooks[self.id] = hook

    def remove(self) -> None:
        self.hooks.pop(self.id, None)


class Module:
    """Base class of layers and models: subclass it, create layers in ``__init__``, and write
    ``forward``.  Calling the module calls ``forward``."""

    def __init__(self):
        object.__setattr__(self, "_parameters", OrderedDict())
        object.__setattr__(self, "_modules", OrderedDict())
        object.__setattr__(self, "_buffers", OrderedDict())
        object.__setattr__(self, "_forward_pre_hooks", OrderedDict())
        object.__setattr__(self, "_forward_hooks", OrderedDict())
        object.__setattr__(self, "training", True)

    # ----- registration by attribute assignment -----------------------------------------
    def __setattr__(self, name, value):
        if "_parameters" not in self.__dict__:
            raise AttributeError(
                f"{type(self).__name__}: call super().__init__() before assigning attributes"
            )
        for store in (self._parameters, self._modules, self._buffers):
            store.pop(name, None)
        if isinstance(value, Parameter):
            self._parameters[name] = value
        elif isinstance(value, Module):
            self._modules[name] = value
        else:
            object.__setattr__(self, name, value)

    def __getattr__(self, name):
        # only called when normal lookup fails: look in the registries
        for store in ("_parameters", "_modules", "_buffers"):
            registry = self.__dict__.get(store)
            if registry is not None and name in registry:
                return registry[name]
        raise AttributeError(f"'{type(self).__name__}' object has no attribute '{name}'")

    def __delattr__(self, name):
        for store in (self._parameters, self._modules, self._buffers):
            if name in store:
                del store[name]
                return
        object.__delattr__(self, name)

    def register_parameter(self, name: str, param: Parameter | None) -> None:
        """Add a parameter (``None`` records an absent one, e.g. ``bias=False``)."""
        self._parameters[name] = param

    def register_buffer(self, name: str, tensor) -> None:
        """Add state that is saved in ``state_dict`` but not trained (e.g. running statistics)."""
        self._buffers[name] = tensor if isinstance(tensor, Tensor) or tensor is None else Tensor(tensor)

    def add_module(self, name: str, module: Module | None) -> None:
        self._modules[name] = module

    # ----- calling ------------------------------------------------------------------------
    def forward(self, *args, **kwargs):
        raise NotImplementedError(f"{type(self).__name__} must define forward()")

    def __call__(self, *args, **kwargs):
        for hook in list(self._forward_pre_hooks.values()):
            changed = hook(self, args)
            if changed is not None:
                args = changed if isinstance(changed, tuple) else (changed,)
        output = self.forward(*args, **kwargs)
        for hook in list(self._forward_hooks.values()):
            changed = hook(self, args, output)
            if changed is not None:
                output = changed
        return output

    # ----- hooks, as PyTorch's: what pruning, attributions and inspection plug in ---------------
    def register_forward_pre_hook(self, hook) -> RemovableHandle:
        """Call ``hook(module, args)`` before every ``forward``; a result other than None replaces
        the positional arguments.  Returns a handle whose ``remove()`` takes the hook away."""
        return RemovableHandle(self._forward_pre_hooks, hook)

    def register_forward_hook(self, hook) -> RemovableHandle:
        """Call ``hook(module, args, output)`` after every ``forward``; a result other than None
        replaces the output.  Returns a handle whose ``remove()`` takes the hook away."""
        return RemovableHandle(self._forward_hooks, hook)

    # ----- traversal ---------------------------------------------------------------------
    def named_children(self):
        for name, module in self._modules.items():
            if module is not None:
                yield name, module

    def children(self):
        for _, module in self.named_children():
            yield module

    def named_modules(self, prefix: str = ""):
        """This module and every module inside it, depth first, with dotted names."""
        yield prefix, self
        for name, child in self.named_children():
            yield from child.named_modules(f"{prefix}.{name}" if prefix else name)

    def modules(self):
        for _, module in self.named_modules():
            yield module

    def _named_members(self, store: str, prefix: str, recurse: bool):
        seen = set()
        modules = self.named_modules(prefix) if recurse else [(prefix, self)]
        for module_prefix, module in modules:
            for name, value in getattr(module, store).items():
                if value is None or id(value) in seen:
                    continue
                seen.add(id(value))
                yield (f"{module_prefix}.{name}" if module_prefix else name), value

    def named_parameters(self, prefix: str = "", recurse: bool = True):
        """``(name, Parameter)`` pairs; a parameter shared by two layers appears once."""
        return self._named_members("_parameters", prefix, recurse)

    def parameters(self, recurse: bool = True):
        for _, p in self.named_parameters(recurse=recurse):
            yield p

    def named_buffers(self, prefix: str = "", recurse: bool = True):
        return self._named_members("_buffers", prefix, recurse)

    def num_parameters(self) -> int:
        """Number of scalar parameters."""
        return sum(p.size for p in self.parameters())

    def apply(self, fn):
        """Call ``fn(module)`` on every sub-module, then on this one (as PyTorch does)."""
        for child in self.children():
            child.apply(fn)
        fn(self)
        return self

    # ----- modes and gradients -----------------------------------------------------------
    def train(self, mode: bool = True):
        """Training mode (dropout active); ``eval()`` switches it off.  Returns ``self``."""
        for module in self.modules():
            object.__setattr__(module, "training", bool(mode))
        return self

    def eval(self):
        return self.train(False)

    def zero_grad(self) -> None:
        """Forget the gradients of every parameter (set them to None)."""
        for p in self.parameters():
            p.grad = None

    def to(self, dtype):
        """Cast every parameter and buffer to ``dtype`` in place (e.g. ``np.float64`` for a
        gradient check); gradients are dropped.  Returns ``self``."""
        for _, t in list(self.named_parameters()) + list(self.named_buffers()):
            t.data = t.data.astype(dtype)
            t.grad = None
        return self

    def double(self):
        return self.to(np.float64)

    def float(self):
        return self.to(np.float32)

    # ----- state ---------------------------------------------------------------------------
    def state_dict(self) -> OrderedDict:
        """Every parameter and buffer as a NumPy copy, under PyTorch's dotted names."""
        state = OrderedDict()
        for name, t in list(self.named_parameters()) + list(self.named_buffers()):
            state[name] = t.numpy()
        return state

    def load_state_dict(self, state_dict, strict: bool = True):
        """Copy values from ``state_dict`` into this module's parameters and buffers.

        Everything is checked before anything is assigned, so a wrong file leaves the model
        exactly as it was.  With ``strict`` (the default) missing and unexpected keys are
        errors; without, they are returned as ``(missing_keys, unexpected_keys)``.
        """
        own = OrderedDict(list(self.named_parameters()) + list(self.named_buffers()))
        given = {k: v for k, v in state_dict.items()}
        missing = [k for k in own if k not in given]
        unexpected = [k for k in given if k not in own]
        name = type(self).__name__
        if strict and (missing or unexpected):
            parts = []
            if missing:
                parts.append(f"missing keys {missing}")
            if unexpected:
                parts.append(f"unexpected keys {unexpected}")
            raise KeyError(f"{name}.load_state_dict: " + "; ".join(parts))
        updates = []
        for key, target in own.items():
            if key not in given:
                continue
            value = backend.to_numpy(given[key].data if isinstance(given[key], Tensor) else given[key])
            if tuple(value.shape) != target.shape:
                raise ValueError(
                    f"{name}.load_state_dict: '{key}' has shape {tuple(value.shape)} in the state dict "
                    f"but {target.shape} in the model"
                )
            if value.dtype.kind not in "fiub":
                raise TypeError(f"{name}.load_state_dict: '{key}' holds dtype {value.dtype}, not numbers")
            updates.append((target, value))
        for target, value in updates:
            target.data = backend.asarray(value.astype(target.dtype, copy=True))
            target.grad = None
        return missing, unexpected

    # ----- printing --------------------------------------------------------------------------
    def extra_repr(self) -> str:
        """What to print inside the parentheses (layer settings)."""
        return ""

    def __repr__(self):
        children = list(self.named_children())
        if not children:
            return f"{type(self).__name__}({self.extra_repr()})"
        lines = [f"{type(self).__name__}("]
        for name, child in children:
            body = repr(child).replace("\n", "\n  ")
            lines.append(f"  ({name}): {body}")
        lines.append(")")
        return "\n".join(lines)

    def summary(self) -> str:
        """A table of every parameter: name, shape, count; and the total."""
        rows = [(n, str(p.shape), p.size) for n, p in self.named_parameters()]
        width = max([len(r[0]) for r in rows] + [9])
        lines = [f"{'parameter':{width}s}  {'shape':16s}  {'count':>9s}"]
        lines += [f"{n:{width}s}  {s:16s}  {c:9d}" for n, s, c in rows]
        lines.append(f"{'total':{width}s}  {'':16s}  {self.num_parameters():9d}")
        return "\n".join(lines)
