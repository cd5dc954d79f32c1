"""Every form of the demonstration keeps what was typed when it is refused, and no select
starts on an irreversible status.

After ``flask demo load poitiers``, every page of the application (the URL map filled with
the demonstration's ids, as ``test_french_pages.py`` and the browser suite read them:
``e2e/pages.py``), and for pages whose forms depend on their row's state one row of each
status (``BY_STATUS``), is read by an anonymous visitor, a resident, the commune's
administrator, an elected member and the consultancy's staff. Each ``<form method=post>``
found is checked:

(a) no ``<select>`` starts on an irreversible status (``DESTRUCTIVE``: cancelled,
    abandoned, rejected, closed…), whether marked ``selected`` or first without a
    placeholder (a browser then selects it), and no radio starts checked on one;
(b) posted by the person who saw it, with its own hidden values, every other field typed
    or chosen (a recognisable marker in each text, a non-destructive option in each select,
    a date in each date field) and one field made invalid (a control character appended to
    the first text, which the shared forms refuse; else an impossible date), it comes back
    refused (4xx, 422 expected) with the error summary, the French message next to the
    invalid field, and every other value as it was sent.

A form with nothing to type or choose (one button: revoke, advance, mark as read…) has no
value to lose: it is checked for (a) only. ``NOT_WTFORMS`` lists, with the reason, the forms
that are not WTForms forms by nature; an entry that is no route fails.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from werkzeug.datastructures import MultiDict
from werkzeug.exceptions import HTTPException

from e2e.pages import Visit, prepare_people, visits
from support.fixtures import LoadDemo
from support.sessions import sign_client_in
from test_french_pages import english_messages, enum_codes, findings, french_strings

HOSTS = {"tenant": "poitiers.localhost", "platform": "localhost"}

#: Irreversible statuses (values of the models' status enums): a select or radio group on
#: a status never starts on one of these; a person picks it, then confirms.
DESTRUCTIVE = frozenset(
    {
        "abandoned",
        "archived",
        "cancelled",
        "closed",
        "dissolved",
        "inadmissible",
        "not_decided",
        "not_selected",
        "rejected",
        "superseded",
        "suspended",
    }
)

#: Forms that are not WTForms forms by nature, by the endpoint they post to: their whole
#: content is fixed or a credential, and refusing them keeps nothing a person typed.
NOT_WTFORMS: dict[str, str] = {
    "identity.logout": "sign-out: one button in the header",
    "assembly.confirm_presence": (
        "a code holder confirming their presence: the code is the credential (no cookie, "
        "no CSRF token, no banner), it is never written back into a page"
    ),
    "assembly.cast_vote": (
        "a code holder's vote: read by casting.payload_from_form, without building a form "
        "(bench/voting.py); its refusals re-render the ballot with the choices, "
        "tests/voting covers them"
    ),
}

#: Pages whose forms depend on the state of the row they show (a session's status offers
#: the next ones): besides the demonstration's first row, one row of each status is read.
BY_STATUS: dict[str, tuple[str, str]] = {
    # endpoint: (model, the route's argument)
    "programme.session_detail": ("agora.programme.models:ProgrammeSession", "session_id"),
    "assembly_admin.session_page": ("agora.assembly.models:AssemblySession", "session_id"),
    "assembly_admin.body_page": ("agora.assembly.models:Body", "body_id"),
    "assembly_admin.measure_status_page": ("agora.assembly.models:Measure", "measure_id"),
    "petitions.petition_page": ("agora.petitions.models:Petition", "petition_id"),
    "assembly.ballot_page": ("agora.assembly.models:Ballot", "ballot_id"),
}

#: Who posts a form several people see: the first of these who saw it (a form shown to
#: someone the policy then refuses is another matter: the policy test walks every route).
POSTERS = ("commune admin", "staff", "elected member", "resident", "anonymous")

#: What a text field is filled with: recognisable, and valid as a plain text.
MARKER = "Valeur gardée {n}"
#: An invalid value for a form without a text: a date no calendar has.
NOT_A_DATE = "2025-02-30"
#: A valid date for the other date fields.
SOME_DAY = date(2025, 6, 15).isoformat()

TEXT_TYPES = frozenset({"text", "email", "url", "search", "tel", "number", "password"})


# --- reading forms --------------------------------------------------------------------------


@dataclass
class Control:
    """One control of a form, as the page renders it."""

    tag: str  # input, textarea, select
    kind: str  # the input's type ("text"…), "textarea" or "select"
    name: str
    value: str = ""
    checked: bool = False
    maxlength: int | None = None
    inputmode: str = ""
    options: list[tuple[str, bool]] = field(default_factory=list)  # (value, selected)
    in_error_group: bool = False  # inside a GOV.UK form group marked in error

    @property
    def is_text(self) -> bool:
        return self.kind in TEXT_TYPES or self.kind == "textarea"

    def starting_option(self) -> str | None:
        """The option a browser shows selected: the one marked, else the first."""
        marked = [value for value, selected in self.options if selected]
        if marked:
            return marked[-1]
        return self.options[0][0] if self.options else None


@dataclass
class Form:
    action: str
    controls: list[Control] = field(default_factory=list)
    buttons: list[tuple[str, str]] = field(default_factory=list)  # named submit buttons

    def named(self, name: str) -> list[Control]:
        return [c for c in self.controls if c.name == name]


class FormReader(HTMLParser):
    """The page's POST forms, and the texts of its error summary."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.forms: list[Form] = []
        self.summary: list[str] = []
        self.has_summary = False
        self._form: Form | None = None
        self._divs: list[bool] = []  # per open <div>: whether it is a form group in error
        self._text: Control | None = None  # the textarea being read
        self._select: Control | None = None
        self._option: tuple[str, bool] | None = None
        self._in_summary = 0
        self._summary_item: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {key: value or "" for key, value in attrs}
        classes = a.get("class", "").split()
        if tag == "div":
            self._divs.append("govuk-form-group--error" in classes)
            if "govuk-error-summary" in classes:
                self.has_summary = True
                self._in_summary = len(self._divs)
        if tag == "li" and self._in_summary:
            self._summary_item = []
        if tag == "form" and a.get("method", "get").lower() == "post":
            self._form = Form(a.get("action", ""))
            self.forms.append(self._form)
            return
        if self._form is None:
            return
        in_error = any(self._divs)
        if tag == "input":
            kind = a.get("type", "text").lower()
            if kind in ("submit", "button", "image", "reset"):
                if a.get("name"):
                    self._form.buttons.append((a["name"], a.get("value", "")))
                return
            self._form.controls.append(
                Control(
                    "input",
                    kind,
                    a.get("name", ""),
                    a.get("value", ""),
                    checked="checked" in a,
                    maxlength=int(a["maxlength"]) if a.get("maxlength", "").isdigit() else None,
                    inputmode=a.get("inputmode", ""),
                    in_error_group=in_error,
                )
            )
        elif tag == "button" and a.get("name") and a.get("type", "submit") == "submit":
            self._form.buttons.append((a["name"], a.get("value", "")))
        elif tag == "textarea":
            self._text = Control(
                "textarea",
                "textarea",
                a.get("name", ""),
                maxlength=int(a["maxlength"]) if a.get("maxlength", "").isdigit() else None,
                in_error_group=in_error,
            )
            self._form.controls.append(self._text)
        elif tag == "select":
            self._select = Control("select", "select", a.get("name", ""), in_error_group=in_error)
            self._form.controls.append(self._select)
        elif tag == "option" and self._select is not None:
            self._option = (a.get("value", "\0text"), "selected" in a)
            self._select.options.append(self._option)

    def handle_data(self, data: str) -> None:
        if self._text is not None:
            self._text.value += data
        if self._summary_item is not None:
            self._summary_item.append(data)
        if self._select is not None and self._option is not None and self._option[0] == "\0text":
            # An option without a value attribute sends its text.
            self._select.options[-1] = (data.strip(), self._option[1])
            self._option = None

    def handle_endtag(self, tag: str) -> None:
        if tag == "div" and self._divs:
            if self._in_summary == len(self._divs):
                self._in_summary = 0
            self._divs.pop()
        elif tag == "li" and self._summary_item is not None:
            self.summary.append(" ".join("".join(self._summary_item).split()))
            self._summary_item = None
        elif tag == "form":
            self._form = None
        elif tag == "textarea":
            self._text = None
        elif tag == "select":
            self._select = None
        elif tag == "option":
            self._option = None


def read_forms(markup: str) -> FormReader:
    reader = FormReader()
    reader.feed(markup)
    reader.close()
    return reader


# --- the pages ------------------------------------------------------------------------------


@pytest.fixture
def demo(app: Flask, load_demo: LoadDemo, onboarded: Path) -> dict[str, int | None]:
    load_demo("poitiers")
    return prepare_people(app)


def by_status_visits(app: Flask) -> list[Visit]:
    """One page per status of the rows ``BY_STATUS`` names (its first row of each)."""
    import importlib

    from agora.extensions import db
    from agora.tenancy.isolation import tenant_scope
    from agora.tenancy.models import Tenant

    found: list[Visit] = []
    with app.app_context():
        adapter = app.url_map.bind("localhost")
        poitiers = db.session.execute(select(Tenant).where(Tenant.slug == "poitiers")).scalar_one()
        with tenant_scope(db.session, poitiers.id):
            for endpoint, (where, argument) in BY_STATUS.items():
                module, name = where.split(":")
                model = getattr(importlib.import_module(module), name)
                rows = db.session.execute(
                    select(model.id, model.status)
                    .where(model.tenant_id == poitiers.id)
                    .order_by(model.id)
                ).all()
                assert rows, f"the demonstration has no row for {endpoint}"
                first: dict[Any, int] = {}
                for row_id, status in rows:
                    first.setdefault(status, row_id)
                for row_id in first.values():
                    path = adapter.build(endpoint, {argument: row_id})
                    found.append(Visit(endpoint, "tenant", path))
        db.session.remove()
    return found


def signed_in_client(app: Flask, account_id: int | None) -> FlaskClient:
    client = app.test_client()
    if account_id is not None:
        for host in HOSTS.values():
            sign_client_in(app, client, account_id, host)
    return client


def endpoint_of(app: Flask, action: str, host: str) -> str:
    """The route a form posts to."""
    adapter = app.url_map.bind(host)
    try:
        endpoint, _values = adapter.match(action.split("?")[0], method="POST")
    except HTTPException as missing:
        raise AssertionError(f"a form posts to {action}, which no route takes") from missing
    return str(endpoint)


# --- (a) no destructive default ------------------------------------------------------------


def destructive_defaults(form: Form) -> list[str]:
    found = []
    for control in form.controls:
        if control.kind == "select":
            start = control.starting_option()
            if start in DESTRUCTIVE:
                found.append(f"the select {control.name!r} starts on {start!r}")
        elif control.kind == "radio" and control.checked and control.value in DESTRUCTIVE:
            found.append(f"the radio {control.name!r} starts checked on {control.value!r}")
    return found


# --- (b) a refused form keeps its values ---------------------------------------------------


def marker(n: int, control: Control) -> str:
    """A value for a text that is recognisable, and valid for its kind."""
    if control.kind == "email":
        value = f"garde{n}@exemple.fr"
    elif control.kind == "url":
        value = f"https://exemple.fr/garde-{n}"
    elif control.kind == "number" or control.inputmode == "numeric":
        value = str(4000 + n)
    else:
        value = MARKER.format(n=n)
    return value[: control.maxlength] if control.maxlength else value


@dataclass
class Filled:
    """The data posted, what each field must show again, and the field made invalid."""

    data: MultiDict[str, str]
    expected: dict[str, str]  # name: value (a text, a date, the selected option)
    ticked: set[tuple[str, str]]  # checkboxes and radios: (name, value) that must stay checked
    invalid: str


def fill(form: Form) -> Filled | None:
    """The form's own values, everything fillable filled, one field invalid; ``None`` when
    there is nothing to type or choose."""
    fillable = [c for c in form.controls if c.kind not in ("hidden",) and c.name]
    texts = [c for c in fillable if c.is_text]
    dates = [c for c in fillable if c.kind == "date"]
    if not texts and not dates:
        return None
    invalid = (texts or dates)[0]
    data: MultiDict[str, str] = MultiDict()
    expected: dict[str, str] = {}
    ticked: set[tuple[str, str]] = set()
    for n, control in enumerate(form.controls):
        if not control.name:
            continue
        if control is invalid:
            if control.is_text:
                # A control character: refused by every text field of the shared forms.
                value = marker(n, control)[: (control.maxlength or 10**6) - 1] + "\x01"
            else:
                value = NOT_A_DATE
            data.add(control.name, value)
        elif control.kind == "hidden":
            data.add(control.name, control.value)
        elif control.is_text:
            value = marker(n, control)
            data.add(control.name, value)
            expected[control.name] = value
        elif control.kind == "date":
            value = control.value or SOME_DAY
            data.add(control.name, value)
            expected[control.name] = value
        elif control.kind == "select":
            choices = [v for v, _selected in control.options if v and v not in DESTRUCTIVE]
            if choices:
                data.add(control.name, choices[-1])
                expected[control.name] = choices[-1]
        elif control.kind in ("checkbox", "radio") and control.checked:
            data.add(control.name, control.value or "on")
            ticked.add((control.name, control.value or "on"))
    for name, value in form.buttons[:1]:
        data.add(name, value)
    return Filled(data, expected, ticked, invalid.name)


def shown_value(control: Control) -> str | None:
    if control.kind == "select":
        return control.starting_option()
    if control.kind == "textarea":
        return control.value.removeprefix("\n").strip()
    return control.value


def refusal_problems(
    response: Any, sent: Form, filled: Filled, english: set[str], codes: set[str]
) -> list[str]:
    """What is wrong with the answer to a refused form (nothing when it is right)."""
    if not 400 <= response.status_code < 500:
        return [f"answered {response.status_code}, not a refusal (422 expected)"]
    problems = []
    if response.status_code != 422:
        problems.append(f"answered {response.status_code} (422 expected)")
    page = read_forms(response.get_data(as_text=True))
    if not page.has_summary:
        problems.append("no error summary")
    for text in page.summary:
        problems += [f"error {text!r}: {found}" for found in findings(text, codes, english)]
    again = [f for f in page.forms if f.action == sent.action]
    if not again:
        return [*problems, "the form is not shown again"]
    form = again[0]
    invalid = form.named(filled.invalid)
    if not invalid or not invalid[0].in_error_group:
        problems.append(f"no error next to the invalid field {filled.invalid!r}")
    for name, value in filled.expected.items():
        shown = [shown_value(c) for c in form.named(name)]
        if value not in shown:
            problems.append(f"{name!r}: sent {value!r}, shown {shown!r}")
    for name, value in filled.ticked:
        if not any(c.checked and (c.value or "on") == value for c in form.named(name)):
            problems.append(f"{name!r}: {value!r} was checked, it is not any more")
    return problems


# --- the test -------------------------------------------------------------------------------


@dataclass
class Seen:
    person: str
    host: str
    page: str
    form: Form


def test_every_form_keeps_its_values_and_starts_on_no_destructive_status(
    app: Flask, demo: dict[str, int | None]
) -> None:
    pages, unknown = visits(app)
    assert not unknown, unknown
    pages += by_status_visits(app)
    clients = {person: signed_in_client(app, account) for person, account in demo.items()}

    failures: list[str] = []
    seen: dict[str, Seen] = {}  # endpoint posted to: the first form found
    for person, client in clients.items():
        for page in pages:
            host = HOSTS[page.host]
            response = client.get(page.path, headers={"Host": host, "Accept-Language": "fr"})
            if response.status_code != 200 or response.mimetype != "text/html":
                continue
            for form in read_forms(response.get_data(as_text=True)).forms:
                endpoint = endpoint_of(app, form.action, host)
                for problem in destructive_defaults(form):
                    failures.append(f"{page.path} ({person}), form to {endpoint}: {problem}")
                before = seen.get(endpoint)
                if before is None or POSTERS.index(person) < POSTERS.index(before.person):
                    seen[endpoint] = Seen(person, host, page.path, form)
    assert len(seen) >= 15, sorted(seen)  # the demonstration shows forms

    english = english_messages()
    french = french_strings()
    codes = {code for code in enum_codes() if code not in french}
    checked: list[str] = []
    for endpoint, found in sorted(seen.items()):
        if endpoint in NOT_WTFORMS:
            continue
        filled = fill(found.form)
        if filled is None:
            continue  # nothing to type or choose: nothing to lose
        response = clients[found.person].post(
            found.form.action,
            data=filled.data,
            headers={"Host": found.host, "Accept-Language": "fr"},
        )
        problems = refusal_problems(response, found.form, filled, english, codes)
        checked.append(endpoint)
        failures += [
            f"form to {endpoint} (on {found.page}, {found.person}), "
            f"{filled.invalid!r} made invalid: {problem}"
            for problem in problems
        ]

    print("forms checked:", checked)
    assert not failures, f"{len(failures)} problems:\n" + "\n".join(failures)
    # Every listed form is a route that takes a POST (the demonstration has no open ballot,
    # so the vote's form is not on its pages).
    posted = {rule.endpoint for rule in app.url_map.iter_rules() if "POST" in (rule.methods or ())}
    assert set(NOT_WTFORMS) <= posted, sorted(set(NOT_WTFORMS) - posted)


def test_destructive_statuses_are_status_codes() -> None:
    assert enum_codes() >= DESTRUCTIVE


def test_the_reader_finds_a_destructive_default_and_a_lost_value() -> None:
    page = read_forms(
        '<form method="post" action="/x"><select name="status">'
        '<option value="cancelled">annulée</option><option value="held">tenue</option>'
        '</select><input name="title" value="" maxlength="5"><textarea name="text">\n'
        "</textarea></form>"
        '<form method="post" action="/y"><select name="status"><option value="">Choisir…'
        '</option><option value="cancelled">annulée</option></select></form>'
    )
    first, second = page.forms
    assert destructive_defaults(first) == ["the select 'status' starts on 'cancelled'"]
    assert destructive_defaults(second) == []
    filled = fill(first)
    assert filled is not None and filled.invalid == "title"
    assert filled.data["title"].endswith("\x01") and len(filled.data["title"]) <= 5
    assert filled.expected == {"text": MARKER.format(n=2), "status": "held"}


# --- forms the demonstration does not show -----------------------------------------------


def refused_again(client: FlaskClient, host: str, page: str, action: str) -> list[str]:
    """Read ``page``'s form posting to ``action``, send it refused as above; the problems."""
    headers = {"Host": host, "Accept-Language": "fr"}
    response = client.get(page, headers=headers)
    assert response.status_code == 200, (page, response.status_code)
    forms = [f for f in read_forms(response.get_data(as_text=True)).forms if f.action == action]
    assert forms, f"{page} has no form posting to {action}"
    filled = fill(forms[0])
    assert filled is not None
    posted = client.post(action, data=filled.data, headers=headers)
    codes = {code for code in enum_codes() if code not in french_strings()}
    return refusal_problems(posted, forms[0], filled, english_messages(), codes)


def test_starting_a_programme_keeps_the_date_when_refused(
    app: Flask, client: FlaskClient, onboarded: Path, sign_in: Any
) -> None:
    # Grenoble has no programme yet: its timeline offers to start one.
    sign_in(
        client,
        "grenoble.localhost",
        "mairie@grenoble.example",
        role="commune_admin",
        commune="grenoble",
    )
    assert refused_again(client, "grenoble.localhost", "/programme", "/programme") == []
    started = client.post(
        "/programme", data={"starts_on": "2026-01-05"}, headers={"Host": "grenoble.localhost"}
    )
    assert started.status_code == 302
    timeline = client.get("/programme", headers={"Host": "grenoble.localhost"})
    assert "Le programme est lancé" in timeline.get_data(as_text=True)


def test_recording_a_meeting_keeps_the_date_when_refused(
    app: Flask, client: FlaskClient, onboarded: Path, sign_in: Any
) -> None:
    from petitions.test_petitions import _open, _seed

    sign_in(client, "poitiers.localhost", "camille@example.fr")
    petition_id = _open(client, {"Host": "poitiers.localhost"})
    _seed(app, "poitiers", petition_id, 900)
    sign_in(
        client,
        "poitiers.localhost",
        "mairie@poitiers.example",
        role="commune_admin",
        commune="poitiers",
    )
    action = f"/admin/petitions/{petition_id}/meeting"
    assert refused_again(client, "poitiers.localhost", "/admin/petitions", action) == []
