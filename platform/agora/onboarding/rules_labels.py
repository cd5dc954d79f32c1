"""The French words of the rules' forms: each setting's label and hint, the options of each
choice, the legend of each row. Keys are the settings' names (``count``), or a plugin's name
and the setting's (``quotas_census.label``) where one name means two things."""

from __future__ import annotations

from typing import Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from agora.shared.labels import (
    CHANNELS,
    DECISIONS,
    METHODS,
    ORIGINS,
    PETITION_EFFECTS,
    POWERS,
    SELECTION_MODES,
    TIE_BREAKS,
    Labels,
)

#: The plugins whose settings the commune's administrator changes in the browser, in the
#: order the form shows them, with the title of their part of the form.
EDITABLE = {
    "composition_seats": _l("Bodies of the assembly and their seats"),
    "quotas_census": _l("Representativeness: quotas from the census"),
    "decision_rules": _l("How decisions are taken"),
    "interpellation_rights": _l("Citizens' right of interpellation"),
    "charter_open_assembly": _l("Provisions of the internal rules"),
    "charter_citizens_panel": _l("Provisions of the internal rules"),
}

#: The clauses of the internal rules a commune may add a provision to, by key.
CHARTER_CLAUSES = {
    "purpose": _l("Added to the purpose"),
    "openness": _l("Added to the openness of the sessions"),
    "membership": _l("Added to the membership"),
    "composition": _l("Added to the composition of the bodies"),
    "decisions": _l("Added to the making of decisions"),
    "council": _l("Added to the link with the municipal council"),
    "revision": _l("Added to the revision of the internal rules"),
}

BODY_KINDS = Labels(
    prefiguration_group=_l("prefiguration group"),
    assembly_plenary=_l("plenary assembly"),
    proposal_group=_l("proposal group"),
    methodology_committee=_l("methodology committee"),
    follow_up_committee=_l("follow-up committee"),
    citizens_panel=_l("citizens' panel"),
    working_group=_l("working group"),
)
OPENNESS = Labels(
    open_to_public=_l("open to the public: everyone present takes part"),
    members_only=_l("members only"),
)
ENCODINGS = Labels(
    **{
        "utf-8": _l("UTF-8"),
        "utf-8-sig": _l("UTF-8 with a byte-order mark"),
        "latin-1": _l("Latin-1 (ISO 8859-1)"),
        "cp1252": _l("Windows-1252"),
    }
)

FIELD_LABELS: dict[str, Any] = {
    # Composition
    "bodies": _l("Bodies"),
    "key": _l("Short identifier"),
    "kind": _l("Kind of body"),
    "name": _l("Name"),
    "powers": _l("Role of the body"),
    "openness": _l("Who takes part in its sessions"),
    "seats": _l("Seats"),
    "origin": _l("Who holds them"),
    "count": _l("Number of seats"),
    "selection_mode": _l("How they are chosen"),
    "voting": _l("These members vote"),
    "constraints": _l("Minimum and maximum by origin"),
    "min": _l("At least"),
    "max": _l("At most"),
    # Quotas
    "criteria": _l("Criteria"),
    "feature": _l("Short identifier of the criterion"),
    "quotas_census.label": _l("Name of the criterion"),
    "tolerance_seats": _l("Tolerance, in seats"),
    "source": _l("Source of the figures"),
    "draw_sources": _l("Only for these draw sources"),
    "values": _l("Values and their share of the population"),
    "value": _l("Short identifier of the value"),
    "quotas_census.values.label": _l("Name of the value"),
    "share": _l("Share of the population"),
    # Decisions
    "rules": _l("Kinds of decision"),
    "method": _l("Voting method"),
    "threshold": _l("Threshold of the qualified majority"),
    "quorum": _l("Quorum"),
    "min_present": _l("People present, at least"),
    "min_drawn_present": _l("Of whom drawn by lot, at least"),
    "min_share_of_members": _l("Share of the members present, at least"),
    "tie_break": _l("In case of a tie"),
    "reconvene_within_days": _l("Without quorum, the body meets again within (days)"),
    "count_abstentions": _l("Abstentions count among the votes cast"),
    # Interpellation
    "interpellation_rights.name": _l("Name of the right"),
    "window_months": _l("Months to collect the signatures"),
    "minimum_age": _l("Minimum age of the signatories"),
    "residents_only": _l("Residents of the commune only"),
    "levels": _l("Levels"),
    "signatures": _l("Signatures needed"),
    "effect": _l("What the commune must then do"),
    "interpellation_rights.label": _l("How the commune words it"),
    # Programme, draw sources (left to the consultancy, named all the same)
    "duration_weeks": _l("Duration, in weeks"),
    "preliminary_call_remote": _l("The preliminary call is held remotely"),
    "delimiter": _l("Column separator"),
    "encoding": _l("Encoding of the file"),
    "person_column": _l("Column of the person's identifier"),
    "household_columns": _l("Columns of the household"),
    "stratum_column": _l("Column of the area"),
    "birth_date_column": _l("Column of the date of birth"),
    "feature_columns": _l("Columns of the quota criteria"),
    "attribute_columns": _l("Other columns kept"),
    "channel": _l("How people are reached"),
    # Internal rules: a provision of the commune's own after a clause
    "additions": _l("Provisions of the commune's own"),
    **{
        f"{plugin}.additions.{key}": label
        for plugin in ("charter_open_assembly", "charter_citizens_panel")
        for key, label in CHARTER_CLAUSES.items()
    },
}

FIELD_HINTS: dict[str, Any] = {
    "key": _l("Lower-case letters, digits and underscores, starting with a letter."),
    "feature": _l("Lower-case letters, digits and underscores, starting with a letter."),
    "value": _l("As written in the register's column."),
    "share": _l("Between 0 and 1: 0,53 for 53 %. The shares of a criterion add up to 1."),
    "threshold": _l("A fraction of the votes cast, such as 2/3 or 3/5."),
    "min_share_of_members": _l("A fraction, such as 1/2."),
    "tie_break": _l("Applied in this order."),
    "draw_sources": _l("One source per line; leave empty for every source."),
    "levels": _l("In rising order of signatures."),
    "interpellation_rights.levels.key": _l(
        "Lower-case letters, digits, dashes and underscores, starting with a letter."
    ),
    "tolerance_seats": _l("How many seats the panel may differ from the exact share."),
    "additions": _l(
        "Written after the clause in the internal rules, as plain text (no braces). Changing "
        "one once the internal rules are adopted asks for their revision."
    ),
}

ROW_LABELS: dict[str, Any] = {
    "bodies": _l("Body %(num)d"),
    "seats": _l("Group of seats %(num)d"),
    "constraints": _l("Rule %(num)d"),
    "criteria": _l("Criterion %(num)d"),
    "values": _l("Value %(num)d"),
    "levels": _l("Level %(num)d"),
}

ENUM_LABELS: dict[str, Any] = {
    "kind": BODY_KINDS,
    "powers": POWERS,
    "openness": OPENNESS,
    "origin": ORIGINS,
    "selection_mode": SELECTION_MODES,
    "method": METHODS,
    "tie_break": TIE_BREAKS,
    "effect": PETITION_EFFECTS,
    "channel": CHANNELS,
    "encoding": ENCODINGS,
}

#: Each pattern of the plugins' schemas, said in words.
PATTERNS: dict[str, Any] = {
    "^[^{}]*$": _l("Write the provision without braces."),
    r"^[0-9]+/[1-9][0-9]*$": _l("Enter a fraction such as 2/3 (figures, a slash, figures)."),
    "^[a-z][a-z0-9_]*$": _l(
        "Use lower-case letters without accents, digits and underscores, starting with a letter."
    ),
    "^[a-z][a-z0-9_-]*$": _l(
        "Use lower-case letters without accents, digits, dashes and underscores, starting with"
        " a letter."
    ),
    "^[a-z][a-z0-9_]{0,39}$": _l(
        "Use at most 40 lower-case letters without accents, digits and underscores, starting"
        " with a letter."
    ),
}


def pattern_message(pattern: str) -> Any:
    return PATTERNS.get(pattern) or _l("This value is not written as expected.")


def entry_label(plugin: str, key: str, name: str) -> str:
    """The legend of one entry of a table keyed by name (a kind of decision)."""
    if plugin == "decision_rules":
        if name in DECISIONS:
            return str(DECISIONS[name])
        if name == "default":
            return str(_("Other decisions"))
    return str(_("Other entry"))
