"""The assembly's forms: the ballot (public) and the staff workspace's forms.

The ballot's form renders the ballot page and, after a refused vote, renders it again with
the choices the person made and the error next to the field concerned. The vote itself is
read by ``casting.payload_from_form`` and checked by ``casting.cast``: the vote's request
builds no form (it stays as cheap as it was; ``bench/voting.py``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, TypeVar

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from werkzeug.datastructures import MultiDict
from wtforms import HiddenField, IntegerField
from wtforms.validators import InputRequired, NumberRange, ValidationError

from agora.shared.forms import (
    PLACEHOLDER,
    Form,
    NumberInput,
    checkbox_field,
    checkboxes_field,
    date_field,
    radio_field,
    select_field,
    text_field,
    textarea_field,
    web_address,
)

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


# --- The staff workspace -----------------------------------------------------------------


class WholeNumberField(IntegerField):  # type: ignore[misc]
    """A whole number: one French message when what was typed is not one."""

    def process_formdata(self, valuelist: list[Any]) -> None:
        try:
            super().process_formdata(valuelist)
        except ValueError as error:
            raise ValueError(_("Enter a whole number.")) from error

    def post_validate(self, form: Any, validation_stopped: bool) -> None:
        if self.process_errors:  # not a number: the range's message would only repeat it
            errors: list[Any] = getattr(self, "errors", [])
            self.errors = errors[:1]


def _number(
    label: str,
    *,
    required: bool = True,
    minimum: int = 0,
    maximum: int | None = None,
    hint: str = "",
) -> IntegerField:
    """A whole number typed in a text box (``inputmode=numeric``), French message if not."""
    from wtforms.validators import InputRequired, Optional

    return WholeNumberField(
        label,
        validators=[
            InputRequired(message=_l("Enter a whole number."))
            if required
            else Optional(strip_whitespace=True),
            NumberRange(
                min=minimum,
                max=maximum,
                message=_l("Enter a whole number between %(min)s and %(max)s.")
                if maximum is not None
                else _l("Enter a whole number of at least %(min)s."),
            ),
        ],
        description=hint,
        widget=NumberInput(),
    )


def status_select(label: str, choices: Sequence[tuple[str, str]], *, hint: str = "") -> Any:
    """A status select that starts on "Choose…" (no destructive default) and must be set."""
    return select_field(
        label,
        [PLACEHOLDER, *choices],
        required=_l("Choose a status."),
        hint=hint,
    )


class EditionForm(Form):
    year = _number(_l("Year"), minimum=2000, maximum=2100)
    title = text_field(_l("Title"), required=False, hint=_l("Leave empty for “Édition <year>”"))


class SubjectReviewForm(Form):
    general_interest = checkbox_field(_l("General interest"))
    municipal_competence = checkbox_field(_l("Municipal competence"))
    budget_sustainable = checkbox_field(_l("Sustainable for the budget"))
    reason = textarea_field(_l("Public reason if inadmissible"), required=False, max_length=2000)

    def validate(self, extra_validators: Any = None) -> bool:
        # Here rather than in validate_reason: an empty optional field stops its validators
        # before they run.
        valid = super().validate(extra_validators=extra_validators)
        admissible = (
            self.general_interest.data
            and self.municipal_competence.data
            and self.budget_sustainable.data
        )
        if not admissible and not (self.reason.data or "").strip():
            self.refuse("reason", _("Give the public reason why the subject is inadmissible."))
            return False
        return bool(valid)


class SessionPlanForm(Form):
    body_id = select_field(_l("Body"), [], required=_l("Choose the body that meets."))
    number = _number(_l("Number"), minimum=1)
    title = text_field(_l("Title"))
    starts_at = text_field(_l("Date and time"), required=_l("Enter the date and time."))
    venue = text_field(_l("Place"), required=False)

    def validate_starts_at(self, field: Any) -> None:
        from datetime import datetime

        try:
            datetime.fromisoformat(field.data or "")
        except ValueError as error:
            raise ValidationError(_("Enter a date and a time.")) from error


class MemberForm(Form):
    name = text_field(_l("Name"))
    email = text_field(
        _l("E-mail address (optional: to sign in as this member)"),
        required=False,
        input_type="email",
    )
    origin = select_field(_l("Origin"), [], required=_l("Choose the member's origin."))
    voting = radio_field(_l("Voting right"), [("yes", _l("yes")), ("no", _l("no"))])

    def validate_email(self, field: Any) -> None:
        if field.data and "@" not in field.data:
            raise ValidationError(_("Please enter a valid e-mail address."))


class MembersForm(Form):
    names = textarea_field(_l("Names, one per line"), max_length=20_000)
    origin = select_field(_l("Origin"), [], required=_l("Choose the members' origin."))
    voting = radio_field(_l("Voting right"), [("yes", _l("yes")), ("no", _l("no"))])


class SessionStatusForm(Form):
    status = status_select(_l("New status"), [])


class OpenBallotForm(Form):
    question = text_field(_l("Question"))
    decision = select_field(_l("Kind of decision"), [], required=_l("Choose the kind of decision."))
    subject_ids = checkboxes_field(_l("Subjects on the ballot"), [])
    proposal_ids = checkboxes_field(_l("Proposals on the ballot"), [])
    # Secret unless staff say otherwise: a form that leaves it out opens a secret ballot.
    secret = radio_field(
        _l("Secret ballot"),
        [("yes", _l("yes")), ("no", _l("no: each vote is recorded with its voter"))],
        required=False,
        default="yes",
    )

    def validate_proposal_ids(self, field: Any) -> None:
        if not self.subject_ids.data and not field.data:
            raise ValidationError(_("Put at least one subject or proposal on the ballot."))


class CharterAdvanceForm(Form):
    council_reference = text_field(
        _l("Council deliberation adopting it"), required=False, max_length=200
    )


class MeasureStatusForm(Form):
    status = status_select(_l("New status"), [])
    note = textarea_field(
        _l("Public note"),
        required=False,
        max_length=5000,
        hint=_l("Required to abandon a measure: the public justification."),
    )

    def validate(self, extra_validators: Any = None) -> bool:
        # Here rather than in validate_note: an empty optional field stops its validators
        # before they run, and the justification must be asked before the confirmation.
        valid = super().validate(extra_validators=extra_validators)
        if self.status.data == "abandoned" and not (self.note.data or "").strip():
            self.refuse("note", _("Give the public justification for abandoning the measure."))
            return False
        return bool(valid)


class DeliberationForm(Form):
    """The council's deliberation; one group of fields per measure (``measure_fields``)."""

    reference = text_field(_l("Deliberation number"))
    session_date = date_field(_l("Council session date"), required=_l("Enter the date."))
    outcome = status_select(_l("Outcome"), [])
    votes_for = _number(_l("For"))
    votes_against = _number(_l("Against"))
    abstentions = _number(_l("Abstentions"))
    act_url = text_field(
        _l("Link to the act"), required=False, max_length=500, validators=[web_address]
    )

    measure_ids: tuple[int, ...] = ()


def deliberation_form(
    measures: Sequence[Any],
    outcomes: Sequence[tuple[str, str]],
    responses: Sequence[tuple[str, str]],
) -> DeliberationForm:
    """The deliberation form for a plan's ``measures``: each measure's answer (no default:
    the council's answer is chosen), text, budget, justification, service, referent, date."""
    fields: dict[str, Any] = {}
    for m in measures:
        fields[f"response-{m.id}"] = status_select(_l("Answer"), responses)
        fields[f"text-{m.id}"] = textarea_field(_l("Text as decided (if modified)"), required=False)
        fields[f"budget-{m.id}"] = _number(_l("Budget as decided, € (if modified)"), required=False)
        fields[f"justification-{m.id}"] = textarea_field(
            _l("Justification (required unless accepted)"), required=False, max_length=5000
        )
        fields[f"owner-{m.id}"] = text_field(_l("Service in charge"), required=False)
        fields[f"referent-{m.id}"] = text_field(_l("Elected referent"), required=False)
        fields[f"due-{m.id}"] = date_field(_l("Due date"), required=False)
    form_class = type("DeliberationForm", (DeliberationForm,), fields)
    form: DeliberationForm = form_class()
    form.outcome.choices = [PLACEHOLDER, *outcomes]
    form.measure_ids = tuple(m.id for m in measures)
    return form


def with_choices(
    field: Any, choices: Sequence[tuple[str, str]], *, placeholder: bool = True
) -> None:
    """Give a select its choices for this request, after the neutral "Choose…"."""
    field.choices = [PLACEHOLDER, *choices] if placeholder else list(choices)


class EditionAdvanceForm(Form):
    """Moving an edition on to its next stage (asked for confirmation: it cannot be undone).
    ``to`` names the stage the button offered: a second click, after the edition already
    moved on, is refused rather than moving it on twice."""

    to = HiddenField(validators=[InputRequired(message=_l("Choose the next stage."))])


class TieBreakForm(Form):
    seed = text_field(
        _l("Public seed (revealed now)"),
        required=False,
        max_length=500,
        hint=_l("The public random value fixed in advance, such as a drand round."),
    )


class RosterPlace(Form):
    """Where the desk was on the roster (its search and page), to go back there."""

    q = HiddenField(filters=[lambda value: str(value or "").strip()[:200]])
    page = HiddenField(filters=[lambda value: str(value) if str(value or "").isdigit() else None])


class WalkInForm(RosterPlace):
    """A person who walks in, checked in as a volunteer. ``origin`` is not offered: any
    other origin posted is refused by the service (who was drawn is what the roster says)."""

    name = text_field(_l("Name"), required=_l("Enter the name of the person checking in."))
    origin = HiddenField(default="volunteer")


class PresenceForm(Form):
    """The holder of a voting card confirms their presence: the code is the credential, so
    the form carries no CSRF token and the page sets no cookie (like the vote)."""

    carries_token = False

    class Meta:
        csrf = False

    code = text_field(
        _l("Your voting code (printed on your card)"),
        max_length=CODE_MAX,
        required=_l("Enter the voting code printed on your card."),
    )


# --- Public pages: subjects, proposals, amendments, milestones ------------------------------

F = TypeVar("F", bound=Form)


def blank(form_class: type[F], **data: Any) -> F:
    """A form shown empty (or with ``data``), not read from the request. It makes no CSRF
    token of its own: the template's ``csrf_field`` writes one where the form is shown, so a
    public page whose form is not shown sets no cookie."""
    return form_class(formdata=None, meta={"csrf": False}, data=data)


class SubjectForm(Form):
    name = text_field(_l("Your name or a signature (optional, public)"), required=False)
    title = text_field(_l("Title"), max_length=300, required=_l("Give the subject a title."))
    description = textarea_field(
        _l("Description"), max_length=5000, required=_l("Describe the subject.")
    )


class ProposalForm(Form):
    body_id = select_field(_l("Body"), [], required=_l("Choose the body that drafts it."))
    title = text_field(_l("Title"), max_length=300, required=_l("Give the proposal a title."))
    text = textarea_field(_l("Text"), required=_l("Write the text of the proposal."))
    budget_eur = _number(_l("Estimated cost, € (optional)"), required=False)


class AmendmentForm(Form):
    text = textarea_field(
        _l("The text as you propose it"),
        required=_l("Write the text as you propose it."),
        id="amended-text",
    )
    rationale = textarea_field(
        _l("Why"),
        max_length=5000,
        required=_l("Say why you propose this amendment."),
        id="amendment-rationale",
    )


class AmendmentDecisionForm(Form):
    """The authors' decision on an amendment: no choice made in advance (rejecting cannot be
    undone, nor can accepting), a public reason to reject."""

    decision = radio_field(
        _l("Decision of the authors"),
        [("accept", _l("Accept the amendment")), ("reject", _l("Reject the amendment"))],
        required=_l("Choose whether you accept or reject the amendment."),
    )
    reason = textarea_field(
        _l("Reason (required to reject, public)"), required=False, max_length=2000
    )

    def validate(self, extra_validators: Any = None) -> bool:
        # Checked here rather than in validate_reason: an empty optional field stops its own
        # validators before they run.
        valid = super().validate(extra_validators=extra_validators)
        if self.decision.data == "reject" and not (self.reason.data or "").strip():
            self.refuse("reason", _("Give the reason for rejecting the amendment: it is public."))
            return False
        return bool(valid)

    def place(self, amendment_id: int) -> AmendmentDecisionForm:
        """Ids of its own on a page listing several amendments (the names stay the same)."""
        self.decision.id = f"decision-{amendment_id}"
        self.reason.id = f"reason-{amendment_id}"
        return self


class ProposalTextForm(Form):
    text = textarea_field(_l("Text"), required=_l("The text cannot be empty."))


class FeasibilityNoteForm(Form):
    kind = select_field(_l("Kind"), [], required=_l("Choose the kind of note."))
    verdict = select_field(_l("Verdict"), [], required=_l("Choose the verdict."))
    rationale = textarea_field(
        _l("Reasons"), max_length=5000, required=_l("Give the reasons for the verdict.")
    )


class MilestoneForm(Form):
    title = text_field(
        _l("New milestone"), required=_l("Give the milestone a title."), id="milestone-title"
    )
    due_on = date_field(_l("Due date"), required=_l("Enter the due date."), id="milestone-due")


class MilestoneReachedForm(Form):
    reached_on = date_field(_l("Reached on"), required=_l("Enter the date it was reached."))

    def place(self, milestone_id: int) -> MilestoneReachedForm:
        self.reached_on.id = f"reached-{milestone_id}"
        return self
