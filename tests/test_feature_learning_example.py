"""Smoke test of examples/feature_learning.py on a tiny MNIST-format folder: the table, the plot and a
metrics.json with every accuracy; bad arguments are refused before any data is read."""

import json
from pathlib import Path

import numpy as np
import pytest
from example_scripts import load_example

from npae.datasets import mnist as mnist_module

from idx_files import write_mnist

ROOT = Path(__file__).resolve().parents[1]
TINY = ["--steps", "2", "--pretrain-steps", "2", "--finetune-steps", "3", "--probe-steps", "3", "--code", "6",
        "--stack", "8,5", "--batch-size", "16", "--repeats", "2", "--labels", "20,all"]


def test_tiny_run_writes_the_table_the_plot_and_every_accuracy(tmp_path, capsys):
    rng = np.random.default_rng(0)
    for stem, n in (("train", 40), ("t10k", 30)):
        write_mnist(tmp_path, stem, (rng.uniform(size=(n, 28, 28)) < 0.2) * 255, np.arange(n) % 10)
    out = tmp_path / "out"
    metrics = load_example("feature_learning").main(["--data-dir", str(tmp_path), "--out", str(out), *TINY])
    assert (out / "accuracy_vs_labels.png").stat().st_size > 0
    saved = json.loads((out / "metrics.json").read_text())
    assert saved["n_train"] == 40 and "40 training images" in saved["data"]  # all of them (fewer than 8,000)
    accuracies = saved["accuracy"]
    assert list(accuracies) == ["20", "40"]
    for n, results in accuracies.items():
        for name in ("raw pixels", "PCA", "AE", "sparse AE", "denoising AE", "contractive AE", "VAE",
                     "stack, not fine-tuned"):
            for kind in ("probe_acc", "knn_acc"):
                assert 0.0 <= results[f"{name} {kind}"] <= 1.0
        assert 0.0 <= results["stack fine-tuned acc"] <= 1.0 and "same network, random init acc" in results
        assert len(results["per draw"]["stack fine-tuned acc"]) == (2 if n == "20" else 1)
        for name in ("stack fine-tuned", "same network, random init"):  # each fine-tuning's last-epoch loss
            losses = results["per draw"][f"{name} train_loss"]
            assert len(losses) == (2 if n == "20" else 1) and all(loss > 0 for loss in losses)
    assert metrics["accuracy"]["20"]["pretraining gain acc"] == pytest.approx(
        accuracies["20"]["pretraining gain acc"], abs=1e-6)
    table = capsys.readouterr().out
    assert "gain from pretraining (points)" in table and "raw pixels, 5-NN" in table


@pytest.mark.parametrize("args, message", [
    (["--labels", "5"], "argument --labels: expected numbers >= 10 or 'all', like 100,1000,all, got '5'"),
    (["--stack", "8,x"], "argument --stack: expected widths >= 1 like 256,128, got '8,x'"),
    (["--repeats", "0"], "argument --repeats: expected an integer >= 1, got '0'"),
    (["--probe-steps", "-3"], "argument --probe-steps: expected an integer >= 1, got '-3'")])
def test_bad_arguments_are_refused_before_the_data(monkeypatch, tmp_path, capsys, args, message):
    def refuse(*args, **kwargs):
        raise AssertionError("data read before the arguments were checked")

    monkeypatch.setattr(mnist_module, "load_mnist", refuse)
    with pytest.raises(SystemExit) as info:
        load_example("feature_learning").main(["--data-dir", str(tmp_path), *args])
    assert info.value.code == 2 and f"error: {message}" in capsys.readouterr().err


def test_more_labels_than_images_is_a_usage_error(tmp_path, capsys):
    rng = np.random.default_rng(1)
    write_mnist(tmp_path, "t10k", (rng.uniform(size=(30, 28, 28)) < 0.2) * 255, np.arange(30) % 10)
    with pytest.raises(SystemExit) as info:
        load_example("feature_learning").main(["--data-dir", str(tmp_path), "--labels", "20,100", *TINY[:-4]])
    assert info.value.code == 2 and "argument --labels: more than the" in capsys.readouterr().err
