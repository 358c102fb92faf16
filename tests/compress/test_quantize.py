"""Int8 quantisation (``tinymed.compress.quantize``, ``kernels/*/quantized.py``): the integer kernels
equal the integer sums they state (and the fast backends equal the reference exactly); a quantised
value is within half a step of the original; a quantised layer computes exactly the float layer of
the dequantised numbers and stays within its error bound of the float one; a whole model converts,
stays close to float and stores a byte per weight; bad input."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import tinymed
from tests.helpers import compare, on_fast_backends, reference
from tests.strategies import conv_geometry, seeds
from tinymed import Tensor, nn
from tinymed.compress import prune, quantize, storage_bytes
from tinymed.compress.quantize import MinMaxObserver, QuantizedConv2d, QuantizedLinear, quantize_weight_per_channel
from tinymed.kernels.reference.conv import conv2d_forward


def _int8(rng, shape, low=-128):
    return rng.integers(low, 128, shape).astype(np.int8)


# ----- kernels ------------------------------------------------------------------------------------
@given(st.integers(0, 5), st.integers(1, 40), st.integers(1, 6), st.integers(-128, 127), seeds)
def test_int8_linear_is_the_integer_sum(rows, k, j, zero_point, seed):
    rng = np.random.default_rng(seed)
    qx, qw = _int8(rng, (rows, k)), _int8(rng, (j, k), low=-127)
    expected = (qx.astype(np.int64) - zero_point) @ qw.astype(np.int64).T
    actual = reference("int8_linear_forward", qx, zero_point, qw)
    assert actual.dtype == np.int32
    np.testing.assert_array_equal(actual, expected)


@given(conv_geometry(), st.integers(-128, 127), seeds)
def test_int8_conv2d_is_the_float_convolution_of_the_shifted_integers(geometry, zero_point, seed):
    """Integers up to 255 * 127 * (C*KH*KW) are exact in float64, so the float convolution of
    ``qx - z`` and ``qw`` is the integer answer."""
    x_shape, w_shape, stride, padding, dilation = geometry
    rng = np.random.default_rng(seed)
    qx, qw = _int8(rng, x_shape), _int8(rng, w_shape, low=-127)
    expected = conv2d_forward(qx.astype(np.float64) - zero_point, qw.astype(np.float64), None, stride, padding,
                              dilation)
    actual = reference("int8_conv2d_forward", qx, zero_point, qw, stride, padding, dilation)
    assert actual.dtype == np.int32
    np.testing.assert_array_equal(actual, expected.astype(np.int64))


@on_fast_backends
@given(conv_geometry(max_channels=4, max_side=9), st.integers(0, 4), st.integers(1, 30), st.integers(-128, 127), seeds)
def test_fast_backends_equal_the_reference_exactly(name, geometry, rows, k, zero_point, seed):
    x_shape, w_shape, stride, padding, dilation = geometry
    rng = np.random.default_rng(seed)
    compare("int8_conv2d_forward", name, (_int8(rng, x_shape), zero_point, _int8(rng, w_shape, -127), stride,
                                          padding, dilation), np.int32)
    compare("int8_linear_forward", name, (_int8(rng, (rows, k)), zero_point, _int8(rng, (3, k), -127)), np.int32)


@given(st.floats(1e-3, 10.0), st.integers(-128, 127), seeds)
def test_quantize_per_tensor_is_within_half_a_step_inside_its_range(scale, zero_point, seed):
    rng = np.random.default_rng(seed)
    lo, hi = scale * (-128 - zero_point), scale * (127 - zero_point)
    x = rng.uniform(lo, hi, 50)
    q = reference("quantize_per_tensor", x, scale, zero_point)
    assert q.dtype == np.int8
    assert np.all(np.abs(scale * (q.astype(np.float64) - zero_point) - x) <= scale / 2 * (1 + 1e-12))
    clipped = reference("quantize_per_tensor", np.array([lo - 5 * scale, hi + 5 * scale]), scale, zero_point)
    np.testing.assert_array_equal(clipped, [-128, 127])


@given(st.integers(1, 5), st.integers(1, 8), seeds)
def test_per_channel_weights_use_the_whole_range_and_keep_zeros(out, k, seed):
    rng = np.random.default_rng(seed)
    w = rng.standard_normal((out, k)) * rng.uniform(0.01, 100, (out, 1))
    w[rng.random(w.shape) < 0.3] = 0.0
    w[0] = 0.0  # a channel pruned away entirely
    q, scales = quantize_weight_per_channel(w)
    assert q.dtype == np.int8 and scales.dtype == np.float32 and np.all(np.abs(q) <= 127)
    assert np.all(q[w == 0] == 0) and scales[0] == 1.0
    assert np.all(np.abs(q * scales[:, None].astype(np.float64) - w) <= scales[:, None] / 2 * 1.0001)
    nonzero = np.abs(w).max(axis=1) > 0
    assert np.all(np.abs(q[nonzero]).max(axis=1) == 127)


def test_minmax_observer_keeps_zero_exact():
    observer = MinMaxObserver()
    observer(Tensor(np.array([0.5, 3.0], dtype=np.float32)))  # all positive: the range still starts at 0
    scale, zero_point = observer.calculate_qparams()
    assert zero_point == -128 and scale == pytest.approx(3.0 / 255)
    observer(np.array([-1.0, 2.0]))
    scale, zero_point = observer.calculate_qparams()
    assert scale == pytest.approx(4.0 / 255) and zero_point == -128 + round(1.0 / scale)


# ----- layers -------------------------------------------------------------------------------------
def _calibrated(layer, x):
    observer = MinMaxObserver()
    observer(x)
    return observer


def test_quantized_linear_is_the_float_layer_of_the_dequantised_numbers_and_within_its_bound(backend, rng):
    layer = nn.Linear(20, 6)
    x = rng.standard_normal((30, 20)).astype(np.float32) * 2
    ql = QuantizedLinear.from_float(layer, _calibrated(layer, x))
    y_q = ql(Tensor(tinymed.backend.asarray(x))).numpy()
    s_x, z = float(ql.input_scale.item()), ql.zero_point
    x_hat = s_x * (reference("quantize_per_tensor", x, ql.input_scale.numpy(), z).astype(np.float64) - z)
    w_hat = ql.weight.numpy().astype(np.float64) * ql.weight_scale.numpy()[:, None]
    np.testing.assert_allclose(y_q, x_hat @ w_hat.T + layer.bias.numpy(), rtol=1e-5, atol=1e-5)
    y = x.astype(np.float64) @ layer.weight.numpy().T.astype(np.float64) + layer.bias.numpy()
    s_w = np.broadcast_to(ql.weight_scale.numpy()[:, None], w_hat.shape)
    bound = (np.abs(x) @ s_w.T + s_x * np.abs(w_hat).sum(1)) / 2
    assert np.all(np.abs(y_q - y) <= bound + 1e-4)


def test_quantized_conv2d_is_the_float_layer_of_the_dequantised_numbers(backend, rng):
    layer = nn.Conv2d(3, 4, 3, stride=2, padding="valid")
    layer_same = nn.Conv2d(3, 4, 3, padding="same")
    x = np.maximum(rng.standard_normal((2, 3, 9, 9)), 0).astype(np.float32)  # a ReLU's output: zero point -128
    for float_layer in (layer, layer_same):
        ql = QuantizedConv2d.from_float(float_layer, _calibrated(float_layer, x))
        y_q = ql(Tensor(tinymed.backend.asarray(x))).numpy()
        s_x, z = float(ql.input_scale.item()), ql.zero_point
        x_hat = s_x * (reference("quantize_per_tensor", x, ql.input_scale.numpy(), z).astype(np.float64) - z)
        w_hat = ql.weight.numpy().astype(np.float64) * ql.weight_scale.numpy()[:, None, None, None]
        expected = conv2d_forward(x_hat, w_hat, float_layer.bias.numpy().astype(np.float64), ql.stride, ql.padding,
                                  ql.dilation)
        np.testing.assert_allclose(y_q, expected, rtol=1e-5, atol=1e-5)
        assert ql(Tensor(x[0])).shape == y_q.shape[1:]  # one unbatched image


def _cnn():
    return nn.Sequential(nn.Conv2d(1, 8, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2), nn.Conv2d(8, 8, 3, padding=1),
                         nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(), nn.Linear(8 * 4 * 4, 2))


def test_a_converted_model_stays_close_to_float_and_stores_a_byte_per_weight(rng):
    tinymed.manual_seed(0)
    model = _cnn().eval()
    images = rng.random((64, 1, 16, 16)).astype(np.float32)
    int8_model = quantize.quantize(model, lambda m, x: m(Tensor(x)), (images[:32],))
    assert sum(isinstance(m, (QuantizedLinear, QuantizedConv2d)) for m in int8_model.modules()) == 3
    assert not any(isinstance(m, QuantizedLinear) for m in model.modules())  # the original is untouched
    y, y_q = model(Tensor(images)).numpy(), int8_model(Tensor(images)).numpy()
    # an untrained network's outputs are small sums of large terms that cancel, which makes relative
    # errors look large; lesson 23 measures a trained one
    assert np.linalg.norm(y_q - y) < 0.08 * np.linalg.norm(y) and np.corrcoef(y.ravel(), y_q.ravel())[0, 1] > 0.998
    # a byte per weight; four per channel for its scale and its bias; eight per layer for the input's
    # scale and zero point
    layers = [model[0], model[3], model[7]]
    assert storage_bytes(int8_model) == sum(m.weight.size + 8 * m.weight.shape[0] + 8 for m in layers)
    assert storage_bytes(model) == 4 * sum(m.weight.size + m.bias.size for m in layers)


def test_pruning_and_quantisation_combine(rng):
    model = _cnn().eval()
    prune.global_unstructured([(model[0], "weight"), (model[3], "weight"), (model[7], "weight")],
                              prune.L1Unstructured, amount=0.8)
    images = rng.random((16, 1, 16, 16)).astype(np.float32)
    int8_model = quantize.quantize(model, lambda m: m(Tensor(images)))
    for float_layer, int8_layer in ((model[0], int8_model[0]), (model[7], int8_model[7])):
        assert np.array_equal(int8_layer.weight.numpy() == 0, float_layer.weight.numpy() == 0)


# ----- bad input ----------------------------------------------------------------------------------
def test_bad_input_is_refused_by_name(rng):
    model = _cnn()
    with pytest.raises(TypeError, match="prepare: model must be a tinymed.nn.Module"):
        quantize.prepare("model")
    with pytest.raises(RuntimeError, match="no data observed"):
        quantize.convert(quantize.prepare(model))
    with pytest.raises(ValueError, match="no observed Linear or Conv2d"):
        quantize.convert(model)
    prepared = quantize.prepare(model)
    prepared(Tensor(rng.random((2, 1, 16, 16)).astype(np.float32)))
    int8_model = quantize.convert(prepared)
    with pytest.raises(ValueError, match="QuantizedConv2d: input has 2 channels"):
        int8_model(Tensor(np.zeros((1, 2, 16, 16), np.float32)))
    with pytest.raises(TypeError, match="QuantizedLinear: input must be floating point"):
        int8_model[7](Tensor(np.zeros((1, 128), np.int64)))
    with pytest.raises(TypeError, match="must stay int8"):
        int8_model.double()(Tensor(np.zeros((1, 1, 16, 16))))
