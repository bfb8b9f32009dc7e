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

import numpy as np
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
                importlib.import_module(".".join(parts[:i]))  # load the submodules the name passes
            except ImportError:
                continue
            break
        # then walk attribute by attribute, as ``npae.a.b`` in the reader's code would: a function
        # that shadows its submodule (``npae.penalties.contractive``) hides the submodule's names
        obj, rest = importlib.import_module("npae"), parts[1:]
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


def test_a_name_that_attribute_access_cannot_reach_is_caught():
    """``npae.penalties.contractive`` is the function, which shadows its submodule: the submodule's
    ``is_one_layer`` exists but ``npae.penalties.contractive.is_one_layer`` does not reach it."""
    with pytest.raises(AttributeError):
        resolve("npae.penalties.contractive.is_one_layer")
    assert callable(resolve("npae.penalties.contractive"))
    assert resolve("npae.layers.Dense.backward") is not None


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


# ---------------------------------------------------------------------------- the pages render as written
# A line-based reading of CommonMark, enough for what these pages use: fenced blocks (``` or ~~~,
# possibly indented inside a list item), inline code spans, inline links and images, ATX headings,
# and GitHub's math ($...$ inline, $$...$$ display). Standard library only.

#: An opening or closing fence: indentation, three or more backticks or tildes, then the rest.
FENCE_LINE = re.compile(r"^(?P<indent>\s*)(?P<fence>`{3,}|~{3,})(?P<rest>.*)$")
#: An inline link or image outside code: ``[text](target)`` or ``![alt](target "title")``.
INLINE_LINK = re.compile(r"(!?)\[((?:[^\[\]]|\[[^\[\]]*\])*)\]\(\s*<?([^)\s>]*)>?(?:\s+\"[^\"]*\")?\s*\)")
#: An ATX heading: ``## Title``.
HEADING = re.compile(r"^ {0,3}(#{1,6})\s+(.*?)\s*#*\s*$")
#: Words about how the project is run, which a lesson for learners has no use for.
PROCESS_WORDS = {
    "an issue number": re.compile(r"\bissues?[ -]?#?\d+|\bissues? \d+ and \d+", re.I),
    "the lead": re.compile(r"\bthe lead\b", re.I),
    "a house rule": re.compile(r"\bhouse[ -]rules?\b", re.I),
    "a branch name": re.compile(r"\b(?:on|the|textbook|original) branch\b|\bbranch [`'\"]|\boriginal main\b",
                                re.I),
    "the project's shared folder": re.compile(r"\.\./shared\b|\bshared/|shared folder", re.I),
    "the people running the project": re.compile(r"\bsessions?\b|\bother engineers\b|\breviewers?\b", re.I),
}
#: Times of day and machine loads are kept beside a measurement: these pages report measurements.
MEASUREMENT_PAGES = {"benchmarks.md", "README.md"}
MEASUREMENT_WORDS = re.compile(r"\b\d{1,2}:\d{2}\s*UTC\b|\bload average\b", re.I)


def fenced_lines(markdown: str) -> tuple[list[bool], list[str]]:
    """Which lines are inside a fenced block (the fences included), and the fence errors.

    A fence opens with three or more backticks (no backtick in its info string) or tildes; it
    closes at a line of the same character, at least as long, with nothing else on the line.
    A line that starts like the closing fence but carries text after it does not close the block
    (so GitHub shows the rest of the page as code): that is reported, as is a fence never closed.
    """
    inside: list[bool] = []
    errors: list[str] = []
    open_fence = None  # (character, length, line number)
    for number, line in enumerate(markdown.splitlines(), 1):
        m = FENCE_LINE.match(line)
        if open_fence is None:
            if m and not (m["fence"][0] == "`" and "`" in m["rest"]):
                open_fence = (m["fence"][0], len(m["fence"]), number)
                inside.append(True)
            else:
                inside.append(False)
            continue
        inside.append(True)
        char, length, _ = open_fence
        if m and m["fence"][0] == char and len(m["fence"]) >= length:
            if m["rest"].strip():
                errors.append(f"line {number}: text after a closing fence: {line.strip()[:60]!r}")
            else:
                open_fence = None
    if open_fence is not None:
        errors.append(f"line {open_fence[2]}: a fence that is never closed")
    return inside, errors


def _paragraphs(markdown: str) -> list[tuple[int, str]]:
    """``(first line, text)`` of each blank-line separated block outside fences."""
    inside, _ = fenced_lines(markdown)
    blocks: list[tuple[int, str]] = []
    current: list[str] = []
    start = 0
    for number, (line, fenced) in enumerate(zip(markdown.splitlines(), inside, strict=True), 1):
        if fenced or not line.strip():
            if current:
                blocks.append((start, "\n".join(current)))
            current = []
            continue
        if not current:
            start = number
        current.append(line)
    if current:
        blocks.append((start, "\n".join(current)))
    return blocks


def strip_code_spans(text: str) -> str:
    """The text with every inline code span (a run of backticks to the same run) blanked out."""
    out, i = [], 0
    while i < len(text):
        if text[i] == "\\" and i + 1 < len(text):
            out.append(text[i:i + 2])
            i += 2
            continue
        if text[i] == "`":
            run = len(text[i:]) - len(text[i:].lstrip("`"))
            close = re.compile(rf"(?<!`)`{{{run}}}(?!`)").search(text, i + run)
            if close:
                out.append(" ")
                i = close.end()
                continue
            out.append(text[i:i + run])
            i += run
            continue
        out.append(text[i])
        i += 1
    return "".join(out)


def _prose(markdown: str) -> list[tuple[int, str]]:
    """The paragraphs outside fences, with code spans and HTML comments blanked."""
    return [(n, strip_code_spans(re.sub(r"<!--.*?-->", " ", p, flags=re.S)))
            for n, p in _paragraphs(markdown)]


def math_errors(markdown: str) -> list[str]:
    """Unbalanced ``$$`` pairs (over the page) and ``$`` pairs (in each paragraph), code excluded."""
    errors = []
    prose = _prose(markdown)
    text = "\n\n".join(p for _, p in prose).replace("\\$", "")
    if text.count("$$") % 2:
        errors.append(f"an odd number of $$ ({text.count('$$')})")
        return errors
    for number, paragraph in prose:
        inline = re.sub(r"\$\$.*?\$\$", " ", paragraph.replace("\\$", ""), flags=re.S)
        if "$$" in paragraph.replace("\\$", "") and paragraph.count("$$") % 2:
            continue  # a display block that spans paragraphs; the page-level count judged it
        if inline.count("$") % 2:
            errors.append(f"line {number}: an odd number of inline $ in {paragraph.strip()[:60]!r}")
    return errors


def github_anchor(heading: str) -> str:
    """The anchor GitHub gives a heading: its text (links, code and emphasis markup removed),
    lower-cased, every character but letters, digits, ``_``, ``-`` and spaces dropped, spaces
    turned into hyphens."""
    text = re.sub(r"!?\[([^\]]*)\]\([^)]*\)", r"\1", heading)  # [text](url) -> text
    text = re.sub(r"<[^>]+>", "", text).lower()
    return re.sub(r"[^\w\- ]", "", text).replace(" ", "-")


def anchors(markdown: str) -> set[str]:
    """Every heading anchor of a page, with GitHub's ``-1``, ``-2`` suffixes for repeats."""
    inside, _ = fenced_lines(markdown)
    seen: dict[str, int] = {}
    out = set()
    for line, fenced in zip(markdown.splitlines(), inside, strict=True):
        m = None if fenced else HEADING.match(line)
        if not m:
            continue
        slug = github_anchor(m[2])
        out.add(slug if slug not in seen else f"{slug}-{seen[slug]}")
        seen[slug] = seen.get(slug, 0) + 1
    return out


def link_errors(markdown: str, page: Path) -> list[str]:
    """Images and relative links that do not resolve: the file, and a ``#anchor`` into a page."""
    errors = []
    own = anchors(markdown)
    for number, paragraph in _prose(markdown):
        for bang, _, target in INLINE_LINK.findall(paragraph):
            if not target or re.match(r"^[a-z][a-z0-9+.-]*:", target, re.I):
                continue  # http:, https:, mailto:
            path, _, anchor = target.partition("#")
            if not path:
                if anchor not in own:
                    errors.append(f"near line {number}: {target}: the page has no heading #{anchor}")
                continue
            file = page.parent / path
            if not file.exists():
                errors.append(f"near line {number}: {'image' if bang else 'link'} {target} does not exist")
            elif anchor and file.suffix == ".md" and anchor not in anchors(file.read_text(encoding="utf-8")):
                errors.append(f"near line {number}: {target}: {file.name} has no heading #{anchor}")
    return errors


def missing_named_pages(markdown: str, page: Path) -> list[str]:
    """Markdown files a page names in its prose (``DESIGN.md``, ``docs/01-x.md``) that the repository
    does not have, looked up beside the page, from the repository root, and by name anywhere."""
    names = {p.name for p in ROOT.rglob("*.md") if ".venv" not in p.parts}
    errors = []
    for number, paragraph in _prose(markdown):
        text = INLINE_LINK.sub(lambda m: m.group(2), paragraph)  # link targets are checked as links
        for name in re.findall(r"(?<![\w/.-])((?:[\w-]+/)*[\w-]+\.md)\b", text):
            if not ((page.parent / name).exists() or (ROOT / name).exists() or Path(name).name in names):
                errors.append(f"near line {number}: names {name}, which the repository does not have")
    return errors


def process_words(markdown: str, page_name: str) -> list[str]:
    """Words about how the project is run; times of day and loads outside the measurement pages."""
    found = []
    for number, line in enumerate(markdown.splitlines(), 1):
        for what, pattern in PROCESS_WORDS.items():
            for m in pattern.finditer(line):
                found.append(f"line {number}: {what}: {m.group(0)!r}")
        if page_name not in MEASUREMENT_PAGES:
            for m in MEASUREMENT_WORDS.finditer(line):
                found.append(f"line {number}: a time or load outside a measurement page: {m.group(0)!r}")
    return found


def render_problems(markdown: str, page: Path) -> list[str]:
    """Everything that would make a page render differently from what it says."""
    _, fences = fenced_lines(markdown)
    return (fences + math_errors(markdown) + link_errors(markdown, page) + missing_named_pages(markdown, page)
            + process_words(markdown, page.name))


def test_the_render_checker_catches_a_broken_page(tmp_path):
    """The checker itself: each defect on a small page is found, and the sound page passes."""
    (tmp_path / "images").mkdir()
    (tmp_path / "images" / "a.png").write_bytes(b"")
    (tmp_path / "02-b.md").write_text("# Title\n\n## The `x` step: (a) and $b$\n", encoding="utf-8")
    good = ("# A page\n\nSome $x^2$ and `a $ b` and $$y$$.\n\n$$\nz = 1\n$$\n\n"
            "```python\nx = '$'\n```\n\n  ~~~\n  ```\n  ~~~\n\n"
            "![pic](images/a.png) [next](02-b.md#the-x-step-a-and-b) [top](#a-page) [web](https://x.org/y)\n"
            "As 02-b.md and README.md say.\n")
    page = tmp_path / "01-a.md"
    assert render_problems(good, page) == []
    broken = {
        "text after a closing fence": "```python\nx = 1\n``` The first term\n\nmore\n",
        "never closed": "text\n\n```python\nx = 1\n",
        "an odd number of $$": "$$\nx\n\ntext\n",
        "inline $": "the cost $x^2 and more\n",
        "image images/b.png does not exist": "![pic](images/b.png)\n",
        "link 03-c.md does not exist": "[c](03-c.md)\n",
        "02-b.md has no heading #the-step": "[b](02-b.md#the-step)\n",
        "the page has no heading #nowhere": "# A page\n\n[here](#nowhere)\n",
        "an issue number": "as issue 14 found\n",
        "the lead": "The lead will re-measure it.\n",
        "a house rule": "(house rule 4)\n",
        "a branch name": "measured on branch `issue-16`\n",
        "the project's shared folder": "run `python ../shared/tools/x.py`\n",
        "the people running the project": "while the other engineers' jobs ran\n",
        "a time or load outside a measurement page": "measured at 09:30 UTC, load average 0.5\n",
        "names DESIGN.md, which the repository does not have": "close to DESIGN.md's reference\n",
    }
    for expected, text in broken.items():
        problems = render_problems(text, page)
        assert any(expected in p for p in problems), (expected, problems)
    # the measurement pages may say when and under what load they measured
    assert render_problems("measured at 09:30 UTC, load average 0.5\n", tmp_path / "benchmarks.md") == []


@pytest.mark.parametrize("page", _markdown_files(), ids=lambda p: p.relative_to(ROOT).as_posix())
def test_the_page_renders_as_written(page: Path):
    problems = render_problems(page.read_text(encoding="utf-8"), page)
    assert not problems, f"{page.relative_to(ROOT)}:\n" + "\n".join(problems)


def _about(x: float) -> str:
    """``3e-05`` as the pages write it: ``$3 \\cdot 10^{-5}$``."""
    mantissa, exponent = f"{x:.0e}".split("e")
    return f"${mantissa} \\cdot 10^{{{int(exponent)}}}$"


def test_the_losses_page_states_the_float32_summation_errors_it_measures():
    """docs/02: summing 1e7 float32 terms is off by ~3e-8 with NumPy's pairwise sum, ~3e-5 as a BLAS
    dot product, ~2e-2 one by one (a page once gave the dot's error as the sum's)."""
    d = np.random.default_rng(0).standard_normal(10**7).astype(np.float32)
    sq = np.square(d)
    exact = float(np.sum(sq, dtype=np.float64))
    pairwise = abs(float(np.sum(sq)) - exact) / exact
    dot = abs(float(d @ d) - exact) / exact
    one_by_one = abs(float(np.cumsum(sq)[-1]) - exact) / exact
    page = " ".join((DOCS / "02-losses.md").read_text(encoding="utf-8").split())
    said = re.search(r"pairwise `np.sum` are off by (\$[^$]+\$), relative, but by (\$[^$]+\$) as a BLAS "
                     r"dot product `diff @ diff` and by (\$[^$]+\$) added one by one", page)
    assert said, "docs/02 no longer states the three float32 summation errors"
    assert said[1] == _about(pairwise) and said[3] == _about(one_by_one)
    mantissa, exponent = re.fullmatch(r"\$(\d) \\cdot 10\^\{(-?\d+)\}\$", said[2]).groups()
    stated_dot = int(mantissa) * 10.0 ** int(exponent)
    assert stated_dot / 10 < dot < stated_dot * 10  # the BLAS kernel's blocking varies between libraries
    assert pairwise < 1e-6 < dot


def _section(page: str, start: str, end: str) -> str:
    text = (DOCS / page).read_text(encoding="utf-8")
    i = text.index(start)
    return " ".join(text[i:text.index(end, i)].split())


def test_the_he_derivation_says_why_it_switches_to_the_second_moment():
    """docs/01: the Glorot sum uses Var(x) of mean-0 inputs; He's uses E[x^2], because a ReLU's output
    is not zero-mean. The page says so, and the numbers it gives for a Gaussian hold."""
    he = _section("01-dense-and-activations.md", "**He / Kaiming**", "$$W \\sim")
    assert "not zero-mean" in he and "second moment $\\mathbb E[x^2]$" in he
    assert he.index("second moment") < he.index("\\mathbb E[\\mathrm{relu}(z)^2]")
    z = np.random.default_rng(0).standard_normal(10**6)
    relu = np.maximum(z, 0)
    assert abs(np.mean(relu**2) - 0.5) < 5e-3                        # E[relu(z)^2] = Var(z) / 2
    assert abs(np.var(relu) - (0.5 - 1 / (2 * np.pi))) < 5e-3        # its variance is smaller
    assert "$(\\tfrac12 - \\tfrac1{2\\pi})\\mathrm{Var}(z)$" in he


def test_the_vae_page_lists_as_many_tested_properties_as_it_announces():
    """docs/09 section 7: the bullets state the properties of the bound; the sentence that introduces
    the tests counts them."""
    section = (DOCS / "09-vae.md").read_text(encoding="utf-8")
    section = section[section.index("## 7."):section.index("## 8.")]
    properties = re.findall(r"^\* \*\*", section, re.M)
    words = {2: "two", 3: "three", 4: "four", 5: "five"}
    assert re.search(rf"The tests check all {words[len(properties)]} properties", section), len(properties)


def _dense_products(model, X) -> int:
    """How many matrix products ``Dense.forward`` and ``Dense.backward`` run in one training step."""
    from npae.layers import Dense
    count = [0]
    forward, backward = Dense.forward, Dense.backward

    def counted_forward(self, x):
        count[0] += 1  # x @ W.T
        return forward(self, x)

    def counted_backward(self, dy, input_grad=True):
        count[0] += 1 + bool(input_grad)  # dy.T @ x, and dy @ W unless skipped
        return backward(self, dy, input_grad)

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(Dense, "forward", counted_forward)
        mp.setattr(Dense, "backward", counted_backward)
        model.loss_and_grads(X)
    return count[0]


def test_the_benchmarks_page_counts_the_matrix_products_of_a_step():
    """docs/benchmarks.md: the dense AE's and the VAE's steps (the benchmarks' networks) each run
    eleven products in their Dense layers: four forward, four dW, three dx (the first layer's is
    skipped)."""
    import npae
    X = np.random.default_rng(0).random((8, 784)).astype(np.float32)
    dense = npae.Autoencoder((784, 256, 32), activation="relu", output_activation="sigmoid", loss="mse",
                             random_state=0)
    vae = npae.VAE(sizes=(784, 400), latent_dim=20, activation="relu", likelihood="bernoulli", random_state=0)
    assert _dense_products(dense, X) == 11
    assert _dense_products(vae, X) == 11
    page = " ".join((DOCS / "benchmarks.md").read_text(encoding="utf-8").split())
    assert "eight matrix products" not in page
    assert page.count("eleven matrix products of `Dense.forward`") == 2


# ---------------------------------------------------------------------------- the README's claims
EXAMPLES = ROOT / "examples"
README = ROOT / "README.md"


def test_the_readme_names_the_examples_that_count_updates():
    """``--n-train all`` multiplies the training time by 7.5 only for an example that trains a fixed
    number of epochs; the README names the ones that count updates (``epochs_for``) instead."""
    counts_updates = sorted(p.stem for p in EXAMPLES.glob("*.py") if "epochs_for(" in p.read_text())
    text = " ".join(README.read_text(encoding="utf-8").split())
    said = re.search(r"7\.5 times the training time for the examples that train a fixed number of epochs, "
                     r"while (.*?) keep their number of updates", text)
    assert said, "the README no longer says which examples keep their number of updates"
    names = {"conv AE": "conv_ae", "watermark removal": "watermark_removal",
             "feature learning": "feature_learning", "the notes' network": "notes_network"}
    listed = sorted(names.get(n, n) for n in re.split(r", | and ", said[1]))
    assert listed == counts_updates


def test_the_readme_puts_the_elbo_where_it_is():
    import npae.metrics
    lines = README.read_text(encoding="utf-8").splitlines()
    row = next(line for line in lines if line.startswith("| metrics |"))
    assert not any("elbo" in name.lower() for name in dir(npae.metrics))
    assert "`VAE.elbo`" in row and not re.search(r", ELBO,", row)


def test_the_tour_lists_every_picture_an_example_saves():
    """docs/README.md's table of pictures names every file an example saves under a fixed name."""
    tour = (DOCS / "README.md").read_text(encoding="utf-8")
    missing = []
    for script in sorted(EXAMPLES.glob("*.py")):
        row = next((line for line in tour.splitlines() if line.startswith(f"| [`{script.name}`]")), None)
        assert row is not None, f"docs/README.md has no row for {script.name}"
        for picture in sorted(set(re.findall(r"[\"']([\w-]+\.png)[\"']", script.read_text()))):
            if f"`{picture}`" not in row:
                missing.append(f"{script.name}: {picture}")
    assert not missing, "pictures the tour does not list:\n" + "\n".join(missing)


def test_the_inpainting_docstring_says_what_its_runs_measured():
    """The random-mask DAE does not beat the mean image on the larger holes (docs/metrics/
    inpainting_random_holes.json); the example's docstring must not say it does."""
    doc = " ".join(ast.get_docstring(ast.parse((EXAMPLES / "inpainting.py").read_text())).split())
    assert "beats the mean image on blocks" not in doc
    assert "loses to the mean image on the larger square holes" in doc
    metrics = DOCS / "metrics" / "inpainting_random_holes.json"
    results = __import__("json").loads(metrics.read_text())["results"]
    assert results["block 16x16"]["DAE"]["mse_missing"] > results["block 16x16"]["mean image"]["mse_missing"]
    assert results["block 12x12"]["DAE"]["mse_missing"] > results["block 12x12"]["mean image"]["mse_missing"]


def test_every_mnist_run_metrics_file_says_its_data_as_the_code_does_now():
    """The ``data`` entry of a committed metrics file is the sentence ``npae.datasets.mnist_split``
    writes today (the data set as the MD5s identify it, the folder, which images of how many), not an
    older wording: a file that still has an older one was made by older code."""
    import importlib.util
    spec = importlib.util.spec_from_file_location("docs_figures", DOCS / "figures.py")
    figures = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(figures)
    current = re.compile(r"^(?:(?:MNIST|Fashion-MNIST) \(identified by the files' MD5s\)|unidentified "
                         r"MNIST-format data \(MD5s not those of the MNIST or Fashion-MNIST files npae "
                         r"knows\))"
                         r" in \S+(?:, test set only)?: training on (?:all|the first) [\d,]+ ")
    stale = []
    for name, command in figures.RUNS.items():
        path = figures.METRICS / f"{name}.json"
        if "--data-dir" not in command or not path.is_file():
            continue
        data = __import__("json").loads(path.read_text())["data"]
        if not current.match(data):
            stale.append(f"{name}: {data!r}")
    assert not stale, ("metrics files whose data string the current code no longer writes:\n"
                       + "\n".join(stale))


def test_the_sparsity_page_keeps_j_for_the_objective():
    """docs/03: $J$ is UFLDL's objective; the hidden width is $K$ (a page that used J for both made
    ``J(W, b)`` and ``H in (0, 1)^{N x J}`` read as the same thing)."""
    page = (DOCS / "03-sparsity.md").read_text(encoding="utf-8")
    assert "J(W, b)" in page
    width_as_j = re.findall(r"\(N, J\)|\(J, D\)|\(J,\)|\^\{J\}|N \\times J|length \$J\$|the \$J\$ means",
                            page)
    assert not width_as_j, width_as_j
    assert "$K$ hidden units" in page


def test_the_readme_quotes_the_example_times_it_lists():
    """The README's claim about how long the examples take covers the CPU times it lists."""
    text = " ".join(README.read_text(encoding="utf-8").split())
    assert "defaults that finish in seconds to about two minutes of CPU time" in text
    listed = re.search(r"of one BLAS thread \(.*?\): (.*?)\. ", text)[1]
    seconds = [int(n) for n in re.findall(r" (\d+)(?:,|$)", listed + ",")]
    assert len(seconds) >= 10 and max(seconds) <= 150 and min(seconds) >= 1, seconds
