"""The example scripts as modules, for the tests: ``load_example("denoising").main([...])``.

``examples/`` is not a package, so each script is loaded from its file (a fresh module every
call: its ``main(argv)`` is not run, and nothing is left in ``sys.modules``).
"""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


def load_example(name: str) -> ModuleType:
    """The module ``examples/<name>.py``, imported."""
    spec = importlib.util.spec_from_file_location(f"{name}_example", EXAMPLES / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
