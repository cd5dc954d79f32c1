"""The French register numbers the platform checks: SIREN (a legal person) and SIRET (one of
its establishments), whose last digit is a Luhn key."""

from __future__ import annotations


def passes_luhn(digits: str) -> bool:
    """Whether ``digits`` (ASCII digits only) add up as the Luhn key says."""
    total = 0
    for index, digit in enumerate(reversed(digits)):
        number = int(digit) * (2 if index % 2 else 1)
        total += number - 9 if number > 9 else number
    return total % 10 == 0


def _digits(value: str, length: int) -> bool:
    return len(value) == length and value.isascii() and value.isdigit()


def is_valid_siren(value: str) -> bool:
    """A SIREN: 9 digits passing the Luhn check (a commune's, an intercommunality's…)."""
    return _digits(value, 9) and passes_luhn(value)


def is_valid_siret(value: str) -> bool:
    """A SIRET: 14 digits passing the Luhn check (La Poste's establishments, SIREN
    356 000 000, may instead add up to a multiple of 5)."""
    if not _digits(value, 14):
        return False
    if value.startswith("356000000") and sum(int(digit) for digit in value) % 5 == 0:
        return True
    return passes_luhn(value)
