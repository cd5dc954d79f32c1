"""A double click on "sign", on PostgreSQL: a person new to the commune sends two signatures
at once, and one is counted. (SQLite runs one writer at a time, so the race needs
PostgreSQL.)"""

from __future__ import annotations

import re
import threading
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

import agora.shared.people as people
from agora.extensions import db
from agora.petitions.models import Petition, PetitionSignature
from agora.tenancy.isolation import tenant_scope
from agora.tenancy.models import Tenant
from support.fixtures import Database, SignIn

POITIERS = {"Host": "poitiers.localhost"}
DECLARATIONS = {"lives_here": "yes", "old_enough": "yes"}


def _open_petition(client: FlaskClient) -> int:
    response = client.post(
        "/petitions", data={"title": "Des bancs", "text": "Nous demandons."}, headers=POITIERS
    )
    assert response.status_code == 302, response.get_data(as_text=True)
    found = re.search(r"/petitions/(\d+)$", response.headers["Location"])
    assert found
    return int(found.group(1))


def test_two_signatures_sent_at_once_by_a_newcomer_count_once(
    postgresql_database: Database,
    onboarded: Path,
    app: Flask,
    sign_in: SignIn,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    author = app.test_client()
    sign_in(author, "poitiers.localhost", "autrice@example.fr")
    petition_id = _open_petition(author)
    first, second = app.test_client(), app.test_client()
    account_id = sign_in(first, "poitiers.localhost", "double@example.fr")
    sign_in(second, "poitiers.localhost", "double@example.fr")

    # Both requests have looked for the newcomer's participant record and found none before
    # either creates it: the worst interleaving, every time.
    both_looked = threading.Barrier(2, timeout=10)
    look = people.person_of_account

    def look_together(*args: Any, **kwargs: Any) -> people.Person | None:
        found = look(*args, **kwargs)
        if found is None:
            both_looked.wait()
        return found

    monkeypatch.setattr(people, "person_of_account", look_together)
    answers: list[tuple[int, str]] = []

    def sign(client: FlaskClient) -> None:
        response = client.post(
            f"/petitions/{petition_id}/sign", data=DECLARATIONS, headers=POITIERS
        )
        answers.append((response.status_code, response.get_data(as_text=True)))

    threads = [threading.Thread(target=sign, args=(c,)) for c in (first, second)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(status for status, _ in answers) == [302, 409]
    refused = next(body for status, body in answers if status == 409)
    assert "Vous avez déjà signé cette pétition" in refused
    with app.app_context():
        tenant = db.session.execute(select(Tenant).where(Tenant.slug == "poitiers")).scalar_one()
        with tenant_scope(db.session, tenant.id):
            records = db.session.execute(
                select(func.count())
                .select_from(people.Person)
                .where(people.Person.account_id == account_id)
            ).scalar_one()
            signatures = db.session.execute(
                select(func.count())
                .select_from(PetitionSignature)
                .where(PetitionSignature.petition_id == petition_id)
            ).scalar_one()
            petition = db.session.get(Petition, (tenant.id, petition_id))
            assert petition is not None
            assert (records, signatures, petition.signature_count) == (1, 1, 1)
