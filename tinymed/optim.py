r"""Optimizers, gradient clipping and learning-rate schedules (article formulas F9--F11).

Every optimizer changes each parameter's ``.data`` in place from its ``.grad``; parameters
whose ``.grad`` is ``None`` are skipped.  The update rules and defaults are PyTorch's
(``torch.optim``), written out one formula at a time.  Notation in the docstrings:
:math:`\theta` a parameter, :math:`g_t = \nabla_\theta L(\theta_t)` its gradient at step
:math:`t = 1, 2, \dots`, :math:`\alpha` the learning rate ``lr``, :math:`\lambda` the weight
decay.

Two ways to build one:

* PyTorch style, parameters first: ``SGD(model.parameters(), lr=0.1, momentum=0.9)``;
* Keras style, parameters later: ``opt = SGD(learning_rate=0.01)``, then ``opt.bind(params)``
  (``Sequential.compile`` does this).  ``get("adam")`` builds one from a Keras name.

``opt.lr`` (alias ``opt.learning_rate``) may be changed at any time; the schedules below do
exactly that.  ``state_dict()`` is a flat ``{str: NumPy array or number}`` dict, so it can be
written with ``numpy.savez``; ``load_state_dict`` restores it so that training continues bit
for bit as if never interrupted.

Keras-style clipping arguments (at most one of them): ``clipvalue`` clamps each gradient
element to :math:`[-c, c]`; ``clipnorm`` rescales each parameter's gradient to norm at most
:math:`c`; ``global_clipnorm`` rescales all gradients together to total norm at most
:math:`c`.  They act on the gradient the optimizer uses and leave ``p.grad`` unchanged.
"""

from __future__ import annotations

import math

import numpy as np

from .autograd import Tensor
from .backend import array_module, to_numpy

__all__ = [
    "Optimizer", "GD", "SGD", "AdaGrad", "Adagrad", "RMSprop", "Adam", "AdamW",
    "clip_grad_norm_", "clip_grad_value_",
    "LRScheduler", "InverseSqrtLR", "StepLR", "ExponentialLR", "CosineAnnealingLR",
    "get",
]

_CLIP_OPTIONS = ("clipnorm", "clipvalue", "global_clipnorm")


# ----- argument checks ---------------------------------------------------------------------
def _number(owner, name, value, minimum=0.0, below=None):
    """``value`` as a float, checked to lie in ``[minimum, below)``; errors name the owner."""
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise TypeError(f"{owner}: {name} must be a number, got {value!r}")
    value = float(value)
    if not math.isfinite(value) or value < minimum or (below is not None and value >= below):
        interval = f"[{minimum}, {below})" if below is not None else f">= {minimum}"
        raise ValueError(f"{owner}: {name} must be finite and {interval}, got {value}")
    return value


def _scalar(value):
    """A Python number from a number or a 0-d array (``numpy.load`` returns the latter)."""
    if isinstance(value, np.ndarray) and value.ndim == 0:
        return value.item()
    if isinstance(value, np.generic):
        return value.item()
    return value


# ----- the base class ----------------------------------------------------------------------
class Optimizer:
    """Base class: parameter binding, clipping, ``step``, ``zero_grad`` and state dicts.

    A subclass lists its hyperparameters in ``_hyper`` and its per-parameter buffers in
    ``_buffers``, and implements ``_update(p, g, state)``: the update of one parameter ``p``
    in place, from its (clipped) gradient ``g`` and its state dict (empty on its first step).
    """

    _hyper: tuple = ()
    _buffers: tuple = ()

    def __init__(self, params=None, lr=1e-3, **options):
        name = type(self).__name__
        learning_rate = options.pop("learning_rate", None)
        unknown = sorted(set(options) - set(_CLIP_OPTIONS))
        if unknown:
            valid = ("params", "lr", "learning_rate") + self._hyper + _CLIP_OPTIONS
            raise TypeError(f"{name}: unknown argument(s) {unknown}; valid ones are {list(valid)}")
        self.lr = lr if learning_rate is None else learning_rate
        clips = {k: options[k] for k in _CLIP_OPTIONS if options.get(k) is not None}
        if len(clips) > 1:
            raise ValueError(f"{name}: give at most one of clipnorm, clipvalue, global_clipnorm; got {sorted(clips)}")
        for key in _CLIP_OPTIONS:
            setattr(self, key, _number(name, key, clips[key]) if key in clips else None)
        self.iterations = 0
        self.state: dict = {}
        self._params = None
        self._pending_state = None
        if params is not None:
            self.bind(params)

    # lr is a property so that every assignment (by a schedule, a callback, a user) is checked
    @property
    def lr(self) -> float:
        return self._lr

    @lr.setter
    def lr(self, value):
        self._lr = _number(type(self).__name__, "lr", value)

    learning_rate = lr  # the Keras name of the same attribute

    @property
    def params(self) -> list:
        return [] if self._params is None else list(self._params)

    def bind(self, params):
        """Attach the parameters to optimize (Keras style); returns the optimizer.

        Binding the same parameters again keeps the optimizer's state; other parameters
        start it afresh.
        """
        name = type(self).__name__
        if isinstance(params, Tensor):
            params = [params]
        elif isinstance(params, (int, float)):
            raise TypeError(
                f"{name}: params must be an iterable of Tensors, got the number {params!r}; "
                f"for Keras style write {name}(learning_rate={params!r})"
            )
        try:
            params = list(params)
        except TypeError:
            raise TypeError(f"{name}: params must be an iterable of Tensors, got {type(params).__name__}") from None
        if not params:
            raise ValueError(f"{name}: got an empty parameter list")
        for i, p in enumerate(params):
            if isinstance(p, dict):
                raise TypeError(f"{name}: parameter groups (dicts) are not supported; pass one iterable of Tensors")
            if not isinstance(p, Tensor):
                raise TypeError(f"{name}: parameter {i} is a {type(p).__name__}, expected a Tensor")
            if p.dtype.kind != "f":
                raise TypeError(f"{name}: parameter {i} must be floating point, got dtype {p.dtype}")
        if len({id(p) for p in params}) != len(params):
            raise ValueError(f"{name}: the same parameter appears more than once in params")
        same = self._params is not None and [id(p) for p in params] == [id(p) for p in self._params]
        if not same:
            self.state = {}
        self._params = params
        if self._pending_state is not None:
            pending, self._pending_state = self._pending_state, None
            self._load_buffers(pending)
        return self

    def _require_params(self, what):
        if self._params is None:
            name = type(self).__name__
            raise RuntimeError(
                f"{name}.{what}: no parameters are bound to this optimizer; build it as "
                f"{name}(model.parameters(), ...) or call .bind(params) (Sequential.compile does)"
            )
        return self._params

    def zero_grad(self, set_to_none: bool = True):
        """Forget the gradients: set every ``p.grad`` to ``None`` (or to zeros)."""
        for p in self._require_params("zero_grad"):
            if p.grad is not None:
                p.grad = None if set_to_none else array_module(p.grad).zeros_like(p.grad)

    def step(self, closure=None):
        """One update of every bound parameter that has a gradient.

        ``closure``, if given, is called first (it should recompute the loss and call
        ``backward``); its result is returned, as in PyTorch.
        """
        params = self._require_params("step")
        loss = closure() if closure is not None else None
        for i, (p, g) in enumerate(zip(params, self._gradients(params))):
            if g is not None:
                self._update(p, g, self.state.setdefault(i, {}))
        self.iterations += 1
        return loss

    def _update(self, p, g, state):
        raise NotImplementedError(f"{type(self).__name__}._update")

    def _gradients(self, params):
        """Each parameter's gradient after Keras-style clipping (``None`` where it has none)."""
        name = type(self).__name__
        grads = []
        for i, p in enumerate(params):
            if p.grad is not None and tuple(p.grad.shape) != p.shape:
                raise ValueError(
                    f"{name}: parameter {i} has shape {p.shape} but its grad has shape {tuple(p.grad.shape)}"
                )
            grads.append(p.grad)
        if self.clipvalue is not None:
            c = self.clipvalue
            return [None if g is None else array_module(g).clip(g, -c, c) for g in grads]
        if self.clipnorm is not None:
            return [None if g is None else g * (self.clipnorm / max(_norm(g, 2.0), self.clipnorm)) for g in grads]
        if self.global_clipnorm is not None:
            total = _total_norm([g for g in grads if g is not None], 2.0)
            scale = self.global_clipnorm / max(total, self.global_clipnorm)
            return [None if g is None else g * scale for g in grads]
        return grads

    # ----- state dicts ------------------------------------------------------------------
    def state_dict(self) -> dict:
        """A flat dict of NumPy arrays and Python numbers: hyperparameters, counters, buffers.

        Keys: ``"lr"``, ``"iterations"``, each hyperparameter (``"momentum"``, ``"betas"``,
        ...), the clipping option in use, ``"num_params"`` once bound, and
        ``"state.<i>.<buffer>"`` for parameter ``i`` (e.g. ``"state.0.exp_avg"``,
        ``"state.0.step"``).
        """
        d = {"lr": self.lr, "iterations": self.iterations}
        for key in self._hyper:
            value = getattr(self, key)
            d[key] = np.array(value, dtype=np.float64) if isinstance(value, tuple) else value
        for key in _CLIP_OPTIONS:
            if getattr(self, key) is not None:
                d[key] = getattr(self, key)
        if self._params is not None:
            d["num_params"] = len(self._params)
        for i in sorted(self.state):
            for key, value in self.state[i].items():
                d[f"state.{i}.{key}"] = np.array(to_numpy(value)) if hasattr(value, "shape") else value
        return d

    def load_state_dict(self, state_dict: dict) -> None:
        """Restore hyperparameters, counters and buffers saved by :meth:`state_dict`.

        If no parameters are bound yet, the buffers are kept and checked at :meth:`bind`.
        """
        name = type(self).__name__
        d = dict(state_dict)
        buffers, unknown = {}, []
        for key in list(d):
            parts = key.split(".")
            if parts[0] == "state":
                if len(parts) != 3 or not parts[1].isdigit() or parts[2] not in self._buffers:
                    unknown.append(key)
                else:
                    buffers.setdefault(int(parts[1]), {})[parts[2]] = d.pop(key)
        required = ("lr", "iterations") + self._hyper
        known = set(required) | set(_CLIP_OPTIONS) | {"num_params"}
        unknown += [k for k in d if k not in known]
        missing = [k for k in required if k not in d]
        if unknown or missing:
            raise ValueError(
                f"{name}.load_state_dict: this is not a {name} state dict "
                f"(unexpected keys {sorted(unknown)}, missing keys {missing})"
            )
        num_params = _scalar(d.get("num_params", None))
        if num_params is not None and self._params is not None and num_params != len(self._params):
            raise ValueError(
                f"{name}.load_state_dict: the state dict is for {num_params} parameters, "
                f"this optimizer has {len(self._params)}"
            )
        self.lr = _scalar(d["lr"])
        self.iterations = int(_scalar(d["iterations"]))
        for key in self._hyper:
            value = d[key]
            setattr(self, key, tuple(float(v) for v in value) if np.ndim(value) == 1 else _scalar(value))
        for key in _CLIP_OPTIONS:
            setattr(self, key, float(_scalar(d[key])) if key in d else None)
        if self._params is None:
            self._pending_state = buffers
        else:
            self._load_buffers(buffers)

    def _load_buffers(self, buffers):
        name = type(self).__name__
        state = {}
        for i, saved in buffers.items():
            if i >= len(self._params):
                raise ValueError(
                    f"{name}.load_state_dict: state for parameter {i}, but only {len(self._params)} are bound"
                )
            p = self._params[i]
            state[i] = {}
            for key, value in saved.items():
                if key == "step":
                    state[i][key] = int(_scalar(value))
                    continue
                value = np.asarray(value)
                if value.shape != p.shape:
                    raise ValueError(
                        f"{name}.load_state_dict: state.{i}.{key} has shape {value.shape}, "
                        f"parameter {i} has shape {p.shape}"
                    )
                state[i][key] = array_module(p.data).asarray(value, dtype=p.dtype).copy()
        self.state = state

    def __repr__(self):
        args = [f"lr={self.lr}"] + [f"{k}={getattr(self, k)!r}" for k in self._hyper]
        args += [f"{k}={getattr(self, k)}" for k in _CLIP_OPTIONS if getattr(self, k) is not None]
        return f"{type(self).__name__}({', '.join(args)})"


# ----- the optimizers ----------------------------------------------------------------------
class GD(Optimizer):
    r"""Gradient descent, F10: :math:`\theta_{t+1} = \theta_t - \alpha\,\nabla_\theta L(\theta_t)`.

    "Full batch": the loss is over the whole training set, so :math:`\nabla L` is the exact
    gradient (SGD uses the same rule with the gradient of a mini-batch).
    ``GD(params=None, lr=0.01)``.
    """

    def __init__(self, params=None, lr=0.01, **options):
        super().__init__(params, lr, **options)

    def _update(self, p, g, state):
        p.data -= self.lr * g


class SGD(Optimizer):
    r"""Stochastic gradient descent with optional momentum, PyTorch's ``torch.optim.SGD``.

    ``SGD(params=None, lr=1e-3, momentum=0, dampening=0, weight_decay=0, nesterov=False)``.

    Weight decay adds :math:`\lambda\theta` to the gradient: :math:`g_t \leftarrow g_t + \lambda\theta_t`.
    Without momentum: :math:`\theta_{t+1} = \theta_t - \alpha g_t`.

    **Momentum** is the article's heavy-ball form (F10, 003 §4.2), with
    :math:`\theta_0 - \theta_{-1} = 0`:

    .. math:: \theta_{t+1} = \theta_t - \alpha g_t + \beta(\theta_t - \theta_{t-1})

    so the optimizer keeps :math:`\theta_{t-1}` (buffer ``previous_param``).  PyTorch writes the
    same method with a velocity :math:`v`:

    .. math:: v_t = \beta v_{t-1} + g_t,\quad v_1 = g_1,\qquad \theta_{t+1} = \theta_t - \alpha v_t .

    *Same path at constant* :math:`\alpha`: the velocity form gives
    :math:`\theta_t - \theta_{t-1} = -\alpha v_{t-1}`, hence
    :math:`\theta_{t+1} = \theta_t - \alpha g_t - \alpha\beta v_{t-1}
    = \theta_t - \alpha g_t + \beta(\theta_t - \theta_{t-1})`.
    With dampening :math:`d` PyTorch uses :math:`v_t = \beta v_{t-1} + (1-d) g_t` (but
    :math:`v_1 = g_1`), so here :math:`\alpha g_t` becomes :math:`\alpha(1-d) g_t` from the second
    step on.

    *When* :math:`\alpha` *changes* (a schedule) the two differ.  PyTorch's step

    .. math:: -\alpha_t g_t - \alpha_t\beta v_{t-1}
              = -\alpha_t g_t + \beta\frac{\alpha_t}{\alpha_{t-1}}(\theta_t - \theta_{t-1})

    rescales the whole remembered velocity to the new rate at once; the heavy-ball form keeps
    the last displacement as it was and applies the new rate only to the new gradient.
    tinymed follows the article's form, which is also Keras/TensorFlow's SGD
    (:math:`v \leftarrow \beta v - \alpha g,\ \theta \leftarrow \theta + v`, Sutskever et al. 2013).

    Because the momentum term is the displacement actually taken, changing ``p.data`` by hand
    between two steps (e.g. loading other weights) also counts as a displacement; create a new
    optimizer after replacing weights.

    **Nesterov** momentum is PyTorch's, with a velocity buffer (``momentum_buffer``):
    :math:`v_t = \beta v_{t-1} + g_t`, :math:`\theta_{t+1} = \theta_t - \alpha(g_t + \beta v_t)`;
    it needs ``momentum > 0`` and ``dampening == 0``.
    """

    _hyper = ("momentum", "dampening", "weight_decay", "nesterov")
    _buffers = ("previous_param", "momentum_buffer")

    def __init__(self, params=None, lr=1e-3, momentum=0.0, dampening=0.0, weight_decay=0.0,
                 nesterov=False, **options):
        self.momentum = _number("SGD", "momentum", momentum)
        self.dampening = _number("SGD", "dampening", dampening)
        self.weight_decay = _number("SGD", "weight_decay", weight_decay)
        self.nesterov = bool(nesterov)
        if self.nesterov and (self.momentum <= 0 or self.dampening != 0):
            raise ValueError("SGD: Nesterov momentum requires a momentum > 0 and zero dampening")
        super().__init__(params, lr, **options)

    def _update(self, p, g, state):
        if self.weight_decay != 0:
            g = g + self.weight_decay * p.data
        if self.momentum == 0:
            p.data -= self.lr * g
        elif self.nesterov:
            self._nesterov(p, g, state)
        else:
            self._heavy_ball(p, g, state)

    def _heavy_ball(self, p, g, state):
        theta = p.data
        previous = state.get("previous_param")
        if previous is None:  # first step: theta_{-1} = theta_0, and PyTorch's v_1 = g_1 (undamped)
            step = -self.lr * g
        else:
            step = -self.lr * (1 - self.dampening) * g + self.momentum * (theta - previous)
        state["previous_param"] = theta.copy()
        theta += step

    def _nesterov(self, p, g, state):
        v = state.get("momentum_buffer")
        if v is None:
            v = state["momentum_buffer"] = g.copy()
        else:
            v *= self.momentum
            v += g
        p.data -= self.lr * (g + self.momentum * v)


class AdaGrad(Optimizer):
    r"""AdaGrad (Duchi et al. 2011), PyTorch's ``torch.optim.Adagrad``: an adaptive rate per element.

    ``AdaGrad(params=None, lr=0.01, lr_decay=0, weight_decay=0, initial_accumulator_value=0, eps=1e-10)``.

    .. math::
        g_t &\leftarrow g_t + \lambda\theta_t \\
        \alpha_t &= \frac{\alpha}{1 + (t-1)\,\eta} \qquad (\eta = \text{lr\_decay}) \\
        s_t &= s_{t-1} + g_t^2, \qquad s_0 = \text{initial\_accumulator\_value} \\
        \theta_{t+1} &= \theta_t - \alpha_t \frac{g_t}{\sqrt{s_t} + \epsilon}

    Elements with a history of large gradients take smaller steps (F9, adaptive learning rate).
    """

    _hyper = ("lr_decay", "weight_decay", "initial_accumulator_value", "eps")
    _buffers = ("step", "sum")

    def __init__(self, params=None, lr=0.01, lr_decay=0.0, weight_decay=0.0,
                 initial_accumulator_value=0.0, eps=1e-10, **options):
        name = type(self).__name__
        self.lr_decay = _number(name, "lr_decay", lr_decay)
        self.weight_decay = _number(name, "weight_decay", weight_decay)
        self.initial_accumulator_value = _number(name, "initial_accumulator_value", initial_accumulator_value)
        self.eps = _number(name, "eps", eps)
        super().__init__(params, lr, **options)

    def _update(self, p, g, state):
        xp = array_module(p.data)
        if not state:
            state["step"] = 0
            state["sum"] = xp.full_like(p.data, self.initial_accumulator_value)
        state["step"] += 1
        t = state["step"]
        if self.weight_decay != 0:
            g = g + self.weight_decay * p.data
        lr_t = self.lr / (1 + (t - 1) * self.lr_decay)
        s = state["sum"]
        s += g * g
        p.data -= lr_t * (g / (xp.sqrt(s) + self.eps))


Adagrad = AdaGrad  # PyTorch's and Keras's spelling


class RMSprop(Optimizer):
    r"""RMSprop (Hinton 2012), PyTorch's ``torch.optim.RMSprop``.

    ``RMSprop(params=None, lr=0.01, alpha=0.99, eps=1e-8, weight_decay=0, momentum=0, centered=False)``.

    .. math::
        g_t &\leftarrow g_t + \lambda\theta_t \\
        s_t &= \alpha_s s_{t-1} + (1-\alpha_s) g_t^2 \qquad (\alpha_s = \text{alpha},\ s_0 = 0) \\
        \bar g_t &= \alpha_s \bar g_{t-1} + (1-\alpha_s) g_t \qquad \text{(centered only)} \\
        d_t &= \sqrt{s_t} + \epsilon \quad\text{or, centered,}\quad \sqrt{s_t - \bar g_t^2} + \epsilon \\
        b_t &= \mu b_{t-1} + g_t / d_t, \quad \theta_{t+1} = \theta_t - \alpha b_t \qquad (\mu > 0) \\
        \theta_{t+1} &= \theta_t - \alpha\, g_t / d_t \qquad (\mu = 0)

    Dividing by the running root-mean-square of recent gradients is AdaGrad with a memory
    that fades, so the step size does not shrink to zero.
    """

    _hyper = ("alpha", "eps", "weight_decay", "momentum", "centered")
    _buffers = ("step", "square_avg", "grad_avg", "momentum_buffer")

    def __init__(self, params=None, lr=0.01, alpha=0.99, eps=1e-8, weight_decay=0.0, momentum=0.0,
                 centered=False, **options):
        self.alpha = _number("RMSprop", "alpha", alpha)
        self.eps = _number("RMSprop", "eps", eps)
        self.weight_decay = _number("RMSprop", "weight_decay", weight_decay)
        self.momentum = _number("RMSprop", "momentum", momentum)
        self.centered = bool(centered)
        super().__init__(params, lr, **options)

    def _update(self, p, g, state):
        xp = array_module(p.data)
        if not state:
            state["step"] = 0
            state["square_avg"] = xp.zeros_like(p.data)
            if self.centered:
                state["grad_avg"] = xp.zeros_like(p.data)
            if self.momentum > 0:
                state["momentum_buffer"] = xp.zeros_like(p.data)
        state["step"] += 1
        if self.weight_decay != 0:
            g = g + self.weight_decay * p.data
        s = state["square_avg"]
        s *= self.alpha
        s += (1 - self.alpha) * g * g
        if self.centered:
            g_avg = state["grad_avg"]
            g_avg *= self.alpha
            g_avg += (1 - self.alpha) * g
            denom = xp.sqrt(s - g_avg * g_avg) + self.eps
        else:
            denom = xp.sqrt(s) + self.eps
        if self.momentum > 0:
            b = state["momentum_buffer"]
            b *= self.momentum
            b += g / denom
            p.data -= self.lr * b
        else:
            p.data -= self.lr * (g / denom)


class Adam(Optimizer):
    r"""Adam (Kingma & Ba 2015), PyTorch's ``torch.optim.Adam``.

    ``Adam(params=None, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0, amsgrad=False)``.

    .. math::
        g_t &\leftarrow g_t + \lambda\theta_t \\
        m_t &= \beta_1 m_{t-1} + (1-\beta_1) g_t \qquad (m_0 = 0) \\
        v_t &= \beta_2 v_{t-1} + (1-\beta_2) g_t^2 \qquad (v_0 = 0) \\
        \hat v_t &= \max(\hat v_{t-1}, v_t) \ \text{(amsgrad)}, \quad\text{else } v_t \\
        \theta_{t+1} &= \theta_t - \frac{\alpha}{1-\beta_1^t}\,
            \frac{m_t}{\sqrt{\hat v_t}/\sqrt{1-\beta_2^t} + \epsilon}

    :math:`m_t` is momentum on the gradient, :math:`v_t` RMSprop's running mean square; the
    factors :math:`1-\beta^t` undo the bias of starting both at zero.
    """

    _hyper = ("betas", "eps", "weight_decay", "amsgrad")
    _buffers = ("step", "exp_avg", "exp_avg_sq", "max_exp_avg_sq")
    _decoupled = False

    def __init__(self, params=None, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0,
                 amsgrad=False, **options):
        name = type(self).__name__
        try:
            beta1, beta2 = betas
        except (TypeError, ValueError):
            raise TypeError(f"{name}: betas must be a pair (beta1, beta2), got {betas!r}") from None
        self.betas = (_number(name, "betas[0]", beta1, below=1.0), _number(name, "betas[1]", beta2, below=1.0))
        self.eps = _number(name, "eps", eps)
        self.weight_decay = _number(name, "weight_decay", weight_decay)
        self.amsgrad = bool(amsgrad)
        super().__init__(params, lr, **options)

    def _update(self, p, g, state):
        xp = array_module(p.data)
        if not state:
            state["step"] = 0
            state["exp_avg"] = xp.zeros_like(p.data)
            state["exp_avg_sq"] = xp.zeros_like(p.data)
            if self.amsgrad:
                state["max_exp_avg_sq"] = xp.zeros_like(p.data)
        state["step"] += 1
        t = state["step"]
        beta1, beta2 = self.betas
        if self.weight_decay != 0:
            if self._decoupled:  # AdamW: shrink theta directly, outside the adaptive scaling
                p.data *= 1 - self.lr * self.weight_decay
            else:
                g = g + self.weight_decay * p.data
        m, v = state["exp_avg"], state["exp_avg_sq"]
        m *= beta1
        m += (1 - beta1) * g
        v *= beta2
        v += (1 - beta2) * g * g
        if self.amsgrad:
            v = xp.maximum(state["max_exp_avg_sq"], v, out=state["max_exp_avg_sq"])
        bias_correction1 = 1 - beta1**t
        bias_correction2 = 1 - beta2**t
        denom = xp.sqrt(v) / math.sqrt(bias_correction2) + self.eps
        p.data -= (self.lr / bias_correction1) * (m / denom)


class AdamW(Adam):
    r"""Adam with decoupled weight decay (Loshchilov & Hutter 2019), PyTorch's ``torch.optim.AdamW``.

    ``AdamW(params=None, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.01, amsgrad=False)``.

    Adam's update with :math:`\lambda = 0`, after first shrinking the parameter:
    :math:`\theta_t \leftarrow \theta_t(1 - \alpha\lambda)`.  In Adam, :math:`\lambda\theta` is added
    to the gradient and then divided by :math:`\sqrt{\hat v}`, so weights with large gradients
    are barely decayed; AdamW decays every weight at the same rate.
    """

    _decoupled = True

    def __init__(self, params=None, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.01,
                 amsgrad=False, **options):
        super().__init__(params, lr, betas, eps, weight_decay, amsgrad, **options)


# ----- gradient clipping -------------------------------------------------------------------
def _norm(g, norm_type):
    xp = array_module(g)
    if math.isinf(norm_type):
        return float(xp.abs(g).max()) if g.size else 0.0
    return float((xp.abs(g) ** norm_type).sum() ** (1.0 / norm_type))


def _total_norm(grads, norm_type):
    """The norm of all gradients viewed as one vector: the norm of the per-tensor norms."""
    norms = [_norm(g, norm_type) for g in grads]
    if not norms:
        return 0.0
    if math.isinf(norm_type):
        return max(norms)
    return float(sum(n**norm_type for n in norms) ** (1.0 / norm_type))


def _with_grads(op, parameters):
    if isinstance(parameters, Tensor):
        parameters = [parameters]
    parameters = list(parameters)
    for i, p in enumerate(parameters):
        if not isinstance(p, Tensor):
            raise TypeError(f"{op}: parameter {i} is a {type(p).__name__}, expected a Tensor")
    return [p for p in parameters if p.grad is not None]


def clip_grad_norm_(parameters, max_norm, norm_type=2.0, error_if_nonfinite=False) -> float:
    r"""Rescale the gradients so that their total norm is at most ``max_norm``; return the norm.

    As ``torch.nn.utils.clip_grad_norm_``: :math:`N = \lVert (\lVert g_1\rVert_p, \dots,
    \lVert g_k\rVert_p) \rVert_p` over all gradients, then every gradient is multiplied by
    :math:`\min(1, \text{max\_norm} / (N + 10^{-6}))`.  ``norm_type`` is :math:`p > 0` or
    ``float("inf")``.  Returns :math:`N` (before clipping) as a Python float.

    Each ``p.grad`` is replaced by a new array rather than scaled in place, because autograd
    may hand the same gradient array to two parameters.
    """
    op = "clip_grad_norm_"
    max_norm = _number(op, "max_norm", max_norm)
    norm_type = float(norm_type)
    if not (norm_type > 0):
        raise ValueError(f"{op}: norm_type must be > 0 or inf, got {norm_type}")
    params = _with_grads(op, parameters)
    total = _total_norm([p.grad for p in params], norm_type)
    if error_if_nonfinite and not math.isfinite(total):
        raise ValueError(f"{op}: the total gradient norm is {total}; the gradients contain NaN or Inf")
    scale = min(1.0, max_norm / (total + 1e-6))
    for p in params:
        p.grad = p.grad * scale
    return total


def clip_grad_value_(parameters, clip_value) -> None:
    r"""Clamp every gradient element to :math:`[-c, c]`, as ``torch.nn.utils.clip_grad_value_``.

    Each ``p.grad`` is replaced by a new array (see :func:`clip_grad_norm_`).
    """
    c = _number("clip_grad_value_", "clip_value", clip_value)
    for p in _with_grads("clip_grad_value_", parameters):
        p.grad = array_module(p.grad).clip(p.grad, -c, c)


# ----- learning-rate schedules -------------------------------------------------------------
class LRScheduler:
    """Base class: sets ``optimizer.lr`` to ``lr_at(epoch)`` at each :meth:`step`.

    As in PyTorch, creating a schedule sets epoch 0 (the optimizer's current rate becomes
    ``base_lr``); each ``step()`` -- usually once per epoch -- moves to the next epoch.
    Subclasses give the closed form ``lr_at(epoch)``.
    """

    def __init__(self, optimizer):
        if not isinstance(optimizer, Optimizer):
            raise TypeError(f"{type(self).__name__}: expected a tinymed Optimizer, got {type(optimizer).__name__}")
        self.optimizer = optimizer
        self.base_lr = optimizer.lr
        self.last_epoch = -1
        self.step()

    def lr_at(self, epoch: int) -> float:
        raise NotImplementedError(f"{type(self).__name__}.lr_at")

    def step(self) -> None:
        self.last_epoch += 1
        self._last_lr = self.lr_at(self.last_epoch)
        self.optimizer.lr = self._last_lr

    def get_last_lr(self) -> list:
        """The rate set by the last :meth:`step`, as a one-element list (PyTorch's form)."""
        return [self._last_lr]

    def state_dict(self) -> dict:
        return {"base_lr": self.base_lr, "last_epoch": self.last_epoch}

    def load_state_dict(self, state_dict: dict) -> None:
        self.base_lr = float(_scalar(state_dict["base_lr"]))
        self.last_epoch = int(_scalar(state_dict["last_epoch"]))
        self._last_lr = self.lr_at(self.last_epoch)
        self.optimizer.lr = self._last_lr


class InverseSqrtLR(LRScheduler):
    r"""F11: :math:`\alpha_t = \alpha / \sqrt{t}`, with :math:`t = \text{epoch} + 1 = 1, 2, \dots`

    The article's :math:`\alpha = 1/\sqrt t` is the case ``base lr = 1``.
    """

    def lr_at(self, epoch):
        return self.base_lr / math.sqrt(epoch + 1)


class StepLR(LRScheduler):
    r"""Multiply the rate by ``gamma`` every ``step_size`` epochs:
    :math:`\alpha_e = \alpha\,\gamma^{\lfloor e / \text{step\_size}\rfloor}` (PyTorch's ``StepLR``)."""

    def __init__(self, optimizer, step_size, gamma=0.1):
        if isinstance(step_size, bool) or not isinstance(step_size, (int, np.integer)) or step_size < 1:
            raise ValueError(f"StepLR: step_size must be a positive integer, got {step_size!r}")
        self.step_size = int(step_size)
        self.gamma = _number("StepLR", "gamma", gamma)
        super().__init__(optimizer)

    def lr_at(self, epoch):
        return self.base_lr * self.gamma ** (epoch // self.step_size)


class ExponentialLR(LRScheduler):
    r""":math:`\alpha_e = \alpha\,\gamma^e` (PyTorch's ``ExponentialLR``)."""

    def __init__(self, optimizer, gamma):
        self.gamma = _number("ExponentialLR", "gamma", gamma)
        super().__init__(optimizer)

    def lr_at(self, epoch):
        return self.base_lr * self.gamma**epoch


class CosineAnnealingLR(LRScheduler):
    r"""Cosine annealing (PyTorch's ``CosineAnnealingLR``, without restarts):

    .. math:: \alpha_e = \eta_{min} + \tfrac12(\alpha - \eta_{min})\left(1 + \cos\frac{\pi e}{T_{max}}\right)

    The rate falls from :math:`\alpha` to :math:`\eta_{min}` at :math:`e = T_{max}` (and rises
    again after it, as in PyTorch).
    """

    def __init__(self, optimizer, T_max, eta_min=0.0):
        if isinstance(T_max, bool) or not isinstance(T_max, (int, np.integer)) or T_max < 1:
            raise ValueError(f"CosineAnnealingLR: T_max must be a positive integer, got {T_max!r}")
        self.T_max = int(T_max)
        self.eta_min = _number("CosineAnnealingLR", "eta_min", eta_min)
        super().__init__(optimizer)

    def lr_at(self, epoch):
        return self.eta_min + (self.base_lr - self.eta_min) * (1 + math.cos(math.pi * epoch / self.T_max)) / 2


# ----- Keras names -------------------------------------------------------------------------
# Keras's default learning rate for each name (the classes keep PyTorch's defaults)
_KERAS = {
    "sgd": (SGD, 0.01),
    "gd": (GD, 0.01),
    "adam": (Adam, 0.001),
    "adamw": (AdamW, 0.001),
    "rmsprop": (RMSprop, 0.001),
    "adagrad": (AdaGrad, 0.001),
}


def get(identifier, **kwargs) -> Optimizer:
    """An optimizer from a Keras name (``"adam"``, ``"sgd"``, ...), a class, or an optimizer.

    Built from a name, it gets Keras's default learning rate (adam, adamw, rmsprop, adagrad
    0.001; sgd, gd 0.01) unless ``lr``/``learning_rate`` is given; ``kwargs`` go to the class.
    An optimizer object is returned as it is.
    """
    if isinstance(identifier, Optimizer):
        if kwargs:
            raise TypeError(f"optim.get: keyword arguments {sorted(kwargs)} cannot be applied to an existing optimizer")
        return identifier
    if isinstance(identifier, type) and issubclass(identifier, Optimizer):
        return identifier(**kwargs)
    if isinstance(identifier, str) and identifier.lower() in _KERAS:
        cls, keras_lr = _KERAS[identifier.lower()]
        if "lr" not in kwargs and "learning_rate" not in kwargs:
            kwargs["lr"] = keras_lr
        return cls(**kwargs)
    raise ValueError(
        f"optim.get: unknown optimizer {identifier!r}; expected one of "
        f"{', '.join(repr(n) for n in _KERAS)} (any case) or an Optimizer"
    )
