"""Smoke test of examples/sparse_kl.py: tiny runs of both data sets finish and write their outputs."""

import json
from pathlib import Path

import numpy as np
from example_scripts import load_example

from idx_files import write_mnist

ROOT = Path(__file__).resolve().parents[1]


def test_patches_run(tmp_path):
    out = tmp_path / "out"
    m = load_example("sparse_kl").main([
        "--n", "300", "--max-iter", "5", "--check-coords", "30", "--out", str(out)])
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
    m = load_example("sparse_kl").main([
        "--data", "mnist", "--data-dir", str(tmp_path), "--n", "40", "--optimizer",
                             "adam", "--epochs", "2", "--check-coords", "5", "--out", str(out)])
    assert m["gradient_check_rel_diff"] < 1e-9 and m["n_examples"] == 40 and m["rho"] == 0.1
    assert (out / "filters.png").is_file()


def test_both_penalties_side_by_side(tmp_path, capsys):
    out = tmp_path / "out"
    m = load_example("sparse_kl").main([
        "--n", "300", "--max-iter", "5", "--check-coords", "30", "--penalty", "both",
                             "--out", str(out)])
    for name in ("filters.png", "loss.png", "filters_l1.png", "loss_l1.png", "kl_vs_l1.png", "metrics.json"):
        assert (out / name).stat().st_size > 0
    saved = json.loads((out / "metrics.json").read_text())
    assert saved["penalty"] == "both" and saved["claim"] == m["claim"]
    kl, l1 = saved["kl"], saved["l1"]
    assert (kl["penalty"], kl["beta"], l1["penalty"], l1["beta"]) == ("kl", 3.0, "l1", 0.01)
    # the L1 model's cost starts near 1 (no KL term) and its O(h^2) truncation error is near 1e-9 at
    # h = 1e-4: 6e-10 on the default 10,000 patches, 1.1e-9 on these 300 (1.2e-7 at h = 1e-3)
    assert kl["gradient_check_rel_diff"] < 1e-9 and l1["gradient_check_rel_diff"] < 1e-8
    for r in (kl, l1):
        assert r["loss"] < r["initial_loss"]
        assert r["min_unit_activation"] <= r["mean_activation"] <= r["max_unit_activation"]
        assert 0 <= r["silent_units"] <= 25 and 0.0 <= r["fraction_above_0.1"] <= 1.0
        assert 0.0 <= r["firing_rate_of_the_others"] <= 1.0
    assert "units fire" in capsys.readouterr().out


def test_the_l1_penalty_alone_and_its_weight(tmp_path):
    out = tmp_path / "out"
    m = load_example("sparse_kl").main([
        "--n", "200", "--max-iter", "3", "--check-coords", "20", "--penalty", "l1",
                             "--l1-beta", "0.05", "--out", str(out)])
    assert m["penalty"] == "l1" and m["beta"] == 0.05 and "kl" not in m
    assert (out / "filters_l1.png").is_file() and not (out / "filters.png").exists()


def test_the_filter_spread_is_0_for_one_pixel_1_for_even_energy_and_small_for_a_blob():
    sparse_kl = load_example("sparse_kl")
    rng = np.random.default_rng(0)
    one_pixel = np.zeros((1, 60))
    one_pixel[0, 17] = -2.0
    even = rng.choice([-1.0, 1.0], size=(3, 60))  # every weight the same size, any sign
    y, x = np.mgrid[0:6, 0:10]  # a 6 x 10 filter: the shape is (h, w), not square
    blob = np.exp(-((y - 2.5) ** 2 + (x - 4.5) ** 2) / 2).reshape(1, 60)
    np.testing.assert_allclose(sparse_kl.filter_spread(one_pixel, (6, 10)), [0.0], atol=1e-12)
    np.testing.assert_allclose(sparse_kl.filter_spread(even, (6, 10)), [1.0, 1.0, 1.0], rtol=1e-12)
    assert 0.2 < sparse_kl.filter_spread(blob, (6, 10))[0] < 0.5
    random = sparse_kl.filter_spread(rng.standard_normal((1000, 60)), (6, 10))  # (1000,)
    assert 0.95 < np.median(random) < 1.0


def test_the_filter_coherence_is_1_for_a_ramp_in_any_direction_and_0_for_a_round_blob():
    sparse_kl = load_example("sparse_kl")
    y, x = np.mgrid[0:8, 0:8].astype(float)
    ramps = np.stack([y, x, y + x, 3 * y - x]).reshape(4, 64)  # (4, 64): one direction each
    blob = np.exp(-((y - 3.5) ** 2 + (x - 3.5) ** 2) / 4).reshape(1, 64)
    np.testing.assert_allclose(sparse_kl.filter_coherence(ramps, (8, 8)), np.ones(4), rtol=1e-12)
    np.testing.assert_allclose(sparse_kl.filter_coherence(blob, (8, 8)), [0.0], atol=1e-12)
    random = sparse_kl.filter_coherence(np.random.default_rng(0).standard_normal((1000, 64)), (8, 8))
    assert np.median(random) < 0.25


def test_the_filter_statistics_and_the_photo_reach_the_metrics(tmp_path):
    out = tmp_path / "out"
    m = load_example("sparse_kl").main(["--n", "300", "--max-iter", "5", "--check-coords", "30", "--photo",
                                        "present", "--out", str(out)])
    assert "Minduka_Present_Blue_Pack.png" in m["data"]
    for name in ("filter_coherence_median", "initial_filter_coherence_median", "largest_firing_rate"):
        assert 0.0 <= m[name] <= 1.0, (name, m[name])
    for name in ("filter_spread_median", "initial_filter_spread_median"):  # above 1 for energy at the edges
        assert 0.0 < m[name] < 2.0, (name, m[name])
    assert m["largest_firing_rate"] >= m["firing_rate_of_the_others"]
