"""Every ```python block of docs/ and the README runs, or is checked against the code it quotes.

A page's blocks run in order in one namespace (a later block may use what an earlier one
built), in a fresh folder that holds a small fake MNIST test set under ``path/to/mnist`` and a
small ``train-images-idx3-ubyte``, so a snippet that loads data gets 100 images, not 10,000.
A block may be preceded by one marker comment, which says how the test treats it:

- ``<!-- excerpt: Dense.backward -->``: the block quotes the code of that function (a name
  ``npae`` exports, a ``Class.method`` of it, or a dotted ``npae.module.name``); every code line of
  the block, comments and indentation aside, must appear in that order in the function's source.
- ``<!-- small-data: A => B; C => D -->``: the block runs with the text ``A`` replaced by ``B``
  (and ``C`` by ``D``); every ``A`` must occur in the block, so the replacements cannot go stale.
- ``<!-- no-run: reason -->``: the block is not run (a reason is required).

A ```text block marked ``<!-- output -->`` right after a ```python block is what that block must
print, line for line (trailing spaces aside): the worked examples' numbers come from npae's code
and cannot drift from it.

``docs/14-extending.md`` is run by ``tests/test_extending.py``, which writes its files to disk.
"""

from __future__ import annotations

import importlib
import inspect
import itertools
import re
from pathlib import Path

import numpy as np
import pytest
from test_docs import resolve

import npae.models.denoising

from idx_files import write_mnist

ROOT = Path(__file__).resolve().parents[1]
#: Pages whose blocks another test runs.
RUN_ELSEWHERE = {"docs/14-extending.md": "tests/test_extending.py"}

BLOCK = re.compile(r"^```python\n(.*?)^```", re.S | re.M)
MARKER = re.compile(r"<!--\s*(excerpt|small-data|no-run):\s*((?:(?!-->).)*?)\s*-->\s*\n\s*\Z", re.S)
OUTPUT = re.compile(r"\s*<!--\s*output\s*-->\s*\n```text\n(.*?)^```", re.S | re.M)


def pages() -> list[Path]:
    return sorted((ROOT / "docs").glob("*.md")) + [ROOT / "README.md"]


def blocks(markdown: str) -> list[tuple[int, str, str | None, str]]:
    """``(line, code, marker kind or None, marker argument)`` for every ```python block, in order."""
    found = []
    for match in BLOCK.finditer(markdown):
        before = markdown[:match.start()]
        marker = MARKER.search(before[-400:])
        kind, arg = (marker.group(1), marker.group(2)) if marker else (None, "")
        found.append((before.count("\n") + 2, match.group(1), kind, arg))
    return found


def expected_outputs(markdown: str) -> dict[int, str]:
    """``{line of a python block: the text it must print}`` from the ```text blocks marked
    ``<!-- output -->`` right after it; a marker anywhere else is an error."""
    found = {}
    for match in BLOCK.finditer(markdown):
        output = OUTPUT.match(markdown, match.end())
        if output:
            found[markdown[:match.start()].count("\n") + 2] = output.group(1)
    assert len(found) == len(re.findall(r"<!--\s*output\s*-->", markdown)), \
        "an <!-- output --> marker must come right after a ```python block, before a ```text block"
    return found


def printed_differently(printed: str, expected: str) -> list[str]:
    """The lines where ``printed`` and ``expected`` differ (trailing spaces aside), as ``page | printed``."""
    a = [line.rstrip() for line in printed.rstrip("\n").splitlines()]
    b = [line.rstrip() for line in expected.rstrip("\n").splitlines()]
    diff = [f"{y!r} | {x!r}" for x, y in itertools.zip_longest(a, b, fillvalue="")
            if x != y]
    return diff


def code_lines(text: str) -> list[str]:
    """The code of each line, without comments, indentation or blank lines."""
    out = []
    for line in text.splitlines():
        code = re.sub(r"\s+#.*$|^\s*#.*$", "", line).strip()
        if code:
            out.append(re.sub(r"\s+", " ", code))
    return out


def missing_excerpt_lines(snippet: str, source: str) -> list[str]:
    """The snippet's code lines not found, in order, among the source's code lines."""
    src = code_lines(source)
    missing, at = [], 0
    for line in code_lines(snippet):
        try:
            at = src.index(line, at) + 1
        except ValueError:
            missing.append(line)
    return missing


def apply_small_data(code: str, spec: str) -> str:
    for pair in filter(None, (p.strip() for p in spec.split(";"))):
        old, sep, new = (s.strip() for s in pair.partition("=>"))
        assert sep and old in code, f"small-data: {old!r} does not occur in the block"
        code = code.replace(old, new)
    return code


@pytest.fixture
def data_folder(tmp_path, monkeypatch):
    """A working folder with a 100-image fake MNIST test set and a 64-image training file."""
    rng = np.random.default_rng(0)
    mnist = tmp_path / "path" / "to" / "mnist"
    mnist.mkdir(parents=True)
    write_mnist(mnist, "t10k", rng.integers(0, 256, (100, 28, 28)), rng.integers(0, 10, 100))
    write_mnist(tmp_path, "train", rng.integers(0, 256, (64, 28, 28)), rng.integers(0, 10, 64), gz=False)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("MPLBACKEND", "Agg")
    return tmp_path


# ---------------------------------------------------------------------------- the helpers themselves
def test_blocks_reads_markers_and_lines():
    text = ("intro\n```python\nx = 1\n```\n<!-- no-run: needs the full set -->\n```python\ny = 2\n```\n"
            "<!-- excerpt: Dense.backward -->\n\n```python\nreturn dy @ W\n```\n```bash\nls\n```\n")
    assert blocks(text) == [(3, "x = 1\n", None, ""), (7, "y = 2\n", "no-run", "needs the full set"),
                            (12, "return dy @ W\n", "excerpt", "Dense.backward")]


def test_an_excerpt_that_differs_from_the_code_is_caught():
    source = "def f(x):\n    y = x * 2  # double\n    return y + 1\n"
    assert missing_excerpt_lines("y = x * 2   # twice\nreturn y + 1\n", source) == []
    assert missing_excerpt_lines("return y + 1\ny = x * 2\n", source) == ["y = x * 2"]  # order matters
    assert missing_excerpt_lines("y = x * 3\n", source) == ["y = x * 3"]


def test_small_data_replacements_must_occur():
    assert apply_small_data("fit(X[:8000], epochs=10)", "X[:8000] => X[:80]; epochs=10 => epochs=1") \
        == "fit(X[:80], epochs=1)"
    with pytest.raises(AssertionError, match="does not occur"):
        apply_small_data("fit(X)", "X[:8000] => X[:80]")


def test_an_output_block_is_read_and_a_different_print_is_caught():
    text = "```python\nprint(1)\n```\n\n<!-- output -->\n```text\n1\n```\n```python\nx = 2\n```\n"
    assert expected_outputs(text) == {2: "1\n"}
    assert printed_differently("1  \n", "1\n") == []
    assert printed_differently("0.1185\n", "0.1186\n") == ["'0.1186' | '0.1185'"]
    assert printed_differently("1\n2\n", "1\n") == ["'' | '2'"]
    with pytest.raises(AssertionError, match="output"):
        expected_outputs("text\n<!-- output -->\n```text\n1\n```\n")


def test_resolve_finds_npae_names_and_refuses_others():
    from npae.layers import Dense
    assert resolve("Dense.backward") is Dense.backward
    assert resolve("npae.losses.mse") is importlib.import_module("npae.losses").mse
    with pytest.raises(AttributeError):
        resolve("BaseAutoencoder._decoder_loss")
    mixin = npae.models.denoising.DenoisingMixin
    assert resolve("DenoisingMixin._forward_backward") is mixin._forward_backward


# ---------------------------------------------------------------------------- the pages
ALL_BLOCKS = [(page, b) for page in pages() for b in blocks(page.read_text(encoding="utf-8"))]


def test_there_are_snippets_and_few_are_skipped():
    kinds = [b[2] for _, b in ALL_BLOCKS]
    assert len(kinds) >= 15
    assert kinds.count("no-run") <= 3, "no-run is for snippets that need real data or long runs"
    for page, (line, _, kind, arg) in ALL_BLOCKS:
        if kind == "no-run":
            assert len(arg) > 10, f"{page.name}:{line}: no-run needs a reason"


@pytest.mark.parametrize("page", pages(), ids=lambda p: p.relative_to(ROOT).as_posix())
def test_the_snippets_of_the_page_run(page: Path, data_folder, capsys):
    rel = page.relative_to(ROOT).as_posix()
    if rel in RUN_ELSEWHERE:
        pytest.skip(f"run by {RUN_ELSEWHERE[rel]}")
    namespace: dict = {"__name__": "snippet"}
    ran = 0
    markdown = page.read_text(encoding="utf-8")
    outputs = expected_outputs(markdown)
    for line, code, kind, arg in blocks(markdown):
        where = f"{rel}:{line}"
        if kind == "no-run":
            continue
        if kind == "excerpt":
            source = inspect.getsource(resolve(arg))
            missing = missing_excerpt_lines(code, source)
            assert not missing, f"{where}: the excerpt of {arg} has lines its code does not: {missing}"
            continue
        if kind == "small-data":
            code = apply_small_data(code, arg)
        capsys.readouterr()
        try:
            exec(compile(code, where, "exec"), namespace)
        except Exception as exc:
            raise AssertionError(f"{where}: the snippet fails: {type(exc).__name__}: {exc}") from exc
        if line in outputs:
            diff = printed_differently(capsys.readouterr().out, outputs[line])
            assert not diff, f"{where}: the page's output block differs from what the code prints: {diff}"
        ran += 1
    capsys.readouterr()
    if ran == 0:
        pytest.skip("no runnable snippet")
