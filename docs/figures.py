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

``--run`` runs the examples of :data:`RUNS` one at a time (each about a minute on two cores;
``--only NAME ...`` picks some) and the kernel benchmark. A metrics file that is missing is
reported with the command that makes it, and the figures that need it are left as they are.
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

DOCS = Path(__file__).resolve().parent
ROOT = DOCS.parent
METRICS = DOCS / "metrics"
#: The pages that hold figures.
PAGES = sorted(DOCS.glob("*.md")) + [ROOT / "README.md"]
MARKED = re.compile(r"<!-- figures:([\w.-]+) -->(.*?)<!-- /figures -->", re.S)

#: Each metrics file and the command line that writes it (``{out}``: its folder, ``{data}``: MNIST).
RUNS: dict[str, list[str]] = {
    "sparse_kl": ["examples/sparse_kl.py"],
    "sparse_kl_float64": ["examples/sparse_kl.py", "--dtype", "float64"],
    "sparse_kl_no_whiten": ["examples/sparse_kl.py", "--no-whiten"],
    "sparse_kl_adam": ["examples/sparse_kl.py", "--optimizer", "adam"],
    "sparse_kl_mnist": ["examples/sparse_kl.py", "--data", "mnist", "--data-dir", "{data}"],
    "denoising": ["examples/denoising.py", "--data-dir", "{data}"],
    "inpainting": ["examples/inpainting.py", "--data-dir", "{data}"],
    "contractive": ["examples/contractive.py", "--data-dir", "{data}"],
    "vae": ["examples/vae.py", "--data-dir", "{data}"],
    "vae_latent2": ["examples/vae.py", "--data-dir", "{data}", "--latent-dim", "2"],
    "conv_ae": ["examples/conv_ae.py", "--data-dir", "{data}"],
    "conv_denoising": ["examples/conv_denoising.py", "--data-dir", "{data}"],
    "pca_vs_autoencoder": ["examples/pca_vs_autoencoder.py", "--data-dir", "{data}"],
    "anomaly_detection": ["examples/anomaly_detection.py", "--data-dir", "{data}"],
    "anomaly_detection_all_digits": ["examples/anomaly_detection.py", "--data-dir", "{data}", "--all-digits"],
    "colorization": ["examples/colorization.py"],
    "watermark_removal": ["examples/watermark_removal.py", "--data-dir", "{data}"],
}
#: Benchmarks write their JSON themselves (``{json}``: the file in docs/metrics/).
BENCHMARKS: dict[str, list[str]] = {
    "bench_kernels": ["benchmarks/kernels.py", "--json", "{json}"],
}

Render = Callable[[dict], str]
#: name -> (metrics file, function of its contents giving the text between the markers)
FIGURES: dict[str, tuple[str, Render]] = {}


def figure(name: str, run: str):
    """Register ``render(metrics) -> text`` as the figure ``name``, computed from ``docs/metrics/<run>.json``."""
    assert run in RUNS or run in BENCHMARKS, f"figure {name}: no run named {run!r}"

    def register(render: Render) -> Render:
        assert name not in FIGURES, f"figure {name!r} registered twice"
        FIGURES[name] = (run, render)
        return render
    return register


def table(header: list[str], rows: list[list]) -> str:
    """A markdown table."""
    lines = ["| " + " | ".join(header) + " |", "|" + " --- |" * len(header)]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def measured(where: dict) -> str:
    """When and where a benchmark ran, for a machine-dependent figure."""
    load = "/".join(f"{v:g}" for v in where["load_average"])
    return (f"measured {where['measured_at']} on the shared {where['cores']}-core machine, load average "
            f"{load} before/after, BLAS threads {where['blas_threads']}")


# ---------------------------------------------------------------------------- the figures, page by page
# (one function per marked figure; the pages name them in their markers)

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


@figure("denoising-clean", "denoising")
def denoising_clean(m: dict) -> str:
    r = m["results"]["clean input, plain AE"]
    return f"{r['psnr']:.2f} dB / SSIM {r['ssim']:.3f}"


@figure("denoising-verdict", "denoising")
def denoising_verdict(m: dict) -> str:
    s = _settings(m)
    n = len(s)
    psnr_up = sum(r["plain AE"]["psnr"] > r["noisy"]["psnr"] for r in s.values())
    ssim_down = sum(r["plain AE"]["ssim"] < r["noisy"]["ssim"] for r in s.values())
    dae_best = sum(r["DAE"]["psnr"] == max(v["psnr"] for v in r.values())
                   and r["DAE"]["ssim"] == max(v["ssim"] for v in r.values()) for r in s.values())
    return (f"The plain autoencoder raises the PSNR over the noisy input at {psnr_up} of the {n} settings "
            f"(it can only output things that look somewhat like its training data) but lowers the SSIM at "
            f"{ssim_down} of them: it smooths the noise into blur and reconstructs part of it, and SSIM, which "
            f"compares local structure, notices. The DAE's output is the best by PSNR and by SSIM at "
            f"{dae_best} of the {n} settings.")


# CATALOGUE-END

# ---------------------------------------------------------------------------- reading and writing
class MissingMetrics(FileNotFoundError):
    pass


def _shown(path: Path) -> str:
    return str(path.relative_to(ROOT)) if path.is_relative_to(ROOT) else str(path)


def load_metrics(run: str, folder: Path = METRICS) -> dict:
    path = folder / f"{run}.json"
    if not path.is_file():
        if run in BENCHMARKS:
            how = " ".join(["python"] + [c.replace("{json}", _shown(METRICS / f"{run}.json"))
                                         for c in BENCHMARKS[run]])
        else:
            how = (" ".join(["python"] + [c.replace("{data}", "D") for c in RUNS[run]])
                   + f" --out npae-out/{run}`, then `python docs/figures.py --from npae-out")
        raise MissingMetrics(f"{_shown(path)} is missing: make it with `{how}`")
    return json.loads(path.read_text(encoding="utf-8"))


def render(name: str, folder: Path = METRICS) -> str:
    if name not in FIGURES:
        raise KeyError(f"no figure named {name!r} in docs/figures.py")
    run, fn = FIGURES[name]
    return fn(load_metrics(run, folder))


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
                              f"{old_m.group(2).strip()[:300]!r}\n  metrics: {new_m.group(2).strip()[:300]!r}")
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


def run_all(names: list[str], data_dir: str, out: Path) -> None:
    """Run each named example (with its defaults) and benchmark, one at a time."""
    for name in names:
        if name in BENCHMARKS:
            cmd = [c.replace("{json}", str(METRICS / f"{name}.json")) for c in BENCHMARKS[name]]
        else:
            cmd = [c.replace("{data}", data_dir) for c in RUNS[name]] + ["--out", str(out / name)]
        print("$ python " + " ".join(cmd), flush=True)
        subprocess.run([sys.executable, *cmd], cwd=ROOT, check=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--check", action="store_true", help="report the figures that differ; change nothing")
    parser.add_argument("--from", dest="source", metavar="DIR",
                        help="first copy DIR/<run>/metrics.json to docs/metrics/<run>.json")
    parser.add_argument("--run", action="store_true", help="first run the examples and benchmarks (slow)")
    parser.add_argument("--only", nargs="*", metavar="NAME", help="with --run: these runs only")
    parser.add_argument("--data-dir", default="", help="with --run: the MNIST folder")
    parser.add_argument("--out", default="npae-out", help="with --run: the examples' output folder")
    args = parser.parse_args(argv)
    if args.check:
        differ, missing = differences()
        for line in missing + differ:
            print(line)
        print(f"{len(differ)} figure(s) differ from their metrics, {len(missing)} metrics file(s) missing")
        return 1 if differ or missing else 0
    if args.run:
        if not args.data_dir:
            parser.error("--run needs --data-dir (the MNIST folder)")
        run_all(args.only or [*RUNS, *BENCHMARKS], args.data_dir, Path(args.out))
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
