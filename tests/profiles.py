"""Hypothesis profiles: the same examples on every machine by default, exploration on request.

``python -m pytest`` loads ``default``: derandomised, so every run (a learner's, CI's) draws the
same examples and gives the same answer. ``python -m pytest --hypothesis-profile=explore``
draws fresh random examples, at least ``EXPLORE_EXAMPLES`` per property: run it before a
release or after changing a backward pass, and turn what it finds into a fixed test.
"""

from __future__ import annotations

from hypothesis import settings

EXPLORE_EXAMPLES = 1000

settings.register_profile("default", derandomize=True, deadline=None, print_blob=True)
settings.register_profile("explore", derandomize=False, deadline=None, print_blob=True,
                          max_examples=EXPLORE_EXAMPLES)


def examples(n: int) -> settings:
    """Settings of a property test: ``n`` examples by default, at least ``EXPLORE_EXAMPLES`` when exploring.

    Read when the test module is imported, after pytest has loaded the profile named by
    ``--hypothesis-profile``.
    """
    return settings(max_examples=max(n, settings.default.max_examples) if not settings.default.derandomize
                    else n)
