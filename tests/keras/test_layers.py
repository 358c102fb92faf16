"""Keras's layers and losses in tinymed.keras: channels-last images, inferred sizes, Keras's names."""

import math

import numpy as np
import pytest

import tinymed
from tinymed.keras import layers, losses
from tinymed.nn import functional as F


# ----- Keras layers ------------------------------------------------------------------------
def test_dense_infers_its_input_size_and_uses_glorot():
    tinymed.manual_seed(0)
    layer = layers.Dense(8, activation="relu")
    assert not layer.built
    out = layer(tinymed.Tensor(np.ones((3, 5), np.float32)))
    assert out.shape == (3, 8) and layer.weight.shape == (8, 5)
    limit = math.sqrt(6 / (5 + 8))
    assert np.abs(layer.weight.numpy()).max() <= limit and np.all(layer.bias.numpy() == 0)
    assert np.all(out.numpy() >= 0)


def test_conv2d_channels_last_equals_the_nchw_op():
    tinymed.manual_seed(1)
    layer = layers.Conv2D(4, (3, 3), padding="same", input_shape=(7, 6, 2))
    x = np.random.default_rng(0).normal(size=(2, 7, 6, 2)).astype(np.float32)
    got = layer(tinymed.Tensor(x)).numpy()
    nchw = F.conv2d(tinymed.Tensor(x.transpose(0, 3, 1, 2)), layer.weight, layer.bias, padding=1).numpy()
    assert got.shape == (2, 7, 6, 4)
    np.testing.assert_allclose(got, nchw.transpose(0, 2, 3, 1), rtol=1e-5, atol=1e-6)


def test_pooling_and_flatten_follow_keras_channels_last_order():
    x = np.arange(2 * 4 * 4 * 3, dtype=np.float32).reshape(2, 4, 4, 3)
    pooled = layers.MaxPooling2D((2, 2))(tinymed.Tensor(x)).numpy()
    expected = x.reshape(2, 2, 2, 2, 2, 3).max(axis=(2, 4))
    np.testing.assert_array_equal(pooled, expected)
    avg = layers.AveragePooling2D()(tinymed.Tensor(x)).numpy()
    np.testing.assert_allclose(avg, x.reshape(2, 2, 2, 2, 2, 3).mean(axis=(2, 4)))
    flat = layers.Flatten()(tinymed.Tensor(pooled)).numpy()
    np.testing.assert_array_equal(flat, pooled.reshape(2, -1))  # (H, W, C) order, as Keras


@pytest.mark.parametrize("build, match", [
    (lambda: layers.Dense(0), "units must be a positive integer"),
    (lambda: layers.Dense(3, activation="swishy"), "unknown activation 'swishy'"),
    (lambda: layers.Conv2D(4, (3, 3), padding="full"), "padding must be 'valid' or 'same'"),
    (lambda: layers.Conv2D(4, 3, strides=2, padding="same"), "strides 1 only"),
    (lambda: layers.Conv2D(4, (3, 3), input_shape=(8, 8)), r"expected images \(H, W, C\)"),
    (lambda: layers.MaxPooling2D((2, 0)), r"pool_size must be an int or a pair of ints >= 1"),
])
def test_keras_layer_errors(build, match):
    with pytest.raises(ValueError, match=match):
        build()


def test_dense_rejects_a_wrong_feature_size():
    layer = layers.Dense(2, input_shape=(3,))
    with pytest.raises(ValueError, match="expected inputs with 3 features"):
        layer(tinymed.Tensor(np.ones((4, 5), np.float32)))


# ----- losses ------------------------------------------------------------------------------
def test_keras_losses_match_their_formulas():
    p = np.array([[0.7, 0.2, 0.1], [0.1, 0.1, 0.8], [0.0, 1.0, 0.0]], np.float32)
    y = np.array([0, 2, 0])
    sparse = losses.SparseCategoricalCrossentropy()(y, tinymed.Tensor(p)).item()
    expected = -np.mean(np.log(np.clip(p[np.arange(3), y], 1e-7, 1)))
    assert sparse == pytest.approx(expected, rel=1e-6)
    onehot = np.eye(3, dtype=np.float32)[y]
    assert losses.CategoricalCrossentropy()(onehot, tinymed.Tensor(p)).item() == pytest.approx(expected, rel=1e-6)
    logits = np.log(np.array([[0.7, 0.2, 0.1]], np.float32))
    ce = losses.SparseCategoricalCrossentropy(from_logits=True)(np.array([1]), tinymed.Tensor(logits)).item()
    assert ce == pytest.approx(-np.log(0.2), rel=1e-5)
    bce = losses.BinaryCrossentropy()(np.array([1.0, 0.0]), tinymed.Tensor(np.array([[0.8], [0.4]], np.float32)))
    assert bce.item() == pytest.approx(-(np.log(0.8) + np.log(0.6)) / 2, rel=1e-6)


def test_loss_names_and_errors():
    assert isinstance(losses.get("binary_crossentropy"), losses.BinaryCrossentropy)
    assert isinstance(losses.get("MSE"), losses.MeanSquaredError)
    with pytest.raises(ValueError, match="unknown loss 'hinge'"):
        losses.get("hinge")
    with pytest.raises(ValueError, match=r"labels must lie in \[0, 3\)"):
        losses.SparseCategoricalCrossentropy()(np.array([3]), tinymed.Tensor(np.full((1, 3), 1 / 3, np.float32)))


def test_sparse_categorical_gradient_matches_central_differences():
    from tinymed.gradcheck import check

    rng = np.random.default_rng(3)
    p = rng.uniform(0.05, 0.9, (4, 3))
    y = np.array([0, 2, 1, 2])
    report = check(lambda t: losses.SparseCategoricalCrossentropy()(y, t), tinymed.Tensor(p, requires_grad=True))
    assert report.passed, report
