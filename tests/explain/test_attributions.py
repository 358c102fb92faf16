"""Saliency, integrated gradients, SmoothGrad, occlusion and Grad-CAM: against Captum on a PyTorch
twin holding the same weights (float64), integrated gradients' completeness, and the clear
errors for what cannot be explained."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import tinymed
from tinymed.explain import METHODS, IntegratedGradients, LayerGradCam, NoiseTunnel, Occlusion, Saliency
from tinymed.explain.approximation import nodes

from ..strategies import seeds

TARGETS = [1, [0, 2, 1, 2]]  # one class for every image, and one each


def captum_attr():
    return pytest.importorskip("captum.attr", reason="the comparisons with Captum need captum (pip install captum)")


def torch_tensor(a):
    torch = pytest.importorskip("torch", reason="the comparisons with Captum need PyTorch")
    return torch.tensor(a)


# ----- against Captum ------------------------------------------------------------------------------
@pytest.mark.parametrize("target", TARGETS)
@pytest.mark.parametrize("absolute", [True, False])
def test_saliency_equals_captums(twin, cnn, images, target, absolute):
    ours = Saliency(cnn).attribute(images, target=target, abs=absolute).numpy()
    theirs = captum_attr().Saliency(twin(cnn)).attribute(torch_tensor(images).requires_grad_(), target=target,
                                                         abs=absolute)
    np.testing.assert_allclose(ours, theirs.detach().numpy(), rtol=1e-6, atol=1e-12)


@pytest.mark.parametrize("method", [m for m in METHODS if m != "riemann_trapezoid"])
@pytest.mark.parametrize("target", TARGETS)
def test_integrated_gradients_equal_captums(twin, cnn, images, method, target):
    baseline = np.full((1, 1, 8, 8), 0.25)
    ours, delta = IntegratedGradients(cnn).attribute(images, baselines=baseline, target=target, n_steps=16,
                                                     method=method, return_convergence_delta=True)
    theirs, their_delta = captum_attr().IntegratedGradients(twin(cnn)).attribute(
        torch_tensor(images), baselines=torch_tensor(baseline), target=target, n_steps=16, method=method,
        return_convergence_delta=True)
    scale = np.abs(theirs.numpy()).max()
    np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-6, atol=1e-6 * scale)
    np.testing.assert_allclose(delta.numpy(), their_delta.numpy(), rtol=1e-6, atol=1e-6 * scale)


def test_captums_trapezoid_weights_sum_to_one_minus_one_over_n(twin, cnn, images):
    """Captum's "riemann_trapezoid" weights the trapezoid's points by 1/n instead of 1/(n-1): its
    attributions are tinymed's times (n-1)/n (see tinymed.explain.approximation)."""
    n = 16
    ours = IntegratedGradients(cnn).attribute(images, target=1, n_steps=n, method="riemann_trapezoid").numpy()
    theirs = captum_attr().IntegratedGradients(twin(cnn)).attribute(
        torch_tensor(images), target=1, n_steps=n, method="riemann_trapezoid").numpy()
    np.testing.assert_allclose(ours * (n - 1) / n, theirs, rtol=1e-6, atol=1e-6 * np.abs(theirs).max())


def test_local_integrated_gradients_equal_captums(twin, mlp):
    x = np.random.default_rng(3).standard_normal((6, 5))
    ours = IntegratedGradients(mlp, multiply_by_inputs=False).attribute(x, n_steps=10).numpy()
    theirs = captum_attr().IntegratedGradients(twin(mlp), multiply_by_inputs=False).attribute(
        torch_tensor(x), n_steps=10).numpy()
    np.testing.assert_allclose(ours, theirs, rtol=1e-6, atol=1e-12)


@pytest.mark.parametrize("window, strides, baselines", [((1, 3, 3), (1, 2, 2), 0.5), ((1, 2, 4), 2, None),
                                                        ((1, 8, 8), None, 0.0), ((1, 5, 3), (1, 3, 1), -1.0)])
def test_occlusion_equals_captums(twin, cnn, images, window, strides, baselines):
    ours = Occlusion(cnn).attribute(images, window, strides=strides, baselines=baselines, target=TARGETS[1],
                                    perturbations_per_eval=4).numpy()
    theirs = captum_attr().Occlusion(twin(cnn)).attribute(
        torch_tensor(images), window, strides=strides, baselines=baselines, target=TARGETS[1]).numpy()
    np.testing.assert_allclose(ours, theirs, rtol=1e-6, atol=1e-6 * np.abs(theirs).max())


@pytest.mark.parametrize("layer", [0, 1, 3, 4])
@pytest.mark.parametrize("to_input", [False, True])
@pytest.mark.parametrize("relu", [False, True])
def test_grad_cam_equals_captums(twin, cnn, images, layer, to_input, relu):
    ours = LayerGradCam(cnn, cnn[layer]).attribute(images, target=TARGETS[1], attribute_to_layer_input=to_input,
                                                   relu_attributions=relu).numpy()
    twin = twin(cnn)
    theirs = captum_attr().LayerGradCam(twin, twin[layer]).attribute(
        torch_tensor(images), target=TARGETS[1], attribute_to_layer_input=to_input, relu_attributions=relu)
    np.testing.assert_allclose(ours, theirs.detach().numpy(), rtol=1e-6, atol=1e-12)


def test_unsummed_grad_cam_keeps_the_channels(cnn, images):
    per_channel = LayerGradCam(cnn, cnn[4]).attribute(images, target=0, attr_dim_summation=False).numpy()
    summed = LayerGradCam(cnn, cnn[4]).attribute(images, target=0).numpy()
    assert per_channel.shape == (4, 4, 4, 4)
    np.testing.assert_allclose(per_channel.sum(axis=1, keepdims=True), summed, rtol=1e-12)


@pytest.mark.parametrize("mode", ["nearest", "bilinear"])
@pytest.mark.parametrize("size", [(8, 10), (7, 13), (3, 2), (4, 5)])
def test_interpolate_equals_torchs(mode, size):
    torch = pytest.importorskip("torch", reason="the comparison needs PyTorch")
    maps = np.random.default_rng(4).standard_normal((2, 3, 4, 5))
    ours = LayerGradCam.interpolate(maps, size, mode).numpy()
    extra = {} if mode == "nearest" else dict(align_corners=False)
    theirs = torch.nn.functional.interpolate(torch.tensor(maps), size, mode=mode, **extra).numpy()
    np.testing.assert_allclose(ours, theirs, rtol=1e-12, atol=1e-12)


# ----- properties of the methods ----------------------------------------------------------------
def test_quadrature_weights_sum_to_one_and_integrate_a_line_exactly():
    for method in METHODS:
        for n in (2, 3, 10):
            alphas, weights = nodes(method, n)
            assert np.all(weights > 0) and abs(weights.sum() - 1) < 1e-14, method
            if method in ("riemann_middle", "riemann_trapezoid", "gausslegendre"):
                assert abs((weights * alphas).sum() - 0.5) < 1e-14, method  # the integral of a from 0 to 1


@given(seed=seeds, n_steps=st.integers(2, 12), method=st.sampled_from(METHODS))
def test_completeness_is_exact_for_a_linear_model(seed, n_steps, method):
    """f(x) = w.x + b has a constant gradient: sum_j IG_j = w.(x - x') = f(x) - f(x') for any rule
    whose weights sum to 1."""
    tinymed.manual_seed(seed)
    model = tinymed.nn.Sequential(tinymed.nn.Linear(6, 1), tinymed.nn.Flatten(start_dim=0)).double().eval()
    rng = np.random.default_rng(seed)
    x, base = rng.standard_normal((3, 6)), rng.standard_normal((3, 6))
    attributions, delta = IntegratedGradients(model).attribute(x, baselines=base, n_steps=n_steps, method=method,
                                                              return_convergence_delta=True)
    np.testing.assert_allclose(attributions.numpy(), (x - base) * model[0].weight.numpy(), rtol=1e-12, atol=1e-14)
    assert np.abs(delta.numpy()).max() < 1e-12


@given(seed=seeds)
def test_completeness_of_a_smooth_model_to_the_delta(seed, backend, make_mlp):
    """Attributions add up to f(x) - f(x') minus exactly the returned delta, and for a smooth model
    Gauss-Legendre with 50 points leaves almost nothing."""
    model = make_mlp(seed)
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((4, 5))
    attributions, delta = IntegratedGradients(model).attribute(x, return_convergence_delta=True)
    with tinymed.no_grad():
        change = model(tinymed.Tensor(x)).numpy() - model(tinymed.Tensor(np.zeros_like(x))).numpy()
    np.testing.assert_allclose(attributions.numpy().sum(axis=1), change + delta.numpy(), rtol=1e-12, atol=1e-12)
    assert np.abs(delta.numpy()).max() < 1e-8 * max(1.0, np.abs(change).max())


def test_the_delta_of_a_relu_network_shrinks_with_more_steps(cnn, images):
    deltas = [np.abs(IntegratedGradients(cnn).attribute(images, target=1, n_steps=n, method="riemann_trapezoid",
                                                        return_convergence_delta=True)[1].numpy()).max()
              for n in (4, 64, 1024)]
    assert deltas[0] > deltas[1] > deltas[2] and deltas[2] < 1e-2 * deltas[0], deltas


def test_internal_batches_give_the_same_attributions(cnn, images):
    whole = IntegratedGradients(cnn).attribute(images, target=2, n_steps=10).numpy()
    pieces = IntegratedGradients(cnn).attribute(images, target=2, n_steps=10, internal_batch_size=9).numpy()
    np.testing.assert_allclose(pieces, whole, rtol=1e-12, atol=1e-14)


def test_saliency_is_the_gradient_of_each_examples_output(mlp):
    x = np.random.default_rng(5).standard_normal((3, 5))
    grads = Saliency(mlp).attribute(x, abs=False).numpy()
    for i in range(3):
        t = tinymed.Tensor(x[i:i + 1], requires_grad=True)
        mlp(t).sum().backward()
        np.testing.assert_allclose(grads[i], tinymed.backend.to_numpy(t.grad[0]), rtol=1e-12)


def test_noise_tunnel_without_noise_is_the_method_itself(cnn, images):
    exact = Saliency(cnn).attribute(images, target=TARGETS[1]).numpy()
    for nt_type, expected in (("smoothgrad", exact), ("smoothgrad_sq", exact ** 2), ("vargrad", 0 * exact)):
        smoothed = NoiseTunnel(Saliency(cnn)).attribute(images, nt_type=nt_type, nt_samples=3, stdevs=0.0,
                                                        target=TARGETS[1]).numpy()
        np.testing.assert_allclose(smoothed, expected, rtol=1e-12, atol=1e-14)


def test_noise_tunnel_averages_the_maps_of_its_noisy_copies(cnn, images):
    tinymed.manual_seed(7)
    smoothed = NoiseTunnel(IntegratedGradients(cnn)).attribute(images, nt_samples=4, stdevs=0.3, target=TARGETS[1],
                                                               baselines=np.zeros_like(images), n_steps=8).numpy()
    tinymed.manual_seed(7)
    noise = tinymed.random.generator().standard_normal((4,) + images.shape) * 0.3
    maps = [IntegratedGradients(cnn).attribute(images + noise[s], target=TARGETS[1], n_steps=8).numpy()
            for s in range(4)]
    np.testing.assert_allclose(smoothed, np.mean(maps, axis=0), rtol=1e-10, atol=1e-12)


def test_attributing_leaves_the_models_gradients_alone(cnn, images):
    for p in cnn.parameters():
        p.grad = np.full(p.shape, 7.0)
    IntegratedGradients(cnn).attribute(images, target=0, n_steps=4)
    LayerGradCam(cnn, cnn[3]).attribute(images, target=0)
    assert all(p.requires_grad and np.all(p.grad == 7.0) for p in cnn.parameters())


# ----- bad input --------------------------------------------------------------------------------------
def test_a_model_in_training_mode_is_refused(cnn, images):
    cnn.train()
    for method in (Saliency(cnn), IntegratedGradients(cnn), Occlusion(cnn), LayerGradCam(cnn, cnn[0])):
        kwargs = dict(sliding_window_shapes=(1, 2, 2)) if isinstance(method, Occlusion) else {}
        with pytest.raises(ValueError, match=r"training mode.*model\.eval\(\)"):
            method.attribute(images, target=0, **kwargs)
    with pytest.raises(ValueError, match="training mode"):
        Saliency(cnn.forward).attribute(images, target=0)


@pytest.mark.parametrize("target, error, message", [
    (3, ValueError, r"target 3 is out of range: the model has 3 outputs per example \(targets 0\.\.2\)"),
    (-1, ValueError, "target -1 is out of range"),
    ([0, 1, 5, 0], ValueError, "target 5 is out of range"),
    ([0, 1], ValueError, "one int or 4 ints"),
    (None, ValueError, "3 outputs per example.*target="),
    (1.5, TypeError, "target must be an int"),
])
def test_bad_targets_are_named(cnn, images, target, error, message):
    for method in (Saliency(cnn), IntegratedGradients(cnn)):
        with pytest.raises(error, match=message):
            method.attribute(images, target=target)


def test_bad_arguments_are_named(cnn, images):
    with pytest.raises(TypeError, match="inputs must be floating point"):
        Saliency(cnn).attribute(np.ones((2, 1, 8, 8), dtype=np.int64), target=0)
    with pytest.raises(TypeError, match="forward_func must be a model"):
        Saliency("model")
    with pytest.raises(ValueError, match="method must be one of"):
        IntegratedGradients(cnn).attribute(images, target=0, method="simpson")
    with pytest.raises(ValueError, match="n_steps must be a positive integer"):
        IntegratedGradients(cnn).attribute(images, target=0, n_steps=0)
    with pytest.raises(ValueError, match="riemann_trapezoid' needs n_steps >= 2"):
        IntegratedGradients(cnn).attribute(images, target=0, n_steps=1, method="riemann_trapezoid")
    with pytest.raises(ValueError, match=r"baselines of shape \(3, 8, 8\) do not broadcast"):
        IntegratedGradients(cnn).attribute(images, baselines=np.zeros((3, 8, 8)), target=0)
    with pytest.raises(ValueError, match="sliding_window_shapes must give one size"):
        Occlusion(cnn).attribute(images, (3, 3), target=0)
    with pytest.raises(ValueError, match="at most the window size"):
        Occlusion(cnn).attribute(images, (1, 2, 2), strides=3, target=0)
    with pytest.raises(ValueError, match="nt_type must be one of"):
        NoiseTunnel(Saliency(cnn)).attribute(images, nt_type="smooth", target=0)
    with pytest.raises(ValueError, match="return_convergence_delta is not supported"):
        NoiseTunnel(IntegratedGradients(cnn)).attribute(images, target=0, return_convergence_delta=True)
    with pytest.raises(TypeError, match="expected an attribution method"):
        NoiseTunnel(cnn)
    with pytest.raises(TypeError, match="layer must be a Module"):
        LayerGradCam(cnn, "conv1")
    with pytest.raises(ValueError, match="ran 0 times"):
        LayerGradCam(cnn, tinymed.nn.ReLU()).attribute(images, target=0)
    with pytest.raises(ValueError, match=r"must be \(N, C, \.\.\.\) feature maps"):
        LayerGradCam(cnn, cnn[6]).attribute(images, target=0)
    with pytest.raises(ValueError, match="interpolate_mode must be"):
        LayerGradCam.interpolate(np.zeros((1, 1, 2, 2)), (4, 4), "bicubic")
