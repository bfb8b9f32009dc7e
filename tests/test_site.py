"""The lessons' website as a reader sees it: built with ``mkdocs build --strict``, every page read in
headless Chromium (tests/site_check.py says what a page must show). Run with ``python -m pytest -m site``
after ``pip install -e ".[docs]"`` and ``apt-get install chromium chromium-driver``; without them the
tests skip and say which is missing. Screenshots for a person to look at: ``npae-out/site-test/``."""

from __future__ import annotations

import importlib.util
import os
import re
import shutil
import time

import pytest
from site_check import (
    ROOT,
    build_site,
    check_page,
    chromedriver_binary,
    chromium,
    chromium_binary,
    docstring_formula_count,
    expected_formulas,
    markdown_formula_count,
    site_pages,
)

pytestmark = pytest.mark.site
SHOTS = ROOT / "npae-out" / "site-test"

_missing = [name for name in ("mkdocs", "material", "mkdocstrings_handlers.python", "selenium")
            if importlib.util.find_spec(name.split(".")[0]) is None]
if chromium_binary() is None or chromedriver_binary() is None:
    _missing.append("Debian's chromium and chromium-driver (apt-get install chromium chromium-driver)")
if shutil.which("npm") is None and not (ROOT / ".site-vendor" / "node_modules" / "katex").exists():
    _missing.append("npm, which fetches KaTeX on the first build")
if _missing and os.environ.get("NPAE_REQUIRE_SITE"):  # CI installs all of it: a skip would hide a gap
    raise RuntimeError(f"NPAE_REQUIRE_SITE is set but the website test misses: {', '.join(_missing)}")
needs_browser = pytest.mark.skipif(bool(_missing), reason="the website test needs the docs extra "
                                   f"(pip install -e \".[docs]\") and more; missing: {', '.join(_missing)}")


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    site = tmp_path_factory.mktemp("site") / "site"
    seconds = build_site(site)
    print(f"mkdocs build --strict: {seconds:.1f} s")
    return site


@pytest.fixture(scope="module")
def browser():
    driver = chromium()
    yield driver
    driver.quit()


def test_markdown_formula_count_skips_code_and_counts_both_kinds():
    text = ("Inline $x^2$ and $\\mu$, a price-like `$HOME` in code.\n\n$$\na = b\n$$\n\n"
            "```bash\necho $$ $PATH\n```\n$y$")
    assert markdown_formula_count(text) == 4


def test_docstring_formula_count_reads_the_shown_docstrings():
    assert docstring_formula_count(ROOT / "npae" / "layers" / "dense.py") >= 4  # Dense: forward, backward
    assert expected_formulas("api/npae.layers.dense.html") == docstring_formula_count(
        ROOT / "npae" / "layers" / "dense.py")
    assert expected_formulas("09-vae.html") > 40


@needs_browser
def test_every_page_renders_its_math_images_and_no_errors(built, browser):
    pages = site_pages(built)
    assert {"index.html", "09-vae.html", "exercises.html", "api/npae.layers.dense.html"} <= set(pages)
    start = time.perf_counter()
    problems = [p for page in pages for p in check_page(browser, built, page)]
    print(f"{len(pages)} pages read in {time.perf_counter() - start:.1f} s")
    assert not problems, "\n".join(problems)


@needs_browser
def test_screenshots_of_the_vae_lesson_and_the_dense_api(built, browser):
    SHOTS.mkdir(parents=True, exist_ok=True)
    browser.get((built / "09-vae.html").as_uri())
    browser.save_screenshot(str(SHOTS / "vae-lesson.png"))
    browser.execute_script("document.getElementById('5-the-reparameterisation-trick-and-its-gradient')"
                           ".scrollIntoView()")
    browser.save_screenshot(str(SHOTS / "vae-reparameterisation.png"))
    shown = browser.execute_script("const img = document.querySelector('article img');"
                                   "img.scrollIntoView(); return img.naturalWidth;")
    browser.save_screenshot(str(SHOTS / "vae-figure.png"))
    assert shown > 0  # the lesson's figure (samples from the prior) is drawn
    browser.get((built / "api" / "npae.layers.dense.html").as_uri())
    browser.execute_script("document.getElementById('npae.layers.dense.Dense').scrollIntoView()")
    browser.save_screenshot(str(SHOTS / "dense-api.png"))
    rendered = browser.execute_script(
        "return document.getElementById('npae.layers.dense.Dense').parentElement"
        ".querySelectorAll('.arithmatex .katex').length")
    assert rendered >= 2  # Dense's forward and backward equations
    for name in ("vae-lesson.png", "vae-reparameterisation.png", "vae-figure.png", "dense-api.png"):
        assert (SHOTS / name).stat().st_size > 10_000


@needs_browser
def test_search_finds_reparameterisation(built, browser):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    browser.get((built / "index.html").as_uri())
    box = browser.find_element(By.CSS_SELECTOR, "input.md-search__input")
    box.click()
    box.send_keys("reparameterisation")
    WebDriverWait(browser, 20).until(
        lambda d: d.find_elements(By.CSS_SELECTOR, ".md-search-result__item"))
    titles = " ".join(e.text for e in browser.find_elements(By.CSS_SELECTOR, ".md-search-result__item"))
    assert "reparameterisation" in titles.lower()


@needs_browser
def test_the_check_fails_on_an_unrendered_formula_or_a_missing_image(tmp_path, browser):
    docs = tmp_path / "docs"
    shutil.copytree(ROOT / "docs", docs, ignore=shutil.ignore_patterns("__pycache__"))
    vae = docs / "09-vae.md"
    text = vae.read_text(encoding="utf-8")
    end = text.rindex("\n$$\n")  # the last display formula loses its closing $$
    vae.write_text(text[:end] + "\n\n" + text[end + 4:], encoding="utf-8")
    losses = docs / "02-losses.md"  # a formula KaTeX cannot parse: an unclosed brace
    text = losses.read_text(encoding="utf-8")
    losses.write_text(re.sub(r"\$([^$\n]+)\$", r"$\\frac{\1$", text, count=1), encoding="utf-8")
    site = tmp_path / "site"
    build_site(site, docs_dir=docs)
    (site / "images" / "graph_vae.png").unlink()  # the VAE lesson's figure, gone from the site
    problems = check_page(browser, site, "09-vae.html")
    assert any("raw math delimiters" in p for p in problems), problems
    assert any("formulas rendered, its source has" in p for p in problems), problems
    assert any("images that did not load" in p and "graph_vae.png" in p for p in problems), problems
    problems = check_page(browser, site, "02-losses.html")
    assert any("KaTeX could not parse" in p for p in problems), problems
    assert check_page(browser, site, "01-dense-and-activations.html") == []  # an intact page passes


def _load(name: str):
    """A module of docs/_site/ (the site's build code; it imports mkdocs and griffe)."""
    pytest.importorskip("mkdocs", reason="the docs extra is not installed")
    pytest.importorskip("griffe", reason="the docs extra is not installed")
    spec = importlib.util.spec_from_file_location(f"site_{name}", ROOT / "docs" / "_site" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_rst_math_and_roles_become_markdown():
    rst = _load("griffe_rst").rst_to_markdown
    text = ("Forward:\n\n.. math:: y = x W^T + b\n\nBackward:\n\n    .. math::\n        dW = dy^T x,\n"
            "        db = \\sum_n dy_n\n\n    Then :math:`dx = dy W` from\n"
            "    :func:`~npae.layers.dense_backward`. Derivation: ``docs/01-dense-and-activations.md``.")
    assert rst(text) == ("Forward:\n\n$$\ny = x W^T + b\n$$\n\nBackward:\n\n    $$\n    dW = dy^T x,\n"
                         "    db = \\sum_n dy_n\n    $$\n\n    Then $dx = dy W$ from\n"
                         "    `npae.layers.dense_backward`. Derivation: "
                         "[`docs/01-dense-and-activations.md`](../01-dense-and-activations.md).")


def test_display_math_inside_a_list_item_is_kept_as_display_math():
    hooks = _load("hooks")
    block = "Text.\n\n$$\na = b\n$$\n\nMore."
    assert hooks._DISPLAY.sub(hooks._display_in_place, block) == block  # a block of its own: as is
    item = "1. **History.** the mean:\n   $$\\bar T = \\frac1N \\sum_b T_b,$$\n   plus `lr`."
    assert hooks._DISPLAY.sub(hooks._display_in_place, item) == (
        "1. **History.** the mean:\n   $\\displaystyle \\bar T = \\frac1N \\sum_b T_b,$\n   plus `lr`.")
