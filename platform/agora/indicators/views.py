"""The consultancy's indicators across the communes a staff member follows (every commune
for a platform admin), on the console's host, as a page and as a CSV file."""

from __future__ import annotations

from flask import Blueprint, abort, render_template
from flask_babel import gettext as _
from werkzeug.wrappers import Response

from agora.documents.tables import csv_response
from agora.extensions import db
from agora.identity.acting import current_account
from agora.identity.services import communes_of_staff
from agora.indicators import services
from agora.indicators.services import SMALLEST_CELL, Row
from agora.shared.formats import number, percent

bp = Blueprint("indicators", __name__, template_folder="templates")


def _rows() -> list[Row]:
    account = current_account()
    if account is None:
        abort(404)
    return services.across(db.session, communes_of_staff(db.session, account))


@bp.get("/console/indicators")
def across_communes() -> str:
    return render_template("indicators/across.html", rows=_rows(), smallest=SMALLEST_CELL)


@bp.get("/console/indicators.csv")
def across_communes_csv() -> Response:
    hidden = str(_("fewer than %(num)d", num=SMALLEST_CELL))

    def cell(value: int | float | None, kind: str = "count") -> str:
        if value is None:
            return hidden
        if kind == "rate":
            return percent(value)
        if kind == "mean":
            return number(value, 1)
        return str(value)

    header = [
        _("Commune"),
        _("Invitations"),
        _("Positive answers"),
        _("Response rate"),
        _("Check-ins"),
        _("People per assembly session"),
        _("People per programme session"),
        _("Measures"),
        _("Measures done"),
    ]
    rows = [
        [
            row.tenant.name if row.tenant else _("All communes shown"),
            cell(row.indicators.invitations),
            cell(row.indicators.positive_answers),
            cell(row.indicators.response_rate, "rate"),
            cell(row.indicators.check_ins),
            cell(row.indicators.attendance_per_session, "mean"),
            cell(row.indicators.programme_attendance_per_session, "mean"),
            row.indicators.measures,
            row.indicators.measures_done,
        ]
        for row in _rows()
    ]
    return csv_response("indicateurs.csv", header, rows)
