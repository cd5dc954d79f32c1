"""Assembly pages. Public: the edition, subjects and their admissibility, ballots and results,
the charter, the council's answer with its diff, the follow-up of measures, exports. Staff:
one dashboard per edition and the forms that drive it. Views stay thin: rules live in the
services of this package."""

from __future__ import annotations

from datetime import timedelta

from flask import Blueprint, abort, current_app, redirect, render_template, request, url_for
from flask_babel import gettext as _
from werkzeug.wrappers import Response

from agora.assembly import (
    amendments,
    ballots,
    casting,
    charter,
    council,
    editions,
    proposals,
    report,
    sessions,
    subjects,
)
from agora.assembly.forms import (
    AmendmentDecisionForm,
    AmendmentForm,
    FeasibilityNoteForm,
    MilestoneForm,
    MilestoneReachedForm,
    PresenceForm,
    ProposalForm,
    ProposalTextForm,
    SubjectForm,
    TieBreakForm,
    ballot_form,
    blank,
    with_choices,
)
from agora.assembly.models import (
    ActionPlan,
    Amendment,
    AssemblySession,
    Ballot,
    BallotOption,
    BallotStatus,
    Body,
    CharterVersion,
    CouncilDeliberation,
    Edition,
    FeasibilityNote,
    Measure,
    Milestone,
    Proposal,
    Subject,
)
from agora.db import paris_today
from agora.documents.ical import CalendarEvent, calendar
from agora.documents.tables import attachment, csv_response
from agora.errors import DomainError, Forbidden, Invalid
from agora.extensions import csrf, db
from agora.identity.acting import acting_person, current_account, who
from agora.observability import metrics
from agora.plugins.contracts import DecisionRule
from agora.shared.forms import ask_confirmation, notify
from agora.shared.labels import NOTE_KINDS, VERDICTS
from agora.shared.page_cache import for_visitors
from agora.tenancy.context import (
    config_at,
    current_tenant,
    current_tenant_id,
    get_owned_or_404,
    hooks_at,
)
from agora.tenancy.services import awaiting_charter
from agora.voting.ballots import FRENCH_SIX_GRADES

bp = Blueprint("assembly", __name__, template_folder="templates")
_SESSION_LENGTH = timedelta(hours=7)  # a working day of the assembly


def _edition_or_404(year: int | None = None) -> Edition:
    tenant = current_tenant()
    found = editions.editions_of(db.session, tenant)
    edition = (
        next((e for e in found if e.year == year), None) if year else (found[0] if found else None)
    )
    if edition is None:
        abort(404)
    return edition


def _body(body_id: int) -> Body:
    return get_owned_or_404(Body, body_id)


# --- public ---------------------------------------------------------------------------------


@bp.get("/assemblee")
@bp.get("/assemblee/<int:year>")
def edition_page(year: int | None = None) -> str:
    return edition_page_with(_edition_or_404(year))


def proposal_form(
    edition: Edition, form: ProposalForm | None = None, bodies: list[Body] | None = None
) -> ProposalForm:
    """The form drafting a proposal (``form``, the one sent, else a blank one) with the
    edition's bodies that draft (from ``bodies`` when the caller has them): the body is
    chosen when only one drafts, else the author picks."""
    form = form or blank(ProposalForm)
    if bodies is None:
        bodies = editions.bodies_of(db.session, edition)
    found = [b for b in bodies if "draft_content" in b.powers]
    with_choices(form.body_id, [(str(b.id), b.name) for b in found], placeholder=len(found) != 1)
    return form


def edition_page_with(
    edition: Edition,
    *,
    subject_form: SubjectForm | None = None,
    drafted: ProposalForm | None = None,
) -> str:
    """The edition's public page; with a refused form (its values, its errors) if given."""
    tenant = current_tenant()
    plan = council.plan_of(db.session, edition)
    measures = council.measures_of(db.session, plan) if plan else []
    bodies = editions.bodies_of(db.session, edition)
    return render_template(
        "assembly/edition.html",
        edition=edition,
        all_editions=editions.editions_of(db.session, tenant),
        bodies=bodies,
        subjects=subjects.subjects_of(db.session, edition),
        subject_submitters=config_at(edition.config_version).subject_submitters,
        sessions=sessions.sessions_of(db.session, edition),
        ballots=ballots.ballots_of(db.session, edition),
        proposals=proposals.proposals_of(db.session, edition),
        plan=plan,
        deliberation=council.deliberation_of(db.session, plan) if plan else None,
        measures=measures,
        overdue={m.id for m in measures if council.is_overdue(m)},
        subject_form=subject_form or blank(SubjectForm),
        proposal_form=drafted or proposal_form(edition, bodies=bodies),
        form=subject_form or drafted,
    )


@bp.get("/subjects/<int:subject_id>")
def subject_page(subject_id: int) -> str:
    return render_template("assembly/subject.html", subject=get_owned_or_404(Subject, subject_id))


@bp.post("/subjects")
def submit_subject() -> str | tuple[str, int] | Response:
    tenant, edition = current_tenant(), _edition_or_404()
    rule = config_at(edition.config_version).subject_submitters
    if rule != "anyone" and current_account() is None:
        return redirect(url_for("identity.login", next=url_for("assembly.edition_page")))
    form = SubjectForm()
    if not form.validate_on_submit():
        return edition_page_with(edition, subject_form=form), 422
    try:
        subjects.submit(
            db.session,
            tenant,
            edition,
            form.title.data,
            form.description.data,
            rule=rule,
            person=acting_person(db.session, tenant, create=True),
            name=form.name.data or "",
        )
    except DomainError as refusal:
        db.session.rollback()
        form.refuse(None, refusal.message)
        return edition_page_with(edition, subject_form=form), refusal.status
    db.session.commit()
    notify(_("Your subject is submitted: it will be reviewed publicly."))
    return redirect(url_for("assembly.edition_page") + "#subjects")


@bp.get("/proposals/<int:proposal_id>")
def proposal_page(proposal_id: int) -> str:
    return _proposal_page(get_owned_or_404(Proposal, proposal_id))


def _note_form(form: FeasibilityNoteForm | None = None) -> FeasibilityNoteForm:
    form = form or blank(FeasibilityNoteForm)
    with_choices(form.kind, [(k, str(NOTE_KINDS[k])) for k in proposals.NOTE_KINDS])
    with_choices(form.verdict, [(v, str(VERDICTS[v])) for v in proposals.VERDICTS])
    return form


def _proposal_page(
    proposal: Proposal,
    *,
    amendment: AmendmentForm | None = None,
    decision: tuple[int, AmendmentDecisionForm] | None = None,
    text: ProposalTextForm | None = None,
    note: FeasibilityNoteForm | None = None,
) -> str:
    """The proposal's page; with a refused form (its values and errors) if given."""
    found = amendments.amendments_of(db.session, proposal)
    decisions = {
        a.id: (
            decision[1] if decision and decision[0] == a.id else blank(AmendmentDecisionForm)
        ).place(a.id)
        for a in found
    }
    return render_template(
        "assembly/proposal.html",
        proposal=proposal,
        notes=proposals.notes_of(db.session, proposal),
        amendments=found,
        amendment_diff=amendments.diff,
        body=_body(proposal.body_id),
        amendment_form=amendment or blank(AmendmentForm, text=proposal.text),
        decision_forms=decisions,
        text_form=text or blank(ProposalTextForm, text=proposal.text),
        note_form=note or _note_form(),
        form=amendment or (decision[1] if decision else None) or text or note,
    )


def _back_to_proposal(proposal: Proposal, anchor: str = "") -> Response:
    return redirect(url_for("assembly.proposal_page", proposal_id=proposal.id) + anchor)


@bp.post("/proposals/<int:proposal_id>/amendments")
def table_amendment(proposal_id: int) -> str | tuple[str, int] | Response:
    tenant, proposal = current_tenant(), get_owned_or_404(Proposal, proposal_id)
    person = acting_person(db.session, tenant, create=True)
    if person is None:  # the policy already requires a signed-in account
        abort(403)
    form = AmendmentForm()
    if not form.validate_on_submit():
        return _proposal_page(proposal, amendment=form), 422
    try:
        amendments.table(db.session, tenant, proposal, person, form.text.data, form.rationale.data)
    except DomainError as refusal:
        db.session.rollback()
        form.refuse("text", refusal.message)
        return _proposal_page(proposal, amendment=form), refusal.status
    db.session.commit()
    notify(_("Your amendment is tabled: the authors of the proposal will decide on it."))
    return _back_to_proposal(proposal, "#amendments")


@bp.post("/proposals/<int:proposal_id>/amendments/<int:amendment_id>/decision")
def decide_amendment(proposal_id: int, amendment_id: int) -> str | tuple[str, int] | Response:
    """The authors accept or reject an amendment, once confirmed: neither can be undone."""
    tenant, proposal = current_tenant(), get_owned_or_404(Proposal, proposal_id)
    amendment = get_owned_or_404(Amendment, amendment_id)
    if amendment.proposal_id != proposal.id:
        abort(404)
    body = _body(proposal.body_id)
    author = acting_person(db.session, tenant)
    proposals.require_author(db.session, body, author)  # refused before anything is asked
    form = AmendmentDecisionForm().place(amendment.id)
    if not form.validate_on_submit():
        return _proposal_page(proposal, decision=(amendment.id, form)), 422
    accept = form.decision.data == "accept"
    if (
        page := ask_confirmation(
            title=_("Accept the amendment by %(author)s?", author=amendment.author)
            if accept
            else _("Reject the amendment by %(author)s?", author=amendment.author),
            consequences=[
                _("The text of the proposal becomes the amended text (a new revision).")
                if accept
                else _("The amendment is shown as rejected, with your reason, to the public."),
                _("This decision cannot be changed afterwards."),
            ],
            cancel_url=url_for("assembly.proposal_page", proposal_id=proposal.id) + "#amendments",
            confirm_text=_("Accept the amendment") if accept else _("Reject the amendment"),
        )
    ) is not None:
        return page
    try:
        amendments.decide(
            db.session,
            tenant,
            amendment,
            proposal,
            body,
            author,
            accept=accept,
            reason=form.reason.data or "",
        )
    except DomainError as refusal:
        db.session.rollback()
        form.refuse("reason" if refusal.status == 422 else None, refusal.message)
        return _proposal_page(proposal, decision=(amendment.id, form)), refusal.status
    db.session.commit()
    notify(_("The amendment is accepted.") if accept else _("The amendment is rejected."))
    return _back_to_proposal(proposal, "#amendments")


@bp.get("/proposals/<int:proposal_id>/notes/<int:note_id>")
def note_page(proposal_id: int, note_id: int) -> str:
    note = get_owned_or_404(FeasibilityNote, note_id)
    if note.proposal_id != proposal_id:
        abort(404)
    return render_template(
        "assembly/note.html", note=note, proposal=get_owned_or_404(Proposal, proposal_id)
    )


@bp.post("/proposals/<int:proposal_id>/text")
def edit_proposal(proposal_id: int) -> str | tuple[str, int] | Response:
    tenant, proposal = current_tenant(), get_owned_or_404(Proposal, proposal_id)
    form = ProposalTextForm()
    if not form.validate_on_submit():
        return _proposal_page(proposal, text=form), 422
    try:
        proposals.edit_text(
            db.session,
            tenant,
            proposal,
            _body(proposal.body_id),
            acting_person(db.session, tenant),
            form.text.data,
        )
    except DomainError as refusal:
        db.session.rollback()
        form.refuse("text", refusal.message)
        return _proposal_page(proposal, text=form), refusal.status
    db.session.commit()
    notify(_("The text of the proposal is saved (revision %(n)d).", n=proposal.revision))
    return _back_to_proposal(proposal)


@bp.post("/proposals/<int:proposal_id>/notes")
def annotate_proposal(proposal_id: int) -> str | tuple[str, int] | Response:
    tenant, proposal = current_tenant(), get_owned_or_404(Proposal, proposal_id)
    form = _note_form(FeasibilityNoteForm())
    if not form.validate_on_submit():
        return _proposal_page(proposal, note=form), 422
    try:
        proposals.annotate(
            db.session,
            tenant,
            proposal,
            who(),
            form.kind.data,
            form.verdict.data,
            form.rationale.data,
        )
    except DomainError as refusal:
        db.session.rollback()
        form.refuse(None, refusal.message)
        return _proposal_page(proposal, note=form), refusal.status
    db.session.commit()
    notify(_("The feasibility note is added."))
    return _back_to_proposal(proposal)


@bp.get("/ballots/<int:ballot_id>")
@for_visitors  # opened, closed, counted: each is an act of the journal
def ballot_page(ballot_id: int) -> str:
    return _ballot_page(ballot_id)


def ballot_page_with(ballot_id: int, *, tie_break_form: TieBreakForm) -> str:
    """The ballot's page with the staff's refused tie-break form (its seed, its error)."""
    return _ballot_page(ballot_id, tie_break_form=tie_break_form)


def _ballot_page(
    ballot_id: int,
    refusal: DomainError | None = None,
    tie_break_form: TieBreakForm | None = None,
) -> str:
    """The ballot's page; after a refused vote, with the choices sent and the refusal next
    to the field it concerns (the voting code, or the choices)."""
    ballot = get_owned_or_404(Ballot, ballot_id)
    body = _body(ballot.body_id)
    options = ballots.options_of(db.session, ballot)
    result = ballots.result_of(ballot)
    form = ballot_form(
        method=ballot.method,
        options=options,
        grade_labels=FRENCH_SIX_GRADES.labels,
        open_to_public=body.openness == "open_to_public",
        formdata=request.form if refusal is not None else None,
    )
    if refusal is not None:
        form.validate()
        if isinstance(refusal, Forbidden) and "code" in form:
            form.refuse("code", refusal.message)
        elif isinstance(refusal, Invalid) and form.choice_fields:
            if not any(form[name].errors for name in form.choice_fields):
                form.refuse(form.choice_fields[0], refusal.message)
        else:
            form.refuse(None, refusal.message)
    return render_template(
        "assembly/ballot.html",
        form=form,
        quorum_reason=ballots.quorum_reason,
        turnout_text=ballots.turnout_text,
        quorum_text=ballots.quorum_text,
        motion_text=ballots.motion_text,
        approvals_text=ballots.approvals_text,
        method_help=ballots.method_help,
        resolution_text=ballots.resolution_text,
        step_text=ballots.step_text,
        ballot=ballot,
        result=result,
        # The rule it was taken under: what its quorum and majority asked.
        rule=_rule_of(ballot) if result is not None else None,
        body=body,
        options=options,
        labels={str(o.id): o.label for o in options},
        tie_break_form=tie_break_form or blank(TieBreakForm),
    )


def _rule_of(ballot: Ballot) -> DecisionRule:
    """The rule the ballot was taken under: its edition's configuration's."""
    held_in = get_owned_or_404(AssemblySession, ballot.session_id)
    edition = get_owned_or_404(Edition, held_in.edition_id)
    return hooks_at(edition.config_version).decision_rule(ballot.decision)


@bp.get("/ballots/<int:ballot_id>/options/<int:option_id>")
def option_page(ballot_id: int, option_id: int) -> Response:
    option = get_owned_or_404(BallotOption, option_id)
    if option.ballot_id != ballot_id:
        abort(404)
    return redirect(url_for("assembly.ballot_page", ballot_id=ballot_id) + f"#option-{option.id}")


# Not rate-limited: a voting code carries 59 bits (a guess never hits), a second vote is
# refused by the database, and a per-address limit would lock out a hall sharing one Wi-Fi.
# CSRF is checked here rather than for every form: in a body open to all present, the voting
# code typed into the form is the only credential, so a forged request has nothing of the
# voter's to ride on, and code holders need neither a token nor a session cookie.
@bp.post("/ballots/<int:ballot_id>/vote")
@csrf.exempt  # type: ignore[untyped-decorator]  # Flask-WTF has no annotations
def cast_vote(ballot_id: int) -> Response:
    shape = casting.shape_of(db.session, current_tenant_id(), ballot_id)
    if shape is None:
        abort(404)
    person = None
    if not shape.open_to_public:
        # A member votes by their signed-in session: that is an ambient credential.
        if current_app.config["WTF_CSRF_ENABLED"]:
            csrf.protect()
        person = acting_person(db.session, current_tenant()) if current_account() else None
    try:
        casting.cast(
            db.session,
            shape,
            casting.payload_from_form(shape.method, request.form),
            person=person,
            code=request.form.get("code"),
            commit=True,
        )
    except DomainError as refusal:
        # Nothing was stored: the same page again, the choices kept, the error next to
        # the field it concerns (a mistyped code loses nothing).
        db.session.rollback()
        return Response(_ballot_page(ballot_id, refusal), status=refusal.status)
    metrics.vote_cast()
    # Post/redirect/get: reloading the confirmation page cannot send the vote again.
    return redirect(url_for("assembly.vote_recorded", ballot_id=ballot_id), code=303)


@bp.get("/sessions/<int:session_id>/presence")
@for_visitors  # the hall scans its cards at once; opening and closing it are public acts
def presence_page(session_id: int) -> str:
    """Where a voting card's QR code leads: the holder confirms they are present. The code is
    in the address's fragment (``#code=…``), which the browser never sends: a small script
    copies it into the form, which works without it too (the code is printed on the card)."""
    row = get_owned_or_404(AssemblySession, session_id)
    return _presence_page(row, blank(PresenceForm))


@bp.get("/sessions/<int:session_id>/presence/recorded")
@for_visitors  # the same for every holder: where a hall lands once checked in
def presence_recorded(session_id: int) -> str:
    """Where a card's holder lands once checked in while no vote is open (as a vote lands on
    its confirmation: reloading it sends nothing again)."""
    row = get_owned_or_404(AssemblySession, session_id)
    return _presence_page(row, blank(PresenceForm), confirmed=True)


def _presence_page(row: AssemblySession, form: PresenceForm, confirmed: bool = False) -> str:
    return render_template(
        "assembly/presence.html", row=row, body=_body(row.body_id), form=form, confirmed=confirmed
    )


# Like the vote, the code is the credential: no CSRF token, no cookie (see cast_vote), so no
# banner either: the page it leads to says the person is checked in.
@bp.post("/sessions/<int:session_id>/presence")
@csrf.exempt  # type: ignore[untyped-decorator]  # Flask-WTF has no annotations
def confirm_presence(session_id: int) -> Response | tuple[str, int]:
    """Check the card's holder in (with their roster origin), then on to the open ballot with
    the code filled in — again in the fragment, so that it reaches no server log — or, with
    no vote open, to the confirmation. A refused code comes back in the form, with the
    reason next to it."""
    row = get_owned_or_404(AssemblySession, session_id)
    form = PresenceForm()
    if not form.validate():
        return _presence_page(row, form), 422
    code = form.code.data
    try:
        sessions.check_in_with_card(db.session, current_tenant(), row, code, who())
    except DomainError as refusal:
        db.session.rollback()
        form.refuse("code", refusal.message)
        return _presence_page(row, form), refusal.status
    # Where to go is read before the commit, which expires every loaded row.
    still_open = [
        b for b in ballots.ballots_of_session(db.session, row) if b.status == BallotStatus.OPEN
    ]
    if still_open:
        latest = max(still_open, key=lambda b: b.created_at)
        address = url_for("assembly.ballot_page", ballot_id=latest.id)
        landing = f"{address}#code={sessions.normalised_code(code)}"
    else:
        landing = url_for("assembly.presence_recorded", session_id=row.id)
    db.session.commit()
    return redirect(landing, code=303)


@bp.get("/ballots/<int:ballot_id>/recorded")
def vote_recorded(ballot_id: int) -> str:
    return render_template("assembly/voted.html", ballot=get_owned_or_404(Ballot, ballot_id))


@bp.get("/charter")
@for_visitors
def charter_page() -> str:
    tenant = current_tenant()
    found = charter.versions(db.session, tenant)
    return render_template(
        "assembly/charter.html",
        versions=found,
        current=charter.in_force(db.session, tenant),
        waiting=[v.version for v in awaiting_charter(db.session, tenant)],
    )


@bp.get("/charter/versions/<int:number>")
def charter_version(number: int) -> str:
    version = _charter_version(number)
    previous = next(
        (v for v in charter.versions(db.session, current_tenant()) if v.number == number - 1), None
    )
    return render_template(
        "assembly/charter_version.html", version=version, changes=charter.diff(previous, version)
    )


def _charter_version(number: int) -> CharterVersion:
    version = next(
        (v for v in charter.versions(db.session, current_tenant()) if v.number == number), None
    )
    if version is None:
        abort(404)
    return version


@bp.get("/charter/versions/<int:number>.pdf")
def charter_pdf(number: int) -> Response:
    version = _charter_version(number)
    return attachment(
        charter.pdf(current_tenant(), version),
        f"reglement-interieur-v{number}.pdf",
        "application/pdf",
    )


@bp.get("/measures/<int:measure_id>")
def measure_page(measure_id: int) -> str:
    return _measure_page(get_owned_or_404(Measure, measure_id))


def _measure_page(
    measure: Measure,
    *,
    milestone: MilestoneForm | None = None,
    reached: tuple[int, MilestoneReachedForm] | None = None,
) -> str:
    """The measure's public page; with a refused milestone form (values, errors) if given."""
    found = council.milestones_of(db.session, measure)
    today = paris_today()
    return render_template(
        "assembly/measure.html",
        measure=measure,
        diff=council.text_diff(measure),
        overdue=council.is_overdue(measure),
        next_statuses=sorted(council.MEASURE_TRANSITIONS[measure.status]),
        milestones=found,
        today=today,
        milestone_form=milestone or blank(MilestoneForm),
        reached_forms={
            m.id: (
                reached[1]
                if reached and reached[0] == m.id
                else blank(MilestoneReachedForm, reached_on=today)
            ).place(m.id)
            for m in found
        },
        form=milestone or (reached[1] if reached else None),
    )


@bp.post("/measures/<int:measure_id>/milestones")
def add_milestone(measure_id: int) -> str | tuple[str, int] | Response:
    measure = get_owned_or_404(Measure, measure_id)
    form = MilestoneForm()
    if not form.validate_on_submit():
        return _measure_page(measure, milestone=form), 422
    try:
        council.add_milestone(
            db.session, current_tenant(), measure, form.title.data, form.due_on.data, who()
        )
    except DomainError as refusal:
        db.session.rollback()
        form.refuse("title", refusal.message)
        return _measure_page(measure, milestone=form), refusal.status
    db.session.commit()
    notify(_("The milestone “%(title)s” is announced.", title=form.title.data))
    return redirect(url_for("assembly.measure_page", measure_id=measure.id) + "#milestones")


@bp.post("/measures/<int:measure_id>/milestones/<int:milestone_id>/reached")
def reach_milestone(measure_id: int, milestone_id: int) -> str | tuple[str, int] | Response:
    milestone = get_owned_or_404(Milestone, milestone_id)
    if milestone.measure_id != measure_id:
        abort(404)
    measure = get_owned_or_404(Measure, measure_id)
    form = MilestoneReachedForm().place(milestone.id)
    if not form.validate_on_submit():
        return _measure_page(measure, reached=(milestone.id, form)), 422
    try:
        council.reach_milestone(
            db.session, current_tenant(), milestone, form.reached_on.data, who()
        )
    except DomainError as refusal:
        db.session.rollback()
        form.refuse("reached_on", refusal.message)
        return _measure_page(measure, reached=(milestone.id, form)), refusal.status
    db.session.commit()
    notify(_("The milestone “%(title)s” is marked as reached.", title=milestone.title))
    return redirect(url_for("assembly.measure_page", measure_id=measure_id) + "#milestones")


@bp.get("/council/<int:plan_id>")
def council_page(plan_id: int) -> str:
    plan = get_owned_or_404(ActionPlan, plan_id)
    deliberation = council.deliberation_of(db.session, plan)
    measures = council.measures_of(db.session, plan)
    return render_template(
        "assembly/council.html",
        plan=plan,
        deliberation=deliberation,
        measures=measures,
        diffs={m.id: council.text_diff(m) for m in measures},
    )


@bp.get("/council/<int:plan_id>/follow-up.pdf")
def follow_up_pdf(plan_id: int) -> Response:
    plan = get_owned_or_404(ActionPlan, plan_id)
    edition = get_owned_or_404(Edition, plan.edition_id)
    today = paris_today()
    return attachment(
        report.follow_up_report(db.session, current_tenant(), edition, plan, today),
        f"rapport-de-suivi-{edition.year}-{today.isoformat()}.pdf",
        "application/pdf",
    )


@bp.get("/council/deliberations/<int:deliberation_id>")
def deliberation_page(deliberation_id: int) -> Response:
    deliberation = get_owned_or_404(CouncilDeliberation, deliberation_id)
    return redirect(url_for("assembly.council_page", plan_id=deliberation.action_plan_id))


@bp.get("/assemblee/calendar.ics")
def sessions_calendar() -> Response:
    tenant, edition = current_tenant(), _edition_or_404()
    events = [
        CalendarEvent(
            uid=f"assembly-session-{row.id}@{request.host}",
            starts_at=row.starts_at,
            summary=f"{tenant.name} — {row.title}",
            location=row.venue,
            description=row.agenda,
            duration=_SESSION_LENGTH,
        )
        for row in sessions.sessions_of(db.session, edition)
    ]
    body = calendar(f"{tenant.name} — {edition.title}", events)
    return Response(
        body,
        mimetype="text/calendar",
        headers={"Content-Disposition": 'attachment; filename="assemblee.ics"'},
    )


@bp.get("/assemblee/decisions.csv")
def decisions_csv() -> Response:
    """Open data: every certified or closed decision, one line each."""
    edition = _edition_or_404()
    rows = []
    for ballot in ballots.ballots_of(db.session, edition):
        result = ballots.result_of(ballot)
        if result is None:
            continue
        tally, resolution = result.tally, result.resolution
        labels = {str(o.id): o.label for o in ballots.options_of(db.session, ballot)}
        rows.append(
            [
                edition.year,
                ballot.decision,
                ballot.question,
                ballot.method,
                ballot.status.value,
                tally.turnout,
                "oui" if result.quorum.met else "non",
                labels.get(
                    resolution.winner or "",
                    "adoptée" if tally.adopted else ("rejetée" if tally.adopted is False else ""),
                ),
            ]
        )
    return csv_response(
        f"decisions-{edition.year}.csv",
        [
            "annee",
            "decision",
            "question",
            "methode",
            "statut",
            "votants",
            "quorum_atteint",
            "resultat",
        ],
        rows,
    )
