"""The model-parameter randomisation test (passes for gradients, fails for a map that ignores the
model), Spearman's rank correlation, the share of attribution inside a mask, and the phantoms'
lesion mask that it is measured against."""

import numpy as np
import pytest
from hypothesis import given

import tinymed
from tinymed.data import chest_phantoms
from tinymed.explain import IntegratedGradients, Saliency, fraction_in_mask, model_randomization_test, rank_correlation

from ..strategies import seeds


def edge_map(model, images, target):
    """Central-difference edge strength of the image itself: it never looks at the model."""
    gy, gx = np.zeros_like(images), np.zeros_like(images)
    gy[..., 1:-1, :] = images[..., 2:, :] - images[..., :-2, :]
    gx[..., 1:-1] = images[..., 2:] - images[..., :-2]
    return np.hypot(gx, gy)


def test_gradients_pass_and_an_edge_detector_fails(cnn, images):
    saliency = model_randomization_test(cnn, lambda m, x, t: Saliency(m).attribute(x, target=t), images, target=1)
    assert saliency.passed and saliency.similarity[-1] < 0.5
    assert saliency.layers == ["6 (Linear)", "3 (Conv2d)", "0 (Conv2d)"]  # the layers with weights, output first
    edges = model_randomization_test(cnn, edge_map, images, target=1)
    assert not edges.passed and np.all(edges.similarity == 1.0)
    assert "FAILED" in str(edges) and "PASSED" in str(saliency)
    assert len(saliency.maps) == 4 and np.array_equal(saliency.maps[0], Saliency(cnn).attribute(images, 1).numpy())


def test_the_model_and_the_generator_are_restored(cnn, images):
    weights = cnn.state_dict()
    tinymed.manual_seed(5)
    expected = tinymed.random.generator().random()
    tinymed.manual_seed(5)
    first = model_randomization_test(cnn, lambda m, x, t: IntegratedGradients(m).attribute(x, target=t, n_steps=4),
                                     images, target=0, seed=3)
    assert tinymed.random.generator().random() == expected
    assert all(np.array_equal(v, weights[k]) for k, v in cnn.state_dict().items())
    again = model_randomization_test(cnn, lambda m, x, t: IntegratedGradients(m).attribute(x, target=t, n_steps=4),
                                     images, target=0, seed=3)
    np.testing.assert_array_equal(first.similarity, again.similarity)  # the seed decides the draws


def test_randomization_needs_a_model_with_weights(images):
    with pytest.raises(ValueError, match="no parameters to randomise"):
        model_randomization_test(tinymed.nn.Sequential(tinymed.nn.ReLU()), edge_map, images)
    with pytest.raises(TypeError, match="explain must be a function"):
        model_randomization_test(tinymed.nn.Linear(2, 2), None, images)


@given(seed=seeds)
def test_rank_correlation_is_spearmans(seed):
    stats = pytest.importorskip("scipy.stats", reason="the comparison needs SciPy")
    rng = np.random.default_rng(seed)
    a = rng.integers(-3, 4, (3, 12)).astype(float)  # many ties
    b = a + rng.integers(-2, 3, (3, 12))
    expected = np.mean([stats.spearmanr(np.abs(u), np.abs(v)).statistic for u, v in zip(a, b)])
    if np.isfinite(expected):
        assert rank_correlation(a, b) == pytest.approx(expected, rel=1e-12, abs=1e-12)


def test_rank_correlation_edges():
    x = np.arange(10.0).reshape(1, -1)
    assert rank_correlation(x, -x) == pytest.approx(1.0)  # absolute maps: the sign does not count
    assert rank_correlation(x, x[:, ::-1] * 0 + 1) == 0.0  # a constant map has no order
    with pytest.raises(ValueError, match="same shape"):
        rank_correlation(x, x[:, :5])


def test_fraction_in_mask():
    maps = np.array([[1.0, 3.0, -5.0, 0.0], [0.0, 0.0, 0.0, 0.0], [-1.0, 2.0, 2.0, 4.0]])
    mask = np.array([True, False, True, False])
    np.testing.assert_allclose(fraction_in_mask(maps, mask), [0.25, np.nan, 0.25])
    np.testing.assert_allclose(fraction_in_mask(maps, mask, absolute=True), [6 / 9, np.nan, 3 / 9])
    rng = np.random.default_rng(0)
    noise = rng.random((2000, 50))  # a map that knows nothing puts the mask's share of the area inside
    area = rng.random(50) < 0.2
    assert abs(np.mean(fraction_in_mask(noise, area)) - area.mean()) < 0.01
    with pytest.raises(TypeError, match="mask must be boolean"):
        fraction_in_mask(maps, mask.astype(int))
    with pytest.raises(ValueError, match="does not match"):
        fraction_in_mask(maps, mask[:3])


def test_the_phantoms_lesion_mask():
    plain = chest_phantoms(300, size=24, seed=4)
    data, mask = chest_phantoms(300, size=24, seed=4, return_mask=True)
    np.testing.assert_array_equal(data.X, plain.X)  # asking for the mask changes no image
    np.testing.assert_array_equal(data.y, plain.y)
    assert mask.shape == (300, 1, 24, 24) and mask.dtype == bool
    assert not mask[data.y == 0].any()  # no opacity, no lesion
    assert mask[data.y == 1].reshape(-1, 24 * 24).any(axis=1).all()  # every sick film has one
    area = mask[data.y == 1].mean()
    assert 0.01 < area < 0.15, area
    # where the mask says the opacity is, a sick film is brighter than a healthy film is there
    sick, healthy, sick_masks = data.X[data.y == 1], data.X[data.y == 0], mask[data.y == 1]
    inside = np.mean([film[m].mean() for film, m in zip(sick, sick_masks)])
    same_place_healthy = np.mean([film[m].mean() for film, m in zip(healthy, sick_masks)])
    assert inside > same_place_healthy + 0.05, (inside, same_place_healthy)
