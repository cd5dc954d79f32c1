"""French everywhere: every page of the demonstration, for every kind of person, read in
French, shows no raw code and no English left untranslated.

After ``flask demo load poitiers``, each GET page of the application (the URL map filled
with the demonstration's ids, as the browser suite does: ``e2e/pages.py``) is read by an
anonymous visitor, a resident, the commune's administrator, an elected member and the
consultancy's staff, in French. The page's visible text (tags and attributes stripped) must
not contain (text inside ``<code>``, a technical identifier shown on purpose such as a
fingerprint or a plugin's name, is left out):

- a snake_case word, or a code: a value of an ``enum.StrEnum`` of ``agora.*.models``, an
  audit event name of the demonstration, a voting method of ``agora.voting.METHODS``, an origin of
  ``agora.plugins.contracts.ORIGINS``;
- a message of the catalog left in English (an English msgid whose French translation
  differs);
- a "(s)" or "(e)" plural (plurals go through ``ngettext``; inclusive writing uses the point
  médian: habitant·es).

Failures name the page, the person and the offending text. ``KNOWN`` lists, page by page,
the findings that live in templates another branch is rewriting (each one commented); a
known finding that disappears fails too, so that the list shrinks with the fixes.
"""

from __future__ import annotations

import enum
import html
import importlib
import pkgutil
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from babel.messages.pofile import read_po
from flask import Flask
from sqlalchemy import select

from e2e.pages import prepare_people, visits
from support.fixtures import LoadDemo
from support.pages import page_text
from support.sessions import sign_client_in

CATALOG = (
    Path(__file__).resolve().parents[1] / "platform/agora/translations/fr/LC_MESSAGES/messages.po"
)
HOSTS = {"tenant": "poitiers.localhost", "platform": "localhost"}

#: Codes that are also ordinary French words: seen as text, they are French, not a code.
FRENCH_WORDS = frozenset(
    {
        "agent",
        "invitations",
        "association",
        "expert",
        "final",
        "lot",
        "note",
        "budget",
        "commune",
        "question",
        "date",
        "public",
        "minute",
        "consultation",
        "information",
        "simple",
        "absolute",
        "validation",
        "mission",
        "session",
        "concertation",
        "initiative",
        "interpellation",
        "pétition",
        "petition",
        "technique",
        # A drawn panel (« le panel tiré au sort »), also the code of a pick on it.
        "panel",
        "email",
        "fixe",
        "vote",
        "approbation",
        "document",
        "article",
        "action",
        "plan",
        "programme",
        "consent",
        "texte",
        "other",
    }
)
#: English messages that are also French (or proper names): not a sign of English left over.
SAME_IN_FRENCH = frozenset(
    {"Agora", "Menu", "Contact", "Email", "Type", "Code", "Note", "Notes", "Date", "Total"}
)

#: Findings in templates another branch (wt-design: public pages, petitions, identity,
#: notifications, frame; wt-staff: the assembly's staff templates) is rewriting:
#: ``(endpoint, person or "*", offending text)``. Each is to be fixed in that template.
KNOWN: dict[tuple[str, str, str], str] = {}


def _model_modules() -> Iterator[Any]:
    import agora

    for info in pkgutil.walk_packages(agora.__path__, "agora."):
        if info.name.endswith(".models"):
            yield importlib.import_module(info.name)


def enum_codes() -> set[str]:
    codes: set[str] = set()
    for module in _model_modules():
        for value in vars(module).values():
            if (
                isinstance(value, type)
                and issubclass(value, enum.StrEnum)
                and value is not enum.StrEnum
            ):
                codes |= {member.value for member in value}
    return codes


def method_and_origin_codes() -> set[str]:
    from agora.plugins.contracts import ORIGINS
    from agora.voting import METHODS

    return set(METHODS) | set(ORIGINS)


def _texts(value: object) -> tuple[str, ...]:
    """A message's id or string as a tuple (one text, or a plural's forms)."""
    values = value if isinstance(value, (tuple, list)) else (value,)
    return tuple(str(text) for text in values if text)


def french_strings() -> set[str]:
    """The French translations of the catalog: a code spelt like one ("active": une commune
    active) is French when seen."""
    with CATALOG.open("rb") as stream:
        catalog = read_po(stream, locale="fr")
    strings: set[str] = set()
    for message in catalog:
        values = _texts(message.string)
        strings |= {value for value in values if value}
    return strings


def is_code(value: str, french: set[str] = frozenset()) -> bool:  # type: ignore[assignment]
    """Whether ``value`` seen in a French page can only be a code."""
    if "_" in value or "." in value:
        return True
    return value.isascii() and value.islower() and value not in FRENCH_WORDS and value not in french


def english_messages() -> set[str]:
    """Fragments of English msgids (between placeholders) of two words or more, or one word
    of the catalog, whose French differs."""
    with CATALOG.open("rb") as stream:
        catalog = read_po(stream, locale="fr")
    english: set[str] = set()
    for message in catalog:
        if not message.id or message.fuzzy:
            continue
        ids, strings = _texts(message.id), _texts(message.string)
        if not strings or set(ids) & set(strings):
            continue
        for msgid in ids:
            for fragment in re.split(r"%\(\w+\)[sd]|%[sd]|\{\w*\}|[\"“”:;()]", msgid):
                fragment = fragment.strip(" .,!?—-…'")
                words = fragment.split()
                if not words or fragment in SAME_IN_FRENCH or not fragment.isascii():
                    continue
                if len(words) >= 3 or (len(words) == 2 and len(fragment) >= 8):
                    english.add(fragment)
    return english


#: Elements that end a piece of text: an English phrase is looked for inside one piece, not
#: across two cells or items ("conseil municipal" | "agents municipaux").
BLOCKS = re.compile(
    r"</?(?:p|div|li|ul|ol|td|th|tr|dt|dd|dl|h[1-6]|option|title|br|label|legend|caption|"
    r"section|nav|header|footer|main|button|summary|table|form)[^>]*>",
    re.IGNORECASE,
)


def pieces(response: Any) -> str:
    """The page's visible text, one line per block (tags, attributes and entities gone)."""
    # What a page marks as code (<code>: a fingerprint, a plugin's name, the TOTP key) is a
    # technical identifier shown on purpose, not a label left raw.
    markup = re.sub(r"<code\b[^>]*>.*?</code>", " ", response.get_data(as_text=True), flags=re.S)
    markup = BLOCKS.sub("\n", markup)
    text = html.unescape(re.sub(r"<[^>]+>", " ", markup))
    return "\n".join(
        line
        for line in (re.sub(r"[ \t\r\f\v]+", " ", raw).strip() for raw in text.split("\n"))
        if line
    )


#: "1 présents", "1 habitant·es": one, then a plural.
ONE_PLURAL = re.compile(r"(?<![\d.,])\b1 [a-zàâçéèêëîïôûù]+(?:·es|s)\b")
#: French words that end in s in the singular.
SINGULAR_IN_S = frozenset(
    {"mois", "fois", "temps", "pays", "avis", "cas", "corps", "prix", "sous", "plus", "dans"}
    | {"vers", "après", "depuis", "puis", "sans", "chez", "très", "dès", "refus", "recours"}
)
PLURALS = re.compile(r"\w\((?:s|e|es|x|nes)\)|\w\(e\)s")


def findings(text: str, codes: set[str], english: set[str]) -> list[str]:
    found: list[str] = []
    for token in set(re.findall(r"[A-Za-z][A-Za-z0-9_.]*[A-Za-z0-9]", text)):
        # Known codes, and any snake_case word: no French or English word is spelt so.
        if token in codes or re.fullmatch(r"[a-z]+(?:_[a-z0-9]+)+", token):
            found.append(f"code {token!r}")
    for phrase in english:
        # The substring test first: the regular expressions, one per phrase, overflow re's
        # cache and would be compiled again for every page.
        if phrase in text and re.search(rf"(?<![\w·'’-]){re.escape(phrase)}(?![\w·'’-])", text):
            found.append(f"English {phrase!r}")
    for plural in set(PLURALS.findall(text)):
        found.append(f"plural {plural!r}")
    for one in set(ONE_PLURAL.findall(text)):
        if one.split()[1] not in SINGULAR_IN_S:
            found.append(f"plural {one!r}")
    return sorted(found)


def context(text: str, finding: str) -> str:
    needle = finding.split(" ", 1)[1][1:-1]
    at = text.find(needle)
    around = text[max(0, at - 40) : at + len(needle) + 40] if at >= 0 else ""
    return around.replace("\n", " | ")


@pytest.fixture
def demo(app: Flask, load_demo: LoadDemo, onboarded: Path) -> dict[str, int | None]:
    load_demo("poitiers")
    return prepare_people(app)


def test_every_french_page_shows_no_code_no_english_no_parenthesised_plural(
    app: Flask, demo: dict[str, int | None]
) -> None:
    from agora.audit.models import AuditEvent
    from agora.extensions import db

    pages, unknown = visits(app)
    assert not unknown, unknown
    with app.app_context():
        actions = set(db.session.execute(select(AuditEvent.action).distinct()).scalars())
        db.session.remove()
    french = french_strings()
    codes = {code for code in enum_codes() | method_and_origin_codes() if is_code(code, french)}
    codes |= actions
    english = english_messages()

    seen: set[tuple[str, str, str]] = set()
    read: dict[str, int] = {}
    failures: list[str] = []
    for person, account_id in demo.items():
        client = app.test_client()
        if account_id is not None:
            for host in HOSTS.values():
                sign_client_in(app, client, account_id, host)
        for page in pages:
            host = HOSTS[page.host]
            response = client.get(page.path, headers={"Host": host, "Accept-Language": "fr"})
            if response.status_code >= 500:
                failures.append(
                    f"{page.path} ({page.endpoint}, {person}): error {response.status_code}"
                )
            if response.status_code != 200 or response.mimetype != "text/html":
                continue
            text = pieces(response)
            read[person] = read.get(person, 0) + 1
            assert page_text(response)  # the same text as support.pages reads, by block
            for finding in findings(text, codes, english):
                key = (page.endpoint, person, finding)
                if key in KNOWN or (page.endpoint, "*", finding) in KNOWN:
                    seen.add(key if key in KNOWN else (page.endpoint, "*", finding))
                    continue
                failures.append(
                    f"{page.path} ({page.endpoint}, {person}): {finding} "
                    f"in “…{context(text, finding)}…”"
                )
    # Every person reads pages, each signed-in one more than the anonymous visitor.
    assert all(read.get(person, 0) >= 10 for person in demo), read
    assert all(read[person] > read["anonymous"] for person in demo if person != "anonymous"), read
    stale = sorted(set(KNOWN) - seen)
    print("pages read:", read)
    assert not failures, f"{len(failures)} findings:\n" + "\n".join(failures)
    assert not stale, "fixed, remove from KNOWN: " + "\n".join(map(str, stale))


def test_the_reader_finds_codes_english_and_parenthesised_plurals() -> None:
    text = (
        "Passer à l'étape : closed\nhabitant(e)s tiré(e)s au sort\n"
        "un scrutin majority_judgment demande\nThe action plan was adopted\n"
        "habitant·es, une commune active, 1 sujet(s), open_to_public, 1 présents, 1 mois"
    )
    found = findings(
        text,
        {"closed", "majority_judgment", "ballot.certified"},
        {"The action plan was adopted"},
    )
    assert found == [
        "English 'The action plan was adopted'",
        "code 'closed'",
        "code 'majority_judgment'",
        "code 'open_to_public'",
        "plural '1 présents'",
        "plural 't(e)'",
        "plural 't(s)'",
        "plural 'é(e)'",
    ]
    assert not is_code("active", {"active"}) and is_code("in_progress")
