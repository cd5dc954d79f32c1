"""Versions recorded in audit records (standard library only, importable by ``verify``)."""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

ENGINE_VERSION = "agora-sortition 1.0"  # bump whenever an algorithm's output may change


def solver_version() -> str:
    """The installed ``highspy`` distribution, without importing it."""
    try:
        return f"highspy {version('highspy')}"
    except PackageNotFoundError:
        return "highspy not installed"
