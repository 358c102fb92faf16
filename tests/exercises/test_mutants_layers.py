"""Wrong solutions a student might write for the layer exercises (losses, dense, activations, softmax,
convolution, pooling): each loses marks and is told which mistake it made."""

import numpy as np
import pytest


# ----- mse_loss ----------------------------------------------------------------------------------
def mse_summed(input, target):
    return ((input - target) ** 2).sum()


def mse_grad_as_the_article_writes_it(input, target):
    return 2 * (target - input)


def mse_grad_without_the_mean(input, target):
    return 2 * (input - target)


def mse_grad_without_the_two(input, target):
    return (input - target) / input.size


def mse_grad_sign_flipped(input, target):
    return 2 * (target - input) / input.size


# ----- linear_backward -------------------------------------------------------------------------------
def linear_dw_transposed(dy, x, w):
    return dy @ w, x.T @ dy, dy.sum(axis=0)


def linear_no_bias_gradient(dy, x, w):
    return dy @ w, dy.T @ x, np.zeros(w.shape[0])


def linear_bias_not_summed(dy, x, w):
    return dy @ w, dy.T @ x, dy


def linear_assigned_in_a_loop(dy, x, w):
    dw, db = np.zeros_like(w), np.zeros(w.shape[0])
    for n in range(len(x)):
        dw = np.outer(dy[n], x[n])
        db = dy[n]
    return dy @ w, dw, db


def linear_weights_averaged(dy, x, w):
    return dy @ w, dy.T @ x / len(x), dy.sum(axis=0)


# ----- activations ----------------------------------------------------------------------------------
def relu_at_the_kink(dy, x):
    return dy * (x >= 0)


def relu_passes_everything(dy, x):
    return dy.copy()


def sigmoid_of_y_again(dy, y):
    s = 1 / (1 + np.exp(-y))
    return dy * s * (1 - s)


def sigmoid_without_dy(dy, y):
    return y * (1 - y)


def tanh_not_squared(dy, y):
    return dy * (1 - y)


# ----- softmax_cross_entropy ------------------------------------------------------------------------
def softmax_naive(z):
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


def softmax_over_columns(z):
    e = np.exp(z - z.max(axis=0, keepdims=True))
    return e / e.sum(axis=0, keepdims=True)


def cross_entropy_log_of_probabilities(z, target):
    e = np.exp(z - z.max(axis=1, keepdims=True))
    p = e / e.sum(axis=1, keepdims=True)
    return -np.mean(np.log(p[np.arange(len(target)), target]))


def cross_entropy_grad_without_one_hot(z, target):
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True) / len(target)


def cross_entropy_grad_summed(z, target):
    e = np.exp(z - z.max(axis=1, keepdims=True))
    p = e / e.sum(axis=1, keepdims=True)
    p[np.arange(len(target)), target] -= 1
    return p


def cross_entropy_grad_sign(z, target):
    e = np.exp(z - z.max(axis=1, keepdims=True))
    p = e / e.sum(axis=1, keepdims=True)
    p[np.arange(len(target)), target] -= 1
    return -p / len(target)


# ----- conv2d_loops ---------------------------------------------------------------------------------
def _conv_loops(x, w, b, stride, pad_before, pad_after, flip=False, bias=True, scale=1.0):
    n, c, h, wd = x.shape
    k, _, kh, kw = w.shape
    xp = np.pad(x, ((0, 0), (0, 0), (pad_before, pad_after), (pad_before, pad_after)))
    oh = (h + pad_before + pad_after - kh) // stride + 1
    ow = (wd + pad_before + pad_after - kw) // stride + 1
    filters = w[:, :, ::-1, ::-1] if flip else w
    y = np.zeros((n, k, oh, ow))
    for i in range(oh):
        for j in range(ow):
            patch = xp[:, :, i * stride:i * stride + kh, j * stride:j * stride + kw]
            y[:, :, i, j] = np.tensordot(patch, filters, axes=([1, 2, 3], [1, 2, 3])) * scale
    return y + (b[None, :, None, None] if bias else 0)


def conv_padded_on_one_side(x, w, b, stride, padding):
    return _conv_loops(x, w, b, stride, 2 * padding, 0)


def conv_true_convolution(x, w, b, stride, padding):
    return _conv_loops(x, w, b, stride, padding, padding, flip=True)


def conv_forgot_the_bias(x, w, b, stride, padding):
    return _conv_loops(x, w, b, stride, padding, padding, bias=False)


def conv_averaged_patches(x, w, b, stride, padding):
    return _conv_loops(x, w, np.zeros_like(b), stride, padding, padding, scale=1 / w[0].size) \
        + b[None, :, None, None] / w[0].size


# ----- conv2d_im2col ----------------------------------------------------------------------------------
def _patches(x, kh, kw, stride, top, bottom):
    n, c, h, w = x.shape
    xp = np.pad(x, ((0, 0), (0, 0), (top, bottom), (top, bottom)))
    oh, ow = (h + top + bottom - kh) // stride + 1, (w + top + bottom - kw) // stride + 1
    out = np.zeros((n, c, kh, kw, oh, ow))
    for i in range(oh):
        for j in range(ow):
            out[:, :, :, :, i, j] = xp[:, :, i * stride:i * stride + kh, j * stride:j * stride + kw]
    return out


def im2col_channel_fastest(x, kh, kw, stride, padding):
    cols = _patches(x, kh, kw, stride, padding, padding)
    n = x.shape[0]
    return cols.transpose(0, 2, 3, 1, 4, 5).reshape(n, -1, cols.shape[-2] * cols.shape[-1]) if n else \
        cols.reshape(0, x.shape[1] * kh * kw, cols.shape[-2] * cols.shape[-1])


def im2col_padded_on_one_side(x, kh, kw, stride, padding):
    cols = _patches(x, kh, kw, stride, 2 * padding, 0)
    n, c = x.shape[:2]
    return cols.reshape(n, c * kh * kw, cols.shape[-2] * cols.shape[-1])


def _conv_backward(dy, x, w, stride, padding, crop_at_corner=False, bias=True, last_only=False, swap_dw=False):
    n, c, h, wd = x.shape
    k, _, kh, kw = w.shape
    cols = _patches(x, kh, kw, stride, padding, padding)
    oh, ow = cols.shape[-2:]
    cols = cols.reshape(n, c * kh * kw, oh * ow)
    d = dy.reshape(n, k, oh * ow)
    dw = np.zeros((k, c * kh * kw))
    for s in range(n):
        contribution = d[s] @ cols[s].T
        dw = contribution if last_only else dw + contribution
    dcols = (w.reshape(k, -1).T @ d).reshape(n, c, kh, kw, oh, ow)
    dxp = np.zeros((n, c, h + 2 * padding, wd + 2 * padding))
    for i in range(oh):
        for j in range(ow):
            dxp[:, :, i * stride:i * stride + kh, j * stride:j * stride + kw] += dcols[:, :, :, :, i, j]
    dx = dxp[:, :, :h, :wd] if crop_at_corner else dxp[:, :, padding:padding + h, padding:padding + wd]
    dw = dw.reshape(w.shape)
    return dx, dw.swapaxes(0, 1) if swap_dw else dw, d.sum(axis=(0, 2)) if bias else np.zeros(k)


def conv_backward_cropped_at_the_corner(dy, x, w, stride, padding):
    return _conv_backward(dy, x, w, stride, padding, crop_at_corner=True)


def conv_backward_no_bias_gradient(dy, x, w, stride, padding):
    return _conv_backward(dy, x, w, stride, padding, bias=False)


def conv_backward_assigned_in_a_loop(dy, x, w, stride, padding):
    return _conv_backward(dy, x, w, stride, padding, last_only=True)


def conv_backward_channels_swapped(dy, x, w, stride, padding):
    return _conv_backward(dy, x, w, stride, padding, swap_dw=True)


# ----- max_pool2d_backward ---------------------------------------------------------------------------
def _pool_backward(dy, x, k, s, p, rule):
    n, c, h, w = x.shape
    xp = np.pad(x, ((0, 0), (0, 0), (p, p), (p, p)), constant_values=-np.inf)
    dxp = np.zeros_like(xp)
    for i in range(dy.shape[2]):
        for j in range(dy.shape[3]):
            window = xp[:, :, i * s:i * s + k, j * s:j * s + k]
            g = dy[:, :, i, j][:, :, None, None]
            if rule == "all":
                share = np.ones_like(window) * g
            elif rule == "mean":
                share = np.ones_like(window) * g / (k * k)
            elif rule == "ties":
                share = (window == window.max(axis=(2, 3), keepdims=True)) * g
            else:  # the first maximum, but assigned: overlapping windows overwrite one another
                flat = window.reshape(n, c, -1)
                first = np.zeros_like(flat)
                first[np.arange(n)[:, None], np.arange(c)[None, :], flat.argmax(axis=2)] = 1
                first = first.reshape(window.shape).astype(bool)
                target = dxp[:, :, i * s:i * s + k, j * s:j * s + k]
                target[first] = np.broadcast_to(g, window.shape)[first]
                continue
            dxp[:, :, i * s:i * s + k, j * s:j * s + k] += share
    return dxp[:, :, p:p + h, p:p + w]


def pool_to_every_input(dy, x, kernel_size, stride, padding):
    return _pool_backward(dy, x, kernel_size, stride, padding, "all")


def pool_as_average(dy, x, kernel_size, stride, padding):
    return _pool_backward(dy, x, kernel_size, stride, padding, "mean")


def pool_overwrites(dy, x, kernel_size, stride, padding):
    return _pool_backward(dy, x, kernel_size, stride, padding, "overwrite")


def pool_ties_to_all(dy, x, kernel_size, stride, padding):
    return _pool_backward(dy, x, kernel_size, stride, padding, "ties")


MUTANTS = [
    ("mse_loss", "mse_loss_forward", mse_summed, "factor"),
    ("mse_loss", "mse_loss_backward", mse_grad_as_the_article_writes_it, "article_derivative"),
    ("mse_loss", "mse_loss_backward", mse_grad_without_the_mean, "factor"),
    ("mse_loss", "mse_loss_backward", mse_grad_without_the_two, "factor"),
    ("mse_loss", "mse_loss_backward", mse_grad_sign_flipped, "sign"),
    ("linear_backward", "linear_backward", linear_dw_transposed, "transposed"),
    ("linear_backward", "linear_backward", linear_no_bias_gradient, "missing_bias_gradient"),
    ("linear_backward", "linear_backward", linear_bias_not_summed, "not_summed_over_batch"),
    ("linear_backward", "linear_backward", linear_assigned_in_a_loop, "last_sample_only"),
    ("linear_backward", "linear_backward", linear_weights_averaged, "factor"),
    ("activations", "relu_backward", relu_at_the_kink, "kink"),
    ("activations", "relu_backward", relu_passes_everything, "gradient_everywhere"),
    ("activations", "sigmoid_backward", sigmoid_of_y_again, "derivative_of_y"),
    ("activations", "sigmoid_backward", sigmoid_without_dy, "local_derivative_only"),
    ("activations", "tanh_backward", tanh_not_squared, "y_not_squared"),
    ("softmax_cross_entropy", "softmax", softmax_naive, "unstable_softmax"),
    ("softmax_cross_entropy", "softmax", softmax_over_columns, "softmax_over_batch"),
    ("softmax_cross_entropy", "cross_entropy", cross_entropy_log_of_probabilities, "log_of_softmax"),
    ("softmax_cross_entropy", "cross_entropy_backward", cross_entropy_grad_without_one_hot, "missing_one_hot"),
    ("softmax_cross_entropy", "cross_entropy_backward", cross_entropy_grad_summed, "factor"),
    ("softmax_cross_entropy", "cross_entropy_backward", cross_entropy_grad_sign, "sign"),
    ("conv2d_loops", "conv2d_forward", conv_padded_on_one_side, "one_sided_padding"),
    ("conv2d_loops", "conv2d_forward", conv_true_convolution, "flipped_filter"),
    ("conv2d_loops", "conv2d_forward", conv_forgot_the_bias, "missing_bias"),
    ("conv2d_loops", "conv2d_forward", conv_averaged_patches, "factor"),
    ("conv2d_im2col", "im2col", im2col_channel_fastest, "rows_out_of_order"),
    ("conv2d_im2col", "im2col", im2col_padded_on_one_side, "one_sided_padding"),
    ("conv2d_im2col", "conv2d_backward", conv_backward_cropped_at_the_corner, "one_sided_padding"),
    ("conv2d_im2col", "conv2d_backward", conv_backward_no_bias_gradient, "missing_bias_gradient"),
    ("conv2d_im2col", "conv2d_backward", conv_backward_assigned_in_a_loop, "last_sample_only"),
    ("conv2d_im2col", "conv2d_backward", conv_backward_channels_swapped, "transposed"),
    ("max_pool2d_backward", "max_pool2d_backward", pool_to_every_input, "gradient_to_every_input"),
    ("max_pool2d_backward", "max_pool2d_backward", pool_as_average, "average_pooling"),
    ("max_pool2d_backward", "max_pool2d_backward", pool_overwrites, "overwritten"),
    ("max_pool2d_backward", "max_pool2d_backward", pool_ties_to_all, "ties_to_every_maximum"),
]


@pytest.mark.parametrize("exercise, function, mutant, mistake",
                         [pytest.param(*m, id=f"{m[1]}:{m[2].__name__}") for m in MUTANTS])
def test_a_wrong_solution_loses_marks_with_the_right_diagnosis(exercise, function, mutant, mistake, assert_diagnosed):
    assert_diagnosed(exercise, function, mutant, mistake)
