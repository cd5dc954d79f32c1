"""Notifications as participants receive them: when the council does not adopt the plan as
voted, and to invite them to the public review a year later, every member of the edition's
bodies is notified; those with an address get an e-mail; each sees only their own.

A notification is stored as a kind and its parameters, never as text: each reader gets it in
their own language (the page in the language they read the site in, the mail in their
account's), whatever the language of the person who acted, with links to the right page of
the right commune, built from the commune's configured host."""

from __future__ import annotations

import re
from collections.abc import Mapping
from email.header import decode_header, make_header
from email.message import Message
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from agora.assembly import notices
from agora.assembly.bodies import add_person, edition_members
from agora.assembly.models import ActionPlan, Edition
from agora.extensions import db
from agora.identity.models import Account
from agora.jobs import enqueue
from agora.notifications import kinds
from agora.notifications.kinds import Link, RenderContext, Rendered
from agora.notifications.models import Notification
from agora.notifications.services import notify, url_of
from agora.petitions import services as petitions
from agora.petitions.models import Petition
from agora.shared.people import Person
from agora.tenancy.isolation import tenant_scope
from agora.tenancy.models import Tenant
from support import demo
from support.fixtures import REDIS_URL, LoadDemo, SignIn
from support.pages import page_text
from support.smtp import Inbox

POITIERS = {"Host": "poitiers.localhost"}
ATTESTS = {"lives_here": "yes", "old_enough": "yes"}
NBSP = "\u00a0"
MAGIC_LINK = re.compile(r"http://[^/\s]+(/login/magic/[A-Za-z0-9_-]+)")


def _subject(message: Message) -> str:
    return str(make_header(decode_header(str(message["Subject"])))).replace("\r\n", "")


def _body(message: Message) -> str:
    payload = message.get_payload(decode=True)
    assert isinstance(payload, bytes)
    return payload.decode().replace("\r\n", "\n")


def _tenant(app: Flask, slug: str) -> Tenant:
    with app.app_context():
        tenant = db.session.execute(select(Tenant).where(Tenant.slug == slug)).scalar_one()
        db.session.expunge(tenant)
        return tenant


def _locale_of(app: Flask, account_id: int) -> str:
    with app.app_context():
        account = db.session.get(Account, account_id)
        assert account is not None
        return account.locale


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
    app: Flask, load_demo: LoadDemo, onboarded: Path, inbox: Inbox, sign_in: SignIn
) -> None:
    # The demo's council adopts Poitiers' plan with one measure modified.
    load_demo("poitiers")
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
    subjects = sorted(_subject(m) for m in inbox.messages)
    assert [str(m["To"]) for m in inbox.messages] == ["membre.acp@example.fr"] * 2
    assert subjects == [
        f"Poitiers — Invitation{NBSP}: revue publique du plan d'action",
        "Poitiers — Le conseil municipal n'a pas adopté le plan d'action tel que voté",
    ]
    with app.app_context(), tenant_scope(db.session, tenant_id):
        plan = db.session.execute(select(ActionPlan)).scalar_one()
        edition = db.session.get(Edition, (tenant_id, plan.edition_id))
        assert edition is not None
        plan_id, year = plan.id, edition.year
    review, departure = sorted(map(_body, inbox.messages), key=lambda b: "Délibération" in b)
    # Rendered when sent, in French: the review's date and time in Paris, each link absolute.
    dates = demo.dates("poitiers")
    assert f"le {demo.french(dates.review)} à 18:30. Vous y êtes invité·e." in review, review
    assert review.endswith(f"\n\nhttp://poitiers.localhost/assemblee/{year}\n")
    assert departure.startswith(
        f"Délibération {dates.council.isoformat()}-04{NBSP}: "
        "1 mesure diffère du vote de l'assemblée."
    )
    assert departure.endswith(f"\n\nhttp://poitiers.localhost/council/{plan_id}\n")

    page = page_text(member.get("/notifications", headers=POITIERS))
    assert "Le conseil municipal n'a pas adopté le plan d'action tel que voté" in page
    assert "revue publique" in page and page.count("nouveau") == 2


def test_a_notification_is_read_only_by_its_recipient(
    app: Flask, client: FlaskClient, load_demo: LoadDemo, onboarded: Path, sign_in: SignIn
) -> None:
    load_demo("poitiers")
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
    app: Flask, runner: Any, load_demo: LoadDemo, onboarded: Path, inbox: Inbox, sign_in: SignIn
) -> None:
    # In the demo, the cycling network's service has not reported for 90 days.
    load_demo("poitiers")
    mayor = app.test_client()
    sign_in(
        mayor, "poitiers.localhost", "mairie@poitiers.fr", role="commune_admin", commune="poitiers"
    )
    for _ in range(2):  # a second run, the same day, sends nothing more
        assert runner.invoke(args=["assembly", "remind-overdue"]).exit_code == 0
    # The administrator, and the demo's agent (who visited doors for the draw): agents
    # update measures too.
    recipients = sorted(str(m["To"]) for m in inbox.messages)
    assert recipients == ["agent.quartiers@poitiers.example", "mairie@poitiers.fr"]
    told = next(m for m in inbox.messages if str(m["To"]) == "mairie@poitiers.fr")
    assert _subject(told) == "Poitiers — 1 mesure à mettre à jour sur la page de suivi"
    body = _body(told)
    assert f"Un réseau cyclable continu (Direction de la voirie){NBSP}: dernière" in body
    assert "depuis plus de 60 jours" in body and "Des rues scolaires" not in body

    page = mayor.get("/assemblee", headers=POITIERS).get_data(as_text=True)
    cycling = re.search(r'href="(/measures/\d+)">Un réseau cyclable continu', page)
    assert cycling, page
    # On the administrator's page too, linking to the measure; the mail to its full address.
    assert body.endswith(f"\n\nhttp://poitiers.localhost{cycling.group(1)}\n")
    mine = mayor.get("/notifications", headers=POITIERS).get_data(as_text=True)
    assert "1 mesure à mettre à jour sur la page de suivi" in mine
    assert f'href="{cycling.group(1)}"' in mine
    measure = page_text(mayor.get(cycling.group(1), headers=POITIERS))
    assert "mise à jour en retard" in measure
    assert "Élu·e référent·e : Adjointe aux mobilités" in measure

    # A new public update starts the clock again: the measure is no longer overdue.
    form = {"status": "delayed", "note": "Marché relancé."}
    update = "/admin" + cycling.group(1) + "/status"  # the staff page of the follow-up
    assert mayor.post(update, data=form, headers=POITIERS).status_code == 302
    assert "mise à jour en retard" not in page_text(mayor.get(cycling.group(1), headers=POITIERS))
    assert runner.invoke(args=["assembly", "remind-overdue"]).exit_code == 0
    assert len(inbox.messages) == 2


# --- each reader's language --------------------------------------------------------------


def _reader(app: Flask, sign_in: SignIn, email: str, language: str | None = None) -> FlaskClient:
    """A Poitiers administrator, signed in, reading the site in ``language`` if given."""
    client = app.test_client()
    account_id = sign_in(
        client, "poitiers.localhost", email, role="commune_admin", commune="poitiers"
    )
    if language:  # picking a language on the site, signed in, is remembered for the mails
        assert client.get(f"/?lang={language}", headers=POITIERS).status_code == 200
    assert _locale_of(app, account_id) == (language or "fr")
    return client


def _signed_49_times(app: Flask, petition_id: int) -> None:
    tenant = _tenant(app, "poitiers")
    with app.app_context(), tenant_scope(db.session, tenant.id):
        petition = db.session.get(Petition, (tenant.id, petition_id))
        assert petition is not None
        for index in range(49):
            person = add_person(db.session, tenant, f"Habitant {index}")
            petitions.sign(db.session, tenant, petition, person, lives_here=True, old_enough=True)
        db.session.commit()


def test_a_notification_made_in_english_reaches_each_reader_in_their_language(
    app: Flask, onboarded: Path, inbox: Inbox, sign_in: SignIn
) -> None:
    mayor = _reader(app, sign_in, "mairie@poitiers.fr")
    deputy = _reader(app, sign_in, "deputy@example.org", "en")
    # Residents reading the site in English open a petition and give it its 50th signature.
    resident = app.test_client()
    sign_in(resident, "poitiers.localhost", "author@example.org")
    assert resident.get("/?lang=en", headers=POITIERS).status_code == 200
    opened = resident.post(
        "/petitions",
        data={"title": "Des bancs place d'Armes", "text": "Nous demandons des bancs."},
        headers=POITIERS,
    )
    assert opened.status_code == 302, page_text(opened)
    petition_id = int(opened.headers["Location"].rsplit("/", 1)[1])
    _signed_49_times(app, petition_id)
    sign_in(resident, "poitiers.localhost", "signer@example.org")
    assert resident.get("/?lang=en", headers=POITIERS).status_code == 200
    signed = resident.post(f"/petitions/{petition_id}/sign", data=ATTESTS, headers=POITIERS)
    assert signed.status_code == 302, page_text(signed)

    # What is stored is a kind and the parameters to tell it: no text, no link, no language.
    tenant = _tenant(app, "poitiers")
    with app.app_context(), tenant_scope(db.session, tenant.id):
        rows = list(db.session.execute(select(Notification)).scalars())
    assert {c.name for c in Notification.__table__.columns} == {
        "tenant_id", "id", "person_id", "kind", "params", "emailed_at", "read_at", "created_at"
    }  # fmt: skip
    assert len(rows) == 2
    params = {"petition_id": petition_id, "level": "rencontre", "signatures": 50}
    assert [(r.kind, r.params) for r in rows] == [("petition.level_reached", params)] * 2

    # By mail, each in their account's language; the link on the commune's configured host.
    mails = {str(m["To"]): (_subject(m), _body(m)) for m in inbox.messages}
    link = f"http://poitiers.localhost/petitions/{petition_id}"
    assert mails["mairie@poitiers.fr"] == (
        f"Poitiers — Pétition{NBSP}: 50 signatures atteintes",
        f"La pétition «{NBSP}Des bancs place d'Armes{NBSP}» a recueilli 50 signatures, ce qui "
        f"engage la commune à{NBSP}: Rencontre avec le maire et les élu·es référent·es. Indiquez "
        f"sur la page de gestion des pétitions ce que fait la commune.\n\n{link}\n",
    )
    assert mails["deputy@example.org"] == (
        "Poitiers — Petition: 50 signatures reached",
        "The petition “Des bancs place d'Armes” has 50 signatures, which obliges the commune "
        "to: meeting with the mayor and elected referents. Record on the petitions' staff page "
        f"what the commune does.\n\n{link}\n",
    )

    # On the page, in the language the reader reads the site in, linking to the petition.
    french = page_text(mayor.get("/notifications", headers=POITIERS))
    assert "Pétition : 50 signatures atteintes" in french
    assert "Rencontre avec le maire et les élu·es référent·es" in french
    english = page_text(deputy.get("/notifications", headers=POITIERS))
    assert "Petition: 50 signatures reached" in english
    assert "meeting with the mayor and elected referents" in english
    assert "Pétition" not in english
    switched = mayor.get("/notifications?lang=en", headers=POITIERS).get_data(as_text=True)
    assert "Petition: 50 signatures reached" in switched
    assert f'href="/petitions/{petition_id}">Open the page concerned' in switched


def test_the_mail_is_written_when_sent_in_the_language_of_its_recipient_then(
    app: Flask, load_demo: LoadDemo, onboarded: Path, inbox: Inbox, sign_in: SignIn
) -> None:
    load_demo("poitiers")
    tenant_id, members = _decided_edition_members(app)
    member = app.test_client()
    account_id = sign_in(member, "poitiers.localhost", "member@example.org")
    _link_person(app, tenant_id, members[0], account_id)
    assert member.get("/?lang=en", headers=POITIERS).status_code == 200
    with app.app_context():
        enqueue("notifications.deliver", tenant_id=tenant_id)
    assert sorted(_subject(m) for m in inbox.messages) == [
        "Poitiers — Invitation: public review of the action plan",
        "Poitiers — The council did not adopt the action plan as voted",
    ]
    review = next(b for b in map(_body, inbox.messages) if "review" in b)
    day = demo.english(demo.dates("poitiers").review)
    assert re.search(rf"in public on {day} at 6:30\sPM\. You are invited\.", review)


def test_the_language_chosen_before_signing_in_stays_and_becomes_the_accounts(
    app: Flask, client: FlaskClient, onboarded: Path, inbox: Inbox
) -> None:
    assert client.get("/?lang=en", headers=POITIERS).status_code == 200
    asked = client.post("/login/magic", data={"email": "lee@example.org"}, headers=POITIERS)
    assert asked.status_code == 200
    found = MAGIC_LINK.search(inbox.bodies()[-1])
    assert found, inbox.bodies()[-1]
    assert client.post(found.group(1), headers=POITIERS).status_code == 302
    assert "My notifications" in page_text(client.get("/notifications", headers=POITIERS))
    with app.app_context():
        account = db.session.execute(
            select(Account).where(Account.email == "lee@example.org")
        ).scalar_one()
        account_id = account.id
    assert _locale_of(app, account_id) == "en"
    assert client.get("/?lang=fr", headers=POITIERS).status_code == 200
    assert _locale_of(app, account_id) == "fr"
    assert "Mes notifications" in page_text(client.get("/notifications", headers=POITIERS))


# --- the registry and links --------------------------------------------------------------


def test_links_go_to_the_commune_of_the_notification_on_its_configured_host(
    app: Flask, onboarded: Path
) -> None:
    grenoble = _tenant(app, "grenoble")
    link = Link("petitions.petition_page", {"petition_id": 7}, anchor="levels")
    with app.app_context():
        assert (
            url_of(grenoble, link, external=True) == "http://grenoble.localhost/petitions/7#levels"
        )
        assert url_of(grenoble, link, external=False) == "/petitions/7#levels"
    # Whatever host the request that renders it came on.
    with app.test_request_context("/", headers={"Host": "poitiers.localhost:8000"}):
        assert (
            url_of(grenoble, link, external=True) == "http://grenoble.localhost/petitions/7#levels"
        )
    # A production configuration: its base domain, HTTPS, a port if it is not 443.
    app.config.update(AGORA_BASE_DOMAIN="agora.example", AGORA_PUBLIC_SCHEME="https")
    with app.app_context():
        assert url_of(grenoble, "/old", external=True) == "https://grenoble.agora.example/old"
    app.config["AGORA_PUBLIC_PORT"] = "8443"
    with app.app_context():
        assert (
            url_of(grenoble, link, external=True)
            == "https://grenoble.agora.example:8443/petitions/7#levels"
        )


def test_kinds_are_registered_once_and_an_unknown_one_still_shows(
    app: Flask, onboarded: Path
) -> None:
    assert {
        "legacy",
        notices.COUNCIL_DIVERGED,
        notices.REVIEW_INVITED,
        notices.MEASURE_OVERDUE,
        "petition.level_reached",
        "petition.decided",
    } <= kinds.registered_kinds()

    def other(context: RenderContext, params: Mapping[str, Any]) -> Rendered:
        return Rendered("", "")

    with pytest.raises(ValueError, match="already registered"):
        kinds.renderer(notices.COUNCIL_DIVERGED)(other)
    tenant = _tenant(app, "poitiers")
    with app.app_context(), tenant_scope(db.session, tenant.id):
        person = add_person(db.session, tenant, "Camille")
        with pytest.raises(LookupError, match="has no renderer"):
            notify(db.session, tenant, [person], "nobody.registers_this", {})
        context = RenderContext(db.session, tenant, "fr")
        assert kinds.render(context, "gone.kind", {}) == Rendered("Notification", "")
        # What a notification tells of has gone: it shows without its text, not an error.
        gone = kinds.render(context, "petition.decided", {"petition_id": 1})
        assert gone == Rendered("Notification", "")
        legacy = {"kind": "review.invited", "subject": "Sujet", "body": "Texte", "link": "/x"}
        assert kinds.render(context, "legacy", legacy) == Rendered("Sujet", "Texte", "/x")
        db.session.rollback()


@pytest.mark.redis
@pytest.mark.skipif(REDIS_URL is None, reason="needs AGORA_TEST_REDIS_URL; .ci/run sets it")
def test_the_mail_is_queued_after_commit_and_written_by_the_worker(
    app: Flask, load_demo: LoadDemo, onboarded: Path, inbox: Inbox, sign_in: SignIn
) -> None:
    from redis import Redis
    from rq import SimpleWorker

    from agora.jobs import get_queue

    load_demo("poitiers")
    assert REDIS_URL is not None
    Redis.from_url(REDIS_URL).flushdb()
    app.config["AGORA_REDIS_URL"] = REDIS_URL
    tenant_id, members = _decided_edition_members(app)
    member = app.test_client()
    _link_person(app, tenant_id, members[0], sign_in(member, "poitiers.localhost", "m@example.org"))
    with app.app_context(), tenant_scope(db.session, tenant_id):
        tenant = db.session.get(Tenant, tenant_id)
        person = db.session.get(Person, (tenant_id, members[0]))
        assert tenant is not None and person is not None
        told = db.session.execute(
            select(Notification).where(Notification.kind == notices.COUNCIL_DIVERGED).limit(1)
        ).scalar_one()
        notify(db.session, tenant, [person], notices.COUNCIL_DIVERGED, told.params)
        # A savepoint released inside the transaction (a register's import does so) commits
        # nothing yet: nothing is queued.
        db.session.begin_nested().commit()
        assert get_queue(REDIS_URL).jobs == []
        assert inbox.messages == []
        db.session.commit()  # the job is queued once the transaction commits
    queue = get_queue(REDIS_URL)
    assert [job.args[0] for job in queue.jobs] == ["notifications.deliver"]
    assert inbox.messages == []
    # The member switches to English before the worker runs: the mails are written in it.
    assert member.get("/?lang=en", headers=POITIERS).status_code == 200
    with app.app_context():
        SimpleWorker([queue], connection=queue.connection).work(burst=True)
    assert sorted(_subject(m) for m in inbox.messages) == [
        "Poitiers — Invitation: public review of the action plan",
        "Poitiers — The council did not adopt the action plan as voted",
        "Poitiers — The council did not adopt the action plan as voted",
    ]
