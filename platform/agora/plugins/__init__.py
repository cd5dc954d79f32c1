"""Plugin contracts and their per-commune view.

Every variation between communes (composition of bodies, register readers, quota criteria,
decision rules, charter templates, support-programme template) is a pluggy hook declared in
:mod:`agora.plugins.hookspecs`; implementations live in the top-level ``plugins/`` folder
and are found through the ``agora`` entry-point group.
"""

from __future__ import annotations

import pluggy

PROJECT_NAME = "agora"
hookimpl = pluggy.HookimplMarker(PROJECT_NAME)
hookspec = pluggy.HookspecMarker(PROJECT_NAME)

__all__ = ["PROJECT_NAME", "hookimpl", "hookspec"]
