r"""Explanations of a model's decisions, with Captum's class and argument names.

- Gradient-based maps: :class:`Saliency`, :class:`IntegratedGradients` (with its completeness
  check, the convergence delta), :class:`NoiseTunnel` (SmoothGrad and its variants),
  :class:`LayerGradCam`; perturbation-based: :class:`Occlusion`.
- Attention models: :func:`attention_rollout` of the weights :func:`capture_attention` records.
- Tabular models: :func:`permutation_importance` (scikit-learn's name and result).
- Checking the explanations: :func:`model_randomization_test` (does the map depend on the
  model?) and :func:`fraction_in_mask` (does it fall on the lesion?).

Every method explains a model in eval mode and one output per example (``target=`` picks a
class), and returns a ``Tensor``, as Captum's return torch tensors: shaped like the inputs
(Grad-CAM: like the layer's feature maps).
"""

from .approximation import METHODS
from .attention import attention_rollout, capture_attention
from .grad_cam import LayerGradCam
from .integrated_gradients import IntegratedGradients
from .localization import fraction_in_mask
from .noise_tunnel import NoiseTunnel
from .occlusion import Occlusion
from .permutation import Bunch, permutation_importance
from .saliency import Saliency
from .sanity import SanityCheckResult, model_randomization_test, rank_correlation

__all__ = [
    "Saliency", "IntegratedGradients", "NoiseTunnel", "Occlusion", "LayerGradCam", "METHODS",
    "attention_rollout", "capture_attention", "permutation_importance", "Bunch",
    "model_randomization_test", "SanityCheckResult", "rank_correlation", "fraction_in_mask",
]
