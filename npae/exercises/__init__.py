"""Exercises graded by the gradient checks: write a backward pass yourself, and npae says what is wrong.

::

    npae exercise list                  # the exercises by lesson, and the state of your files here
    npae exercise start dense           # writes dense.py: signatures, shapes, the equation to derive
    npae exercise check dense           # central differences and npae's own answer; names the mistake
    npae exercise check dense --run     # your functions inside npae, training the lesson's example

Each exercise is a plain function that npae itself calls (``npae.layers.dense.dense_backward``,
``npae.penalties.kl_sparsity``, ...), so yours can stand in for it. The grader and the catalogue of
mistakes it recognises: :mod:`npae.exercises.grading`, ``docs/exercises.md``.
"""

from __future__ import annotations

from . import conv, dense, losses, regularised, vae
from .grading import Check, Exercise, Mistake, Report, check_file, substituted

#: Every exercise, in the order of the lessons.
EXERCISES: dict[str, Exercise] = {}
for _module in (dense, losses, regularised, vae, conv):
    for _exercise in _module.EXERCISES:
        if _exercise.name in EXERCISES:  # pragma: no cover - a programming error
            raise RuntimeError(f"two exercises are called {_exercise.name!r}")
        EXERCISES[_exercise.name] = _exercise
EXERCISES = dict(sorted(EXERCISES.items(), key=lambda item: item[1].page))


def get_exercise(name: str) -> Exercise:
    """The exercise called ``name``; a ``ValueError`` listing them otherwise."""
    if name not in EXERCISES:
        raise ValueError(f"no exercise called {name!r}; the exercises are {', '.join(EXERCISES)} "
                         f"(`npae exercise list`)")
    return EXERCISES[name]


__all__ = ["EXERCISES", "Check", "Exercise", "Mistake", "Report", "check_file", "get_exercise", "substituted"]
