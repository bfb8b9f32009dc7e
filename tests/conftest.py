"""Test-suite settings: hypothesis is derandomised unless `--hypothesis-profile=explore` (profiles.py)."""

import profiles  # noqa: F401  (registers the profiles)
from hypothesis import settings

settings.load_profile("default")  # replaced by pytest's --hypothesis-profile option when given
