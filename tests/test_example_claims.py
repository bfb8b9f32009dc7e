"""The examples' claims, asserted on MNIST-format data that are not digits.

Each application example was first tuned on MNIST; its claim must hold on any folder of 28x28
grey images. These tests write two such folders (``tests/nondigit.py``: letters and symbols in
16 fonts, and crops of the photographs matplotlib ships), run each example with its defaults on
3,000 training images (the examples count training in updates, so a small folder trains as
long as MNIST's 8,000) and 300 held-out images, and assert what its header promises:

- denoising: the DAE's PSNR beats the noisy input's and the plain autoencoder's at every setting;
- inpainting: the DAE has the lowest error on the missing pixels for every mask;
- watermark removal: PSNR up by more than 1 dB, and SSIM up;
- conv AE: the convolutional model at least as good as the dense one (PSNR and SSIM).

They train real models (about three minutes in all on one core), so they are marked ``claims``
and left out of the default run: ``python -m pytest -m claims`` runs them (CI does, after the
README's command). The gradient of the examples' own models is checked in the default run
(``test_examples.py``).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from example_scripts import load_example

pytestmark = pytest.mark.claims


@pytest.fixture
def folder(nondigit_folder) -> Path:
    """The non-digit folder of this test (``conftest.nondigit_folder``: glyphs, then photo crops)."""
    return nondigit_folder


def run(name: str, folder: Path, tmp_path: Path, *options: str) -> dict:
    return load_example(name).main(["--data-dir", str(folder), "--out", str(tmp_path / name), *options])


def test_the_dae_beats_the_noisy_input_and_the_plain_autoencoder(folder, tmp_path):
    m = run("denoising", folder, tmp_path)
    for setting, r in m["results"].items():
        if setting != "clean input, plain AE":
            assert r["DAE"]["psnr"] > max(r["noisy"]["psnr"], r["plain AE"]["psnr"]), (setting, r)
    assert m["dae_best_psnr_everywhere"]


def test_the_dae_fills_every_mask_best(folder, tmp_path):
    m = run("inpainting", folder, tmp_path)
    for mask, r in m["results"].items():
        others = min(r[method]["mse_missing"] for method in r if method != "DAE")
        assert r["DAE"]["mse_missing"] < others, (mask, r)


def test_the_watermark_remover_raises_psnr_by_more_than_1_db_and_raises_ssim(folder, tmp_path):
    m = run("watermark_removal", folder, tmp_path)
    assert m["after"]["psnr_db"] > m["before"]["psnr_db"] + 1.0, m
    assert m["after"]["ssim"] > m["before"]["ssim"], m


def test_the_conv_autoencoder_is_at_least_as_good_as_the_dense_one(folder, tmp_path):
    scores = run("conv_ae", folder, tmp_path)["test"]
    assert scores["conv"]["psnr_db"] >= scores["dense"]["psnr_db"], scores
    assert scores["conv"]["ssim"] >= scores["dense"]["ssim"], scores
