"""A participant's notifications in this commune."""

from __future__ import annotations

from flask import Blueprint, abort, redirect, render_template, url_for
from flask_babel import get_locale
from werkzeug.wrappers import Response

from agora.extensions import db
from agora.identity.acting import current_account
from agora.notifications import services
from agora.notifications.models import Notification
from agora.tenancy.context import current_tenant, get_owned_or_404

bp = Blueprint("notifications", __name__, template_folder="templates")


@bp.get("/notifications")
def index() -> str:
    account = current_account()
    if account is None:  # the policy already requires a signed-in account
        abort(403)
    # In the language the reader is reading the site in, whoever acted and in what language.
    shown = services.shown_to(db.session, current_tenant(), account, str(get_locale()))
    return render_template("notifications/index.html", notifications=shown)


@bp.post("/notifications/<int:notification_id>/read")
def mark_read(notification_id: int) -> Response:
    notification = get_owned_or_404(Notification, notification_id)
    account = current_account()
    # Someone else's notification is exactly as absent as a missing one.
    if account is None or not services.is_addressed_to(db.session, notification, account):
        abort(404)
    services.mark_read(notification)
    db.session.commit()
    return redirect(url_for("notifications.index"))
