"""Test-suite settings.

Hypothesis explores new examples on every local run. In CI (``CI=true``) the ``ci`` profile
derandomises it, so a run is reproducible: the same commit draws the same examples.
"""

import os

from hypothesis import settings

settings.register_profile("ci", derandomize=True, print_blob=True)
if os.environ.get("CI"):
    settings.load_profile("ci")
