"""examples/overfitting.py: a tiny run writes its figures and metrics; the verdict rules do what they say."""

import json

import numpy as np
import pytest
from example_scripts import load_example

from idx_files import write_mnist

FIGURES = ("learning_curves.png", "regularisers.png", "noise_robustness.png", "training_set_size.png",
           "reconstructions.png")


@pytest.fixture(scope="module")
def example():
    return load_example("overfitting")


def test_tiny_run_writes_the_figures_the_metrics_and_a_verdict_per_claim(tmp_path, capsys, example):
    rng = np.random.default_rng(0)
    for stem, n in (("train", 60), ("t10k", 30)):
        write_mnist(tmp_path, stem, (rng.uniform(size=(n, 28, 28)) < 0.2) * 255, np.arange(n) % 10)
    out = tmp_path / "out"
    m = example.main(["--data-dir", str(tmp_path), "--out", str(out), "--hidden", "8", "--small", "20",
                      "--sizes", "20,40,100", "--steps", "4", "--eval-every", "2", "--batch-size", "10",
                      "--curve-n", "10", "--noise-levels", "0.3,0,0.1"])
    for name in (*FIGURES, "metrics.json"):
        assert (out / name).stat().st_size > 0, name
    saved = json.loads((out / "metrics.json").read_text())
    assert saved["n_train"] == 60 and saved["n_small"] == 20 and saved["n_test"] == 30
    assert saved["sizes"] == [20, 40, 60]  # 100 is more than the folder holds: all 60 instead
    assert saved["noise_levels"] == [0.0, 0.1, 0.3]
    for size in ("small", "large"):
        assert list(saved["curves"][size]) == list(example.MODELS)
        for curve in saved["curves"][size].values():
            assert curve["updates"] == [2, 4] and len(curve["train"]) == len(curve["held_out"]) == 2
        assert all(len(v) == 3 for v in saved["robustness"][size].values())
        assert all(v > 0 for v in saved["mean_jacobian_norm"][size].values())
    assert saved["curves"]["small"]["AE"]["epochs"] == [1.0, 2.0]  # 2 updates of 10 images on 20 images
    assert all(len(v) == 3 for v in saved["size_curve"].values())
    verdicts = {example.HOLDS, example.QUALIFIED, example.FAILS}
    assert len(saved["verdicts"]) == 6
    assert all(v["verdict"] in verdicts and v["why"] for v in saved["verdicts"].values())
    assert m["verdicts"]["basic autoencoders overfit"]["verdict"] == saved["verdicts"][
        "basic autoencoders overfit"]["verdict"]
    printed = capsys.readouterr().out
    assert all(f"{claim}: {v['verdict'].upper()}" in printed for claim, v in saved["verdicts"].items())


@pytest.mark.parametrize("argv, message", [
    (("--sizes", "250,0"), "argument --sizes: expected integers >= 1 like 250,1000,4000,8000, got '250,0'"),
    (("--noise-levels", "0,-0.1"),
     "argument --noise-levels: expected numbers >= 0 like 0,0.1,0.2, got '0,-0.1'"),
    (("--rho", "1"), "argument --rho: expected a number between 0 and 1, both excluded, got '1'"),
    (("--small", "8000"), "argument --small: 8000 images, not fewer than the 8000 of --n-train"),
])
def test_bad_arguments_are_refused_before_any_data_is_read(tmp_path, capsys, example, argv, message):
    with pytest.raises(SystemExit) as info:
        example.main(["--data-dir", str(tmp_path), "--out", str(tmp_path / "out"), *argv])
    assert info.value.code == 2 and f"error: {message}" in capsys.readouterr().err


def summary(train: float, held_out: float, best: float | None = None) -> dict:
    """A learning-curve summary as ``summary`` gives it, from the last and the best held-out error."""
    best = held_out if best is None else best
    return {"train": train, "held_out": held_out, "gap": held_out - train, "ratio": held_out / train,
            "best_held_out": best, "best_epoch": 10.0, "rise": held_out / best - 1}


def test_the_overfitting_rule_asks_for_a_gap_and_a_rise(example):
    def verdict(small, large=None):
        return example.verdict_basic_overfits(small, large or summary(0.010, 0.012))["verdict"]
    assert verdict(summary(0.001, 0.020, best=0.018)) == example.HOLDS
    assert verdict(summary(0.001, 0.020)) == example.QUALIFIED
    assert verdict(summary(0.015, 0.020, best=0.010)) == example.FAILS
    # a gap no larger than the large set's is the network's, not the small set's
    assert verdict(summary(0.001, 0.020), summary(0.001, 0.015)) == example.FAILS


def test_the_regulariser_rule_asks_for_a_smaller_gap_and_a_lower_held_out_error(example):
    plain = summary(0.001, 0.020)
    assert example.verdict_regulariser("r", plain, summary(0.005, 0.015))["verdict"] == example.HOLDS
    assert example.verdict_regulariser("r", plain, summary(0.020, 0.030))["verdict"] == example.QUALIFIED
    assert example.verdict_regulariser("r", plain, summary(0.001, 0.030))["verdict"] == example.FAILS


def test_the_robustness_rule_compares_with_the_plain_ae_at_every_noise_level(example):
    levels = [0.0, 0.2, 0.5]
    norms = {size: {"AE": 10.0, "M": 2.0} for size in ("small", "large")}

    def verdict(small_m, large_m):
        r = {"small": {"AE": [1.0, 2.0, 4.0], "M": small_m}, "large": {"AE": [1.0, 2.0, 4.0], "M": large_m}}
        return example.verdict_robust("M", r, levels, norms)["verdict"]
    assert verdict([2.0, 1.0, 2.0], [2.0, 1.5, 3.0]) == example.HOLDS  # s = 0 does not count
    assert verdict([2.0, 3.0, 2.0], [2.0, 3.0, 3.0]) == example.QUALIFIED  # only at the largest s
    assert verdict([2.0, 1.0, 2.0], [2.0, 3.0, 5.0]) == example.QUALIFIED  # everywhere on one set
    assert verdict([2.0, 3.0, 5.0], [2.0, 1.0, 5.0]) == example.FAILS


def test_the_training_data_rule_reads_the_daes_advantage_against_the_size(example):
    sizes = [100, 1000]
    assert example.verdict_training_data(sizes, [1.0, 2.0], [1.0, 1.0], 0.3)["verdict"] == example.HOLDS
    assert example.verdict_training_data(sizes, [2.0, 3.0], [1.0, 1.0], 0.3)["verdict"] == example.QUALIFIED
    assert example.verdict_training_data(sizes, [2.0, 2.0], [1.0, 1.0], 0.3)["verdict"] == example.FAILS
    assert example.verdict_training_data(sizes, [1.0, 1.0], [1.0, 1.0], 0.3)["verdict"] == example.FAILS
