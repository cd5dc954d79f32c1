"""The console's form moving a commune along its lifecycle."""

from __future__ import annotations

from collections.abc import Sequence

from flask_babel import lazy_gettext as _l
from wtforms.validators import Regexp

from agora.identity.forms import EMAIL_MAX, looks_like_an_address
from agora.plugins.contracts import CommuneProfile
from agora.shared.forms import (
    Form,
    checkboxes_field,
    date_field,
    radio_field,
    text_field,
    textarea_field,
)
from agora.shared.labels import TENANT_KINDS, TENANT_STATUSES
from agora.tenancy.config import INSEE_CODE_PATTERN, SLUG_PATTERN
from agora.tenancy.models import TenantKind, TenantStatus


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


class NewCommuneForm(Form):
    """The onboarding wizard: the commune, its kind of assembly, who follows it, and when
    its support programme starts. The choices come from the plugins and the staff list
    (:meth:`offer`)."""

    name = text_field(
        _l("Name of the commune"), max_length=200, required=_l("Enter the commune's name.")
    )
    kind = radio_field(
        _l("Kind of local authority"),
        [(kind.value, TENANT_KINDS[kind.value]) for kind in TenantKind],
        required=_l("Choose the kind of local authority."),
    )
    insee_code = text_field(
        _l("INSEE code"),
        max_length=9,
        required=_l("Enter the INSEE code."),
        hint=_l(
            "The commune's code, five characters (in Corsica 2A or 2B then three digits), "
            "or the SIREN of an intercommunality, nine digits. Not the postcode."
        ),
        validators=[
            Regexp(
                INSEE_CODE_PATTERN,
                message=_l(
                    "Enter five digits (2A or 2B then three digits in Corsica), or nine for "
                    "an intercommunality, such as 29019."
                ),
            )
        ],
    )
    population = text_field(
        _l("Population"),
        max_length=8,
        input_type="number",
        required=_l("Enter the population (a whole number)."),
        hint=_l("The municipal population of the latest census (INSEE)."),
        validators=[Regexp(r"^[1-9][0-9]*$", message=_l("Enter the population (a whole number)."))],
    )
    slug = text_field(
        _l("Address of its site"),
        max_length=63,
        required=_l("Choose the address of the commune's site."),
        validators=[
            Regexp(
                SLUG_PATTERN,
                message=_l(
                    "Use lower-case letters without accents, digits and hyphens, such as "
                    "saint-brieuc."
                ),
            )
        ],
    )
    profile = radio_field(
        _l("Kind of assembly"), [], required=_l("Choose the kind of assembly to start from.")
    )
    staff = checkboxes_field(
        _l("Consultancy staff who follow the commune"),
        [],
        hint=_l("You follow it yourself in any case."),
    )
    admin_email = text_field(
        _l("E-mail address of its first administrator"),
        max_length=EMAIL_MAX,
        input_type="email",
        required=_l("Enter the e-mail address of the person who administers the commune."),
        hint=_l(
            "Often the mayor's office or the participation officer: they get a link to sign in."
        ),
        validators=[looks_like_an_address],
    )
    starts_on = date_field(
        _l("First day of the support programme"),
        required=_l("Enter the day the support programme starts."),
    )

    def offer(self, profiles: Sequence[CommuneProfile], staff: Sequence[tuple[int, str]]) -> None:
        """The kinds of assembly the plugins offer, and the consultancy's staff by id."""
        self.profile.choices = [(profile.key, profile.title) for profile in profiles]
        self.staff.choices = [(str(account_id), email) for account_id, email in staff]
