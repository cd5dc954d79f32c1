"""``python -m agora.sortition``: see :mod:`agora.sortition.cli`."""

import sys

from .cli import main

sys.exit(main())
