"""The lessons end with their exercises: one ``## Exercises`` section per page that has exercises.

Each section is the last one of its page (only the references may follow it), starts with one
paragraph saying how the exercises work, and lists one bullet per exercise,
``- `npae exercise start NAME` — what to write and what the check tests.`` The names are the
exercises of that page's lesson.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"

#: The exercises of each lesson, in the order the page lists them.
LESSON_EXERCISES = {
    "01-dense-and-activations.md": ["dense", "relu_backward", "sigmoid_backward", "tanh_backward"],
    "02-losses.md": ["mse", "bce_with_logits"],
    "03-sparsity.md": ["kl_sparsity", "weight_decay"],
    "04-optimisers.md": ["sgd_momentum", "adam"],
    "06-denoising.md": ["denoising_step"],
    "07-contractive.md": ["contractive_penalty"],
    "09-vae.md": ["reparameterize", "gaussian_kl"],
    "10-convolutions.md": ["conv2d", "conv2d_transpose_backward", "maxpool_backward"],
    "15-feature-learning.md": ["softmax_cross_entropy"],
    "16-stacked-autoencoders.md": ["tied_weights"],
}
#: The exercises whose check can also train the page's example (``--run``).
RUN = {"dense", "kl_sparsity", "reparameterize", "conv2d"}

BULLET = re.compile(r"^- `npae exercise start (\w+)` — (.+?)(?=^- |\Z)", re.S | re.M)


def exercises_section(markdown: str) -> str | None:
    """The text of the page's ``## Exercises`` section (None if it has none)."""
    parts = re.split(r"^## ", markdown, flags=re.M)
    found = [p for p in parts if p.startswith("Exercises\n")]
    assert len(found) <= 1, "more than one Exercises section"
    return found[0] if found else None


def listed(section: str) -> list[str]:
    return [m.group(1) for m in BULLET.finditer(section)]


def test_the_section_reader_finds_names_and_refuses_two_sections():
    text = ("# t\n\n## A\n\ntext\n\n## Exercises\n\nHow.\n\n- `npae exercise start a` — write a.\n"
            "- `npae exercise start b_c` — write b,\n  on two lines.\n\n## References\n\n- x\n")
    assert listed(exercises_section(text)) == ["a", "b_c"]
    assert exercises_section("# t\n\n## A\n") is None
    with pytest.raises(AssertionError, match="more than one"):
        exercises_section(text + "\n## Exercises\n\n- y\n")


@pytest.mark.parametrize("page", sorted(p.name for p in DOCS.glob("[0-9][0-9]-*.md")))
def test_the_page_ends_with_its_exercises(page: str):
    markdown = (DOCS / page).read_text(encoding="utf-8")
    section = exercises_section(markdown)
    if page not in LESSON_EXERCISES:
        assert section is None, f"{page} has an Exercises section but no exercises"
        return
    assert section is not None, f"{page} does not end with its exercises"
    headings = re.findall(r"^## (.+)$", markdown, re.M)
    after = headings[headings.index("Exercises") + 1:]
    assert after in ([], ["References"]), f"{page}: sections after the exercises: {after}"
    how, _, items = section.partition("\n\n- ")
    assert "npae exercise start NAME" in how and "npae exercise check NAME" in how, f"{page}: no how-to line"
    assert listed(section) == LESSON_EXERCISES[page], f"{page} lists {listed(section)}"
    for m in BULLET.finditer(section):
        name, text = m.group(1), " ".join(m.group(2).split())
        assert text.endswith(".") and "check" in text, f"{page}, {name}: what the check tests is missing"
        assert (f"npae exercise check {name} --run" in text) == (name in RUN), \
            f"{page}, {name}: --run is offered exactly for {sorted(RUN)}"


def test_the_tour_says_how_the_exercises_work():
    tour = (DOCS / "README.md").read_text(encoding="utf-8")
    for words in ("npae exercise list", "npae exercise start NAME", "npae exercise check NAME --run",
                  "exercises.md"):
        assert words in tour, f"docs/README.md does not mention {words!r}"


def test_the_pages_list_the_exercises_npae_has():
    """With the exercises installed, each page lists exactly the exercises whose lesson it is."""
    exercises = pytest.importorskip("npae.exercises")
    by_page: dict[str, list[str]] = {}
    for name, exercise in exercises.EXERCISES.items():
        by_page.setdefault(exercise.lesson.split("#")[0].rsplit("/", 1)[-1], []).append(name)
    for page, names in by_page.items():
        section = exercises_section((DOCS / page).read_text(encoding="utf-8")) or ""
        assert sorted(listed(section)) == sorted(names), f"{page} lists {listed(section)}, npae has {names}"
