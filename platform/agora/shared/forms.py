"""Forms: one base class every capability's forms derive from, the fields they are made of,
and reading typed values from a posted form.

A form is a class per capability (``petitions/forms.py``…) built from the factories below
(``text_field``, ``textarea_field``, ``radio_field``…). Each renders GOV.UK Frontend's
markup through govuk-frontend-wtf's widgets (label, hint, the error next to the field) and
is refused, with a French message next to the field, when a text holds a control character
(NUL included) or is longer than its maximum. A view re-renders the same form with its
values on error, with status 422 (:func:`render_invalid`); the page's error summary
(``design/macros.html``: ``error_summary(form)``) links each message to its field.

See ``docs/design-system.md`` for how a page and a form are written.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any
from urllib.parse import urlsplit

from flask import abort, flash, render_template, request
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from govuk_frontend_wtf.wtforms_widgets import (
    GovCheckboxesInput,
    GovCheckboxInput,
    GovFileInput,
    GovInput,
    GovRadioInput,
    GovSelect,
    GovTextArea,
    GovTextInput,
)
from wtforms import (
    BooleanField,
    DateField,
    Field,
    RadioField,
    SelectChoice,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.validators import InputRequired, Length, Optional, ValidationError

#: The neutral first choice of a select: nothing is chosen until a person picks.
PLACEHOLDER = ("", _l("Choose…"))
#: The longest one-line text a form takes unless its field says otherwise.
LINE_MAX = 200
#: The longest multi-line text a form takes unless its field says otherwise.
TEXT_MAX = 10_000

# C0 and C1 control characters and DEL; a multi-line text may hold tabs and line breaks.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
_CONTROL_IN_LINE = re.compile(r"[\x00-\x1f\x7f-\x9f]")


def _french_errors(widget: type[Any]) -> type[Any]:
    """A govuk-frontend-wtf widget whose error message is announced in the reader's
    language (GOV.UK's macros say "Error:" to screen readers otherwise)."""

    class Widget(widget):  # type: ignore[misc]
        def map_gov_params(self, field: Field, **kwargs: Any) -> dict[str, Any]:
            params: dict[str, Any] = super().map_gov_params(field, **kwargs)
            hint = params.get("hint")
            if isinstance(hint, dict) and not hint.get("text") and not hint.get("html"):
                del params["hint"]  # no empty hint for screen readers to announce
            if field.errors:
                params["errorMessage"] = {
                    "text": field.errors[0],
                    "visuallyHiddenText": _("Error"),
                }
            return params

    Widget.__name__ = Widget.__qualname__ = widget.__name__
    return Widget


TextInput = _french_errors(GovTextInput)
TextArea = _french_errors(GovTextArea)
Radios = _french_errors(GovRadioInput)
Checkboxes = _french_errors(GovCheckboxesInput)
Checkbox = _french_errors(GovCheckboxInput)
Select = _french_errors(GovSelect)


class DateInput(_french_errors(GovInput)):  # type: ignore[misc]
    """The browser's own date picker (``<input type="date">``): one field, no separate
    day, month and year boxes to label."""

    input_type = "date"


class EmailInput(_french_errors(GovInput)):  # type: ignore[misc]
    input_type = "email"


class NumberInput(_french_errors(GovInput)):  # type: ignore[misc]
    input_type = "text"

    def __call__(self, field: Field, **kwargs: Any) -> Any:
        kwargs.setdefault("inputmode", "numeric")
        return super().__call__(field, **kwargs)


def _no_control_characters(multiline: bool) -> Callable[[Any, Field], None]:
    pattern = _CONTROL if multiline else _CONTROL_IN_LINE

    def check(form: Any, field: Field) -> None:
        if isinstance(field.data, str) and pattern.search(field.data):
            raise ValidationError(_("This text contains a character that is not allowed."))

    return check


def web_address(form: Any, field: Field) -> None:
    """A link published on a public page: an http(s) address of a site, never a
    ``javascript:`` or ``data:`` one that would run in the reader's browser."""
    if not field.data:
        return
    parts = urlsplit(field.data)
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        raise ValidationError(_("Enter an address beginning with https:// (or http://)."))


def _too_long(maximum: int) -> Length:
    return Length(
        max=maximum,
        message=_l("Enter at most %(max)d characters.", max=maximum),
    )


def _required(required: Any) -> InputRequired | Optional:
    if not required:
        return Optional()
    # ``required`` is True or the message itself (a string, or a lazy one).
    message = _l("This field is required.") if required is True else required
    return InputRequired(message=message)


def _normalise(value: Any) -> Any:
    """Texts are kept as NFC with their surrounding blanks removed."""
    return unicodedata.normalize("NFC", value).strip() if isinstance(value, str) else value


def _choices(choices: Iterable[tuple[str, str]]) -> list[SelectChoice]:
    return [SelectChoice(value, label) for value, label in choices]


def text_field(
    label: str,
    *,
    required: bool | str = True,
    max_length: int = LINE_MAX,
    hint: str = "",
    validators: Sequence[Callable[..., Any]] = (),
    input_type: str = "text",
    **options: Any,
) -> StringField:
    """A one-line text: no control character, at most ``max_length`` characters.

    ``required`` may be the message shown when it is missing."""
    widget = {"text": TextInput(), "email": EmailInput(), "number": NumberInput()}[input_type]
    return StringField(
        label,
        validators=[
            _required(required),
            _too_long(max_length),
            _no_control_characters(False),
            *validators,
        ],
        filters=[_normalise],
        description=hint,
        widget=widget,
        render_kw={"maxlength": max_length},
        **options,
    )


def textarea_field(
    label: str,
    *,
    required: bool | str = True,
    max_length: int = TEXT_MAX,
    hint: str = "",
    validators: Sequence[Callable[..., Any]] = (),
    **options: Any,
) -> TextAreaField:
    """A text of several lines: line breaks and tabs allowed, no other control character."""
    return TextAreaField(
        label,
        validators=[
            _required(required),
            _too_long(max_length),
            _no_control_characters(True),
            *validators,
        ],
        filters=[_normalise],
        description=hint,
        widget=TextArea(),
        **options,
    )


def date_field(
    label: str, *, required: bool | str = True, hint: str = "", **options: Any
) -> DateField:
    return DateField(
        label,
        validators=[_required(required)],
        description=hint,
        widget=DateInput(),
        **options,
    )


def radio_field(
    label: str,
    choices: Iterable[tuple[str, str]],
    *,
    required: bool | str = True,
    hint: str = "",
    **options: Any,
) -> RadioField:
    """Radios under a legend. There is no default: a person picks (no destructive default)."""
    return RadioField(
        label,
        choices=_choices(choices),
        validators=[_required(required)],
        description=hint,
        widget=Radios(),
        **options,
    )


def select_field(
    label: str,
    choices: Iterable[tuple[str, str]],
    *,
    required: bool | str = True,
    hint: str = "",
    **options: Any,
) -> SelectField:
    return SelectField(
        label,
        choices=_choices(choices),
        validators=[_required(required)],
        description=hint,
        widget=Select(),
        **options,
    )


def checkboxes_field(
    label: str,
    choices: Iterable[tuple[str, str]],
    *,
    required: bool | str = False,
    hint: str = "",
    **options: Any,
) -> SelectMultipleField:
    return SelectMultipleField(
        label,
        choices=_choices(choices),
        validators=[_required(required)],
        description=hint,
        widget=Checkboxes(),
        **options,
    )


class FileInput(_french_errors(GovFileInput)):  # type: ignore[misc]
    pass


def file_field(label: str, *, required: str, hint: str = "", accept: str = "") -> FileField:
    """A file to upload (the form is sent as ``multipart/form-data``); ``required`` is the
    message shown when none is chosen."""
    return FileField(
        label,
        validators=[FileRequired(message=required)],
        description=hint,
        widget=FileInput(),
        render_kw={"accept": accept} if accept else {},
    )


def checkbox_field(
    label: str, *, required: bool | str = False, hint: str = "", **options: Any
) -> BooleanField:
    """One box to tick (a declaration); ``required`` makes ticking it mandatory."""
    return BooleanField(
        label,
        validators=[_required(required)],
        description=hint,
        widget=Checkbox(),
        **options,
    )


class Form(FlaskForm):  # type: ignore[misc]
    """The base of every form: Flask-WTF (its CSRF token included) with messages in the
    reader's language, and every text refused when it holds a control character.

    The control-character check also covers a text field declared without the factories
    above: no text reaches a service with a NUL byte, whatever the form's author forgot.
    """

    #: Whether the form carries the CSRF token (``design/macros.html``: ``csrf_field(form)``);
    #: only a form whose own content is the credential (a voting code) goes without.
    carries_token: bool = True

    def validate(self, extra_validators: Mapping[str, Sequence[Any]] | None = None) -> bool:
        valid = bool(super().validate(extra_validators=extra_validators))
        for field in self:
            multiline = isinstance(field, TextAreaField)
            pattern = _CONTROL if multiline else _CONTROL_IN_LINE
            if isinstance(field.data, str) and pattern.search(field.data) and not field.errors:
                field.errors = [
                    *field.errors,
                    _("This text contains a character that is not allowed."),
                ]
                valid = False
        return valid

    def refuse(self, field: str | None, message: str) -> None:
        """Show ``message`` next to ``field`` (a service's refusal of a value the form let
        through), or above the form when ``field`` is ``None``."""
        if field is None:
            self.form_errors.append(message)
            return
        target: Field = self[field]
        target.errors = [*target.errors, message]

    @property
    def has_errors(self) -> bool:
        return bool(self.form_errors) or any(field.errors for field in self)

    def error_list(self) -> list[dict[str, str]]:
        """The error summary's entries: each message with a link to its field."""
        entries = [{"text": str(message)} for message in self.form_errors]
        for field in self:
            for message in field.errors:
                entries.append({"text": str(message), "href": f"#{field.id}"})
        return entries


def render_invalid(template: str, form: Form, **context: Any) -> tuple[str, int]:
    """The same page again, with the values the person sent and each error next to its
    field: status 422 (the request was understood, its content refused)."""
    return render_template(template, form=form, **context), 422


def ask_confirmation(
    *,
    title: str,
    consequences: Sequence[str],
    cancel_url: str,
    confirm_text: str | None = None,
    irreversible: bool = True,
) -> str | None:
    """The confirmation step of an irreversible action, for the view that performs it.

    Returns ``None`` when the person has confirmed (the posted form carries
    ``confirmed=yes``): the view goes on. Otherwise returns the confirmation page, which
    says what will happen and posts the same fields again, confirmed, to the same address::

        if (page := ask_confirmation(title=_("Close the ballot?"), consequences=[…],
                                     cancel_url=url_for(…))) is not None:
            return page
    """
    if request.form.get("confirmed") == "yes":
        return None
    fields = [
        (name, value)
        for name, values in request.form.lists()
        if name not in ("csrf_token", "confirmed")
        for value in values
    ]
    return render_template(
        "design/confirm.html",
        title=title,
        consequences=consequences,
        cancel_url=cancel_url,
        confirm_text=confirm_text or _("Confirm"),
        irreversible=irreversible,
        action=request.full_path.rstrip("?"),
        fields=fields,
    )


#: Beyond the longest list a commune has (a million pages of 50 rows).
PAGE_MAX = 1_000_000


def page_number() -> int:
    """The ``page`` query parameter of a paginated list: 1 when absent. A page that cannot
    exist (0, negative, not a number, beyond ``PAGE_MAX``) is a 404, not a query the
    database cannot run."""
    value = request.args.get("page", "1")
    if not (value.isascii() and value.isdigit()) or not 1 <= int(value) <= PAGE_MAX:
        abort(404)
    return int(value)


def notify(message: str) -> None:
    """The banner the next page shows after an action succeeded (``flask.flash``; the
    layout renders it). Never on the vote of a code holder, which sets no cookie."""
    flash(message, "success")
