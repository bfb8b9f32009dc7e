"""The exercises and the mistakes catalogue as Markdown tables, for ``docs/exercises.md``.

``python -m npae.exercises.catalogue docs/exercises.md`` rewrites the page's two generated blocks
(between ``<!-- exercises:list -->`` and ``<!-- exercises:catalogue -->`` markers and their ends);
a test checks that the page is up to date. "What the checker says" is the diagnosis the grader
really gives for each wrong implementation, obtained by grading it.
"""

from __future__ import annotations

import re
import sys
import tempfile
from pathlib import Path

from . import EXERCISES
from .grading import check_file


def _cell(text: str) -> str:
    return " ".join(text.split()).replace("|", "\\|")


def _link(lesson: str) -> str:
    """A lesson (page#anchor under docs/) as a Markdown link relative to the docs folder."""
    page, _, anchor = lesson.partition("#")
    target = page.removeprefix("docs/") + (f"#{anchor}" if anchor else "")
    return f"[{page.removeprefix('docs/').removesuffix('.md')}]({target})"


def exercise_table() -> str:
    rows = ["| exercise | lesson | what you write | `--run` |", "| --- | --- | --- | --- |"]
    for ex in EXERCISES.values():
        rows.append(f"| `{ex.name}` | {_link(ex.lesson)} | {_cell(ex.summary)} | {'yes' if ex.run else ''} |")
    return "\n".join(rows)


def diagnosis_of(exercise, mistake) -> str:
    """The first diagnosis the grader gives for ``mistake`` (the one that names its cause)."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / f"{exercise.name}.py"
        path.write_text(mistake.code)
        report = check_file(exercise, path)
    said = [c.diagnosis for c in report.checks if c.diagnosis] + ([report.problem] if report.problem else [])
    return next((d for d in said if mistake.diagnosis in d), said[0] if said else "")


def catalogue_table() -> str:
    rows = ["| exercise | the mistake | where it is seen | what the checker says | why it is wrong |",
            "| --- | --- | --- | --- | --- |"]
    for ex in EXERCISES.values():
        for m in ex.mistakes:
            cells = (m.title, m.seen, diagnosis_of(ex, m), m.why)
            rows.append(f"| `{ex.name}` | " + " | ".join(_cell(c) for c in cells) + " |")
    return "\n".join(rows)


BLOCKS = {"list": exercise_table, "catalogue": catalogue_table}


def render(page: str) -> str:
    """``page`` with each generated block replaced by its current text."""
    for name, make in BLOCKS.items():
        pattern = re.compile(rf"(<!-- exercises:{name} -->\n)(?:.*?\n)??(<!-- /exercises -->)", re.S)
        if not pattern.search(page):
            raise ValueError(f"the page has no <!-- exercises:{name} --> ... <!-- /exercises --> block")
        page = pattern.sub(lambda m, make=make: m.group(1) + make() + "\n" + m.group(2), page)
    return page


if __name__ == "__main__":  # pragma: no cover - a maintenance command
    target = Path(sys.argv[1] if len(sys.argv) > 1 else "docs/exercises.md")
    target.write_text(render(target.read_text()))
    print(f"wrote {target}")
