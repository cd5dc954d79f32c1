"""Programme pages: the commune's timeline, a session, the calendar feed; and the console's
view across the communes a staff member works for."""

from __future__ import annotations

from flask import Blueprint, abort, current_app, redirect, render_template, request, url_for
from flask_babel import gettext as _
from werkzeug.wrappers import Response

from agora.documents.ical import calendar
from agora.errors import DomainError
from agora.extensions import db
from agora.identity.acting import current_account
from agora.identity.services import actor, communes_of_staff
from agora.programme import across, services
from agora.programme.forms import ProgrammeStatusForm, StaffFilterForm, StartProgrammeForm
from agora.programme.models import ProgrammeSession, SessionStatus
from agora.shared.forms import ask_confirmation, notify
from agora.shared.labels import SESSION_STATUSES
from agora.tenancy.addresses import page_address
from agora.tenancy.context import current_tenant, get_owned_or_404, tenant_hooks

bp = Blueprint("programme", __name__, template_folder="templates")


@bp.get("/programme")
def timeline() -> str:
    return _timeline_page(StartProgrammeForm(formdata=None))


def _timeline_page(form: StartProgrammeForm) -> str:
    tenant = current_tenant()
    programme = services.programme_of(db.session, tenant)
    entries = services.timeline(services.sessions_of(db.session, programme)) if programme else []
    return render_template(
        "programme/timeline.html", programme=programme, entries=entries, form=form
    )


@bp.post("/programme")
def instantiate() -> Response | tuple[str, int]:
    tenant = current_tenant()
    form = StartProgrammeForm()
    if not form.validate():
        return _timeline_page(form), 422
    template = tenant_hooks().programme_template()
    services.instantiate(
        db.session, tenant, template, form.starts_on.data, actor(current_account())
    )
    db.session.commit()
    notify(_("The programme is started: its sessions are on the timeline."))
    return redirect(url_for("programme.timeline"))


def _status_form(row: ProgrammeSession) -> ProgrammeStatusForm:
    form = ProgrammeStatusForm()
    form.offer(
        [
            (s.value, str(SESSION_STATUSES[s.value]))
            for s in sorted(services.TRANSITIONS[row.status])
        ],
    )
    return form


def _session_page(
    row: ProgrammeSession, form: ProgrammeStatusForm, status: int = 200
) -> tuple[str, int]:
    page = render_template(
        "programme/session.html",
        row=row,
        form=form,
        next_statuses=sorted(services.TRANSITIONS[row.status]),
    )
    return page, status


@bp.get("/programme/sessions/<int:session_id>")
def session_detail(session_id: int) -> tuple[str, int]:
    row = get_owned_or_404(ProgrammeSession, session_id)
    return _session_page(row, _status_form(row))


@bp.post("/programme/sessions/<int:session_id>/status")
def change_status(session_id: int) -> str | tuple[str, int] | Response:
    """A session's next status; cancelling it asks first (it cannot be undone)."""
    row = get_owned_or_404(ProgrammeSession, session_id)
    form = _status_form(row)
    if not form.validate_on_submit():
        return _session_page(row, form, 422)
    status = SessionStatus(form.status.data)
    if (
        status == SessionStatus.CANCELLED
        and (
            page := ask_confirmation(
                title=_("Cancel the session “%(title)s”?", title=row.title),
                consequences=[
                    _("The session is shown as cancelled in the programme and the calendar."),
                    _("It cannot be planned again: plan a new session instead."),
                ],
                cancel_url=url_for("programme.session_detail", session_id=row.id),
                confirm_text=_("Cancel the session"),
            )
        )
        is not None
    ):
        return page
    try:
        services.change_status(
            db.session,
            current_tenant(),
            row,
            status,
            actor(current_account()),
            attendance=form.attendance.data,
            minutes=form.minutes.data or "",
        )
    except DomainError as refusal:
        db.session.rollback()
        form.refuse("status", refusal.message)
        return _session_page(row, form, 422)
    db.session.commit()
    notify(_("The session is now: %(status)s", status=SESSION_STATUSES[status.value]))
    return redirect(url_for("programme.session_detail", session_id=row.id))


@bp.post("/programme/sessions/<int:session_id>/deliverables/<key>")
def accept_deliverable(session_id: int, key: str) -> Response:
    row = get_owned_or_404(ProgrammeSession, session_id)
    services.accept_deliverable(db.session, current_tenant(), row, key, actor(current_account()))
    db.session.commit()
    notify(_("The deliverable is accepted."))
    return redirect(url_for("programme.session_detail", session_id=row.id))


@bp.get("/programme/calendar.ics")
def calendar_feed() -> Response:
    tenant = current_tenant()
    programme = services.programme_of(db.session, tenant)
    rows = services.sessions_of(db.session, programme) if programme else []
    events = [services.calendar_event(tenant, row) for row in rows if row.scheduled_at]
    return _calendar_file(calendar(f"{tenant.name} — programme", events))


def _calendar_file(body: str) -> Response:
    return Response(
        body,
        mimetype="text/calendar",
        headers={"Content-Disposition": 'attachment; filename="programme.ics"'},
    )


@bp.get("/console/programmes")
def across_communes() -> str:
    account = current_account()
    if account is None:
        abort(404)
    visible = communes_of_staff(db.session, account)
    members = across.staff_members(db.session, visible)
    form = StaffFilterForm(request.args, meta={"csrf": False})
    form.offer(members)
    if not form.validate():
        abort(404)  # a staff member who follows none of these communes
    shown = visible
    if form.staff.data:
        followed = across.followed_by(db.session, int(form.staff.data))
        shown = [t for t in visible if t.id in followed]
    return render_template(
        "programme/across.html",
        rows=[across.progress_of(db.session, tenant) for tenant in shown],
        form=form,
        calendar_url=page_address(
            None,
            "programme.staff_calendar",
            token=across.calendar_token(current_app.config["SECRET_KEY"], account),
        ),
    )


@bp.post("/console/calendar/renew")
def renew_staff_calendar() -> str | Response:
    """A new address for the staff member's calendar; the one before stops working."""
    account = current_account()
    if account is None:
        abort(404)
    page = ask_confirmation(
        title=_("Renew the address of your calendar?"),
        consequences=[
            _("The address you have now stops working, in every calendar subscribed to it."),
            _("Subscribe your calendar application to the new address shown next."),
        ],
        cancel_url=url_for("programme.across_communes"),
        confirm_text=_("Renew the address"),
    )
    if page is not None:
        return page
    across.renew_calendar(account)
    db.session.commit()
    notify(_("Your calendar has a new address: the one before no longer works."))
    return redirect(url_for("programme.across_communes"))


@bp.get("/console/calendar/<token>/programme.ics")
def staff_calendar(token: str) -> Response:
    """Every programme session of the communes a staff member follows, for their calendar
    application (which cannot sign in: the signed address is the credential)."""
    account = across.account_of_token(db.session, current_app.config["SECRET_KEY"], token)
    if account is None:
        abort(404)
    tenants = communes_of_staff(db.session, account)
    events = across.staff_events(db.session, tenants)
    name = account.display_name or account.email or ""
    return _calendar_file(calendar(_("Programmes — %(name)s", name=name), events))
