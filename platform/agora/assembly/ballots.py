"""Ballots in the database, counted by the pure engine in :mod:`agora.voting`; votes are
cast through :mod:`agora.assembly.casting`."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any, NamedTuple

from flask_babel import format_percent, ngettext
from flask_babel import gettext as _
from sqlalchemy import func, select

from agora.assembly import sessions
from agora.assembly.models import (
    AssemblySession,
    AssemblySessionStatus,
    Ballot,
    BallotOption,
    BallotStatus,
    Body,
    CheckIn,
    Edition,
    Membership,
    MembershipStatus,
    Vote,
)
from agora.audit import services as audit
from agora.db import DbSession, utcnow
from agora.errors import Conflict, Forbidden, Invalid
from agora.plugins.contracts import DecisionRule
from agora.shared.labels import METHODS, fraction_words
from agora.tenancy.models import Tenant
from agora.voting import quorum, tiebreak
from agora.voting.ballots import (
    OPTION_METHODS,
    parse_payload,
)
from agora.voting.ballots import Vote as CountedVote
from agora.voting.methods import Result, tally
from agora.voting.quorum import QuorumCode
from agora.voting.tiebreak import Resolution, StepRecord


class QuorumShortfall(NamedTuple):
    """A quorum condition the ballot missed: ``present`` people where ``required`` were."""

    code: QuorumCode
    present: int
    required: int


@dataclass(frozen=True)
class QuorumCount:
    """The quorum as checked when the ballot closed: attendance and what it missed."""

    met: bool
    present: int
    drawn_present: int
    reasons: tuple[QuorumShortfall, ...]
    #: The body's voting members (``None`` for a body open to all present, or a result
    #: stored before it was recorded).
    members: int | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "met": self.met,
            "present": self.present,
            "drawn_present": self.drawn_present,
            "reasons": [reason._asdict() for reason in self.reasons],
            "members": self.members,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> QuorumCount:
        return cls(
            met=data["met"],
            present=data["present"],
            drawn_present=data["drawn_present"],
            reasons=tuple(
                QuorumShortfall(r["code"], r["present"], r["required"]) for r in data["reasons"]
            ),
            members=data.get("members"),
        )


@dataclass(frozen=True)
class BallotResult:
    """A closed ballot's result, as stored in ``Ballot.result`` and published: the engine's
    count, the quorum, and where the tie-break chain stands."""

    tally: Result
    quorum: QuorumCount
    resolution: Resolution

    def to_json(self) -> dict[str, Any]:
        return {
            "tally": self.tally.to_json(),
            "quorum": self.quorum.to_json(),
            "resolution": self.resolution.to_json(),
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> BallotResult:
        return cls(
            tally=Result.from_json(data["tally"]),
            quorum=QuorumCount.from_json(data["quorum"]),
            resolution=Resolution.from_json(data["resolution"]),
        )


def result_of(ballot: Ballot) -> BallotResult | None:
    """The ballot's result, once it is closed."""
    return None if ballot.result is None else BallotResult.from_json(ballot.result)


def quorum_fallback(rule: DecisionRule) -> str:
    """What the commune's rule offers when a decisive ballot misses its quorum."""
    return str(
        ngettext(
            "reconvene the body within %(num)d day; the vote stands as indicative",
            "reconvene the body within %(num)d days; the vote stands as indicative",
            rule.reconvene_within_days,
        )
    )


def quorum_reason(reason: QuorumShortfall) -> str:
    """A missed quorum condition, in the reader's language."""
    values = reason._asdict()
    present = int(values["present"])
    messages = {
        "min_present": ngettext(
            "%(present)d person present, %(required)d required",
            "%(present)d people present, %(required)d required",
            present,
            **values,
        ),
        "min_drawn_present": ngettext(
            "%(present)d drawn resident present, %(required)d required",
            "%(present)d drawn residents present, %(required)d required",
            present,
            **values,
        ),
        "min_share_of_members": ngettext(
            "%(present)d member present, %(required)d required",
            "%(present)d members present, %(required)d required",
            present,
            **values,
        ),
    }
    return str(messages[reason.code])


# --- what a result's figures mean, in words ----------------------------------------------


def turnout_text(result: BallotResult) -> str:
    """Who voted, out of whom: ``45 personnes ont voté, sur 45 présentes avec le droit de
    vote.``"""
    count = result.quorum
    voted = ngettext("%(num)d person voted", "%(num)d people voted", result.tally.turnout)
    if count.members is None:
        among = ngettext(
            "out of %(num)d person present with a right to vote.",
            "out of %(num)d people present with a right to vote.",
            count.present,
        )
    else:
        among = ngettext(
            "out of %(num)d member present with a right to vote",
            "out of %(num)d members present with a right to vote",
            count.present,
        ) + ngettext(
            " (the body has %(num)d voting member).",
            " (the body has %(num)d voting members).",
            count.members,
        )
    return f"{voted}, {among}"


def quorum_text(result: BallotResult, rule: DecisionRule | None) -> str:
    """The quorum met, with what it asked and what there was."""
    count, asked = result.quorum, rule.quorum if rule is not None else None
    if asked is None:
        return str(_("Quorum met."))
    parts = []
    if asked.min_present:
        parts.append(
            ngettext(
                "at least %(num)d person present (there were %(present)d)",
                "at least %(num)d people present (there were %(present)d)",
                asked.min_present,
                present=count.present,
            )
        )
    if asked.min_drawn_present:
        parts.append(
            ngettext(
                "of whom at least %(num)d drawn resident (there were %(present)d)",
                "of whom at least %(num)d drawn residents (there were %(present)d)",
                asked.min_drawn_present,
                present=count.drawn_present,
            )
        )
    if asked.min_share_of_members and count.members is not None:
        needed = math.ceil(asked.min_share_of_members * count.members)
        parts.append(
            ngettext(
                "the presence of %(share)s of the %(members)d members, that is %(num)d "
                "(there were %(present)d)",
                "the presence of %(share)s of the %(members)d members, that is %(num)d "
                "(there were %(present)d)",
                needed,
                share=fraction_words(asked.min_share_of_members),
                members=count.members,
                present=count.present,
            )
        )
    if not parts:
        return str(_("No quorum is required for this decision."))
    return str(_("Quorum met: %(conditions)s.", conditions=", ".join(parts)))


def motion_text(result: BallotResult, rule: DecisionRule | None) -> str:
    """A motion's count and what it needed: ``34 voix pour sur 44 suffrages exprimés (77 %) ;
    il en fallait au moins les deux tiers (67 %).``"""
    tally = result.tally
    counts = tally.totals.counts
    votes_for, against, abstain = counts["for"], counts["against"], counts["abstain"]
    cast = votes_for + against
    counted_abstentions = (
        rule is not None and rule.count_abstentions and tally.method != "simple_majority"
    )
    if counted_abstentions:
        cast += abstain
    figures = " ".join(
        (
            ngettext("%(num)d vote for,", "%(num)d votes for,", votes_for),
            ngettext("%(num)d against,", "%(num)d against,", against),
            ngettext("%(num)d abstention.", "%(num)d abstentions.", abstain),
        )
    )
    if tally.support is None or tally.required is None or not cast:
        return figures
    kind = (
        _("votes cast (for, against and abstentions)")
        if counted_abstentions
        else _("votes cast (for and against; abstentions do not count)")
    )
    share = _(
        "Votes for: %(num)d of the %(cast)d %(kind)s, that is %(percent)s;",
        num=votes_for,
        cast=cast,
        kind=kind,
        percent=format_percent(float(tally.support)),
    )
    if tally.method == "qualified_majority":
        needed = _(
            "at least %(share)s were needed (%(percent)s).",
            share=fraction_words(tally.required),
            percent=format_percent(float(tally.required)),
        )
    else:
        needed = _("more than half were needed.")
    return f"{figures} {share} {needed}"


def approvals_text(result: BallotResult, option: str) -> str:
    """``approuvée par 96 des 120 votant·es``."""
    return str(
        ngettext(
            "approved by %(num)d of the %(voters)d voters",
            "approved by %(num)d of the %(voters)d voters",
            result.tally.totals.counts[option],
            voters=result.tally.turnout,
        )
    )


def method_help(method: str) -> str:
    """How the method decides, in one sentence, under the results it explains."""
    texts = {
        "majority_judgment": _(
            "Each voter gives every option a grade; an option's majority grade is the one "
            "at least half the voters gave it or better. The option with the best majority "
            "grade wins."
        ),
        "approval": _(
            "Each voter approves as many options as they wish; the option approved by the "
            "most voters wins."
        ),
    }
    return str(texts.get(method, ""))


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


def ballots_of(session: DbSession, edition: Edition) -> list[Ballot]:
    """The edition's ballots, in the order they were opened."""
    session_ids = [s.id for s in sessions.sessions_of(session, edition)]
    if not session_ids:
        return []
    return list(
        session.execute(
            select(Ballot)
            .where(Ballot.tenant_id == edition.tenant_id, Ballot.session_id.in_(session_ids))
            .order_by(Ballot.created_at)
        ).scalars()
    )


def ballots_of_session(session: DbSession, row: AssemblySession) -> list[Ballot]:
    return list(
        session.execute(
            select(Ballot).where(Ballot.tenant_id == row.tenant_id, Ballot.session_id == row.id)
        ).scalars()
    )


def runoff_of(session: DbSession, ballot: Ballot) -> Ballot | None:
    """The run-off opened to break ``ballot``'s tie, if any."""
    return (
        session.execute(
            select(Ballot).where(
                Ballot.tenant_id == ballot.tenant_id, Ballot.runoff_of_id == ballot.id
            )
        )
        .scalars()
        .first()
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
        raise Invalid(
            _("a ballot by %(method)s needs at least two options", method=METHODS[rule.method])
        )
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


def open_runoff(
    session: DbSession,
    tenant: Tenant,
    ballot: Ballot,
    body: Body,
    rule: DecisionRule,
    actor: str,
) -> Ballot:
    """The run-off between the options ``ballot``'s tie-break chain found tied, in the same
    session and body, as secret as the ballot."""
    result = result_of(ballot)
    if result is None or result.resolution.status != "runoff_required":
        raise Invalid(_("this ballot does not call for a run-off"))
    tied = set(result.resolution.tied)
    options = [
        NewOption(o.label, o.subject_id, o.proposal_id)
        for o in options_of(session, ballot)
        if str(o.id) in tied
    ]
    held_in = session.get(AssemblySession, (ballot.tenant_id, ballot.session_id))
    assert held_in is not None  # a ballot belongs to a session of the same commune (FK)
    return open_ballot(
        session,
        tenant,
        rule,
        held_in,
        body,
        f"Second tour — {ballot.question}",
        options,
        actor,
        secret=ballot.secret,
        runoff_of=ballot,
    )


def _turnout_context(session: DbSession, ballot: Ballot, body: Body) -> tuple[int, int, int | None]:
    """(present, drawn present, voting members) for the quorum. Drawn residents present are
    those checked in from the roster as drawn members: a walk-in, who has no membership, never
    counts as drawn, whatever was declared."""
    present = session.execute(
        select(CheckIn.origin, CheckIn.membership_id).where(
            CheckIn.tenant_id == ballot.tenant_id, CheckIn.session_id == ballot.session_id
        )
    ).all()
    drawn = sum(1 for origin, membership in present if origin == "drawn" and membership)
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
    return len(present), drawn, members


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
        count_abstentions=rule.count_abstentions,
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
    ballot.result = BallotResult(
        tally=result,
        quorum=QuorumCount(
            met=report.met,
            present=present,
            drawn_present=drawn,
            reasons=tuple(QuorumShortfall(r.code, r.present, r.required) for r in report.reasons),
            members=members,
        ),
        resolution=tiebreak.resolve(result, rule.tie_break),
    ).to_json()
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
    stored = result_of(ballot)
    if ballot.status != BallotStatus.CLOSED or stored is None:
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
    ballot.result = replace(stored, resolution=resolution).to_json()
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


def resolution_text(resolution: Resolution, labels: dict[str, str]) -> str:
    """Where the tie-break chain stands, in the reader's language, options by their labels."""
    tied = " / ".join(f"« {labels.get(option, option)} »" for option in resolution.tied)
    messages = {
        "decided": _("decided: %(option)s", option=labels.get(resolution.winner or "", "")),
        "runoff_required": _("a run-off is required between %(options)s", options=tied),
        "lot_required": _(
            "a public draw by lot is required between %(options)s: reveal the seed", options=tied
        ),
        "unresolved": _(
            "the tie between %(options)s remains: refer to the next session", options=tied
        ),
    }
    return str(messages[resolution.status])


def step_text(step: StepRecord, labels: dict[str, str]) -> str:
    """One applied step of the tie-break chain, in the reader's language (its stored
    ``message`` is the engine's English, kept for the record)."""
    text: Any
    tied = " / ".join(f"« {labels.get(option, option)} »" for option in step.tied)
    winner = labels.get(step.winner or "", step.winner or "")
    if step.step == "method":
        if step.outcome == "still_tied":
            text = _(
                "the majority judgment's own rule (removing the median grades one at a time) "
                "leaves %(options)s tied: their grades are distributed identically",
                options=tied,
            )
        else:
            text = _("the voting method has no tie-break rule of its own")
        return str(text)
    if step.step == "runoff":
        if step.outcome == "decided":
            text = _(
                "the run-off between %(options)s chose %(option)s", options=tied, option=winner
            )
        else:
            text = _("the run-off between %(options)s left them tied", options=tied)
        return str(text)
    if step.step == "lot" and step.lot is not None:
        text = _(
            "public draw by lot between %(options)s: the fingerprint (SHA-256) of "
            "“%(text)s” is %(digest)s; its remainder divided by %(count)d is %(index)d, "
            "which designates %(option)s",
            options=tied,
            text=step.lot.text,
            digest=step.lot.digest,
            count=len(step.lot.candidates),
            index=step.lot.index,
            option=winner,
        )
        return str(text)
    return step.message


def certify(
    session: DbSession,
    tenant: Tenant,
    ballot: Ballot,
    body: Body,
    rule: DecisionRule,
    actor: str,
) -> BallotResult:
    """Certify the decision; returns the certified result (its resolution names the winning
    option; ``None`` for a motion, whose tally says whether it was adopted)."""
    if "decide" not in body.powers:
        raise Forbidden(
            _("the %(body)s has no decision power: it cannot certify a vote", body=body.name)
        )
    result = result_of(ballot)
    if ballot.status != BallotStatus.CLOSED or result is None:
        raise Conflict(_("only a closed ballot can be certified"))
    if not result.quorum.met:
        raise Conflict(
            _(
                "quorum not met (%(reasons)s): this ballot cannot be certified. "
                "Fallback: %(fallback)s",
                reasons="; ".join(quorum_reason(reason) for reason in result.quorum.reasons),
                fallback=quorum_fallback(rule),
            )
        )
    resolution = result.resolution
    if resolution.status != "decided":
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
        details={"winner": resolution.winner, "adopted": result.tally.adopted},
        public=True,
    )
    return result


def mark_not_decided(session: DbSession, tenant: Tenant, ballot: Ballot, actor: str) -> None:
    """Record that the ballot decided nothing (quorum missed): it stands as indicative."""
    result = result_of(ballot)
    if ballot.status != BallotStatus.CLOSED or result is None or result.quorum.met:
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
