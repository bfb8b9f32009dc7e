"""MkDocs hooks that turn docs/ into the lessons' website; the Markdown pages stay the only source.

What they add to a plain MkDocs build:

- KaTeX (the JavaScript, its stylesheet and its fonts) fetched once from the npm registry into
  ``.site-vendor/`` and copied into the built site, so the math renders with no network at reading time;
- one API page per public module of npae (``api/<module>.md``, made at build time, never stored),
  listed in the navigation after the lessons;
- a page listing docs/metrics/, which the tour links as a folder;
- links that leave docs/: a module of npae links to its API page, an example, a test or a
  benchmark to a page that shows its source;
- each lesson's "Exercises" section: ``npae exercise start NAME`` links to NAME's row of the
  exercises page, and each row of that page's table gets the anchor ``exercise-NAME``.
"""

from __future__ import annotations

import json
import pkgutil
import posixpath
import re
import shutil
import subprocess
from pathlib import Path

from mkdocs.exceptions import PluginError
from mkdocs.structure.files import File, Files

ROOT = Path(__file__).resolve().parents[2]  # the repository: docs/_site/hooks.py -> ../..
# from the npm registry: KaTeX renders the math; Material's offline plugin loads the search worker
# through iframe-worker's shim (which it would otherwise fetch from a CDN when the page is opened)
NPM_PACKAGES = {"katex": "0.16.47", "iframe-worker": "1.0.4"}
VENDOR = ROOT / ".site-vendor"
_SHIM_CDN = "https://unpkg.com/iframe-worker/shim"
SOURCE_DIRS = ("examples", "tests", "benchmarks")  # shown as source pages when a lesson links them
_LINK_OUT = re.compile(r"\]\(\.\./([^)#\s]+)(#[^)\s]*)?\)")  # ](../path#anchor) from a page in docs/
_EXERCISE = re.compile(r"`npae exercise start (\w+)`")
_ROW = re.compile(r"^\| `(\w+)` \|", re.MULTILINE)  # a row of the exercises page's table


def public_modules() -> list[str]:
    """Every module of npae whose dotted name has no part starting with ``_``, sorted."""
    import npae  # the installed package (pip install -e .), the one the docstrings come from

    names = ["npae"] + [m.name for m in pkgutil.walk_packages(npae.__path__, "npae.")]
    return sorted(n for n in names if not any(part.startswith("_") for part in n.split(".")))


def api_page(module: str) -> str:
    """The site path of a module's API page."""
    return f"api/{module}.md"


def api_markdown(module: str, modules: list[str]) -> str:
    """A module's API page: its docstrings; a package's page: its docstring and its modules."""
    children = [m for m in modules if m.rpartition(".")[0] == module]
    if not children:
        return f"# `{module}`\n\n::: {module}\n"
    links = "\n".join(f"- [`{m}`]({m}.md)" for m in children)
    return (f"# `{module}`\n\n::: {module}\n    options:\n      members: false\n\n"
            f"## Modules\n\n{links}\n")


def npm_packages() -> Path:
    """``node_modules`` with NPM_PACKAGES' versions, installed from the npm registry on the first build."""
    modules = VENDOR / "node_modules"
    stale = [f"{name}@{version}" for name, version in NPM_PACKAGES.items()
             if not (modules / name / "package.json").exists()
             or json.loads((modules / name / "package.json").read_text())["version"] != version]
    if stale:
        npm = shutil.which("npm")
        if npm is None:
            raise PluginError("the site needs KaTeX from the npm registry: install Node.js's npm "
                              "(apt-get install npm), then build again")
        VENDOR.mkdir(exist_ok=True)
        subprocess.run([npm, "install", "--no-save", "--no-package-lock", "--no-audit", "--no-fund",
                        "--prefix", str(VENDOR), *stale], check=True)
    return modules


def on_config(config):
    npm_packages()
    api = [{m: api_page(m)} for m in public_modules()]
    config["nav"].append({"API reference": api})
    return config


def on_files(files: Files, config) -> Files:
    modules = public_modules()
    for module in modules:
        files.append(File.generated(config, api_page(module), content=api_markdown(module, modules)))
    listing = ["# The metrics files", "", "Each example's `metrics.json`, the figures the lessons quote.", ""]
    listing += [f"- [`{p.name}`]({p.name})" for p in sorted((ROOT / "docs" / "metrics").glob("*.json"))]
    files.append(File.generated(config, "metrics/index.md", content="\n".join(listing) + "\n"))
    for folder in SOURCE_DIRS:
        for path in sorted((ROOT / folder).rglob("*.py")):
            rel = path.relative_to(ROOT).as_posix()
            text = path.read_text(encoding="utf-8")
            files.append(File.generated(config, f"source/{rel}.md",
                                        content=f"---\nsearch:\n  exclude: true\n---\n\n# `{rel}`\n\n"
                                                f"````python\n{text}\n````\n"))
    return files


def _link_target(path: str) -> str | None:
    """The site page for a repository path a lesson links with ``../path``, or None."""
    target = ROOT / path
    if path.startswith("npae/"):
        module = path.removesuffix(".py").removesuffix("/").removesuffix("/__init__").replace("/", ".")
        if target.exists() and module in public_modules():
            return api_page(module)
        return None
    if path.endswith(".py") and path.split("/")[0] in SOURCE_DIRS and target.is_file():
        return f"source/{path}.md"
    if path.rstrip("/") in SOURCE_DIRS and target.is_dir():
        first = sorted(p for p in target.glob("*.py") if not p.name.startswith("_"))
        return f"source/{first[0].relative_to(ROOT).as_posix()}.md" if first else None
    return None


def on_page_markdown(markdown: str, page, config, files) -> str:
    here = posixpath.dirname(page.file.src_uri)

    def relink(match: re.Match) -> str:
        if here:  # only the pages in docs/ itself link the repository with ../
            return match.group(0)
        target = _link_target(match.group(1))
        return match.group(0) if target is None else f"]({target}{match.group(2) or ''})"

    markdown = _LINK_OUT.sub(relink, markdown).replace("](metrics/)", "](metrics/index.md)")
    markdown = "".join(part if _FENCE.match(part) else _DISPLAY.sub(_display_in_place, part)
                       for part in _FENCE_SPLIT.split(markdown))
    if page.file.src_uri == "exercises.md":  # each row of the list of exercises becomes a link target
        head, sep, rest = markdown.partition(_LIST_START)
        table, end, tail = rest.partition(_LIST_END)
        return head + sep + _ROW.sub(r'| <span id="exercise-\1"></span>`\1` |', table) + end + tail
    if re.fullmatch(r"\d\d-.*\.md", page.file.src_uri):
        head, sep, tail = markdown.partition("\n## Exercises\n")
        known = exercise_names()

        def link(match: re.Match) -> str:
            name = match.group(1)
            return f"[{match.group(0)}](exercises.md#exercise-{name})" if name in known else match.group(0)

        markdown = head + sep + _EXERCISE.sub(link, tail)
    return markdown


_FENCE_SPLIT = re.compile(r"(^[ \t]*```.*?^[ \t]*```[ \t]*$)", re.MULTILINE | re.DOTALL)
_FENCE = re.compile(r"[ \t]*```")
_DISPLAY = re.compile(r"(?P<before>^|\n[ \t]*\n|\n)(?P<indent>[ \t]*)\$\$(?P<body>.+?)\$\$(?P<after>[^\n]*)",
                      re.DOTALL)


def _display_in_place(match: re.Match) -> str:
    """A ``$$ ... $$`` formula that is not a block of its own (no blank line around it, indented
    in a list item, text on its lines) becomes ``$\\displaystyle ...$``: arithmatex marks it as an
    inline formula, which katex-init.js renders as a display one. A block of its own stays as is."""
    alone = (match["before"] != "\n" and not match["indent"] and not match["after"].strip()
             and match["body"].startswith("\n") and match["body"].endswith("\n"))
    if alone:
        return match.group(0)
    body = match["body"].strip()
    return f"{match['before']}{match['indent']}$\\displaystyle {body}${match['after']}"


_LIST_START, _LIST_END = "<!-- exercises:list -->", "<!-- /exercises -->"


def exercise_names() -> set[str]:
    """The exercises in the list of docs/exercises.md (its table between the exercises:list markers)."""
    text = (ROOT / "docs" / "exercises.md").read_text(encoding="utf-8")
    return set(_ROW.findall(text.partition(_LIST_START)[2].partition(_LIST_END)[0]))


def on_post_build(config) -> None:
    modules = npm_packages()
    dest = Path(config["site_dir"]) / "assets" / "katex"
    dest.mkdir(parents=True, exist_ok=True)
    for name in ("katex.min.js", "katex.min.css"):
        shutil.copy2(modules / "katex" / "dist" / name, dest / name)
    shutil.copytree(modules / "katex" / "dist" / "fonts", dest / "fonts", dirs_exist_ok=True)
    shutil.copy2(Path(__file__).with_name("katex-init.js"), dest / "katex-init.js")
    shutil.copy2(modules / "iframe-worker" / "shim" / "index.js", dest.parent / "iframe-worker-shim.js")


def on_post_page(output: str, page, config) -> str:
    depth = page.file.dest_uri.count("/")
    return output.replace(_SHIM_CDN, "../" * depth + "assets/iframe-worker-shim.js")
