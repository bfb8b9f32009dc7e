"""The derivation pages exist wherever the code and the tour point to them.

Docstrings link their derivation as ``docs/NN-name.md``; ``docs/README.md`` (the guided tour)
links every page. These tests read the sources with ``ast`` (nothing is imported) and fail with
the list of dangling links.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
PACKAGE = ROOT / "npae"

#: A docstring's reference to a page, e.g. ``docs/01-dense-and-activations.md``.
DOC_REF = re.compile(r"docs/[\w\-./]*?\.md")
#: A markdown link or image target: ``[text](target)`` / ``![alt](target)``.
MD_LINK = re.compile(r"\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")

#: The fixed page names of the tour (common brief); the tour must link every one.
PAGES = [
    "01-dense-and-activations.md", "02-losses.md", "03-sparsity.md", "04-optimisers.md",
    "05-gradient-checking.md", "06-denoising.md", "07-contractive.md", "08-metrics.md", "09-vae.md",
    "10-convolutions.md", "11-training-and-saving.md", "12-pca-and-linear-autoencoders.md",
    "13-applications.md", "benchmarks.md",
]


def docstring_refs(source: str, filename: str = "<string>") -> list[tuple[str, int, str]]:
    """``(where, line, "docs/...md")`` for every page reference in the source's docstrings."""
    refs = []
    for node in ast.walk(ast.parse(source, filename)):
        if not isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
            continue
        doc = ast.get_docstring(node, clean=False)
        if not doc:
            continue
        name = getattr(node, "name", "<module>")
        line = getattr(node, "lineno", 1)
        refs.extend((name, line, ref) for ref in DOC_REF.findall(doc))
    return refs


def local_links(markdown: str) -> list[str]:
    """Relative link targets of a markdown text, without ``#anchors``; URLs and anchors skipped."""
    targets = []
    for target in MD_LINK.findall(markdown):
        if re.match(r"^[a-z][a-z0-9+.-]*:", target, re.I) or target.startswith("#"):
            continue  # http:, https:, mailto:, ... or an anchor in the same page
        targets.append(target.split("#", 1)[0])
    return targets


def _package_refs() -> list[tuple[str, str]]:
    refs = []
    for path in sorted(PACKAGE.rglob("*.py")):
        rel = path.relative_to(ROOT).as_posix()
        for name, line, ref in docstring_refs(path.read_text(encoding="utf-8"), rel):
            refs.append((f"{rel}:{line} ({name})", ref))
    return refs


def _markdown_files() -> list[Path]:
    files = sorted(DOCS.glob("*.md")) if DOCS.is_dir() else []
    readme = ROOT / "README.md"
    return files + ([readme] if readme.is_file() else [])


# ---------------------------------------------------------------------------- the helpers themselves
def test_docstring_refs_finds_module_class_and_method_docstrings():
    source = '''
"""Module. See ``docs/01-a.md``."""
class A:
    r"""Class, see docs/02-b.md and docs/sub/03-c.md#anchor."""
    def f(self):
        """Method: ``docs/04-d.md``."""
        x = "docs/99-not-a-docstring.md"
        return x
def g():
    pass
'''
    refs = [ref for _, _, ref in docstring_refs(source)]
    assert refs == ["docs/01-a.md", "docs/02-b.md", "docs/sub/03-c.md", "docs/04-d.md"]


def test_local_links_skips_urls_and_anchors():
    text = ("[a](01-a.md) [b](02-b.md#sec) ![img](images/x.png) [web](https://example.org/x.md) "
            "[anchor](#top) [mail](mailto:a@b.c) [t](03-c.md \"title\")")
    assert local_links(text) == ["01-a.md", "02-b.md", "images/x.png", "03-c.md"]


def test_the_package_links_the_core_pages():
    """The scan is not vacuous: the core modules link their derivations."""
    refs = {ref for _, ref in _package_refs()}
    for page in ("01-dense-and-activations.md", "02-losses.md", "04-optimisers.md",
                 "05-gradient-checking.md"):
        assert f"docs/{page}" in refs, f"no docstring in npae/ links docs/{page}"


# ---------------------------------------------------------------------------- the real links
def test_every_docstring_link_points_to_an_existing_page():
    missing = [f"{where}: {ref}" for where, ref in _package_refs() if not (ROOT / ref).is_file()]
    assert not missing, "docstrings link pages that do not exist:\n" + "\n".join(missing)


def test_the_tour_links_every_page_and_every_linked_page_exists():
    tour = DOCS / "README.md"
    assert tour.is_file(), "docs/README.md (the guided tour) is missing"
    targets = local_links(tour.read_text(encoding="utf-8"))
    not_in_tour = [page for page in PAGES if page not in targets]
    assert not not_in_tour, f"docs/README.md does not link: {not_in_tour}"
    missing = sorted({t for t in targets if not (DOCS / t).exists()})
    assert not missing, "docs/README.md links pages that do not exist yet:\n" + "\n".join(missing)


@pytest.mark.parametrize("page", _markdown_files(), ids=lambda p: p.relative_to(ROOT).as_posix())
def test_relative_links_in_markdown_resolve(page: Path):
    targets = local_links(page.read_text(encoding="utf-8"))
    missing = sorted({t for t in targets if not (page.parent / t).exists()})
    assert not missing, f"{page.relative_to(ROOT)} links files that do not exist: {missing}"


def argparse_default(script: Path, option: str):
    """The ``default=`` of ``add_argument(option, ...)`` in a script, read with ``ast`` (not run)."""
    for node in ast.walk(ast.parse(script.read_text(encoding="utf-8"))):
        if (isinstance(node, ast.Call) and getattr(node.func, "attr", "") == "add_argument" and node.args
                and isinstance(node.args[0], ast.Constant) and node.args[0].value == option):
            return next(ast.literal_eval(k.value) for k in node.keywords if k.arg == "default")
    raise AssertionError(f"{script.name} has no option {option}")


def test_the_sparsity_page_quotes_the_examples_batch_size():
    """docs/03 explains why the example's mini-batches are large; the number must be the example's."""
    default = argparse_default(ROOT / "examples" / "sparse_kl.py", "--batch-size")
    page = (DOCS / "03-sparsity.md").read_text(encoding="utf-8")
    assert f"The example uses\nbatches of {default:,} (`--batch-size`)" in page
