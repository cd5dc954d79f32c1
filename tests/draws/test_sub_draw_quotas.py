"""What stage 2 reads: the quotas a sub-draw's seats get from the census shares, only for the
criteria of its source, and its pool."""

from __future__ import annotations

from agora.draws.models import SubDraw
from agora.draws.pool import census_bounds, published_quotas, sub_draw_criteria
from agora.plugins.contracts import QuotaCriterion, QuotaValue

GENDER = QuotaCriterion(
    "gender", "Genre", (QuotaValue("F", "Femmes", 0.52), QuotaValue("M", "Hommes", 0.48))
)
AGE = QuotaCriterion(
    "age_band",
    "Tranche d'âge",
    (QuotaValue("16-29", "16 à 29 ans", 0.24), QuotaValue("30+", "30 ans et plus", 0.76)),
    draw_sources=("electoral_roll",),
)


def test_census_shares_give_the_rounded_seats_widened_by_the_tolerance() -> None:
    # 52 % of 80 seats is 41.6: 41 or 42, and one more seat either way.
    assert census_bounds(0.52, 80, 1) == (40, 43)
    # Never below zero nor above the seats.
    assert census_bounds(0.02, 5, 1) == (0, 2)
    assert census_bounds(1.0, 5, 2) == (3, 5)


def test_a_criterion_limited_to_some_sources_gives_no_quota_elsewhere() -> None:
    roll = SubDraw(source="electoral_roll", seats=80)
    youth = SubDraw(source="recensement_16_17", seats=5)
    assert sub_draw_criteria([GENDER, AGE], roll) == [GENDER, AGE]
    assert sub_draw_criteria([GENDER, AGE], youth) == [GENDER]
    quotas = published_quotas(sub_draw_criteria([GENDER, AGE], youth), youth.seats)
    assert quotas.features == ("gender",)
    assert [(q.value, q.min, q.max) for q in quotas.quotas] == [("F", 1, 4), ("M", 1, 4)]
