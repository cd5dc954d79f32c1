"""The identity pages' forms: the sign-in link, its confirmation, the second factor, and the
commune's members page."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from flask_babel import lazy_gettext as _l
from wtforms import Field, HiddenField
from wtforms.validators import Length, ValidationError

from agora.shared.forms import PLACEHOLDER, Form, select_field, text_field

#: The longest e-mail address (RFC 5321's path limit).
EMAIL_MAX = 320
#: The longest path a person is sent to after signing in.
NEXT_MAX = 2000
#: A TOTP code as typed: six digits, perhaps split by a space.
CODE_MAX = 7


def looks_like_an_address(form: Any, field: Field) -> None:
    # The link itself proves the address; this only catches a slip of the finger.
    if "@" not in (field.data or ""):
        raise ValidationError(_l("Please enter a valid e-mail address."))


def _next_field() -> HiddenField:
    """Where the person goes after signing in (checked again by ``safe_next``)."""
    return HiddenField(validators=[Length(max=NEXT_MAX)])


class MagicLinkForm(Form):
    """The address a sign-in link is sent to; ``next`` is where the person goes after."""

    email = text_field(
        _l("E-mail address"),
        max_length=EMAIL_MAX,
        input_type="email",
        required=_l("Please enter a valid e-mail address."),
        validators=[looks_like_an_address],
    )
    next = _next_field()


class MagicLinkUseForm(Form):
    """The button that signs in with a link (mail scanners open links; only this POST signs
    in), and where to go after."""

    next = _next_field()


def _digits(form: Any, field: Field) -> None:
    if not (field.data or "").replace(" ", "").isdigit():
        raise ValidationError(_l("Enter the six digits your authenticator app shows."))


class SecondFactorForm(Form):
    """The one-time code of the person's authenticator app."""

    code = text_field(
        _l("Six-digit code"),
        max_length=CODE_MAX,
        input_type="number",
        required=_l("Enter the six digits your authenticator app shows."),
        validators=[_digits],
    )
    next = _next_field()


class GrantRoleForm(Form):
    """A role in the commune for the person with this address (their account is created if
    they have none yet)."""

    email = text_field(
        _l("E-mail address"),
        max_length=EMAIL_MAX,
        input_type="email",
        required=_l("Please enter a valid e-mail address."),
        validators=[looks_like_an_address],
    )
    role = select_field(_l("Role"), [PLACEHOLDER], required=_l("Choose a role."))

    def offer(self, roles: Iterable[tuple[str, str]]) -> None:
        """The roles that may be granted, after "Choose…"."""
        self.role.choices = [PLACEHOLDER, *roles]
