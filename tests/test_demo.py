"""The main job: `tinymed demo --quick` trains, evaluates and writes its figures and metrics."""

import json

import numpy as np
import pytest

from tinymed import cli, demo


@pytest.fixture(scope="module")
def quick_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("demo")
    code = cli.main(["demo", "--quick", "--out", str(out), "--data", "phantoms"])
    return code, out


def test_quick_demo_learns_and_writes_everything(quick_run, capsys):
    code, out = quick_run
    assert code == 0
    for name in ("demo_samples.png", "demo_training_curves.png", "demo_confusion_matrix.png", "demo_roc.png",
                 "pneumonia_cnn.npz", "demo_metrics.json"):
        assert (out / name).stat().st_size > 0, name
    result = json.loads((out / "demo_metrics.json").read_text())
    image, tabular = result["image"], result["tabular"]
    assert set(image) == {"accuracy", "recall", "specificity", "precision", "f1", "auc"}
    # quick mode trains on 840 small images for a few epochs: clearly above chance (0.5)
    assert image["accuracy"] > 0.8 and image["auc"] > 0.85
    assert tabular["accuracy"] >= 0.93
    assert "phantoms" in result["data"]


def test_saved_checkpoint_reproduces_the_reported_metrics(quick_run):
    import tinymed
    from tinymed.data import chest_phantoms, stratified_split

    _, out = quick_run
    model = demo._cnn(32)
    model.load_state_dict(tinymed.load(out / "pneumonia_cnn.npz"))
    X, y = chest_phantoms(1200, size=32, seed=0)
    _, _, (X_test, y_test) = stratified_split(X, y, val=0.15, test=0.15, seed=0)
    model.eval()
    with tinymed.no_grad():
        logits = model(tinymed.Tensor(demo.standardize_images(X_test))).numpy()
    accuracy = float(np.mean((logits > 0) == y_test))
    reported = json.loads((out / "demo_metrics.json").read_text())["image"]["accuracy"]
    assert accuracy == pytest.approx(reported, abs=1e-9)


def test_standardize_images_gives_each_image_zero_mean_unit_std():
    scales = np.float32([[[[1]]], [[[2]]], [[[3]]]])
    x = np.random.default_rng(0).uniform(0.2, 0.9, (3, 1, 8, 8)).astype(np.float32) * scales
    z = demo.standardize_images(x)
    np.testing.assert_allclose(z.mean(axis=(1, 2, 3)), 0, atol=1e-6)
    np.testing.assert_allclose(z.std(axis=(1, 2, 3)), 1, atol=1e-5)
    assert z.dtype == np.float32


def test_bad_arguments():
    with pytest.raises(ValueError, match="size must be a multiple of 8"):
        demo.run(size=30, verbose=0, tabular=False)
    with pytest.raises(ValueError, match="data must be 'auto', 'phantoms' or 'pneumoniamnist'"):
        demo.run(data="xray", n=80, size=16, epochs=1, verbose=0, tabular=False)
