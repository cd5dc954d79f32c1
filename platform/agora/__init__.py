"""Agora: a multi-tenant platform to set up and run citizen assemblies.

This module stays import-light on purpose: ``agora.sortition`` re-exports the sortition engine
(its own distribution, ``agora-sortition``) and must import without Flask, so the application
factory is only loaded when ``create_app`` is called (``flask --app agora`` finds it here).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from flask import Flask

__version__ = "0.1.0"


def create_app(test_config: dict[str, Any] | None = None) -> Flask:
    """Build the Flask application (see :func:`agora.app.build_app`)."""
    from agora.app import build_app

    return build_app(test_config)
