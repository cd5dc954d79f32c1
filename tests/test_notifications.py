"""Notifications as participants receive them: when the council does not adopt the plan as
voted, and to invite them to the public review a year later, every member of the edition's
bodies is notified; those with an address get an e-mail; each sees only their own."""

from __future__ import annotations

import re
from email.header import decode_header, make_header
from pathlib import Path
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from agora.assembly.bodies import edition_members
from agora.assembly.models import ActionPlan, Edition
from agora.extensions import db
from agora.jobs import enqueue
from agora.notifications.models import Notification
from agora.shared.people import Person
from agora.tenancy.isolation import tenant_scope
from agora.tenancy.models import Tenant
from support.fixtures import SignIn
from support.pages import page_text
from support.smtp import Inbox

POITIERS = {"Host": "poitiers.localhost"}


def _decided_edition_members(app: Flask) -> tuple[int, list[int]]:
    """Poitiers' id and the members of its edition whose plan the council answered."""
    with app.app_context():
        tenant = db.session.execute(select(Tenant).where(Tenant.slug == "poitiers")).scalar_one()
        with tenant_scope(db.session, tenant.id):
            plan = db.session.execute(select(ActionPlan)).scalars().one()
            edition = db.session.get(Edition, (tenant.id, plan.edition_id))
            assert edition is not None
            members = [p.id for p in db.session.execute(edition_members(edition)).scalars()]
        return tenant.id, members


def _link_person(app: Flask, tenant_id: int, person_id: int, account_id: int) -> None:
    with app.app_context():
        with tenant_scope(db.session, tenant_id):
            person = db.session.get(Person, (tenant_id, person_id))
            assert person is not None
            person.account_id = account_id
        db.session.commit()


def test_members_are_notified_of_a_divergence_and_invited_to_the_review_by_mail(
    app: Flask, runner: Any, onboarded: Path, inbox: Inbox, sign_in: SignIn
) -> None:
    # The demo's council adopts Poitiers' plan with one measure modified.
    assert runner.invoke(args=["demo", "load", "poitiers"]).exit_code == 0
    tenant_id, members = _decided_edition_members(app)
    assert len(members) > 20
    with app.app_context(), tenant_scope(db.session, tenant_id):
        kinds = dict(
            db.session.execute(
                select(Notification.kind, func.count()).group_by(Notification.kind)
            ).all()
        )
    assert kinds == {"council.diverged": len(members), "review.invited": len(members)}
    assert inbox.messages == []  # the demo's residents have no address

    member = app.test_client()
    account_id = sign_in(member, "poitiers.localhost", "membre.acp@example.fr")
    _link_person(app, tenant_id, members[0], account_id)
    with app.app_context():
        enqueue("notifications.deliver", tenant_id=tenant_id)
    subjects = sorted(
        str(make_header(decode_header(str(m["Subject"])))).replace("\r\n", "")
        for m in inbox.messages
    )
    assert [str(m["To"]) for m in inbox.messages] == ["membre.acp@example.fr"] * 2
    assert subjects == [
        "Poitiers — Invitation : revue publique du plan d'action",
        "Poitiers — Le conseil municipal n'a pas adopté le plan d'action tel que voté",
    ]
    assert any("http://poitiers.localhost/council/" in body for body in inbox.bodies())

    page = page_text(member.get("/notifications", headers=POITIERS))
    assert "Le conseil municipal n'a pas adopté le plan d'action tel que voté" in page
    assert "revue publique" in page and page.count("nouveau") == 2


def test_a_notification_is_read_only_by_its_recipient(
    app: Flask, client: FlaskClient, runner: Any, onboarded: Path, sign_in: SignIn
) -> None:
    assert runner.invoke(args=["demo", "load", "poitiers"]).exit_code == 0
    tenant_id, members = _decided_edition_members(app)
    owner, other = app.test_client(), app.test_client()
    _link_person(app, tenant_id, members[0], sign_in(owner, "poitiers.localhost", "a@example.fr"))
    sign_in(other, "poitiers.localhost", "b@example.fr")
    found = re.findall(
        r"/notifications/(\d+)/read",
        owner.get("/notifications", headers=POITIERS).get_data(as_text=True),
    )
    assert len(found) == 2
    assert "Aucune notification" in page_text(other.get("/notifications", headers=POITIERS))
    assert other.post(f"/notifications/{found[0]}/read", headers=POITIERS).status_code == 404
    assert owner.post(f"/notifications/{found[0]}/read", headers=POITIERS).status_code == 302
    assert page_text(owner.get("/notifications", headers=POITIERS)).count("nouveau") == 1


def test_an_overdue_measure_is_signalled_once_to_the_communes_administration(
    app: Flask, runner: Any, onboarded: Path, inbox: Inbox, sign_in: SignIn
) -> None:
    # In the demo, the cycling network's service has not reported for 90 days.
    assert runner.invoke(args=["demo", "load", "poitiers"]).exit_code == 0
    mayor = app.test_client()
    sign_in(
        mayor, "poitiers.localhost", "mairie@poitiers.fr", role="commune_admin", commune="poitiers"
    )
    for _ in range(2):  # a second run, the same day, sends nothing more
        assert runner.invoke(args=["assembly", "remind-overdue"]).exit_code == 0
    assert [str(m["To"]) for m in inbox.messages] == ["mairie@poitiers.fr"]
    body = inbox.bodies()[0]
    assert "Un réseau cyclable continu (Direction de la voirie)" in body
    assert "depuis plus de 60 jours" in body and "Des rues scolaires" not in body

    page = mayor.get("/assemblee", headers=POITIERS).get_data(as_text=True)
    cycling = re.search(r'href="(/measures/\d+)">Un réseau cyclable continu', page)
    assert cycling, page
    measure = page_text(mayor.get(cycling.group(1), headers=POITIERS))
    assert "mise à jour en retard" in measure
    assert "Élu·e référent·e : Adjointe aux mobilités" in measure

    # A new public update starts the clock again: the measure is no longer overdue.
    form = {"status": "delayed", "note": "Marché relancé."}
    assert mayor.post(cycling.group(1) + "/status", data=form, headers=POITIERS).status_code == 302
    assert "mise à jour en retard" not in page_text(mayor.get(cycling.group(1), headers=POITIERS))
    assert runner.invoke(args=["assembly", "remind-overdue"]).exit_code == 0
    assert len(inbox.messages) == 1
