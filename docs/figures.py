"""The figures the pages quote, regenerated from the runs' metrics files: one command, no copying by hand.

Every number a page quotes from an example or a benchmark sits between two markers,

    <!-- figures:NAME -->the figure, a table or a few words<!-- /figures -->

and is written by this script from ``docs/metrics/<run>.json``, the ``metrics.json`` of the run
(or the benchmark's JSON) committed beside the pages. ``tests/test_figures.py`` fails when a
page's marked text differs from what its metrics file gives.

    python docs/figures.py                      # rewrite every marked figure from docs/metrics/
    python docs/figures.py --check              # list the figures that differ (exit 1), change nothing
    python docs/figures.py --from npae-out      # copy npae-out/<run>/metrics.json into docs/metrics/, rewrite
    python docs/figures.py --run --data-dir D   # run every example with its defaults, then as --from npae-out
    python docs/figures.py --run --data-dir D --fashion-dir F   # and the runs on Fashion-MNIST too
    python docs/figures.py --graphs             # only draw the models' computation graphs

The computation graph of each model (``docs/images/graph_<model>.png``, ``docs/graphs.py``) is drawn
from the model object: a box per layer of its encoder and decoder with the layer's output shape,
the step's loss, penalty, corruption or sampling, forward arrows named as the step's tensors and
backward arrows as its gradients. The plain run (no option) redraws them too; ``--check`` lists a
picture whose model has changed since it was drawn.

``--run`` runs the examples of :data:`RUNS` one at a time (each from seconds to a few minutes on two cores;
``--only NAME ...`` picks some) and the benchmarks (:data:`BENCHMARKS`, each in the environment
:data:`BENCH_ENV` gives it: variables unset or set); a run on Fashion-MNIST is skipped, with a
message, unless ``--fashion-dir`` is given. A metrics file that is missing is reported with the
command that makes it, and the figures that need it are left as they are.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

DOCS = Path(__file__).resolve().parent
ROOT = DOCS.parent
if str(DOCS) not in sys.path:  # imported by path (the tests): graphs.py sits beside this file
    sys.path.insert(0, str(DOCS))
import graphs  # noqa: E402  (the models' computation graphs: docs/graphs.py)

METRICS = DOCS / "metrics"
#: The pages that hold figures.
PAGES = sorted(DOCS.glob("*.md")) + [ROOT / "README.md"]
#: A marked figure; a marker quoted in backticks (as in docs/README.md) is prose, not a marker.
MARKED = re.compile(r"(?<!`)<!-- figures:([\w.-]+) -->(.*?)<!-- /figures -->", re.S)

#: Each metrics file and the command line that writes it (``{out}``: its folder, ``{data}``: MNIST,
#: ``{fashion}``: Fashion-MNIST, both in MNIST's IDX format).
RUNS: dict[str, list[str]] = {
    "sparse_kl": ["examples/sparse_kl.py"],
    "sparse_kl_float64": ["examples/sparse_kl.py", "--dtype", "float64"],
    "sparse_kl_no_whiten": ["examples/sparse_kl.py", "--no-whiten"],
    "sparse_kl_adam": ["examples/sparse_kl.py", "--optimizer", "adam"],
    "sparse_kl_mnist": ["examples/sparse_kl.py", "--data", "mnist", "--data-dir", "{data}"],
    "denoising": ["examples/denoising.py", "--data-dir", "{data}"],
    "inpainting": ["examples/inpainting.py", "--data-dir", "{data}"],
    # docs/06, docs/13: the DAE trained on random masks alone, against square holes it never saw
    "inpainting_random_holes": ["examples/inpainting.py", "--data-dir", "{data}", "--train-holes", "random"],
    "contractive": ["examples/contractive.py", "--data-dir", "{data}"],
    "vae": ["examples/vae.py", "--data-dir", "{data}"],
    "vae_latent2": ["examples/vae.py", "--data-dir", "{data}", "--latent-dim", "2"],
    # docs/09 section 10: the Gaussian likelihood calibrated, and as summed and as mean MSE + KL
    "vae_gaussian_learn_sigma": ["examples/vae.py", "--data-dir", "{data}", "--likelihood", "gaussian",
                                 "--learn-sigma"],
    "vae_gaussian_sum_mse": ["examples/vae.py", "--data-dir", "{data}", "--likelihood", "gaussian",
                             "--decoder-sigma", "0.7071"],
    "vae_gaussian_mean_mse": ["examples/vae.py", "--data-dir", "{data}", "--likelihood", "gaussian",
                              "--decoder-sigma", "19.8"],
    # the IWAE comparison of docs/09: binarised images, the bound on all 2,000 held-out images
    **{name: ["examples/vae.py", "--data-dir", "{data}", "--binarize", "dynamic", "--eval-n", "all", *extra]
       for name, extra in [("vae_binarized", []), ("vae_binarized_k5", ["--k", "5"]),
                           ("iwae_k5", ["--objective", "iwae", "--k", "5"]),
                           ("vae_binarized_latent50", ["--latent-dim", "50"]),
                           ("iwae_k5_latent50", ["--objective", "iwae", "--k", "5", "--latent-dim", "50"])]},
    "conv_ae": ["examples/conv_ae.py", "--data-dir", "{data}"],
    "conv_denoising": ["examples/conv_denoising.py", "--data-dir", "{data}"],
    "pca_vs_autoencoder": ["examples/pca_vs_autoencoder.py", "--data-dir", "{data}"],
    "anomaly_detection": ["examples/anomaly_detection.py", "--data-dir", "{data}"],
    "anomaly_detection_all_digits": ["examples/anomaly_detection.py", "--data-dir", "{data}", "--all-digits"],
    "colorization": ["examples/colorization.py"],
    "watermark_removal": ["examples/watermark_removal.py", "--data-dir", "{data}"],
    "sparse_kl_both": ["examples/sparse_kl.py", "--penalty", "both"],
    "sparse_kl_both_mnist": ["examples/sparse_kl.py", "--penalty", "both", "--data", "mnist",
                             "--data-dir", "{data}"],
    "overcomplete": ["examples/overcomplete.py", "--data-dir", "{data}"],
    "overcomplete_fashion": ["examples/overcomplete.py", "--data-dir", "{fashion}"],
    # docs/15 and 16: the codes with few labels, and pretraining (on MNIST, then fine-tuned for longer);
    # Fashion-MNIST with the defaults (8,000 / 2,000 images) and all of it (60,000 / 10,000)
    "feature_learning": ["examples/feature_learning.py", "--data-dir", "{data}"],
    "feature_learning_finetune3000": ["examples/feature_learning.py", "--data-dir", "{data}",
                                      "--finetune-steps", "3000"],
    "feature_learning_finetune6000": ["examples/feature_learning.py", "--data-dir", "{data}",
                                      "--finetune-steps", "6000", "--labels", "all"],
    "feature_learning_fashion": ["examples/feature_learning.py", "--data-dir", "{fashion}"],
    "feature_learning_fashion_all": ["examples/feature_learning.py", "--data-dir", "{fashion}",
                                     "--n-train", "all", "--n-test", "all"],
}
#: The application examples' claims on data that are not digits: the folders the claims tests build
#: (``tests/nondigit.py``, 3,000 training and 300 held-out images), written under ``--out`` by ``--run``.
NONDIGIT_SETS = ("glyphs", "photo_crops")
CLAIM_EXAMPLES = ("denoising", "inpainting", "watermark_removal", "conv_ae")
RUNS.update({f"{example}_{data}": [f"examples/{example}.py", "--data-dir", "{" + data + "}"]
             for example in CLAIM_EXAMPLES for data in NONDIGIT_SETS})
# docs/06 and docs/13: why the defaults are what they are, on letters (a watermark remover without its
# gated skip path; a denoising autoencoder with a 64-number code)
RUNS["watermark_removal_plain_glyphs"] = ["examples/watermark_removal.py", "--data-dir", "{glyphs}",
                                          "--plain"]
RUNS["denoising_code64_glyphs"] = ["examples/denoising.py", "--data-dir", "{glyphs}", "--code", "64"]
# docs/17: the claims about overfitting and robustness, on digits, clothes, letters and photo crops
RUNS["overfitting"] = ["examples/overfitting.py", "--data-dir", "{data}"]
RUNS["overfitting_fashion"] = ["examples/overfitting.py", "--data-dir", "{fashion}"]
RUNS.update({f"overfitting_{data}": ["examples/overfitting.py", "--data-dir", "{" + data + "}"]
             for data in NONDIGIT_SETS})
# the lessons' claims on data the examples were not tuned on, as tests/test_example_claims.py runs them
RUNS.update({
    "anomaly_detection_glyphs": ["examples/anomaly_detection.py", "--data-dir", "{glyphs}"],
    "anomaly_detection_photo_crops_drawing": ["examples/anomaly_detection.py", "--data-dir", "{photo_crops}",
                                              "--digit", "1"],
    "anomaly_detection_photo_crops_photograph": ["examples/anomaly_detection.py", "--data-dir",
                                                 "{photo_crops}", "--digit", "0"],
    **{f"pca_vs_autoencoder_{data}": ["examples/pca_vs_autoencoder.py", "--data-dir", "{" + data + "}"]
       for data in NONDIGIT_SETS},
    **{f"feature_learning_{data}": ["examples/feature_learning.py", "--data-dir", "{" + data + "}",
                                    "--labels", "100", "--finetune-steps", "1"] for data in NONDIGIT_SETS},
    # the default run with the photo named: its metrics hold the filter statistics (sparse_kl.json is older)
    "sparse_kl_grace_hopper": ["examples/sparse_kl.py", "--photo", "grace_hopper"],
    "sparse_kl_present": ["examples/sparse_kl.py", "--photo", "present"],
})
#: Benchmarks write their JSON themselves (``{json}``: the file in docs/metrics/).
BENCHMARKS: dict[str, list[str]] = {
    "bench_kernels": ["benchmarks/kernels.py", "--json", "{json}"],
}  # and the speed benchmarks, registered with their figures (BENCH_WORKLOADS)
#: A benchmark's changes to the environment it runs in: variable -> value, or None to unset it.
BENCH_ENV: dict[str, dict[str, str | None]] = {}

Render = Callable[..., str]
#: name -> (metrics files, function of their contents giving the text between the markers)
FIGURES: dict[str, tuple[tuple[str, ...], Render]] = {}


def figure(name: str, *runs: str):
    """Register ``render(metrics, ...) -> text`` as the figure ``name``.

    ``render`` receives the contents of ``docs/metrics/<run>.json`` for each of ``runs``, in order.
    """
    unknown = [run for run in runs if run not in RUNS and run not in BENCHMARKS]
    assert runs and not unknown, f"figure {name}: no run named {unknown}"

    def register(render: Render) -> Render:
        assert name not in FIGURES, f"figure {name!r} registered twice"
        FIGURES[name] = (runs, render)
        return render
    return register


def table(header: list[str], rows: list[list]) -> str:
    """A markdown table."""
    lines = ["| " + " | ".join(header) + " |", "|" + " --- |" * len(header)]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def _kernels(m: dict) -> str:
    """Where a figure of ``benchmarks/kernels.py`` comes from; when and on what it was measured is said
    once, on the benchmarks page (figure ``kernels-setup``), not in the lessons."""
    return (f"`python benchmarks/kernels.py`, BLAS threads {m['where']['blas_threads']}; setup and date in "
            f"[benchmarks.md](benchmarks.md#small-kernels)")


def _of(k: int, n: int) -> str:
    """``"all 4"`` or ``"3 of the 4"``."""
    return f"all {n}" if k == n else f"{k} of the {n}"


def measured(where: dict) -> str:
    """When and where a benchmark ran, for a machine-dependent figure."""
    load = "/".join(f"{v:g}" for v in where["load_average"])
    return (f"measured {where['measured_at']} on the shared {where['cores']}-core machine, load average "
            f"{load} before/after, BLAS threads {where['blas_threads']}")


# ---------------------------------------------------------------------------- the figures, page by page
# (one function per marked figure, or a format template of the metrics when a figure is one line;
# the pages name them in their markers)

#: name -> (metrics file, template filled with ``template.format(**metrics)``)
TEMPLATES: dict[str, tuple[str, str]] = {
    # docs/03-sparsity.md, docs/benchmarks.md, the README: examples/sparse_kl.py and its variants
    "sparse-gradcheck": ("sparse_kl", "{gradient_check_rel_diff:.1e}"),
    "sparse-activation": ("sparse_kl", "**Mean hidden activation {mean_activation:.4f} next to "
                          "$\\rho$ = {rho}**, every unit between {min_unit_activation:.4f} and "
                          "{max_unit_activation:.4f}"),
    "sparse-float32": ("sparse_kl", "J = {loss:.4f}"),
    "sparse-float64": ("sparse_kl_float64", "J = {loss:.4f}"),
    "sparse-no-whiten": ("sparse_kl_no_whiten", "J = {loss:.4f}"),
    "sparse-adam": ("sparse_kl_adam", "J = {loss:.3f}, units between {min_unit_activation:.4f} and "
                    "{max_unit_activation:.4f}"),
    "readme-sparse": ("sparse_kl", "gradient check {gradient_check_rel_diff:.0e}, edge filters, mean "
                      "activation {mean_activation:.4f} for rho {rho}"),
    # docs/06-denoising.md, the README
    "denoising-clean": ("denoising", "{results[clean input, plain AE][psnr]:.2f} dB / SSIM "
                        "{results[clean input, plain AE][ssim]:.3f}"),
    "readme-denoising": ("denoising", "at sigma 0.5, PSNR {results[gaussian 0.5][noisy][psnr]:.1f} dB noisy, "
                         "{results[gaussian 0.5][plain AE][psnr]:.1f} dB plain AE, "
                         "{results[gaussian 0.5][DAE][psnr]:.1f} dB DAE"),
    "readme-conv-denoising": ("conv_denoising", "PSNR {test[noisy][psnr_db]:.1f} → "
                              "{test[denoised][psnr_db]:.1f} dB"),
    # docs/09-vae.md, the README
    "vae-latent2": ("vae_latent2", "{epochs} epochs: negative ELBO {test_negative_elbo:.1f}, "
                                   "KL only {test_kl:.1f} nats"),
    "readme-vae": ("vae", "test -ELBO {test_negative_elbo:.1f} nats ({test_reconstruction:.1f} "
                   "reconstruction + {test_kl:.1f} KL), k={eval_k} bound {test_iw_bound:.1f} "
                   "on {eval_n} images, {active_units} active units of {latent_dim}"),
    # docs/15-feature-learning.md: the Frechet distances examples/vae.py prints
    "frechet-floor": ("vae", "{frechet_test_half_vs_half:.1f}"),
    "frechet-vae": ("vae", "floor {frechet_test_half_vs_half:.1f}, reconstructions "
                           "{frechet_reconstructions:.1f}, samples {frechet_samples:.1f}"),
    # docs/13-applications.md, the README
    "anomaly-n-train": ("anomaly_detection", "{n_train_normal:,}"),
    "readme-colorization": ("colorization", "{psnr_colourised_db:.1f} dB vs {psnr_grey_baseline_db:.1f} dB "
                            "for the grey baseline"),
    "readme-watermark": ("watermark_removal", "PSNR {before[psnr_db]:.1f} → {after[psnr_db]:.1f} dB, SSIM "
                         "{before[ssim]:.2f} → {after[ssim]:.2f}"),
    # docs/01-dense-and-activations.md, the README: the benchmarks
    "sigmoid-ulps": ("bench_kernels", "up to {sigmoid[max_ulps_vs_float32_expit]:.0f} ulp ({sigmoid[grid]})"),
}
for _name, (_run, _template) in TEMPLATES.items():
    figure(_name, _run)(lambda m, template=_template: template.format(**m))


# -- docs/06-denoising.md: examples/denoising.py, examples/inpainting.py
def _noise_label(setting: str) -> str:
    kind, level = setting.split()
    return f"Gaussian $\\sigma = {level}$" if kind == "gaussian" else f"{kind} {level}"


def _settings(m: dict) -> dict[str, dict]:
    return {k: v for k, v in m["results"].items() if k != "clean input, plain AE"}


@figure("denoising-table", "denoising")
def denoising_table(m: dict) -> str:
    rows = []
    for setting, r in _settings(m).items():
        best_psnr = max(r.values(), key=lambda v: v["psnr"])
        best_ssim = max(r.values(), key=lambda v: v["ssim"])
        psnr = [f"**{v['psnr']:.2f}**" if v is best_psnr else f"{v['psnr']:.2f}" for v in r.values()]
        ssim = [f"**{v['ssim']:.3f}**" if v is best_ssim else f"{v['ssim']:.3f}" for v in r.values()]
        rows.append([_noise_label(setting), *psnr, *ssim])
    return table(["noise, level", "PSNR noisy", "PSNR plain AE", "PSNR DAE", "SSIM noisy", "SSIM plain AE",
                  "SSIM DAE"], rows)


@figure("denoising-verdict", "denoising")
def denoising_verdict(m: dict) -> str:
    s = _settings(m)
    n = len(s)
    psnr_up = sum(r["plain AE"]["psnr"] > r["noisy"]["psnr"] for r in s.values())
    ssim_down = sum(r["plain AE"]["ssim"] < r["noisy"]["ssim"] for r in s.values())
    dae_best = sum(r["DAE"]["psnr"] == max(v["psnr"] for v in r.values())
                   and r["DAE"]["ssim"] == max(v["ssim"] for v in r.values()) for r in s.values())
    text = (f"The plain autoencoder raises the PSNR over the noisy input at {_of(psnr_up, n)} settings "
            f"(it can only output things that look somewhat like its training data)")
    text += (f" but lowers the SSIM at {ssim_down} of them: it smooths the noise into blur and reconstructs "
             f"part of it, and SSIM, which compares local structure, notices." if ssim_down else
             " and the SSIM at every one, but far less than the DAE: it was never shown what noise is, and "
             "reconstructs part of it.")
    return text + f" The DAE's output is the best by PSNR and by SSIM at {_of(dae_best, n)} settings."


@figure("denoising-sigma", "denoising")
def denoising_sigma(m: dict) -> str:
    curves = dict(m["psnr_vs_sigma"])
    sigmas = curves.pop("sigma")
    low = sigmas[0]
    parts = []
    for name, values in curves.items():
        if name.startswith("DAE"):
            best = max(range(len(sigmas)), key=values.__getitem__)
            parts.append(f"the {name} peaks at $\\sigma = {sigmas[best]:g}$ ({values[best]:.2f} dB) "
                         f"and gives {values[0]:.2f} dB at $\\sigma = {low:g}$")
    return ("; ".join(parts) + f", where the noisy input itself is at {curves['noisy input'][0]:.2f} dB "
            f"and the plain AE at {curves['plain AE'][0]:.2f} dB.")


def _mask(name: str) -> str:
    """``"block 8x8"`` as the pages write it, ``"block 8×8"``."""
    return name.replace("x", "×")


@figure("inpainting-table", "inpainting")
def inpainting_table(m: dict) -> str:
    rows = []
    for mask, r in m["results"].items():
        best = m["best"][mask]
        rows.append([_mask(mask), *(f"**{v['mse_missing']:.4f}**" if k == best else f"{v['mse_missing']:.4f}"
                                             for k, v in r.items())])
    return table(["mask", "zeros", "mean training image", "plain AE", "DAE"], rows)


@figure("inpainting-verdict", "inpainting")
def inpainting_verdict(m: dict) -> str:
    r = m["results"]
    next_best = {mask: min(v["mse_missing"] for k, v in r[mask].items() if k != "DAE") for mask in r}
    ratios = [(next_best[mask] / r[mask]["DAE"]["mse_missing"], mask) for mask in r]
    low, high = min(ratios), max(ratios)
    won = [mask for mask in r if m["best"][mask] == "DAE"]
    worse = [k for k in r if r[k]["plain AE"]["mse_missing"] > r[k]["mean image"]["mse_missing"]]
    text = (f"Trained on both kinds of hole, the DAE has the lowest error on the missing pixels for "
            f"{_of(len(won), len(r))} masks, {low[0]:.1f} (at {_mask(low[1])}) to {high[0]:.1f} (at "
            f"{_mask(high[1])}) times smaller than the next best")
    return text + (f"; the plain autoencoder, which never saw a hole, is worse than the mean image at "
                   f"{_of(len(worse), len(r))} masks." if worse else ".")


# -- docs/06-denoising.md and the README: examples/overcomplete.py on MNIST and on Fashion-MNIST
OVERCOMPLETE = ("AE", "DAE", "sparse AE")


def _gain(m: dict, name: str) -> float:
    return m["results"][name][f"mean_gain_top_{m['top']}"]


@figure("overcomplete-table", "overcomplete", "overcomplete_fashion")
def overcomplete_table(mnist: dict, fashion: dict) -> str:
    rows = []
    for label, m in (("MNIST", mnist), ("Fashion-MNIST", fashion)):
        for name in OVERCOMPLETE:
            r = m["results"][name]
            g = r["gain_at_direction"]
            rows.append([f"{label}, {name}", f"{r['test_mse']:.4f}", f"{r['relative_error_test_images']:.3f}",
                         f"{r['relative_error_noise_images']:.3f}", f"**{_gain(m, name):.3f}**",
                         " / ".join(f"{g[k]:.2f}" for k in ("1", "50", "100", "200")),
                         f"{r['encoder_cosine_to_initial']:.2f}"])
    return table(["data, model", "test MSE", "relative error, test images", "relative error, noise images",
                  f"mean gain, top {mnist['top']} directions", "gain at directions 1 / 50 / 100 / 200",
                  "cos(W, W_init)"], rows)


@figure("overcomplete-verdict", "overcomplete", "overcomplete_fashion")
def overcomplete_verdict(mnist: dict, fashion: dict) -> str:
    both = (("MNIST", mnist), ("Fashion-MNIST", fashion))
    texts = []
    for label, m in both:
        ae, dae, sparse = (_gain(m, n) for n in OVERCOMPLETE)
        g = m["results"]["AE"]["gain_at_direction"]
        if ae >= 0.95:
            what = "a near-identity along the directions in which the images vary most"
        elif ae > max(dae, sparse):
            what = "closer to the identity than the other two, but not a near-identity"
        else:
            what = "no closer to the identity than the other two"
        texts.append(f"On {label} the plain AE's mean gain over the top {m['top']} directions "
                     f"({m['variance_in_top']:.0%} of the variance) is {ae:.3f}, {g['1']:.2f} along the "
                     f"first and {g['200']:.2f} at the 200th: {what}; the DAE's is {dae:.2f} and the sparse "
                     f"AE's {sparse:.2f}.")
    lost = {label: {n: m["results"][n]["relative_error_noise_images"] for n in OVERCOMPLETE}
            for label, m in both}
    ratios = [r[n] / r["AE"] for r in lost.values() for n in OVERCOMPLETE[1:]]
    shares = " and ".join(f"{r['AE']:.1%} ({label})" for label, r in lost.items()) + " of their variance"
    if min(ratios) > 1:
        texts.append(f"The plain AE also copies the noise images best: it loses {shares}, "
                     f"{min(ratios):.1f} to {max(ratios):.1f} times less than the DAE and the sparse AE.")
    else:
        texts.append(f"On the noise images the plain AE loses {shares}, not less than both other models.")
    return " ".join(texts)


@figure("readme-overcomplete", "overcomplete")
def readme_overcomplete(m: dict) -> str:
    gains = " / ".join(f"{_gain(m, n):.2f}" for n in OVERCOMPLETE)
    noise = " / ".join(f"{m['results'][n]['relative_error_noise_images']:.0%}" for n in OVERCOMPLETE)
    return (f"mean gain along the top {m['top']} principal directions {gains} for AE / DAE / sparse AE (the "
            f"identity: 1); {noise} of noise images' variance lost")


# -- docs/07-contractive.md: examples/contractive.py, benchmarks/kernels.py
@figure("contractive-table", "contractive")
def contractive_table(m: dict) -> str:
    r = m["results"]
    best = {key: min(r, key=lambda name: r[name][key]) for key in ("bce", "mse", "mean_jacobian_norm")}
    first, last = next(iter(r["AE"]["contraction_ratio"])), list(r["AE"]["contraction_ratio"])[-1]
    best_ratio = {d: min(r, key=lambda name: r[name]["contraction_ratio"][d]) for d in (first, last)}

    def cell(name: str, key: str, fmt: str, d: str | None = None) -> str:
        value = r[name][key] if d is None else r[name][key][d]
        winner = best[key] if d is None else best_ratio[d]
        return f"**{value:{fmt}}**" if name == winner else f"{value:{fmt}}"
    labels = {"AE": "AE", "DAE": f"DAE ($\\sigma = {m['sigma']}$)", "CAE": f"CAE (lam = {m['lam']})"}
    rows = [[labels[name], cell(name, "bce", ".4f"), cell(name, "mse", ".4f"),
             cell(name, "mean_jacobian_norm", ".3f"),
             f"{r[name]['saturated_fraction']:.3f}", cell(name, "contraction_ratio", ".4f", first),
             cell(name, "contraction_ratio", ".4f", last)] for name in r]
    return table(["model", "test BCE", "test MSE", "mean $\\lVert J \\rVert_F$", "saturated units",
                  f"ratio, $r = {first}$", f"ratio, $r = {last}$"], rows)


@figure("contractive-verdict", "contractive")
def contractive_verdict(m: dict) -> str:
    ae, dae, cae = (m["results"][k] for k in ("AE", "DAE", "CAE"))
    j, sat = "mean_jacobian_norm", "saturated_fraction"
    text = (f"The CAE's encoder is {ae[j] / cae[j]:.1f} times less sensitive than the plain one (mean "
            f"Jacobian norm) and {dae[j] / cae[j]:.1f} times less than the DAE's, for a reconstruction "
            f"error (BCE {cae['bce']:.3f}) ")
    if ae["bce"] < cae["bce"] < dae["bce"]:
        text += ("between the two: the DAE pays more reconstruction error for less contraction at this "
                 "noise level.")
    else:
        text += f"against the AE's {ae['bce']:.3f} and the DAE's {dae['bce']:.3f}."
    if cae[sat] > ae[sat] and dae[sat] > ae[sat]:
        return text + (f" Both regularised models saturate more of their hidden units (within 0.05 of 0 or "
                       f"1) than the plain one ({ae[sat]:.3f}): CAE {cae[sat]:.3f}, DAE {dae[sat]:.3f}.")
    return text + (f" Saturated hidden units (within 0.05 of 0 or 1): AE {ae[sat]:.3f}, DAE {dae[sat]:.3f}, "
                   f"CAE {cae[sat]:.3f}.")


@figure("contractive-curves", "contractive")
def contractive_curves(m: dict) -> str:
    ae, cae = m["results"]["AE"]["contraction_ratio"], m["results"]["CAE"]["contraction_ratio"]
    first, last = next(iter(ae)), list(ae)[-1]
    bound = m["results"]["CAE"]["mean_jacobian_norm"] / 28
    return (f"The curves are flat at small $r$, where the ratio is the Jacobian's average stretch "
            f"$\\mathbb{{E}}\\lVert J u \\rVert \\le \\lVert J \\rVert_F/\\sqrt{{784}}$ (for the CAE, "
            f"{m['results']['CAE']['mean_jacobian_norm']:.3f}/28 = {bound:.3f} against a measured "
            f"{cae[first]:.3f} at $r = {first}$). At large $r$ the plain AE's ratio falls (from "
            f"{ae[first]:.3f} to {ae[last]:.3f} at $r = {last}$) as its units saturate; the CAE's changes by "
            f"{abs(cae[last] / cae[first] - 1):.0%} over the whole range: its pre-activations barely move "
            f"along random directions, so it stays in its linear regime.")


@figure("contractive-cost", "bench_kernels")
def contractive_cost(m: dict) -> str:
    c = m["contractive"]
    return (f"The one-layer closed form costs little: a training step of the 784-128 sigmoid CAE takes "
            f"{c['cae_over_plain_784_128']:.1f} times the plain autoencoder's (batch 128, float32). The "
            f"general chain rule costs a few products of size (N·latent) × dim$_{{k-1}}$ × dim$_k$: on "
            f"the same 784-128 encoder it is {c['chain_over_closed']:,.0f} times slower than the closed "
            f"form (which the step picks whenever `is_one_layer` holds), and a 784-256-64 CAE step takes "
            f"{c['cae_over_plain_784_256_64']:.0f} times a plain 784-256-64 autoencoder step. "
            f"({_kernels(m)}; medians of interleaved timings, so the ratios hold better than the times.)")


# -- docs/01-dense-and-activations.md and docs/benchmarks.md: benchmarks/kernels.py
@figure("kernels-setup", "bench_kernels")
def kernels_setup(m: dict) -> str:
    w = m["where"]
    return (f"NumPy {w['numpy']}, {w['rounds']} interleaved rounds per kernel, medians; "
            f"{measured(w)}.")


def _timed(ratio: str, shape: list[int], first_us: float, second_us: float, where: dict) -> str:
    """``"64 times slower on a 128x784 float32 array (... µs; where and when)"``."""
    return (f"{ratio} on a {'x'.join(map(str, shape))} float32 array ({first_us:,.0f} against "
            f"{second_us:,.0f} µs; {_kernels({'where': where})})")


@figure("relu-where", "bench_kernels")
def relu_where(m: dict) -> str:
    r = m["relu_backward"]
    ratio = f"{r['where_over_mask']:.0f} times slower"
    return _timed(ratio, r["shape"], r["where_us"], r["mask_us"], m["where"])


@figure("sigmoid-speed", "bench_kernels")
def sigmoid_speed(m: dict) -> str:
    r = m["sigmoid"]
    return _timed(f"{r['speedup']:.1f} times faster", r["shape"], r["npae_us"], r["expit_us"], m["where"])


# -- docs/03-sparsity.md (and docs/benchmarks.md): examples/sparse_kl.py and its variants
def _terms(m: dict, fmt: str = ".3f") -> str:
    return (f"J = {m['loss']:.4f} = reconstruction {m['reconstruction']:{fmt}} + sparsity "
            f"{m['sparsity']:.4f} + weight decay {m['weight_decay']:{fmt}}")


def _units(m: dict) -> str:
    return f"units between {m['min_unit_activation']:.4f} and {m['max_unit_activation']:.4f}"


@figure("sparse-training", "sparse_kl")
def sparse_training(m: dict) -> str:
    return (f"400 L-BFGS iterations. $J$ starts at {m['initial_loss']:.1f} (the KL term dominates: every "
            f"unit starts with $\\hat\\rho \\approx 0.5$) and ends at **{_terms(m)}**.")


@figure("sparse-float-gap", "sparse_kl", "sparse_kl_float64")
def sparse_float_gap(m32: dict, m64: dict) -> str:
    gap = (m32["loss"] - m64["loss"]) / m64["loss"]
    return f"{abs(gap):.1%} {'above' if gap > 0 else 'below'} it"


@figure("sparse-mnist", "sparse_kl_mnist")
def sparse_mnist(m: dict) -> str:
    return (f"Measured: gradient check {m['gradient_check_rel_diff']:.1e}; after 400 iterations "
            f"{_terms(m, '.2f')}, mean activation {m['mean_activation']:.4f} ({_units(m)}).")


# `examples/sparse_kl.py --penalty both`: KL and L1 on the same network, patches and MNIST
def _n_units(m: dict) -> int:
    return 25 if "patches" in m["data"] else 196


def _spread(r: dict) -> float:
    return r["max_unit_activation"] / r["min_unit_activation"]


def _filter_shape(m: dict) -> str:
    return (f"median coherence {m['filter_coherence_median']:.2f} (the initial random filters: "
            f"{m['initial_filter_coherence_median']:.2f}; 1 = parallel edges) and median spread "
            f"{m['filter_spread_median']:.2f} (initial {m['initial_filter_spread_median']:.2f}; "
            f"1 = energy spread evenly over the patch)")


@figure("sparse-filter-shape", "sparse_kl_grace_hopper")
def sparse_filter_shape(m: dict) -> str:
    return _filter_shape(m)


@figure("sparse-filters-present", "sparse_kl_present")
def sparse_filters_present(m: dict) -> str:
    return (f"{_filter_shape(m)}; each unit fires (h > 0.1) on at most {m['largest_firing_rate']:.1%} of the "
            f"patches")


@figure("sparse-l1-table", "sparse_kl_both", "sparse_kl_both_mnist")
def sparse_l1_table(patches: dict, mnist: dict) -> str:
    rows = []
    for label, m in (("patches", patches), ("MNIST", mnist)):
        n = _n_units(m)
        for name in ("kl", "l1"):
            r = m[name]
            cos = r["silent_filters_cosine_to_minus_mean"]
            means = f"{r['min_unit_activation']:.4f} to {r['max_unit_activation']:.4f} ({_spread(r):.3g}x)"
            rows.append([f"{label}, {name.upper()}", f"{r['beta']:g}", f"{r['loss']:.4f}",
                         f"{r['mean_activation']:.4f}", means, f"{n - r['silent_units']} of {n}",
                         f"{r['firing_rate_of_the_others']:.1%}", f"{r['fraction_above_0.1']:.1%}",
                         "-" if cos is None else f"{cos:.3f}"])
    return table(["data, penalty", "$\\beta$", "J", "mean activation", "unit means (max/min)",
                  "units that fire", "each fires on (inputs)", "activations > 0.1",
                  "silent filters: cos with $-\\bar x$"], rows)


def _compare(l1: float, kl: float) -> str:
    """How L1's share of activations above 0.1 compares with KL's: within 20% is "about as many as"."""
    if abs(l1 - kl) < 0.2 * max(l1, kl):
        return "about as many activations above 0.1 as"
    return f"{'more' if l1 > kl else 'fewer'} activations above 0.1 than"


@figure("sparse-l1-verdict", "sparse_kl_both", "sparse_kl_both_mnist")
def sparse_l1_verdict(patches: dict, mnist: dict) -> str:
    both = (("patches", patches), ("MNIST", mnist))
    inputs = {"patches": "patches", "MNIST": "MNIST images"}
    kl_rates = " and ".join(f"{m['kl']['firing_rate_of_the_others']:.1%} of the {inputs[label]}"
                            for label, m in both)
    off = " and ".join(f"{m['l1']['silent_units']} of {_n_units(m)} units ({label})" for label, m in both)
    l1_rates = " and ".join(f"{m['l1']['firing_rate_of_the_others']:.1%}" for _, m in both)
    spreads = " and ".join(f"{_spread(m['l1']):.0f}" for _, m in both)
    silent = " and ".join(f"{m['l1']['silent_filters_cosine_to_minus_mean']:.3f} ({label})"
                          for label, m in both)
    counts = []
    for label, m in both:
        l1, kl = m["l1"]["fraction_above_0.1"], m["kl"]["fraction_above_0.1"]
        counts.append(f"on {label} L1 has {_compare(l1, kl)} KL ({l1:.1%} against {kl:.1%})")
    kl_spread = max(_spread(m["kl"]) for _, m in both)
    return " ".join([
        f"The KL models keep every unit's mean within a factor {kl_spread:.2f} of the others, and the units "
        f"that fire do so on a minority of the inputs each: {kl_rates}.",
        f"The L1 models switch {off} off for every input and run the rest often, each on {l1_rates} of the "
        f"inputs, with unit means spread over a factor of {spreads}.",
        f"The silent units' filters point against the mean input (median cosine with $-\\bar x$: {silent}), "
        f"which keeps them off for every input: no pixel is negative.",
        f"Counted entry by entry, {'; '.join(counts)}: L1 makes a sigmoid code sparse by switching units "
        f"off, KL by having its units fire on a minority of the inputs each."])


@figure("readme-sparse-l1", "sparse_kl_both")
def readme_sparse_l1(m: dict) -> str:
    kl, l1 = m["kl"], m["l1"]
    return (f"{25 - l1['silent_units']} of 25 L1 units fire, each on {l1['firing_rate_of_the_others']:.1%} "
            f"of the patches, against KL's {25 - kl['silent_units']}, each on "
            f"{kl['firing_rate_of_the_others']:.1%}")


# -- docs/06-denoising.md and docs/13-applications.md: what the defaults of the application examples avoid
@figure("inpainting-random-holes", "inpainting_random_holes")
def inpainting_random_holes(m: dict) -> str:
    r = m["results"]
    lost = [name.split()[1].replace("x", "×") for name, fills in r.items()
            if name.startswith("block") and fills["DAE"]["mse_missing"] > fills["mean image"]["mse_missing"]]
    if not lost:
        return ("beat the mean image on every square hole all the same, though by less than on scattered "
                "pixels")
    worst = next(name for name in reversed(list(r)) if name.startswith("block"))
    return (f"lost to the mean image on the {' and '.join(lost)} holes (MSE on the missing pixels "
            f"{r[worst]['DAE']['mse_missing']:.4f} against {r[worst]['mean image']['mse_missing']:.4f} at "
            f"{worst.split()[1].replace('x', '×')})")


@figure("watermark-plain-glyphs", "watermark_removal_plain_glyphs", "watermark_removal_glyphs")
def watermark_plain_glyphs(plain: dict, gated: dict) -> str:
    b, a, g = plain["before"], plain["after"], gated["after"]
    return (f"on letters the plain DAE takes PSNR from {b['psnr_db']:.2f} to {a['psnr_db']:.2f} dB and SSIM "
            f"from {b['ssim']:.3f} to {a['ssim']:.3f}; the gated remover reaches {g['psnr_db']:.2f} dB and "
            f"{g['ssim']:.3f}")


@figure("denoising-code64-glyphs", "denoising_code64_glyphs", "denoising_glyphs")
def denoising_code64_glyphs(narrow: dict, default: dict) -> str:
    r64, r = narrow["results"]["masking 0.25"], default["results"]["masking 0.25"]
    return (f"on letters at masking 0.25 the DAE's output scores {r64['DAE']['psnr']:.1f} dB with a "
            f"{narrow['code']}-number code against {r['DAE']['psnr']:.1f} dB with {default['code']} "
            f"(the noisy input: {r['noisy']['psnr']:.1f} dB)")


# -- docs/09-vae.md, section 10: the Gaussian likelihood, calibrated and as the MSE + KL conventions
def _calibrated_beta(m: dict) -> tuple[float, float]:
    """The learnt decoder sigma and the beta that summed MSE + KL (c = 1) is relative to it."""
    sigma = m["decoder_sigma_final"]
    return sigma, 1 / (2 * sigma**2)


@figure("vae-gaussian-sigma", "vae_gaussian_learn_sigma")
def vae_gaussian_sigma(m: dict) -> str:
    sigma, beta = _calibrated_beta(m)
    mean_beta = f"{round(784 * beta, -2):,.0f}".replace(",", "{,}")
    return (f"it settles at $\\hat\\sigma_x = {sigma:.3f}$, so summed MSE + KL is a $\\beta$-VAE with "
            f"$\\beta = 1/(2 \\cdot {sigma:.3f}^2) \\approx {beta:.0f}$ relative to the calibrated model, "
            f"and mean MSE + KL one with $\\beta \\approx 784 \\cdot {beta:.0f} \\approx {mean_beta}$")


@figure("vae-gaussian-table", "vae_gaussian_learn_sigma", "vae_gaussian_sum_mse", "vae_gaussian_mean_mse")
def vae_gaussian_table(learnt: dict, summed: dict, mean: dict) -> str:
    sigma, _ = _calibrated_beta(learnt)
    rows = []
    for option, m, looks in (
            (f"`--learn-sigma` ($\\hat\\sigma_x = {sigma:.3f}$)", learnt,
             "sharp; prior samples speckled (a KL this large leaves holes in the prior)"),
            ("`--decoder-sigma 0.7071` (summed MSE + KL)", summed, "recognisable, blurrier"),
            ("`--decoder-sigma 19.8` (mean MSE + KL)", mean, "")):
        if m["active_units"] == 0:
            looks = "every image decodes to the same mean digit: the posterior has collapsed to the prior"
        rows.append([option, f"{m['test_kl']:.2f}", m["active_units"], looks])
    units = f"active units (of {learnt['latent_dim']})"
    return table(["`--likelihood gaussian`", "held-out KL (nats)", units, "reconstructions"], rows)


# -- docs/09-vae.md (the example's section) and the README: examples/vae.py
@figure("vae-table", "vae")
def vae_table(m: dict) -> str:
    return table(["quantity (nats per held-out image)", "value"], [
        ["negative ELBO (reconstruction + KL)", f"{m['test_negative_elbo']:.2f}"],
        ["reconstruction $-\\log p(x \\mid z)$ (summed BCE)", f"{m['test_reconstruction']:.2f}"],
        ["KL$(q \\,\\|\\, p)$", f"{m['test_kl']:.2f}"],
        [f"$-\\mathcal{{L}}_{{{m['eval_k']}}}$ on the first {m['eval_n']} held-out images "
         "($-\\log p(x) \\le$)", f"{-m['test_iw_bound']:.2f}"],
        ["active units", f"{m['active_units']} of {m['latent_dim']}"],
        ["training time, CPU seconds", f"{m['train_cpu_seconds']:.0f}"]])


@figure("vae-gap", "vae")
def vae_gap(m: dict) -> str:
    text = (f"Here the training loss ({m['final_train_loss']:.1f}) is "
            f"{'below' if m['final_train_loss'] < m['test_negative_elbo'] else 'above'} the held-out one "
            f"({m['test_negative_elbo']:.1f})")
    if m["final_train_loss"] < m["test_negative_elbo"]:
        text += ", so part of the gap is the small training set"
    return text + "."


#: The IWAE comparison's runs, in the table's order, and their labels.
IWAE_ROWS = [("vae_binarized", "VAE, `--objective elbo` ($k = 1$)"),
             ("vae_binarized_k5", "VAE, `--objective elbo --k 5`"),
             ("iwae_k5", "IWAE, `--objective iwae --k 5`"),
             ("vae_binarized_latent50", "VAE, `--latent-dim 50`"),
             ("iwae_k5_latent50", "IWAE, `--latent-dim 50 --k 5`")]


@figure("vae-iwae-table", *(run for run, _ in IWAE_ROWS))
def vae_iwae_table(*runs: dict) -> str:
    rows = []
    for (_, label), m in zip(IWAE_ROWS, runs, strict=True):
        assert m["eval_n"] == m["n_test"] and m["binarize"] == "dynamic", "the table's protocol"
        least = min(m["unit_activity"])
        rows.append([label, f"{m['test_negative_elbo']:.2f}", f"{m['test_reconstruction']:.2f}",
                     f"{m['test_kl']:.2f}", f"{-m['test_iw_bound']:.2f}",
                     f"{m['active_units']} of {m['latent_dim']} (least active: {least:.3f})",
                     f"{m['train_cpu_seconds']:.0f}"])
    return table(["training (30 epochs)", "held-out $-$ELBO", "reconstruction", "KL",
                  f"$-\\mathcal{{L}}_{{{runs[0]['eval_k']}}}$", "active units", "training, CPU s"], rows)


@figure("vae-iwae-reading", "vae_binarized", "iwae_k5")
def vae_iwae_reading(vae: dict, iwae: dict) -> str:
    gain = vae["test_iw_bound"] - iwae["test_iw_bound"]
    better = "IWAE reaches the better bound" if gain < 0 else "IWAE does not reach the better bound"
    elbo = "worse" if iwae["test_elbo"] < vae["test_elbo"] else "better"
    return (f"**{better}**: {-iwae['test_iw_bound']:.2f} against {-vae['test_iw_bound']:.2f} nats "
            f"({abs(gain):.2f} nats). Its ELBO is {elbo}"
            f" ({iwae['test_negative_elbo']:.2f} against {vae['test_negative_elbo']:.2f}).")


@figure("frechet-ratio", "vae")
def frechet_ratio(m: dict) -> str:
    return f"{m['frechet_samples'] / m['frechet_test_half_vs_half']:.1f}"


# -- docs/10-convolutions.md: examples/conv_ae.py
@figure("conv-ae-table", "conv_ae")
def conv_ae_table(m: dict) -> str:
    t, n = m["test"], m["parameters"]
    return table(["model", "parameters", "test MSE per pixel", "PSNR (dB)", "SSIM"],
                 [[name, f"{n[key]:,}", f"{t[key]['mse']:.4f}", f"{t[key]['psnr_db']:.2f}",
                   f"{t[key]['ssim']:.3f}"]
                  for name, key in [("conv AE (strided, 32 and 64 channels, code 32)", "conv"),
                                    ("dense AE (784-256-32-256-784)", "dense")]])


@figure("conv-ae-verdict", "conv_ae")
def conv_ae_verdict(m: dict) -> str:
    t, n = m["test"], m["parameters"]
    better = t["conv"]["psnr_db"] > t["dense"]["psnr_db"] and t["conv"]["ssim"] > t["dense"]["ssim"]
    gap = t["conv"]["psnr_db"] - t["dense"]["psnr_db"]
    ratio = n["dense"] / n["conv"]
    fewer = f"{ratio:.1f} times fewer" if ratio > 1 else f"{1 / ratio:.1f} times more"
    return (f"With the same code size the convolutional autoencoder reconstructs "
            f"{'better' if better else 'no better'}: {gap:+.1f} dB of PSNR, SSIM {t['conv']['ssim']:.3f} "
            f"against {t['dense']['ssim']:.3f}, with {fewer} parameters than the dense one")


# -- docs/11-training-and-saving.md: benchmarks/kernels.py
@figure("guard-cost", "bench_kernels")
def guard_cost(m: dict) -> str:
    g = m["guard"]
    cost = f"{g['guard_us']:,.0f} µs against {g['step_us'] / 1e3:,.1f} ms for the training step"
    share = f"{g['guard_share']:.1%}"
    return f"on the {g['model']}, checking every gradient took {cost} ({share}; {_kernels(m)})."


# -- docs/12-pca-and-linear-autoencoders.md and the README: examples/pca_vs_autoencoder.py
def _by_k(m: dict) -> list[tuple[int, float, float]]:
    """``(k, deep AE MSE, PCA MSE)`` for every k the deep AE was trained at, ascending."""
    return sorted((int(k), v, m["pca_test_mse_by_k"][k]) for k, v in m["deep_ae_test_mse"].items())


@figure("pca-table", "pca_vs_autoencoder")
def pca_table(m: dict) -> str:
    k = m["k"]
    return table(["model", "test MSE per pixel"], [
        [f"PCA, k = {k}", f"{m['pca_test_mse']:.5f}"],
        [f"linear AE 784-{k}-784 (Adam, 120 epochs, lr 3e-3 / 1e-3 / 3e-4 / 1e-4, $\\lambda = 10^{{-6}}$)",
         f"{m['linear_ae_test_mse']:.5f}"],
        [f"deep AE 784-256-{k}-256-784 (ReLU, sigmoid output, 30 "
         f"epochs)", f"{m['deep_ae_test_mse'][str(k)]:.5f}"]])


@figure("pca-angles", "pca_vs_autoencoder")
def pca_angles(m: dict) -> str:
    d, e = m["principal_angles_deg_decoder"], m["principal_angles_deg_encoder"]
    return (f"Principal angles between the linear AE and PCA's {m['k']}-d subspace: decoder columns median "
            f"{d['median']:.2f}°, largest {d['max']:.2f}°; encoder rows median {e['median']:.2f}°, largest "
            f"{e['max']:.1f}°.")


@figure("pca-by-k", "pca_vs_autoencoder")
def pca_by_k(m: dict) -> str:
    rows = _by_k(m)
    return (f"k = {', '.join(str(k) for k, _, _ in rows)}: {' / '.join(f'{v:.4f}' for _, v, _ in rows)} "
            f"against PCA's {' / '.join(f'{p:.4f}' for _, _, p in rows)}.")


@figure("pca-nondigit", *(f"pca_vs_autoencoder_{data}" for data in NONDIGIT_SETS))
def pca_nondigit(glyphs: dict, photos: dict) -> str:
    def ratios(m: dict) -> str:
        return " / ".join(f"{100 * v / p:.0f}%" for _, v, p in _by_k(m))
    ks = ", ".join(str(k) for k, _, _ in _by_k(glyphs))
    return (f"the deep AE's error as a share of PCA's at k = {ks}: {ratios(glyphs)} on letters, "
            f"{ratios(photos)} on photo crops")


@figure("pca-gain", "pca_vs_autoencoder")
def pca_gain(m: dict) -> str:
    rows = _by_k(m)
    (k_hi, v_hi, p_hi), (k_lo, v_lo, p_lo) = rows[-1], rows[0]
    mid = next((r for r in rows if r[0] == 8), None)
    text = (f"The non-linear autoencoder's error is {v_hi / p_hi:.0%} of PCA's at k = {k_hi} ({v_hi:.4f} "
            f"against {p_hi:.4f})")
    if mid is not None:
        text += f" and {mid[1] / mid[2]:.0%} at k = 8"
    return text + f"; at k = {k_lo} it is {v_lo / p_lo:.0%}."


@figure("readme-pca", "pca_vs_autoencoder")
def readme_pca(m: dict) -> str:
    k, deep, pca = _by_k(m)[-1]
    return (f"a linear AE spans PCA's subspace (principal angles: median "
            f"{m['principal_angles_deg_decoder']['median']:.2f}°); a deep AE's error is {deep / pca:.0%} of "
            f"PCA's at k = {k} ({deep:.4f} vs {pca:.4f})")


# -- docs/13-applications.md and the README: anomaly_detection.py, colorization.py, watermark_removal.py
MODELS = ("AE", "DAE", "PCA")


@figure("anomaly-table", "anomaly_detection")
def anomaly_table(m: dict) -> str:
    per = m["auc_per_class"]
    rows = [[c, *(f"{per[name][c]:.3f}" for name in MODELS)] for c in per[MODELS[0]]]
    rows.append(["all", *(f"{m['auc_all'][name]:.3f}" for name in MODELS)])
    return table(["anomalous digit", *MODELS], rows)


@figure("readme-anomaly", "anomaly_detection")
def readme_anomaly(m: dict) -> str:
    auc = m["auc_all"]
    return (f"ROC AUC {' / '.join(f'{auc[n]:.3f}' for n in MODELS)} for AE / DAE / PCA trained on digit "
            f"{m['normal_digit']}")


@figure("anomaly-nondigit", "anomaly_detection_glyphs", "anomaly_detection_photo_crops_drawing",
        "anomaly_detection_photo_crops_photograph")
def anomaly_nondigit(glyphs: dict, drawing: dict, photograph: dict) -> str:
    def aucs(m: dict) -> str:
        return ", ".join(f"{name} {m['auc_all'][name]:.3f}" for name in MODELS)
    return (f"On letters (class {glyphs['normal_digit']} normal, the nine others anomalies) the AUCs are "
            f"{aucs(glyphs)}. On the photo crops, whose two classes are the photograph and the drawing, it "
            f"depends on which is normal: with the drawing's crops normal, {aucs(drawing)}; with the "
            f"photograph's crops normal, {aucs(photograph)}")


@figure("anomaly-verdict", "anomaly_detection")
def anomaly_verdict(m: dict) -> str:
    per = m["auc_per_class"]
    classes = list(per[MODELS[0]])
    mean = {c: sum(per[name][c] for name in MODELS) / len(MODELS) for c in classes}
    hardest = sorted(classes, key=mean.get)[:4]
    spread = {c: max(per[n][c] for n in MODELS) - min(per[n][c] for n in MODELS) for c in classes}
    widest = max(classes, key=spread.get)
    gap = ", ".join(f"{n} {per[n][widest]:.3f}" for n in MODELS)
    return (f"Every detector separates most digits from the {m['normal_digit']}s almost perfectly; the "
            f"hardest anomalies are {', '.join(hardest)} (lowest mean AUC first), digits that share strokes "
            f"with a {m['normal_digit']}. The three detectors are within {max(spread.values()):.3f} of each "
            f"other on every digit (the widest gap: digit {widest}, {gap}).")


def _all_digits(m: dict) -> dict[str, dict[str, float]]:
    """``{normal digit: {model: pooled AUC}}`` (the file's own ``"mean"`` row left out: it is recomputed)."""
    return {str(d): v for d, v in m["auc_all_by_normal_digit"].items() if str(d).isdigit()}


@figure("anomaly-all-digits", "anomaly_detection_all_digits")
def anomaly_all_digits(m: dict) -> str:
    by = _all_digits(m)
    rows = [[d, *(f"{v[name]:.3f}" for name in MODELS)] for d, v in by.items()]
    rows.append(["mean", *(f"{sum(v[name] for v in by.values()) / len(by):.3f}" for name in MODELS)])
    return table(["normal digit", *MODELS], rows)


@figure("anomaly-all-digits-verdict", "anomaly_detection_all_digits")
def anomaly_all_digits_verdict(m: dict) -> str:
    by = _all_digits(m)
    best = {d: max(v.values()) for d, v in by.items()}
    order = sorted(by, key=best.get)
    gain = {d: max(v["AE"], v["DAE"]) - v["PCA"] for d, v in by.items()}
    top = max(by, key=gain.get)
    means = {name: sum(v[name] for v in by.values()) / len(by) for name in MODELS}
    text = (f"Digits {order[-1]} and {order[-2]} are the easiest normal classes, {order[0]} and "
            f"{order[1]} the hardest. ")
    if gain[top] > 0:
        text += (f"The non-linear models pull furthest ahead of PCA with {top}s as the normal class "
                 f"({max(by[top]['AE'], by[top]['DAE']):.3f} against {by[top]['PCA']:.3f}). ")
    return text + (f"Averaged over the ten classes the three detectors are within "
                   f"{max(means.values()) - min(means.values()):.3f} of each other (AE {means['AE']:.3f}, "
                   f"DAE {means['DAE']:.3f}, PCA {means['PCA']:.3f}).")


@figure("colorization-table", "colorization")
def colorization_table(m: dict) -> str:
    grey, pred = m["psnr_grey_baseline_db"], m["psnr_colourised_db"]
    return table(["", "PSNR on the held-out squares (dB)"], [
        ["grey baseline (luma in R, G, B)", f"{grey:.2f}"],
        ["colourised", f"{pred:.2f} ({pred - grey:+.2f})"],
        ["colourised, training squares (for comparison)", f"{m['psnr_colourised_training_squares_db']:.2f}"]])


@figure("colorization-verdict", "colorization")
def colorization_verdict(m: dict) -> str:
    gap = m["psnr_colourised_training_squares_db"] - m["psnr_colourised_db"]
    text = f"The held-out squares come within {gap:.2f} dB of the training squares: "
    if gap < 1.0:
        return text + ("most of what the model learnt carries over to squares it never saw: the photo's "
                       "colours.")
    return text + "part of what the model learnt is specific to the training squares."


@figure("watermark-table", "watermark_removal")
def watermark_table(m: dict) -> str:
    b, a = m["before"], m["after"]
    return table(["", "PSNR (dB)", "SSIM"], [["marked input", f"{b['psnr_db']:.2f}", f"{b['ssim']:.3f}"],
                                            ["after removal", f"{a['psnr_db']:.2f}", f"{a['ssim']:.3f}"]])


# -- docs/13-applications.md: the four application claims on MNIST and on the non-digit sets
def _claims(m_denoising: dict, m_inpainting: dict, m_watermark: dict, m_conv: dict) -> list[str]:
    """One data set's column of the claims table: each claim's margin, with a tick when it holds."""
    den = [r["DAE"]["psnr"] - max(r["noisy"]["psnr"], r["plain AE"]["psnr"])
           for r in _settings(m_denoising).values()]
    inp = [r["DAE"]["mse_missing"] / min(v["mse_missing"] for k, v in r.items() if k != "DAE")
           for r in m_inpainting["results"].values()]
    b, a = m_watermark["before"], m_watermark["after"]
    conv, dense = m_conv["test"]["conv"], m_conv["test"]["dense"]
    ok = ["yes" if held else "**no**" for held in (
        min(den) > 0, max(inp) < 1, a["psnr_db"] > b["psnr_db"] + 1 and a["ssim"] > b["ssim"],
        conv["psnr_db"] >= dense["psnr_db"] and conv["ssim"] >= dense["ssim"])]
    return [f"{ok[0]}: by {min(den):.2f} dB or more",
            f"{ok[1]}: at most {max(inp):.2f} of the next best error",
            f"{ok[2]}: PSNR {b['psnr_db']:.1f} → {a['psnr_db']:.1f} dB, "
            f"SSIM {b['ssim']:.3f} → {a['ssim']:.3f}",
            f"{ok[3]}: PSNR {conv['psnr_db']:.2f} vs {dense['psnr_db']:.2f} dB, SSIM {conv['ssim']:.3f} vs "
            f"{dense['ssim']:.3f}"]


@figure("claims-table", *CLAIM_EXAMPLES, *(f"{e}_{d}" for d in NONDIGIT_SETS for e in CLAIM_EXAMPLES))
def claims_table(*runs: dict) -> str:
    k = len(CLAIM_EXAMPLES)
    columns = [_claims(*runs[i:i + k]) for i in range(0, len(runs), k)]
    claims = ["denoising: the DAE beats the noisy input and the plain AE at every setting (PSNR)",
              "inpainting: the DAE has the lowest error on the missing pixels for every mask",
              "watermark removal: PSNR up by more than 1 dB, SSIM up",
              "conv AE: the conv model at least as good as the dense one (PSNR and SSIM)"]
    return table(["claim", "MNIST (8,000 / 2,000)", "letters (3,000 / 300)", "photo crops (3,000 / 300)"],
                 [[claim, *(column[i] for column in columns)] for i, claim in enumerate(claims)])


# -- docs/15-feature-learning.md, docs/16-stacked-autoencoders.md, the README: examples/feature_learning.py
#: The codes the example probes, in the tables' order, and how the prose names them ("the sparse code").
CODES = {"raw pixels": "raw-pixel", "PCA": "PCA", "AE": "plain", "sparse AE": "sparse",
         "denoising AE": "denoising", "contractive AE": "contractive", "VAE": "VAE",
         "stack, not fine-tuned": "stack's top"}
#: Every code but the pixels themselves; those an autoencoder learnt; the four with one hidden layer.
CODED = tuple(CODES)[1:]
LEARNT = tuple(CODES)[2:]
ONE_LAYER = LEARNT[:4]
#: The stacked network fine-tuned from its pretrained weights, and from its random initial ones.
STACK_RUNS = ("stack fine-tuned", "same network, random init")
NUMBERS = ("no", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine")
ORDINALS = ("first", "second", "third", "fourth", "fifth", "sixth", "seventh", "eighth")


def _word(n: int) -> str:
    """``3`` -> ``"three"`` (numbers below ten in words)."""
    return NUMBERS[n] if n < len(NUMBERS) else f"{n:,}"


def _and(words: list[str]) -> str:
    """``"a, b and c"``."""
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " and " + words[-1]


def _mean(values: list[float]) -> float:
    """The mean as the example takes it, ``np.mean`` of a short list: the sum in order, then one division."""
    return sum(values) / len(values)


def _percent(value: float) -> float:
    """A fraction in % to one decimal, as the example prints it (``100 * value`` formatted ``.1f``).

    Accuracies on 2,000 images move in steps of 0.05 points, so a mean often ends in a 5 exactly and the
    binary float decides which way it rounds: the means are recomputed from the draws, in full precision,
    so that they round as in the example's printed table (the file's means keep 6 digits).
    """
    return float(f"{100 * value:.1f}")


def _counts(m: dict) -> list[int]:
    """The numbers of labelled training images the run probed with, ascending."""
    return sorted(int(n) for n in m["accuracy"])


def _pct(m: dict, n: int, key: str) -> float:
    """The mean accuracy in % with ``n`` labels, rounded as the example prints it (a tie there is a tie)."""
    return _percent(_mean(m["accuracy"][str(n)]["per draw"][key]))


def _draws(m: dict, n: int, key: str) -> list[float]:
    """Every draw's value under ``key`` with ``n`` labels (accuracies in %)."""
    return [100 * v if key.endswith("acc") else v for v in m["accuracy"][str(n)]["per draw"][key]]


def _codes(names: list[str], m: dict | None = None, n: int = 0, kind: str = "probe") -> str:
    """``"the sparse, denoising and stack's top codes"``; given a run, each with its accuracy."""
    words = [CODES[name] if m is None else f"{CODES[name]} ({_pct(m, n, f'{name} {kind}_acc'):.1f})"
             for name in names]
    return f"the {_and(words)} code{'s' if len(names) > 1 else ''}"


def _beat(m: dict, n: int, kind: str, names: tuple[str, ...]) -> tuple[list[str], list[str], float, float]:
    """``(codes above raw pixels, the others, smallest margin, largest)`` with ``n`` labels, in points."""
    raw = _pct(m, n, f"raw pixels {kind}_acc")
    margin = {name: _pct(m, n, f"{name} {kind}_acc") - raw for name in names}
    above = [name for name in names if margin[name] > 0]
    values = [margin[name] for name in above] or [0.0]
    return above, [name for name in names if name not in above], min(values), max(values)


def _points(gain: float) -> str:
    """A difference of two accuracies in points, ``"+1.65"`` (on 2,000 test images: steps of 0.05)."""
    text = f"{gain:+.2f}"
    return text[:-1] if text.endswith("0") else text


def _gains(m: dict, n: int, scale: float = 100.0) -> list[float]:
    """The gain from pretraining in each draw of ``n`` labels (pretrained minus random init, in points)."""
    tuned, random = (m["accuracy"][str(n)]["per draw"][f"{name} acc"] for name in STACK_RUNS)
    return [scale * (a - b) for a, b in zip(tuned, random, strict=True)]


def _mean_gain(m: dict, n: int) -> float:
    """The gain from pretraining with ``n`` labels, the mean over the draws, in points."""
    return _percent(_mean(_gains(m, n, scale=1.0)))


def _pretraining_gain(m: dict, n: int) -> str:
    """``"+2.2 (+3.5, +1.2, +1.8)"``: the mean gain in points, then each draw's when there are several."""
    gains = _gains(m, n)
    return f"{_mean_gain(m, n):+.1f}" + (f" ({', '.join(map(_points, gains))})" if len(gains) > 1 else "")


def _codes_table(m: dict) -> str:
    """Test accuracy (%) of the linear probe and the k-NN vote on every code; each column's best in bold."""
    columns = [(n, kind) for n in _counts(m) for kind in ("probe", "knn")]
    best = {(n, kind): max(_pct(m, n, f"{name} {kind}_acc") for name in CODES) for n, kind in columns}
    stack = "-".join(map(str, m["stack"]))
    labels = {"raw pixels": "raw pixels (784)", "VAE": "VAE ($\\mu$)",
              "stack, not fine-tuned": f"stacked DAE, not fine-tuned (784-{stack})"}
    rows = []
    for name in CODES:
        cells = [(_pct(m, n, f"{name} {kind}_acc"), (n, kind)) for n, kind in columns]
        rows.append([labels.get(name, name), *(f"**{v:.1f}**" if v == best[col] else f"{v:.1f}"
                                               for v, col in cells)])
    knn = f"{m['k']}-NN"
    header = [f"{'probe' if kind == 'probe' else knn}, {n:,}" for n, kind in columns]
    return table([f"code ({m['code']} values unless said)", *header], rows)


@figure("fl-one-scale", "feature_learning")
def fl_one_scale(m: dict) -> str:
    n = _counts(m)[0]
    return " and ".join(f"{_draws(m, n, f'{name} probe_acc')[0]:.1f}%" for name in ("PCA", "VAE"))


@figure("fl-mnist-table", "feature_learning")
def fl_mnist_table(m: dict) -> str:
    return _codes_table(m)


@figure("fl-mnist-reading", "feature_learning")
def fl_mnist_reading(m: dict) -> str:
    counts = _counts(m)
    few, every = counts[0], counts[-1]

    def probes(name: str) -> str:
        return " / ".join(f"{_pct(m, n, f'{name} probe_acc'):.1f}" for n in counts)

    # 1. few labels: a linear probe, then the k-NN vote, against raw pixels
    above, below, low, high = _beat(m, few, "probe", CODED)
    spread = [max(d) - min(d) for d in (_draws(m, few, f"{name} probe_acc") for name in CODES)]
    if above and below:
        first = f"* **With {few} labels the codes help a little, and not all of them.** "
    else:
        first = f"* **With {few} labels {'every' if above else 'no'} code helps a linear probe.** "
    if above:
        subject = _codes(above)
        first += (f"{subject[0].upper()}{subject[1:]} beat{'' if len(above) > 1 else 's'} raw pixels by "
                  f"{low:.1f} to {high:.1f} points with a linear probe")
        first += f"; {_codes(below)} do not" if below else ""
    else:
        first += "No code beats raw pixels with a linear probe"
    first += (f" (the {_word(m['repeats'])} draws of {few} labels spread over {min(spread):.1f} to "
              f"{max(spread):.1f} points, depending on the code, so only the largest of these differences "
              f"stand out). ")
    above, below, low, high = _beat(m, few, "knn", LEARNT)
    raw = _pct(m, few, "raw pixels knn_acc")
    if not below:
        first += (f"With {m['k']}-NN every autoencoder code beats raw pixels ({raw:.1f}) by {low:.1f} to "
                  f"{high:.1f} points: the codes' geometry groups digits better than pixel distance does "
                  f"when there are few neighbours to vote.")
    else:
        first += (f"With {m['k']}-NN {len(above)} of the {len(LEARNT)} autoencoder codes beat raw pixels "
                  f"({raw:.1f}); {_codes(below, m, few, 'knn')} do not.")
    # 2. every label: a linear probe on a code of 128 values against a linear probe on the 784 pixels
    raw = _pct(m, every, "raw pixels probe_acc")
    above, below, _, _ = _beat(m, every, "probe", CODED)
    above.sort(key=lambda name: -_pct(m, every, f"{name} probe_acc"))
    if above:
        second = (f"* **With all {every:,} labels, a linear probe on a {m['code']}-value code beats a linear "
                  f"probe on the 784 pixels** for {_codes(above, m, every)}"
                  + (f", not for {_codes(below, m, every)} (raw pixels: {raw:.1f})." if below else "."))
    else:
        second = (f"* **With all {every:,} labels, no code of {m['code']} values beats a linear probe on the "
                  f"784 pixels** ({raw:.1f}).")
    # 3. the four one-layer autoencoders: one shape, four objectives
    best = {n: max(_pct(m, n, f"{name} probe_acc") for name in ONE_LAYER) for n in counts}
    top = [name for name in ONE_LAYER if all(_pct(m, n, f"{name} probe_acc") == best[n] for n in counts)]
    under = [name for name in ONE_LAYER if all(
        _pct(m, n, f"{name} probe_acc") <= _pct(m, n, "raw pixels probe_acc") for n in counts)]
    third = (f"* **The objective matters more than the architecture**: the four one-layer autoencoders share "
             f"their 784-{m['code']} shape, yet "
             + (f"{_codes(top)} probes best of the four at every label count ({probes(top[0])})"
                if len(top) == 1 else "no one of them probes best at every label count"))
    if under:
        third += (f", while {_codes(under)} probe at or below raw pixels at every label count "
                  f"({'; '.join(map(probes, under))}; raw pixels {probes('raw pixels')})")
    # 4. k-NN with every label
    raw = _pct(m, every, "raw pixels knn_acc")
    above, _, _, _ = _beat(m, every, "knn", CODED)
    fourth = (f"* **k-NN in pixel space stays strong**: {raw:.1f}% with {every:,} labels, which "
              + (f"only {_codes(above, m, every, 'knn')} beat{'s' if len(above) == 1 else ''}." if above
                 else "no code beats."))
    return "\n".join([first, second, third + ".", fourth])


@figure("fl-fashion-table", "feature_learning_fashion_all")
def fl_fashion_table(m: dict) -> str:
    return _codes_table(m)


def _mean_probe(m: dict, name: str) -> float:
    """A code's linear-probe accuracy (%) averaged over the run's label counts."""
    return sum(_pct(m, n, f"{name} probe_acc") for n in _counts(m)) / len(_counts(m))


def _few_label_margins(m: dict, kind: str) -> list[float]:
    """Each learnt code's accuracy minus raw pixels' with the fewest labels, in points."""
    n = _counts(m)[0]
    return [_pct(m, n, f"{name} {kind}_acc") - _pct(m, n, f"raw pixels {kind}_acc") for name in LEARNT]


@figure("fl-fashion-reading", "feature_learning", "feature_learning_fashion_all")
def fl_fashion_reading(digits: dict, clothes: dict) -> str:
    # 1. the codes ranked by their probes, on digits and on clothes
    on_digits, on_clothes = (sorted(CODED, key=lambda name, m=m: -_mean_probe(m, name))
                             for m in (digits, clothes))
    best = [f"{CODES[name]} ({_mean_probe(clothes, name):.1f})" for name in on_clothes[:2]]
    text = "The ranking changes with the data. " if on_digits != on_clothes else "The ranking is the same. "
    text += (f"Ranked by their linear probes' accuracy averaged over the {_word(len(_counts(clothes)))} "
             f"label counts, the sparse code (UFLDL's MNIST setting, $\\rho = 0.1$) is "
             f"{ORDINALS[on_digits.index('sparse AE')]} of the {_word(len(CODED))} codes on digits and "
             f"{ORDINALS[on_clothes.index('sparse AE')]} on clothes, where the {_and(best)} codes come first "
             f"and the {CODES[on_clothes[-1]]} code last ({_mean_probe(clothes, on_clothes[-1]):.1f}). ")
    # 2. few labels on clothes: a linear probe and the k-NN vote against raw pixels
    few = _counts(clothes)[0]
    above, _, _, _ = _beat(clothes, few, "probe", CODED)
    text += f"With {few} labels " + (
        f"only {_codes(above, clothes, few)} beat{'' if len(above) > 1 else 's'} raw pixels "
        f"({_pct(clothes, few, 'raw pixels probe_acc'):.1f})" if above else "no code beats raw pixels")
    above, below, low, high = _beat(clothes, few, "knn", LEARNT)
    text += (f" with a linear probe, while with {clothes['k']}-NN "
             + (f"every autoencoder code does (by {low:.1f} to {high:.1f} points). " if not below
                else f"{len(above)} of the {len(LEARNT)} autoencoder codes do. "))
    # 3. on both: does k-NN gain more from a learnt code than a linear probe, with few labels?
    knn, probe = ([_few_label_margins(m, kind) for m in (digits, clothes)] for kind in ("knn", "probe"))
    every_code = all(k > p for ks, ps in zip(knn, probe, strict=True) for k, p in zip(ks, ps, strict=True))
    means = " and ".join(f"{sum(k) / len(k):+.1f} against {sum(p) / len(p):+.1f} points on {data}"
                         for k, p, data in zip(knn, probe, ("digits", "clothes"), strict=True))
    if every_code:
        return text + (f"The one pattern common to both data sets: with {few} labels every autoencoder code "
                       f"gains more over raw pixels with k-NN than with a linear probe (on average {means}).")
    return text + (f"With {few} labels the learnt codes' mean gain over raw pixels, k-NN against probe: "
                   f"{means}.")


@figure("fl-nondigit", *(f"feature_learning_{data}" for data in NONDIGIT_SETS))
def fl_nondigit(glyphs: dict, photos: dict) -> str:
    parts = []
    for m, data in ((glyphs, "letters (ten classes)"),
                    (photos, "photo crops (two classes: which photograph)")):
        n = _counts(m)[0]
        ranges = []
        for kind, how in (("knn", f"{m['k']}-NN"), ("probe", "a linear probe")):
            raw = _pct(m, n, f"raw pixels {kind}_acc")
            margins = [_pct(m, n, f"{name} {kind}_acc") - raw for name in LEARNT]
            ranges.append(f"with {how} {min(margins):+.1f} to {max(margins):+.1f} points "
                          f"(raw pixels {raw:.1f})")
        parts.append(f"on {data}, {' and '.join(ranges)}")
    return (f"With {_counts(glyphs)[0]} labels, the {_word(len(LEARNT))} autoencoder codes against raw "
            f"pixels: {'; '.join(parts)}")


#: The runs of docs/16's first table, and how it names their data.
PRETRAINING_RUNS = {"feature_learning": "MNIST split",
                    "feature_learning_fashion": "Fashion-MNIST {n} (the default)",
                    "feature_learning_fashion_all": "Fashion-MNIST {n}"}
#: The MNIST runs fine-tuned for longer (docs/16's second table), the example's default first.
LONGER_RUNS = ("feature_learning", "feature_learning_finetune3000", "feature_learning_finetune6000")


@figure("fl-pretraining-table", *PRETRAINING_RUNS)
def fl_pretraining_table(*runs: dict) -> str:
    rows = []
    for m, data in zip(runs, PRETRAINING_RUNS.values(), strict=True):
        data = data.format(n=f"{m['n_train']:,}/{m['n_test']:,}")
        for n in _counts(m):
            labelled = f"all {n:,}" if n == m["n_train"] else f"{n:,}"
            rows.append([f"{data}, {labelled}", *(f"{_pct(m, n, f'{name} acc'):.1f}" for name in STACK_RUNS),
                         _pretraining_gain(m, n)])
    return table(["data, labelled images", "stack fine-tuned", "same network, random init",
                  "gain from pretraining (points)"], rows)


def _trend(m: dict) -> tuple[str, str]:
    """How the mean gain moves with the number of labels, ``("fall", "+3.3, +1.1, +0.6")``: it falls, or
    is ``"flat"`` (it moves less than the fewest labels' draws spread), or ``"neither"``."""
    counts = _counts(m)
    means = [_mean_gain(m, n) for n in counts]
    listed = ", ".join(f"{g:+.1f}" for g in means)
    draws = _gains(m, counts[0])
    if all(a > b for a, b in itertools.pairwise(means)):
        return "fall", listed
    if max(means) - min(means) < max(draws) - min(draws):
        return "flat", (f"{listed}: the {counts[0]}-label draws spread from {_points(min(draws))} to "
                        f"{_points(max(draws))}, so these do not differ")
    return "neither", listed


TRENDS = {"fall": "fall with the number of labels", "flat": "are flat",
          "neither": "neither fall steadily nor stay within the draws' spread"}


@figure("fl-pretraining-reading", *PRETRAINING_RUNS)
def fl_pretraining_reading(mnist: dict, fashion: dict, fashion_all: dict) -> str:
    gains = [g for m in (mnist, fashion, fashion_all) for n in _counts(m) for g in _gains(m, n)]
    helped = sum(g > 0 for g in gains)
    text = ("Pretraining helped in every draw of every run. " if helped == len(gains)
            else f"Pretraining helped in {helped} of the {len(gains)} draws. ")
    text += "Whether it helps *most* with few labels depends on the data and on what is held equal. "
    kind, listed = _trend(mnist)
    text += f"At {mnist['finetune_steps']:,} updates the gains on the MNIST split {TRENDS[kind]} ({listed}); "
    trends = [(*_trend(m), f"{m['n_train']:,}/{m['n_test']:,}") for m in (fashion, fashion_all)]
    if trends[0][0] == trends[1][0]:
        return text + (f"on Fashion-MNIST they {TRENDS[trends[0][0]]} in both runs ("
                       + " and ".join(f"{listed} on {size}" for _, listed, size in trends) + ").")
    return text + "; ".join(f"on Fashion-MNIST {size} they {TRENDS[kind]} ({listed})"
                            for kind, listed, size in trends) + "."


@figure("fl-finetune-loss", "feature_learning")
def fl_finetune_loss(m: dict) -> str:
    few, every = _counts(m)[0], _counts(m)[-1]
    losses = [v for name in STACK_RUNS for v in _draws(m, few, f"{name} train_loss")]
    tuned, random = (_draws(m, every, f"{name} train_loss")[0] for name in STACK_RUNS)
    fitted = " (they fit the labels; the gain is generalisation)" if max(losses) < 0.01 else ""
    return (f"with {few} labels both networks end their last epoch at a training loss of {max(losses):.4f} "
            f"or less in every draw{fitted}, with all {every:,} at {tuned:.3f} (pretrained) and {random:.3f} "
            f"(random init)")


@figure("fl-longer-table", *LONGER_RUNS)
def fl_longer_table(*runs: dict) -> str:
    counts = sorted({n for m in runs for n in _counts(m)})
    every = runs[0]["n_train"]
    rows = []
    for m in runs:
        cells = []
        for n in counts:
            tuned, random = (_pct(m, n, f"{name} acc") if str(n) in m["accuracy"] else None
                             for name in STACK_RUNS)
            cells.append("" if tuned is None else _pretraining_gain(m, n)
                         + (f" ({tuned:.1f} vs {random:.1f})" if n == every else ""))
        rows.append([f"{m['finetune_steps']:,}", *cells])
    draws = _word(runs[0]["repeats"])
    header = [f"all {n:,}" if n == every else f"{n:,} labels ({draws} draws)" for n in counts]
    return table(["MNIST split, fine-tuning updates", *header], rows)


@figure("fl-longer-reading", *LONGER_RUNS)
def fl_longer_reading(*runs: dict) -> str:
    every = runs[0]["n_train"]
    # 1. all the labels: does the random network catch up?
    at_all = [_mean_gain(m, every) for m in runs]
    steps = _and([f"{m['finetune_steps']:,}" for m in runs])
    after = f"{', '.join(f'{g:+.1f}' for g in at_all)} points after {steps}"
    if all(a > b for a, b in itertools.pairwise(at_all)) and at_all[-1] < at_all[0] / 2:
        text = (f"With all the labels the random network catches up as fine-tuning goes on (the gap: {after} "
                f"updates; there, most of pretraining's advantage was a head start)")
    else:
        text = f"With all the labels the gap does not close ({after} updates)"
    # 2. fewer labels: does the gap stay?
    few = [n for n in _counts(runs[0]) if n != every]
    longer = [m for m in runs if all(str(n) in m["accuracy"] for n in few)]
    first, last = longer[0], longer[-1]
    kept = all(_mean_gain(last, n) >= _mean_gain(first, n) - 0.5 for n in few)
    labels = _and([f"{n:,}" for n in few])
    listed = "; ".join(" and ".join(f"{_mean_gain(m, n):+.1f}" for n in few)
                       + f" after {m['finetune_steps']:,}" for m in longer)
    text += (f", while with {labels} labels it {'stays' if kept else 'shrinks too'} ({listed} updates; not "
             f"measured longer). ")
    # 3. what lasts
    gain_few = [_mean_gain(last, n) for n in few]
    draws = _gains(last, few[0])
    text += ("So the claim holds here in its careful form: " if min(gain_few) > at_all[-1]
             else "So the claim does not hold here: ")
    text += (f"after the longest fine-tuning measured, pretraining gains "
             f"{' and '.join(f'{g:+.1f}' for g in gain_few)} points with {labels} labels and "
             f"{at_all[-1]:+.1f} with all of them")
    if max(gain_few) - min(gain_few) < max(draws) - min(draws):
        text += (f"; between {few[0]:,} and {few[-1]:,} labels this split cannot tell the gains apart (the "
                 f"{few[0]:,}-label draws spread from {_points(min(draws))} to {_points(max(draws))})")
    return text + "."


@figure("fl-stack-probe", "feature_learning")
def fl_stack_probe(m: dict) -> str:
    few, every = _counts(m)[0], _counts(m)[-1]
    sizes = (784, *m["stack"], 10)
    weights = sum(a * b + b for a, b in itertools.pairwise(sizes))
    keys = ("stack fine-tuned acc", "stack, not fine-tuned probe_acc")
    tuned, frozen = (_pct(m, few, key) for key in keys)
    if tuned < frozen:
        text = (f"with {few} labels, fine-tuning the stack ({tuned:.1f}) did *worse* than a linear probe on "
                f"its frozen codes ({frozen:.1f}, page 15): {few} labels are few to move {weights:,} "
                f"parameters")
    else:
        text = (f"with {few} labels, fine-tuning the stack ({tuned:.1f}) did no worse than a linear probe on "
                f"its frozen codes ({frozen:.1f}, page 15)")
    tuned, frozen = (_pct(m, every, key) for key in keys)
    return (text + f"; and a linear probe on the stack's codes before fine-tuning reaches {frozen:.1f}% with "
            f"all {every:,} labels, which fine-tuning {'raises' if tuned > frozen else 'takes'} to "
            f"{tuned:.1f}%")


@figure("readme-feature-learning", "feature_learning")
def readme_feature_learning(m: dict) -> str:
    counts = _counts(m)
    gains = [_mean_gain(m, n) for n in counts]
    accuracies = " / ".join(f"{_pct(m, n, 'stack fine-tuned acc'):.1f}" for n in counts)
    if min(gains) > 0:
        how = f"beats the same network from random weights by {' / '.join(f'{g:.1f}' for g in gains)} points"
    else:
        how = f"against the same network from random weights: {' / '.join(f'{g:+.1f}' for g in gains)} points"
    return f"a stacked denoising AE fine-tuned {how} ({accuracies}%) on the {m['n_train']:,}-image split"


# -- docs/17-overfitting-and-robustness.md: examples/overfitting.py on four data sets
OVERFITTING_RUNS = ("overfitting", "overfitting_fashion", "overfitting_glyphs", "overfitting_photo_crops")
OVERFITTING_DATA = ("MNIST", "Fashion-MNIST", "letters", "photo crops")


def _overfitting_verdicts(*claims: str) -> Callable[..., str]:
    """A figure listing the verdict of each claim, with the numbers that decide it, on every data set."""
    def render(*runs: dict) -> str:
        blocks = []
        for claim in claims:
            lines = [f"*{claim}*:", ""] if len(claims) > 1 else []
            for label, m in zip(OVERFITTING_DATA, runs, strict=True):
                v = m["verdicts"][claim]
                why = v["why"].replace("||J||_F", "$\\lVert J \\rVert_F$")
                lines.append(f"- {label} ({m['n_small']:,} and {m['n_train']:,} training images): "
                             f"**{v['verdict']}**. {why[0].upper()}{why[1:]}.")
            blocks.append("\n".join(lines))
        return "\n\n".join(blocks)
    return render


for _name, _claim_keys in {
    "overfitting-basic": ("basic autoencoders overfit",),
    "overfitting-regularisers": ("sparse: better generalization, reduced overfitting",
                                 "contractive: prevents overfitting"),
    "overfitting-robustness": ("denoising: improves robustness to noise", "contractive: robust to noise"),
    "overfitting-data": ("denoising: requires sufficient training data",),
}.items():
    figure(_name, *OVERFITTING_RUNS)(_overfitting_verdicts(*_claim_keys))


@figure("overfitting-verdicts", *OVERFITTING_RUNS)
def overfitting_verdicts(*runs: dict) -> str:
    claims = list(runs[0]["verdicts"])
    rows = [[claim, *(m["verdicts"][claim]["verdict"] for m in runs)] for claim in claims]
    return table(["claim", *OVERFITTING_DATA], rows)


@figure("overfitting-setup", "overfitting")
def overfitting_setup(m: dict) -> str:
    return (f"784-{m['hidden']}-784, sigmoid units, BCE, Adam (learning rate {m['lr']:g}), {m['steps']} "
            f"updates of {m['batch_size']} images for every model on every training set; weight decay "
            f"$\\lambda$ = "
            f"{m['weight_decay']:g}, DAE $\\sigma$ = {m['sigma']:g}, sparse AE $\\rho$ = {m['rho']:g} and "
            f"$\\beta$ = {m['beta']:g}, CAE lam = {m['lam']:g}")


@figure("overfitting-table", "overfitting")
def overfitting_table(m: dict) -> str:
    rows = []
    for size, n in (("small", m["n_small"]), ("large", m["n_train"])):
        for name, s in m["summaries"][size].items():
            rows.append([f"{n:,}", name, f"{s['train']:.4f}", f"{s['held_out']:.4f}", f"{s['gap']:.4f}",
                         f"{s['best_held_out']:.4f} (epoch {s['best_epoch']:.1f})"])
    return table(["training images", "model", "training error", "held-out error", "gap",
                  "best held-out error"], rows)


@figure("overfitting-early-stopping", "overfitting")
def overfitting_early_stopping(m: dict) -> str:
    e, r = m["early_stopping"], m["regularisers"]["AE, early stopping"]
    last = m["summaries"]["small"]["AE"]["held_out"]
    return (f"stopping the plain AE at its best held-out error (epoch {e['epoch']:.0f} of "
            f"{m['curves']['small']['AE']['epochs'][-1]:.0f}) gives {e['held_out']:.4f} against {last:.4f} "
            f"at the end ({r['held_out_ratio']:.2f} times)")


@figure("overfitting-regulariser-table", *OVERFITTING_RUNS)
def overfitting_regulariser_table(*runs: dict) -> str:
    def cell(r: dict) -> str:
        return f"gap {r['gap_ratio']:.2f}×, held-out {r['held_out_ratio']:.2f}×: {r['verdict']}"
    rows = [[name, *(cell(m["regularisers"][name]) for m in runs)] for name in runs[0]["regularisers"]]
    return table(["on the small set, against the plain AE", *OVERFITTING_DATA], rows)


@figure("overfitting-noise-table", "overfitting")
def overfitting_noise_table(m: dict) -> str:
    levels = m["noise_levels"]
    rows = []
    for size, n in (("small", m["n_small"]), ("large", m["n_train"])):
        r = m["robustness"][size]
        best = [min(r[name][i] for name in r) for i in range(len(levels))]
        for name, values in r.items():
            cells = [f"**{v:.4f}**" if v == b else f"{v:.4f}" for v, b in zip(values, best, strict=True)]
            rows.append([f"{n:,}", name, *cells, f"{m['mean_jacobian_norm'][size][name]:.2f}"])
    return table(["training images", "model", *(f"s = {s:g}" for s in levels),
                  "mean $\\lVert J \\rVert_F$"], rows)


@figure("overfitting-size-table", "overfitting")
def overfitting_size_table(m: dict) -> str:
    rows = [[name, *(f"{v:.4f}" for v in values)] for name, values in m["size_curve"].items()]
    return table(["held-out error", *(f"{n:,} images" for n in m["sizes"])], rows)


@figure("readme-overfitting", "overfitting")
def readme_overfitting(m: dict) -> str:
    s = m["summaries"]
    counts = [sum(v["verdict"] == k for v in m["verdicts"].values())
              for k in ("holds", "holds with a qualification", "does not hold here")]
    return (f"the plain AE's held-out error is {s['small']['AE']['ratio']:.1f}x its training error on "
            f"{m['n_small']:,} images ({s['large']['AE']['ratio']:.2f}x on {m['n_train']:,}); of "
            f"{len(m['verdicts'])} claims, {counts[0]} hold, {counts[1]} hold with a qualification, "
            f"{counts[2]} do not hold here")


# -- README.md: the examples' table
@figure("readme-contractive", "contractive")
def readme_contractive(m: dict) -> str:
    r = m["results"]
    norms = " / ".join(f"{r[k]['mean_jacobian_norm']:.2f}" for k in ("AE", "DAE", "CAE"))
    return f"mean Jacobian norm {norms}"


@figure("readme-conv-ae", "conv_ae")
def readme_conv_ae(m: dict) -> str:
    t, n = m["test"], m["parameters"]
    return (f"PSNR {t['conv']['psnr_db']:.1f} vs {t['dense']['psnr_db']:.1f} dB with "
            f"{n['dense'] / n['conv']:.1f}x fewer parameters")


# -- docs/benchmarks.md and the README: the speed benchmarks (benchmarks/harness.py's JSON)
#: Each benchmark script, its label and its target ratio; it runs in each of BENCH_CONFIGS, one file each.
BENCH_WORKLOADS = (("dense_ae", "dense AE 784-256-32-256-784, ReLU, sigmoid, MSE, Adam", 0.8),
                   ("vae", "VAE 784-400-20, ReLU, Bernoulli, Adam", 0.8),
                   ("conv_ae", "conv AE 1-16-32 stride-2 convs + 2 transposed convs", 0.3),
                   ("conv_denoising", "conv DAE 1-32-32 stride-1 convs, pooling, upsampling, BCE", 0.3))
_KERNEL_VARS = ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")  # set on some machines for old OpenBLAS builds
_THREAD_VARS = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS", "BLIS_NUM_THREADS")
#: file suffix -> (column title, environment changes): default threads and NumPy's own OpenBLAS kernel;
#: one thread; default threads with the older Haswell kernel forced (``OPENBLAS_CORETYPE=Haswell``, the
#: setting some machines carry as a workaround for old OpenBLAS builds; it slows NumPy's GEMMs).
BENCH_CONFIGS = {
    "": ("default threads", dict.fromkeys(_KERNEL_VARS + _THREAD_VARS)),
    "_1thread": ("1 thread", {**dict.fromkeys(_KERNEL_VARS + _THREAD_VARS), "OPENBLAS_NUM_THREADS": "1"}),
    "_workplace": ("default threads, OPENBLAS_CORETYPE=Haswell",
                   {**dict.fromkeys(_KERNEL_VARS + _THREAD_VARS), "OPENBLAS_CORETYPE": "Haswell"}),
}
for _script, _, _ in BENCH_WORKLOADS:
    for _suffix, (_, _changes) in BENCH_CONFIGS.items():
        BENCHMARKS[f"bench_{_script}{_suffix}"] = [f"benchmarks/{_script}.py", "--data-dir", "{data}",
                                                    "--json", "{json}"]
        BENCH_ENV[f"bench_{_script}{_suffix}"] = _changes
#: Every speed benchmark's file, workload by workload, in BENCH_CONFIGS' order.
BENCH_RUNS = tuple(f"bench_{script}{suffix}" for script, _, _ in BENCH_WORKLOADS for suffix in BENCH_CONFIGS)
#: A run whose load average (before or after) per core is above this is not published.
MAX_LOAD_PER_CORE = 0.5


def _per_workload(runs: tuple[dict, ...]) -> list[tuple[dict, ...]]:
    """BENCH_RUNS' contents cut into one tuple per workload (its configurations in order)."""
    n = len(BENCH_CONFIGS)
    return [runs[i:i + n] for i in range(0, len(runs), n)]


def bench_unpublished(run: dict) -> str | None:
    """Why a run's figures may not be shown (its machine was busy), or None when they may."""
    loads = run["load_average"]
    worst = max((v for v in loads if v is not None), default=None)
    if worst is not None and None not in loads and worst <= MAX_LOAD_PER_CORE * run["cores"]:
        return None
    load = "an unknown load" if worst is None or None in loads else f"load {worst:g}"
    return (f"not published: measured at {load} on {run['cores']} cores; rerun `{run['command']}` "
            f"on an idle machine")


def bench_ratio(run: dict) -> str:
    """npae / PyTorch of a run (ratio of the medians), or why it is not published."""
    ratio = run["results"][0]["ratio_of_medians"]
    return bench_unpublished(run) or ("-" if ratio is None else f"{ratio:.2f}x")


def bench_setup(runs: tuple[dict, ...]) -> str:
    """Said once under the tables: date, CPU, NumPy, and per run its kernel, threads, load and command."""
    rows = []
    for (script, _, _), per_workload in zip(BENCH_WORKLOADS, _per_workload(runs), strict=True):
        for (title, _), run in zip(BENCH_CONFIGS.values(), per_workload, strict=True):
            blas = run["blas"] or {"architecture": "unknown", "threads": run["numpy_threads"]}
            load = " / ".join("?" if v is None else f"{v:g}" for v in run["load_average"])
            rows.append([f"`{script}.py`, {title}", blas["architecture"], blas["threads"],
                         run["torch_threads"], load, f"`{run['command']}`"])
    first, last = runs[0], runs[-1]
    blas = first["blas"] or {"library": "BLAS", "version": "unknown"}
    dates = sorted(run["measured_at"] for run in runs)  # "YYYY-MM-DD HH:MM UTC" sorts by time
    unset = ", ".join(f"`{var}`" for var in last["env"])
    return (f"Measured {dates[0]} to {dates[-1]} on {first['cpu']}, "
            f"{first['cores']} cores, NumPy {first['numpy']} with {blas['library']} {blas['version']}, "
            f"PyTorch {first['torch']}; {first['rounds']} interleaved rounds of {first['steps']} steps "
            f"(`conv_denoising.py`: {last['rounds']} of {last['steps']}), float32, batch 128. `<MNIST>` is "
            f"the MNIST folder; a command runs with those of {unset} it does not set unset. A figure "
            f"measured at a load average above {MAX_LOAD_PER_CORE:g} per core is not published.\n\n"
            + table(["run", "OpenBLAS kernel", "BLAS threads", "PyTorch threads",
                     "load average before / after", "command"], rows))


def bench_ratio_table(runs: tuple[dict, ...], link: str) -> str:
    """One row per workload, one column of npae / PyTorch per configuration."""
    rows = []
    for (script, label, _), per_workload in zip(BENCH_WORKLOADS, _per_workload(runs), strict=True):
        rows.append([f"{label} ({link.format(script=script)})", *map(bench_ratio, per_workload)])
    return table(["workload", *(f"npae / PyTorch, {title}" for title, _ in BENCH_CONFIGS.values())], rows)


@figure("bench-summary", *BENCH_RUNS)
def bench_summary(*runs: dict) -> str:
    return (bench_ratio_table(runs, "[`{script}.py`](../benchmarks/{script}.py)") + "\n\nTargets: "
            + ", ".join(f"`{script}.py` {target}x" for script, _, target in BENCH_WORKLOADS)
            + ".\n\n" + bench_setup(runs))


@figure("readme-speed", *BENCH_RUNS)
def readme_speed(*runs: dict) -> str:
    return bench_ratio_table(runs, "`benchmarks/{script}.py`") + "\n\n" + bench_setup(runs)


@figure("readme-speed-intro", "bench_dense_ae")
def readme_speed_intro(run: dict) -> str:
    return bench_unpublished(run) or f"{run['results'][0]['ratio_of_medians']:.2f}x"


# -- docs/18-what-the-notes-claim.md and the README: examples/notes_network.py on MNIST and Fashion-MNIST
RUNS["notes_network"] = ["examples/notes_network.py", "--data-dir", "{data}"]
RUNS["notes_network_fashion"] = ["examples/notes_network.py", "--data-dir", "{fashion}"]
RUNS.update({f"notes_network_{data}": ["examples/notes_network.py", "--data-dir", "{" + data + "}"]
             for data in NONDIGIT_SETS})
#: (key in metrics.json, column title, format, which is best) of each measure
NOTES_MEASURES = (("bce", "BCE", "{:.4f}", min), ("mse", "MSE", "{:.5f}", min),
                  ("psnr_db", "PSNR (dB)", "{:.2f}", max), ("ssim", "SSIM", "{:.3f}", max))


@figure("notes-network-table", "notes_network", "notes_network_fashion")
def notes_network_table(mnist: dict, fashion: dict) -> str:
    rows = []
    for label, m in (("MNIST", mnist), ("Fashion-MNIST", fashion)):
        r = m["results"]
        best = {key: pick(r, key=lambda name, key=key: r[name][key]) for key, _, _, pick in NOTES_MEASURES}
        for name, v in r.items():
            shown = "784-32-784 network" if name == "network" else name
            cells = [f"**{fmt.format(v[key])}**" if best[key] == name else fmt.format(v[key])
                     for key, _, fmt, _ in NOTES_MEASURES]
            rows.append([label, shown, *cells])
        floor = "the images' own entropy (lowest BCE possible)"
        rows.append([label, floor, f"{m['bce_floor']:.4f}", "", "", ""])
    return table(["data", "reconstruction", *[title for _, title, _, _ in NOTES_MEASURES]], rows)


@figure("notes-network-setup", "notes_network")
def notes_network_setup(m: dict) -> str:
    return (f"{m['n_parameters']:,} parameters, Adam at {m['lr']:g}, batches of {m['batch_size']}, "
            f"{m['epochs'] * -(-m['n_train'] // m['batch_size']):,} updates ({m['epochs']} epochs of the "
            f"{m['n_train']:,} training images), "
            f"scored on {m['n_test']:,} held-out images")


@figure("notes-network-verdict", "notes_network", "notes_network_fashion")
def notes_network_verdict(mnist: dict, fashion: dict) -> str:
    parts = []
    for label, m in (("MNIST", mnist), ("Fashion-MNIST", fashion)):
        r, pca = m["results"]["network"], m["results"][f"PCA {m['code']}"]
        won = [title.split(" (")[0] for key, title, _, _ in NOTES_MEASURES if m["beats_pca"][key]]
        how = "on every measure" if len(won) == len(NOTES_MEASURES) else f"on {', '.join(won) or 'nothing'}"
        parts.append(f"on {label} the network beats PCA with {m['code']} components {how} (MSE "
                     f"{r['mse']:.4f} against {pca['mse']:.4f}, SSIM {r['ssim']:.2f} against "
                     f"{pca['ssim']:.2f}), and its held-out BCE is {r['bce'] - m['bce_floor']:.3f} nats per "
                     f"pixel above the lowest possible")
    return "; ".join(parts)[0].upper() + "; ".join(parts)[1:] + "."


@figure("notes-network-nondigit", "notes_network_glyphs", "notes_network_photo_crops")
def notes_network_nondigit(glyphs: dict, crops: dict) -> str:
    parts = []
    for label, m in (("letters and symbols", glyphs), ("crops of photographs", crops)):
        r, pca = m["results"]["network"], m["results"][f"PCA {m['code']}"]
        won = [title.split(" (")[0] for key, title, _, _ in NOTES_MEASURES if m["beats_pca"][key]]
        lost = [title.split(" (")[0] for key, title, _, _ in NOTES_MEASURES if not m["beats_pca"][key]]
        how = ("on every measure" if not lost else
               f"on {', '.join(won) or 'nothing'} but loses on {', '.join(lost)}")
        parts.append(f"on {label} ({m['n_train']:,} training and {m['n_test']:,} held-out images) it beats "
                     f"PCA {how} (PSNR {r['psnr_db']:.1f} against {pca['psnr_db']:.1f} dB)")
    return "; ".join(parts)


@figure("notes-constant-pixels", "notes_network")
def notes_constant_pixels(m: dict) -> str:
    return f"{m['constant_pixels']} of the 784 pixels hold one value in all {m['n_train']:,} training images"


@figure("notes-learnt-sigma", "vae_gaussian_learn_sigma")
def notes_learnt_sigma(m: dict) -> str:
    return f"$\\hat\\sigma_x = {m['decoder_sigma_final']:.3f}$ on MNIST"


@figure("readme-notes-network", "notes_network")
def readme_notes_network(m: dict) -> str:
    r, pca = m["results"]["network"], m["results"][f"PCA {m['code']}"]
    return (f"held-out BCE {r['bce']:.3f} per pixel, PSNR {r['psnr_db']:.1f} dB against "
            f"{pca['psnr_db']:.1f} dB for PCA with {m['code']} components")

# -- docs/03-sparsity.md ("Tuning rho and beta"), docs/12 ("How big should the code be"), the README:
# examples/tuning.py on MNIST, Fashion-MNIST and the two non-digit sets
TUNING_RUNS = {"tuning": "MNIST", "tuning_fashion": "Fashion-MNIST", "tuning_glyphs": "letters",
               "tuning_photo_crops": "photo crops"}
RUNS["tuning"] = ["examples/tuning.py", "--data-dir", "{data}"]
RUNS["tuning_fashion"] = ["examples/tuning.py", "--data-dir", "{fashion}"]
RUNS.update({f"tuning_{data}": ["examples/tuning.py", "--data-dir", "{" + data + "}"]
             for data in NONDIGIT_SETS})


def _sizes(m: dict) -> str:
    return f"{m['n_train']:,} / {m['n_test']:,}"


def _cell_name(rho: float, beta: float) -> str:
    return f"rho={rho:g}, beta={beta:g}"


@figure("tuning-sparsity-table", "tuning")
def tuning_sparsity_table(m: dict) -> str:
    s, v = m["sparsity"], m["verdicts"]["sparsity"]
    d = s["dense"]
    rows = [["any", "0", f"{d['test_mse']:.4f}", f"{d['mean_activation']:.3f}",
             f"{d['fires_on_mean']:.1%} ({d['fires_on_min']:.1%} to {d['fires_on_max']:.1%})",
             d["dead_units"], d["always_on_units"], "no sparsity: the reference"]]
    for c in s["cells"]:
        faults = v["faults"][_cell_name(c["rho"], c["beta"])]
        rows.append([f"{c['rho']:g}", f"{c['beta']:g}", f"{c['test_mse']:.4f}",
                     f"{c['mean_activation']:.3f} ({c['rho_miss']:.0%} off)",
                     f"{c['fires_on_mean']:.1%} ({c['fires_on_min']:.1%} to {c['fires_on_max']:.1%})",
                     c["dead_units"], c["always_on_units"], ", ".join(faults) if faults else "**good**"])
    return table(["$\\rho$", "$\\beta$", "held-out MSE", "mean activation $\\hat\\rho$",
                  "each unit fires on (mean, min to max)", "dead units", "always on", "by the rules"], rows)


@figure("tuning-sparsity-reading", "tuning")
def tuning_sparsity_reading(m: dict) -> str:
    s = m["sparsity"]
    dense = s["dense"]["test_mse"]
    by = {(c["rho"], c["beta"]): c for c in s["cells"]}
    rhos, betas = s["rhos"], s["betas"]
    low, high = betas[0], betas[-1]
    faults = m["verdicts"]["sparsity"]["faults"]
    misses = [rho for rho in rhos if "misses" in faults[_cell_name(rho, low)]]
    text = (f"Without the KL term the code is dense: mean activation {s['dense']['mean_activation']:.2f}, "
            f"{s['dense']['always_on_units']} of {s['hidden']} units on for more than 90% of the inputs. "
            f"With $\\beta = {low:g}$ the mean activation misses its target at {_of(len(misses), len(rhos))} "
            f"values of $\\rho$ (at $\\rho = {rhos[0]:g}$ it is {by[rhos[0], low]['mean_activation']:.3f}). ")
    costs = [f"{by[rho, high]['test_mse'] / dense:.1f} ($\\rho = {rho:g}$)" for rho in rhos]
    text += (f"With $\\beta = {high:g}$ every cell is within "
             f"{max(by[rho, high]['rho_miss'] for rho in rhos):.0%} of its $\\rho$, but the held-out MSE is "
             f"{', '.join(costs)} times the dense model's")
    dead = [(rho, by[rho, high]["dead_units"]) for rho in rhos if by[rho, high]["dead_units"]]
    if dead:
        text += (", and " + " and ".join(f"{n} of the {s['hidden']} units never fire at $\\rho = {rho:g}$"
                                         for rho, n in dead))
    window = m["verdicts"]["sparsity"]["good_betas_by_rho"]
    good = [f"$\\rho = {rho}$: $\\beta$ = {', '.join(f'{b:g}' for b in betas)}"
            for rho, betas in window.items() if betas]
    empty = [rho for rho, betas in window.items() if not betas]
    text += ". Good cells: " + ("; ".join(good) if good else "none")
    return text + (f"; none at $\\rho$ = {' or '.join(empty)}." if empty and good else ".")


@figure("tuning-sparsity-verdicts", *TUNING_RUNS)
def tuning_sparsity_verdicts(*runs: dict) -> str:
    rows = []
    for label, m in zip(TUNING_RUNS.values(), runs, strict=True):
        v = m["verdicts"]["sparsity"]
        window = "; ".join(f"{rho}: {', '.join(f'{b:g}' for b in betas) or 'none'}"
                           for rho, betas in v["good_betas_by_rho"].items())
        f = v["failures"]
        rows.append([f"{label} ({_sizes(m)})", f"**{v['verdict']}**", f"{len(v['good_cells'])} of "
                     f"{len(m['sparsity']['cells'])}", window,
                     f"{f['misses']} / {f['loses units']} / {f['costs']}",
                     f"{m['sparsity']['dense']['test_mse']:.4f}"])
    return table(["data (training / held-out images)", "verdict", "good cells",
                  "good $\\beta$ for each $\\rho$", "cells that miss $\\rho$ / lose units / cost error",
                  "MSE without sparsity"], rows)


@figure("tuning-sparsity-across", *TUNING_RUNS)
def tuning_sparsity_across(*runs: dict) -> str:
    verdicts = {m["verdicts"]["sparsity"]["verdict"] for m in runs}
    windows = [m["verdicts"]["sparsity"]["good_betas_by_rho"] for m in runs]
    rhos = list(windows[0])
    never = [rho for rho in rhos if not any(w[rho] for w in windows)]
    text = (f"The verdict is \"{verdicts.pop()}\" on all {len(runs)} data sets. " if len(verdicts) == 1 else
            f"The verdicts differ between the {len(runs)} data sets. ")
    if never:
        text += f"At $\\rho$ = {' and '.join(never)} no $\\beta$ of the grid gives a good cell on any of them"
        faults = [f for m in runs for name, f in m["verdicts"]["sparsity"]["faults"].items()
                  if name.split(",")[0] in {f"rho={rho}" for rho in never}]
        if all("costs" in f for f in faults if "misses" not in f):
            text += (": every $\\beta$ there that reaches the target costs more than 1.5 times the error of "
                     "the code without sparsity")
        text += "."
    return text


@figure("tuning-code-table", "tuning")
def tuning_code_table(m: dict) -> str:
    c = m["code_size"]
    rows = []
    for k in c["ks"]:
        p, d = c["plain"][str(k)], c["dae"].get(str(k))
        rows.append([k, f"{p['test_mse']:.4f}", f"{p['train_mse']:.4f}", f"{p['detail_ratio']:.2f}",
                     f"{p['gain']:.2f}", f"{p['test_reproduced']:.0%}", f"{p['turned_reproduced']:.0%}",
                     *(("-", "-", "-") if d is None else
                       (f"{d['test_mse']:.4f}", f"{d['gain']:.2f}", f"{d['turned_reproduced']:.0%}"))])
    return table(["k", "plain AE: held-out MSE", "training MSE", "detail kept", f"gain (top {c['top']})",
                  "held-out images reproduced", "turned images reproduced", "DAE: held-out MSE", "gain",
                  "turned images reproduced"], rows)


@figure("tuning-code-verdicts", *TUNING_RUNS)
def tuning_code_verdicts(*runs: dict) -> str:
    rows = []
    for label, m in zip(TUNING_RUNS.values(), runs, strict=True):
        c, v = m["code_size"], m["verdicts"]["code_size"]
        lo, hi = str(c["ks"][0]), str(c["ks"][-1])
        small, large, dae = c["plain"][lo], c["plain"][hi], c["dae"].get(hi)
        rows.append([f"{label} ({_sizes(m)})", f"**{v['verdict']}**",
                     f"MSE {small['test_mse']:.4f}, detail {small['detail_ratio']:.2f}",
                     f"MSE {large['test_mse']:.4f}, detail {large['detail_ratio']:.2f}, gain "
                     f"{large['gain']:.2f}, turned {large['turned_reproduced']:.0%}", v["best_k"],
                     "-" if dae is None else f"gain {dae['gain']:.2f}, turned "
                                             f"{dae['turned_reproduced']:.0%}, MSE {dae['test_mse']:.4f}"])
    k_lo, k_hi = runs[0]["code_size"]["ks"][0], runs[0]["code_size"]["ks"][-1]
    return table(["data", "verdict", f"plain AE, k = {k_lo}", f"plain AE, k = {k_hi}",
                  "lowest held-out MSE at k", f"DAE, k = {k_hi}"], rows)


@figure("tuning-code-across", *TUNING_RUNS)
def tuning_code_across(*runs: dict) -> str:
    parts = []
    for label, m in zip(TUNING_RUNS.values(), runs, strict=True):
        v, c = m["verdicts"]["code_size"], m["code_size"]
        large = c["plain"][str(c["ks"][-1])]
        if not v["large_end_copies"]:
            parts.append(f"on {label} the plain autoencoder with {c['ks'][-1]} numbers has a gain of only "
                         f"{large['gain']:.2f} and reproduces {large['turned_reproduced']:.0%} of the turned "
                         f"images' variance against {large['test_reproduced']:.0%} of the held-out images'")
    blurry = sum(m["verdicts"]["code_size"]["small_end_blurry"] for m in runs)
    falls = sum(m["verdicts"]["code_size"]["best_k"] == m["code_size"]["ks"][-1] for m in runs)
    text = (f"The small end is blurry on {_of(blurry, len(runs))} data sets, and the held-out error is "
            f"lowest at the largest code on {_of(falls, len(runs))}. ")
    if parts:
        text += "The large end does not copy by the rule: " + "; ".join(parts) + ". "
    if blurry == falls == len(runs):
        text += ("What holds on every data set is the smaller claim: too small a code is blurry, and the "
                 "held-out error alone does not say when a code is too large.")
    return text.rstrip()


@figure("readme-tuning", "tuning")
def readme_tuning(m: dict) -> str:
    s, c = m["verdicts"]["sparsity"], m["verdicts"]["code_size"]
    hi = str(m["code_size"]["ks"][-1])
    large, dae = m["code_size"]["plain"][hi], m["code_size"]["dae"].get(hi)
    text = (f"sparsity: {s['verdict']} ({len(s['good_cells'])} of {len(m['sparsity']['cells'])} "
            f"(rho, beta) cells good); code size: {c['verdict']} (k = {hi}: gain {large['gain']:.2f}")
    return text + (f", DAE {dae['gain']:.2f})" if dae else ")")


# CATALOGUE-END

# ---------------------------------------------------------------------------- reading and writing
class MissingMetrics(FileNotFoundError):
    pass


def load_metrics(run: str, folder: Path = METRICS) -> dict:
    path = folder / f"{run}.json"
    if not path.is_file():
        if run in BENCHMARKS:
            how = f"python docs/figures.py --run --only {run} --data-dir D"
        else:
            shown = [c.replace("{data}", "D").replace("{fashion}", "F") for c in RUNS[run]]
            how = (" ".join(["python", *shown])
                   + f" --out npae-out/{run}`, then `python docs/figures.py --from npae-out")
        raise MissingMetrics(f"{graphs.shown(path)} is missing: make it with `{how}`")
    return json.loads(path.read_text(encoding="utf-8"))


def render(name: str, folder: Path = METRICS) -> str:
    if name not in FIGURES:
        raise KeyError(f"no figure named {name!r} in docs/figures.py")
    runs, fn = FIGURES[name]
    return fn(*(load_metrics(run, folder) for run in runs))


def regenerate(text: str, folder: Path = METRICS, missing: list[str] | None = None) -> str:
    """``text`` with every marked figure rewritten; a figure whose metrics file is missing is kept."""
    def replace(match: re.Match) -> str:
        name, old = match.group(1), match.group(2)
        try:
            new = render(name, folder)
        except MissingMetrics as exc:
            if missing is not None:
                missing.append(str(exc))
            return match.group(0)
        if old.startswith("\n"):  # a block: the markers on their own lines
            new = f"\n{new}\n"
        return f"<!-- figures:{name} -->{new}<!-- /figures -->"
    return MARKED.sub(replace, text)


def differences(folder: Path = METRICS) -> tuple[list[str], list[str]]:
    """``(figures that differ, missing metrics files)`` over every page."""
    differ, missing = [], []
    for page in PAGES:
        text = page.read_text(encoding="utf-8")
        new = regenerate(text, folder, missing)
        for old_m, new_m in zip(MARKED.finditer(text), MARKED.finditer(new), strict=True):
            if old_m.group(0) != new_m.group(0):
                differ.append(f"{page.relative_to(ROOT)}: figures:{old_m.group(1)}\n  page:    "
                              f"{old_m.group(2).strip()[:300]!r}\n  metrics: "
                              f"{new_m.group(2).strip()[:300]!r}")
    return differ, sorted(set(missing))


def copy_runs(out: Path) -> list[str]:
    """Copy ``out/<run>/metrics.json`` to ``docs/metrics/<run>.json`` for every run found."""
    copied = []
    for run in RUNS:
        src = out / run / "metrics.json"
        if src.is_file():
            METRICS.mkdir(exist_ok=True)
            shutil.copyfile(src, METRICS / f"{run}.json")
            copied.append(run)
    return copied


def nondigit_folders(out: Path) -> dict[str, str]:
    """Write the non-digit data sets under ``out/data`` as the claims tests do; ``{name: folder}``."""
    sys.path.insert(0, str(ROOT / "tests"))
    import nondigit  # tests/nondigit.py: the writers of the claims tests

    writers = {"glyphs": nondigit.write_glyphs, "photo_crops": nondigit.write_photo_crops}
    return {name: str(writers[name](out / "data" / name, n_train=3000, n_test=300, seed=0))
            for name in NONDIGIT_SETS}


def run_all(names: list[str], data_dir: str, out: Path, fashion_dir: str = "") -> None:
    """Run each named example (with its defaults) and benchmark, one at a time.

    A run on Fashion-MNIST (``{fashion}``) is skipped, and said so, when ``fashion_dir`` is empty.
    """
    folders = nondigit_folders(out) if any("{glyphs}" in c or "{photo_crops}" in c
                                           for name in names for c in RUNS.get(name, ())) else {}
    for name in names:
        if "{fashion}" in RUNS.get(name, ()) and not fashion_dir:
            print(f"skipped {name}: it needs --fashion-dir (a Fashion-MNIST folder)", flush=True)
            continue
        changes = BENCH_ENV.get(name, {})
        if name in BENCHMARKS:
            cmd = [c.replace("{json}", str(METRICS / f"{name}.json")).replace("{data}", data_dir)
                   for c in BENCHMARKS[name]]
        else:
            cmd = [c.format(data=data_dir, fashion=fashion_dir, **folders) if c.startswith("{") else c
                   for c in RUNS[name]]
            cmd += ["--out", str(out / name)]
        env = {k: v for k, v in {**os.environ, **changes}.items() if v is not None}
        shown = ([f"-u {k}" for k, v in changes.items() if v is None]  # env's options before its assignments
                 + [f"{k}={v}" for k, v in changes.items() if v is not None])
        print("$ " + " ".join(["env", *shown] if shown else []) + " python " + " ".join(cmd), flush=True)
        subprocess.run([sys.executable, *cmd], cwd=ROOT, check=True, env=env)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--check", action="store_true", help="report the figures that differ; change nothing")
    parser.add_argument("--from", dest="source", metavar="DIR",
                        help="first copy DIR/<run>/metrics.json to docs/metrics/<run>.json")
    parser.add_argument("--run", action="store_true", help="first run the examples and benchmarks (slow)")
    parser.add_argument("--only", nargs="*", metavar="NAME", help="with --run: these runs only")
    parser.add_argument("--data-dir", default="", help="with --run: the MNIST folder")
    parser.add_argument("--fashion-dir", default="",
                        help="with --run: the Fashion-MNIST folder (runs that need it are skipped without)")
    parser.add_argument("--out", default="npae-out", help="with --run: the examples' output folder")
    parser.add_argument("--graphs", action="store_true",
                        help="only draw the computation graphs, docs/images/graph_<model>.png")
    args = parser.parse_args(argv)
    if args.check:
        differ, missing = differences()
        stale = graphs.stale_graphs()
        for line in missing + differ + stale:
            print(line)
        print(f"{len(differ)} figure(s) differ from their metrics, {len(missing)} metrics file(s) missing, "
              f"{len(stale)} graph picture(s) to redraw")
        return 1 if differ or missing or stale else 0
    if args.graphs or not (args.run or args.source):
        for path in graphs.draw_graphs():
            print(f"drew {graphs.shown(path)}")
        if args.graphs:
            return 0
    if args.run:
        if not args.data_dir:
            parser.error("--run needs --data-dir (the MNIST folder)")
        run_all(args.only or [*RUNS, *BENCHMARKS], args.data_dir, Path(args.out), args.fashion_dir)
        args.source = args.out
    if args.source:
        print(f"copied from {args.source}: {', '.join(copy_runs(Path(args.source))) or 'nothing'}")
    missing: list[str] = []
    for page in PAGES:
        text = page.read_text(encoding="utf-8")
        new = regenerate(text, missing=missing)
        if new != text:
            page.write_text(new, encoding="utf-8")
            print(f"rewrote {page.relative_to(ROOT)}")
    for line in sorted(set(missing)):
        print(f"kept as they are, {line}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
