"""``python -m npae``: the command line (see :mod:`npae.cli`)."""

import sys

from .cli import main

sys.exit(main())
