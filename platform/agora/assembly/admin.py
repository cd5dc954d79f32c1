"""Staff pages of the assembly: the editions, each edition's workspace (its task list and
one page per step), and the forms that drive them. Every form is a class of
``assembly/forms.py``: re-rendered with its values and 422 on error; an irreversible action
asks for a confirmation first; each action leaves a banner."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from flask import Blueprint, abort, redirect, render_template, request, url_for
from flask import session as cookie
from flask_babel import format_datetime, ngettext
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
    workspace,
)
from agora.assembly.forms import (
    CharterAdvanceForm,
    DeliberationForm,
    EditionAdvanceForm,
    EditionForm,
    MeasureStatusForm,
    MemberForm,
    MembersForm,
    OpenBallotForm,
    ProposalForm,
    RosterPlace,
    SessionPlanForm,
    SessionStatusForm,
    SubjectReviewForm,
    TieBreakForm,
    WalkInForm,
    blank,
    deliberation_form,
    with_choices,
)
from agora.assembly.models import (
    ActionPlan,
    AssemblySession,
    AssemblySessionStatus,
    Ballot,
    Body,
    CharterStatus,
    CharterVersion,
    CheckIn,
    CouncilOutcome,
    CouncilResponse,
    Edition,
    EditionStatus,
    Measure,
    MeasureStatus,
    Membership,
    Proposal,
    ProposalStatus,
    Subject,
    SubjectStatus,
)
from agora.db import PARIS, paris_today
from agora.documents import pdf
from agora.errors import Conflict, DomainError, Invalid
from agora.extensions import db
from agora.identity.acting import acting_person, who
from agora.plugins.contracts import BodySpec
from agora.plugins.manager import TenantHooks
from agora.shared.forms import PLACEHOLDER, ask_confirmation, notify, render_invalid
from agora.shared.labels import (
    CHARTER_STATUSES,
    DECISIONS,
    EDITION_STATUSES,
    MEASURE_STATUSES,
    ORIGINS,
    OUTCOMES,
    RESPONSES,
)
from agora.shared.people import Person
from agora.tenancy.addresses import page_address
from agora.tenancy.context import current_tenant, get_owned_or_404, hooks_at, tenant_hooks

bp = Blueprint("assembly_admin", __name__, url_prefix="/admin", template_folder="templates")


def _hooks(edition: Edition) -> TenantHooks:
    return hooks_at(edition.config_version)


def _spec(edition: Edition, body: Body) -> BodySpec:
    spec = next((b for b in _hooks(edition).composition_rules() if b.key == body.key), None)
    if spec is None:
        raise Invalid(
            _("the configuration of %(year)s has no body %(key)s", year=edition.year, key=body.key)
        )
    return spec


@bp.get("/assembly")
def dashboard() -> str:
    """The editions, the current one first, each one click away; and the internal rules."""
    tenant = current_tenant()
    return render_template(
        "assembly/dashboard.html",
        editions=editions.editions_of(db.session, tenant),
        charters=charter.versions(db.session, tenant),
    )


def _next_status(edition: Edition) -> EditionStatus | None:
    order = editions.LIFECYCLE
    index = order.index(edition.status)
    return order[index + 1] if index + 1 < len(order) else None


@bp.route("/assembly/editions/new", methods=["GET", "POST"])
def open_edition() -> str | tuple[str, int] | Response:
    form = EditionForm()
    if request.method == "GET":
        form.year.data = paris_today().year
        return render_template("assembly/new_edition.html", form=form)
    if not form.validate_on_submit():
        return render_invalid("assembly/new_edition.html", form)
    tenant, year = current_tenant(), int(form.year.data)
    try:
        edition = editions.open_edition(
            db.session,
            tenant,
            year,
            form.title.data or f"Édition {year}",
            tenant_hooks().composition_rules(),
            who(),
        )
    except DomainError as refusal:
        db.session.rollback()
        form.refuse("year", refusal.message)
        return render_invalid("assembly/new_edition.html", form)
    db.session.commit()
    notify(_("The edition %(title)s is open.", title=edition.title))
    return redirect(url_for("assembly_admin.edition_workspace", edition_id=edition.id))


@bp.get("/assembly/editions/<int:edition_id>")
def edition_workspace(edition_id: int) -> str:
    """The task list of an edition: each step, its state and what blocks it."""
    edition = get_owned_or_404(Edition, edition_id)
    tenant = current_tenant()
    return render_template(
        "assembly/workspace.html",
        edition=edition,
        steps=workspace.edition_steps(db.session, tenant, edition, _hooks(edition)),
        titles=workspace.STEP_TITLES,
        pages=workspace.PAGES,
        next_status=_next_status(edition),
        others=[e for e in editions.editions_of(db.session, tenant) if e.id != edition.id],
    )


def _step_context(edition: Edition, step: workspace.StepKey) -> dict[str, Any]:
    tenant = current_tenant()
    found = workspace.edition_steps(db.session, tenant, edition, _hooks(edition))
    context: dict[str, Any] = {
        "edition": edition,
        "step": next(s for s in found if s.key == step),
        "title": workspace.STEP_TITLES[step],
    }
    if step == workspace.StepKey.CHARTER:
        context["charters"] = charter.versions(db.session, tenant)
    elif step == workspace.StepKey.BODIES:
        specs = {spec.key: spec for spec in _hooks(edition).composition_rules()}
        rows = []
        for body in editions.bodies_of(db.session, edition):
            origins = [m.origin for m, _person in bodies.members_of(db.session, body)]
            spec = specs.get(body.key)
            rows.append(
                (body, len(origins), workspace.missing_seats(spec, origins) if spec else [])
            )
        context["bodies"] = rows
    elif step == workspace.StepKey.SUBJECTS:
        context["subjects"] = [
            (s, _review_form(s)) for s in subjects.subjects_of(db.session, edition)
        ]
    elif step == workspace.StepKey.SESSIONS:
        context["sessions"] = sessions.sessions_of(db.session, edition)
        context["form"] = _session_plan_form(edition, len(context["sessions"]) + 1)
    elif step == workspace.StepKey.BALLOTS:
        context["ballots"] = ballots.ballots_of(db.session, edition)
    else:
        plan = council.plan_of(db.session, edition)
        measures = council.measures_of(db.session, plan) if plan else []
        context.update(
            plan=plan,
            proposals=proposals.proposals_of(db.session, edition),
            deliberation=council.deliberation_of(db.session, plan) if plan else None,
            measures=measures,
            overdue={m.id for m in measures if council.is_overdue(m)},
        )
    return context


def _step_key(step: str) -> workspace.StepKey:
    try:
        key = workspace.StepKey(step)
    except ValueError:
        abort(404)
    if key not in workspace.PAGES:
        abort(404)
    return key


@bp.get("/assembly/editions/<int:edition_id>/<step>")
def edition_step(edition_id: int, step: str) -> str:
    """One step of the edition's task list: what it holds and the forms that drive it."""
    edition = get_owned_or_404(Edition, edition_id)
    return render_template("assembly/step.html", **_step_context(edition, _step_key(step)))


def _render_step(edition: Edition, step: workspace.StepKey, **forms: Any) -> tuple[str, int]:
    context = _step_context(edition, step)
    context.update(forms)
    return render_template("assembly/step.html", **context), 422


@bp.post("/editions/<int:edition_id>/advance")
def advance_edition(edition_id: int) -> str | Response:
    """Move the edition on to its next stage, once confirmed: it cannot go back."""
    edition = get_owned_or_404(Edition, edition_id)
    target = _next_status(edition)
    if target is None:
        raise Conflict(_("this edition is closed"))
    form = EditionAdvanceForm()
    if not form.validate_on_submit() or form.to.data != target.value:
        # Sent for another stage (a second click after the edition moved on): nothing done.
        raise Conflict(
            _(
                "This edition is now at the stage: %(step)s. Nothing was changed.",
                step=EDITION_STATUSES[edition.status.value],
            )
        )
    step = EDITION_STATUSES[target.value]
    if (
        page := ask_confirmation(
            title=_("Move the edition on to the stage: %(step)s?", step=step),
            consequences=[
                _(
                    "The edition “%(title)s” moves on to the stage: %(step)s.",
                    title=edition.title,
                    step=step,
                ),
                _("It cannot go back to the stage it is at now."),
            ],
            cancel_url=url_for("assembly_admin.edition_workspace", edition_id=edition.id),
            confirm_text=_("Move on to: %(step)s", step=step),
        )
    ) is not None:
        return page
    editions.advance(db.session, current_tenant(), edition, target, who())
    db.session.commit()
    notify(_("The edition moved on to: %(step)s", step=step))
    return redirect(url_for("assembly_admin.edition_workspace", edition_id=edition.id))


def _origin_choices() -> list[tuple[str, str]]:
    return [(origin, str(ORIGINS[origin])) for origin in ORIGINS]


def _member_forms(
    member: MemberForm | None = None, several: MembersForm | None = None
) -> dict[str, Any]:
    member = member or MemberForm(prefix="one")
    several = several or MembersForm(prefix="several")
    with_choices(member.origin, _origin_choices())
    with_choices(several.origin, _origin_choices())
    return {"member_form": member, "members_form": several}


def _body_page(body: Body, status: int = 200, **forms: Any) -> tuple[str, int]:
    edition = get_owned_or_404(Edition, body.edition_id)
    members = bodies.members_of(db.session, body)
    spec = _spec(edition, body)
    origins = [m.origin for m, _person in members]
    page = render_template(
        "assembly/body.html",
        body=body,
        edition=edition,
        members=members,
        spec=spec,
        missing=workspace.missing_seats(spec, origins),
        problems=bodies.composition_problems(spec, origins),
        **_member_forms(**forms),
    )
    return page, status


@bp.get("/bodies/<int:body_id>")
def body_page(body_id: int) -> tuple[str, int]:
    return _body_page(get_owned_or_404(Body, body_id))


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
def add_member(body_id: int) -> tuple[str, int] | Response:
    """Add one member (with the e-mail address they sign in with, if given: the form
    prefixed ``one-``) or several, one name per line, with the same origin and voting right
    (the form prefixed ``several-``)."""
    tenant, body = current_tenant(), get_owned_or_404(Body, body_id)
    several = "several-names" in request.form
    form: MemberForm | MembersForm = (
        MembersForm(prefix="several") if several else MemberForm(prefix="one")
    )
    with_choices(form.origin, _origin_choices())
    forms = {"several": form} if several else {"member": form}
    if not form.validate_on_submit():
        return _body_page(body, 422, **forms)
    names = form.names.data.splitlines() if isinstance(form, MembersForm) else [form.name.data]
    try:
        bodies.enrol(
            db.session,
            tenant,
            body,
            names,
            form.origin.data,
            voting_right=form.voting.data != "no",
            email=form.email.data if isinstance(form, MemberForm) else "",
        )
    except DomainError as refusal:
        db.session.rollback()
        form.refuse(None, refusal.message)
        return _body_page(body, 422, **forms)
    db.session.commit()
    count = len([n for n in names if n.strip()])
    notify(ngettext("%(num)d member added.", "%(num)d members added.", count))
    return redirect(url_for("assembly_admin.body_page", body_id=body.id))


@bp.post("/bodies/<int:body_id>/install")
def install_body(body_id: int) -> str | Response:
    tenant, body = current_tenant(), get_owned_or_404(Body, body_id)
    edition = get_owned_or_404(Edition, body.edition_id)
    if (
        page := ask_confirmation(
            title=_("Install the body %(name)s?", name=body.name),
            consequences=[
                _("Its composition is fixed: no member can be added any more."),
                _("Its members can sit and vote in its sessions."),
            ],
            cancel_url=url_for("assembly_admin.body_page", body_id=body.id),
            confirm_text=_("Install the body"),
        )
    ) is not None:
        return page
    bodies.install(db.session, tenant, body, _spec(edition, body), who())
    db.session.commit()
    notify(_("The body %(name)s is installed.", name=body.name))
    return redirect(url_for("assembly_admin.body_page", body_id=body.id))


def _review_form(subject: Subject, formdata: Any = None) -> SubjectReviewForm:
    form = SubjectReviewForm(
        formdata=formdata,
        prefix=f"subject-{subject.id}",
        data={
            "general_interest": subject.general_interest is not False,
            "municipal_competence": subject.municipal_competence is not False,
            "budget_sustainable": subject.budget_sustainable is not False,
            "reason": subject.reason,
        },
    )
    return form


@bp.post("/subjects/<int:subject_id>/review")
def review_subject(subject_id: int) -> tuple[str, int] | Response:
    subject = get_owned_or_404(Subject, subject_id)
    edition = get_owned_or_404(Edition, subject.edition_id)
    form = _review_form(subject, request.form)
    if not form.validate_on_submit():
        return _render_invalid_review(edition, subject, form)
    try:
        subjects.review(
            db.session,
            current_tenant(),
            subject,
            general_interest=bool(form.general_interest.data),
            municipal_competence=bool(form.municipal_competence.data),
            budget_sustainable=bool(form.budget_sustainable.data),
            reason=form.reason.data or "",
            actor=who(),
        )
    except DomainError as refusal:
        db.session.rollback()
        form.refuse("reason", refusal.message)
        return _render_invalid_review(edition, subject, form)
    db.session.commit()
    notify(_("The review of “%(title)s” is recorded.", title=subject.title))
    return redirect(
        url_for("assembly_admin.edition_step", edition_id=edition.id, step="subjects")
        + f"#subject-{subject.id}"
    )


def _render_invalid_review(
    edition: Edition, subject: Subject, form: SubjectReviewForm
) -> tuple[str, int]:
    context = _step_context(edition, workspace.StepKey.SUBJECTS)
    context["subjects"] = [(s, form if s.id == subject.id else f) for s, f in context["subjects"]]
    context["form"] = form
    return render_template("assembly/step.html", **context), 422


def _session_plan_form(edition: Edition, number: int, formdata: Any = None) -> SessionPlanForm:
    form = SessionPlanForm(formdata=formdata, data={"number": number})
    with_choices(
        form.body_id,
        [(str(b.id), b.name) for b in editions.bodies_of(db.session, edition)],
    )
    return form


@bp.post("/assembly/editions/<int:edition_id>/sessions")
def plan_session(edition_id: int) -> tuple[str, int] | Response:
    tenant, edition = current_tenant(), get_owned_or_404(Edition, edition_id)
    form = _session_plan_form(edition, 1, request.form)
    if not form.validate_on_submit():
        return _render_step(edition, workspace.StepKey.SESSIONS, form=form)
    body = get_owned_or_404(Body, int(form.body_id.data))
    try:
        row = sessions.plan(
            db.session,
            tenant,
            edition,
            body,
            int(form.number.data),
            form.title.data,
            datetime.fromisoformat(form.starts_at.data).replace(tzinfo=PARIS),
            form.venue.data or "",
            who(),
        )
    except DomainError as refusal:
        db.session.rollback()
        form.refuse(None, refusal.message)
        return _render_step(edition, workspace.StepKey.SESSIONS, form=form)
    db.session.commit()
    notify(_("The session “%(title)s” is planned.", title=row.title))
    return redirect(url_for("assembly_admin.edition_step", edition_id=edition.id, step="sessions"))


def _ballot_form(edition: Edition, formdata: Any = None) -> OpenBallotForm:
    form = OpenBallotForm(formdata=formdata)
    with_choices(form.decision, [(d, str(DECISIONS[d])) for d in charter.DECISIONS])
    # A commune's plugin may know other kinds of decision than the three offered here.
    form.decision.validate_choice = False
    form.subject_ids.choices = [
        (str(s.id), s.title)
        for s in subjects.subjects_of(db.session, edition)
        if s.status == SubjectStatus.ADMISSIBLE
    ]
    form.proposal_ids.choices = [
        (str(p.id), p.title)
        for p in proposals.proposals_of(db.session, edition)
        if p.status != ProposalStatus.REJECTED
    ]
    return form


def _session_page(
    row: AssemblySession, ballot_form: OpenBallotForm | None = None, status: int = 200
) -> tuple[str, int]:
    edition = get_owned_or_404(Edition, row.edition_id)
    page = render_template(
        "assembly/session.html",
        row=row,
        edition=edition,
        body=get_owned_or_404(Body, row.body_id),
        present=sessions.present_count(db.session, row),
        ballots=ballots.ballots_of_session(db.session, row),
        form=ballot_form or _ballot_form(edition),
    )
    return page, status


@bp.get("/sessions/<int:session_id>")
def session_page(session_id: int) -> tuple[str, int]:
    return _session_page(get_owned_or_404(AssemblySession, session_id))


@bp.get("/sessions/<int:session_id>/check-ins/<int:check_in_id>")
def check_in_page(session_id: int, check_in_id: int) -> Response:
    entry = get_owned_or_404(CheckIn, check_in_id)
    if entry.session_id != session_id:
        abort(404)
    return redirect(url_for("assembly_admin.roster", session_id=session_id))


@bp.post("/sessions/<int:session_id>/status")
def session_status(session_id: int) -> str | Response:
    """Open a planned session, or close an open one (after a confirmation: a closed session
    takes no check-in and no ballot any more)."""
    row = get_owned_or_404(AssemblySession, session_id)
    form = SessionStatusForm()
    allowed = {
        AssemblySessionStatus.PLANNED: AssemblySessionStatus.OPEN,
        AssemblySessionStatus.OPEN: AssemblySessionStatus.CLOSED,
    }
    target = allowed.get(row.status)
    form.status.choices = [PLACEHOLDER, *([(target.value, target.value)] if target else [])]
    if not form.validate_on_submit():
        raise Invalid(_("This session cannot change status in this way."))
    status = AssemblySessionStatus(form.status.data)
    if (
        status == AssemblySessionStatus.CLOSED
        and (
            page := ask_confirmation(
                title=_("Close the session “%(title)s”?", title=row.title),
                consequences=[
                    _("No one can check in any more."),
                    _("No ballot can be opened in it any more."),
                ],
                cancel_url=url_for("assembly_admin.session_page", session_id=row.id),
                confirm_text=_("Close the session"),
            )
        )
        is not None
    ):
        return page
    sessions.set_status(db.session, current_tenant(), row, status, who())
    db.session.commit()
    notify(
        _("The session is open.")
        if status == AssemblySessionStatus.OPEN
        else _("The session is closed.")
    )
    return redirect(url_for("assembly_admin.session_page", session_id=row.id))


#: People listed on a page of the roster.
ROSTER_PAGE_SIZE = 50


@bp.get("/sessions/<int:session_id>/roster")
def roster(session_id: int) -> tuple[str, int]:
    """The session's roster, searchable by name (``?q=``) and paged (``?page=``), each person
    with a button to check them in; and the forms for walk-ins and voting cards."""
    row = get_owned_or_404(AssemblySession, session_id)
    return _roster_page(
        row, request.args.get("q", "").strip(), request.args.get("page", 1, type=int) or 1
    )


def _roster_page(
    row: AssemblySession,
    query: str,
    page: int,
    walk_in: WalkInForm | None = None,
    status: int = 200,
) -> tuple[str, int]:
    # Held from the start: the session keeps a loaded row only while something refers to it,
    # and the roster's queries read the same body.
    body = get_owned_or_404(Body, row.body_id)
    # Names only for the whole roster (a desk searches it at every check-in); whole entries
    # for the page's people.
    everyone = sessions.roster_names(db.session, row)
    found = sessions.search(everyone, query)
    pages = max(1, -(-len(found) // ROSTER_PAGE_SIZE))
    page = min(max(page, 1), pages)
    start = (page - 1) * ROSTER_PAGE_SIZE
    shown = [person_id for person_id, _name in found[start : start + ROSTER_PAGE_SIZE]]
    present, carded = sessions.present_and_carded(db.session, row)
    html = render_template(
        "assembly/roster.html",
        row=row,
        body=body,
        open_to_all=sessions.open_to_all(db.session, row),
        entries=sessions.roster(db.session, row, shown) if shown else [],
        found=len(found),
        total=len(everyone),
        present=present,
        carded=carded,
        query=query,
        page=page,
        pages=pages,
        issued=cookie.pop("issued_code", None) if walk_in is None else None,
        form=walk_in or blank(WalkInForm, q=query, page=page if page > 1 else None),
    )
    return html, status


def _back_to_roster(row: AssemblySession, place: RosterPlace) -> Response:
    """To the roster page the desk was on (its search and page), never to another site."""
    return redirect(
        url_for(
            "assembly_admin.roster",
            session_id=row.id,
            q=place.q.data or None,
            page=int(place.page.data) if place.page.data else None,
        )
    )


@bp.post("/sessions/<int:session_id>/roster/<int:person_id>/check-in")
def check_in_member(session_id: int, person_id: int) -> Response:
    """Check in a person of the roster, with the origin of their membership."""
    tenant, row = current_tenant(), get_owned_or_404(AssemblySession, session_id)
    place = RosterPlace()
    if not place.validate_on_submit():
        raise Invalid(_("This check-in form is not valid: reload the roster."))
    entry, code = sessions.check_in_from_roster(db.session, tenant, row, person_id, who())
    # Read before the commit, which expires every loaded row (reading one again would cost
    # a round trip to the database).
    back = _back_to_roster(row, place)
    name = get_owned_or_404(Person, entry.person_id).display_name
    db.session.commit()
    # The code is shown once, to be handed to the person; only its hash is kept. It travels
    # in the desk's signed session cookie, never in a URL (logs, history). A person whose
    # voting card was printed is handed the card: no code is shown.
    cookie["issued_code"] = {"code": code, "name": name}
    return back


@bp.post("/sessions/<int:session_id>/check-ins")
def check_in(session_id: int) -> tuple[str, int] | Response:
    """Check in a person who walks in, as a volunteer (sessions open to all present)."""
    tenant, row = current_tenant(), get_owned_or_404(AssemblySession, session_id)
    form = WalkInForm()

    def again(status: int = 422) -> tuple[str, int]:
        page = int(form.page.data) if form.page.data else 1
        return _roster_page(row, form.q.data or "", page, walk_in=form, status=status)

    if not form.validate_on_submit():
        return again()
    try:
        _entry, code = sessions.check_in_walk_in(
            db.session, tenant, row, form.name.data, who(), origin=form.origin.data or "volunteer"
        )
    except DomainError as refusal:
        db.session.rollback()
        form.refuse("name", refusal.message)
        return again(refusal.status)
    db.session.commit()
    cookie["issued_code"] = {"code": code, "name": form.name.data}
    return _back_to_roster(row, form)


@bp.post("/sessions/<int:session_id>/voting-cards.pdf")
def voting_cards(session_id: int) -> Response:
    """Print a voting card for everyone on the roster: new codes, the old cards void."""
    tenant, row = current_tenant(), get_owned_or_404(AssemblySession, session_id)
    body = get_owned_or_404(Body, row.body_id)
    issued = sessions.print_cards(db.session, tenant, row, who())
    db.session.commit()
    address = page_address(tenant, "assembly.presence_page", session_id=row.id)
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
def open_ballot(session_id: int) -> tuple[str, int] | Response:
    tenant, row = current_tenant(), get_owned_or_404(AssemblySession, session_id)
    edition = get_owned_or_404(Edition, row.edition_id)
    form = _ballot_form(edition, request.form)
    if not form.validate_on_submit():
        return _session_page(row, form, 422)
    rule = _hooks(edition).decision_rule(form.decision.data)
    options = [
        ballots.NewOption(get_owned_or_404(Subject, int(i)).title, subject_id=int(i))
        for i in form.subject_ids.data
    ] + [
        ballots.NewOption(get_owned_or_404(Proposal, int(i)).title, proposal_id=int(i))
        for i in form.proposal_ids.data
    ]
    try:
        ballot = ballots.open_ballot(
            db.session,
            tenant,
            rule,
            row,
            get_owned_or_404(Body, row.body_id),
            form.question.data,
            options,
            who(),
            secret=form.secret.data != "no",
        )
    except Invalid as refusal:
        db.session.rollback()
        form.refuse(None, refusal.message)
        return _session_page(row, form, 422)
    db.session.commit()
    notify(_("The ballot is open."))
    return redirect(url_for("assembly.ballot_page", ballot_id=ballot.id))


def _ballot_context(ballot_id: int) -> tuple[Ballot, Body, Edition]:
    ballot = get_owned_or_404(Ballot, ballot_id)
    row = get_owned_or_404(AssemblySession, ballot.session_id)
    return ballot, get_owned_or_404(Body, ballot.body_id), get_owned_or_404(Edition, row.edition_id)


@bp.post("/ballots/<int:ballot_id>/close")
def close_ballot(ballot_id: int) -> str | Response:
    ballot, body, edition = _ballot_context(ballot_id)
    if (
        page := ask_confirmation(
            title=_("Close the ballot “%(question)s”?", question=ballot.question),
            consequences=[_("No one can vote any more."), _("The votes are counted now.")],
            cancel_url=url_for("assembly.ballot_page", ballot_id=ballot.id),
            confirm_text=_("Close and count"),
        )
    ) is not None:
        return page
    ballots.close(
        db.session,
        current_tenant(),
        ballot,
        body,
        _hooks(edition).decision_rule(ballot.decision),
        who(),
    )
    db.session.commit()
    notify(_("The ballot is closed and counted."))
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
    notify(_("The run-off is open."))
    return redirect(url_for("assembly.ballot_page", ballot_id=runoff.id))


@bp.post("/ballots/<int:ballot_id>/tie-break")
def break_tie(ballot_id: int) -> str | tuple[str, int] | Response:
    """Apply the closed run-off and/or the publicly revealed seed to the tie."""
    from agora.assembly.views import ballot_page_with

    ballot, _body, edition = _ballot_context(ballot_id)
    form = TieBreakForm()
    if not form.validate_on_submit():
        return ballot_page_with(ballot.id, tie_break_form=form), 422
    try:
        ballots.resolve_tie(
            db.session,
            current_tenant(),
            ballot,
            _hooks(edition).decision_rule(ballot.decision),
            who(),
            runoff=ballots.runoff_of(db.session, ballot),
            seed=form.seed.data or None,
        )
    except DomainError as refusal:
        db.session.rollback()
        form.refuse("seed" if form.seed.data else None, refusal.message)
        return ballot_page_with(ballot.id, tie_break_form=form), refusal.status
    db.session.commit()
    notify(_("The tie-break is applied."))
    return redirect(url_for("assembly.ballot_page", ballot_id=ballot.id))


@bp.post("/ballots/<int:ballot_id>/certify")
def certify_ballot(ballot_id: int) -> str | Response:
    tenant = current_tenant()
    ballot, body, edition = _ballot_context(ballot_id)
    if (
        page := ask_confirmation(
            title=_("Certify the decision of “%(question)s”?", question=ballot.question),
            consequences=[
                _("The result becomes the assembly's decision, published as such."),
                _("The ballot cannot be reopened."),
            ],
            cancel_url=url_for("assembly.ballot_page", ballot_id=ballot.id),
            confirm_text=_("Certify the decision"),
        )
    ) is not None:
        return page
    rule = _hooks(edition).decision_rule(ballot.decision)
    decisions.certify(db.session, tenant, edition, ballot, body, rule, who())
    db.session.commit()
    notify(_("The decision is certified."))
    return redirect(url_for("assembly.ballot_page", ballot_id=ballot.id))


@bp.post("/ballots/<int:ballot_id>/not-decided")
def ballot_not_decided(ballot_id: int) -> Response:
    ballot, _body, _edition = _ballot_context(ballot_id)
    ballots.mark_not_decided(db.session, current_tenant(), ballot, who())
    db.session.commit()
    notify(_("The ballot is recorded as not decided."))
    return redirect(url_for("assembly.ballot_page", ballot_id=ballot.id))


@bp.post("/proposals")
def draft_proposal() -> tuple[str, int] | Response:
    """A proposal drafted by a member of a body with the draft power (from the edition's
    public page, which shows the form again with its values when it is refused)."""
    from agora.assembly.views import edition_page_with, proposal_form

    tenant = current_tenant()
    edition = editions.current_edition(db.session, tenant)
    if edition is None:
        raise Conflict(_("open an edition first"))
    form = proposal_form(edition, ProposalForm())
    if not form.validate_on_submit():
        return edition_page_with(edition, drafted=form), 422
    try:
        proposal = proposals.draft(
            db.session,
            tenant,
            edition,
            get_owned_or_404(Body, int(form.body_id.data)),
            acting_person(db.session, tenant),
            form.title.data,
            form.text.data,
            form.budget_eur.data,
        )
    except DomainError as refusal:
        db.session.rollback()
        form.refuse(None, refusal.message)
        return edition_page_with(edition, drafted=form), refusal.status
    db.session.commit()
    notify(_("The proposal is submitted."))
    return redirect(url_for("assembly.proposal_page", proposal_id=proposal.id))


@bp.post("/charter")
def draft_charter() -> Response:
    tenant = current_tenant()
    # From the newest rules published: those awaiting this revision, when there are some.
    hooks = hooks_at(tenant.config_version) if tenant.config_version else tenant_hooks()
    version = charter.draft(db.session, tenant, hooks, who())
    db.session.commit()
    notify(_("Version %(num)d of the internal rules is drafted.", num=version.number))
    return redirect(url_for("assembly.charter_version", number=version.number))


def _charter_page(version: CharterVersion, form: CharterAdvanceForm) -> tuple[str, int]:
    previous = next(
        (
            v
            for v in charter.versions(db.session, current_tenant())
            if v.number == version.number - 1
        ),
        None,
    )
    page = render_template(
        "assembly/charter_version.html",
        version=version,
        changes=charter.diff(previous, version),
        form=form,
    )
    return page, 422


@bp.post("/charter/versions/<int:number>/advance")
def advance_charter(number: int) -> str | tuple[str, int] | Response:
    tenant = current_tenant()
    version = next((v for v in charter.versions(db.session, tenant) if v.number == number), None)
    if version is None:
        abort(404)
    form = CharterAdvanceForm()
    if not form.validate_on_submit():
        return _charter_page(version, form)
    if version.status == CharterStatus.VALIDATED and not form.council_reference.data:
        form.refuse("council_reference", _("Enter the reference of the council's deliberation."))
        return _charter_page(version, form)
    target = charter.NEXT_STATUS.get(version.status)
    back = url_for("assembly.charter_version", number=number)
    if (
        target == CharterStatus.ADOPTED
        and (
            page := ask_confirmation(
                title=_("Record version %(num)d as adopted by the council?", num=number),
                consequences=[
                    _(
                        "The version is recorded as adopted by deliberation %(ref)s.",
                        ref=form.council_reference.data,
                    ),
                    _("Its text cannot be changed any more."),
                ],
                cancel_url=back,
                confirm_text=_("Adopted by the council"),
            )
        )
        is not None
    ):
        return page
    if (
        target == CharterStatus.IN_FORCE
        and (
            page := ask_confirmation(
                title=_("Put version %(num)d in force?", num=number),
                consequences=[
                    _("It becomes the internal rules every body follows."),
                    _("The version in force until now is superseded."),
                ],
                cancel_url=back,
                confirm_text=_("Put in force"),
            )
        )
        is not None
    ):
        return page
    try:
        charter.advance(db.session, tenant, version, who(), form.council_reference.data or "")
    except DomainError as refusal:
        db.session.rollback()
        form.refuse("council_reference", refusal.message)
        return _charter_page(version, form)
    db.session.commit()
    notify(
        _(
            "Version %(num)d is now: %(status)s",
            num=number,
            status=CHARTER_STATUSES[version.status.value],
        )
    )
    return redirect(back)


@bp.post("/plans/<int:plan_id>/transmit")
def transmit_plan(plan_id: int) -> str | Response:
    plan = get_owned_or_404(ActionPlan, plan_id)
    if (
        page := ask_confirmation(
            title=_("Transmit the action plan to the municipal council?"),
            consequences=[
                _("The plan can no longer be changed by the assembly."),
                _("The council is asked to deliberate on each measure."),
            ],
            cancel_url=url_for("assembly.council_page", plan_id=plan.id),
            confirm_text=_("Transmit to the council"),
        )
    ) is not None:
        return page
    council.transmit(db.session, current_tenant(), plan, who())
    db.session.commit()
    notify(_("The action plan is transmitted to the council."))
    return redirect(url_for("assembly.council_page", plan_id=plan.id))


def _deliberation_form(plan: ActionPlan) -> tuple[DeliberationForm, list[Measure]]:
    measures = council.measures_of(db.session, plan)
    form = deliberation_form(
        measures,
        [(o.value, str(OUTCOMES[o.value])) for o in CouncilOutcome],
        [(r.value, str(RESPONSES[r.value])) for r in CouncilResponse],
    )
    return form, measures


def _deliberation_page(
    plan: ActionPlan, form: DeliberationForm, measures: list[Measure], status: int = 200
) -> tuple[str, int]:
    page = render_template(
        "assembly/deliberation_form.html", plan=plan, measures=measures, form=form
    )
    return page, status


@bp.get("/plans/<int:plan_id>/deliberation", endpoint="deliberation_form")
def deliberation_form_page(plan_id: int) -> tuple[str, int]:
    plan = get_owned_or_404(ActionPlan, plan_id)
    form, measures = _deliberation_form(plan)
    return _deliberation_page(plan, form, measures)


@bp.post("/plans/<int:plan_id>/deliberation")
def record_deliberation(plan_id: int) -> str | tuple[str, int] | Response:
    plan = get_owned_or_404(ActionPlan, plan_id)
    form, measures = _deliberation_form(plan)
    if not form.validate_on_submit():
        return _deliberation_page(plan, form, measures, 422)

    def value(name: str, measure: Measure) -> Any:
        return form[f"{name}-{measure.id}"].data

    answers = {
        m.id: council.MeasureAnswer(
            CouncilResponse(value("response", m)),
            council_text=value("text", m) or None,
            council_budget_eur=value("budget", m),
            justification=value("justification", m) or "",
            owner_service=value("owner", m) or "",
            elected_referent=value("referent", m) or "",
            due_on=value("due", m),
        )
        for m in measures
    }
    if (
        page := ask_confirmation(
            title=_("Record deliberation %(ref)s?", ref=form.reference.data),
            consequences=[
                _(
                    "The council's answer to each measure is published, with how it differs"
                    " from the plan as voted."
                ),
                _("The members of the assembly are told."),
            ],
            cancel_url=url_for("assembly.council_page", plan_id=plan.id),
            confirm_text=_("Record the deliberation"),
        )
    ) is not None:
        return page
    try:
        council.record_deliberation(
            db.session,
            current_tenant(),
            plan,
            reference=form.reference.data,
            session_date=form.session_date.data,
            outcome=CouncilOutcome(form.outcome.data),
            votes=(form.votes_for.data, form.votes_against.data, form.abstentions.data),
            answers=answers,
            act_url=form.act_url.data or "",
            actor=who(),
        )
    except Invalid as refusal:
        db.session.rollback()
        form.refuse(None, refusal.message)
        return _deliberation_page(plan, form, measures, 422)
    db.session.commit()
    notify(_("The council's deliberation is recorded."))
    return redirect(url_for("assembly.council_page", plan_id=plan.id))


def _measure_form(measure: Measure) -> MeasureStatusForm:
    form = MeasureStatusForm()
    with_choices(
        form.status,
        [
            (s.value, str(MEASURE_STATUSES[s.value]))
            for s in sorted(council.MEASURE_TRANSITIONS[measure.status])
        ],
    )
    return form


def _measure_page(measure: Measure, form: MeasureStatusForm, status: int = 200) -> tuple[str, int]:
    return render_template("assembly/measure_status.html", measure=measure, form=form), status


@bp.get("/measures/<int:measure_id>/status")
def measure_status_page(measure_id: int) -> tuple[str, int]:
    measure = get_owned_or_404(Measure, measure_id)
    return _measure_page(measure, _measure_form(measure))


@bp.post("/measures/<int:measure_id>/status")
def update_measure(measure_id: int) -> str | tuple[str, int] | Response:
    """The follow-up of a measure; abandoning it asks first (it cannot be undone)."""
    measure = get_owned_or_404(Measure, measure_id)
    form = _measure_form(measure)
    if not form.validate_on_submit():
        return _measure_page(measure, form, 422)
    status = MeasureStatus(form.status.data)
    if (
        status == MeasureStatus.ABANDONED
        and (
            page := ask_confirmation(
                title=_("Abandon the measure “%(title)s”?", title=measure.title),
                consequences=[
                    _("The measure is shown as abandoned, with your justification, to the public."),
                    _("Its follow-up ends."),
                ],
                cancel_url=url_for("assembly_admin.measure_status_page", measure_id=measure.id),
                confirm_text=_("Abandon the measure"),
            )
        )
        is not None
    ):
        return page
    try:
        council.update_measure(
            db.session, current_tenant(), measure, status, form.note.data or "", who()
        )
    except DomainError as refusal:
        db.session.rollback()
        form.refuse("status", refusal.message)
        return _measure_page(measure, form, 422)
    db.session.commit()
    notify(_("The follow-up of the measure is updated."))
    return redirect(url_for("assembly.measure_page", measure_id=measure.id))
