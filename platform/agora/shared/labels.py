"""User-facing names of the domain's codes, translated (French first).

A status whose French form agrees with its noun's gender ("scrutin clos", "séance close") is
translated in a context naming that noun (``_lp``)."""

from __future__ import annotations

from fractions import Fraction
from typing import Any

from flask_babel import format_percent
from flask_babel import lazy_gettext as _l
from flask_babel import lazy_pgettext as _lp


class Labels(dict[str, Any]):
    """A label table that shows the raw code rather than failing on an unknown one."""

    def __missing__(self, key: str) -> str:
        return key


POWERS = Labels(
    agenda_setting=_l("sets the agenda"),
    draft_content=_l("drafts proposals"),
    organise_process=_l("organises the process"),
    decide=_l("decides"),
    monitor=_l("monitors implementation"),
)
ORIGINS = Labels(
    drawn=_l("residents drawn by lot"),
    volunteer=_l("volunteer residents"),
    elected=_l("elected members"),
    other=_l("others"),
    elected_majority=_l("elected members of the majority"),
    elected_opposition=_l("elected members of the opposition"),
    agent=_l("municipal agents"),
    researcher=_l("researchers"),
    facilitator=_l("facilitators"),
    association=_l("associations"),
    company=_l("companies"),
    expert=_l("experts"),
)
SELECTION_MODES = Labels(
    drawn=_l("drawn by lot from the register"),
    drawn_among_volunteers=_l("drawn by lot among volunteers"),
    open_call=_l("open call"),
    designated_by_council=_l("designated by the municipal council"),
    designated_by_administration=_l("designated by the administration"),
    designated_by_group=_l("designated by the group"),
    ex_officio=_l("ex officio"),
    co_opted=_l("co-opted"),
)
DECISIONS = Labels(
    subject_choice=_l("Choice of the year's subject"),
    action_plan=_l("Action plan"),
    charter=_l("Internal rules (règlement intérieur)"),
)
METHODS = Labels(
    simple_majority=_l("simple majority"),
    absolute_majority=_l("absolute majority"),
    qualified_majority=_l("qualified majority"),
    consent=_l("consent (decision unless a reasoned objection)"),
    majority_judgment=_l("majority judgment"),
    approval=_l("approval voting"),
)
TENANT_KINDS = Labels(commune=_l("Commune"), epci=_l("Intercommunality (EPCI)"))
TENANT_STATUSES = Labels(
    prospect=_l("prospect"),
    onboarding=_l("onboarding"),
    active=_l("active"),
    suspended=_l("suspended"),
    archived=_l("archived"),
)
AUDIT_ACTIONS = Labels(
    **{
        "tenant.onboarded": _l("The commune joined Agora"),
        "tenant.updated": _l("The commune's record was updated"),
        "config.version_created": _l("New version of the rules"),
        "config.awaiting_charter": _l(
            "New rules await the revision of the internal rules before taking effect"
        ),
        "config.took_effect": _l("Rules took effect with the revised internal rules"),
        "billing.profile_saved": _l("The commune's billing details were saved"),
        "quote.drafted": _l("A quote was drafted"),
        "quote.line_added": _l("A line was added to a quote"),
        "quote.line_removed": _l("A line was removed from a quote"),
        "quote.sent": _l("A quote was sent to the commune"),
        "quote.accepted": _l("The commune accepted a quote"),
        "quote.refused": _l("The commune refused a quote"),
        "invoice.issued": _l("An invoice was issued"),
        "invoice.open": _l("An invoice awaits its payment"),
        "invoice.paid": _l("An invoice was paid"),
        "invoice.void": _l("An invoice was cancelled"),
        "invoice.uncollectible": _l("An invoice was declared uncollectible"),
        "petition.opened": _l("A petition was opened"),
        "draw.designed": _l("A draw was designed"),
        "draw.method_changed": _l("The method of a draw was changed"),
        "draw.register_uploaded": _l("A register was uploaded for a draw"),
        "draw.register_imported": _l("A register was imported for a draw"),
        "draw.register_failed": _l("A register was refused for a draw"),
        "draw.method_published": _l("The method of a draw was published"),
        "draw.committed": _l("A draw's commitment was published"),
        "draw.stage1_done": _l("The invitations of a draw were drawn"),
        "draw.revealed": _l("A draw's random value was revealed"),
        "draw.invitations": _l("A draw's invitations were sent"),
        "draw.responses": _l("A draw's responses were opened"),
        "draw.pool_closed": _l("A draw's pool of volunteers was closed"),
        "draw.stage2_done": _l("A draw's panel was selected"),
        "draw.seated": _l("A draw's panel took its seats"),
        "draw.letters_requested": _l("A draw's letters were sent to print for the print shop"),
        "petition.level_reached": _l("A petition reached a threshold"),
        "petition.meeting_held": _l("Meeting held on a petition"),
        "petition.council_scheduled": _l("Petition put on the council's agenda"),
        "petition.decided": _l("Answer given to a petition"),
        "amendment.tabled": _l("An amendment was tabled"),
        "amendment.accepted": _l("An amendment was accepted by the authors"),
        "amendment.rejected": _l("An amendment was rejected by the authors"),
        "ballot.opened": _l("A ballot was opened"),
        "ballot.closed": _l("A ballot was closed"),
        "ballot.certified": _l("The result of a ballot was certified"),
        "ballot.not_decided": _l("A ballot ended without a decision"),
        "ballot.tie_break": _l("A tie in a ballot was broken"),
        "body.installed": _l("A body of the assembly was installed"),
        "charter.drafted": _l("A draft of the internal rules was written"),
        "council.deliberated": _l("The municipal council deliberated"),
        "edition.opened": _l("An edition of the assembly was opened"),
        "identity.erased": _l("An account was erased"),
        "identity.login": _l("Sign-in"),
        "identity.login_failed": _l("Failed sign-in"),
        "identity.logout": _l("Sign-out"),
        "identity.provider_configured": _l("An identity provider was configured"),
        "identity.retention_applied": _l("Old personal data was deleted"),
        "identity.role_granted": _l("A role was granted"),
        "identity.role_revoked": _l("A role was withdrawn"),
        "identity.staff_assigned": _l("A member of the consultancy was assigned"),
        "measure.overdue_alerted": _l("A measure's late report was flagged"),
        "milestone.announced": _l("A milestone was announced"),
        "milestone.reached": _l("A milestone was reached"),
        "plan.adopted": _l("The action plan was adopted"),
        "plan.transmitted": _l("The action plan was transmitted to the council"),
        "platform_admin.access": _l("Access by a platform administrator"),
        "programme.deliverable_accepted": _l("A deliverable of the programme was accepted"),
        "programme.instantiated": _l("The year's programme was set up"),
        "proposal.annotated": _l("A feasibility note was added to a proposal"),
        "proposal.drafted": _l("A proposal was drafted"),
        "proposal.revised": _l("A proposal was revised"),
        "session.planned": _l("A session of the assembly was planned"),
        "subject.submitted": _l("A subject was proposed"),
    }
)

ROLES = Labels(
    consultancy_staff=_l("consultancy staff"),
    commune_admin=_l("commune administrator"),
    elected=_l("elected member"),
    agent=_l("municipal agent"),
    facilitator=_l("facilitator"),
    evaluator=_l("evaluator"),
    methodology_committee=_l("methodology committee member"),
    body_member=_l("body member"),
    resident=_l("resident"),
)

TIMELINE = Labels(
    done=_l("done"),
    late=_l("late"),
    next=_l("next"),
    upcoming=_l("to come"),
    postponed=_l("postponed"),
    cancelled=_l("cancelled"),
)
SESSION_STATUSES = Labels(
    planned=_l("planned"),
    confirmed=_l("confirmed"),
    held=_l("held"),
    minutes_published=_l("minutes published"),
    postponed=_l("postponed"),
    cancelled=_l("cancelled"),
)
DELIVERABLES = Labels(
    communication_plan=_l("communication plan"),
    purpose_text=_l("purpose text"),
    charter_draft=_l("draft internal rules"),
    charter=_l("internal rules"),
    facilitator_kit=_l("facilitator kit"),
    draw_protocol=_l("draw protocol"),
)
TIE_BREAKS = Labels(
    method=_l("the voting method's own rule"),
    runoff=_l("a run-off between the tied options"),
    lot=_l("a public draw by lot"),
)

EDITION_STATUSES = Labels(
    planned=_lp("edition", "in preparation"),
    subject_call=_lp("edition", "call for subjects"),
    subject_selected=_lp("edition", "subject chosen"),
    deliberating=_lp("edition", "deliberation"),
    plan_adopted=_lp("edition", "action plan adopted"),
    transmitted=_lp("edition", "transmitted to the council"),
    council_decided=_lp("edition", "decided by the council"),
    follow_up=_lp("edition", "follow-up"),
    closed=_lp("edition", "closed"),
)
SUBJECT_STATUSES = Labels(
    submitted=_l("submitted"),
    admissible=_l("admissible"),
    inadmissible=_l("inadmissible"),
    selected=_l("chosen"),
    not_selected=_l("not chosen"),
)
BALLOT_STATUSES = Labels(
    open=_lp("ballot", "open"),
    closed=_lp("ballot", "closed"),
    certified=_lp("ballot", "certified"),
    not_decided=_lp("ballot", "not decided"),
)
PROPOSAL_STATUSES = Labels(
    draft=_l("draft"),
    in_feasibility_review=_l("feasibility review"),
    final=_l("final"),
    adopted=_l("adopted"),
    rejected=_l("rejected"),
)
PLAN_STATUSES = Labels(
    draft=_lp("plan", "draft"),
    adopted=_lp("plan", "adopted by the assembly"),
    transmitted=_lp("plan", "transmitted to the council"),
    council_decided=_lp("plan", "decided by the council"),
)
OUTCOMES = Labels(
    adopted_as_is=_l("adopted as is"),
    adopted_with_amendments=_l("adopted with amendments"),
    partially_adopted=_l("partially adopted"),
    rejected=_l("rejected"),
    referred_to_local_referendum=_l("referred to a local referendum"),
    postponed=_l("postponed"),
)
RESPONSES = Labels(
    accepted=_l("accepted as voted"),
    modified=_l("modified"),
    rejected=_l("rejected"),
    deferred=_l("deferred"),
)
MEASURE_STATUSES = Labels(
    planned=_lp("measure", "planned"),
    in_progress=_lp("measure", "in progress"),
    delayed=_lp("measure", "delayed"),
    done=_lp("measure", "done"),
    abandoned=_lp("measure", "abandoned"),
)
VERDICTS = Labels(
    feasible=_l("feasible"),
    feasible_with_conditions=_l("feasible with conditions"),
    not_feasible=_l("not feasible"),
)
SUBJECT_SUBMITTERS = Labels(
    anyone=_l("Anyone may propose a subject, with or without an account."),
    residents=_l("Residents propose subjects once signed in."),
    members=_l("Subjects are proposed by members of the assembly's bodies."),
)
AMENDMENT_STATUSES = Labels(
    tabled=_l("tabled, awaiting the authors"),
    accepted_by_authors=_l("accepted by the authors"),
    rejected=_l("rejected by the authors"),
)
NOTE_KINDS = Labels(
    technical=_l("technical"), legal=_l("legal"), budget=_l("budget"), staff=_l("staff")
)
CHARTER_STATUSES = Labels(
    draft=_l("draft"),
    validated=_l("validated by the group"),
    adopted=_l("adopted by the council"),
    in_force=_l("in force"),
    superseded=_l("superseded"),
)
BODY_STATUSES = Labels(
    to_compose=_l("to compose"), installed=_l("installed"), dissolved=_l("dissolved")
)
ASSEMBLY_SESSION_STATUSES = Labels(
    planned=_lp("session", "planned"), open=_lp("session", "open"), closed=_lp("session", "closed")
)
PETITION_STATUSES = Labels(
    open=_lp("petition", "open for signature"),
    threshold_reached=_lp("petition", "threshold reached"),
    on_council_agenda=_lp("petition", "on the council's agenda"),
    referendum_requested=_lp("petition", "local referendum requested"),
    decided=_lp("petition", "answered"),
    closed=_lp("petition", "closed"),
)
PETITION_EFFECTS = Labels(
    meeting=_l("meeting with the mayor and elected referents"),
    council_agenda=_l("item on the council's agenda"),
    referendum=_l("debate on a local referendum"),
)
DRAW_STATUS = Labels(
    designed=_lp("draw", "designed"),
    method_published=_lp("draw", "method published"),
    committed=_lp("draw", "commitment published"),
    stage1_done=_lp("draw", "invitations drawn"),
    revealed=_lp("draw", "random value revealed"),
    invitations=_lp("draw", "invitations sent"),
    responses=_lp("draw", "collecting responses"),
    pool_closed=_lp("draw", "pool closed"),
    lottery_committed=_lp("draw", "lottery committed"),
    stage2_done=_lp("draw", "panel selected"),
    seated=_lp("draw", "seated"),
)
REGISTER_STATUS = Labels(
    uploaded=_lp("register", "uploaded"),
    mapping=_lp("register", "columns to choose"),
    importing=_lp("register", "importing"),
    imported=_lp("register", "imported"),
    failed=_lp("register", "refused"),
)
ALGORITHMS = Labels(
    leximin=_l("LEXIMIN (the fairest: raises the lowest chance of selection first)"),
    maximin=_l("MAXIMIN (raises the lowest chance of selection)"),
    legacy=_l("Greedy (the former method)"),
)
CHANNELS = Labels(
    letter=_l("by letter"),
    door_to_door=_l("door-to-door visits"),
    phone=_l("by phone"),
    email=_l("by e-mail"),
)
ANSWER_CHANNELS = Labels(
    online=_l("online"),
    paper=_l("on paper"),
    visit=_l("at the door"),
    volunteer=_l("volunteers' list"),
)

PICK_STATUSES = Labels(
    selected=_lp("pick", "to confirm"),
    confirmed=_lp("pick", "accepted"),
    declined=_lp("pick", "declined, replaced"),
    seated=_lp("pick", "seated"),
    withdrawn=_lp("pick", "withdrew, replaced"),
)

INVITATION_STATUSES = Labels(
    invited=_lp("invitation", "not visited yet"),
    not_reached=_lp("invitation", "nobody at home"),
    refused=_lp("invitation", "not interested"),
    interested=_lp("invitation", "interested"),
    responded=_lp("invitation", "answered"),
)

TEMPLATE_LABELS = {
    "answer_channel_labels": ANSWER_CHANNELS,
    "invitation_status_labels": INVITATION_STATUSES,
    "pick_status_labels": PICK_STATUSES,
    "draw_status_labels": DRAW_STATUS,
    "register_status_labels": REGISTER_STATUS,
    "algorithm_labels": ALGORITHMS,
    "channel_labels": CHANNELS,
    "edition_status_labels": EDITION_STATUSES,
    "subject_status_labels": SUBJECT_STATUSES,
    "ballot_status_labels": BALLOT_STATUSES,
    "proposal_status_labels": PROPOSAL_STATUSES,
    "plan_status_labels": PLAN_STATUSES,
    "outcome_labels": OUTCOMES,
    "response_labels": RESPONSES,
    "measure_status_labels": MEASURE_STATUSES,
    "verdict_labels": VERDICTS,
    "amendment_status_labels": AMENDMENT_STATUSES,
    "subject_submitters_labels": SUBJECT_SUBMITTERS,
    "note_kind_labels": NOTE_KINDS,
    "charter_status_labels": CHARTER_STATUSES,
    "body_status_labels": BODY_STATUSES,
    "assembly_session_status_labels": ASSEMBLY_SESSION_STATUSES,
    "timeline_labels": TIMELINE,
    "session_status_labels": SESSION_STATUSES,
    "deliverable_labels": DELIVERABLES,
    "tie_break_labels": TIE_BREAKS,
    "role_labels": ROLES,
    "power_labels": POWERS,
    "origin_labels": ORIGINS,
    "selection_labels": SELECTION_MODES,
    "decision_labels": DECISIONS,
    "method_labels": METHODS,
    "status_labels": TENANT_STATUSES,
    "action_labels": AUDIT_ACTIONS,
    "petition_status_labels": PETITION_STATUSES,
    "petition_effect_labels": PETITION_EFFECTS,
}


#: The colour of a status's tag (GOV.UK Frontend's ``govuk-tag--<colour>``), by the family
#: the status belongs to, so that one colour means one thing on every page: done or in force
#: (green), under way (blue), waiting for someone (yellow), refused or late (red), over or
#: replaced (grey). A status of a given kind may say otherwise: ``(kind, status)`` first.
STATUS_FAMILIES: dict[str, frozenset[str]] = {
    "green": frozenset(
        {
            "active",
            "adopted",
            "adopted_as_is",
            "in_force",
            "installed",
            "held",
            "done",
            "certified",
            "admissible",
            "selected",
            "accepted",
            "accepted_by_authors",
            "minutes_published",
            "feasible",
            "final",
            "council_decided",
            "decided",
            "threshold_reached",
            "confirmed",
            "plan_adopted",
        }
    ),
    "blue": frozenset(
        {
            "open",
            "in_progress",
            "deliberating",
            "subject_call",
            "subject_selected",
            "follow_up",
            "in_feasibility_review",
            "transmitted",
            "on_council_agenda",
            "onboarding",
            "validated",
            "adopted_with_amendments",
            "modified",
            "feasible_with_conditions",
            "referendum_requested",
        }
    ),
    "yellow": frozenset(
        {
            "planned",
            "draft",
            "submitted",
            "to_compose",
            "tabled",
            "prospect",
            "upcoming",
            "deferred",
            "partially_adopted",
        }
    ),
    "red": frozenset(
        {
            "rejected",
            "inadmissible",
            "abandoned",
            "delayed",
            "late",
            "cancelled",
            "suspended",
            "not_decided",
            "not_feasible",
            "postponed",
        }
    ),
    "grey": frozenset({"closed", "archived", "superseded", "dissolved", "not_selected"}),
}
STATUS_COLOUR_OVERRIDES: dict[tuple[str, str], str] = {
    ("petition", "closed"): "grey",
    ("ballot", "closed"): "grey",
    **{("draw", status): "blue" for status in DRAW_STATUS},
    ("draw", "designed"): "yellow",
    ("draw", "seated"): "green",
    ("register", "uploaded"): "blue",
    ("register", "mapping"): "orange",
    ("register", "importing"): "blue",
    ("register", "imported"): "green",
    ("register", "failed"): "red",
}


def tag_colour(status: str, kind: str | None = None) -> str:
    """The tag colour of ``status`` (a code); grey for a code no family knows."""
    if kind is not None and (kind, status) in STATUS_COLOUR_OVERRIDES:
        return STATUS_COLOUR_OVERRIDES[(kind, status)]
    for colour, statuses in STATUS_FAMILIES.items():
        if status in statuses:
            return colour
    return "grey"


OBJECT_TYPES = Labels(
    account=_l("an account"),
    action_plan=_l("the action plan"),
    amendment=_l("an amendment"),
    assembly_session=_l("a session of the assembly"),
    ballot=_l("a ballot"),
    body=_l("a body of the assembly"),
    charter_version=_l("a version of the internal rules"),
    council_deliberation=_l("a deliberation of the council"),
    draw=_l("a draw by lot"),
    edition=_l("an edition of the assembly"),
    feasibility_note=_l("a feasibility note"),
    identity_provider=_l("an identity provider"),
    measure=_l("a measure of the action plan"),
    milestone=_l("a milestone"),
    petition=_l("a petition"),
    programme=_l("the year's programme"),
    programme_session=_l("a session of the programme"),
    proposal=_l("a proposal"),
    role_grant=_l("a role"),
    subject=_l("a subject"),
    tenant=_l("the commune"),
    tenant_config_version=_l("a version of the rules"),
)
TEMPLATE_LABELS["object_type_labels"] = OBJECT_TYPES

#: Audit events named after the status their object reaches (``edition.deliberating``,
#: ``measure.in_progress``): the object's name and the status's label.
AUDIT_STATUS_EVENTS: dict[str, tuple[Any, Labels]] = {
    "edition": (_l("Edition"), EDITION_STATUSES),
    "charter": (_l("Internal rules"), CHARTER_STATUSES),
    "measure": (_l("Measure"), MEASURE_STATUSES),
    "session": (_l("Assembly session"), ASSEMBLY_SESSION_STATUSES),
    "subject": (_l("Subject"), SUBJECT_STATUSES),
    "programme.session": (_l("Programme session"), SESSION_STATUSES),
}


def audit_action(code: str) -> str:
    """The French (or the reader's) name of an audit event, never its code: a named event,
    else "<object>: <status>" for a change of status, else a neutral phrase."""
    if code in AUDIT_ACTIONS:
        return str(AUDIT_ACTIONS[code])
    kind, _dot, status = code.rpartition(".")
    if kind == "programme" and status.startswith("session_"):
        kind, status = "programme.session", status.removeprefix("session_")
    if kind in AUDIT_STATUS_EVENTS and status in AUDIT_STATUS_EVENTS[kind][1]:
        noun, statuses = AUDIT_STATUS_EVENTS[kind]
        return str(_l("%(object)s: %(status)s", object=noun, status=statuses[status]))
    return str(_l("Other event"))


#: The label tables by name, for the ``label`` filter: ``{{ code|label("ballot_status") }}``.
TABLES: dict[str, Labels] = {
    name.removesuffix("_labels"): table
    for name, table in TEMPLATE_LABELS.items()
    if isinstance(table, Labels)
}


def label(code: object, table: str) -> str:
    """The label of ``code`` (an enum member or its value) in ``table`` (a name of
    ``TABLES``, or ``"audit"``)."""
    value = str(getattr(code, "value", code))
    if table == "audit":
        return audit_action(value)
    return str(TABLES[table][value])


#: Thresholds said in words ("deux tiers").
FRACTIONS = {
    Fraction(1, 2): _l("half"),
    Fraction(2, 3): _l("two thirds"),
    Fraction(3, 4): _l("three quarters"),
    Fraction(3, 5): _l("three fifths"),
    Fraction(4, 5): _l("four fifths"),
    Fraction(1, 3): _l("one third"),
}


def fraction_words(value: object) -> str:
    """A threshold ("2/3", 0.6) in words ("deux tiers"), else as a percentage."""
    try:
        fraction = Fraction(str(value)).limit_denominator(100)
    except (ValueError, ZeroDivisionError):
        return str(value)
    if fraction in FRACTIONS:
        return str(FRACTIONS[fraction])
    return str(format_percent(float(fraction)))
