"""Billing's figures: VAT, milestones that add up to the quote, amounts typed and shown in
French, SIRET check digits."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from agora.billing import money
from agora.shared.identifiers import is_valid_siret


def test_a_24000_euro_quote_is_20000_before_tax_and_4000_of_vat() -> None:
    figures = money.totals([16_500_00, 3_500_00])
    assert figures == money.Totals(20_000_00, 4_000_00, 24_000_00)
    assert money.euros(figures.incl_tax) == "24\u00a0000,00\u00a0€"


# Timing checks off: on a loaded CI machine, drawing a list once took over a second.
@settings(suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(st.lists(st.integers(min_value=1, max_value=money.MAX_LINE_CENTS), min_size=1, max_size=8))
def test_milestones_add_up_to_the_quote_to_the_cent(lines: list[int]) -> None:
    quote = money.totals(lines)
    parts = money.milestones(quote, [50, 50])
    assert sum(p.excl_tax for p in parts) == quote.excl_tax
    assert sum(p.vat for p in parts) == quote.vat
    assert sum(p.incl_tax for p in parts) == quote.incl_tax
    # Each milestone's VAT is its own amount's VAT, give or take the rounding cent.
    assert all(abs(p.vat - money.vat_of(p.excl_tax)) <= 1 for p in parts)


def test_odd_cents_go_to_the_last_milestone() -> None:
    parts = money.milestones(money.totals([1_001]), [50, 50])
    assert [p.excl_tax for p in parts] == [500, 501]
    assert [p.vat for p in parts] == [100, 100]


def test_amounts_are_read_as_people_type_them() -> None:
    assert money.parse_euros("3 500") == 3_500_00
    assert money.parse_euros("3\u00a0500,5") == 3_500_50
    assert money.parse_euros("3500.05 €") == 3_500_05
    for wrong in ("", "trois mille", "3,500,00", "-12", "1e5", "3,555"):
        assert money.parse_euros(wrong) is None, wrong


def test_siret_check_digits() -> None:
    assert is_valid_siret("73282932000074")
    assert not is_valid_siret("73282932000075")  # one digit off
    assert not is_valid_siret("7328293200007")  # 13 digits
    assert not is_valid_siret("7328293200007a")
    assert not is_valid_siret("７３２８２９３２０００７４")  # full-width digits
    # La Poste: its head office passes the Luhn check, its establishments add up to a
    # multiple of 5 instead.
    assert is_valid_siret("35600000000048")
    assert is_valid_siret("35600000010014")  # 3+5+6+1+1+4 = 20
    assert not is_valid_siret("35600000000049")
