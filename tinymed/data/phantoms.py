r"""Synthetic chest radiographs ("phantoms") with and without pneumonia-like opacities.

Real chest X-ray sets are large, need a download and carry patient-data conditions; a
phantom set is generated in a second, is free of any licence, and has a known ground truth.
Every image is drawn analytically (no loops over pixels) from a simple physical picture of a
posterior-anterior (PA) chest film, where *bright = dense* (more X-ray attenuation):

1. **Pose.**  Each patient stands a little differently: the anatomy is drawn in canonical
   coordinates :math:`(x, y) \in [-1, 1]^2` obtained from the pixel grid :math:`(u, v)` by
   :math:`(x, y)^T = R(-\theta)\,((u, v)^T - t) / s` (rotation :math:`\theta`, shift
   :math:`t`, scale :math:`s`).
2. **Anatomy** as a density map: soft tissue inside the body outline (a soft ellipse
   :math:`\sigma((1 - \rho)/w)`, :math:`\rho` the elliptical radius), two dark lung fields
   (air: density *missing*), the heart shadow (on the patient's left, i.e. the *right* of the
   image on a PA film, in front of the lung), the spine and mediastinum (a bright vertical
   band), ribs (a periodic pattern of curved bright bands across the lungs), the clavicles,
   and vascular markings fanning out from the hila (smoothed noise, strongest at the hilum).
3. **Disease** (label 1): one to three patchy opacities.  Pneumonia fills alveoli with
   fluid, so an opacity replaces a fraction of the lung's air: a soft blob with a frayed
   edge and a mottled inside (smoothed noise), inside a lung field (lower zones more often,
   clear of the heart), of varied size and strength, sometimes faint.
4. **Acquisition**: random global contrast, brightness and gamma (exposure and processing),
   Gaussian blur (focal spot, detector), quantum noise whose variance grows with the signal
   (Poisson-like) plus electronic Gaussian noise; values clipped to [0, 1].

The disease is a *local* finding: global intensity statistics hardly move, because the
acquisition and the anatomy vary far more between patients than an opacity changes the
histogram.  See :func:`chest_phantoms` for the measured figures.
"""

from __future__ import annotations

import numpy as np

from ..memory import require_memory
from .dataset import Dataset, describe

CLASS_NAMES = ("normal", "pneumonia-like opacity")

# Per opacity: the fraction of the lung's air it replaces at its densest, its radius (in
# canonical units: the image is 2 wide) and the chance that it is faint (fill halved).
DIFFICULTY = {
    "easy": dict(fill=(0.9, 1.0), radius=(0.13, 0.22), faint=0.0),
    "medium": dict(fill=(0.7, 1.0), radius=(0.11, 0.20), faint=0.05),
    "hard": dict(fill=(0.5, 0.8), radius=(0.08, 0.16), faint=0.25),
}

VESSELS = 0.15  # density of the vascular markings
# exposure and processing vary between films: image -> contrast * (image - 0.4) + 0.4 + brightness,
# then image ** gamma with log(gamma) uniform in [-log_gamma, log_gamma]
ACQUISITION = dict(contrast=(0.6, 1.4), brightness=0.15, log_gamma=0.5)
_FOCAL_SPOTS = (0.5, 0.7, 0.9, 1.1)  # blur sigma in pixels of a 64 x 64 image
_CHUNK = 256  # images drawn at once: keeps the temporaries small
# the lesion mask: where an opacity adds at least this much density (about a tenth of a lung's air)
LESION_DENSITY = 0.03


def chest_phantoms(n: int, size: int = 64, seed=0, difficulty: str = "medium", return_mask: bool = False,
                   prevalence: float = 0.5, acquisition: dict | None = None):
    """Generate ``n`` synthetic chest radiographs, half of them with pneumonia-like opacities.

    Returns a :class:`~tinymed.data.dataset.Dataset` ``(X, y)``: ``X`` float32
    ``(n, 1, size, size)`` in [0, 1], ``y`` int64 ``(n,)`` with 1 = opacity present;
    ``n // 2`` images of class 0 and the rest of class 1, in random order.  The same
    ``seed`` gives the same images.  ``difficulty`` ("easy", "medium", "hard") sets the
    opacities' strength and size and how often they are faint.

    The task needs a spatial model.  Measured by ``tests/test_data.py`` (difficulty
    "medium", 32 x 32 pixels, 2000 training images with seed 1, 1000 test images with seed 2):

    - logistic regression on 31 global intensity features of each image (mean, std, min,
      max, skewness, kurtosis, 9 percentiles, 16-bin histogram): test accuracy **0.653**
      (training accuracy 0.675);
    - a small CNN (conv 3x3 x 8 - ReLU - max-pool - conv 3x3 x 16 - ReLU - max-pool -
      linear) on images standardised one by one, Adam, 10 epochs of batches of 32: test
      accuracy **0.975**, in 5 to 12 s on 2 CPU cores.

    Over the seed pairs (1, 2), (3, 4), ..., (9, 10) the baseline scored 0.635 to 0.673 and
    the CNN 0.959 to 0.976.

    With ``return_mask=True`` the result is ``(dataset, mask)``: ``mask`` bool
    ``(n, 1, size, size)``, True where an opacity adds at least :data:`LESION_DENSITY` to the
    density before acquisition (all False on class 0), the ground truth that explanations are
    measured against.  The images are the same as without it.

    ``prevalence`` and ``acquisition`` make sets that differ as hospitals do (lesson 24's
    federated sites): ``int(n * (1 - prevalence))`` images of class 0 and the rest of class 1;
    ``acquisition`` replaces entries of :data:`ACQUISITION` -- a scanner and its processing,
    e.g. ``{"contrast": (1.2, 1.6), "log_gamma": 0.1}``.  Left at their defaults they change
    nothing.
    """
    if not isinstance(n, (int, np.integer)) or n < 0:
        raise ValueError(f"chest_phantoms: n must be a non-negative integer, got {n!r}")
    if not isinstance(size, (int, np.integer)) or size < 8:
        raise ValueError(f"chest_phantoms: size must be an integer >= 8, got {size!r}")
    if difficulty not in DIFFICULTY:
        raise ValueError(f"chest_phantoms: difficulty must be one of {tuple(DIFFICULTY)}, got {difficulty!r}")
    if not 0.0 <= prevalence <= 1.0:
        raise ValueError(f"chest_phantoms: prevalence must be in [0, 1], got {prevalence!r}")
    scanner = _acquisition(acquisition)
    require_memory("chest_phantoms", 4 * int(n) * size * size, f"{n} images of {size}x{size} pixels (float32)")
    rng = np.random.default_rng(seed)
    y = np.zeros(n, dtype=np.int64)
    y[int(n * (1.0 - prevalence)):] = 1
    rng.shuffle(y)
    X = np.empty((n, 1, size, size), dtype=np.float32)
    mask = np.zeros((n, 1, size, size), dtype=bool) if return_mask else None
    for start in range(0, n, _CHUNK):
        labels = y[start:start + _CHUNK]
        X[start:start + len(labels), 0], added = _draw(labels, size, rng, DIFFICULTY[difficulty], scanner)
        if return_mask:
            mask[start:start + len(labels), 0] = added >= LESION_DENSITY
    description = describe(
        f"Synthetic chest radiograph phantoms ({difficulty})",
        f"tinymed.data.phantoms.chest_phantoms (generated, seed={seed!r})",
        "none needed (synthetic; part of tinymed, MIT)",
        X, y, CLASS_NAMES,
        notes="bright = dense; PA view (the heart lies on the right of the image);\n"
              "label 1 = one to three pneumonia-like opacities inside a lung field.",
    )
    data = Dataset(X, y, description, class_names=CLASS_NAMES)
    return (data, mask) if return_mask else data


def _acquisition(overrides):
    """:data:`ACQUISITION` with ``overrides`` (checked) in place of its entries."""
    settings = dict(ACQUISITION)
    for key, value in (overrides or {}).items():
        if key not in ACQUISITION:
            raise ValueError(f"chest_phantoms: acquisition keys are {tuple(ACQUISITION)}, got {key!r}")
        if key == "contrast" and not (len(value) == 2 and 0 < value[0] <= value[1]):
            raise ValueError(f"chest_phantoms: acquisition['contrast'] must be a pair 0 < low <= high, got {value!r}")
        if key != "contrast" and not value >= 0:
            raise ValueError(f"chest_phantoms: acquisition[{key!r}] must be a number >= 0, got {value!r}")
        settings[key] = value
    return settings


# ----- drawing ----------------------------------------------------------------------------
# Everything below works on a chunk of images at once: pixel arrays are (n, size, size)
# float32, per-image parameters are (n, 1, 1) columns that broadcast over the pixels.

def _col(values):
    """Per-image parameters as an (n, 1, 1) float32 column."""
    return np.asarray(values, dtype=np.float32)[:, None, None]


def _sigmoid(z):
    """Logistic function 1 / (1 + e^{-z}) = (1 + tanh(z/2)) / 2, computed in place on ``z``."""
    z *= 0.5
    np.tanh(z, out=z)
    z += 1.0
    z *= 0.5
    return z


def _soft_ellipse(x, y, cx, cy, ax, ay, edge):
    """1 inside the ellipse, 0 outside, with a smooth rim: sigma((1 - rho) / edge),
    rho = sqrt(((x - cx)/ax)^2 + ((y - cy)/ay)^2) the elliptical radius."""
    rho = np.sqrt(((x - cx) / ax) ** 2 + ((y - cy) / ay) ** 2)
    return _sigmoid((1.0 - rho) / edge)


def _upsample_matrix(low: int, size: int) -> np.ndarray:
    """Bilinear interpolation from ``low`` grid points to ``size`` pixels as a (size, low)
    matrix, so that a (low, low) field becomes ``U @ field @ U.T`` (both axes at once)."""
    pos = (np.arange(size) + 0.5) / size * (low - 1)
    left = np.clip(np.floor(pos).astype(int), 0, low - 2)
    frac = pos - left
    U = np.zeros((size, low), dtype=np.float32)
    U[np.arange(size), left] = 1.0 - frac
    U[np.arange(size), left + 1] = frac
    return U


def _smooth_noise(rng, n, low, size):
    """Smoothed noise in [0, 1]: a coarse Gaussian field, bilinearly upsampled and rescaled."""
    U = _upsample_matrix(low, size)
    field = U @ rng.standard_normal((n, low, low), dtype=np.float32) @ U.T
    lo = field.min(axis=(1, 2), keepdims=True)
    hi = field.max(axis=(1, 2), keepdims=True)
    return (field - lo) / (hi - lo)


def _gaussian_matrix(sigma_px: float, size: int) -> np.ndarray:
    """(size, size) matrix B of a Gaussian blur, rows summing to 1: ``B @ image @ B.T``
    blurs both axes.  B_ij ∝ exp(-(i - j)^2 / 2 sigma^2)."""
    d = np.arange(size)[:, None] - np.arange(size)[None, :]
    B = np.exp(-0.5 * (d / sigma_px) ** 2)
    return (B / B.sum(axis=1, keepdims=True)).astype(np.float32)


def _pose_grid(rng, n, size):
    """Canonical coordinates (x, y) of every pixel, each image with its own pose."""
    u = ((2.0 * np.arange(size) + 1.0) / size - 1.0).astype(np.float32)
    U, V = u[None, None, :], u[None, :, None]
    theta = np.deg2rad(rng.uniform(-7, 7, n))
    scale = rng.uniform(0.9, 1.1, n)
    du, dv = U - _col(rng.uniform(-0.07, 0.07, n)), V - _col(rng.uniform(-0.07, 0.07, n))
    c, s = _col(np.cos(theta) / scale), _col(np.sin(theta) / scale)
    return c * du + s * dv, c * dv - s * du


def _lung(x, y, cx, cy, half_width, half_height):
    """A lung field: an ellipse widening towards its base (apex narrow, bases broad)."""
    widening = 1.0 + 0.3 * (y - cy) / half_height
    return _soft_ellipse(x, y, cx, cy, half_width * widening, half_height, 0.07)


def _anatomy(rng, x, y, size):
    """Density of a normal chest, and the air in the lungs (the density missing there,
    which an opacity fills in)."""
    n = x.shape[0]
    ax = np.abs(x)
    body = _soft_ellipse(x, y, 0.0, _col(rng.uniform(0.1, 0.25, n)),
                         _col(rng.uniform(0.86, 1.0, n)), 1.3, 0.05)
    geometry = dict(cx=rng.uniform(0.36, 0.42, n), cy=rng.uniform(-0.1, 0.0, n),
                    half_w=rng.uniform(0.25, 0.3, n), half_h=rng.uniform(0.6, 0.7, n))
    cx, cy, half_w, half_h = (_col(v) for v in geometry.values())
    lungs = np.maximum(_lung(x, y, -cx, cy, half_w, half_h),          # patient's right
                       _lung(x, y, cx, cy, 0.92 * half_w, half_h))     # patient's left
    heart = _soft_ellipse(x, y, _col(rng.uniform(0.06, 0.14, n)), _col(rng.uniform(0.3, 0.4, n)),
                          _col(rng.uniform(0.26, 0.33, n)), _col(rng.uniform(0.19, 0.25, n)), 0.1)
    lungs *= 1.0 - heart  # the heart lies in front of the medial left lung
    spine = _sigmoid((_col(rng.uniform(0.08, 0.12, n)) - ax) / 0.025)
    # ribs: bright bands where a periodic function peaks along arcs  y + 1.1 (|x| - 0.35)^2 = c
    arc = y + 1.1 * (ax - 0.35) ** 2
    ribs = (0.5 + 0.5 * np.cos(2 * np.pi * (arc / _col(rng.uniform(0.15, 0.19, n))
                                            - _col(rng.uniform(0, 1, n))))) ** 6
    ribs *= _soft_ellipse(x, y, 0.0, -0.05, 0.8, 0.78, 0.08) * _sigmoid((ax - 0.1) / 0.03)
    clavicles = np.exp(-(((y + 0.76 + 0.22 * ax) / 0.035) ** 2)) * _sigmoid((0.62 - ax) / 0.05)
    hila = np.exp(-((ax - 0.17) ** 2 + (y + 0.02) ** 2) / 0.08)
    vessels = np.clip(2.0 * _smooth_noise(rng, n, 14, size) - 1.0, 0.0, None) * hila
    air = _col(rng.uniform(0.3, 0.4, n)) * lungs
    density = (0.6 * body
               - air
               + 0.2 * spine * body
               + 0.12 * ribs
               + 0.15 * clavicles
               + 0.12 * heart
               + VESSELS * vessels * lungs)
    return density, air, geometry


def _opacities(rng, x, y, labels, geometry, size, spec):
    """Fraction of the lung's air replaced by fluid, in [0, 1] (zero where the label is 0).

    Patches sit inside a lung field (``geometry``: the lungs drawn by :func:`_anatomy`),
    lower zones more often, clear of the heart.  Patch k fills
    ``f_k = min(1, fill_k * blob_k * mottle_k)``; patches combine like independent chances,
    ``1 - prod_k (1 - f_k)``, so a lung is never denser than soft tissue.
    """
    clear = np.ones_like(x)
    n_patches = np.where(labels == 1, rng.integers(1, 4, len(labels)), 0)
    for k in range(3):
        idx = np.flatnonzero(n_patches > k)
        m = len(idx)
        side = rng.choice([-1.0, 1.0], m)
        # across the lung: anywhere in the right lung, lateral to the heart in the left one
        across = np.where(side < 0, rng.uniform(-0.6, 0.6, m), rng.uniform(-0.1, 0.6, m))
        cx = side * (geometry["cx"][idx] + across * geometry["half_w"][idx])
        cy = geometry["cy"][idx] + geometry["half_h"][idx] * (1.2 * rng.beta(2.2, 1.3, m) - 0.7)
        radius = rng.uniform(*spec["radius"], m)
        aspect = rng.uniform(0.7, 1.4, m)
        angle = rng.uniform(0, np.pi, m)
        fill = rng.uniform(*spec["fill"], m) * np.where(rng.random(m) < spec["faint"], 0.5, 1.0)
        c, s = _col(np.cos(angle)), _col(np.sin(angle))
        dx, dy = x[idx] - _col(cx), y[idx] - _col(cy)
        rho = np.sqrt(((c * dx + s * dy) / _col(radius * aspect)) ** 2
                      + ((c * dy - s * dx) / _col(radius / aspect)) ** 2)
        fray = _smooth_noise(rng, m, 6, size)          # ill-defined, ragged edge
        mottle = _smooth_noise(rng, m, 10, size)       # patchy inside
        blob = _sigmoid((1.0 - rho + 0.5 * (fray - 0.5)) / 0.12)
        clear[idx] *= 1.0 - np.minimum(_col(fill) * blob * (0.45 + 0.9 * mottle), 1.0)
    return 1.0 - clear


def _acquire(rng, density, size, a):
    """Map density to a processed radiograph: contrast, brightness, gamma (settings ``a``, as
    :data:`ACQUISITION`), blur and noise."""
    n = density.shape[0]
    image = np.clip(density, 0.0, 1.0)
    image = (_col(rng.uniform(*a["contrast"], n)) * (image - 0.4) + 0.4
             + _col(rng.uniform(-a["brightness"], a["brightness"], n)))
    image = np.clip(image, 0.0, 1.0) ** _col(np.exp(rng.uniform(-a["log_gamma"], a["log_gamma"], n)))
    spot = rng.integers(0, len(_FOCAL_SPOTS), n)
    for level, sigma in enumerate(_FOCAL_SPOTS):
        B = _gaussian_matrix(sigma * size / 64, size)
        image[spot == level] = B @ image[spot == level] @ B.T
    # noise levels are set for 64 x 64 pixels; a coarser pixel collects more photons, and the
    # relative noise falls as 1 / (pixel side)
    per_pixel = size / 64
    quantum = np.sqrt(image * _col(rng.uniform(0.001, 0.004, n))) * per_pixel
    image += quantum * rng.standard_normal(image.shape, dtype=np.float32)
    image += _col(rng.uniform(0.005, 0.02, n) * per_pixel) * rng.standard_normal(image.shape, dtype=np.float32)
    return np.clip(image, 0.0, 1.0, out=image)


def _draw(labels, size, rng, spec, acquisition):
    """The images of a chunk, and the density each opacity added (zero where there is none)."""
    x, y = _pose_grid(rng, len(labels), size)
    density, air, geometry = _anatomy(rng, x, y, size)
    added = air * _opacities(rng, x, y, labels, geometry, size, spec)
    density += added
    return _acquire(rng, density, size, acquisition), added
