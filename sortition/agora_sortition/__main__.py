"""``python -m agora_sortition``: see :mod:`agora_sortition.cli`."""

import sys

from .cli import main

sys.exit(main(prog="python -m agora_sortition"))
