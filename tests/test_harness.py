"""benchmarks/harness.py records what a benchmark ran on and the command that repeats it (no timing here)."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))
from test_scripts import write_fake_mnist  # noqa: E402

import harness  # noqa: E402  (benchmarks/ is no package: its scripts import harness by name)


def test_a_quick_benchmark_script_writes_the_new_fields(tmp_path, monkeypatch, capsys):
    """dense_ae.py --quick --no-torch on a tiny fake MNIST: its JSON names the script in its command."""
    import dense_ae

    monkeypatch.setenv("OPENBLAS_NUM_THREADS", "1")
    write_fake_mnist(tmp_path)
    path = tmp_path / "bench.json"
    dense_ae.main(["--data-dir", str(tmp_path), "--quick", "--no-torch", "--batch-size", "4",
                   "--n-batches", "2", "--pause", "0", "--json", str(path)])
    m = json.loads(path.read_text())
    assert m["command"] == ("OPENBLAS_NUM_THREADS=1 python benchmarks/dense_ae.py --data-dir <MNIST> --quick "
                            "--no-torch --batch-size 4 --n-batches 2 --pause 0")
    assert {"cpu", "blas", "torch_threads", "env", "load_average", "measured_at"} <= set(m)
    err = capsys.readouterr().err
    assert "to repeat this run: OPENBLAS_NUM_THREADS=1 python benchmarks/dense_ae.py" in err


def test_a_json_run_records_the_machine_the_blas_the_variables_and_the_command(tmp_path, monkeypatch):
    monkeypatch.setenv("OPENBLAS_NUM_THREADS", "1")
    monkeypatch.delenv("OPENBLAS_CORETYPE", raising=False)
    path = tmp_path / "bench.json"
    args = argparse.Namespace(quick=True, pause=0.0, json=str(path))
    harness.run([harness.Workload("nothing", lambda: None, samples=1)], args, verbose=False,
                command="OPENBLAS_NUM_THREADS=1 python benchmarks/dense_ae.py --data-dir <MNIST>")
    m = json.loads(path.read_text())
    assert m["cpu"] and isinstance(m["cpu"], str)
    assert m["cores"] >= 1 and m["numpy"]
    assert m["env"] == {"OPENBLAS_CORETYPE": None, "OPENBLAS_L2_SIZE": m["env"]["OPENBLAS_L2_SIZE"],
                        "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": m["env"]["OMP_NUM_THREADS"]}
    assert set(m["env"]) == set(harness.RECORDED_VARS)
    assert m["command"] == "OPENBLAS_NUM_THREADS=1 python benchmarks/dense_ae.py --data-dir <MNIST>"
    assert len(m["load_average"]) == 2 and m["measured_at"].endswith("UTC")
    assert "torch_threads" in m and "torch" in m
    pytest.importorskip("threadpoolctl")
    assert set(m["blas"]) == {"library", "version", "architecture", "threads"}
    assert m["blas"]["threads"] == 1  # OPENBLAS_NUM_THREADS=1, read back from the library


def test_without_threadpoolctl_the_blas_is_recorded_as_none(monkeypatch):
    monkeypatch.setitem(sys.modules, "threadpoolctl", None)  # import threadpoolctl now fails
    assert harness.blas_info() is None
    assert harness.environment()["blas"] is None
    assert "BLAS: unknown" in harness.describe(harness.environment())


def test_the_command_drops_the_json_names_the_data_folder_and_prefixes_the_variables_set():
    env = {"OPENBLAS_CORETYPE": "Haswell", "OPENBLAS_L2_SIZE": None, "OPENBLAS_NUM_THREADS": "1",
           "OMP_NUM_THREADS": None}
    argv = ["--data-dir", "/some/mnist", "--json", "x.json", "--quick"]
    assert harness.reproduce_command("conv_ae.py", argv, env) == (
        "OPENBLAS_CORETYPE=Haswell OPENBLAS_NUM_THREADS=1 python benchmarks/conv_ae.py "
        "--data-dir <MNIST> --quick")
    cmd = harness.reproduce_command("vae.py", ["--json=x.json", "--rounds", "3"], dict.fromkeys(env))
    assert cmd == "python benchmarks/vae.py --data-dir <MNIST> --rounds 3"


def test_a_script_may_choose_its_own_default_rounds_and_steps():
    parser = harness.add_arguments(argparse.ArgumentParser(), rounds=9, steps=20, warmup=5)
    assert harness._settings(parser.parse_args([])) == (9, 20, 5)
    assert harness._settings(parser.parse_args(["--quick"])) == (3, 5, 2)
    assert harness._settings(harness.add_arguments(argparse.ArgumentParser()).parse_args([])) == (11, 50, 10)
