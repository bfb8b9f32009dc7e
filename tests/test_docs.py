"""The derivation pages exist wherever the code and the tour point to them, and name code that exists.

Docstrings link their derivation as ``docs/NN-name.md``; ``docs/README.md`` (the guided tour)
links every page. Those tests read the sources with ``ast`` (nothing is imported) and fail with
the list of dangling links. The pages say what the code does by naming it in backticks
(`Dense.backward`, `npae.latent.interpolate`, `BaseAutoencoder._output`); the last tests import
npae and check that every such name still exists, so a renamed or removed function cannot stay
in the prose.
"""

from __future__ import annotations

import ast
import importlib
import inspect
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


# ---------------------------------------------------------------------------- the names the pages use
#: A backticked span that starts with a dotted name: `Dense.backward`, `npae.noise.corrupt(x, ...)`.
CODE_SPAN = re.compile(r"`([A-Za-z_]\w*(?:\.[A-Za-z_]\w*)*)(?:[(\[][^`]*)?`")  # the name, then any call
#: Spans that are file names, not code: `metrics.json`, `image.py`.
FILE_SUFFIXES = {"py", "json", "md", "png", "npz", "txt", "gz", "cfg", "toml"}
FENCE = re.compile(r"^```.*?^```", re.S | re.M)
#: Where a name the pages use without its module is looked up, in order.
NAMESPACES = ("npae", "npae.layers", "npae.models", "npae.penalties", "npae.metrics", "npae.losses",
              "npae.optim", "npae.training", "npae.noise", "npae.latent", "npae.io", "npae.gradcheck",
              "npae.pca", "npae.datasets", "npae.schedules", "npae.watermark", "npae.layers.activations",
              "npae.penalties.contractive", "npae.models.autoencoder", "npae.models.base",
              "npae.models.denoising", "npae.models.contractive", "npae.models.vae")


def resolve(name: str):
    """The object a dotted name designates: ``Dense.backward``, ``npae.losses.mse``, ``corrupt.math``.

    A name starting with ``npae`` is imported (the longest importable module prefix, then
    attributes); any other is looked up by its first part in :data:`NAMESPACES`. Raises
    ``AttributeError`` when a part does not exist, ``LookupError`` when npae does not define the
    first part at all.
    """
    parts = name.split(".")
    if parts[0] == "npae":
        for i in range(len(parts), 0, -1):
            try:
                obj = importlib.import_module(".".join(parts[:i]))
            except ImportError:
                continue
            rest = parts[i:]
            break
    else:
        home = next((m for m in NAMESPACES if _defines(importlib.import_module(m), parts[0])), None)
        if home is None:
            raise LookupError(f"npae defines no {parts[0]!r}")
        obj, rest = importlib.import_module(home), parts
    for part in rest:
        if isinstance(obj, type) and not hasattr(obj, part) and _sets_attribute(obj, part):
            return obj  # an attribute every instance gets in __init__ (self.initial_lr = ...)
        obj = getattr(obj, part)
    return obj


def _defines(module, name: str) -> bool:
    """``module`` has ``name`` and it is npae's own (not ``np`` or ``math`` imported there)."""
    obj = getattr(module, name, None)
    if obj is None:
        return False
    if inspect.ismodule(obj):
        return obj.__name__.startswith("npae")
    return getattr(obj, "__module__", "npae").startswith("npae")


def _sets_attribute(cls: type, name: str) -> bool:
    """Whether a method of ``cls`` or of its npae bases assigns ``self.<name>``."""
    pattern = re.compile(rf"self\.{re.escape(name)}\b[^=\n]*=[^=]")
    return any(pattern.search(inspect.getsource(c)) for c in cls.__mro__ if c.__module__.startswith("npae"))


def code_names(markdown: str) -> list[str]:
    """The dotted names that start a backticked span, outside fenced blocks."""
    text = FENCE.sub("", markdown)
    return CODE_SPAN.findall(text)


def names_to_check(markdown: str) -> list[str]:
    """The names a page says the code has: dotted names whose first part npae defines (or is
    ``npae``), and private names (``_output``), which are always npae's own."""
    out = []
    for name in code_names(markdown):
        head = name.split(".")[0]
        if name.rsplit(".", 1)[-1] in FILE_SUFFIXES:
            continue
        if name.startswith("_") or head == "npae":
            out.append(name)
        elif "." in name:
            try:
                resolve(head)
            except LookupError:
                continue  # np.where, model.fit, torch.optim.Adam: not a name of npae
            out.append(name)
    return out


def _source_words() -> set[str]:
    words: set[str] = set()
    for path in PACKAGE.rglob("*.py"):
        words.update(re.findall(r"\b_\w+", path.read_text(encoding="utf-8")))
    return words


def test_code_names_skips_fences_and_reads_calls():
    text = ("`Dense.backward(dy)` and `npae.latent.interpolate` and `x + 1` and `_output`\n"
            "```python\n`A.b`\n```\n")
    assert code_names(text) == ["Dense.backward", "npae.latent.interpolate", "_output"]


def test_names_to_check_keeps_npae_names_only():
    text = "`np.where(x > 0, dy, 0)`, `model.fit`, `Dense.forward`, `corrupt.math`, `_prepare`, `npae.io`"
    assert names_to_check(text) == ["Dense.forward", "corrupt.math", "_prepare", "npae.io"]


def test_a_stale_name_is_caught():
    """The check can fail: the names the redesign removed do not resolve."""
    with pytest.raises(AttributeError):
        resolve("BaseAutoencoder._decoder_loss")
    with pytest.raises(AttributeError):
        resolve("npae.models.VAE.interpolate")
    assert "_encoder_input" not in _source_words()


@pytest.mark.parametrize("page", _markdown_files(), ids=lambda p: p.relative_to(ROOT).as_posix())
def test_the_code_a_page_names_exists(page: Path):
    words = _source_words()
    missing = []
    for name in names_to_check(page.read_text(encoding="utf-8")):
        if "." not in name:
            if name not in words:
                missing.append(name)
            continue
        try:
            resolve(name)
        except (AttributeError, LookupError) as exc:
            missing.append(f"{name} ({exc})")
    assert not missing, f"{page.relative_to(ROOT)} names code that does not exist: {missing}"


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
