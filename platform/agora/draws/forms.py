"""Staff forms of a draw: its design and method, a register's upload and its columns."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from flask_babel import lazy_gettext as _l
from wtforms import IntegerField
from wtforms.validators import NumberRange, Optional

from agora.assembly.models import Membership
from agora.draws.columns import Role
from agora.draws.models import Response
from agora.plugins.contracts import DrawSource
from agora.shared.forms import (
    PLACEHOLDER,
    TEXT_MAX,
    Form,
    NumberInput,
    checkboxes_field,
    file_field,
    radio_field,
    select_field,
    text_field,
    textarea_field,
)
from agora.shared.labels import ALGORITHMS


def _seats(label: str) -> IntegerField:
    return IntegerField(
        label,
        validators=[
            Optional(strip_whitespace=True),
            NumberRange(min=0, max=10000, message=_l("Enter a whole number of at least %(min)s.")),
        ],
        widget=NumberInput(),
        description=_l("Seats drawn from this source (leave empty if none)."),
    )


class MethodForm(Form):
    """The method of a draw; one seats field per source of the commune (``seats_<name>``)."""

    algorithm = radio_field(_l("Selection algorithm"), [], required=_l("Choose an algorithm."))
    minimum_age = IntegerField(
        _l("Minimum age on the day of the draw"),
        validators=[NumberRange(min=0, max=120, message=_l("Enter an age from 0 to 120."))],
        widget=NumberInput(),
    )
    recent_editions = IntegerField(
        _l("Previous editions whose members may not be drawn"),
        validators=[
            Optional(),
            NumberRange(min=0, max=20, message=_l("Enter a number of editions from 0 to 20.")),
        ],
        widget=NumberInput(),
        description=_l(
            "The people seated by the draws of this many editions before this one are left out "
            "(matched by their register identifier, within one source). 0: nobody."
        ),
    )
    witnesses = textarea_field(
        _l("Witnesses"),
        required=False,
        hint=_l("Who attends the draw (a bailiff, residents, elected members…)."),
    )
    exclusions = textarea_field(
        _l("Excluded identifiers"),
        required=False,
        max_length=TEXT_MAX * 20,
        hint=_l(
            "Register identifiers of people who may not be drawn (elected members, the "
            "commune's agents), one per line. Only their fingerprints are kept."
        ),
    )

    def source_fields(self) -> list[tuple[str, object]]:
        return [(field.name[6:], field) for field in self if field.name.startswith("seats_")]


def method_form(sources: Mapping[str, DrawSource], *, new: bool, **values: object) -> MethodForm:
    """The method form for the commune's ``sources`` (with a title and a body when ``new``)."""

    class Bound(MethodForm):
        pass

    if new:
        Bound.title = text_field(_l("Title"), hint=_l("For instance: Draw of the 2026 assembly"))
        Bound.body = select_field(
            _l("Body whose seats are drawn"), [PLACEHOLDER], required=_l("Choose a body.")
        )
    for name, source in sources.items():
        setattr(Bound, f"seats_{name}", _seats(source.label))
    form = Bound(**values)
    form.algorithm.choices = [(key, str(label)) for key, label in ALGORITHMS.items()]
    return form


class RegisterForm(Form):
    sub_draw = select_field(_l("Source"), [PLACEHOLDER], required=_l("Choose a source."))
    register = file_field(
        _l("Register file"),
        required=_l("Choose the register's file."),
        hint=_l("CSV (or ODS for the volunteers' list), as the source expects it."),
        accept=".csv,.txt,.ods",
    )


class VolunteersForm(Form):
    volunteers = checkboxes_field(
        _l("Members who volunteer"),
        [],
        required=_l("Tick at least one member who volunteers."),
        hint=_l("Their profile is the one their own draw recorded."),
    )

    def offer(
        self, members: Sequence[tuple[Membership, Response]], names: Mapping[str, str]
    ) -> None:
        """One box per member a draw seated: their name and the profile it recorded
        (``names``: the stratum values' labels)."""
        self.volunteers.choices = [
            (
                str(membership.id),
                " — ".join(
                    [
                        str(response.contact.get("name") or membership.id),
                        ", ".join(names.get(v, v) for v in response.features.values()),
                    ]
                ),
            )
            for membership, response in members
        ]


class ColumnsForm(Form):
    """The columns of a register, one field per role (``col_<role>``)."""

    def chosen(self) -> dict[str, list[str]]:
        """The columns chosen, by role."""
        picked: dict[str, list[str]] = {}
        for field in self:
            if field.name.startswith("col_") and field.data:
                data = field.data if isinstance(field.data, list) else [field.data]
                picked[field.name[4:]] = [str(name) for name in data if name]
        return picked


def columns_form(
    roles: Sequence[Role], names: Sequence[str], proposal: Mapping[str, Sequence[str]]
) -> ColumnsForm:
    """The mapping form of a file whose header holds ``names``, proposing ``proposal``."""

    class Bound(ColumnsForm):
        pass

    choices = [(name, name) for name in names]
    values: dict[str, object] = {}
    for role in roles:
        name = f"col_{role.key}"
        if role.several:
            field = checkboxes_field(
                role.label,
                choices,
                required=_l("Choose at least one column.") if role.required else False,
            )
            values[name] = list(proposal.get(role.key, []))
        else:
            first = PLACEHOLDER if role.required else ("", _l("Not in this file"))
            field = select_field(
                role.label,
                [first, *choices],
                required=_l("Choose a column.") if role.required else False,
            )
            values[name] = next(iter(proposal.get(role.key, [])), "")
        setattr(Bound, name, field)
    return Bound(**values)
