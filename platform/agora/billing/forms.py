"""Billing's forms: the commune's billing details, a line added to a draft quote, the
commune's answer to a quote."""

from __future__ import annotations

import re
from typing import Any

from flask_babel import lazy_gettext as _l
from wtforms.validators import ValidationError

from agora.billing import money
from agora.shared.forms import Form, text_field, textarea_field
from agora.shared.identifiers import is_valid_siret

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_REFERENCE = re.compile(r"^[A-Za-z0-9 ./_-]*$")


def _siret(form: Any, field: Any) -> None:
    value = (field.data or "").replace(" ", "")
    if not (value.isascii() and value.isdigit() and len(value) == 14):
        raise ValidationError(_l("Enter the SIRET as 14 digits (spaces allowed)."))
    if not is_valid_siret(value):
        raise ValidationError(
            _l("This SIRET does not exist: one digit is wrong (its check digit does not match).")
        )


def _email(form: Any, field: Any) -> None:
    if field.data and not _EMAIL.match(field.data):
        raise ValidationError(_l("Enter an e-mail address such as comptabilite@mairie.fr."))


def _reference(form: Any, field: Any) -> None:
    if field.data and not _REFERENCE.match(field.data):
        raise ValidationError(
            _l("Use only letters without accents, digits, spaces and . / _ - in this reference.")
        )


def _amount(form: Any, field: Any) -> None:
    cents = money.parse_euros(field.data or "")
    if cents is None:
        raise ValidationError(_l("Enter an amount in euros, such as 3 500 or 3 500,50."))
    if not 0 < cents <= money.MAX_LINE_CENTS:
        raise ValidationError(_l("Enter an amount between 0,01 € and 10 000 000 €."))


class ProfileForm(Form):
    legal_name = text_field(
        _l("Name on the invoices"),
        hint=_l("As the commune is registered with INSEE."),
        required=_l("Enter the name the invoices are addressed to."),
    )
    siret = text_field(
        _l("SIRET"),
        hint=_l("14 digits: the town hall's establishment that receives the invoices."),
        max_length=20,
        required=_l("Enter the commune's SIRET."),
        validators=[_siret],
    )
    service_code = text_field(
        _l("Chorus Pro service code (optional)"),
        hint=_l("When the commune asks for one, the invoices are routed to that department."),
        required=False,
        max_length=100,
        validators=[_reference],
    )
    engagement_number = text_field(
        _l("Commitment number (optional)"),
        hint=_l("The commune's numéro d'engagement, printed on every invoice."),
        required=False,
        max_length=50,
        validators=[_reference],
    )
    email = text_field(
        _l("Billing e-mail address"),
        hint=_l("Stripe sends the invoices there."),
        input_type="email",
        max_length=254,
        required=_l("Enter the e-mail address the invoices are sent to."),
        validators=[_email],
    )
    address = textarea_field(_l("Postal address (optional)"), required=False, max_length=500)

    @property
    def siret_digits(self) -> str:
        return str(self.siret.data or "").replace(" ", "")


class LineForm(Form):
    label = text_field(
        _l("What the line pays for"),
        required=_l("Enter what the line pays for."),
    )
    amount = text_field(
        _l("Amount before tax, in euros"),
        hint=_l("For example 3 500 or 3 500,50; VAT is added."),
        max_length=20,
        input_type="number",
        required=_l("Enter the line's amount."),
        validators=[_amount],
    )

    @property
    def cents(self) -> int:
        cents = money.parse_euros(self.amount.data or "")
        assert cents is not None  # validated
        return cents


class RefusalForm(Form):
    reason = textarea_field(
        _l("Why the commune refuses the quote (optional)"),
        hint=_l("The consultancy reads it to propose another quote."),
        required=False,
        max_length=2000,
    )
