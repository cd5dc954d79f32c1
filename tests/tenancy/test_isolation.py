"""Tenant isolation: the application answers 404 across communes, and on PostgreSQL the
database itself refuses to show or write another commune's rows."""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import tomli_w
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import create_engine, select, text

from agora.assembly.models import CheckIn, VotingCard
from agora.billing import services as billing
from agora.billing.models import InvoiceStatus, StripeEvent
from agora.db import GLOBAL_TABLES_WITH_TENANT_REF, TENANT_TABLES
from agora.draws.models import Draw, VisitRound
from agora.extensions import db
from agora.plugins.manager import get_registry
from agora.tenancy.config import TenantConfig
from agora.tenancy.isolation import tenant_scope
from agora.tenancy.models import Tenant
from agora.tenancy.services import current_config
from support.fixtures import APP_ROLE, Database, LoadDemo, SignIn
from support.pages import page_text

pytestmark = pytest.mark.embedded  # see tests/conftest.py


@dataclass(frozen=True)
class Probe:
    """A request reaching one tenant-owned row of Grenoble, tried from Poitiers.

    ``missing_path`` is the same request for a row that exists nowhere (``None`` when the
    path names no row); ``counted`` names a table whose Grenoble rows a refused write must
    leave unchanged (for records no page ever shows one by one: the votes).
    """

    table: str
    method: str
    path: str
    missing_path: str | None = None
    counted: str | None = None


def _grenoble_rows(app: Flask) -> dict[str, list[int]]:
    """Ids of Grenoble's rows, per table (read with Grenoble bound: row-level security)."""
    rows: dict[str, list[int]] = {}
    with app.app_context():
        grenoble = db.session.execute(select(Tenant).where(Tenant.slug == "grenoble")).scalar_one()
        with tenant_scope(db.session, grenoble.id):
            for table in TENANT_TABLES:
                column = {
                    "audit_event": "seq",
                    "tenant_config_version": "version",
                    # One row per commune, and Stripe's own event ids.
                    "billing_profile": "tenant_id",
                    "stripe_event": "event_id",
                }.get(table, "id")
                if table == "ballot_voter":
                    column = "person_id"
                if table == "register_block":
                    column = "number"
                rows[table] = list(
                    db.session.execute(
                        text(f"SELECT {column} FROM {table} WHERE tenant_id = :t ORDER BY 1"),
                        {"t": grenoble.id},
                    ).scalars()
                )
    return rows


def _row(app: Flask, table: str, column: str, row_id: int) -> int:
    with app.app_context():
        grenoble = db.session.execute(select(Tenant).where(Tenant.slug == "grenoble")).scalar_one()
        with tenant_scope(db.session, grenoble.id):
            return int(
                db.session.execute(
                    text(f"SELECT {column} FROM {table} WHERE tenant_id = :t AND id = :i"),
                    {"t": grenoble.id, "i": row_id},
                ).scalar_one()
            )


def _probes(app: Flask, ids: dict[str, list[int]]) -> list[Probe]:
    first = {table: values[0] for table, values in ids.items() if values}
    note, option = first["feasibility_note"], first["ballot_option"]
    member, check_in, card = first["membership"], first["check_in"], first["voting_card"]
    ballot, amendment, milestone = first["ballot"], first["amendment"], first["milestone"]
    signature = first["petition_signature"]
    draw, register = first["draw"], first["draw_register"]
    return [
        Probe("tenant_config_version", "GET", "/rules/versions/3", "/rules/versions/999999"),
        Probe("audit_event", "GET", "/journal/4", "/journal/999999"),
        Probe(
            "role_grant",
            "POST",
            f"/admin/members/{first['role_grant']}/revoke",
            "/admin/members/9/revoke",
        ),
        Probe("identity_provider", "GET", "/login/oidc/franceconnect"),
        Probe("programme", "GET", f"/programme/sessions/{first['programme_session']}"),
        Probe(
            "programme_session",
            "GET",
            f"/programme/sessions/{first['programme_session']}",
            "/programme/sessions/9",
        ),
        Probe("edition", "GET", "/assemblee/2025", "/assemblee/1999"),
        Probe("body", "GET", f"/admin/bodies/{first['body']}", "/admin/bodies/9"),
        Probe("person", "GET", f"/admin/people/{first['person']}", "/admin/people/9"),
        Probe(
            "membership",
            "GET",
            f"/admin/bodies/{_row(app, 'membership', 'body_id', member)}/members/{member}",
        ),
        Probe("charter_version", "GET", "/charter/versions/1", "/charter/versions/99"),
        Probe("subject", "GET", f"/subjects/{first['subject']}", "/subjects/9"),
        Probe(
            "assembly_session",
            "GET",
            f"/admin/sessions/{first['assembly_session']}",
            "/admin/sessions/9",
        ),
        Probe(
            "check_in",
            "GET",
            f"/admin/sessions/{_row(app, 'check_in', 'session_id', check_in)}/check-ins/{check_in}",
        ),
        Probe(
            "assembly_session",
            "GET",
            f"/admin/sessions/{first['assembly_session']}/roster",
            "/admin/sessions/9/roster",
        ),
        Probe(
            "assembly_session",
            "GET",
            f"/sessions/{first['assembly_session']}/presence",
            "/sessions/9/presence",
        ),
        Probe(
            "assembly_session",
            "GET",
            f"/sessions/{first['assembly_session']}/presence/recorded",
            "/sessions/9/presence/recorded",
        ),
        Probe(
            "voting_card",
            "POST",
            f"/admin/sessions/{_row(app, 'voting_card', 'session_id', card)}/voting-cards.pdf",
            "/admin/sessions/9/voting-cards.pdf",
            counted="voting_card",
        ),
        Probe(
            "check_in",
            "POST",
            f"/admin/sessions/{_row(app, 'check_in', 'session_id', check_in)}"
            f"/roster/{_row(app, 'check_in', 'person_id', check_in)}/check-in",
            counted="check_in",
        ),
        Probe("proposal", "GET", f"/proposals/{first['proposal']}", "/proposals/9"),
        Probe(
            "feasibility_note",
            "GET",
            f"/proposals/{_row(app, 'feasibility_note', 'proposal_id', note)}/notes/{note}",
        ),
        Probe(
            "amendment",
            "POST",
            f"/proposals/{_row(app, 'amendment', 'proposal_id', amendment)}"
            f"/amendments/{amendment}/decision",
        ),
        Probe(
            "notification",
            "POST",
            f"/notifications/{first['notification']}/read",
            "/notifications/9/read",
        ),
        Probe("ballot", "GET", f"/ballots/{ballot}", "/ballots/9"),
        Probe(
            "ballot_option",
            "GET",
            f"/ballots/{_row(app, 'ballot_option', 'ballot_id', option)}/options/{option}",
        ),
        Probe("vote", "POST", f"/ballots/{ballot}/vote", counted="vote"),
        Probe("ballot_voter", "POST", f"/ballots/{ballot}/vote", counted="ballot_voter"),
        Probe("action_plan", "GET", f"/council/{first['action_plan']}", "/council/9"),
        Probe("measure", "GET", f"/measures/{first['measure']}", "/measures/9"),
        Probe(
            "milestone",
            "POST",
            f"/measures/{_row(app, 'milestone', 'measure_id', milestone)}"
            f"/milestones/{milestone}/reached",
        ),
        Probe(
            "council_deliberation",
            "GET",
            f"/council/deliberations/{first['council_deliberation']}",
            "/council/deliberations/9",
        ),
        Probe("petition", "GET", f"/petitions/{first['petition']}", "/petitions/9"),
        Probe(
            "petition_signature",
            "POST",
            f"/petitions/{_row(app, 'petition_signature', 'petition_id', signature)}/sign",
            "/petitions/9/sign",
            counted="petition_signature",
        ),
        Probe("draw", "GET", f"/admin/draws/{draw}", "/admin/draws/9"),
        Probe("draw", "GET", f"/draws/{draw}", "/draws/9"),
        Probe(
            "sub_draw",
            "POST",
            f"/admin/draws/{draw}/registers",
            "/admin/draws/9/registers",
            counted="draw_register",
        ),
        Probe(
            "draw_register",
            "GET",
            f"/admin/draws/{draw}/registers/{register}",
            "/admin/draws/9/registers/9",
        ),
        Probe(
            "register_block",
            "GET",
            f"/admin/draws/{draw}/registers/{register}",
            "/admin/draws/9/registers/9",
        ),
        Probe("invitation", "GET", f"/admin/draws/{draw}/stage1", "/admin/draws/9/stage1"),
        Probe(
            "draw_response",
            "POST",
            f"/r/{_invitation_code(app, first['invitation'])}",
            "/r/ZZZZZZZZZZ",
            counted="draw_response",
        ),
        Probe("draw_deviation", "GET", f"/draws/{draw}", "/draws/9"),
        Probe("visit_round", "GET", f"/visites/{first['visit_round']}", "/visites/9"),
        Probe("quote", "GET", f"/billing/quotes/{first['quote']}.pdf", "/billing/quotes/9.pdf"),
        Probe(
            "quote_line", "GET", f"/billing/quotes/{first['quote']}.pdf", "/billing/quotes/9.pdf"
        ),
        Probe(
            "invoice", "GET", f"/billing/invoices/{first['invoice']}.pdf", "/billing/invoices/9.pdf"
        ),
        # The quote carries the buyer's billing details.
        Probe(
            "billing_profile",
            "GET",
            f"/billing/quotes/{first['quote']}.pdf",
            "/billing/quotes/9.pdf",
        ),
        Probe(
            "stripe_event",
            "POST",
            f"/billing/quotes/{first['quote']}/refuse",
            "/billing/quotes/9/refuse",
            counted="stripe_event",
        ),
        Probe(
            "draw_pick",
            "POST",
            f"/admin/draws/{draw}/picks/{first['draw_pick']}/confirm",
            "/admin/draws/9/picks/9/confirm",
        ),
    ]


def test_no_commune_reaches_another_communes_rows(
    app: Flask,
    client: FlaskClient,
    runner: Any,
    load_demo: LoadDemo,
    sign_in: SignIn,
    onboarded: Path,
) -> None:
    """For every tenant-owned table: Grenoble's row, asked for from Poitiers, is a 404 that
    looks exactly like a missing row, and writes change nothing."""
    _grow_grenoble(runner, onboarded)
    load_demo("grenoble")
    _print_a_voting_card(app)
    _plan_a_round(app)
    _bill_grenoble(app)
    assert (
        runner.invoke(
            args=[
                "identity",
                "set-provider",
                "grenoble",
                "franceconnect",
                "--discovery-url",
                "http://127.0.0.1:9/.well-known/openid-configuration",
                "--client-id",
                "grenoble",
                "--client-secret",
                "s3cret",
            ]
        ).exit_code
        == 0
    )
    sign_in(
        client, "poitiers.localhost", "admin@poitiers.fr", role="commune_admin", commune="poitiers"
    )
    sign_in(
        client, "grenoble.localhost", "admin@grenoble.fr", role="commune_admin", commune="grenoble"
    )
    ids = _grenoble_rows(app)
    probes = _probes(app, ids)
    assert {probe.table for probe in probes} == TENANT_TABLES, (
        "add a probe for every tenant-owned table"
    )
    failures = []
    for probe in probes:
        poitiers = client.open(
            probe.path, method=probe.method, headers={"Host": "poitiers.localhost"}
        )
        if poitiers.status_code != 404:
            failures.append(
                f"{probe.table}: {probe.method} {probe.path} "
                f"from Poitiers gave {poitiers.status_code}"
            )
        if probe.missing_path is not None:
            missing = client.open(
                probe.missing_path, method=probe.method, headers={"Host": "poitiers.localhost"}
            )
            if _page(missing) != _page(poitiers):
                failures.append(
                    f"{probe.table}: another commune's row does not look like a missing one"
                )
        if probe.counted is not None:
            if _grenoble_rows(app)[probe.counted] != ids[probe.counted]:
                failures.append(f"{probe.table}: a refused write changed Grenoble's rows")
        elif probe.method == "GET":
            grenoble = client.get(probe.path, headers={"Host": "grenoble.localhost"})
            if grenoble.status_code not in (200, 302):
                failures.append(
                    f"{probe.table}: {probe.path} gave {grenoble.status_code} to Grenoble itself"
                )
    assert not failures, "\n".join(failures)


def _print_a_voting_card(app: Flask) -> None:
    """The demonstration's sessions are closed: a card printed for one of them before."""
    with app.app_context():
        grenoble = db.session.execute(select(Tenant).where(Tenant.slug == "grenoble")).scalar_one()
        with tenant_scope(db.session, grenoble.id):
            check_in = db.session.execute(select(CheckIn).limit(1)).scalar_one()
            db.session.add(
                VotingCard(
                    tenant_id=grenoble.id,
                    session_id=check_in.session_id,
                    person_id=check_in.person_id,
                    code_hash="0" * 64,
                )
            )
        db.session.commit()


def _plan_a_round(app: Flask) -> None:
    """Grenoble's roll invites by letter: a door-to-door round planned for its draw all
    the same, so that a round exists to be reached."""
    with app.app_context():
        grenoble = db.session.execute(select(Tenant).where(Tenant.slug == "grenoble")).scalar_one()
        with tenant_scope(db.session, grenoble.id):
            draw_id = db.session.execute(select(Draw.id).limit(1)).scalar_one()
            db.session.add(
                VisitRound(tenant_id=grenoble.id, draw_id=draw_id, name="Secteur 2, samedi")
            )
        db.session.commit()


def _bill_grenoble(app: Flask) -> None:
    """Grenoble accepted a quote (its invoices recorded) and Stripe told of one of them."""
    with app.app_context():
        grenoble = db.session.execute(select(Tenant).where(Tenant.slug == "grenoble")).scalar_one()
        with tenant_scope(db.session, grenoble.id):
            details = billing.ProfileValues(
                "Ville de Grenoble", "21380185500015", "FINANCES", "EJ-1", "f@grenoble.fr", ""
            )
            billing.save_profile(db.session, grenoble, details, "test")
            rules = current_config(db.session, grenoble)
            assert rules is not None
            template = get_registry().view(TenantConfig(rules.document)).programme_template()
            quote = billing.draft_quote(db.session, grenoble, template, "test")
            billing.send_quote(db.session, grenoble, quote, "test")
            invoices = billing.accept_quote(db.session, grenoble, quote, "test")
            # As Stripe would have issued the first one.
            invoices[0].number, invoices[0].stripe_invoice_id = "GRE-0001", "in_grenoble"
            invoices[0].status = InvoiceStatus.OPEN
            db.session.add(
                StripeEvent(
                    tenant_id=grenoble.id,
                    event_id="evt_grenoble",
                    event_type="invoice.paid",
                    invoice_id=invoices[0].id,
                )
            )
        db.session.commit()


def _invitation_code(app: Flask, invitation_id: int) -> str:
    with app.app_context():
        grenoble = db.session.execute(select(Tenant).where(Tenant.slug == "grenoble")).scalar_one()
        with tenant_scope(db.session, grenoble.id):
            return str(
                db.session.execute(
                    text("SELECT code FROM invitation WHERE tenant_id = :t AND id = :i"),
                    {"t": grenoble.id, "i": invitation_id},
                ).scalar_one()
            )


def _page(response: Any) -> str:
    # The sign-out form's CSRF token carries the second it was made: set it aside.
    return re.sub(r'name="csrf_token" value="[^"]+"', "", response.get_data(as_text=True))


def _grow_grenoble(runner: Any, files: Path) -> None:
    """Give Grenoble three configuration versions (and public journal entries) to Poitiers' one."""
    path = files / "grenoble.toml"
    for days in (7, 8):
        document = tomllib.loads(path.read_text(encoding="utf-8"))
        document["assembly"]["working_days"] = days
        path.write_text(tomli_w.dumps(document), encoding="utf-8")
        assert runner.invoke(args=["tenants", "apply", str(path)]).exit_code == 0


def test_host_resolution(client: FlaskClient, onboarded: Path, app: Flask) -> None:
    assert client.get("/", headers={"Host": "poitiers.localhost"}).status_code == 200
    assert client.get("/", headers={"Host": "inconnue.localhost"}).status_code == 404
    for reserved in ("www", "auth", "api", "admin", "static"):
        assert client.get("/", headers={"Host": f"{reserved}.localhost"}).status_code == 404
    assert client.get("/", headers={"Host": "a.b.localhost"}).status_code == 404
    # Outside the trusted hosts Flask refuses the request before any view runs.
    refused = client.get("/", headers={"Host": "evil.example"})
    assert refused.status_code == 400
    assert b"Traceback" not in refused.data
    # In French, about the address (werkzeug's own words are English, about the server).
    assert "Aucune commune ni aucun service de cette plateforme ne répond à cette adresse." in (
        page_text(refused)
    )
    assert "trusted" not in refused.get_data(as_text=True)


def test_custom_domain_serves_its_commune(database: Database, onboarded: Path) -> None:
    from agora import create_app

    # Custom domains are read into TRUSTED_HOSTS when the application starts.
    app = create_app({"SQLALCHEMY_DATABASE_URI": database.app_url, "TESTING": True})
    page = app.test_client().get("/", headers={"Host": "participer.poitiers.fr"})
    assert page.status_code == 200
    assert "Assemblée Citoyenne et Populaire" in page.get_data(as_text=True)
    with app.app_context():
        db.engine.dispose()


def test_a_prospect_has_no_public_page(client: FlaskClient, runner: Any, onboarded: Path) -> None:
    path = onboarded / "grenoble.toml"
    document = tomllib.loads(path.read_text(encoding="utf-8"))
    document["commune"]["slug"] = "saint-prospect"
    document["commune"]["insee_code"] = "99999"
    document["commune"]["status"] = "prospect"
    path.write_text(tomli_w.dumps(document), encoding="utf-8")
    assert runner.invoke(args=["tenants", "apply", str(path)]).exit_code == 0
    assert client.get("/", headers={"Host": "saint-prospect.localhost"}).status_code == 404


def test_console_and_public_pages_stay_on_their_hosts(
    client: FlaskClient, onboarded: Path, sign_in: SignIn
) -> None:
    sign_in(client, "localhost", "staff@cooperative.example", staff_of=("poitiers",))
    assert client.get("/console/plugins", headers={"Host": "localhost"}).status_code == 200
    assert client.get("/console/plugins", headers={"Host": "poitiers.localhost"}).status_code == 404
    assert client.get("/journal", headers={"Host": "localhost"}).status_code == 404


# --- PostgreSQL: the database enforces isolation by itself -------------------------------


def _tenant_ids(app: Flask) -> dict[str, int]:
    with app.app_context():
        return {t.slug: t.id for t in db.session.scalars(select(Tenant))}


def test_catalog_every_tenant_table_has_forced_rls_and_tenant_first_keys(
    postgresql_database: Database, onboarded: Path
) -> None:
    with postgresql_database.owner.connect() as connection:
        with_tenant_column = set(
            connection.execute(
                text(
                    "SELECT c.relname FROM pg_class c "
                    "JOIN pg_namespace n ON n.oid = c.relnamespace AND n.nspname = 'public' "
                    "JOIN pg_attribute a ON a.attrelid = c.oid AND a.attname = 'tenant_id' "
                    "AND NOT a.attisdropped WHERE c.relkind IN ('r', 'p')"
                )
            ).scalars()
        )
        lacking_rls = set(
            connection.execute(
                text(
                    "SELECT relname FROM pg_class WHERE relname = ANY(:tables) "
                    "AND NOT (relrowsecurity AND relforcerowsecurity)"
                ),
                {"tables": sorted(with_tenant_column)},
            ).scalars()
        )
        pk_not_tenant_first = set(
            connection.execute(
                text(
                    "SELECT c.relname FROM pg_constraint k JOIN pg_class c ON c.oid = k.conrelid "
                    "WHERE k.contype IN ('p', 'u') AND c.relname = ANY(:tables) AND "
                    "(SELECT attname FROM pg_attribute WHERE attrelid = c.oid "
                    "AND attnum = k.conkey[1]) <> 'tenant_id'"
                ),
                {"tables": sorted(TENANT_TABLES)},
            ).scalars()
        )
    assert with_tenant_column - GLOBAL_TABLES_WITH_TENANT_REF == TENANT_TABLES
    assert not (lacking_rls - GLOBAL_TABLES_WITH_TENANT_REF), lacking_rls
    assert not pk_not_tenant_first, pk_not_tenant_first


def test_app_role_cannot_bypass_rls(postgresql_database: Database) -> None:
    with postgresql_database.owner.connect() as connection:
        role = connection.execute(
            text("SELECT rolsuper, rolbypassrls FROM pg_roles WHERE rolname = :r"), {"r": APP_ROLE}
        ).one()
        owned = connection.execute(
            text("SELECT count(*) FROM pg_tables WHERE schemaname = 'public' AND tableowner = :r"),
            {"r": APP_ROLE},
        ).scalar()
    assert (role.rolsuper, role.rolbypassrls, owned) == (False, False, 0)


def test_raw_select_as_app_role_sees_only_the_bound_commune(
    postgresql_database: Database, app: Flask, onboarded: Path
) -> None:
    ids = _tenant_ids(app)
    engine = create_engine(postgresql_database.app_url)
    try:
        with engine.connect() as connection:
            # A forgotten WHERE, with no commune bound: nothing at all.
            assert connection.execute(text("SELECT count(*) FROM audit_event")).scalar() == 0
        for slug, tenant_id in ids.items():
            with engine.begin() as connection:
                connection.execute(
                    text("SELECT set_config('app.tenant_id', :t, true)"), {"t": str(tenant_id)}
                )
                seen = set(connection.execute(text("SELECT tenant_id FROM audit_event")).scalars())
                assert seen == {tenant_id}, slug
        with engine.connect() as connection:
            # The binding died with its transaction: the pooled connection is clean again.
            assert connection.execute(text("SELECT count(*) FROM audit_event")).scalar() == 0
    finally:
        engine.dispose()


def test_writing_another_communes_row_is_refused(
    postgresql_database: Database, app: Flask, onboarded: Path
) -> None:
    ids = _tenant_ids(app)
    engine = create_engine(postgresql_database.app_url)
    try:
        with engine.connect() as connection:
            connection.execute(
                text("SELECT set_config('app.tenant_id', :t, true)"), {"t": str(ids["poitiers"])}
            )
            with pytest.raises(Exception, match="row-level security"):
                connection.execute(
                    text(
                        "INSERT INTO tenant_config_version "
                        "(tenant_id, version, document, digest, source, created_at) "
                        "VALUES (:t, 99, '{}', 'x', 'forged', now())"
                    ),
                    {"t": ids["grenoble"]},
                )
    finally:
        engine.dispose()


def test_binding_does_not_leak_through_the_pool_after_a_commit(
    postgresql_database: Database, onboarded: Path
) -> None:
    from agora import create_app

    app = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": postgresql_database.app_url,
            "TESTING": True,
            "SQLALCHEMY_ENGINE_OPTIONS": {"pool_size": 1, "max_overflow": 0},
        }
    )
    try:
        # A request bound to Poitiers that commits, on the pool's only connection…
        with app.test_request_context("/", headers={"Host": "poitiers.localhost"}):
            app.preprocess_request()
            assert db.session.execute(text("SELECT count(*) FROM audit_event")).scalar()
            db.session.commit()
        # …then the next user of that connection, with no commune bound, sees nothing.
        with app.app_context():
            assert db.session.execute(text("SELECT count(*) FROM audit_event")).scalar() == 0
    finally:
        with app.app_context():
            db.engine.dispose()
