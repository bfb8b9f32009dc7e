r"""The grader: run a learner's functions, compare them with npae's and with central differences, and
say which mistake the pattern of the error points to.

An exercise (:class:`Exercise`) is a skeleton file for the learner, a ``grade`` function that calls
the learner's functions through a :class:`Grader` on random inputs (edges included: a batch of 1,
non-square matrices, extreme values where only a stable form survives), and a catalogue of wrong
implementations (:class:`Mistake`) whose diagnoses the tests check. The grader reads a wrong answer
the way a teacher would:

1. one of the exercise's *known mistakes*, computed on the same inputs (a missing ``f'(a)`` factor,
   the variance in place of the standard deviation, a bias gradient not summed over positions...),
   looked for first, so a known mistake is named even where its shape is wrong;
2. a wrong shape, or the right numbers transposed;
3. NaN or Inf where npae's answer is finite (an unstable formula);
4. a constant factor ``c`` with ``got = c * expected`` (``-1``: the sign; ``N``: a missing ``1/N``);
5. an error only where a mask applies (the ReLU's kink, a max-pool's tied elements, overlapping
   windows).

The verdict for each comparison is the gradient checker's (:meth:`npae.gradcheck.ArrayCheck.passes`):
``||got - expected|| <= ATOL + TOL (||got|| + ||expected||)``, so an exactly-zero gradient beside
central differences' ~1e-11 noise passes. See ``docs/exercises.md``.
"""

from __future__ import annotations

import contextlib
import importlib
import importlib.util
import sys
import traceback
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType

import numpy as np

from ..gradcheck import compare, numerical_gradient, rel_error

#: How close a wrong answer must be to a known mistake (or to ``c * expected``) to be named as it.
MATCH = 1e-6


class Unfinished(Exception):
    """The learner's function still raises NotImplementedError."""


class LearnerError(Exception):
    """The learner's code failed (an exception, a missing function, a wrong return): one clear message."""


@dataclass(frozen=True)
class Check:
    """One graded comparison: what was compared, pass or fail, its numbers, and the diagnosis."""

    label: str
    passed: bool
    detail: str
    diagnosis: str | None = None


@dataclass(frozen=True)
class Mistake:
    """A wrong implementation the checker must recognise (the catalogue of ``docs/exercises.md``).

    ``code`` is a whole learner file; ``diagnosis`` a phrase the grader's diagnosis must contain;
    ``seen`` where such code was published or is commonly written; ``why`` what goes wrong.
    """

    title: str
    code: str
    diagnosis: str
    seen: str
    why: str


@dataclass(frozen=True)
class Exercise:
    """A lesson's exercise.

    Attributes
    ----------
    name : str
        ``npae exercise start NAME`` writes ``NAME.py``.
    lesson : str
        The page and section that derive it, ``"docs/01-dense-and-activations.md#dense"``.
    summary : str
        One line: what the learner writes.
    skeleton : str
        The file ``start`` writes: signatures, docstrings with shapes and the equations to derive,
        bodies that raise NotImplementedError.
    functions : tuple of str
        The functions the learner's file defines.
    solution : dict
        Each of ``functions`` -> the dotted name of npae's own implementation (the solution).
    grade : callable
        ``grade(grader, rng)``: calls the learner's functions through ``grader`` and compares.
    reference : str
        A learner's file that calls npae's own implementation: it must pass (the tests check it).
    mistakes : tuple of Mistake
    run : callable or None
        ``run(module, out_dir) -> str``: trains the lesson's example with the learner's functions
        in the library, beside npae's own, and returns the report (``check --run``).
    """

    name: str
    lesson: str
    summary: str
    skeleton: str
    functions: tuple[str, ...]
    solution: dict[str, str]
    grade: Callable[[Grader, np.random.Generator], None]
    reference: str
    mistakes: tuple[Mistake, ...] = ()
    run: Callable[[ModuleType, Path], str] | None = None

    @property
    def page(self) -> str:
        return self.lesson.split("#")[0]


# ---------------------------------------------------------------------------- the learner's file
def load_learner_module(path: Path, functions: tuple[str, ...]) -> ModuleType:
    """Import the learner's file ``path``; a syntax error or a missing function is a :class:`LearnerError`."""
    name = f"npae_exercise_{path.stem}_{abs(hash(str(path.resolve())))}"
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise LearnerError(f"cannot import {path}: is it a Python file?")
    module = importlib.util.module_from_spec(spec)
    try:
        spec.loader.exec_module(module)
    except SyntaxError as exc:
        text = (exc.text or "").rstrip()
        raise LearnerError(f"{path.name}, line {exc.lineno}: syntax error: {exc.msg}\n    {text}") from None
    except Exception as exc:  # an error at import time, in the learner's own code
        raise LearnerError(f"importing {path.name} failed: {_where(exc, path)}") from None
    missing = [f for f in functions if not callable(getattr(module, f, None))]
    if missing:
        raise LearnerError(f"{path.name} defines no function {', '.join(missing)} (the skeleton has "
                           f"{', '.join(functions)}; keep their names)")
    return module


def _where(exc: BaseException, path: Path) -> str:
    """``ValueError: message (line 12 of dense.py: y = x @ W)``: the learner's innermost line, no traceback"""
    mine = path.resolve()
    frames = [f for f in traceback.extract_tb(exc.__traceback__) if Path(f.filename).resolve() == mine]
    where = f" (line {frames[-1].lineno} of {path.name}: {frames[-1].line})" if frames else ""
    return f"{type(exc).__name__}: {exc}{where}"


# ---------------------------------------------------------------------------- comparing
def _as_array(value) -> np.ndarray | None:
    try:
        a = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        return None
    return a


def _close(a: np.ndarray, b: np.ndarray, tol: float = MATCH) -> bool:
    return a.shape == b.shape and bool(np.all(np.isfinite(a))) and rel_error(a, b) <= tol


def passes(got: np.ndarray, expected: np.ndarray) -> bool:
    """The gradient checker's verdict (:meth:`npae.gradcheck.ArrayCheck.passes`) on finite, equal shapes."""
    if got.shape != expected.shape or not np.all(np.isfinite(got)):
        return False
    return compare(got, expected).passes()


#: Factors every exercise recognises: value -> the likely mistake.
COMMON_FACTORS = {-1.0: "the sign is flipped (a gradient of -L, or a subtraction the wrong way round)",
                  2.0: "twice too large (a factor 2 of a square kept, or a term counted twice)",
                  0.5: "half the right size (a factor 2 lost, e.g. the 2 of d(u^2)/du = 2u)"}


def diagnose(got: np.ndarray, expected: np.ndarray, name: str, *,
             mistakes: dict[str, np.ndarray] | None = None, factors: dict[float, str] | None = None,
             masks: dict[str, np.ndarray] | None = None) -> str:
    """The likely mistake behind ``got != expected``, in one sentence (see the module docstring)."""
    for message, wrong in (mistakes or {}).items():
        if _close(got, np.asarray(wrong, dtype=np.float64)):
            return message
    if got.shape != expected.shape:
        if got.ndim == 2 and got.T.shape == expected.shape:
            transposed = f"{name} is transposed: it has shape {got.shape}, the right one is {expected.shape}"
            if _close(got.T, expected):
                return transposed
            return f"{transposed}; transposed back, " + diagnose(got.T, expected, name, mistakes=mistakes,
                                                                 factors=factors, masks=masks)
        if got.ndim == expected.ndim + 1 and got.shape[1:] == expected.shape and _close(got.sum(0), expected):
            return f"{name} is not summed over the batch: shape {got.shape}, expected {expected.shape}"
        return f"{name} has shape {got.shape}, expected {expected.shape}"
    if not np.all(np.isfinite(got)) and np.all(np.isfinite(expected)):
        first = tuple(int(i) for i in np.argwhere(~np.isfinite(got))[0])
        where = f" (first at index {first})" if got.ndim else ""
        return (f"{name} has NaN or Inf{where} where the right answer is finite: an overflow at extreme "
                f"inputs (use the stable form) or a log or square root of a negative number")
    square = got.ndim == 2 and got.shape[0] == got.shape[1]
    if square and _close(got.T, expected) and not _close(got, expected):
        return f"{name} is transposed (a square matrix: the shape could not tell)"
    dot = float(np.vdot(expected, expected))
    if dot > 0 and not np.any(got):
        return f"{name} is all zeros: is a term never computed, or an array never filled in?"
    if dot > 0:
        c = float(np.vdot(got, expected)) / dot
        if abs(c - 1) > MATCH and _close(got, c * expected):
            for value, message in {**COMMON_FACTORS, **(factors or {})}.items():
                if abs(c / value - 1) <= 1e-6:
                    return f"{name} is off by a factor {_factor(value)}: {message}"
            return f"{name} is off by a constant factor {c:.6g}"
    residual = got - expected
    tiny = MATCH * (np.linalg.norm(expected) + np.linalg.norm(got))
    for where, mask in (masks or {}).items():
        mask = np.broadcast_to(np.asarray(mask, dtype=bool), got.shape)
        if mask.any() and np.linalg.norm(residual[~mask]) <= tiny:
            return f"{name} is right everywhere except {where}"
    worst = np.unravel_index(int(np.argmax(np.abs(residual))), got.shape) if got.size else ()
    return (f"{name} does not match npae's: the largest difference is at index {tuple(int(i) for i in worst)}"
            f" (yours {got[worst]:.6g}, expected {expected[worst]:.6g})")


def _factor(value: float) -> str:
    return f"{value:g}" if value >= 1 or value < 0 else f"1/{1 / value:g}"


# ---------------------------------------------------------------------------- the grader
@dataclass
class Grader:
    """Calls the learner's functions and records one :class:`Check` per comparison.

    An exercise's ``grade(grader, rng)`` uses :meth:`call` (the learner's function, with its failures
    turned into :class:`Unfinished` or :class:`LearnerError`), :meth:`compare` (against npae's value)
    and :meth:`numeric` (against central differences of a scalar function).
    """

    module: ModuleType
    path: Path
    lesson: str
    checks: list[Check] = field(default_factory=list)

    def call(self, function: str, *args, n_outputs: int = 1):
        """``module.function(*args)``; checks that it returns ``n_outputs`` values (a tuple if more than one).

        Array arguments are copied: the learner's function may change them in place.
        """
        fn = getattr(self.module, function)
        args = tuple(np.array(a, copy=True) if isinstance(a, np.ndarray) else a for a in args)
        try:
            with np.errstate(all="ignore"):
                out = fn(*args)
        except NotImplementedError:
            raise Unfinished(function) from None
        except Exception as exc:
            raise LearnerError(f"{function} raised {_where(exc, self.path)}") from None
        if n_outputs > 1 and (not isinstance(out, tuple | list) or len(out) != n_outputs):
            got = f"a tuple of {len(out)}" if isinstance(out, tuple | list) else type(out).__name__
            raise LearnerError(f"{function} must return {n_outputs} values (see its docstring), got {got}")
        if out is None or (n_outputs > 1 and any(o is None for o in out)):
            raise LearnerError(f"{function} returned None: did you forget a `return`?")
        return out

    def compare(self, label: str, got, expected, name: str, **hints) -> bool:
        """Record whether ``got`` equals npae's ``expected`` (see :func:`passes`), with a diagnosis if not.

        ``hints`` go to :func:`diagnose`: ``mistakes`` (message -> the wrong answer on these inputs),
        ``factors`` (value -> message) and ``masks`` (where -> boolean array).
        """
        g, e = _as_array(got), np.asarray(expected, dtype=np.float64)
        if g is None:
            self.checks.append(Check(label, False, f"{name} is a {type(got).__name__}, not an array",
                                     f"return {name} as a NumPy array of shape {e.shape}"))
            return False
        ok = passes(g, e)
        with np.errstate(invalid="ignore"):  # an Inf in got gives NaN here, no RuntimeWarning
            err = rel_error(g, e) if g.shape == e.shape else float("nan")
        detail = f"relative error {err:.1e}" if g.shape == e.shape else f"shape {g.shape}, expected {e.shape}"
        self.checks.append(Check(label, ok, detail, None if ok else diagnose(g, e, name, **hints)))
        return ok

    def numeric(self, label: str, analytic, f: Callable[[], float], x: np.ndarray, name: str,
                h: float = 1e-6, **hints) -> bool:
        """Record whether ``analytic`` equals central differences of ``f()`` with respect to ``x`` (float64).

        ``f`` reads ``x``, which is perturbed in place (:func:`npae.gradcheck.numerical_gradient`).
        """
        with np.errstate(all="ignore"):
            numeric = numerical_gradient(f, x, h)
        return self.compare(label + " (central differences)", analytic, numeric, name, **hints)


# ---------------------------------------------------------------------------- running a check
@dataclass(frozen=True)
class Report:
    """What ``check`` prints: the checks, or the one reason nothing could be checked.

    ``module`` is the learner's file as it was imported for the checks (None if it could not be),
    so ``check --run`` trains with the very functions that were graded.
    """

    exercise: Exercise
    path: Path
    checks: tuple[Check, ...]
    problem: str | None = None
    module: ModuleType | None = None

    @property
    def passed(self) -> bool:
        return self.problem is None and bool(self.checks) and all(c.passed for c in self.checks)

    def text(self) -> str:
        lines = [f"{self.exercise.name}: checking {self.path}"]
        first: dict[str, str] = {}  # a diagnosis -> the check that first gave it
        for c in self.checks:
            lines.append(f"  {'PASS' if c.passed else 'FAIL'}  {c.label}: {c.detail}")
            if c.diagnosis:
                said = f"as for '{first[c.diagnosis]}'" if c.diagnosis in first else c.diagnosis
                lines.append(f"        likely mistake: {said}")
                first.setdefault(c.diagnosis, c.label)
        if self.problem:
            lines.append(f"  {self.problem}")
        if self.passed:
            own = ", ".join(f"{fn}: {where}" for fn, where in self.exercise.solution.items())
            lines.append(f"All {len(self.checks)} checks pass. npae's own solution: {own}; "
                         f"the derivation: {self.exercise.lesson}")
        elif self.problem is None:
            failed = sum(not c.passed for c in self.checks)
            lines.append(f"{failed} of {len(self.checks)} checks fail. Reread {self.exercise.lesson}.")
        return "\n".join(lines)


def check_file(exercise: Exercise, path: Path, seed: int = 0) -> Report:
    """Grade the learner's file ``path`` for ``exercise``: never raises for the learner's mistakes."""
    path = Path(path)
    if not path.is_file():
        return Report(exercise, path, (),
                      f"no file {path}: start it with `npae exercise start {exercise.name}`")
    try:
        module = load_learner_module(path, exercise.functions)
    except LearnerError as exc:
        return Report(exercise, path, (), str(exc))
    grader = Grader(module, path, exercise.lesson)
    problem = None
    try:
        exercise.grade(grader, np.random.default_rng(seed))
    except Unfinished as exc:
        problem = (f"not implemented yet: {exc.args[0]} in {path.name} still raises NotImplementedError; "
                   f"write its body (its docstring gives the shapes and the equation; {exercise.lesson}).")
    except LearnerError as exc:
        problem = str(exc)
    return Report(exercise, path, tuple(grader.checks), problem, module)


# ---------------------------------------------------------------------------- the learner's code in npae
@contextlib.contextmanager
def substituted(replacements: dict[tuple[str, str], Callable]) -> Iterator[None]:
    """Put the learner's functions into npae for the duration of a ``with`` block, then restore npae's.

    ``replacements`` maps ``(module name, attribute)`` (where the library looks the function up, e.g.
    ``("npae.layers.dense", "dense_backward")``) to the learner's function (or an adapter).
    """
    saved = []
    try:
        for (module_name, attr), fn in replacements.items():
            module = sys.modules.get(module_name) or importlib.import_module(module_name)
            saved.append((module, attr, getattr(module, attr)))
            setattr(module, attr, fn)
        yield
    finally:
        for module, attr, original in reversed(saved):
            setattr(module, attr, original)


def side_by_side(title: str, train: Callable[[], dict[str, float]],
                 replacements: dict[tuple[str, str], Callable]) -> str:
    """Run ``train()`` with npae's functions, then with the learner's (``replacements``); a table of both.

    ``train`` builds its model from a fixed seed, so the two runs differ only by the functions: with
    a right solution the numbers agree to float32 rounding.
    """
    ours = train()
    with substituted(replacements):
        yours = train()
    width = max(len(k) for k in ours)
    lines = [title, f"  {'':{width}}  {'npae':>12}  {'yours':>12}"]
    lines += [f"  {k:{width}}  {ours[k]:12.6g}  {yours[k]:12.6g}" for k in ours]
    return "\n".join(lines)
