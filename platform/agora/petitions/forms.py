"""The petitions' forms: opening a petition and signing one. Their messages are the
service's own (the service checks again: a form is never the only guard)."""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l

from agora.petitions.services import TITLE_MAX
from agora.plugins.contracts import InterpellationRules
from agora.shared.forms import Form, checkbox_field, text_field, textarea_field

TEXT_MAX = 20_000


class PetitionForm(Form):
    title = text_field(_l("Title"), max_length=TITLE_MAX, required=_l("Give the petition a title."))
    text = textarea_field(
        _l("What do you ask the commune?"),
        max_length=TEXT_MAX,
        required=_l("Write the text of the petition: what do you ask the commune?"),
        hint=_l(
            "The text is public, with the name you chose for your account; "
            "your e-mail address never is."
        ),
    )


class SignForm(Form):
    """The declarations the commune's rules ask of a signer; built per petition."""


def sign_form(rules: InterpellationRules, commune: str, **kwargs: Any) -> SignForm:
    fields: dict[str, Any] = {}
    if rules.residents_only:
        fields["lives_here"] = checkbox_field(
            _l("I declare that I live in %(commune)s.", commune=commune),
            required=_l("To sign, declare that you live in %(commune)s.", commune=commune),
        )
    if rules.minimum_age:
        fields["old_enough"] = checkbox_field(
            _l("I declare that I am %(age)d or older.", age=rules.minimum_age),
            required=_l("To sign, declare that you are %(age)d or older.", age=rules.minimum_age),
        )
    form_class = type("SignForm", (SignForm,), fields)
    form: SignForm = form_class(**kwargs)
    return form
