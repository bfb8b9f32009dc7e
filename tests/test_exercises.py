"""The exercises: every skeleton starts and reports 'not implemented yet'; npae's own implementation
passes; every wrong implementation of the catalogue fails with its diagnosis; the command line."""

from __future__ import annotations

import json

import numpy as np
import pytest

from npae.cli import main
from npae.exercises import EXERCISES, check_file, get_exercise, substituted
from npae.exercises.grading import diagnose

NAMES = list(EXERCISES)
MISTAKES = [(name, m) for name, ex in EXERCISES.items() for m in ex.mistakes]


def test_at_least_fifteen_exercises_and_twelve_mistakes():
    assert len(EXERCISES) >= 15
    assert len(MISTAKES) >= 12


@pytest.mark.parametrize("name", NAMES)
def test_skeleton_is_not_implemented_yet(name, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert main(["exercise", "start", name]) == 0
    assert (tmp_path / f"{name}.py").read_text() == EXERCISES[name].skeleton
    assert main(["exercise", "check", name]) == 1
    out = capsys.readouterr()
    assert "not implemented yet" in out.out and "Traceback" not in out.out + out.err


@pytest.mark.parametrize("name", NAMES)
def test_npae_own_implementation_passes(name, tmp_path):
    path = tmp_path / f"{name}.py"
    path.write_text(EXERCISES[name].reference)
    report = check_file(EXERCISES[name], path)
    assert report.passed, report.text()


@pytest.mark.parametrize("name, mistake", MISTAKES, ids=[f"{n}-{m.title}" for n, m in MISTAKES])
def test_mistake_is_diagnosed(name, mistake, tmp_path):
    path = tmp_path / f"{name}.py"
    path.write_text(mistake.code)
    report = check_file(EXERCISES[name], path)
    assert not report.passed
    diagnoses = [c.diagnosis for c in report.checks if c.diagnosis] + [report.problem or ""]
    assert any(mistake.diagnosis in d for d in diagnoses), report.text()


def test_start_never_overwrites(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "dense.py").write_text("# mine\n")
    assert main(["exercise", "start", "dense"]) == 1
    assert (tmp_path / "dense.py").read_text() == "# mine\n"
    assert "left as it is" in capsys.readouterr().out


def test_list_json_and_states(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "dense.py").write_text(EXERCISES["dense"].reference)
    assert main(["exercise", "check", "dense"]) == 0
    (tmp_path / "relu_backward.py").write_text(EXERCISES["relu_backward"].skeleton)
    capsys.readouterr()
    assert main(["exercise", "list", "--json"]) == 0
    rows = {row["name"]: row for row in json.loads(capsys.readouterr().out)}
    assert set(rows) == set(EXERCISES) and all(row["lesson"].startswith("docs/") for row in rows.values())
    assert rows["dense"]["state"] == "passed" and rows["relu_backward"]["state"] == "started"
    assert rows["tanh_backward"]["state"] == "not started"
    (tmp_path / "dense.py").write_text(EXERCISES["dense"].reference + "\n# edited\n")
    main(["exercise", "list", "--json"])
    assert json.loads(capsys.readouterr().out)[0]["state"] == "changed since the last check"


def test_learner_errors_are_one_clear_message(tmp_path):
    ex = get_exercise("dense")
    cases = {"def dense_forward(x, W, b:\n": "syntax error",
             "def dense_forward(x, W, b):\n    return x @ W.T + b\n": "defines no function dense_backward",
             ex.skeleton.replace("raise NotImplementedError", "return x.reshape(-1) @ W", 1): "line"}
    for code, phrase in cases.items():
        path = tmp_path / "dense.py"
        path.write_text(code)
        report = check_file(ex, path)
        assert not report.passed and phrase in report.text(), report.text()
        assert "Traceback" not in report.text()


def test_unknown_exercise(capsys):
    assert main(["exercise", "start", "nope"]) == 1
    assert "no exercise called 'nope'" in capsys.readouterr().err


def test_substituted_puts_the_learners_function_in_and_back():
    import npae.layers.dense as dense
    from npae.layers import Dense

    layer = Dense(3, 2, rng=np.random.default_rng(0), dtype=np.float64)
    x = np.ones((1, 3))
    with substituted({("npae.layers.dense", "dense_forward"): lambda x, W, b: np.zeros((len(x), 2))}):
        assert np.all(layer.forward(x) == 0)
    assert dense.dense_forward.__module__ == "npae.layers.dense" and np.any(layer.forward(x) != 0)


def test_diagnose_patterns():
    rng = np.random.default_rng(0)
    e = rng.normal(size=(4, 3))
    assert "transposed" in diagnose(e.T, e, "dW")
    assert "sign is flipped" in diagnose(-e, e, "dW")
    assert "factor 1/5" in diagnose(e / 5, e, "dW", factors={0.2: "a 1/N too many"})
    got = e.copy()
    got[0, 0] = np.inf
    assert "stable form" in diagnose(got, e, "dW")
    assert "stable form" in diagnose(np.array(np.nan), np.array(1.0), "value")
    assert "all zeros" in diagnose(0 * e, e, "dW")
    mask = np.zeros_like(e, dtype=bool)
    mask[1, 2] = True
    got = e.copy()
    got[1, 2] += 1
    assert "except at the tie" in diagnose(got, e, "dW", masks={"at the tie": mask})
    assert "known" == diagnose(e + 1, e, "dW", mistakes={"known": e + 1})


@pytest.mark.parametrize("name", [n for n, ex in EXERCISES.items() if ex.run is not None])
def test_run_trains_with_the_learners_functions(name, tmp_path):
    ex = EXERCISES[name]
    path = tmp_path / f"{name}.py"
    path.write_text(ex.reference)
    from npae.exercises.grading import load_learner_module

    text = ex.run(load_learner_module(path, ex.functions), tmp_path / "out")
    assert "npae" in text and "yours" in text
    rows = [line.split() for line in text.splitlines()
            if line.startswith("  ") and line.split()[-1][0].isdigit()]
    assert rows and all(float(r[-1]) == pytest.approx(float(r[-2]), rel=1e-4) for r in rows), text


def test_docs_page_lists_every_exercise_and_mistake():
    from pathlib import Path

    from npae.exercises.catalogue import render

    page = (Path(__file__).parents[1] / "docs" / "exercises.md").read_text()
    stale = "docs/exercises.md is stale: run python -m npae.exercises.catalogue docs/exercises.md"
    assert page == render(page), stale


def test_check_run_trains_with_the_graded_file(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "dense.py").write_text(EXERCISES["dense"].reference)
    assert main(["exercise", "check", "dense", "--run", "--out", str(tmp_path / "run")]) == 0
    out = capsys.readouterr().out
    assert "All 21 checks pass" in out and "yours" in out
    assert (tmp_path / "run" / "reconstructions.png").exists()
