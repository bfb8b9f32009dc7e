"""Smoke test of examples/overcomplete.py on a tiny MNIST-format folder (its gain: tests/test_metrics.py)."""

import json
from pathlib import Path

import numpy as np
import pytest
from example_scripts import load_example

from idx_files import write_mnist

ROOT = Path(__file__).resolve().parents[1]


def test_tiny_run_writes_the_figures_and_the_metrics(tmp_path, capsys):
    rng = np.random.default_rng(0)
    for stem, n in (("train", 60), ("t10k", 30)):
        write_mnist(tmp_path, stem, (rng.uniform(size=(n, 28, 28)) < 0.2) * 255, np.arange(n) % 10)
    out = tmp_path / "out"
    m = load_example("overcomplete").main(["--data-dir", str(tmp_path), "--out", str(out), "--epochs", "1",
                             "--hidden", "20", "--n-directions", "12", "--batch-size", "16"])
    for name in ("filters.png", "gain.png", "reconstructions.png", "metrics.json"):
        assert (out / name).stat().st_size > 0
    saved = json.loads((out / "metrics.json").read_text())
    assert saved["n_train"] == 60 and saved["n_test"] == 30 and saved["top"] == 12
    assert list(saved["results"]) == ["AE", "DAE", "sparse AE"]
    for r in saved["results"].values():
        assert set(r) == {"test_mse", "relative_error_test_images", "relative_error_noise_images",
                          "mean_gain_top_12", "encoder_cosine_to_initial", "gain_at_direction"}
        assert list(r["gain_at_direction"]) == ["1", "10"]
        assert -1.0 <= r["encoder_cosine_to_initial"] <= 1.0
    assert m["results"]["AE"]["test_mse"] == pytest.approx(saved["results"]["AE"]["test_mse"], rel=1e-5)
    assert "mean gain, top 12" in capsys.readouterr().out
