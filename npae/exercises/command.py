"""``npae exercise``: list the exercises, start one, check it (``--run``: train with it).

The state of each exercise in the current folder is kept in ``.npae-exercises.json``: the last
check's verdict and a hash of the file it graded, so ``list`` can say passed, failed or changed.
"""

from __future__ import annotations

import argparse
import hashlib
import json
from pathlib import Path

from . import EXERCISES, check_file, get_exercise

STATE_FILE = ".npae-exercises.json"


def add_parser(sub) -> None:
    """The ``exercise`` subcommand and its three actions, on the CLI's subparsers."""
    e = sub.add_parser("exercise", help="exercises graded by the gradient checks: list, start, check",
                       description="Write a backward pass yourself; npae grades it and names the likely "
                                   "mistake.")
    actions = e.add_subparsers(dest="action", required=True)
    ls = actions.add_parser("list", help="the exercises by lesson, and your files' state in this folder")
    ls.add_argument("--json", action="store_true", help="a JSON list of objects (name, lesson, state, ...)")
    st = actions.add_parser("start", help="write NAME.py here: signatures, shapes, the equation to derive")
    st.add_argument("name")
    ck = actions.add_parser("check", help="grade NAME.py (or FILE); exit status 0 when every check passes")
    ck.add_argument("name")
    ck.add_argument("file", nargs="?", default=None, help="the file to grade (default NAME.py here)")
    ck.add_argument("--run", action="store_true",
                    help="then train the lesson's example with your functions inside npae, beside npae's own")
    ck.add_argument("--out", default=None, help="folder of --run's pictures (npae-out/exercises/NAME)")
    ck.add_argument("--seed", type=int, default=0, help="the random inputs' seed")


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _read_state(folder: Path) -> dict:
    try:
        state = json.loads((folder / STATE_FILE).read_text())
    except (OSError, ValueError):
        return {}
    return state if isinstance(state, dict) else {}


def _record(folder: Path, name: str, path: Path, passed: bool) -> None:
    state = _read_state(folder)
    state[name] = {"file": str(path), "sha256": _digest(path), "passed": passed}
    try:
        (folder / STATE_FILE).write_text(json.dumps(state, indent=1))
    except OSError:  # a read-only folder: the verdict is printed all the same
        pass


def file_state(name: str, folder: Path) -> str:
    """``not started``, ``started``, ``passed``, ``failed`` or ``changed since the last check``."""
    path = folder / f"{name}.py"
    record = _read_state(folder).get(name)
    if isinstance(record, dict) and Path(record.get("file", "")).is_file():
        path = Path(record["file"])
    if not path.is_file():
        return "not started"
    if not isinstance(record, dict) or "sha256" not in record:
        return "started"
    if record["sha256"] != _digest(path):
        return "changed since the last check"
    return "passed" if record.get("passed") else "failed"


def cmd_list(args) -> int:
    folder = Path.cwd()
    rows = [{"name": ex.name, "lesson": ex.lesson, "summary": ex.summary,
             "state": file_state(ex.name, folder), "run": ex.run is not None} for ex in EXERCISES.values()]
    if args.json:
        print(json.dumps(rows, indent=1))
        return 0
    page = None
    for row in rows:
        if row["lesson"].split("#")[0] != page:
            page = row["lesson"].split("#")[0]
            print(page)
        run = " (--run)" if row["run"] else ""
        print(f"  {row['name']:<26} {row['state']:<14} {row['summary']}{run}")
    print("Start one with `npae exercise start NAME`, grade it with `npae exercise check NAME`.")
    return 0


def cmd_start(args) -> int:
    exercise = get_exercise(args.name)
    path = Path.cwd() / f"{exercise.name}.py"
    if path.exists():
        print(f"{path.name} exists already: it is yours and is left as it is. Grade it with "
              f"`npae exercise check {exercise.name}`, or move it away to start afresh.")
        return 1
    path.write_text(exercise.skeleton)
    print(f"wrote {path.name}: fill in {', '.join(exercise.functions)} (the lesson: {exercise.lesson}), "
          f"then run `npae exercise check {exercise.name}`.")
    return 0


def cmd_check(args) -> int:
    exercise = get_exercise(args.name)
    path = Path(args.file) if args.file else Path.cwd() / f"{exercise.name}.py"
    report = check_file(exercise, path, seed=args.seed)
    print(report.text())
    if path.is_file():
        _record(Path.cwd(), exercise.name, path.resolve(), report.passed)
    if not report.passed:
        return 1
    if args.run:
        if exercise.run is None:
            with_run = ", ".join(ex.name for ex in EXERCISES.values() if ex.run is not None)
            print(f"{exercise.name} has no --run (the exercises with one: {with_run})")
            return 0

        out = Path(args.out) if args.out else Path("npae-out") / "exercises" / exercise.name
        print(exercise.run(report.module, out))
    return 0


def run(args: argparse.Namespace) -> int:
    return {"list": cmd_list, "start": cmd_start, "check": cmd_check}[args.action](args)
