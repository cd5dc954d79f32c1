"""User-facing names of the domain's codes, translated (French first)."""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l


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
    }
)

ROLES = Labels(
    consultancy_staff=_l("consultancy staff"),
    commune_admin=_l("commune administrator"),
    elected=_l("elected member"),
    agent=_l("municipal agent"),
    facilitator=_l("facilitator"),
    evaluator=_l("evaluator"),
    body_member=_l("body member"),
    resident=_l("resident"),
)

TEMPLATE_LABELS = {
    "role_labels": ROLES,
    "power_labels": POWERS,
    "origin_labels": ORIGINS,
    "selection_labels": SELECTION_MODES,
    "decision_labels": DECISIONS,
    "method_labels": METHODS,
    "status_labels": TENANT_STATUSES,
    "action_labels": AUDIT_ACTIONS,
}
