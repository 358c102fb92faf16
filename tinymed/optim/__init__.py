r"""Optimizers, learning-rate schedules and gradient clipping, PyTorch style (article formulas F9--F11).

Every optimizer changes each parameter's ``.data`` in place from its ``.grad``; parameters
whose ``.grad`` is ``None`` are skipped.  The update rules and defaults are PyTorch's
(``torch.optim``), written out one formula at a time.  Notation in the docstrings:
:math:`\theta` a parameter, :math:`g_t = \nabla_\theta L(\theta_t)` its gradient at step
:math:`t = 1, 2, \dots`, :math:`\alpha` the learning rate ``lr``, :math:`\lambda` the weight
decay.

    opt = optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    for x, y in batches:
        opt.zero_grad()
        loss_fn(model(x), y).backward()
        opt.step()

``opt.lr`` may be changed at any time; the schedules do exactly that.  Parameters may be given in
groups with their own hyperparameters, as in PyTorch (``opt.param_groups``; e.g. weight decay on
the weight matrices only).  ``opt.state_dict()`` is
a flat ``{str: NumPy array or number}`` dict, so it can be written with ``numpy.savez``;
``load_state_dict`` restores it so that training continues bit for bit as if never interrupted.

The files follow PyTorch's seams:

* ``optimizer.py``: :class:`Optimizer`, the base class (parameters, ``step``, ``zero_grad``, state dicts);
* ``sgd.py``: :class:`GD`, :class:`SGD` (heavy-ball and Nesterov momentum);
* ``adaptive.py``: :class:`AdaGrad` (alias ``Adagrad``), :class:`RMSprop`, :class:`Adam`, :class:`AdamW`;
* ``lr_scheduler.py``: :class:`InverseSqrtLR` (F11), :class:`StepLR`, :class:`ExponentialLR`,
  :class:`CosineAnnealingLR`, :class:`LambdaLR`, and Hugging Face's linear warm-up + cosine decay
  :func:`get_cosine_schedule_with_warmup`;
* ``clip.py``: :func:`clip_grad_norm_`, :func:`clip_grad_value_`.

Keras-style optimizers (learning rate first, Keras's names and defaults, ``clipnorm``, built
without parameters and bound by ``compile``) are these classes seen through
:mod:`tinymed.keras.optimizers`.
"""

from .adaptive import AdaGrad, Adagrad, Adam, AdamW, RMSprop
from .clip import clip_grad_norm_, clip_grad_value_
from .lr_scheduler import (
    CosineAnnealingLR,
    ExponentialLR,
    InverseSqrtLR,
    LambdaLR,
    LRScheduler,
    StepLR,
    get_cosine_schedule_with_warmup,
)
from .optimizer import Optimizer
from .sgd import GD, SGD

__all__ = [
    "Optimizer", "GD", "SGD", "AdaGrad", "Adagrad", "RMSprop", "Adam", "AdamW",
    "clip_grad_norm_", "clip_grad_value_",
    "LRScheduler", "InverseSqrtLR", "StepLR", "ExponentialLR", "CosineAnnealingLR", "LambdaLR",
    "get_cosine_schedule_with_warmup",
]

_MOVED = ("get",)  # to tinymed.keras.optimizers


def __getattr__(name):
    # names that moved to tinymed.keras.optimizers keep working for one release (_deprecated.py)
    if name in _MOVED:
        from . import _deprecated

        return getattr(_deprecated, name)
    raise AttributeError(f"module 'tinymed.optim' has no attribute {name!r}")
