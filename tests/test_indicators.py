"""The consultancy's indicators across communes: aggregates only (every query the page runs
is a count or a sum, inside one commune's scope), no cell under 10 people nor a rate that
would give one back, and only the communes the staff member follows."""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import event, select

from agora.assembly.models import CheckIn
from agora.draws.models import Invitation
from agora.extensions import db
from agora.indicators.services import Counts, across, shown
from agora.shared.people import Person
from agora.tenancy.isolation import tenant_scope
from agora.tenancy.models import Tenant
from support.fixtures import LoadDemo, SignIn
from support.pages import page_text

CONSOLE = {"Host": "localhost"}


def test_a_cell_of_fewer_than_ten_people_is_never_shown_nor_given_back() -> None:
    figures = shown(Counts(invitations=9, positive_answers=3, measures=4, measures_done=3))
    assert (figures.invitations, figures.positive_answers, figures.response_rate) == (
        None,
        None,
        None,
    )
    assert figures.measures_done == 3 and figures.done_rate == 0.75  # measures are no people
    figures = shown(Counts(invitations=300, positive_answers=42))
    assert figures.invitations == 300 and figures.response_rate == 42 / 300
    # 295 of 300 answered: the 5 who did not would be 300 − rate × 300.
    assert shown(Counts(invitations=300, positive_answers=295)).response_rate is None
    assert shown(Counts(assembly_sessions=2, check_ins=8)).attendance_per_session is None
    assert shown(Counts(assembly_sessions=2, check_ins=80)).attendance_per_session == 40


def test_staff_see_aggregates_of_their_communes_only(
    app: Flask, client: FlaskClient, load_demo: LoadDemo, onboarded: Path, sign_in: SignIn
) -> None:
    load_demo("poitiers")
    sign_in(client, "localhost", "claude@cooperative.example", staff_of=("poitiers",))
    page = page_text(client.get("/console/indicators", headers=CONSOLE))
    assert "Poitiers" in page and "Grenoble" not in page
    assert "Toutes les communes affichées" not in page  # no total of one commune

    with app.app_context():
        poitiers = db.session.execute(select(Tenant).where(Tenant.slug == "poitiers")).scalar_one()
        with tenant_scope(db.session, poitiers.id):
            invited = len(
                db.session.scalars(
                    select(Invitation.id).where(Invitation.tenant_id == poitiers.id)
                ).all()
            )
            people = db.session.scalars(
                select(Person.display_name).where(Person.tenant_id == poitiers.id)
            ).all()
    assert invited >= 10 and f"{invited:,}".replace(",", " ") in page
    assert people and not [name for name in people if name in page]

    export = client.get("/console/indicators.csv", headers=CONSOLE)
    assert export.status_code == 200
    rows = list(
        csv.reader(io.StringIO(export.get_data(as_text=True).lstrip("\ufeff")), delimiter=";")
    )
    assert rows[0][:2] == ["Commune", "Invitations"] and rows[1][:2] == ["Poitiers", str(invited)]
    assert len(rows) == 2


def test_the_figures_come_from_counts_not_from_rows_about_people(
    app: Flask, load_demo: LoadDemo, onboarded: Path
) -> None:
    load_demo("poitiers")
    statements: list[str] = []

    def seen(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        statements.append(" ".join(statement.split()))

    with app.app_context():
        tenants = db.session.scalars(select(Tenant).order_by(Tenant.slug)).all()
        engine = db.engine
        event.listen(engine, "before_cursor_execute", seen)
        try:
            rows = across(db.session, tenants)
        finally:
            event.remove(engine, "before_cursor_execute", seen)
        check_ins = 0
        for tenant in tenants:  # row by row, as the page never does
            with tenant_scope(db.session, tenant.id):
                check_ins += len(
                    db.session.scalars(
                        select(CheckIn.id).where(CheckIn.tenant_id == tenant.id)
                    ).all()
                )
    # Besides binding each commune's scope (set_config, on PostgreSQL).
    selects = [s for s in statements if s.upper().startswith("SELECT") and "set_config(" not in s]
    assert selects
    assert all(s.upper().startswith(("SELECT COUNT(", "SELECT SUM(")) for s in selects), selects
    assert [row.tenant.slug if row.tenant else None for row in rows] == [
        *[t.slug for t in tenants],
        None,
    ]
    total = rows[-1].indicators
    assert check_ins >= 10 and total.check_ins == check_ins
