"""The programme's staff forms: starting the programme, a session's next status (no status
chosen in advance), and the console's filter by staff member."""

from __future__ import annotations

from collections.abc import Sequence

from flask_babel import lazy_gettext as _l
from wtforms import IntegerField
from wtforms.validators import NumberRange, Optional

from agora.identity.models import Account
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


class StaffFilterForm(Form):
    """The console's programmes, narrowed to the communes one staff member follows (a query
    string: the filter is a link one may share)."""

    staff = select_field(_l("Followed by"), [], required=False)

    def offer(self, members: Sequence[Account]) -> None:
        """Every staff member of the communes shown, after "All staff"."""
        self.staff.choices = [
            ("", str(_l("All staff"))),
            *[(str(m.id), m.display_name or m.email or str(m.id)) for m in members],
        ]
