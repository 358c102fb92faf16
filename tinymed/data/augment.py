r"""Data augmentation for images (article 003 §3.2.1: rotate, scale, flip -- F20).

Every transform works on NumPy arrays: one image ``(C, H, W)`` or a batch ``(N, C, H, W)``
(each image of a batch gets its own random parameters), returns a new array of the same
shape and dtype, and is seeded: ``seed=`` takes an int, ``None`` or a
``np.random.Generator``, and the same seed gives the same sequence of outputs.  Any
transform, or a :class:`Compose` of them, can be a DataLoader's ``transform=``.

Geometry (rotation, scaling) is *inverse mapping*: for every output pixel we compute where
it comes from in the input and read the input there by **bilinear interpolation**.  With
pixel centres at integer coordinates and the image centre
:math:`(c_r, c_c) = ((H-1)/2, (W-1)/2)`, output pixel :math:`(r, c)` has the centred
coordinates :math:`x = c - c_c` (right) and :math:`y = c_r - r` (up).

* rotation by :math:`\theta` counter-clockwise about the centre: the output at
  :math:`p` is the input at :math:`R(-\theta)\,p`,

  .. math:: \begin{pmatrix} x_s \\ y_s \end{pmatrix} =
            \begin{pmatrix} \cos\theta & \sin\theta \\ -\sin\theta & \cos\theta \end{pmatrix}
            \begin{pmatrix} x \\ y \end{pmatrix}

* scaling by :math:`s` about the centre (``s > 1`` zooms in): :math:`(x_s, y_s) = (x, y)/s`.

The source pixel is :math:`(r_s, c_s) = (c_r - y_s,\ c_c + x_s)`; with
:math:`r_0 = \lfloor r_s \rfloor`, :math:`c_0 = \lfloor c_s \rfloor`,
:math:`a = r_s - r_0`, :math:`b = c_s - c_0`, bilinear interpolation of the four neighbours is

.. math:: I(r_s, c_s) = (1-a)(1-b)\,I_{r_0,c_0} + (1-a)\,b\,I_{r_0,c_0+1}
                        + a\,(1-b)\,I_{r_0+1,c_0} + a\,b\,I_{r_0+1,c_0+1}

and a neighbour outside the image reads ``fill``.
"""

from __future__ import annotations

import numpy as np

__all__ = [
    "Compose", "RandomRotation", "RandomScale", "RandomHorizontalFlip", "RandomVerticalFlip",
    "RandomShift", "RandomBrightnessContrast", "GaussianNoise", "bilinear_sample",
]


def _as_batch(op, images):
    """``(images as (N, C, H, W), was_single_image)``; rejects anything else."""
    if not isinstance(images, np.ndarray):
        raise TypeError(f"{op}: expected a NumPy array (C, H, W) or (N, C, H, W), got {type(images).__name__}")
    if images.ndim == 3:
        return images[None], True
    if images.ndim != 4:
        raise ValueError(f"{op}: expected an image (C, H, W) or a batch (N, C, H, W), got shape {images.shape}")
    return images, False


def _float(op, images):
    if images.dtype.kind != "f":
        raise TypeError(f"{op}: needs floating-point images, got dtype {images.dtype} "
                        "(convert first, e.g. images.astype(np.float32) / 255)")


def _range(op, name, value, centre):
    """A number ``v`` means ``(centre - v, centre + v)``; a pair is taken as it is."""
    if np.ndim(value) == 0:
        value = float(value)
        if value < 0:
            raise ValueError(f"{op}: {name} must be >= 0, got {value}")
        return centre - value, centre + value
    lo, hi = (float(v) for v in value)
    if lo > hi:
        raise ValueError(f"{op}: {name} must be (low, high) with low <= high, got {value!r}")
    return lo, hi


def _probability(op, p):
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"{op}: p must be in [0, 1], got {p}")
    return float(p)


class _Transform:
    """Base class: holds the random generator, turns one image into a batch of one and back."""

    def __init__(self, seed=None):
        self.rng = np.random.default_rng(seed)

    def __call__(self, images):
        batch, single = _as_batch(type(self).__name__, images)
        out = self.apply(batch)
        return out[0] if single else out

    def apply(self, batch):
        raise NotImplementedError


def bilinear_sample(images, rows, cols, fill=0.0):
    """Read ``images (N, C, H, W)`` at real-valued positions ``rows, cols`` (N, H', W') by
    bilinear interpolation of the four neighbouring pixels (formula in the module docstring);
    neighbours outside the image read ``fill``.  Returns (N, C, H', W')."""
    n, _, h, w = images.shape
    r0, c0 = np.floor(rows), np.floor(cols)
    a, b = rows - r0, cols - c0
    r0, c0 = r0.astype(np.intp), c0.astype(np.intp)
    image_index = np.arange(n)[:, None, None]
    out = 0.0
    for dr, weight_r in ((0, 1.0 - a), (1, a)):
        for dc, weight_c in ((0, 1.0 - b), (1, b)):
            r, c = r0 + dr, c0 + dc
            inside = (r >= 0) & (r < h) & (c >= 0) & (c < w)
            # advanced indices around a slice put their axes first: (N, H', W', C)
            values = images[image_index, :, np.clip(r, 0, h - 1), np.clip(c, 0, w - 1)]
            values = np.where(inside[..., None], values, fill)
            out = out + (weight_r * weight_c)[..., None] * values
    return np.moveaxis(out, -1, 1)


def _centred_grid(h, w):
    """Centred coordinates (x right, y up) of every output pixel, each (1, H, W)."""
    rows, cols = np.meshgrid(np.arange(h, dtype=np.float64), np.arange(w, dtype=np.float64), indexing="ij")
    return (cols - (w - 1) / 2)[None], ((h - 1) / 2 - rows)[None]


def _sample_centred(batch, x_src, y_src, fill):
    """Read ``batch`` at centred source coordinates; same dtype as ``batch``."""
    h, w = batch.shape[-2:]
    out = bilinear_sample(batch, (h - 1) / 2 - y_src, (w - 1) / 2 + x_src, fill)
    return out.astype(batch.dtype, copy=False)


class RandomRotation(_Transform):
    """Rotate by an angle drawn uniformly from ``degrees`` (a number ``d`` means ``(-d, d)``),
    counter-clockwise as displayed, about the image centre; bilinear interpolation, pixels
    from outside the image read ``fill``."""

    def __init__(self, degrees, fill=0.0, seed=None):
        super().__init__(seed)
        self.degrees = _range("RandomRotation", "degrees", degrees, 0.0)
        self.fill = fill

    def apply(self, batch):
        _float("RandomRotation", batch)
        theta = np.deg2rad(self.rng.uniform(*self.degrees, len(batch)))[:, None, None]
        x, y = _centred_grid(*batch.shape[-2:])
        cos, sin = np.cos(theta), np.sin(theta)
        return _sample_centred(batch, cos * x + sin * y, -sin * x + cos * y, self.fill)


class RandomScale(_Transform):
    """Scale about the centre by a factor drawn uniformly from ``scale`` (a number ``v`` means
    ``(1 - v, 1 + v)``); ``s > 1`` zooms in.  Bilinear interpolation, outside reads ``fill``."""

    def __init__(self, scale=(0.9, 1.1), fill=0.0, seed=None):
        super().__init__(seed)
        self.scale = _range("RandomScale", "scale", scale, 1.0)
        if self.scale[0] <= 0:
            raise ValueError(f"RandomScale: scale factors must be > 0, got {scale!r}")
        self.fill = fill

    def apply(self, batch):
        _float("RandomScale", batch)
        s = self.rng.uniform(*self.scale, len(batch))[:, None, None]
        x, y = _centred_grid(*batch.shape[-2:])
        return _sample_centred(batch, x / s, y / s, self.fill)


class RandomHorizontalFlip(_Transform):
    """Mirror left-right (``image[..., ::-1]``) with probability ``p``, per image."""

    axis = -1

    def __init__(self, p=0.5, seed=None):
        super().__init__(seed)
        self.p = _probability(type(self).__name__, p)

    def apply(self, batch):
        flip = self.rng.random(len(batch)) < self.p
        out = batch.copy()
        out[flip] = np.flip(batch[flip], axis=self.axis)
        return out


class RandomVerticalFlip(RandomHorizontalFlip):
    """Mirror top-bottom (``image[..., ::-1, :]``) with probability ``p``, per image."""

    axis = -2


class RandomShift(_Transform):
    """Translate by whole pixels, each axis by an integer drawn from
    ``[-max_pixels, max_pixels]``; pixels shifted in from outside read ``fill``."""

    def __init__(self, max_pixels, fill=0.0, seed=None):
        super().__init__(seed)
        if int(max_pixels) != max_pixels or max_pixels < 0:
            raise ValueError(f"RandomShift: max_pixels must be a non-negative integer, got {max_pixels!r}")
        self.max_pixels = int(max_pixels)
        self.fill = fill

    def apply(self, batch):
        h, w = batch.shape[-2:]
        shifts = self.rng.integers(-self.max_pixels, self.max_pixels + 1, (len(batch), 2))
        out = np.full_like(batch, self.fill)
        for i, (dr, dc) in enumerate(shifts):
            # out[r, c] = in[r - dr, c - dc] where both are inside the image
            out[i, :, max(dr, 0):h + min(dr, 0), max(dc, 0):w + min(dc, 0)] = \
                batch[i, :, max(-dr, 0):h + min(-dr, 0), max(-dc, 0):w + min(-dc, 0)]
        return out


class RandomBrightnessContrast(_Transform):
    r"""Random global contrast ``c`` and brightness ``b`` per image:

    .. math:: x' = c\,x + (1 - c)\,\bar x + b, \qquad
              c \sim U(1 - \text{contrast}, 1 + \text{contrast}),\ b \sim U(-\text{brightness}, \text{brightness})

    (contrast stretches about the image mean :math:`\bar x`), then clipped to ``clip``
    (default ``(0, 1)``; ``None`` for data that are not in [0, 1], e.g. standardised).
    """

    def __init__(self, brightness=0.1, contrast=0.1, clip=(0.0, 1.0), seed=None):
        super().__init__(seed)
        if brightness < 0 or not 0 <= contrast <= 1:
            raise ValueError("RandomBrightnessContrast: need brightness >= 0 and 0 <= contrast <= 1, "
                             f"got brightness={brightness}, contrast={contrast}")
        self.brightness, self.contrast, self.clip = float(brightness), float(contrast), clip

    def apply(self, batch):
        _float("RandomBrightnessContrast", batch)
        n = len(batch)
        c = self.rng.uniform(1 - self.contrast, 1 + self.contrast, n)[:, None, None, None]
        b = self.rng.uniform(-self.brightness, self.brightness, n)[:, None, None, None]
        mean = batch.mean(axis=(1, 2, 3), keepdims=True)
        out = c * batch + ((1 - c) * mean + b)
        if self.clip is not None:
            out = np.clip(out, *self.clip)
        return out.astype(batch.dtype, copy=False)


class GaussianNoise(_Transform):
    """Add independent Gaussian noise of standard deviation ``std`` to every pixel, then clip
    to ``clip`` (default ``(0, 1)``; ``None`` to leave the values unbounded)."""

    def __init__(self, std=0.05, clip=(0.0, 1.0), seed=None):
        super().__init__(seed)
        if std < 0:
            raise ValueError(f"GaussianNoise: std must be >= 0, got {std}")
        self.std, self.clip = float(std), clip

    def apply(self, batch):
        _float("GaussianNoise", batch)
        out = batch + self.std * self.rng.standard_normal(batch.shape)
        if self.clip is not None:
            out = np.clip(out, *self.clip)
        return out.astype(batch.dtype, copy=False)


class Compose:
    """Apply transforms one after another: ``Compose([RandomRotation(10), GaussianNoise(0.02)])``."""

    def __init__(self, transforms):
        self.transforms = list(transforms)
        for t in self.transforms:
            if not callable(t):
                raise TypeError(f"Compose: every transform must be callable, got {type(t).__name__}")

    def __call__(self, images):
        for t in self.transforms:
            images = t(images)
        return images

    def __repr__(self):
        inner = ", ".join(type(t).__name__ for t in self.transforms)
        return f"Compose([{inner}])"
