"""Build the website and read its pages in headless Chromium, as a learner would see them.

Used by tests/test_site.py. A page passes when no formula shows its raw delimiters (``$$``,
``\\(``, ``\\[``, an RST ``.. math::``) as text, it renders at least as many formulas as its source
has (the lesson's Markdown, or for an API page the docstrings of the module), KaTeX reported no
parse error, every image loaded, the console logged no error and nothing came from the network.
"""

from __future__ import annotations

import ast
import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

_FENCE = re.compile(r"^(```|~~~).*?^\1[ \t]*$", re.MULTILINE | re.DOTALL)
_CODE_SPAN = re.compile(r"(`+)(?!`).+?(?<!`)\1", re.DOTALL)
_DISPLAY = re.compile(r"\$\$.+?\$\$", re.DOTALL)
_INLINE = re.compile(r"(?<!\\)\$(?:[^$\n]|\n(?![ \t]*\n))+?\$")  # within a paragraph
_RST_MATH = re.compile(r"\.\. math::|:math:`")


def markdown_formula_count(text: str) -> int:
    """Formulas in a Markdown page: ``$$ ... $$`` blocks and ``$...$`` spans outside code."""
    text = _CODE_SPAN.sub("", _FENCE.sub("", text))
    displays = len(_DISPLAY.findall(text))
    return displays + len(_INLINE.findall(_DISPLAY.sub("", text)))


def docstring_formula_count(path: Path) -> int:
    """``.. math::`` blocks and ``:math:`` roles in the docstrings an API page shows: the module's,
    and, unless it is a package, its public functions', classes' and their public methods'."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    docs = [ast.get_docstring(tree, clean=False) or ""]
    if path.name != "__init__.py":
        for node in tree.body:
            if isinstance(node, (ast.FunctionDef, ast.ClassDef)) and not node.name.startswith("_"):
                docs.append(ast.get_docstring(node, clean=False) or "")
                if isinstance(node, ast.ClassDef):
                    docs += [ast.get_docstring(m, clean=False) or "" for m in node.body
                             if isinstance(m, ast.FunctionDef) and not m.name.startswith("_")]
    return sum(len(_RST_MATH.findall(d)) for d in docs)


def expected_formulas(page: str) -> int:
    """Formulas in the source of a built page (its path relative to the site folder)."""
    if page.startswith("api/"):
        module = page.removeprefix("api/").removesuffix(".html")
        path = ROOT.joinpath(*module.split("."))
        path = path / "__init__.py" if path.is_dir() else path.with_suffix(".py")
        return docstring_formula_count(path)
    source = ROOT / "docs" / ("README.md" if page == "index.html" else page.removesuffix(".html") + ".md")
    return markdown_formula_count(source.read_text(encoding="utf-8")) if source.exists() else 0


def build_site(site_dir: Path, docs_dir: Path | None = None, config_dir: Path | None = None) -> float:
    """``mkdocs build --strict`` into ``site_dir`` (from a copy of docs/ when ``docs_dir`` is given);
    returns the seconds it took. Raises AssertionError with mkdocs' output when the build fails."""
    import time

    config = ROOT / "mkdocs.yml"
    if docs_dir is not None:  # the same configuration, pointed at the copy
        text = config.read_text(encoding="utf-8")
        text = re.sub(r"(?m)^docs_dir: .*$", f"docs_dir: {docs_dir}", text)
        text = text.replace("- docs/_site/hooks.py", f"- {ROOT / 'docs/_site/hooks.py'}")
        config = (config_dir or docs_dir.parent) / "mkdocs.yml"
        config.write_text(text, encoding="utf-8")
    start = time.perf_counter()
    run = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "-f", str(config),
                          "--site-dir", str(site_dir)], cwd=ROOT, capture_output=True, text=True,
                         env={**os.environ, "NO_MKDOCS_2_WARNING": "1"})
    assert run.returncode == 0, f"mkdocs build --strict failed:\n{run.stdout}\n{run.stderr}"
    return time.perf_counter() - start


def site_pages(site_dir: Path) -> list[str]:
    """Every page of the built site (paths relative to it), the 404 page aside."""
    return sorted(p.relative_to(site_dir).as_posix() for p in site_dir.rglob("*.html")
                  if p.name != "404.html" and "assets" not in p.relative_to(site_dir).parts)


def chromium():
    """A headless Debian chromium driven through chromium-driver (selenium never downloads one)."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = chromium_binary()
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--window-size=1280,1000", "--allow-file-access-from-files"):
        options.add_argument(arg)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    return webdriver.Chrome(service=Service(executable_path=chromedriver_binary()), options=options)


def chromium_binary() -> str | None:
    import shutil

    return shutil.which("chromium") or shutil.which("chromium-browser")


def chromedriver_binary() -> str | None:
    import shutil

    return shutil.which("chromedriver")


_INSPECT = r"""
const main = document.querySelector("article") || document.body;
const copy = document.body.cloneNode(true);  // the navigation and the tables of contents too
copy.querySelectorAll("pre, code, script, style, .katex, .headerlink").forEach(e => e.remove());
const text = copy.textContent;
const raw = [];
for (const d of ["$$", "\\(", "\\[", ".. math::"]) { if (text.includes(d)) raw.push(d); }
const single = text.match(/\$[^\s$][^$\n]{0,60}\$/);
if (single) raw.push(single[0]);
return {
  raw: raw,
  rendered: main.querySelectorAll(".arithmatex .katex").length,
  marked: main.querySelectorAll(".arithmatex").length,
  errors: Array.from(main.querySelectorAll(".katex-error"))
    .map(e => e.getAttribute("title") || e.textContent),
  broken_images: Array.from(document.images).filter(i => !i.complete || i.naturalWidth === 0).map(i => i.src),
  external: performance.getEntriesByType("resource").map(r => r.name).filter(n => !n.startsWith("file:")),
};
"""


def check_page(driver, site_dir: Path, page: str) -> list[str]:
    """What is wrong with one page as the browser shows it (an empty list: nothing)."""
    driver.get((site_dir / page).as_uri())
    driver.execute_script("return document.readyState")  # get() returns once the load event fired
    seen = driver.execute_script(_INSPECT)
    problems = []
    if seen["raw"]:
        problems.append(f"raw math delimiters shown as text: {seen['raw']}")
    want = expected_formulas(page)
    if seen["rendered"] < want:
        problems.append(f"{seen['rendered']} formulas rendered, its source has {want}")
    if seen["rendered"] < seen["marked"]:
        problems.append(f"{seen['marked'] - seen['rendered']} marked formulas left unrendered")
    if seen["errors"]:
        problems.append(f"KaTeX could not parse: {seen['errors'][:3]}")
    if seen["broken_images"]:
        problems.append(f"images that did not load: {seen['broken_images']}")
    if seen["external"]:
        problems.append(f"fetched from the network: {seen['external'][:3]}")
    logged = [e["message"] for e in driver.get_log("browser") if e["level"] == "SEVERE"]
    if logged:
        problems.append(f"script errors: {logged[:3]}")
    return [f"{page}: {p}" for p in problems]
