"""examples/tuning.py: its measurements, the rules of its two verdicts, and a tiny run end to end."""

import json

import numpy as np
import pytest
from example_scripts import load_example

from idx_files import write_mnist

tuning = load_example("tuning")


class Linear:
    """A stand-in model whose reconstruction is ``x @ A.T``."""

    def __init__(self, A):
        self.A = A

    def reconstruct(self, X):
        return X @ self.A.T


def test_the_measures_of_copying_and_detail_on_known_maps():
    rng = np.random.default_rng(0)
    X = rng.uniform(size=(6, 784))
    U = np.linalg.qr(rng.standard_normal((784, 5)))[0].T  # (5, 784), orthonormal rows
    identity = Linear(np.eye(784))
    assert tuning.mean_gain(identity, X, U) == pytest.approx(1.0, abs=1e-12)
    assert tuning.mean_gain(Linear(0.5 * np.eye(784)), X, U) == pytest.approx(0.5, abs=1e-12)
    mean = X.mean(axis=0)
    assert tuning.reproduced(identity, X, mean) == pytest.approx(1.0)
    assert tuning.reproduced(Linear(np.zeros((784, 784))), X, mean) < 0  # worse than the mean image
    assert tuning.detail(np.full((3, 784), 0.5)) == 0.0 and tuning.detail(X) > 0
    turned = tuning.quarter_turned(X)  # (6, 784)
    assert np.array_equal(turned.reshape(6, 28, 28), np.rot90(X.reshape(6, 28, 28), axes=(1, 2)))
    assert not np.array_equal(turned, X)
    assert np.array_equal(tuning.quarter_turned(tuning.quarter_turned(tuning.quarter_turned(turned))), X)


def test_unit_stats_counts_dead_and_always_on_units():
    H = np.array([[0.0, 0.95, 0.2], [0.0, 0.9, 0.0], [0.05, 0.99, 0.0]])  # (3 inputs, 3 units)
    s = tuning.unit_stats(H)
    assert s["dead_units"] == 1 and s["always_on_units"] == 1
    assert s["fires_on_min"] == 0.0 and s["fires_on_max"] == 1.0
    assert s["mean_activation"] == pytest.approx(H.mean())


def cell(rho, beta, mse, rho_hat, dead=0):
    return {"rho": rho, "beta": beta, "test_mse": mse, "mean_activation": rho_hat, "dead_units": dead}


def test_the_sparsity_verdict_follows_its_rules():
    dense = {"test_mse": 0.02}
    narrow = [cell(0.05, 0.1, 0.02, 0.2), cell(0.05, 1.0, 0.025, 0.055),
              cell(0.05, 10.0, 0.05, 0.05, dead=20), cell(0.1, 0.1, 0.02, 0.3)]
    v = tuning.verdict_sparsity(narrow, dense, n_units=64)
    assert v["verdict"] == "holds" and v["good_cells"] == [[0.05, 1.0]]
    assert v["failures"] == {"misses": 2, "loses units": 1, "costs": 1}
    assert v["good_betas_by_rho"] == {"0.05": [1.0], "0.1": []}
    wide = [cell(0.05, b, 0.021, 0.05) for b in (0.1, 1.0, 10.0)] + [cell(0.1, 1.0, 0.02, 0.3)]
    assert tuning.verdict_sparsity(wide, dense, 64)["verdict"] == "holds with a qualification"
    none_good = [cell(0.05, 0.1, 0.02, 0.3), cell(0.05, 10.0, 0.09, 0.05)]
    v = tuning.verdict_sparsity(none_good, dense, 64)
    assert v["verdict"] == "holds with a qualification" and "no cell is good" in v["because"]
    all_good = [cell(0.05, b, 0.02, 0.05) for b in (0.1, 1.0)]
    assert tuning.verdict_sparsity(all_good, dense, 64)["verdict"] == "does not hold here"


def run(mse, detail, gain, turned):
    return {"test_mse": mse, "detail_ratio": detail, "gain": gain, "turned_reproduced": turned}


def test_the_code_size_verdict_follows_its_rules():
    plain = {2: run(0.06, 0.1, 0.02, 0.1), 64: run(0.01, 0.6, 0.5, 0.7), 512: run(0.005, 0.8, 0.95, 0.9)}
    dae = {512: run(0.012, 0.5, 0.4, 0.7)}
    v = tuning.verdict_code_size(plain, dae)
    assert v["verdict"] == "holds with a qualification" and v["regulariser_stops_copying"] is True
    assert v["best_k"] == 512 and not v["error_rises_at_large_end"]
    rises = {**plain, 64: run(0.004, 0.7, 0.6, 0.7)}
    assert tuning.verdict_code_size(rises, {})["verdict"] == "holds"
    no_copy = {**plain, 512: run(0.005, 0.8, 0.6, 0.9)}
    v = tuning.verdict_code_size(no_copy, dae)
    assert v["verdict"] == "does not hold here" and "large end does not copy" in v["because"]
    sharp_small = {**plain, 2: run(0.006, 0.7, 0.02, 0.1)}
    assert "small end is not blurry" in tuning.verdict_code_size(sharp_small, dae)["because"]
    copying_dae = {512: run(0.005, 0.8, 0.9, 0.9)}
    assert tuning.verdict_code_size(plain, copying_dae)["regulariser_stops_copying"] is False


@pytest.mark.parametrize("argv, message", [
    (("--rhos", "1"), "argument --rhos: expected a number strictly between 0 and 1, got '1'"),
    (("--betas", "0"), "argument --betas: expected a number > 0, got '0'"),
    (("--ks", "1000"), "argument --ks: expected an integer from 1 to 784, got '1000'"),
    (("--ks", "8"), "argument --ks: the sweep needs at least two code sizes"),
    (("--ks", "2", "8", "--dae-ks", "4"), "argument --dae-ks: [4] not among --ks"),
    (("--sparse-steps", "0"), "argument --sparse-steps: expected an integer >= 1, got '0'"),
])
def test_a_bad_argument_is_refused_before_any_data_is_read(capsys, tmp_path, argv, message):
    with pytest.raises(SystemExit) as info:
        tuning.main(["--data-dir", str(tmp_path), "--out", str(tmp_path / "out"), *argv])
    assert info.value.code == 2 and f"error: {message}" in capsys.readouterr().err


def test_tiny_run_writes_the_figures_and_the_metrics(tmp_path, capsys):
    rng = np.random.default_rng(0)
    for stem, n in (("train", 60), ("t10k", 30)):
        write_mnist(tmp_path, stem, (rng.uniform(size=(n, 28, 28)) < 0.2) * 255, np.arange(n) % 10)
    out = tmp_path / "out"
    m = tuning.main(["--data-dir", str(tmp_path), "--out", str(out), "--rhos", "0.05", "0.1",
                     "--betas", "1", "--hidden", "6", "--sparse-steps", "2", "--ks", "2", "8",
                     "--dae-ks", "8",
                     "--steps", "2", "--batch-size", "32"])
    for name in ("sparsity_heatmaps.png", "sparsity_filters.png", "code_size.png",
                 "code_size_reconstructions.png", "metrics.json"):
        assert (out / name).stat().st_size > 0
    saved = json.loads((out / "metrics.json").read_text())
    assert [(c["rho"], c["beta"]) for c in saved["sparsity"]["cells"]] == [(0.05, 1.0), (0.1, 1.0)]
    assert list(saved["code_size"]["plain"]) == ["2", "8"] and list(saved["code_size"]["dae"]) == ["8"]
    assert saved["code_size"]["top"] == 60  # as many principal directions as training images
    for name, v in saved["verdicts"].items():
        assert v["verdict"] in ("holds", "holds with a qualification", "does not hold here"), name
        assert v["verdict"] == m["verdicts"][name]["verdict"]
    printed = capsys.readouterr().out
    assert printed.count("verdict: ") == 2
