"""The identity pages' forms."""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from wtforms import Field, HiddenField
from wtforms.validators import ValidationError

from agora.shared.forms import Form, text_field

#: The longest e-mail address (RFC 5321's path limit).
EMAIL_MAX = 320


def _looks_like_an_address(form: Any, field: Field) -> None:
    # The link itself proves the address; this only catches a slip of the finger.
    if "@" not in (field.data or ""):
        raise ValidationError(_l("Please enter a valid e-mail address."))


class MagicLinkForm(Form):
    """The address a sign-in link is sent to; ``next`` is where the person goes after."""

    email = text_field(
        _l("E-mail address"),
        max_length=EMAIL_MAX,
        input_type="email",
        required=_l("Please enter a valid e-mail address."),
        validators=[_looks_like_an_address],
    )
    next = HiddenField()
