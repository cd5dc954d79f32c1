"""The petitions' forms: opening a petition, signing one, and staff recording what the mayor
and the council did. The service checks again (a form is never the only guard): a refusal
of the service goes next to the field it concerns."""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l

from agora.petitions.models import Petition
from agora.petitions.services import TITLE_MAX
from agora.plugins.contracts import InterpellationRules
from agora.shared.forms import Form, checkbox_field, date_field, text_field, textarea_field

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


# --- staff: what the mayor and the council did ---------------------------------------------

#: The longest public answer to a petition.
ANSWER_MAX = 10_000


class MeetingForm(Form):
    """The day the meeting with the mayor and the elected referents took place."""

    held_on = date_field(
        _l("Meeting with the mayor held on"),
        required=_l("Enter the day the meeting was held."),
    )


class CouncilForm(Form):
    """The council session whose agenda the petition is on."""

    session_on = date_field(
        _l("On the agenda of the council of"),
        required=_l("Enter the day of the council session."),
    )


class AnswerForm(Form):
    """The public answer given to the petition, and the day it was decided."""

    decided_on = date_field(_l("Decided on"), required=_l("Enter the day the answer was decided."))
    answer = textarea_field(
        _l("Public answer"),
        max_length=ANSWER_MAX,
        required=_l("Write the public answer given to the petition."),
        hint=_l("Shown on the petition's page; its author and every signer are notified."),
    )


def staff_prefix(petition: Petition) -> str:
    """The staff forms' fields are named after their petition (several share the page)."""
    return f"petition-{petition.id}"


def staff_forms(petition: Petition, **bound: Form) -> dict[str, Form]:
    """The staff forms of one petition, the council's session as recorded; ``bound`` are
    forms as they were sent (refused)."""
    prefix = staff_prefix(petition)
    forms: dict[str, Form] = {
        "meeting": MeetingForm(formdata=None, prefix=prefix),
        "council": CouncilForm(
            formdata=None, prefix=prefix, session_on=petition.council_session_on
        ),
        "answer": AnswerForm(formdata=None, prefix=prefix),
    }
    forms.update(bound)
    return forms
