"""Smoke test of examples/sparse_kl.py: tiny runs of both data sets finish and write their outputs."""

import importlib.util
import json
from pathlib import Path

import numpy as np

from idx_files import write_mnist

ROOT = Path(__file__).resolve().parents[1]


def load_example():
    spec = importlib.util.spec_from_file_location("sparse_kl", ROOT / "examples" / "sparse_kl.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_patches_run(tmp_path):
    out = tmp_path / "out"
    m = load_example().main(["--n", "300", "--max-iter", "5", "--check-coords", "30", "--out", str(out)])
    assert m["gradient_check_rel_diff"] < 1e-9
    assert m["loss"] < m["initial_loss"]
    for name in ("filters.png", "loss.png", "metrics.json"):
        assert (out / name).stat().st_size > 0
    assert json.loads((out / "metrics.json").read_text())["rho"] == 0.01


def test_mnist_run_and_adam(tmp_path):
    rng = np.random.default_rng(0)
    images = (rng.uniform(size=(60, 28, 28)) < 0.2) * 255
    write_mnist(tmp_path, "t10k", images, rng.integers(0, 10, 60))
    out = tmp_path / "out"
    m = load_example().main(["--data", "mnist", "--data-dir", str(tmp_path), "--n", "40", "--optimizer",
                             "adam", "--epochs", "2", "--check-coords", "5", "--out", str(out)])
    assert m["gradient_check_rel_diff"] < 1e-9 and m["n_examples"] == 40 and m["rho"] == 0.1
    assert (out / "filters.png").is_file()
