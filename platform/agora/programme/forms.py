"""The programme's staff forms: starting the programme, and a session's next status (no status
chosen in advance)."""

from __future__ import annotations

from collections.abc import Sequence

from flask_babel import lazy_gettext as _l
from wtforms import IntegerField
from wtforms.validators import NumberRange, Optional

from agora.shared.forms import (
    PLACEHOLDER,
    Form,
    NumberInput,
    date_field,
    select_field,
    textarea_field,
)


class ProgrammeStatusForm(Form):
    status = select_field(_l("New status"), [PLACEHOLDER], required=_l("Choose a status."))
    attendance = IntegerField(
        _l("Attendance (when held)"),
        validators=[
            Optional(strip_whitespace=True),
            NumberRange(min=0, message=_l("Enter a whole number of at least %(min)s.")),
        ],
        widget=NumberInput(),
    )
    minutes = textarea_field(_l("Minutes (when published)"), required=False)

    def offer(self, statuses: Sequence[tuple[str, str]]) -> None:
        """The statuses the session may take next, after "Choose…"."""
        self.status.choices = [PLACEHOLDER, *statuses]


class StartProgrammeForm(Form):
    """The day the commune's support programme starts (its sessions are spread from it)."""

    starts_on = date_field(_l("Start date"), required=_l("Enter the day the programme starts."))
