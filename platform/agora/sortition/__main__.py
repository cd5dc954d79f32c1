"""``python -m agora.sortition``: the engine's command line (``python -m agora_sortition``)."""

import sys

from agora_sortition.cli import main

sys.exit(main(prog="python -m agora.sortition"))
