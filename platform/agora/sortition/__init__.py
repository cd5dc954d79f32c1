"""``agora.sortition``: the sortition engine's public API, re-exported from ``agora_sortition``.

The engine is its own distribution, ``agora-sortition`` (folder ``sortition/`` of the
repository): pure Python on NumPy and HiGHS, installable without the platform. This name stays
so that ``python -m agora.sortition select|commit|reveal|verify|replace|invite`` and
``from agora.sortition import select`` keep working where the platform is installed. Only the
public API (``agora_sortition.__all__``) is here, loaded on first use as the engine does, so
that ``verify`` still needs neither NumPy nor the solver; submodules such as
``agora_sortition.audit`` are imported from the engine itself.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import agora_sortition as _engine
from agora_sortition import __all__ as __all__

if TYPE_CHECKING:
    from agora_sortition import *  # noqa: F403


def __getattr__(name: str) -> Any:
    if name in __all__:
        return getattr(_engine, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
