"""Numbers as the reader's language writes them, for pages and for exports alike."""

from __future__ import annotations

from flask_babel import format_decimal, format_percent


def number(value: int | float, decimals: int | None = None) -> str:
    """``value`` in the reader's language (French: ``1 234,5``); with ``decimals``, rounded
    to that many."""
    if decimals is None:
        return str(format_decimal(value))
    return str(format_decimal(value, "#,##0" + ("." + "0" * decimals if decimals else "")))


def percent(share: float) -> str:
    """A share between 0 and 1 as a percentage with one decimal (French: ``42,5 %``)."""
    return str(format_percent(share, "#,##0.0\u00a0%"))
