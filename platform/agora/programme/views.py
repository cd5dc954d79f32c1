"""Programme pages: the commune's timeline, a session, the calendar feed; and the console's
view across the communes a staff member works for."""

from __future__ import annotations

from flask import Blueprint, abort, redirect, render_template, request, url_for
from flask_babel import gettext as _
from werkzeug.wrappers import Response

from agora.documents.ical import CalendarEvent, calendar
from agora.errors import Invalid
from agora.extensions import db
from agora.identity.acting import current_account
from agora.identity.services import actor, communes_of_staff
from agora.programme import services
from agora.programme.models import ProgrammeSession, SessionStatus
from agora.shared.forms import form_date
from agora.tenancy.context import current_tenant, get_owned_or_404, tenant_hooks
from agora.tenancy.isolation import tenant_scope

bp = Blueprint("programme", __name__, template_folder="templates")


@bp.get("/programme")
def timeline() -> str:
    tenant = current_tenant()
    programme = services.programme_of(db.session, tenant)
    entries = services.timeline(services.sessions_of(db.session, programme)) if programme else []
    return render_template("programme/timeline.html", programme=programme, entries=entries)


@bp.post("/programme")
def instantiate() -> Response:
    tenant = current_tenant()
    starts_on = form_date("starts_on", _("the start date must be a date (YYYY-MM-DD)"))
    template = tenant_hooks().programme_template()
    services.instantiate(db.session, tenant, template, starts_on, actor(current_account()))
    db.session.commit()
    return redirect(url_for("programme.timeline"))


@bp.get("/programme/sessions/<int:session_id>")
def session_detail(session_id: int) -> str:
    row = get_owned_or_404(ProgrammeSession, session_id)
    return render_template(
        "programme/session.html", row=row, next_statuses=sorted(services.TRANSITIONS[row.status])
    )


@bp.post("/programme/sessions/<int:session_id>/status")
def change_status(session_id: int) -> Response:
    row = get_owned_or_404(ProgrammeSession, session_id)
    try:
        status = SessionStatus(request.form.get("status", ""))
        attendance = request.form.get("attendance", type=int)
    except ValueError as error:
        raise Invalid(_("unknown session status")) from error
    services.change_status(
        db.session,
        current_tenant(),
        row,
        status,
        actor(current_account()),
        attendance=attendance,
        minutes=request.form.get("minutes", ""),
    )
    db.session.commit()
    return redirect(url_for("programme.session_detail", session_id=row.id))


@bp.post("/programme/sessions/<int:session_id>/deliverables/<key>")
def accept_deliverable(session_id: int, key: str) -> Response:
    row = get_owned_or_404(ProgrammeSession, session_id)
    services.accept_deliverable(db.session, current_tenant(), row, key, actor(current_account()))
    db.session.commit()
    return redirect(url_for("programme.session_detail", session_id=row.id))


@bp.get("/programme/calendar.ics")
def calendar_feed() -> Response:
    tenant = current_tenant()
    programme = services.programme_of(db.session, tenant)
    rows = services.sessions_of(db.session, programme) if programme else []
    events = [
        CalendarEvent(
            uid=f"programme-session-{row.id}@{request.host}",
            starts_at=row.scheduled_at,
            summary=f"{tenant.name} — {row.title}",
            location=row.venue,
            description=row.agenda,
            status={"cancelled": "CANCELLED", "planned": "TENTATIVE", "postponed": "TENTATIVE"}.get(
                row.status.value, "CONFIRMED"
            ),
        )
        for row in rows
        if row.scheduled_at is not None
    ]
    body = calendar(f"{tenant.name} — programme", events)
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
    rows = []
    for tenant in communes_of_staff(db.session, account):
        with tenant_scope(db.session, tenant.id):
            programme = services.programme_of(db.session, tenant)
            entries = (
                services.timeline(services.sessions_of(db.session, programme)) if programme else []
            )
        rows.append((tenant, entries))
    return render_template("programme/across.html", rows=rows)
