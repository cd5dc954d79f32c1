"""Hook specifications: the contracts between Agora's core and its plugins.

A plugin is a module (or object) with functions decorated by :data:`agora.plugins.hookimpl`
whose names match the specifications below, registered in the ``agora`` entry-point group.
A commune enables plugins by name in ``tenants/<commune>.toml``; only enabled plugins answer
for that commune. Each hook receives ``tenant``, the commune's validated configuration, and
reads its own settings with ``tenant.plugin_settings(<plugin name>)``.

Hooks marked *one provider* are ``firstresult``: the commune must enable exactly one plugin
implementing them, which the configuration check enforces. Hooks marked *optional* are
answered by at most one enabled plugin; a commune that enables none simply goes without the
capability.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from agora.plugins import hookspec

#: The *optional* hooks: a commune may enable no plugin answering them, never two (the
#: configuration check refuses it, as it does for one-provider hooks).
OPTIONAL_SINGLE_PROVIDER = ("agora_interpellation_rules",)

if TYPE_CHECKING:
    from agora.plugins.contracts import (
        BodySpec,
        CharterTemplate,
        CommuneProfile,
        CommuneSettings,
        DecisionRule,
        DrawSource,
        InterpellationRules,
        JSONSchema,
        ProgrammeTemplate,
        QuotaCriterion,
    )


@hookspec
def agora_settings_schema() -> JSONSchema:
    """Return the JSON Schema (draft 2020-12) of this plugin's per-commune settings.

    The core validates the ``[plugins.<name>]`` table of a commune's file against it before
    anything is written, and reports errors with the path of the faulty field. A plugin
    without settings need not implement this hook (no settings are then accepted).

    :returns: a JSON Schema object describing the settings table.

    .. versionadded:: 0.1
    """


@hookspec
def agora_check_settings(settings: dict[str, Any]) -> list[tuple[str, str]]:
    """Check this plugin's settings beyond what the schema can say.

    Called only once ``settings`` satisfy :func:`agora_settings_schema`, with the plugin's
    own settings table. Use it for rules that tie fields together (a minimum of opposition
    members larger than the elected seats, quota shares that do not add up).

    :param settings: the plugin's settings, already valid against its schema.
    :returns: ``(path, message)`` pairs, ``path`` relative to the settings table in the
        same dotted form the schema errors use (``bodies[1].constraints[0].min``); an empty
        list when all is well.

    .. versionadded:: 0.1
    """


@hookspec(firstresult=True)
def agora_programme_template(tenant: CommuneSettings) -> ProgrammeTemplate | None:
    """Return the support programme the consultancy runs for this commune (one provider).

    The programme is instantiated once per commune: phases (scoping, prefiguration,
    training, draw, launch) and their numbered sessions with expected deliverables.

    :param tenant: the commune's configuration.
    :returns: the programme template.

    .. versionadded:: 0.1
    """


@hookspec(firstresult=True)
def agora_composition_rules(tenant: CommuneSettings) -> list[BodySpec] | None:
    """Return the bodies the commune's assembly is made of and their seats (one provider).

    Each body lists its powers, whether it is open to everyone present, its seats by origin
    and selection mode, and constraints such as a minimum number of opposition members.

    :param tenant: the commune's configuration.
    :returns: the body specifications, in display order.

    .. versionadded:: 0.1
    """


@hookspec
def agora_draw_source(tenant: CommuneSettings) -> list[DrawSource]:
    """Return the named sources residents may be drawn from (every enabled plugin adds).

    Examples: the electoral roll extract sent by the prefecture (``electoral_roll``), an
    address file for door-to-door visits (``address_file``), the volunteers' list
    (``volunteers``), a generic CSV (``generic_csv``). A commune enables as many as its draws
    need, and each sub-draw of a draw names the source it reads (for example 80 seats from
    the electoral roll and 15 from a list of non-EU residents who volunteered). Names are
    unique within a commune: the configuration check refuses two sources with the same name.

    Each source streams its register by batches
    (:class:`~agora.plugins.contracts.RegisterBatch`: the entries column by column, so that a
    roll of a million people is checked and hashed a column at a time; a source that reads
    row by row gives its :class:`~agora.plugins.contracts.RegisterEntry` objects through
    ``entry_batches``) and raises :class:`~agora.plugins.contracts.RegisterFormatError` with
    the line, column and code of a fault, which the core words in French; its ``columns`` say
    which column of the file holds the identifier, the household, the stratum, the date of
    birth and each quota feature.

    :param tenant: the commune's configuration.
    :returns: the plugin's sources for this commune (usually one); an empty list when it
        has none.

    .. versionadded:: 0.1
    .. versionchanged:: 0.3
       Every enabled plugin adds named sources (a list); it was a one-provider hook
       returning a single reader. Entries gained ``line``, ``birth_date`` and
       ``features``; errors gained ``code`` and ``params``.
    .. versionchanged:: 0.4
       Sources give batches (``read_batches``) instead of one entry at a time (``read``).
    """


@hookspec
def agora_quota_criteria(tenant: CommuneSettings) -> list[QuotaCriterion]:
    """Return the criteria the drawn panel must mirror (every enabled plugin contributes).

    Each criterion names a feature (gender, age band, neighbourhood…), its values and their
    share in the reference population; the draw turns them into minimum and maximum seats.

    :param tenant: the commune's configuration.
    :returns: quota criteria; an empty list when the plugin adds none.

    .. versionadded:: 0.1
    """


@hookspec(firstresult=True)
def agora_decision_rule(tenant: CommuneSettings, decision: str) -> DecisionRule | None:
    """Return how a kind of decision is taken in this commune (one provider).

    ``decision`` names the kind of decision, e.g. ``subject_choice`` (day 1),
    ``action_plan`` or ``charter``. The rule gives the voting method (one of
    ``agora.voting.METHODS``: simple, absolute or qualified majority, consent, majority
    judgment, approval), the threshold, the quorum, the tie-break chain (steps of
    ``agora.voting.tiebreak.STEPS``), whether abstentions count among the votes cast of an
    absolute or qualified majority (``count_abstentions``; French practice leaves them out of
    the *suffrages exprimés*) and the quorum fallback's delay: a decisive ballot that misses
    its quorum stands as indicative, and the body is reconvened within
    ``reconvene_within_days`` days (for instance 30).

    :param tenant: the commune's configuration.
    :param decision: the kind of decision.
    :returns: the rule, or ``None`` when the plugin has none for that kind.

    .. versionadded:: 0.1
    .. versionchanged:: 0.2
       ``reconvene_within_days`` and ``count_abstentions``: the core reconvened within 30
       days and never counted abstentions.
    """


@hookspec(firstresult=True)
def agora_charter_template(tenant: CommuneSettings) -> CharterTemplate | None:
    """Return the template of the commune's internal rules, the règlement intérieur (one provider).

    Clauses are Jinja texts rendered with the commune's configuration (composition,
    quorum, thresholds, link with the council), so the charter and the software agree.

    :param tenant: the commune's configuration.
    :returns: the charter template.

    .. versionadded:: 0.1
    """


@hookspec
def agora_interpellation_rules(tenant: CommuneSettings) -> InterpellationRules | None:
    """Return the commune's right of interpellation by petition (optional, at most one).

    The rules give the signature window in months (a petition opened on 10 March with a
    window of 6 closes on 10 September), the minimum age of signers, whether they must
    declare that they live in the commune, and the threshold levels in rising order of
    signatures, each with the effect it obliges the commune to (``meeting`` with the mayor
    and elected referents, an item on the ``council_agenda``, a debate on a local
    ``referendum``, in that rising order: a later level never obliges to less) and a label
    in the commune's words: for instance 50, 900 and 4,500 signatures of residents aged 16
    or more, within 6 months. Each petition pins the rules in force when it opens.

    A commune that enables no plugin answering this hook has no petitions: their pages
    answer 404 and the menu does not show them. Two answering plugins are an error.

    :param tenant: the commune's configuration.
    :returns: the rules, or ``None`` when the plugin has none for this commune.

    .. versionadded:: 0.2
    """


@hookspec
def agora_commune_profiles() -> list[CommuneProfile]:
    """Return the kinds of assembly this plugin offers as a starting point for a new commune.

    Not bound to a commune: the console's onboarding wizard asks every installed plugin and
    lists the profiles they return (an open assembly with a drawn core, a closed panel like
    the Convention Citoyenne, several pools…). The profile chosen becomes the new
    commune's first configuration, checked like any commune's file, with the ``commune``
    table the staff member fills in; the commune then changes its own rules.

    :returns: profiles with keys unique across plugins.

    .. versionadded:: 0.3
    """
