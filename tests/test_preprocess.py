"""Preprocessing (article 003 §3.2.1, F20): cleaning, normalisation, augmentation."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from tinymed.data.augment import (
    Compose,
    GaussianNoise,
    RandomBrightnessContrast,
    RandomHorizontalFlip,
    RandomRotation,
    RandomScale,
    RandomShift,
    RandomVerticalFlip,
    bilinear_sample,
)
from tinymed.data.breast_cancer import load_breast_cancer
from tinymed.data.preprocess import Cleaner, MinMaxScaler, StandardScaler, clean
from tinymed.data.split import stratified_split


# ----- cleaning ---------------------------------------------------------------------------
@pytest.fixture
def messy():
    """200 rows, 3 columns; NaN/inf in known places and two far outliers in column 1."""
    rng = np.random.default_rng(0)
    X = rng.normal([10.0, 50.0, 0.0], [1.0, 5.0, 2.0], size=(200, 3))
    X[[3, 17, 40], 0] = np.nan
    X[5, 2] = np.inf
    X[[60, 61], 1] = [500.0, -400.0]
    return X


def test_clean_median_fill_and_clip(messy):
    X, report = clean(messy, missing="median", outliers="clip", z=4.0)
    assert X.shape == messy.shape and np.isfinite(X).all()
    observed = messy[np.isfinite(messy[:, 0]), 0]
    assert np.all(X[[3, 17, 40], 0] == np.median(observed))
    assert report.missing.tolist() == [3, 0, 1] and report.filled.tolist() == [3, 0, 1]
    assert report.outliers.tolist() == [0, 2, 0] and report.clipped.tolist() == [0, 2, 0]
    col = messy[:, 1]
    assert X[60, 1] == pytest.approx(col.mean() + 4 * col.std())
    assert X[61, 1] == pytest.approx(col.mean() - 4 * col.std())
    untouched = np.ones(200, bool)
    untouched[[3, 5, 17, 40, 60, 61]] = False
    assert np.array_equal(X[untouched], messy[untouched])
    assert report.n_rows_in == report.n_rows_out == 200
    assert "x1" in str(report) and "2" in str(report)


def test_clean_mean_fill(messy):
    X, _ = clean(messy, missing="mean", outliers="keep")
    assert X[3, 0] == pytest.approx(np.nanmean(messy[:, 0]))
    assert X[60, 1] == 500.0


def test_clean_drop_rows_and_keep_y_aligned(messy):
    y = np.arange(200)
    X, y_clean, report = clean(messy, y, missing="drop", outliers="drop", feature_names=["age", "crp", "bmi"])
    dropped = {3, 5, 17, 40, 60, 61}
    assert len(X) == len(y_clean) == 194 and not dropped & set(y_clean.tolist())
    assert np.array_equal(X, messy[y_clean])
    assert report.rows_dropped_missing == 4 and report.rows_dropped_outliers == 2
    assert report.kept.sum() == 194 and report.filled.sum() == 0
    assert "crp" in str(report)


def test_clean_error_policy_names_columns(messy):
    with pytest.raises(ValueError, match="x0, x2"):
        clean(messy, missing="error")
    X, report = clean(messy[:, 1:2], missing="error", outliers="keep")
    assert report.missing.sum() == 0


def test_cleaner_learns_on_training_rows_only(messy):
    train, test = messy[:100], messy[100:].copy()
    test[0, 0] = np.nan
    test[1, 1] = 1e6
    cleaner = Cleaner(missing="median", outliers="clip", z=3.0).fit(train)
    cleaned = cleaner.transform(test)
    assert cleaned[0, 0] == np.nanmedian(train[:, 0])
    finite = np.where(np.isfinite(train), train, np.nan)
    assert cleaned[1, 1] == pytest.approx(np.nanmean(finite[:, 1]) + 3 * np.nanstd(finite[:, 1]))
    assert cleaner.report_.clipped[1] >= 1


def test_cleaner_errors():
    with pytest.raises(ValueError, match="missing must be"):
        Cleaner(missing="zero")
    with pytest.raises(ValueError, match="outliers must be"):
        Cleaner(outliers="winsorise")
    with pytest.raises(ValueError, match="not fitted"):
        Cleaner().transform(np.zeros((2, 2)))
    with pytest.raises(ValueError, match="features"):
        Cleaner().fit(np.zeros((3, 2))).transform(np.zeros((3, 4)))
    with pytest.raises(ValueError, match="no observed values"):
        Cleaner().fit(np.array([[1.0, np.nan], [2.0, np.nan]]))
    with pytest.raises(ValueError, match="2-D"):
        Cleaner().fit(np.zeros(5))


# ----- normalisation ----------------------------------------------------------------------
def test_standard_scaler_fits_on_training_split_only():
    X, y = load_breast_cancer()
    (X_tr, _), (X_val, _), (X_te, _) = stratified_split(X, y, val=0.15, test=0.15, seed=0)
    scaler = StandardScaler().fit(X_tr)
    # no leakage: the statistics are exactly those of the training rows
    np.testing.assert_array_equal(scaler.mean_, X_tr.mean(axis=0))
    np.testing.assert_allclose(scaler.scale_, X_tr.std(axis=0), rtol=1e-12)
    assert not np.allclose(scaler.mean_, X.mean(axis=0))
    Z_tr, Z_te = scaler.transform(X_tr), scaler.transform(X_te)
    np.testing.assert_allclose(Z_tr.mean(axis=0), 0, atol=1e-12)
    np.testing.assert_allclose(Z_tr.std(axis=0), 1, rtol=1e-12)
    np.testing.assert_allclose(Z_te, (X_te - X_tr.mean(0)) / X_tr.std(0), rtol=1e-10)
    assert np.abs(Z_te.mean(axis=0)).max() > 1e-3             # the test split is not re-centred
    np.testing.assert_allclose(scaler.inverse_transform(Z_te), X_te, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(StandardScaler().fit_transform(X_tr), Z_tr)


def test_min_max_scaler_fits_on_training_split_only():
    rng = np.random.default_rng(1)
    X_tr, X_te = rng.uniform(-3, 7, (50, 4)), rng.uniform(-5, 9, (20, 4))
    scaler = MinMaxScaler(feature_range=(-1, 1)).fit(X_tr)
    np.testing.assert_array_equal(scaler.data_min_, X_tr.min(0))
    np.testing.assert_array_equal(scaler.data_max_, X_tr.max(0))
    Z_tr = scaler.transform(X_tr)
    np.testing.assert_allclose(Z_tr.min(0), -1)
    np.testing.assert_allclose(Z_tr.max(0), 1)
    Z_te = scaler.transform(X_te)
    assert Z_te.min() < -1 and Z_te.max() > 1                     # test values beyond the training range
    np.testing.assert_allclose(scaler.inverse_transform(Z_te), X_te, rtol=1e-12, atol=1e-12)
    clipped = MinMaxScaler(clip=True).fit(X_tr).transform(X_te)
    assert clipped.min() == 0 and clipped.max() == 1


def test_scalers_constant_column_and_nan():
    X = np.array([[1.0, 5.0], [2.0, 5.0], [np.nan, 5.0], [3.0, 5.0]])
    Z = StandardScaler().fit_transform(X)
    assert np.isnan(Z[2, 0]) and np.all(Z[:, 1] == 0)
    M = MinMaxScaler().fit_transform(X)
    np.testing.assert_allclose(M[[0, 1, 3], 0], [0, 0.5, 1])
    np.testing.assert_array_equal(M[:, 1], 0)


def test_float32_stays_float32(messy):
    X = messy.astype(np.float32)
    assert clean(X)[0].dtype == np.float32
    assert StandardScaler().fit_transform(X[10:]).dtype == np.float32
    assert MinMaxScaler().fit_transform(X[10:]).dtype == np.float32
    assert StandardScaler().fit_transform(np.arange(6).reshape(3, 2)).dtype == np.float64


def test_scaler_errors():
    with pytest.raises(ValueError, match="not fitted"):
        StandardScaler().transform(np.zeros((2, 2)))
    with pytest.raises(ValueError, match="3 features, but was fitted on 2"):
        MinMaxScaler().fit(np.zeros((2, 2))).transform(np.zeros((2, 3)))
    with pytest.raises(ValueError, match="feature_range"):
        MinMaxScaler(feature_range=(1, 0))


# ----- augmentation -----------------------------------------------------------------------
@pytest.fixture
def batch():
    return np.random.default_rng(2).random((5, 2, 9, 9)).astype(np.float32)


@pytest.mark.parametrize("transform", [
    RandomRotation(0), RandomScale((1.0, 1.0)), RandomShift(0), RandomHorizontalFlip(p=0.0),
    RandomVerticalFlip(p=0.0), RandomBrightnessContrast(0.0, 0.0), GaussianNoise(0.0),
    Compose([RandomRotation(0), RandomScale(0.0), GaussianNoise(0.0)]),
])
def test_identity_at_zero_strength(transform, batch):
    out = transform(batch)
    assert out.dtype == batch.dtype and out.shape == batch.shape
    np.testing.assert_array_equal(out, batch)
    np.testing.assert_array_equal(transform(batch[0]), batch[0])          # a single (C, H, W) image


@pytest.mark.parametrize("degrees, k", [(90, 1), (-90, -1), (180, 2), (270, 3)])
def test_rotation_by_right_angles_equals_rot90(degrees, k, batch):
    out = RandomRotation((degrees, degrees))(batch)
    np.testing.assert_allclose(out, np.rot90(batch, k, axes=(-2, -1)), atol=1e-6)


def test_rotation_45_degrees_keeps_the_centre_and_moves_corners_in():
    image = np.zeros((1, 11, 11))
    image[0, 5, :] = 1.0                                                  # a horizontal line
    out = RandomRotation((45, 45))(image)[0]
    assert out[5, 5] == pytest.approx(1.0)
    diagonal = [out[5 - d, 5 + d] for d in range(-3, 4)]                  # counter-clockwise: up-right
    assert min(diagonal) > 0.99 and out[5, 8] < 0.5


def test_scale_of_a_linear_ramp_stays_a_linear_ramp():
    h, w = 16, 20
    ramp = (0.5 * np.arange(w) + 2.0 * np.arange(h)[:, None] + 1.0)[None, None]
    for s in (0.8, 1.3):
        out = RandomScale((s, s))(ramp)[0, 0]
        rows, cols = np.meshgrid(np.arange(h), np.arange(w), indexing="ij")
        # the source of pixel (r, c) is the centre + (r - centre, c - centre) / s
        src_rows, src_cols = (rows - (h - 1) / 2) / s + (h - 1) / 2, (cols - (w - 1) / 2) / s + (w - 1) / 2
        expected = 0.5 * src_cols + 2.0 * src_rows + 1.0
        inner = (slice(4, -4), slice(4, -4)) if s < 1 else (slice(None), slice(None))
        np.testing.assert_allclose(out[inner], expected[inner], rtol=1e-12)
        np.testing.assert_allclose(np.diff(out[inner], axis=1), 0.5 / s, rtol=1e-10)


def test_bilinear_sample_formula():
    image = np.arange(12.0).reshape(1, 1, 3, 4)
    rows, cols = np.array([[[0.5, 1.25, -1.0]]]), np.array([[[0.5, 2.5, 0.0]]])
    out = bilinear_sample(image, rows, cols, fill=-7.0)[0, 0, 0]
    assert out[0] == pytest.approx((0 + 1 + 4 + 5) / 4)
    assert out[1] == pytest.approx(0.75 * (6 + 7) / 2 + 0.25 * (10 + 11) / 2)
    assert out[2] == -7.0                                                 # both neighbours above the image


def test_flips(batch):
    np.testing.assert_array_equal(RandomHorizontalFlip(p=1.0)(batch), batch[..., ::-1])
    np.testing.assert_array_equal(RandomVerticalFlip(p=1.0)(batch), batch[..., ::-1, :])
    flipped = RandomHorizontalFlip(p=0.5, seed=0)(np.repeat(batch[:1], 200, axis=0))
    n_flipped = sum(np.array_equal(f, batch[0, :, :, ::-1]) for f in flipped)
    assert 70 < n_flipped < 130


def test_shift_moves_pixels_and_fills():
    image = np.arange(25.0).reshape(1, 5, 5)
    for seed in range(5):
        out = RandomShift(2, fill=-1.0, seed=seed)(image)[0]
        (r, c), = np.argwhere(out == 12.0)                               # where the centre pixel went
        dr, dc = r - 2, c - 2
        for i in range(5):
            for j in range(5):
                inside = 0 <= i - dr < 5 and 0 <= j - dc < 5
                assert out[i, j] == (image[0, i - dr, j - dc] if inside else -1.0)


def test_brightness_contrast_and_noise_change_values(batch):
    out = RandomBrightnessContrast(0.2, 0.3, seed=0)(batch)
    assert not np.array_equal(out, batch) and out.min() >= 0 and out.max() <= 1
    noisy = GaussianNoise(0.1, clip=None, seed=0)(np.full((2, 1, 64, 64), 0.5))
    assert noisy.std() == pytest.approx(0.1, rel=0.05)


@pytest.mark.parametrize("make", [
    lambda s: RandomRotation(30, seed=s), lambda s: RandomScale((0.7, 1.3), seed=s),
    lambda s: RandomShift(3, seed=s), lambda s: RandomHorizontalFlip(seed=s),
    lambda s: RandomBrightnessContrast(0.2, 0.2, seed=s), lambda s: GaussianNoise(0.05, seed=s),
    lambda s: Compose([RandomRotation(10, seed=s), RandomScale(0.1, seed=s + 1), GaussianNoise(0.02, seed=s + 2)]),
])
def test_seeded_transforms_are_reproducible(make, batch):
    a, b, c = make(3), make(3), make(4)
    first, second = a(batch), a(batch)
    np.testing.assert_array_equal(first, b(batch))
    np.testing.assert_array_equal(second, b(batch))
    assert not np.array_equal(first, c(batch)) or not np.array_equal(second, c(batch))


def test_generator_as_seed_and_per_image_parameters(batch):
    rng = np.random.default_rng(5)
    same = np.repeat(batch[:1], 4, axis=0)
    out = RandomRotation(40, seed=rng)(same)
    assert not np.allclose(out[0], out[1])                                # each image its own angle


def test_augmentation_as_a_dataloader_transform(batch):
    transform = Compose([RandomHorizontalFlip(seed=0), RandomRotation(10, seed=1), RandomScale(0.1, seed=2),
                         RandomShift(1, seed=3), RandomBrightnessContrast(0.1, 0.1, seed=4),
                         GaussianNoise(0.01, seed=5)])
    out = transform(batch)
    assert out.shape == batch.shape and out.dtype == np.float32 and "RandomRotation" in repr(transform)


def test_augmentation_errors(batch):
    with pytest.raises(ValueError, match=r"\(C, H, W\)"):
        RandomRotation(10)(batch[0, 0])
    with pytest.raises(TypeError, match="floating-point"):
        RandomRotation(10)((batch * 255).astype(np.uint8))
    with pytest.raises(TypeError, match="NumPy array"):
        GaussianNoise(0.1)(batch.tolist())
    with pytest.raises(ValueError, match="p must be"):
        RandomVerticalFlip(p=2)
    with pytest.raises(ValueError, match="scale"):
        RandomScale((0.0, 1.0))
    with pytest.raises(ValueError, match="max_pixels"):
        RandomShift(1.5)
    with pytest.raises(TypeError, match="callable"):
        Compose([3])


# ----- properties -------------------------------------------------------------------------
images = st.tuples(st.integers(1, 3), st.integers(1, 3), st.integers(2, 9), st.integers(2, 9)).flatmap(
    lambda shape: arrays(np.float64, shape, elements=st.floats(0, 1)))


@given(images, st.floats(0, 1), st.floats(0, 1), st.integers(0, 2**32 - 1))
def test_brightness_contrast_stays_in_bounds(x, brightness, contrast, seed):
    out = RandomBrightnessContrast(brightness, contrast, seed=seed)(x)
    assert out.min() >= 0.0 and out.max() <= 1.0
    unclipped = RandomBrightnessContrast(brightness, contrast, clip=None, seed=seed)(x)
    mean = x.mean(axis=(1, 2, 3), keepdims=True)
    # |x' - mean - b| = c |x - mean| <= (1 + contrast) |x - mean|, and |b| <= brightness
    assert np.all(np.abs(unclipped - mean) <= (1 + contrast) * np.abs(x - mean) + brightness + 1e-12)


@given(images, st.integers(0, 2**32 - 1))
def test_flips_are_involutions(x, seed):
    for flip in (RandomHorizontalFlip(p=1.0, seed=seed), RandomVerticalFlip(p=1.0, seed=seed)):
        np.testing.assert_array_equal(flip(flip(x)), x)
    random_flip = RandomHorizontalFlip(p=0.5, seed=seed)
    out = random_flip(x)
    for original, result in zip(x, out):        # each image is either untouched or mirrored
        assert np.array_equal(result, original) or np.array_equal(result, original[..., ::-1])


@given(images, st.integers(-3, 3))
def test_rotation_by_multiples_of_90_degrees_is_exact_on_square_images(x, k):
    square = x[..., :min(x.shape[-2:]), :min(x.shape[-2:])]
    out = RandomRotation((90 * k, 90 * k))(square)
    np.testing.assert_allclose(out, np.rot90(square, k, axes=(-2, -1)), atol=1e-12)


@given(images, st.floats(0.5, 2.0), st.floats(-45, 45))
def test_geometric_transforms_stay_within_the_value_range(x, scale, degrees):
    # bilinear interpolation is a convex combination of pixels and the fill value
    for t in (RandomScale((scale, scale), fill=0.0), RandomRotation((degrees, degrees), fill=0.0)):
        out = t(x)
        assert out.min() >= min(x.min(), 0.0) - 1e-12 and out.max() <= x.max() + 1e-12
