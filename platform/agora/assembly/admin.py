"""Staff pages of the assembly: the edition dashboard and the forms that drive it."""

from __future__ import annotations

from datetime import UTC, date, datetime

from flask import Blueprint, abort, redirect, render_template, request, url_for
from flask import session as cookie
from flask_babel import format_datetime
from flask_babel import gettext as _
from werkzeug.wrappers import Response

from agora.assembly import (
    ballots,
    bodies,
    charter,
    council,
    decisions,
    editions,
    proposals,
    sessions,
    subjects,
)
from agora.assembly.models import (
    ActionPlan,
    AssemblySession,
    AssemblySessionStatus,
    Ballot,
    Body,
    CheckIn,
    CouncilOutcome,
    CouncilResponse,
    Edition,
    EditionStatus,
    Membership,
    Proposal,
    ProposalStatus,
    Subject,
    SubjectStatus,
)
from agora.db import PARIS, paris_today
from agora.documents import pdf
from agora.errors import Invalid
from agora.extensions import db
from agora.identity.acting import acting_person, who
from agora.notifications.services import commune_address
from agora.plugins.contracts import BodySpec
from agora.plugins.manager import TenantHooks
from agora.shared.people import Person
from agora.tenancy.context import current_tenant, get_owned_or_404, hooks_at, tenant_hooks

bp = Blueprint("assembly_admin", __name__, url_prefix="/admin", template_folder="templates")


def _hooks(edition: Edition) -> TenantHooks:
    return hooks_at(edition.config_version)


def _int(name: str) -> int | None:
    value = request.form.get(name, "").strip()
    if not value:
        return None
    try:
        return int(value)
    except ValueError as error:
        raise Invalid(_("%(field)s must be a whole number", field=name)) from error


def _spec(edition: Edition, body: Body) -> BodySpec:
    spec = next((b for b in _hooks(edition).composition_rules() if b.key == body.key), None)
    if spec is None:
        raise Invalid(
            _("the configuration of %(year)s has no body %(key)s", year=edition.year, key=body.key)
        )
    return spec


@bp.get("/assembly")
def dashboard() -> str:
    tenant = current_tenant()
    edition = editions.current_edition(db.session, tenant)
    context = {}
    if edition is not None:
        plan = council.plan_of(db.session, edition)
        context = {
            "bodies": [
                (b, len(bodies.members_of(db.session, b)))
                for b in editions.bodies_of(db.session, edition)
            ],
            "subjects": subjects.subjects_of(db.session, edition),
            "sessions": sessions.sessions_of(db.session, edition),
            "proposals": proposals.proposals_of(db.session, edition),
            "plan": plan,
            "measures": council.measures_of(db.session, plan) if plan else [],
            "next_status": _next_status(edition),
        }
    return render_template(
        "assembly/dashboard.html",
        edition=edition,
        charters=charter.versions(db.session, tenant),
        **context,
    )


def _next_status(edition: Edition) -> EditionStatus | None:
    order = editions.LIFECYCLE
    index = order.index(edition.status)
    return order[index + 1] if index + 1 < len(order) else None


@bp.post("/editions")
def open_edition() -> Response:
    tenant = current_tenant()
    year = _int("year") or paris_today().year
    editions.open_edition(
        db.session,
        tenant,
        year,
        request.form.get("title", "").strip() or f"Édition {year}",
        tenant_hooks().composition_rules(),
        who(),
    )
    db.session.commit()
    return redirect(url_for("assembly_admin.dashboard"))


@bp.post("/editions/<int:edition_id>/advance")
def advance_edition(edition_id: int) -> Response:
    edition = get_owned_or_404(Edition, edition_id)
    target = _next_status(edition)
    if target is None:
        raise Invalid(_("this edition is closed"))
    editions.advance(db.session, current_tenant(), edition, target, who())
    db.session.commit()
    return redirect(url_for("assembly_admin.dashboard"))


@bp.get("/bodies/<int:body_id>")
def body_page(body_id: int) -> str:
    body = get_owned_or_404(Body, body_id)
    edition = get_owned_or_404(Edition, body.edition_id)
    members = bodies.members_of(db.session, body)
    spec = _spec(edition, body)
    return render_template(
        "assembly/body.html",
        body=body,
        members=members,
        spec=spec,
        problems=bodies.composition_problems(spec, [m.origin for m, _person in members]),
    )


@bp.get("/bodies/<int:body_id>/members/<int:membership_id>")
def membership_page(body_id: int, membership_id: int) -> Response:
    membership = get_owned_or_404(Membership, membership_id)
    if membership.body_id != body_id:
        abort(404)
    return redirect(
        url_for("assembly_admin.body_page", body_id=body_id) + f"#member-{membership.id}"
    )


@bp.get("/people/<int:person_id>")
def person_page(person_id: int) -> str:
    return render_template("assembly/person.html", person=get_owned_or_404(Person, person_id))


@bp.post("/bodies/<int:body_id>/members")
def add_member(body_id: int) -> Response:
    """Add one member (with the e-mail address they sign in with, if given) or several, one
    name per line, with the same origin and voting right."""
    tenant, body = current_tenant(), get_owned_or_404(Body, body_id)
    form = request.form
    email = form.get("email", "").strip()
    if email and "@" not in email:
        raise Invalid(_("Please enter a valid e-mail address."))
    bodies.enrol(
        db.session,
        tenant,
        body,
        form.get("names", form.get("name", "")).splitlines(),
        form.get("origin", ""),
        voting_right=form.get("voting") != "no",
        email=email,
    )
    db.session.commit()
    return redirect(url_for("assembly_admin.body_page", body_id=body.id))


@bp.post("/bodies/<int:body_id>/install")
def install_body(body_id: int) -> Response:
    tenant, body = current_tenant(), get_owned_or_404(Body, body_id)
    edition = get_owned_or_404(Edition, body.edition_id)
    bodies.install(db.session, tenant, body, _spec(edition, body), who())
    db.session.commit()
    return redirect(url_for("assembly_admin.body_page", body_id=body.id))


@bp.post("/subjects/<int:subject_id>/review")
def review_subject(subject_id: int) -> Response:
    subject = get_owned_or_404(Subject, subject_id)
    form = request.form
    subjects.review(
        db.session,
        current_tenant(),
        subject,
        general_interest=form.get("general_interest") == "yes",
        municipal_competence=form.get("municipal_competence") == "yes",
        budget_sustainable=form.get("budget_sustainable") == "yes",
        reason=form.get("reason", ""),
        actor=who(),
    )
    db.session.commit()
    return redirect(url_for("assembly_admin.dashboard") + "#subjects")


@bp.post("/sessions")
def plan_session() -> Response:
    tenant = current_tenant()
    edition = editions.current_edition(db.session, tenant)
    if edition is None:
        raise Invalid(_("open an edition first"))
    body = get_owned_or_404(Body, _int("body_id") or 0)
    try:
        starts_at = datetime.fromisoformat(request.form.get("starts_at", "")).replace(tzinfo=PARIS)
    except ValueError as error:
        raise Invalid(_("the session needs a date and time")) from error
    sessions.plan(
        db.session,
        tenant,
        edition,
        body,
        _int("number") or 1,
        request.form.get("title", "").strip() or "Séance",
        starts_at,
        request.form.get("venue", ""),
        who(),
    )
    db.session.commit()
    return redirect(url_for("assembly_admin.dashboard") + "#sessions")


@bp.get("/sessions/<int:session_id>")
def session_page(session_id: int) -> str:
    row = get_owned_or_404(AssemblySession, session_id)
    edition = get_owned_or_404(Edition, row.edition_id)
    return render_template(
        "assembly/session.html",
        row=row,
        body=get_owned_or_404(Body, row.body_id),
        check_ins=sessions.check_ins(db.session, row),
        ballots=ballots.ballots_of_session(db.session, row),
        subjects=[
            s
            for s in subjects.subjects_of(db.session, edition)
            if s.status == SubjectStatus.ADMISSIBLE
        ],
        proposals=[
            p
            for p in proposals.proposals_of(db.session, edition)
            if p.status != ProposalStatus.REJECTED
        ],
    )


@bp.get("/sessions/<int:session_id>/check-ins/<int:check_in_id>")
def check_in_page(session_id: int, check_in_id: int) -> Response:
    entry = get_owned_or_404(CheckIn, check_in_id)
    if entry.session_id != session_id:
        abort(404)
    return redirect(url_for("assembly_admin.roster", session_id=session_id))


@bp.post("/sessions/<int:session_id>/status")
def session_status(session_id: int) -> Response:
    row = get_owned_or_404(AssemblySession, session_id)
    try:
        status = AssemblySessionStatus(request.form.get("status", ""))
    except ValueError as error:
        raise Invalid(_("unknown session status")) from error
    sessions.set_status(db.session, current_tenant(), row, status, who())
    db.session.commit()
    return redirect(url_for("assembly_admin.session_page", session_id=row.id))


#: People listed on a page of the roster.
ROSTER_PAGE_SIZE = 50


@bp.get("/sessions/<int:session_id>/roster")
def roster(session_id: int) -> str:
    """The session's roster, searchable by name (``?q=``) and paged (``?page=``), each person
    with a button to check them in; and the forms for walk-ins and voting cards."""
    row = get_owned_or_404(AssemblySession, session_id)
    query = request.args.get("q", "").strip()
    everyone = sessions.roster(db.session, row)
    found = sessions.search(everyone, query)
    pages = max(1, -(-len(found) // ROSTER_PAGE_SIZE))
    page = min(max(request.args.get("page", 1, type=int) or 1, 1), pages)
    start = (page - 1) * ROSTER_PAGE_SIZE
    return render_template(
        "assembly/roster.html",
        row=row,
        body=get_owned_or_404(Body, row.body_id),
        open_to_all=sessions.open_to_all(db.session, row),
        entries=found[start : start + ROSTER_PAGE_SIZE],
        found=len(found),
        total=len(everyone),
        present=len(sessions.check_ins(db.session, row)),
        carded=sum(1 for e in everyone if e.has_card),
        query=query,
        page=page,
        pages=pages,
        issued=cookie.pop("issued_code", None),
    )


def _back_to_roster(row: AssemblySession) -> Response:
    """To the roster page the desk was on (its search and page), never to another site."""
    page = request.form.get("page", "")
    return redirect(
        url_for(
            "assembly_admin.roster",
            session_id=row.id,
            q=request.form.get("q") or None,
            page=int(page) if page.isdigit() else None,
        )
    )


@bp.post("/sessions/<int:session_id>/roster/<int:person_id>/check-in")
def check_in_member(session_id: int, person_id: int) -> Response:
    """Check in a person of the roster, with the origin of their membership."""
    tenant, row = current_tenant(), get_owned_or_404(AssemblySession, session_id)
    entry, code = sessions.check_in_from_roster(db.session, tenant, row, person_id, who())
    person = get_owned_or_404(Person, entry.person_id)
    db.session.commit()
    # The code is shown once, to be handed to the person; only its hash is kept. It travels
    # in the desk's signed session cookie, never in a URL (logs, history). A person whose
    # voting card was printed is handed the card: no code is shown.
    cookie["issued_code"] = {"code": code, "name": person.display_name}
    return _back_to_roster(row)


@bp.post("/sessions/<int:session_id>/check-ins")
def check_in(session_id: int) -> Response:
    """Check in a person who walks in, as a volunteer (sessions open to all present)."""
    tenant, row = current_tenant(), get_owned_or_404(AssemblySession, session_id)
    name = request.form.get("name", "").strip()
    _entry, code = sessions.check_in_walk_in(
        db.session, tenant, row, name, who(), origin=request.form.get("origin", "volunteer")
    )
    db.session.commit()
    cookie["issued_code"] = {"code": code, "name": name}
    return _back_to_roster(row)


@bp.post("/sessions/<int:session_id>/voting-cards.pdf")
def voting_cards(session_id: int) -> Response:
    """Print a voting card for everyone on the roster: new codes, the old cards void."""
    tenant, row = current_tenant(), get_owned_or_404(AssemblySession, session_id)
    body = get_owned_or_404(Body, row.body_id)
    issued = sessions.print_cards(db.session, tenant, row, who())
    db.session.commit()
    address = commune_address(tenant) + url_for("assembly.presence_page", session_id=row.id)
    starts_at = row.starts_at if row.starts_at.tzinfo else row.starts_at.replace(tzinfo=UTC)
    when = str(format_datetime(starts_at, "d MMMM y, HH:mm"))
    heading = f"{tenant.name} — {row.title}"
    details = f"{body.name} — {when}" + (f" — {row.venue}" if row.venue else "")
    content = pdf.voting_cards(
        _("Voting cards — %(session)s", session=row.title),
        [
            pdf.VotingCard(
                heading=heading,
                details=details,
                name=card.name,
                code_label=_("Voting code"),
                code=card.code,
                # The code travels in the fragment, which browsers never send to the server.
                url=f"{address}#code={card.code}",
                instructions=_(
                    "Scan the QR code to confirm you are present, then vote with this code. "
                    "Keep this card for the whole session."
                ),
            )
            for card in issued
        ],
    )
    return Response(
        content,
        mimetype="application/pdf",
        headers={
            "Content-Disposition": f'attachment; filename="cartes-de-vote-{row.id}.pdf"',
            "Cache-Control": "no-store",
        },
    )


@bp.post("/sessions/<int:session_id>/ballots")
def open_ballot(session_id: int) -> Response:
    tenant, row = current_tenant(), get_owned_or_404(AssemblySession, session_id)
    edition = get_owned_or_404(Edition, row.edition_id)
    decision = request.form.get("decision", "")
    rule = _hooks(edition).decision_rule(decision)
    options = [
        ballots.NewOption(get_owned_or_404(Subject, int(i)).title, subject_id=int(i))
        for i in request.form.getlist("subject_ids")
    ] + [
        ballots.NewOption(get_owned_or_404(Proposal, int(i)).title, proposal_id=int(i))
        for i in request.form.getlist("proposal_ids")
    ]
    ballot = ballots.open_ballot(
        db.session,
        tenant,
        rule,
        row,
        get_owned_or_404(Body, row.body_id),
        request.form.get("question", ""),
        options,
        who(),
        secret=request.form.get("secret", "yes") == "yes",
    )
    db.session.commit()
    return redirect(url_for("assembly.ballot_page", ballot_id=ballot.id))


def _ballot_context(ballot_id: int) -> tuple[Ballot, Body, Edition]:
    ballot = get_owned_or_404(Ballot, ballot_id)
    row = get_owned_or_404(AssemblySession, ballot.session_id)
    return ballot, get_owned_or_404(Body, ballot.body_id), get_owned_or_404(Edition, row.edition_id)


@bp.post("/ballots/<int:ballot_id>/close")
def close_ballot(ballot_id: int) -> Response:
    ballot, body, edition = _ballot_context(ballot_id)
    ballots.close(
        db.session,
        current_tenant(),
        ballot,
        body,
        _hooks(edition).decision_rule(ballot.decision),
        who(),
    )
    db.session.commit()
    return redirect(url_for("assembly.ballot_page", ballot_id=ballot.id))


@bp.post("/ballots/<int:ballot_id>/runoff")
def open_runoff(ballot_id: int) -> Response:
    ballot, body, edition = _ballot_context(ballot_id)
    runoff = ballots.open_runoff(
        db.session,
        current_tenant(),
        ballot,
        body,
        _hooks(edition).decision_rule(ballot.decision),
        who(),
    )
    db.session.commit()
    return redirect(url_for("assembly.ballot_page", ballot_id=runoff.id))


@bp.post("/ballots/<int:ballot_id>/tie-break")
def break_tie(ballot_id: int) -> Response:
    """Apply the closed run-off and/or the publicly revealed seed to the tie."""
    ballot, _body, edition = _ballot_context(ballot_id)
    ballots.resolve_tie(
        db.session,
        current_tenant(),
        ballot,
        _hooks(edition).decision_rule(ballot.decision),
        who(),
        runoff=ballots.runoff_of(db.session, ballot),
        seed=request.form.get("seed", "").strip() or None,
    )
    db.session.commit()
    return redirect(url_for("assembly.ballot_page", ballot_id=ballot.id))


@bp.post("/ballots/<int:ballot_id>/certify")
def certify_ballot(ballot_id: int) -> Response:
    tenant = current_tenant()
    ballot, body, edition = _ballot_context(ballot_id)
    rule = _hooks(edition).decision_rule(ballot.decision)
    decisions.certify(db.session, tenant, edition, ballot, body, rule, who())
    db.session.commit()
    return redirect(url_for("assembly.ballot_page", ballot_id=ballot.id))


@bp.post("/ballots/<int:ballot_id>/not-decided")
def ballot_not_decided(ballot_id: int) -> Response:
    ballot, _body, _edition = _ballot_context(ballot_id)
    ballots.mark_not_decided(db.session, current_tenant(), ballot, who())
    db.session.commit()
    return redirect(url_for("assembly.ballot_page", ballot_id=ballot.id))


@bp.post("/proposals")
def draft_proposal() -> Response:
    tenant = current_tenant()
    edition = editions.current_edition(db.session, tenant)
    if edition is None:
        raise Invalid(_("open an edition first"))
    body = get_owned_or_404(Body, _int("body_id") or 0)
    proposal = proposals.draft(
        db.session,
        tenant,
        edition,
        body,
        acting_person(db.session, tenant),
        request.form.get("title", ""),
        request.form.get("text", ""),
        _int("budget_eur"),
    )
    db.session.commit()
    return redirect(url_for("assembly.proposal_page", proposal_id=proposal.id))


@bp.post("/charter")
def draft_charter() -> Response:
    charter.draft(db.session, current_tenant(), tenant_hooks(), who())
    db.session.commit()
    return redirect(url_for("assembly.charter_page"))


@bp.post("/charter/versions/<int:number>/advance")
def advance_charter(number: int) -> Response:
    tenant = current_tenant()
    version = next((v for v in charter.versions(db.session, tenant) if v.number == number), None)
    if version is None:
        abort(404)
    charter.advance(db.session, tenant, version, who(), request.form.get("council_reference", ""))
    db.session.commit()
    return redirect(url_for("assembly.charter_version", number=number))


@bp.post("/plans/<int:plan_id>/transmit")
def transmit_plan(plan_id: int) -> Response:
    plan = get_owned_or_404(ActionPlan, plan_id)
    council.transmit(db.session, current_tenant(), plan, who())
    db.session.commit()
    return redirect(url_for("assembly.council_page", plan_id=plan.id))


@bp.get("/plans/<int:plan_id>/deliberation")
def deliberation_form(plan_id: int) -> str:
    plan = get_owned_or_404(ActionPlan, plan_id)
    return render_template(
        "assembly/deliberation_form.html",
        plan=plan,
        measures=council.measures_of(db.session, plan),
        outcomes=list(CouncilOutcome),
        responses=list(CouncilResponse),
    )


@bp.post("/plans/<int:plan_id>/deliberation")
def record_deliberation(plan_id: int) -> Response:
    plan = get_owned_or_404(ActionPlan, plan_id)
    form = request.form
    try:
        outcome = CouncilOutcome(form.get("outcome", ""))
        session_date = date.fromisoformat(form.get("session_date", ""))
        answers = {
            m.id: council.MeasureAnswer(
                CouncilResponse(form.get(f"response-{m.id}", "accepted")),
                council_text=form.get(f"text-{m.id}") or None,
                council_budget_eur=int(form[f"budget-{m.id}"])
                if form.get(f"budget-{m.id}")
                else None,
                justification=form.get(f"justification-{m.id}", ""),
                owner_service=form.get(f"owner-{m.id}", ""),
                elected_referent=form.get(f"referent-{m.id}", ""),
                due_on=date.fromisoformat(form[f"due-{m.id}"]) if form.get(f"due-{m.id}") else None,
            )
            for m in council.measures_of(db.session, plan)
        }
    except ValueError as error:
        raise Invalid(_("check the outcome, the dates and the budgets")) from error
    council.record_deliberation(
        db.session,
        current_tenant(),
        plan,
        reference=form.get("reference", ""),
        session_date=session_date,
        outcome=outcome,
        votes=(_int("votes_for") or 0, _int("votes_against") or 0, _int("abstentions") or 0),
        answers=answers,
        act_url=form.get("act_url", ""),
        actor=who(),
    )
    db.session.commit()
    return redirect(url_for("assembly.council_page", plan_id=plan.id))
