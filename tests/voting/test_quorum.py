"""Quorum: every unmet condition is reported with its numbers (scenario S22)."""

from __future__ import annotations

from fractions import Fraction

import pytest

from agora.plugins.contracts import Quorum
from agora.voting import Shortfall, check_quorum


def test_s22_quorum_not_met_with_41_drawn_members_present() -> None:
    report = check_quorum(Quorum(min_drawn_present=50), present=73, drawn_present=41)
    assert not report.met
    assert report.reasons == (
        Shortfall("min_drawn_present", 41, 50, "41 drawn members present, 50 required"),
    )
    assert report.message == "quorum not met: 41 drawn members present, 50 required"


def test_quorum_met() -> None:
    quorum = Quorum(min_present=40, min_drawn_present=20, min_share_of_members=Fraction(1, 2))
    report = check_quorum(quorum, present=40, drawn_present=20, members=80)
    assert (report.met, report.reasons, report.message) == (True, (), "quorum met")


def test_a_share_of_members_is_rounded_up() -> None:
    quorum = Quorum(min_share_of_members=Fraction(1, 2))
    assert check_quorum(quorum, present=38, drawn_present=0, members=75).met
    report = check_quorum(quorum, present=37, drawn_present=0, members=75)
    assert report.reasons[0].required == 38
    assert report.reasons[0].message == "37 of 75 members present, 38 required (1/2 of members)"


def test_every_shortfall_is_reported() -> None:
    quorum = Quorum(min_present=100, min_drawn_present=50, min_share_of_members=Fraction(2, 3))
    report = check_quorum(quorum, present=60, drawn_present=41, members=150)
    assert [r.code for r in report.reasons] == [
        "min_present",
        "min_drawn_present",
        "min_share_of_members",
    ]
    assert [(r.present, r.required) for r in report.reasons] == [(60, 100), (41, 50), (60, 100)]
    assert report.to_json()["message"] == (
        "quorum not met: 60 people present, 100 required; "
        "41 drawn members present, 50 required; "
        "60 of 150 members present, 100 required (2/3 of members)"
    )


def test_an_empty_quorum_is_always_met() -> None:
    assert check_quorum(Quorum(), present=0, drawn_present=0).met


def test_a_share_of_members_needs_the_member_count() -> None:
    with pytest.raises(ValueError, match="needs the number of members"):
        check_quorum(Quorum(min_share_of_members=Fraction(1, 2)), present=10, drawn_present=5)


@pytest.mark.parametrize(("present", "drawn_present"), [(10, 11), (10, -1)])
def test_attendance_must_be_consistent(present: int, drawn_present: int) -> None:
    with pytest.raises(ValueError, match="drawn members present"):
        check_quorum(Quorum(), present=present, drawn_present=drawn_present)
