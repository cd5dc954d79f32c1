"""The assembly's public forms.

The ballot's form renders the ballot page and, after a refused vote, renders it again with
the choices the person made and the error next to the field concerned. The vote itself is
read by ``casting.payload_from_form`` and checked by ``casting.cast``: the vote's request
builds no form (it stays as cheap as it was; ``bench/voting.py``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from werkzeug.datastructures import MultiDict

from agora.shared.forms import Form, checkboxes_field, radio_field, text_field, textarea_field

#: A voting code as handed at check-in is short; anything longer is not one.
CODE_MAX = 64


class BallotForm(Form):
    """The fields of one ballot; built per ballot by :func:`ballot_form`."""

    #: The fields holding the person's choice (grades, approvals, objection or choice).
    choice_fields: tuple[str, ...] = ()


def ballot_form(
    *,
    method: str,
    options: Sequence[Any],
    grade_labels: Sequence[str],
    open_to_public: bool,
    formdata: MultiDict[str, str] | None = None,
) -> BallotForm:
    """The form of a ballot by ``method`` over ``options``: a voting code in a body open to
    the public (no CSRF token: the code is the credential, and the page sets no cookie),
    the signed-in member's CSRF token in a closed body."""
    fields: dict[str, Any] = {}
    if open_to_public:
        fields["code"] = text_field(
            _l("Your voting code (given at check-in)"),
            max_length=CODE_MAX,
            required=_l("Enter the voting code given to you at check-in."),
        )
    if method == "majority_judgment":
        grades = [
            (str(index), grade_labels[index]) for index in range(len(grade_labels) - 1, -1, -1)
        ]
        for option in options:
            fields[f"grade-{option.id}"] = radio_field(
                option.label, grades, required=_l("Give a grade to this option.")
            )
    elif method == "approval":
        fields["approve"] = checkboxes_field(
            _l("Approve as many options as you like"),
            [(str(option.id), option.label) for option in options],
        )
    elif method == "consent":
        fields["objection"] = textarea_field(
            _l("Reasoned objection (leave empty to consent)"), required=False, max_length=5000
        )
    else:
        fields["choice"] = radio_field(
            _l("Your vote"),
            [("for", _("For")), ("against", _("Against")), ("abstain", _("Abstain"))],
            required=_l("Choose for, against or abstain."),
        )
    choices = tuple(name for name in fields if name != "code")

    class Meta:
        csrf = not open_to_public

    form_class = type("BallotForm", (BallotForm,), {**fields, "Meta": Meta})
    form: BallotForm = form_class(formdata=formdata)
    form.choice_fields = choices
    form.carries_token = not open_to_public
    return form
