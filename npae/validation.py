"""The argument checks npae's own layers, losses and models use, for yours.

Each raises ``TypeError`` (wrong kind of object) or ``ValueError`` (right kind, wrong value)
with a message naming the argument, what was expected and what was received. A layer checks
its arguments in ``__init__`` with these and trusts its inputs in ``forward``; a loss wraps its
math with :func:`checked_by`. See ``docs/14-extending.md``.
"""

from __future__ import annotations

from ._validation import (
    check_array,
    check_bool,
    check_choice,
    check_dtype,
    check_float,
    check_int,
    check_random_state,
    check_same_shape,
    checked_by,
)

__all__ = ["check_array", "check_bool", "check_choice", "check_dtype", "check_float", "check_int",
           "check_random_state", "check_same_shape", "checked_by"]
