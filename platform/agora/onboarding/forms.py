"""The console's form moving a commune along its lifecycle."""

from __future__ import annotations

from collections.abc import Sequence

from flask_babel import lazy_gettext as _l

from agora.shared.forms import Form, radio_field, textarea_field
from agora.shared.labels import TENANT_STATUSES
from agora.tenancy.models import TenantStatus


class CommuneStatusForm(Form):
    status = radio_field(_l("New status"), [], required=_l("Choose the commune's new status."))
    notice = textarea_field(
        _l("Public notice"),
        required=False,
        max_length=500,
        hint=_l("Shown on every page of the commune's site; required to suspend it."),
    )

    def offer(self, statuses: Sequence[TenantStatus]) -> None:
        """The statuses the commune may take next (none chosen in advance)."""
        self.status.choices = [(s.value, str(TENANT_STATUSES[s.value])) for s in statuses]
