"""Every bad input gets an answer, never a server error, and a refused request writes nothing.

On PostgreSQL, after ``flask demo load poitiers``, three walks:

(a) **forms**: every POST form the demonstration's pages show (``test_forms.py`` reads them,
    each posted by the first of ``POSTERS`` who saw it) is posted once per hostile value of
    each of its fields, one field at a time, the others keeping the form's own values;
(b) **query strings**: every page, as the public and the commune's administrator, with every
    query parameter the application reads (its sources, its GET forms) set to each hostile
    value;
(c) **routes**: every route registered × method, on each host that serves it, as the public,
    the commune's administrator and the consultancy's staff, with each hostile path argument
    (ids beyond a bigint, a NUL, bytes that are not UTF-8…) and a hostile body: a new route
    is walked as it comes, and a route no host serves fails the test.

Each answer must be below 500; an answer of 400 or more must have committed no write (a
cursor hook on the engine notes each INSERT, UPDATE or DELETE and keeps those a COMMIT
makes durable).
"""

from __future__ import annotations

import re
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import event
from werkzeug.datastructures import MultiDict

from agora.identity.policy import rule_for
from e2e.pages import visits
from support.fixtures import Database
from support.routes import route_samples
from test_forms import (
    DESTRUCTIVE,
    HOSTS,
    POSTERS,
    Control,
    Form,
    by_status_visits,
    demo,  # noqa: F401  (the fixture)
    endpoint_of,
    read_forms,
    signed_in_client,
)

ROOT = Path(__file__).resolve().parents[1]

#: What a text (or a hidden value) receives, one at a time.
HOSTILE_TEXTS: tuple[str, ...] = (
    "",
    "\x00",
    "avant\x00après",
    "\x1b[31m\x07",
    "ligne\r\nSet-Cookie: x=1",
    "é" * 70_000,  # 140 kB: beyond every column, below the request limit
    "<script>alert(1)</script>",
)
#: What a number (and every id a form carries) receives.
HOSTILE_NUMBERS: tuple[str, ...] = (
    "-1",
    "99999999999999999999999999",
    "9223372036854775808",
    "1e400",
    "NaN",
    "١٢",  # Arabic-Indic digits, which Python's int() reads
    "0x1F",
)
HOSTILE_DATES: tuple[str, ...] = ("2026-02-30", "99999-12-31", "0001-01-01", "-1", "demain")
HOSTILE_CHOICES: tuple[str, ...] = ("valeur-inconnue", "99999999999999999999", "\x00")
#: A value bigger than any request a page takes (the French 413).
HUGE = "x" * (2 * 2**20)
#: A path argument where a route expects an id, a slug, a token…
HOSTILE_PATH_ARGUMENTS: tuple[str, ...] = (
    "9223372036854775808",
    "99999999999999999999999999",
    "%00",
    "%C3%28",  # invalid UTF-8
    "a" * 400,
)

#: Who walks the query strings and the routes (every role walks the routes in the permission
#: matrix; here the point is the input, seen by the public and by the most able).
QUERY_WALKERS = ("anonymous", "commune admin")
ROUTE_WALKERS = ("anonymous", "commune admin", "staff")
ALL_HOSTS = {"tenant": "poitiers.localhost", "platform": "localhost", "auth": "auth.localhost"}
#: A body for any POST route: the names forms use, each hostile.
HOSTILE_BODY = "&".join(
    f"{quote(name)}={quote(value)}"
    for name in ("confirmed", "code", "email", "next", "subject_ids", "choice", "status", "title")
    for value in ("\x00", "99999999999999999999", b"\xff\xfe")  # the last is not UTF-8
)


def hostile_queries(names: list[str]) -> list[str]:
    """Query strings setting every parameter at once: each hostile value, every parameter
    twice, and bytes that are not UTF-8."""
    queries = [
        urlencode([(name, value) for name in names])
        for value in ("99999999999999999999999999", "-1", "\x00", "\r\n")
    ]
    queries.append(urlencode([(name, v) for name in names for v in ("1", "2")]))
    queries.append("&".join(f"{name}=%FF%FE" for name in names))
    return queries


_WRITE = re.compile(r"^\s*(?:INSERT\s+INTO|UPDATE|DELETE\s+FROM)\s+\"?(\w+)", re.IGNORECASE)


@dataclass
class Writes:
    """The tables a COMMIT made durable writes to, since the last ``reset``."""

    committed: list[str] = field(default_factory=list)

    def reset(self) -> None:
        self.committed.clear()


@contextmanager
def watching(app: Flask) -> Iterator[Writes]:
    from agora.extensions import db

    writes = Writes()

    def noted(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        match = _WRITE.match(statement)
        if match:
            conn.info.setdefault("agora_writes", []).append(match.group(1))

    def committed(conn: Any) -> None:
        writes.committed += conn.info.pop("agora_writes", [])

    def rolled_back(conn: Any) -> None:
        conn.info.pop("agora_writes", None)

    with app.app_context():
        engine = db.engine
    listeners: list[tuple[str, Callable[..., None]]] = [
        ("before_cursor_execute", noted),
        ("commit", committed),
        ("rollback", rolled_back),
    ]
    for name, listener in listeners:
        event.listen(engine, name, listener)
    try:
        yield writes
    finally:
        for name, listener in listeners:
            event.remove(engine, name, listener)


#: Writes a refused request legitimately makes durable: a refused sign-in is audited.
AUDITED_REFUSALS = {401: {"audit_event"}, 410: {"audit_event"}, 429: {"audit_event"}}


@dataclass
class Walk:
    writes: Writes
    failures: list[str] = field(default_factory=list)
    requests: int = 0

    def check(self, what: str, response: Any) -> None:
        self.requests += 1
        status = response.status_code
        body = response.get_data(as_text=True) if status >= 500 else ""
        response.close()
        if status >= 500:
            self.failures.append(f"{what}: {status}")
            assert "Traceback" not in body, what
        elif status >= 400:
            written = set(self.writes.committed) - AUDITED_REFUSALS.get(status, set())
            if written:
                self.failures.append(f"{what}: refused ({status}) but wrote {sorted(written)}")
        self.writes.reset()


def hostile_values(control: Control) -> tuple[str, ...]:
    if control.kind == "date":
        return HOSTILE_DATES
    if control.kind == "number" or control.inputmode == "numeric":
        return HOSTILE_NUMBERS
    if control.kind in ("select", "radio", "checkbox"):
        return HOSTILE_CHOICES
    if control.kind == "hidden":
        return HOSTILE_TEXTS + HOSTILE_NUMBERS
    if control.kind == "file":
        return ()
    return HOSTILE_TEXTS


def baseline(form: Form) -> MultiDict[str, str]:
    """The form as its page offers it: own values, a non-destructive choice in each select."""
    data: MultiDict[str, str] = MultiDict()
    for control in form.controls:
        if not control.name or control.kind == "file":
            continue
        if control.kind == "select":
            choices = [v for v, _selected in control.options if v and v not in DESTRUCTIVE]
            if choices:
                data.add(control.name, choices[-1])
        elif control.kind in ("checkbox", "radio"):
            if control.checked:
                data.add(control.name, control.value or "on")
        else:
            data.add(control.name, control.value)
    for name, value in form.buttons[:1]:
        data.add(name, value)
    return data


def query_names(markup_pages: list[str]) -> list[str]:
    """Every query parameter the application reads: from its sources, and the GET forms."""
    names: set[str] = set()
    for path in (ROOT / "platform" / "agora").rglob("*.py"):
        source = path.read_text(encoding="utf-8")
        names |= set(re.findall(r"request\.args\.(?:get|getlist)\(\s*\"(\w+)\"", source))
    for markup in markup_pages:
        for get_form in re.findall(r"<form method=\"get\".*?</form>", markup, re.DOTALL):
            names |= set(re.findall(r"name=\"(\w+)\"", get_form))
    return sorted(names)


def _headers(host: str) -> dict[str, str]:
    return {"Host": host, "Accept-Language": "fr"}


def test_no_bad_input_gets_a_server_error_or_writes(
    app: Flask,
    postgresql_database: Database,
    demo: dict[str, int | None],  # noqa: F811
) -> None:
    pages, unknown = visits(app)
    assert not unknown, unknown
    pages += by_status_visits(app)
    clients: dict[str, FlaskClient] = {
        person: signed_in_client(app, account) for person, account in demo.items()
    }

    # The forms each person sees, and the query parameters the pages take.
    seen: dict[str, tuple[str, str, Form]] = {}  # endpoint: (person, host, form)
    markups: list[str] = []
    for person, client in clients.items():
        for page in pages:
            host = HOSTS[page.host]
            response = client.get(page.path, headers=_headers(host))
            if response.status_code != 200 or response.mimetype != "text/html":
                continue
            markup = response.get_data(as_text=True)
            markups.append(markup)
            for form in read_forms(markup).forms:
                endpoint = endpoint_of(app, form.action, host)
                before = seen.get(endpoint)
                if before is None or POSTERS.index(person) < POSTERS.index(before[0]):
                    seen[endpoint] = (person, host, form)
    names = query_names(markups)
    assert {"page", "next", "lang"} <= set(names), names

    timings: dict[str, float] = {}
    with watching(app) as writes:
        walk = Walk(writes)

        # (a) forms, one hostile field at a time.
        started = time.perf_counter()
        for endpoint, (person, host, form) in sorted(seen.items()):
            client = clients[person]
            walk.check(
                f"{endpoint} ({person}) with a huge body",
                client.post(form.action, data={"texte": HUGE}, headers=_headers(host)),
            )
            shapes: set[str] = set()
            for control in form.controls:
                if not control.name or control.name == "csrf_token":
                    continue
                # A field repeated in rows (bodies[0].name, bodies[1].name…) runs the same
                # code in each row: the first row's is walked.
                shape = re.sub(r"\[\d+\]", "[]", control.name)
                if shape in shapes:
                    continue
                shapes.add(shape)
                for value in hostile_values(control):
                    data = baseline(form)
                    data.setlist(control.name, [value])
                    response = client.post(form.action, data=data, headers=_headers(host))
                    walk.check(f"{endpoint} ({person}) {control.name}={value[:30]!r}", response)
                # A list where one value is expected.
                data = baseline(form)
                data.setlist(control.name, [*data.getlist(control.name), "1", "2"])
                response = client.post(form.action, data=data, headers=_headers(host))
                walk.check(f"{endpoint} ({person}) {control.name} given three times", response)
            if endpoint == "identity.end_my_sessions" or endpoint == "identity.logout":
                clients[person] = signed_in_client(app, demo[person])
                writes.reset()  # the new sessions are the test's writes
        timings["forms"] = time.perf_counter() - started

        # (b) query strings: every parameter at once, each hostile value in turn.
        started = time.perf_counter()
        for person in QUERY_WALKERS:
            client = clients[person]
            for page in pages:
                host = HOSTS[page.host]
                for query in hostile_queries(names):
                    response = client.get(f"{page.path}?{query}", headers=_headers(host))
                    walk.check(f"GET {page.path}?{query[:60]} ({person})", response)
        timings["queries"] = time.perf_counter() - started

        # (c) every route × method × person, with hostile path arguments and bodies, on the
        # hosts where the route exists.
        started = time.perf_counter()
        samples = route_samples(app, grant_id=1)
        walked: set[tuple[str, str]] = set()
        for person in ROUTE_WALKERS:
            client = clients[person]
            for endpoint, method, path in samples:
                if endpoint in ("identity.logout", "static"):
                    continue
                for kind, host in ALL_HOSTS.items():
                    rule = rule_for(endpoint, kind)
                    if rule is None or rule.host not in ("any", kind):
                        continue
                    walked.add((endpoint, method))
                    for argument in HOSTILE_PATH_ARGUMENTS:
                        hostile = re.sub(r"/1(?=/|$|\.)", "/" + argument, path)
                        if hostile == path:
                            break  # no argument to make hostile
                        response = client.open(hostile, method=method, headers=_headers(host))
                        walk.check(f"{method} {host}{hostile[:80]} ({person})", response)
                    if method == "POST":
                        response = client.post(
                            path,
                            data=HOSTILE_BODY,
                            content_type="application/x-www-form-urlencoded",
                            headers=_headers(host),
                        )
                        walk.check(f"POST {host}{path} with a hostile body ({person})", response)
        timings["routes"] = time.perf_counter() - started
        # An upper-case Host names the same site.
        response = clients["anonymous"].get("/", headers={"Host": "POITIERS.localhost"})
        walk.check("GET / with an upper-case Host", response)
        assert response.status_code == 200

    print(f"{walk.requests} hostile requests; seconds: {timings}", file=sys.stderr)
    assert not walk.failures, f"{len(walk.failures)} failures:\n" + "\n".join(walk.failures)
    # Every route registered was walked (a route no host serves would not be).
    registered = {
        (rule.endpoint, method)
        for rule in app.url_map.iter_rules()
        for method in (rule.methods or set()) - {"HEAD", "OPTIONS"}
    }
    assert registered - walked == {("static", "GET"), ("identity.logout", "POST")}
