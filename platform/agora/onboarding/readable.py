"""A commune's configuration as the public reads it: sections of sentences in the reader's
language (French first), never TOML keys or codes; and the differences between two versions
of that readable form.

The *Règles* page shows each version with :func:`describe` and what changed since the
previous version with :func:`differences`; the file itself stays downloadable (export).
"""

from __future__ import annotations

import difflib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from flask_babel import format_decimal, format_percent, ngettext
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from agora.onboarding.rules_labels import CHARTER_CLAUSES
from agora.shared.labels import (
    DECISIONS,
    METHODS,
    ORIGINS,
    PETITION_EFFECTS,
    POWERS,
    SELECTION_MODES,
    SUBJECT_SUBMITTERS,
    TIE_BREAKS,
    Labels,
    fraction_words,
)

OPENNESS = Labels(
    open_to_public=_l("open to the public: everyone present takes part"),
    members_only=_l("members only"),
)
#: Plugins shown by their purpose rather than their code.
PLUGIN_TITLES = Labels(
    programme_fc=_l("Programme of the year"),
    draw_address_file=_l("How residents are drawn by lot"),
    draw_electoral_roll=_l("How residents are drawn by lot"),
    draw_volunteers=_l("How residents are drawn by lot"),
    draw_csv=_l("How residents are drawn by lot"),
    quotas_census=_l("Representativeness of the people drawn"),
    composition_seats=_l("Bodies of the assembly"),
    decision_rules=_l("How decisions are taken"),
    charter_open_assembly=_l("Internal rules"),
    charter_citizens_panel=_l("Internal rules"),
    interpellation_rights=_l("Citizens' right of interpellation"),
)


@dataclass
class Section:
    title: str
    lines: list[str] = field(default_factory=list)


def _number(value: int | float) -> str:
    return str(format_decimal(value))


def _yes_no(value: object) -> str:
    return str(_("yes") if value else _("no"))


def _generic(settings: Any) -> list[str]:
    """Settings of a plugin this page does not know: values only, never their keys."""
    if isinstance(settings, dict):
        return [line for value in settings.values() for line in _generic(value)]
    if isinstance(settings, list):
        return [line for value in settings for line in _generic(value)]
    if isinstance(settings, bool):
        return []
    return [str(settings)]


def _commune(document: dict[str, Any]) -> Section:
    commune = document.get("commune", {})
    section = Section(_("Commune"))
    if "name" in commune:
        section.lines.append(_("Name: %(name)s", name=commune["name"]))
    if "insee_code" in commune:
        section.lines.append(_("INSEE code: %(code)s", code=commune["insee_code"]))
    if "population" in commune:
        section.lines.append(
            ngettext(
                "%(count)s inhabitant",
                "%(count)s inhabitants",
                commune["population"],
                count=_number(commune["population"]),
            )
        )
    return section


def _assembly(document: dict[str, Any]) -> Section:
    assembly = document.get("assembly", {})
    section = Section(str(assembly.get("name") or _("Assembly")))
    if assembly.get("description"):
        section.lines.append(str(assembly["description"]))
    if "subjects_per_year" in assembly:
        count = int(assembly["subjects_per_year"])
        section.lines.append(ngettext("%(num)d subject a year", "%(num)d subjects a year", count))
    if "working_days" in assembly:
        count = int(assembly["working_days"])
        section.lines.append(ngettext("%(num)d working day", "%(num)d working days", count))
    if assembly.get("subject_submitters"):
        section.lines.append(str(SUBJECT_SUBMITTERS[assembly["subject_submitters"]]))
    return section


def _draws(document: dict[str, Any]) -> Section:
    draws = document.get("draws", {})
    section = Section(_("Who may be drawn"))
    if draws.get("minimum_age"):
        age = int(draws["minimum_age"])
        section.lines.append(_("Residents aged %(age)d or more on the day of the draw.", age=age))
    editions = int(draws.get("exclude_members_of_last_editions", 0))
    if editions:
        section.lines.append(
            ngettext(
                "The people seated by the previous edition's draws may not be drawn again.",
                "The people seated by the draws of the last %(num)d editions may not be drawn "
                "again.",
                editions,
            )
        )
    if draws.get("retention_months"):
        months = int(draws["retention_months"])
        section.lines.append(
            ngettext(
                "The personal data of the people not selected is deleted %(num)d month after "
                "the draw closes.",
                "The personal data of the people not selected is deleted %(num)d months after "
                "the draw closes.",
                months,
            )
        )
    return section


def _bodies(settings: dict[str, Any]) -> list[str]:
    lines = []
    for body in settings.get("bodies", []):
        seats = []
        for seat in body.get("seats", []):
            count = int(seat.get("count", 0))
            text = _(
                "%(num)s %(origin)s (%(mode)s)",
                num=_number(count),
                origin=ORIGINS[seat.get("origin", "")],
                mode=SELECTION_MODES[seat.get("selection_mode", "")],
            )
            if seat.get("voting") is False:
                text += ", " + _("without a vote")
            seats.append(text)
        powers = ", ".join(str(POWERS[p]) for p in body.get("powers", []))
        line = _("%(name)s: %(seats)s.", name=body.get("name", ""), seats=_("; ").join(seats))
        if powers:
            line += " " + _("Role: %(powers)s.", powers=powers)
        if body.get("openness"):
            line += " " + _("Sessions: %(openness)s.", openness=OPENNESS[body["openness"]])
        for constraint in body.get("constraints", []):
            line += " " + _(
                "At least %(num)s %(origin)s.",
                num=_number(int(constraint.get("min", 0))),
                origin=ORIGINS[constraint.get("origin", "")],
            )
        lines.append(line)
    return lines


def _quotas(settings: dict[str, Any]) -> list[str]:
    lines = []
    for criterion in settings.get("criteria", []):
        shares = ", ".join(
            f"{value.get('label', value.get('value'))} {format_percent(value.get('share', 0))}"
            for value in criterion.get("values", [])
        )
        line = _("%(criterion)s: %(shares)s.", criterion=criterion.get("label", ""), shares=shares)
        if criterion.get("source"):
            line += " " + _("Source: %(source)s.", source=criterion["source"])
        if criterion.get("tolerance_seats"):
            count = int(criterion["tolerance_seats"])
            line += " " + ngettext("Tolerance: %(num)d seat.", "Tolerance: %(num)d seats.", count)
        lines.append(line)
    return lines


def _decisions(settings: dict[str, Any]) -> list[str]:
    lines = []
    for kind, rule in settings.get("rules", {}).items():
        name = DECISIONS[kind] if kind in DECISIONS else _("Other decisions")
        line = _("%(decision)s: %(method)s", decision=name, method=METHODS[rule.get("method", "")])
        if rule.get("threshold"):
            line += " " + _(
                "(%(fraction)s of the votes cast)", fraction=fraction_words(rule["threshold"])
            )
        line += "."
        quorum = rule.get("quorum") or {}
        if quorum:
            line += " " + _(
                "Quorum: %(present)s people present, of whom %(drawn)s drawn by lot.",
                present=_number(int(quorum.get("min_present", 0))),
                drawn=_number(int(quorum.get("min_drawn_present", 0))),
            )
        if rule.get("tie_break"):
            line += " " + _(
                "In case of a tie: %(steps)s.",
                steps=_(", then ").join(str(TIE_BREAKS[step]) for step in rule["tie_break"]),
            )
        lines.append(line)
    return lines


def _interpellation(settings: dict[str, Any]) -> list[str]:
    lines = []
    if settings.get("name"):
        lines.append(str(settings["name"]))
    if settings.get("window_months"):
        count = int(settings["window_months"])
        lines.append(
            ngettext(
                "Signatures are collected over %(num)d month.",
                "Signatures are collected over %(num)d months.",
                count,
            )
        )
    if settings.get("minimum_age"):
        lines.append(_("Signatories aged %(age)d or more.", age=int(settings["minimum_age"])))
    if "residents_only" in settings:
        lines.append(
            _("Residents of the commune only.")
            if settings["residents_only"]
            else _("Open to people who do not live in the commune.")
        )
    for level in settings.get("levels", []):
        count = int(level.get("signatures", 0))
        lines.append(
            ngettext(
                "%(count)s signature: %(effect)s",
                "%(count)s signatures: %(effect)s",
                count,
                count=_number(count),
                effect=level.get("label") or PETITION_EFFECTS[level.get("effect", "")],
            )
        )
    return lines


def _programme(settings: dict[str, Any]) -> list[str]:
    lines = []
    if settings.get("duration_weeks"):
        count = int(settings["duration_weeks"])
        lines.append(ngettext("Runs over %(num)d week.", "Runs over %(num)d weeks.", count))
    if "preliminary_call_remote" in settings:
        lines.append(
            _(
                "Preliminary call held remotely: %(answer)s.",
                answer=_yes_no(settings["preliminary_call_remote"]),
            )
        )
    return lines


def _draw(settings: dict[str, Any]) -> list[str]:
    # Both the address file and the electoral roll have a stratum column by default (the
    # neighbourhood, the polling station): their draws are always spread over the areas.
    return [_("Drawn by lot from a file of addresses."), _("Draw spread over the commune's areas.")]


def _draw_electoral_roll(settings: dict[str, Any]) -> list[str]:
    return [
        _("Drawn by lot from the electoral roll."),
        _("Draw spread over the commune's areas."),
    ]


def _draw_volunteers(settings: dict[str, Any]) -> list[str]:
    return [_("Drawn by lot from the list of volunteers.")]


def _draw_csv(settings: dict[str, Any]) -> list[str]:
    return [
        _(
            "Drawn by lot from a register described by the commune: %(label)s.",
            label=settings.get("label", ""),
        )
    ]


def _charter(model: Any) -> Callable[[Any], list[str]]:
    """The internal rules' model, then each provision the commune added to a clause."""

    def describe(settings: dict[str, Any]) -> list[str]:
        additions = settings.get("additions") or {}
        return [
            str(model),
            *(
                _("%(clause)s: %(text)s", clause=CHARTER_CLAUSES[key], text=text)
                for key, text in additions.items()
                if key in CHARTER_CLAUSES
            ),
        ]

    return describe


DESCRIBERS: dict[str, Callable[[Any], list[str]]] = {
    "composition_seats": _bodies,
    "quotas_census": _quotas,
    "decision_rules": _decisions,
    "interpellation_rights": _interpellation,
    "programme_fc": _programme,
    "draw_address_file": _draw,
    "draw_electoral_roll": _draw_electoral_roll,
    "draw_volunteers": _draw_volunteers,
    "draw_csv": _draw_csv,
    "charter_open_assembly": _charter(
        _l("The internal rules follow the open assembly model, adapted by the group.")
    ),
    "charter_citizens_panel": _charter(_l("The internal rules follow the citizens' panel model.")),
}


def describe(document: dict[str, Any]) -> list[Section]:
    """The configuration ``document`` as sections of sentences, in the current language."""
    sections = [_commune(document), _assembly(document)]
    if document.get("draws"):
        sections.append(_draws(document))
    for key, settings in (document.get("plugins") or {}).items():
        title = str(PLUGIN_TITLES[key]) if key in PLUGIN_TITLES else _("Other settings")
        describer = DESCRIBERS.get(key, _generic)
        sections.append(Section(title, describer(settings or {})))
    return sections


def differences(before: dict[str, Any], after: dict[str, Any]) -> list[tuple[str, str]]:
    """What changed between two versions, sentence by sentence: ``(kind, "section: line")``
    with kind ``removed`` or ``added`` (unchanged sentences are left out)."""

    def lines(document: dict[str, Any]) -> list[str]:
        return [f"{s.title} — {line}" for s in describe(document) for line in s.lines]

    old, new = lines(before), lines(after)
    changes: list[tuple[str, str]] = []
    for op, a1, a2, b1, b2 in difflib.SequenceMatcher(a=old, b=new).get_opcodes():
        if op in ("delete", "replace"):
            changes += [("removed", line) for line in old[a1:a2]]
        if op in ("insert", "replace"):
            changes += [("added", line) for line in new[b1:b2]]
    return changes
