"""Smoke test of examples/feature_learning.py on a tiny MNIST-format folder: the table, the plot and a
metrics.json with every accuracy; bad arguments are refused before any data is read."""

import importlib.util
import json
from pathlib import Path

import numpy as np
import pytest

from idx_files import write_mnist

ROOT = Path(__file__).resolve().parents[1]
TINY = ["--steps", "2", "--pretrain-steps", "2", "--finetune-steps", "3", "--probe-steps", "3", "--code", "6",
        "--stack", "8,5", "--batch-size", "16", "--repeats", "2", "--labels", "20,all"]


def load_example():
    path = ROOT / "examples" / "feature_learning.py"
    spec = importlib.util.spec_from_file_location("feature_learning", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_tiny_run_writes_the_table_the_plot_and_every_accuracy(tmp_path, capsys):
    rng = np.random.default_rng(0)
    for stem, n in (("train", 40), ("t10k", 30)):
        write_mnist(tmp_path, stem, (rng.uniform(size=(n, 28, 28)) < 0.2) * 255, np.arange(n) % 10)
    out = tmp_path / "out"
    metrics = load_example().main(["--data-dir", str(tmp_path), "--out", str(out), *TINY])
    assert (out / "accuracy_vs_labels.png").stat().st_size > 0
    saved = json.loads((out / "metrics.json").read_text())
    assert saved["n_train"] == 40 and "training set" in saved["data"]  # the full training set is used
    accuracies = saved["accuracy"]
    assert list(accuracies) == ["20", "40"]
    for n, results in accuracies.items():
        for name in ("raw pixels", "PCA", "AE", "sparse AE", "denoising AE", "contractive AE", "VAE",
                     "stack, not fine-tuned"):
            for kind in ("probe_acc", "knn_acc"):
                assert 0.0 <= results[f"{name} {kind}"] <= 1.0
        assert 0.0 <= results["stack fine-tuned acc"] <= 1.0 and "same network, random init acc" in results
        assert len(results["per draw"]["stack fine-tuned acc"]) == (2 if n == "20" else 1)
    assert metrics["accuracy"]["20"]["pretraining gain acc"] == pytest.approx(
        accuracies["20"]["pretraining gain acc"], abs=1e-6)
    table = capsys.readouterr().out
    assert "gain from pretraining (points)" in table and "raw pixels, 5-NN" in table


@pytest.mark.parametrize("args, message", [(["--labels", "5"], "--labels"), (["--stack", "8,x"], "--stack"),
                                           (["--repeats", "0"], "--repeats must be >= 1")])
def test_bad_arguments_are_refused_before_the_data(args, message, capsys):
    with pytest.raises(SystemExit) as info:
        load_example().main(["--data-dir", "/does/not/exist", *args])
    assert info.value.code == 2 and message in capsys.readouterr().err
