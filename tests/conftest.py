"""Test-suite settings and shared fixtures.

Hypothesis is derandomised unless `--hypothesis-profile=explore` (profiles.py). The claims tests
(marker ``claims``) share :func:`nondigit_folder`: each non-digit folder is written once per run.
"""

from pathlib import Path

import profiles  # noqa: F401  (registers the profiles)
import pytest
from hypothesis import settings
from nondigit import write_glyphs, write_photo_crops

settings.load_profile("default")  # replaced by pytest's --hypothesis-profile option when given

#: The non-digit folders of the claims tests, by name (``tests/nondigit.py``).
NONDIGIT_SETS = {"glyphs": write_glyphs, "photo_crops": write_photo_crops}


@pytest.fixture(scope="session", params=sorted(NONDIGIT_SETS))
def nondigit_folder(request, tmp_path_factory) -> Path:
    """A folder of 3,000 training and 300 held-out non-digit images in MNIST's four files."""
    write = NONDIGIT_SETS[request.param]
    return write(tmp_path_factory.mktemp(request.param), n_train=3000, n_test=300, seed=0)
