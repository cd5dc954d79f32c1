"""Ballots in the database, counted by the pure engine in :mod:`agora.voting`; votes are
cast through :mod:`agora.assembly.casting`."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import func, select

from agora.assembly.models import (
    AssemblySession,
    AssemblySessionStatus,
    Ballot,
    BallotOption,
    BallotStatus,
    Body,
    CheckIn,
    Membership,
    MembershipStatus,
    Vote,
)
from agora.audit import services as audit
from agora.db import DbSession, utcnow
from agora.errors import Conflict, Forbidden, Invalid
from agora.plugins.contracts import DecisionRule
from agora.tenancy.models import Tenant
from agora.voting import quorum, tiebreak
from agora.voting.ballots import (
    OPTION_METHODS,
    parse_payload,
)
from agora.voting.ballots import Vote as CountedVote
from agora.voting.methods import Result, tally


def quorum_fallback() -> str:
    """What a commune offers when a decisive ballot misses its quorum."""
    return str(_("reconvene the body within 30 days; the vote stands as indicative"))


def quorum_reason(reason: dict[str, Any]) -> str:
    """A missed quorum condition, in the reader's language."""
    messages = {
        "min_present": _("%(present)d present, %(required)d required", **reason),
        "min_drawn_present": _(
            "%(present)d drawn residents present, %(required)d required", **reason
        ),
        "min_share_of_members": _("%(present)d members present, %(required)d required", **reason),
    }
    return str(messages[reason["code"]])


@dataclass(frozen=True)
class NewOption:
    label: str
    subject_id: int | None = None
    proposal_id: int | None = None


def options_of(session: DbSession, ballot: Ballot) -> list[BallotOption]:
    return list(
        session.execute(
            select(BallotOption)
            .where(BallotOption.tenant_id == ballot.tenant_id, BallotOption.ballot_id == ballot.id)
            .order_by(BallotOption.position)
        ).scalars()
    )


def open_ballot(
    session: DbSession,
    tenant: Tenant,
    rule: DecisionRule,
    assembly_session: AssemblySession,
    body: Body,
    question: str,
    options: list[NewOption],
    actor: str,
    *,
    secret: bool = True,
    runoff_of: Ballot | None = None,
) -> Ballot:
    if assembly_session.status != AssemblySessionStatus.OPEN:
        raise Conflict(_("ballots are opened during an open session"))
    if rule.method in OPTION_METHODS and len(options) < 2:
        raise Invalid(_("a %(method)s ballot needs at least two options", method=rule.method))
    ballot = Ballot(
        tenant_id=tenant.id,
        session_id=assembly_session.id,
        body_id=body.id,
        decision=rule.decision,
        question=question.strip(),
        method=rule.method,
        secret=secret,
        status=BallotStatus.OPEN,
        runoff_of_id=runoff_of.id if runoff_of else None,
    )
    session.add(ballot)
    session.flush()
    for position, option in enumerate(options if rule.method in OPTION_METHODS else [], start=1):
        session.add(
            BallotOption(
                tenant_id=tenant.id,
                ballot_id=ballot.id,
                position=position,
                label=option.label,
                subject_id=option.subject_id,
                proposal_id=option.proposal_id,
            )
        )
    audit.record(
        session,
        tenant,
        actor=actor,
        action="ballot.opened",
        object_type="ballot",
        object_id=ballot.id,
        details={"method": rule.method, "decision": rule.decision},
        public=True,
    )
    session.flush()
    return ballot


def _turnout_context(session: DbSession, ballot: Ballot, body: Body) -> tuple[int, int, int | None]:
    """(present, drawn present, voting members) for the quorum."""
    origins = list(
        session.execute(
            select(CheckIn.origin).where(
                CheckIn.tenant_id == ballot.tenant_id, CheckIn.session_id == ballot.session_id
            )
        ).scalars()
    )
    members = None
    if body.openness != "open_to_public":
        members = session.execute(
            select(func.count()).where(
                Membership.tenant_id == body.tenant_id,
                Membership.body_id == body.id,
                Membership.voting_right.is_(True),
                Membership.status == MembershipStatus.ACTIVE,
            )
        ).scalar_one()
    return len(origins), origins.count("drawn"), members


def _tally(session: DbSession, ballot: Ballot, rule: DecisionRule) -> Result:
    votes = session.execute(
        select(Vote.origin, Vote.payload).where(
            Vote.tenant_id == ballot.tenant_id, Vote.ballot_id == ballot.id
        )
    ).all()
    option_ids = [str(option.id) for option in options_of(session, ballot)]
    return tally(
        ballot.method,
        option_ids,
        [CountedVote(origin, parse_payload(payload)) for origin, payload in votes],
        rule,
    )


def close(
    session: DbSession, tenant: Tenant, ballot: Ballot, body: Body, rule: DecisionRule, actor: str
) -> None:
    """Close the ballot, count it, check the quorum and apply the tie-break chain so far."""
    # Waits for votes being cast (they hold a key-share lock) and makes later ones see it closed.
    session.refresh(ballot, with_for_update=True)
    if ballot.status != BallotStatus.OPEN:
        raise Conflict(_("this ballot is not open"))
    ballot.status = BallotStatus.CLOSED
    ballot.closes_at = utcnow()
    result = _tally(session, ballot, rule)
    present, drawn, members = _turnout_context(session, ballot, body)
    report = quorum.check(rule.quorum, present, drawn, members)
    ballot.result = {
        "tally": result.to_json(),
        "quorum": {
            "met": report.met,
            "present": present,
            "drawn_present": drawn,
            "reasons": [
                {"code": r.code, "present": r.present, "required": r.required}
                for r in report.reasons
            ],
        },
        "resolution": tiebreak.resolve(result, rule.tie_break).to_json(),
    }
    audit.record(
        session,
        tenant,
        actor=actor,
        action="ballot.closed",
        object_type="ballot",
        object_id=ballot.id,
        details={"turnout": result.turnout, "quorum_met": report.met},
        public=True,
    )


def resolve_tie(
    session: DbSession,
    tenant: Tenant,
    ballot: Ballot,
    rule: DecisionRule,
    actor: str,
    *,
    runoff: Ballot | None = None,
    seed: str | None = None,
) -> None:
    """Carry the tie-break chain further with a closed run-off and/or a published seed."""
    if ballot.status != BallotStatus.CLOSED or ballot.result is None:
        raise Conflict(_("only a closed ballot's tie can be broken"))
    runoff_result = None
    if runoff is not None:
        if runoff.status != BallotStatus.CLOSED:
            raise Conflict(_("close the run-off first"))
        # The run-off's options are new rows: name them as the original ballot's options.
        original = {o.label: str(o.id) for o in options_of(session, ballot)}
        names = {str(o.id): original[o.label] for o in options_of(session, runoff)}
        counted = _tally(session, runoff, rule)
        runoff_result = replace(
            counted,
            options=tuple(names[o] for o in counted.options),
            ranking=tuple(tuple(names[o] for o in tier) for tier in counted.ranking),
        )
    result = _tally(session, ballot, rule)
    resolution = tiebreak.resolve(result, rule.tie_break, runoff=runoff_result, seed=seed)
    ballot.result = {**ballot.result, "resolution": resolution.to_json()}
    audit.record(
        session,
        tenant,
        actor=actor,
        action="ballot.tie_break",
        object_type="ballot",
        object_id=ballot.id,
        details={"status": resolution.status, "seed": seed},
        public=True,
    )


def resolution_text(resolution: dict[str, Any], labels: dict[str, str]) -> str:
    """Where the tie-break chain stands, in the reader's language, options by their labels."""
    tied = " / ".join(f"« {labels.get(option, option)} »" for option in resolution["tied"])
    messages = {
        "decided": _("decided: %(option)s", option=labels.get(resolution["winner"] or "", "")),
        "runoff_required": _("a run-off is required between %(options)s", options=tied),
        "lot_required": _(
            "a public draw by lot is required between %(options)s: reveal the seed", options=tied
        ),
        "unresolved": _(
            "the tie between %(options)s remains: refer to the next session", options=tied
        ),
    }
    return str(messages[resolution["status"]])


def certify(
    session: DbSession, tenant: Tenant, ballot: Ballot, body: Body, actor: str
) -> str | None:
    """Certify the decision; returns the winning option id (``None`` for a motion)."""
    if "decide" not in body.powers:
        raise Forbidden(
            _("the %(body)s has no decision power: it cannot certify a vote", body=body.name)
        )
    if ballot.status != BallotStatus.CLOSED or ballot.result is None:
        raise Conflict(_("only a closed ballot can be certified"))
    report = ballot.result["quorum"]
    if not report["met"]:
        raise Conflict(
            _(
                "quorum not met (%(reasons)s): this ballot cannot be certified. "
                "Fallback: %(fallback)s",
                reasons="; ".join(quorum_reason(reason) for reason in report["reasons"]),
                fallback=quorum_fallback(),
            )
        )
    resolution = ballot.result["resolution"]
    if resolution["status"] != "decided":
        labels = {str(o.id): o.label for o in options_of(session, ballot)}
        raise Conflict(_("no decision yet: %(detail)s", detail=resolution_text(resolution, labels)))
    ballot.status = BallotStatus.CERTIFIED
    audit.record(
        session,
        tenant,
        actor=actor,
        action="ballot.certified",
        object_type="ballot",
        object_id=ballot.id,
        details={"winner": resolution["winner"], "adopted": ballot.result["tally"]["adopted"]},
        public=True,
    )
    winner: str | None = resolution["winner"]
    return winner


def mark_not_decided(session: DbSession, tenant: Tenant, ballot: Ballot, actor: str) -> None:
    """Record that the ballot decided nothing (quorum missed): it stands as indicative."""
    if (
        ballot.status != BallotStatus.CLOSED
        or ballot.result is None
        or ballot.result["quorum"]["met"]
    ):
        raise Conflict(_("only a closed ballot that missed its quorum is recorded as not decided"))
    ballot.status = BallotStatus.NOT_DECIDED
    audit.record(
        session,
        tenant,
        actor=actor,
        action="ballot.not_decided",
        object_type="ballot",
        object_id=ballot.id,
        details={"fallback": "reconvene"},
        public=True,
    )
