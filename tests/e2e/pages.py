"""Every page of the site, for every kind of person: derived from the application's URL map
and the demonstration's records, so that a new page is visited (or the suite fails, naming
the route it cannot visit).

Used by ``test_every_page.py`` (axe and the page's width at 360, 768 and 1280 px) and by
``test_screenshots.py`` (``make screenshots``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from flask import Flask
from flask.sessions import SecureCookieSessionInterface
from playwright.sync_api import Browser, BrowserContext
from sqlalchemy import select

from support.sessions import open_test_session

#: The served application's session key (conftest.py serves the site with it; the suite
#: signs its people's sessions with it).
SECRET_KEY = "e2e-secret"

#: GET routes that are not pages a person reads, and why. Every other GET route is visited.
NOT_PAGES: dict[str, str] = {
    "static": "files (stylesheet, script)",
    "public.theme_css": "the commune's stylesheet",
    "assembly.sessions_calendar": "an iCalendar feed",
    "programme.calendar_feed": "an iCalendar feed",
    "assembly.decisions_csv": "open data (CSV)",
    "petitions.petitions_csv": "open data (CSV)",
    "assembly.charter_pdf": "a PDF",
    "assembly.follow_up_pdf": "a PDF",
    "identity.my_data_json": "a JSON download",
    "public.rules_version_toml": "a version of the rules as its TOML file",
    "assembly.option_page": "a redirect to the ballot's page",
    "console.open_commune": "a redirect to the commune's staff space",
    "identity.oidc_start": "a redirect to the sign-in host, then the identity provider",
    "identity.oidc_begin": "a redirect to the identity provider (sign-in host)",
    "identity.oidc_callback": "the identity provider's return (sign-in host)",
    "identity.oidc_logout": "a redirect to the identity provider (sign-in host)",
    "identity.oidc_logged_out": "the identity provider's return (sign-in host)",
    "identity.handoff": "the landing of a one-minute hand-off token, no page of its own",
    "draws.letters_pdf": "a PDF for the print shop",
    "draws.letters_part": "a PDF for the print shop (one part of the batch)",
    "draws.letters_zip": "a ZIP of PDFs for the print shop",
    "draws.visit_sheet": "a PDF to print",
    # The downloads of a draw's public record.
    "draws.record_export": "a JSON download",
    "draws.engine_record": "a JSON download (one sub-draw's engine record)",
    "draws.funnel_csv": "open data (CSV)",
    "draws.representativeness_csv": "open data (CSV)",
    "draws.proces_verbal": "a PDF",
    # Billing's documents (quote and invoice PDFs, the Factur-X copy for Chorus Pro).
    "billing.quote_pdf": "a PDF",
    "billing.invoice_pdf": "a PDF",
    "billing.invoice_facturx": "a Factur-X PDF",
    "billing_console.staff_quote_pdf": "a PDF",
    "billing_console.staff_invoice_pdf": "a PDF",
    "billing_console.staff_invoice_facturx": "a Factur-X PDF",
    "indicators.across_communes_csv": "a spreadsheet (CSV)",
}

#: The people who visit, by the role they hold in Poitiers (``None``: anonymous).
ROLES: dict[str, dict[str, Any]] = {
    "anonymous": {},
    "resident": {"email": "habitante@example.fr", "role": "resident"},
    "commune admin": {"email": "mairie@poitiers.example", "role": "commune_admin"},
    "elected member": {"email": "elu@poitiers.example", "role": "elected"},
    "staff": {"email": "equipe@cooperative.example", "staff": True},
}


@dataclass(frozen=True)
class Visit:
    """One page to visit: its route, the address on its host."""

    endpoint: str
    host: str  # "tenant" (Poitiers) or "platform" (the console)
    path: str


def _first(session: Any, statement: Any) -> Any:
    value = session.execute(statement.limit(1)).scalar()
    assert value is not None, f"the demonstration has no row for {statement}"
    return value


def demo_values(app: Flask, tenant_id: int) -> dict[str, Callable[[], Any]]:
    """The values of the routes' arguments, from Poitiers' demonstration data (read lazily,
    inside a tenant scope)."""
    from agora.assembly.models import (
        ActionPlan,
        AssemblySession,
        Ballot,
        BallotOption,
        Body,
        CharterVersion,
        CheckIn,
        CouncilDeliberation,
        Edition,
        FeasibilityNote,
        Measure,
        Membership,
        Proposal,
        Subject,
    )
    from agora.audit.models import AuditEvent
    from agora.draws.models import Draw, Invitation, Pick, Register, SubDraw, VisitRound
    from agora.petitions.models import Petition
    from agora.programme.models import ProgrammeSession
    from agora.shared.people import Person
    from agora.tenancy.models import TenantConfigVersion

    def column(model: Any, name: str = "id", *where: Any) -> Any:
        return select(getattr(model, name)).where(model.tenant_id == tenant_id, *where)

    ballot = column(Ballot)
    proposal_note = select(FeasibilityNote.proposal_id, FeasibilityNote.id).where(
        FeasibilityNote.tenant_id == tenant_id
    )
    membership = select(Membership.body_id, Membership.id).where(Membership.tenant_id == tenant_id)
    check_in = select(CheckIn.session_id, CheckIn.id).where(CheckIn.tenant_id == tenant_id)
    register = select(Register.draw_id, Register.id).where(Register.tenant_id == tenant_id)
    pick = select(Pick.draw_id, Pick.id).where(Pick.tenant_id == tenant_id)
    # A nested sub-draw first: its volunteers page is the one a sub-draw's id opens.
    sub_draw = (
        select(SubDraw.draw_id, SubDraw.id)
        .where(SubDraw.tenant_id == tenant_id)
        .order_by(SubDraw.source.startswith("members_").desc(), SubDraw.id)
    )
    visited = select(Invitation.visit_round_id, Invitation.id).where(
        Invitation.tenant_id == tenant_id, Invitation.visit_round_id.is_not(None)
    )
    return {
        "year": lambda: column(Edition, "year"),
        "body_id": lambda: column(Body),
        "edition_id": lambda: column(Edition),
        "membership_id": lambda: membership,
        "person_id": lambda: column(Person),
        "plan_id": lambda: column(ActionPlan),
        "session_id": lambda: column(AssemblySession),
        "programme_session_id": lambda: column(ProgrammeSession),
        "check_in_id": lambda: check_in,
        "ballot_id": lambda: ballot,
        "option_id": lambda: column(BallotOption),
        "number": lambda: column(CharterVersion, "number"),
        "deliberation_id": lambda: column(CouncilDeliberation),
        "seq": lambda: column(AuditEvent, "seq", AuditEvent.public.is_(True)),
        "measure_id": lambda: column(Measure),
        "petition_id": lambda: column(Petition),
        "proposal_id": lambda: column(Proposal),
        "note_id": lambda: proposal_note,
        "version": lambda: column(TenantConfigVersion, "version"),
        "subject_id": lambda: column(Subject),
        "draw_id": lambda: column(Draw),
        "register_id": lambda: register,
        "pick_id": lambda: pick,
        "sub_draw_id": lambda: sub_draw,
        "round_id": lambda: column(VisitRound),
        "invitation_id": lambda: visited,
        "code": lambda: column(Invitation, "code"),
    }


#: Arguments that must come from one row (a membership of its body, a note of its
#: proposal, a check-in of its session).
PAIRED = {
    "membership_id": "body_id",
    "note_id": "proposal_id",
    "check_in_id": "session_id",
    "register_id": "draw_id",
    "pick_id": "draw_id",
    "sub_draw_id": "draw_id",
    "invitation_id": "round_id",
}
#: Arguments named alike in two capabilities.
RENAMED = {("programme.session_detail", "session_id"): "programme_session_id"}
#: Plain values.
FIXED = {"token": "0" * 43, "slug": "poitiers", "kind": "franceconnect", "step": "bodies"}


def visits(app: Flask) -> tuple[list[Visit], list[str]]:
    """Every page to visit, and the routes that could not be given values (which fail)."""
    from agora.extensions import db
    from agora.identity.policy import ROUTE_ACTIONS
    from agora.tenancy.isolation import tenant_scope
    from agora.tenancy.models import Tenant

    found: list[Visit] = []
    unknown: list[str] = []
    with app.app_context():
        poitiers = db.session.execute(select(Tenant).where(Tenant.slug == "poitiers")).scalar_one()
        queries = demo_values(app, poitiers.id)
        with tenant_scope(db.session, poitiers.id):
            for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule):
                if "GET" not in (rule.methods or ()) or rule.endpoint in NOT_PAGES:
                    continue
                values: dict[str, Any] = {}
                for argument in sorted(rule.arguments):
                    if argument in values:
                        continue
                    name = RENAMED.get((rule.endpoint, argument), argument)
                    if name in FIXED:
                        values[argument] = FIXED[name]
                    elif name in PAIRED:
                        parent, child = db.session.execute(queries[name]().limit(1)).one()
                        values[PAIRED[name]], values[argument] = parent, child
                    elif name in queries:
                        values[argument] = _first(db.session, queries[name]())
                    else:
                        unknown.append(f"{rule.rule} ({rule.endpoint}): no value for {argument}")
                        break
                else:
                    adapter = app.url_map.bind("localhost")
                    path = adapter.build(rule.endpoint, values)
                    kinds = ROUTE_ACTIONS.get(rule.endpoint)
                    if isinstance(kinds, dict):  # "/": the commune's home and the console
                        hosts = list(kinds)
                    elif kinds is not None and kinds.host == "platform":
                        hosts = ["platform"]
                    else:
                        hosts = ["tenant"]
                    found += [Visit(rule.endpoint, host, path) for host in hosts]
        db.session.remove()
    return found, unknown


def prepare_people(app: Flask) -> dict[str, int | None]:
    """The accounts of ``ROLES`` with their roles in Poitiers; their account ids."""
    from agora.extensions import db
    from agora.identity.models import Role, StaffAssignment
    from agora.identity.services import get_or_create_account, grant_role
    from agora.tenancy.isolation import tenant_scope
    from agora.tenancy.models import Tenant

    ids: dict[str, int | None] = {}
    with app.app_context():
        poitiers = db.session.execute(select(Tenant).where(Tenant.slug == "poitiers")).scalar_one()
        for name, spec in ROLES.items():
            if not spec:
                ids[name] = None
                continue
            account = get_or_create_account(db.session, spec["email"])
            db.session.flush()
            if spec.get("staff"):
                assigned = db.session.execute(
                    select(StaffAssignment).where(
                        StaffAssignment.account_id == account.id,
                        StaffAssignment.tenant_id == poitiers.id,
                    )
                ).first()
                if assigned is None:
                    db.session.add(StaffAssignment(account_id=account.id, tenant_id=poitiers.id))
            else:
                with tenant_scope(db.session, poitiers.id):
                    grant_role(db.session, poitiers, account, Role(spec["role"]), granted_by="e2e")
            db.session.commit()
            ids[name] = account.id
        db.session.remove()
    return ids


@dataclass
class Site:
    app: Flask
    port: str

    def base(self, host: str) -> str:
        name = "poitiers.localhost" if host == "tenant" else "localhost"
        return f"http://{name}:{self.port}"


def signed_in(browser: Browser, site: Site, account_id: int | None) -> BrowserContext:
    """A browser profile signed in as ``account_id`` on Poitiers' host and the console's
    (a session cookie as the sign-in would set it; the sign-in flows have their own tests)."""
    context = browser.new_context()
    if account_id is not None:
        # Signed as the served application signs its sessions (its key, not the test app's).
        signer = Flask("e2e-session")
        signer.secret_key = SECRET_KEY
        serializer = SecureCookieSessionInterface().get_signing_serializer(signer)
        assert serializer is not None
        cookies = []
        for host in ("tenant", "platform"):
            base = site.base(host)
            session_id = open_test_session(site.app, account_id, base.split("//")[1])
            value = serializer.dumps({"sid": session_id})
            cookies.append(
                {"name": site.app.config["SESSION_COOKIE_NAME"], "value": value, "url": base}
            )
        context.add_cookies(cookies)  # type: ignore[arg-type]
    return context


def role_contexts(
    browser: Browser, site: Site, ids: dict[str, int | None]
) -> Iterator[tuple[str, BrowserContext]]:
    for name, account_id in ids.items():
        context = signed_in(browser, site, account_id)
        try:
            yield name, context
        finally:
            context.close()
