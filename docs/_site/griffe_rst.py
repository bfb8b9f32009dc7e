"""A griffe extension: npae's docstrings are numpydoc with reStructuredText math and roles; the
site renders Markdown. Before mkdocstrings renders a docstring this rewrites

- ``.. math:: EXPR`` and an indented ``.. math::`` block into a ``$$ ... $$`` display formula,
- ``:math:`EXPR``` into an inline ``$EXPR$``,
- ``:func:`name```, ``:class:`~a.b.C``` and the other cross-reference roles into code spans,
- a lesson named as ````docs/NN-name.md```` into a link to that lesson's page,

so pymdownx.arithmatex marks the formulas for KaTeX, as it does in the lessons.
"""

from __future__ import annotations

import re

from griffe import Extension

_ROLE = re.compile(r":(?:py:)?(?:func|class|meth|mod|attr|data|obj|exc):`~?([^`]+)`")
_INLINE_MATH = re.compile(r":math:`([^`]+)`")
_LESSON = re.compile(r"``docs/((?:\d\d-[\w-]+|exercises|benchmarks|README)\.md)``")
_MATH = re.compile(r"^(?P<indent>[ \t]*)\.\. math::[ \t]*(?P<first>.*)$")


def rst_to_markdown(text: str) -> str:
    """The docstring ``text`` with its math directives and roles in Markdown."""
    lines = text.splitlines()
    out: list[str] = []
    i = 0
    while i < len(lines):
        match = _MATH.match(lines[i])
        if match is None:
            out.append(lines[i])
            i += 1
            continue
        indent = match["indent"]
        body = [match["first"].strip()] if match["first"].strip() else []
        i += 1
        while i < len(lines) and (not lines[i].strip() or
                                   len(lines[i]) - len(lines[i].lstrip()) > len(indent)):
            body.append(lines[i].strip())
            i += 1
        while body and not body[-1]:
            body.pop()
        if out and out[-1].strip():
            out.append("")
        out += [indent + "$$"] + [indent + line for line in body if line] + [indent + "$$", ""]
    text = "\n".join(out)
    text = _INLINE_MATH.sub(lambda m: f"${m[1]}$", text)
    text = _LESSON.sub(lambda m: f"[`docs/{m[1]}`](../{m[1]})", text)  # API pages live in api/
    return _ROLE.sub(lambda m: f"`{m[1]}`", text)


class RstMath(Extension):
    """Rewrites each docstring once, when griffe loads its object."""

    def on_instance(self, *, obj, **kwargs) -> None:
        if obj.docstring is not None:
            obj.docstring.value = rst_to_markdown(obj.docstring.value)
