r"""What training a Transformer needs beyond ``loss.backward()`` and ``optimizer.step()``.

* :func:`weight_decay_groups` -- the two parameter groups of AdamW: weight matrices decayed,
  biases and layer-norm gains not.
* :func:`training_step` -- one optimizer step from one or more micro-batches (**gradient
  accumulation**), with gradient clipping by global norm and a schedule stepped per update.

Gradient accumulation: a mean loss over a batch of :math:`k` equal micro-batches is
:math:`L = \frac1k \sum_{j=1}^{k} L_j`, so :math:`\nabla L = \sum_j \nabla (L_j / k)`.
Calling ``backward`` on each :math:`L_j / k` adds exactly these terms into ``p.grad``: the step
is the one a :math:`k` times larger batch would take, with the memory of one micro-batch.
(Exactly: up to the order of the floating-point additions.)

A training loop with all of it::

    optimizer = optim.AdamW(weight_decay_groups(model, 0.1), lr=3e-4, betas=(0.9, 0.95))
    scheduler = optim.get_cosine_schedule_with_warmup(optimizer, 100, n_steps)
    for step in range(n_steps):
        micro_batches = [next_batch() for _ in range(4)]
        loss = training_step(model, optimizer, micro_batches, lambda m, x: m(x, labels=x)[0],
                             max_grad_norm=1.0, scheduler=scheduler)
"""

from __future__ import annotations

from ..nn import Module
from ..optim import clip_grad_norm_

__all__ = ["weight_decay_groups", "training_step"]


def weight_decay_groups(model: Module, weight_decay: float = 0.1) -> list:
    """``[{"params": matrices, "weight_decay": weight_decay}, {"params": vectors, "weight_decay": 0.0}]``.

    Decay pulls weights towards 0, which regularises the weight matrices (and embeddings) that
    multiply activations; a bias or a layer norm's gain only shifts or scales them, and pulling
    a gain to 0 would switch its feature off.  The split is by dimension, as nanoGPT makes it
    (2-D and larger are decayed); frozen parameters (``requires_grad=False``) are left out.
    """
    trained = [p for p in model.parameters() if p.requires_grad]
    return [{"params": [p for p in trained if p.ndim >= 2], "weight_decay": weight_decay},
            {"params": [p for p in trained if p.ndim < 2], "weight_decay": 0.0}]


def training_step(model: Module, optimizer, micro_batches, loss_fn, max_grad_norm=None, scheduler=None) -> float:
    """One update from ``micro_batches`` (a list), accumulating their gradients; returns the mean loss.

    ``loss_fn(model, batch)`` returns the scalar loss of one micro-batch (a mean over its
    examples).  Each is scaled by ``1 / len(micro_batches)`` before ``backward``, so the summed
    gradient is that of the mean over all of them (see the module's docstring).  Then, if
    ``max_grad_norm`` is given, the gradients are rescaled to that global norm at most
    (:func:`tinymed.optim.clip_grad_norm_`); the optimizer steps, and the ``scheduler`` too.
    """
    micro_batches = list(micro_batches)
    if not micro_batches:
        raise ValueError("training_step: micro_batches is empty; give at least one batch")
    model.train()
    optimizer.zero_grad()
    total = 0.0
    for batch in micro_batches:
        loss = loss_fn(model, batch) / len(micro_batches)
        loss.backward()
        total += loss.item()
    if max_grad_norm is not None:
        clip_grad_norm_(model.parameters(), max_grad_norm)
    optimizer.step()
    if scheduler is not None:
        scheduler.step()
    return total
