r"""``PrivacyEngine``: turn an ordinary training setup into DP-SGD in one call (Opacus's API).

::

    engine = PrivacyEngine()
    model, optimizer, loader = engine.make_private(
        module=model, optimizer=optim.SGD(model.parameters(), lr=0.1), data_loader=loader,
        noise_multiplier=1.1, max_grad_norm=1.0)
    for xb, yb in loader:              # Poisson-sampled batches
        optimizer.zero_grad()
        F.cross_entropy(model(Tensor(xb)), yb).backward()
        optimizer.step()               # clipped, noised, counted
    engine.get_epsilon(delta=1e-5)

The training loop is the usual one; only the three objects change.  Why a helper rather than a
single ``DPSGD`` optimizer: DP-SGD touches three places -- the model (per-example gradients),
the optimizer (clipping and noise) and the data (Poisson sampling) -- and its guarantee holds
only when all three are changed together and the accountant counts every step.
"""

from __future__ import annotations

from .accountant import RDPAccountant, get_noise_multiplier
from .data_loader import DPDataLoader
from .grad_sample import GradSampleModule
from .optimizer import DPOptimizer

__all__ = ["PrivacyEngine"]


class PrivacyEngine:
    """Holds the :class:`~tinymed.privacy.RDPAccountant` of a DP-SGD run and makes its parts."""

    def __init__(self, accountant="rdp"):
        if accountant != "rdp":
            raise ValueError(f"PrivacyEngine: only the 'rdp' accountant is available, got {accountant!r}")
        self.accountant = RDPAccountant()

    def make_private(self, *, module, optimizer, data_loader, noise_multiplier, max_grad_norm,
                     loss_reduction="mean", noise_generator=None):
        """``(GradSampleModule, DPOptimizer, DPDataLoader)`` for DP-SGD with these settings.

        ``data_loader`` is a ``tinymed.data.DataLoader`` (its batch size sets the sampling rate,
        ``batch_size / N``) or a :class:`DPDataLoader`.  Every optimizer step is recorded by the
        accountant.
        """
        loader = data_loader if isinstance(data_loader, DPDataLoader) else DPDataLoader.from_data_loader(data_loader)
        model = module if isinstance(module, GradSampleModule) else GradSampleModule(module, loss_reduction)
        dp_optimizer = DPOptimizer(
            optimizer, noise_multiplier=noise_multiplier, max_grad_norm=max_grad_norm,
            expected_batch_size=max(1, round(loader.sample_rate * len(loader.arrays[0]))),
            loss_reduction=loss_reduction, generator=noise_generator)
        sample_rate = loader.sample_rate
        dp_optimizer.attach_step_hook(
            lambda opt: self.accountant.step(noise_multiplier=opt.noise_multiplier, sample_rate=sample_rate))
        return model, dp_optimizer, loader

    def make_private_with_epsilon(self, *, module, optimizer, data_loader, target_epsilon, target_delta, epochs,
                                  max_grad_norm, **kwargs):
        """As :meth:`make_private`, with the smallest noise multiplier that keeps ``epochs`` epochs
        within ``target_epsilon`` at ``target_delta``."""
        loader = data_loader if isinstance(data_loader, DPDataLoader) else DPDataLoader.from_data_loader(data_loader)
        sigma = get_noise_multiplier(target_epsilon=target_epsilon, target_delta=target_delta,
                                     sample_rate=loader.sample_rate, steps=epochs * len(loader))
        return self.make_private(module=module, optimizer=optimizer, data_loader=loader, noise_multiplier=sigma,
                                 max_grad_norm=max_grad_norm, **kwargs)

    def get_epsilon(self, delta):
        """The :math:`\\varepsilon` spent by the steps taken so far, at ``delta``."""
        return self.accountant.get_epsilon(delta)
