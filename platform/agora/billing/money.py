"""Amounts in cents: VAT, totals, milestone splits and their French spelling. No Flask, no
database: the quote, the invoices, the PDFs and the Factur-X file all take their figures
from here, so they cannot disagree."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

#: French standard VAT rate, in basis points.
VAT_RATE_BP = 2000
#: The largest line a quote takes (a programme costs some 20,000 €).
MAX_LINE_CENTS = 10_000_000_00
_AMOUNT = re.compile(r"^(\d{1,9})(?:[.,](\d{1,2}))?$")


@dataclass(frozen=True)
class Totals:
    excl_tax: int
    vat: int
    incl_tax: int


def vat_of(excl_tax_cents: int, rate_bp: int = VAT_RATE_BP) -> int:
    """The VAT on an amount, rounded half up to the cent."""
    return (excl_tax_cents * rate_bp + 5000) // 10000


def totals(lines_excl_tax: Sequence[int], rate_bp: int = VAT_RATE_BP) -> Totals:
    excl = sum(lines_excl_tax)
    vat = vat_of(excl, rate_bp)
    return Totals(excl, vat, excl + vat)


def milestones(quote: Totals, shares_percent: Sequence[int]) -> list[Totals]:
    """Split a quote's totals into milestones (``shares_percent`` adds up to 100): each
    share of the amount before tax, the last one taking what rounding left; VAT likewise,
    so that the invoices add up to the quote to the cent."""
    if sum(shares_percent) != 100 or not shares_percent:
        raise ValueError("milestone shares must add up to 100")
    parts: list[Totals] = []
    excl_left, vat_left = quote.excl_tax, quote.vat
    for index, share in enumerate(shares_percent):
        if index == len(shares_percent) - 1:
            excl, vat = excl_left, vat_left
        else:
            excl = quote.excl_tax * share // 100
            vat = vat_of(excl)
        excl_left -= excl
        vat_left -= vat
        parts.append(Totals(excl, vat, excl + vat))
    return parts


def parse_euros(text: str) -> int | None:
    """``"3 500,50"`` or ``"3500.5"`` → 350050 cents; ``None`` when it is not an amount."""
    cleaned = text.replace("\u00a0", "").replace("\u202f", "").replace(" ", "").removesuffix("€")
    match = _AMOUNT.match(cleaned)
    if match is None:
        return None
    cents = int(match.group(1)) * 100 + int((match.group(2) or "0").ljust(2, "0"))
    return cents


def euros(cents: int) -> str:
    """French spelling: 2400000 → ``24 000,00 €`` (no-break spaces)."""
    sign = "-" if cents < 0 else ""
    whole, part = divmod(abs(cents), 100)
    grouped = f"{whole:,}".replace(",", "\u00a0")
    return f"{sign}{grouped},{part:02d}\u00a0€"


def plain_decimal(cents: int) -> str:
    """``2400000`` → ``24000.00`` (for Factur-X and forms)."""
    sign = "-" if cents < 0 else ""
    whole, part = divmod(abs(cents), 100)
    return f"{sign}{whole}.{part:02d}"
