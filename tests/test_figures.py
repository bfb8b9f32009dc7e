"""The figures the pages quote agree with the committed metrics files (docs/figures.py, docs/metrics/).

Every number a page quotes from an example or a benchmark sits between
``<!-- figures:NAME -->`` and ``<!-- /figures -->``; ``docs/figures.py`` writes it from
``docs/metrics/<run>.json``. These tests fail when a page says something its metrics file does
not (edit the metrics, or the page by hand, and they notice), and prove the machinery can fail.
"""

from __future__ import annotations

import importlib.util
import json
import os
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]
_spec = importlib.util.spec_from_file_location("docs_figures", ROOT / "docs" / "figures.py")
figures = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(figures)
graphs = figures.graphs  # docs/graphs.py, as figures.py imported it


def test_every_marked_figure_agrees_with_its_committed_metrics():
    differ, missing = figures.differences()
    assert not missing, "metrics files missing:\n" + "\n".join(missing)
    assert not differ, ("figures that differ from docs/metrics/ (run `python docs/figures.py`):\n"
                        + "\n".join(differ))


def test_every_registered_figure_is_used_once_and_every_marker_is_registered():
    used = [m.group(1) for page in figures.PAGES
            for m in figures.MARKED.finditer(page.read_text(encoding="utf-8"))]
    unknown = sorted(set(used) - set(figures.FIGURES))
    unused = sorted(set(figures.FIGURES) - set(used))
    assert not unknown, f"markers with no figure in docs/figures.py: {unknown}"
    assert not unused, f"figures no page shows: {unused}"


def test_every_metrics_file_has_a_run_that_makes_it():
    files = {p.stem for p in figures.METRICS.glob("*.json")}
    assert files, "docs/metrics/ holds no metrics file"
    known = set(figures.RUNS) | set(figures.BENCHMARKS)
    assert files <= known, f"metrics files no run makes: {sorted(files - known)}"


def test_a_changed_metric_is_caught(tmp_path):
    """The check can fail: a page read against a metrics file with one number changed differs."""
    name = "denoising-table"
    (run,), render = figures.FIGURES[name]
    metrics = json.loads((figures.METRICS / f"{run}.json").read_text())
    page = f"x <!-- figures:{name} -->{render(metrics)}<!-- /figures --> y"
    assert figures.regenerate(page) == page
    metrics["results"]["gaussian 0.5"]["DAE"]["psnr"] = 99.0
    (tmp_path / f"{run}.json").write_text(json.dumps(metrics))
    assert figures.regenerate(page, tmp_path) != page


def test_a_missing_metrics_file_is_reported_with_the_command_that_makes_it(tmp_path):
    page = "a <!-- figures:denoising-clean -->19 dB<!-- /figures --> b"
    missing: list[str] = []
    assert figures.regenerate(page, tmp_path, missing) == page  # the text is kept as it was
    assert len(missing) == 1 and "denoising.json is missing" in missing[0]
    assert "python examples/denoising.py --data-dir D" in missing[0]
    with pytest.raises(figures.MissingMetrics):
        figures.render("denoising-clean", tmp_path)


def test_a_run_on_fashion_mnist_needs_its_folder(monkeypatch, tmp_path, capsys):
    """``--run`` without ``--fashion-dir`` skips the runs on Fashion-MNIST, naming the option; with it,
    ``{fashion}`` becomes the folder; a missing metrics file's command names it ``F``."""
    ran: list[list[str]] = []
    monkeypatch.setattr(figures.subprocess, "run", lambda cmd, **kwargs: ran.append(cmd[1:]))
    figures.run_all(["feature_learning_fashion", "feature_learning"], "MNIST", tmp_path)
    assert "skipped feature_learning_fashion: it needs --fashion-dir" in capsys.readouterr().out
    assert ran == [["examples/feature_learning.py", "--data-dir", "MNIST", "--out",
                    str(tmp_path / "feature_learning")]]
    ran.clear()
    figures.run_all(["feature_learning_fashion_all"], "MNIST", tmp_path, fashion_dir="FASHION")
    assert ran == [["examples/feature_learning.py", "--data-dir", "FASHION", "--n-train", "all",
                    "--n-test", "all", "--out", str(tmp_path / "feature_learning_fashion_all")]]
    with pytest.raises(figures.MissingMetrics, match="feature_learning.py --data-dir F --out"):
        figures.load_metrics("feature_learning_fashion", tmp_path)


def test_blocks_keep_their_lines_and_inline_figures_stay_inline():
    block = "<!-- figures:denoising-clean -->\nold\n<!-- /figures -->"
    inline = "<!-- figures:denoising-clean -->old<!-- /figures -->"
    assert figures.regenerate(block).startswith("<!-- figures:denoising-clean -->\n")
    assert "\n" not in figures.regenerate(inline)


def test_the_applications_page_counts_the_held_out_digits():
    """Page 13's class sizes are facts of the data (the last 2,000 test images), not of a run."""
    data_dir = os.environ.get("NPAE_DATA_DIR")
    if not data_dir or not Path(data_dir).is_dir():
        pytest.skip("NPAE_DATA_DIR does not name the MNIST folder")
    from npae.datasets import load_mnist
    counts = np.bincount(load_mnist(data_dir, kind="test", download=False)[1][8000:], minlength=10)
    others = np.delete(counts, 5)
    page = (ROOT / "docs" / "13-applications.md").read_text(encoding="utf-8")
    assert f"({others.min()} to {others.max()} images against the {counts[5]} held-out fives)" in page


def _bench_run(load_before: float, load_after: float, ratio: float = 1.234) -> dict:
    """A speed benchmark's JSON as benchmarks/harness.py writes it, with the fields the figures read."""
    return {"measured_at": "2026-12-07 12:00 UTC", "cpu": "Some CPU", "cores": 2, "numpy": "2.4.6",
            "blas": {"library": "openblas", "version": "0.3.31", "architecture": "Haswell", "threads": 2},
            "torch": "2.13.0", "torch_threads": 2, "numpy_threads": 2, "rounds": 11, "steps": 50,
            "env": dict.fromkeys(("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE", "OPENBLAS_NUM_THREADS",
                                  "OMP_NUM_THREADS")),
            "command": "python benchmarks/dense_ae.py --data-dir <MNIST>",
            "load_average": [load_before, load_after], "results": [{"ratio_of_medians": ratio}]}


@pytest.mark.parametrize("loads", [(1.2, 0.3), (0.3, 1.01), (None, 0.1)])
def test_a_speed_figure_measured_on_a_busy_machine_is_not_published(loads):
    """Above 0.5 per core before or after (or at an unknown load) the ratio gives way to the command."""
    text = figures.bench_ratio(_bench_run(*loads))
    assert text.startswith("not published: measured at ") and "on 2 cores" in text
    assert "1.23" not in text
    assert text.endswith("rerun `python benchmarks/dense_ae.py --data-dir <MNIST>` on an idle machine")
    busy = figures.bench_ratio(_bench_run(1.2, 0.3))
    assert busy.startswith("not published: measured at load 1.2 on 2 cores")


def test_a_speed_figure_measured_on_an_idle_machine_is_published():
    assert figures.bench_ratio(_bench_run(0.2, 1.0)) == "1.23x"  # 1.0 on 2 cores: 0.5 per core


def test_the_readme_speed_table_follows_the_load_of_each_run(tmp_path):
    """The whole figure: one idle run shows its ratio, the busy ones say how to measure again."""
    for i, run in enumerate(figures.BENCH_RUNS):
        metrics = _bench_run(0.1, 0.2, ratio=0.5 + i) if i == 1 else _bench_run(3.0, 3.5)
        (tmp_path / f"{run}.json").write_text(json.dumps(metrics))
    text = figures.render("readme-speed", tmp_path)
    assert "| 1.50x |" in text and text.count("not published: measured at load 3.5 on 2 cores") == 11
    assert "0.1 / 0.2" in text and text.count("3 / 3.5") == 11  # the load of each run, once
    assert "Some CPU" in text and "Haswell" in text


def test_each_speed_benchmark_runs_in_its_own_environment(monkeypatch, tmp_path):
    """Default threads and one thread unset the machine's OpenBLAS kernel settings; the third forces the
    Haswell kernel whatever the machine sets."""
    monkeypatch.setenv("OPENBLAS_CORETYPE", "SkylakeX")
    monkeypatch.setenv("OPENBLAS_NUM_THREADS", "2")
    envs: dict[str, dict] = {}
    monkeypatch.setattr(figures.subprocess, "run", lambda cmd, env, **kw: envs.setdefault(cmd[-1], env))
    names = ["bench_vae", "bench_vae_1thread", "bench_vae_workplace"]
    figures.run_all(names, "MNIST", tmp_path)
    default, one, machine = (envs[str(figures.METRICS / f"{name}.json")] for name in names)
    assert "OPENBLAS_CORETYPE" not in default and "OPENBLAS_NUM_THREADS" not in default
    assert "OPENBLAS_CORETYPE" not in one and one["OPENBLAS_NUM_THREADS"] == "1"
    assert machine["OPENBLAS_CORETYPE"] == "Haswell" and "OPENBLAS_NUM_THREADS" not in machine


# ---------------------------------------------------------------------------- the computation graphs
def test_the_graph_has_one_box_per_layer_in_order_with_its_shape():
    """The graph is read from the model: a box per encoder and decoder layer, in order, each with its
    output shape; a deeper model gets more boxes."""
    import npae

    model = npae.Autoencoder((6, 4, 3), activation="tanh", random_state=0)
    g = graphs.model_graph(model)
    layer_boxes = [b for b in g.boxes if b.kind == "layer"]
    assert len(layer_boxes) == len(model.encoder.layers) + len(model.decoder.layers) == 8
    assert [b.op.split("  ")[1] for b in layer_boxes] == [
        "Dense(6, 4)", "Tanh()", "Dense(4, 3)", "Tanh()", "Dense(3, 4)", "Tanh()", "Dense(4, 6)", "Sigmoid()"]
    assert [b.shape for b in layer_boxes] == ["(N, 4)", "(N, 4)", "(N, 3)", "(N, 3)", "(N, 4)", "(N, 4)",
                                              "(N, 6)", "(N, 6)"]
    deeper = graphs.model_graph(npae.Autoencoder((6, 5, 4, 3), activation="tanh", random_state=0))
    assert sum(b.kind == "layer" for b in deeper.boxes) == 12
    # the step's gradient names: dout into the decoder, dh out of it, no gradient into X
    bwd = {(e.src, e.dst): e.bwd for e in g.edges}
    assert bwd[("decoder.3", "loss")] == "dout" and bwd[("encoder.3", "decoder.0")] == "dh"
    assert bwd[("x", "encoder.0")] is None


def test_the_vae_graph_has_its_sampling_node_and_gradient_names():
    import npae

    model = npae.VAE((12, 6), latent_dim=2, random_state=0)
    g = graphs.model_graph(model)
    ops = {b.key: b for b in g.boxes}
    assert "z = mu + exp(0.5 log_var) * eps" in ops["z"].op and ops["z"].shape == "(N, 2)"
    assert "eps ~ N(0, I)" in ops["eps"].op
    bwd = {(e.src, e.dst): e.bwd for e in g.edges}
    assert bwd[("eps", "z")] is None  # nothing flows back into the noise
    assert bwd[("z", "decoder.0")] == "dz" and bwd[("split", "z")] == "dmu, dlog_var"
    assert "dout_enc" in bwd[("encoder.3", "split")]


@pytest.mark.parametrize("name", sorted(graphs.GRAPHS))
def test_every_graph_picture_shows_its_model_and_its_page_shows_it(name):
    """docs/images/graph_<name>.png holds the description of the model as it is now (else
    ``python docs/figures.py --graphs``), and the model's page shows it."""
    page, _ = graphs.GRAPHS[name]
    assert graphs.stale_graphs([name]) == []
    assert f"](images/graph_{name}.png)" in (figures.DOCS / page).read_text(encoding="utf-8")


def test_a_changed_model_makes_its_picture_stale(tmp_path, monkeypatch):
    """The check can fail: a picture drawn from one model does not pass for another."""
    import npae

    monkeypatch.setattr(graphs, "IMAGES", tmp_path)
    monkeypatch.setattr(graphs, "GRAPHS", {"small": ("01-dense-and-activations.md",
                                                      lambda: npae.Autoencoder((6, 3), random_state=0))})
    assert graphs.stale_graphs() and "missing" in graphs.stale_graphs()[0]
    graphs.draw_graphs()
    assert graphs.stale_graphs() == []
    monkeypatch.setattr(graphs, "GRAPHS", {"small": ("01-dense-and-activations.md",
                                                      lambda: npae.Autoencoder((6, 4), random_state=0))})
    assert "no longer shows its model" in graphs.stale_graphs()[0]
