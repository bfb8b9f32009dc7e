"""docs/14-extending.md runs as written: its layer, its pytest template, its model and its saved file.

The page's ``python`` blocks are taken in order. A block whose first line is ``# name.py`` is
written to that file in a fresh folder (the guide's ``my_layers.py`` and ``test_my_layers.py``);
the test template is run by pytest in a subprocess, as a reader would run it; every other block
is executed in one namespace with that folder as the working directory and on ``sys.path``.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from npae.gradcheck import check_layer

ROOT = Path(__file__).resolve().parents[1]
GUIDE = ROOT / "docs" / "14-extending.md"
BLOCK = re.compile(r"^```python\n(.*?)^```", re.S | re.M)
FILE_HEADER = re.compile(r"^# (\w+\.py)\n")


def python_blocks(markdown: str) -> list[str]:
    """The bodies of the ```python fences, in order (other fences, e.g. ```diff, are skipped)."""
    return BLOCK.findall(markdown)


@pytest.fixture
def guide_folder(tmp_path, monkeypatch):
    """An empty working folder on ``sys.path``; the guide's modules are forgotten afterwards."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.syspath_prepend(str(tmp_path))
    yield tmp_path
    sys.modules.pop("my_layers", None)


def test_python_blocks_finds_fences_in_order():
    text = "a\n```python\nx = 1\n```\n```diff\n+y\n```\n```python\n# f.py\nz = 2\n```\n"
    assert python_blocks(text) == ["x = 1\n", "# f.py\nz = 2\n"]


def test_the_guide_runs(guide_folder, capsys):
    blocks = python_blocks(GUIDE.read_text(encoding="utf-8"))
    files = [FILE_HEADER.match(b).group(1) for b in blocks if FILE_HEADER.match(b)]
    assert files == ["my_layers.py", "test_my_layers.py"]
    namespace: dict = {"__name__": "guide"}
    for block in blocks:
        header = FILE_HEADER.match(block)
        if header is None:
            exec(compile(block, str(GUIDE), "exec"), namespace)
            continue
        (guide_folder / header.group(1)).write_text(block, encoding="utf-8")
        if header.group(1).startswith("test_"):
            run = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                                  header.group(1)], cwd=guide_folder, capture_output=True, text=True)
            assert run.returncode == 0, run.stdout + run.stderr
            assert "6 passed" in run.stdout, run.stdout
    # what the snippets claim
    assert (guide_folder / "scaled.npz").is_file() and (guide_folder / "normed.npz").is_file()
    out = capsys.readouterr().out
    assert "(2, 4)" in out
    assert "440 16\n" in out and "['encoder.1.running_mean', 'encoder.1.running_var']" in out
    from npae import load

    assert load(guide_folder / "scaled.npz").get_params()["scale_init"] == 0.5
    assert type(namespace["model"]).__name__ == "NormedAutoencoder" and namespace["lc"].loss == "log_cosh"


def test_a_scale_that_forgets_s_passes_at_s_1_and_fails_once_s_is_random(guide_folder):
    """The guide's claim: a Scale whose dx forgets s passes at s = 1 and fails once s is random."""
    blocks = python_blocks(GUIDE.read_text(encoding="utf-8"))
    block = next(b for b in blocks if b.startswith("# my_layers.py"))
    (guide_folder / "my_layers.py").write_text(block, encoding="utf-8")
    from my_layers import Scale

    class ScaleForgetsS(Scale):
        def backward(self, dy):
            super().backward(dy)
            return dy  # the bug: dy * s

    rng = np.random.default_rng(0)
    x = rng.standard_normal((4, 5))
    layer = ScaleForgetsS(5, dtype=np.float64)
    assert check_layer(layer, x, rng=1)["x"] < 1e-7
    layer.params["s"][:] = rng.uniform(0.5, 2.0, 5)
    assert check_layer(layer, x, rng=1)["x"] > 1e-3


def test_the_tour_links_the_guide():
    assert "(14-extending.md)" in (ROOT / "docs" / "README.md").read_text(encoding="utf-8")


def test_the_guide_imports_public_names_only_and_documents_import():
    text = GUIDE.read_text(encoding="utf-8")
    assert "npae._validation" not in "".join(python_blocks(text))
    assert "--import MODULE" in text and "--import" in (ROOT / "README.md").read_text(encoding="utf-8")
