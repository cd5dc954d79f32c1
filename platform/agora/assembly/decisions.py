"""What a certified decision changes: the chosen subject, the adopted action plan.

Certification itself (powers, quorum, tie-break) is in :mod:`agora.assembly.ballots`; this
module applies its consequences, so that every caller — the staff page, the demonstration
data — gets the same effects.
"""

from __future__ import annotations

from agora.assembly import ballots, council, proposals, subjects
from agora.assembly.models import (
    ActionPlan,
    Ballot,
    Body,
    Edition,
    ProposalStatus,
    SubjectStatus,
)
from agora.db import DbSession
from agora.plugins.contracts import DecisionRule
from agora.tenancy.models import Tenant


def certify(
    session: DbSession,
    tenant: Tenant,
    edition: Edition,
    ballot: Ballot,
    body: Body,
    rule: DecisionRule,
    actor: str,
) -> ActionPlan | None:
    """Certify ``ballot`` (taken under ``rule``) and apply the decision; returns the plan when
    one was adopted."""
    result = ballots.certify(session, tenant, ballot, body, rule, actor)
    winner = result.resolution.winner
    if ballot.decision == "subject_choice" and winner is not None:
        chosen = next(
            o.subject_id for o in ballots.options_of(session, ballot) if str(o.id) == winner
        )
        for subject in subjects.subjects_of(session, edition):
            if subject.status == SubjectStatus.ADMISSIBLE:
                selected = subject.id == chosen
                subject.status = SubjectStatus.SELECTED if selected else SubjectStatus.NOT_SELECTED
    if ballot.decision == "action_plan" and result.tally.adopted:
        final = [
            p
            for p in proposals.proposals_of(session, edition)
            if p.status != ProposalStatus.REJECTED
        ]
        return council.adopt_plan(session, tenant, edition, final, ballot.id, actor)
    return None
