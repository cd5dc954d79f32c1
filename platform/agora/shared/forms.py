"""Reading typed values from a posted form, with the French message a person sees when one is
not what the form asked for."""

from __future__ import annotations

from datetime import date

from flask import request
from flask_babel import gettext as _

from agora.errors import Invalid


def form_date(field: str, error: str | None = None) -> date:
    """The ISO date in ``field`` (what ``<input type="date">`` sends), else 422 with ``error``."""
    try:
        return date.fromisoformat(request.form.get(field, ""))
    except ValueError as invalid:
        raise Invalid(error or _("the date must be a date (YYYY-MM-DD)")) from invalid
