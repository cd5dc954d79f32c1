"""Tenant-owned records of an assembly. Every reference between them is a composite
``(tenant_id, id)`` foreign key (``db.tenant_fk``)."""

from __future__ import annotations

import enum
from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from agora.db import (
    Base,
    TenantEntity,
    TenantOwned,
    UtcDateTime,
    new_random_id,
    str_enum,
    tenant_fk,
    utcnow,
)


class EditionStatus(enum.StrEnum):
    PLANNED = "planned"
    SUBJECT_CALL = "subject_call"
    SUBJECT_SELECTED = "subject_selected"
    DELIBERATING = "deliberating"
    PLAN_ADOPTED = "plan_adopted"
    TRANSMITTED = "transmitted"
    COUNCIL_DECIDED = "council_decided"
    FOLLOW_UP = "follow_up"
    CLOSED = "closed"


class Edition(TenantEntity, Base):
    """One subject-year of the assembly, pinned to the configuration version it started with."""

    __tablename__ = "edition"
    __table_args__ = (UniqueConstraint("tenant_id", "year"),)

    year: Mapped[int] = mapped_column(Integer)
    title: Mapped[str] = mapped_column(String(300))
    config_version: Mapped[int] = mapped_column(Integer)
    status: Mapped[EditionStatus] = mapped_column(str_enum(EditionStatus))


class BodyStatus(enum.StrEnum):
    TO_COMPOSE = "to_compose"
    INSTALLED = "installed"
    DISSOLVED = "dissolved"


class Body(TenantEntity, Base):
    """A group with powers: plenary, proposal group, methodology committee… It belongs to an
    edition, or to the support programme (the prefiguration group, before any edition)."""

    __tablename__ = "body"
    __table_args__ = (
        tenant_fk("edition_id", "edition"),
        tenant_fk("programme_id", "programme"),
        CheckConstraint(
            "(edition_id IS NULL) <> (programme_id IS NULL)", name="edition_or_programme"
        ),
    )

    edition_id: Mapped[int | None] = mapped_column(BigInteger)
    programme_id: Mapped[int | None] = mapped_column(BigInteger)
    key: Mapped[str] = mapped_column(String(60))
    kind: Mapped[str] = mapped_column(String(60))
    name: Mapped[str] = mapped_column(String(200))
    powers: Mapped[list[str]] = mapped_column(JSON)
    openness: Mapped[str] = mapped_column(String(20))
    status: Mapped[BodyStatus] = mapped_column(str_enum(BodyStatus), default=BodyStatus.TO_COMPOSE)
    installed_at: Mapped[datetime | None] = mapped_column(UtcDateTime())


class MembershipStatus(enum.StrEnum):
    INVITED = "invited"
    ACCEPTED = "accepted"
    ACTIVE = "active"
    ENDED = "ended"


class Membership(TenantEntity, Base):
    __tablename__ = "membership"
    __table_args__ = (
        tenant_fk("body_id", "body", ondelete="CASCADE"),
        tenant_fk("person_id", "person"),
        tenant_fk("replaced_by_id", "membership"),
        # One current membership per person and body: every membership check counts on it.
        Index(
            "uq_membership_current",
            "tenant_id",
            "body_id",
            "person_id",
            unique=True,
            postgresql_where=text("status <> 'ended'"),
            sqlite_where=text("status <> 'ended'"),
        ),
    )

    body_id: Mapped[int] = mapped_column(BigInteger)
    person_id: Mapped[int] = mapped_column(BigInteger)
    origin: Mapped[str] = mapped_column(String(40))
    #: For a drawn member, the draw source (``address_file``, ``electoral_roll``…) they were
    #: drawn from.
    source: Mapped[str] = mapped_column(String(40), default="")
    voting_right: Mapped[bool] = mapped_column(Boolean, default=True)
    status: Mapped[MembershipStatus] = mapped_column(str_enum(MembershipStatus))
    replaced_by_id: Mapped[int | None] = mapped_column(BigInteger)
    ended_at: Mapped[datetime | None] = mapped_column(UtcDateTime())


class CharterStatus(enum.StrEnum):
    DRAFT = "draft"
    VALIDATED = "validated"
    ADOPTED = "adopted"
    IN_FORCE = "in_force"
    SUPERSEDED = "superseded"


class CharterVersion(TenantEntity, Base):
    """A version of the règlement intérieur, rendered from the charter-template plugin."""

    __tablename__ = "charter_version"
    __table_args__ = (UniqueConstraint("tenant_id", "number"),)

    number: Mapped[int] = mapped_column(Integer)
    title: Mapped[str] = mapped_column(String(300))
    #: [{"key", "title", "text"}] as rendered with the configuration below.
    clauses: Mapped[list[dict[str, str]]] = mapped_column(JSON)
    template_key: Mapped[str] = mapped_column(String(100))
    config_version: Mapped[int] = mapped_column(Integer)
    status: Mapped[CharterStatus] = mapped_column(str_enum(CharterStatus))
    validated_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    adopted_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    council_reference: Mapped[str] = mapped_column(String(100), default="")
    in_force_at: Mapped[datetime | None] = mapped_column(UtcDateTime())


class SubjectStatus(enum.StrEnum):
    SUBMITTED = "submitted"
    ADMISSIBLE = "admissible"
    INADMISSIBLE = "inadmissible"
    SELECTED = "selected"
    NOT_SELECTED = "not_selected"


class Subject(TenantEntity, Base):
    __tablename__ = "subject"
    __table_args__ = (tenant_fk("edition_id", "edition", ondelete="CASCADE"),)

    edition_id: Mapped[int] = mapped_column(BigInteger)
    title: Mapped[str] = mapped_column(String(300))
    description: Mapped[str] = mapped_column(Text)
    submitted_by: Mapped[str] = mapped_column(String(200))
    status: Mapped[SubjectStatus] = mapped_column(str_enum(SubjectStatus))
    general_interest: Mapped[bool | None] = mapped_column(Boolean)
    municipal_competence: Mapped[bool | None] = mapped_column(Boolean)
    budget_sustainable: Mapped[bool | None] = mapped_column(Boolean)
    #: Public when the subject is inadmissible.
    reason: Mapped[str] = mapped_column(Text, default="")


class AssemblySessionStatus(enum.StrEnum):
    PLANNED = "planned"
    OPEN = "open"
    CLOSED = "closed"


class AssemblySession(TenantEntity, Base):
    __tablename__ = "assembly_session"
    __table_args__ = (
        tenant_fk("edition_id", "edition", ondelete="CASCADE"),
        tenant_fk("body_id", "body"),
    )

    edition_id: Mapped[int] = mapped_column(BigInteger)
    body_id: Mapped[int] = mapped_column(BigInteger)
    number: Mapped[int] = mapped_column(Integer)
    title: Mapped[str] = mapped_column(String(300))
    starts_at: Mapped[datetime] = mapped_column(UtcDateTime())
    venue: Mapped[str] = mapped_column(String(300), default="")
    agenda: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[AssemblySessionStatus] = mapped_column(
        str_enum(AssemblySessionStatus), default=AssemblySessionStatus.PLANNED
    )


class CheckIn(TenantEntity, Base):
    """Someone present at a session: in an open session, everyone checked in may vote.

    A person on the session's roster is checked in with the membership they are on it by,
    whose origin is copied here; a walk-in has no membership and is always a volunteer. The
    quorum counts drawn residents present from check-ins with a membership only.
    """

    __tablename__ = "check_in"
    __table_args__ = (
        tenant_fk("session_id", "assembly_session", ondelete="CASCADE"),
        tenant_fk("person_id", "person"),
        tenant_fk("membership_id", "membership"),
        UniqueConstraint("tenant_id", "session_id", "person_id"),
        UniqueConstraint("tenant_id", "session_id", "voting_code_hash"),
    )

    session_id: Mapped[int] = mapped_column(BigInteger)
    person_id: Mapped[int] = mapped_column(BigInteger)
    #: The roster entry the person was checked in from; ``None`` for a walk-in volunteer.
    membership_id: Mapped[int | None] = mapped_column(BigInteger)
    origin: Mapped[str] = mapped_column(String(40))
    #: SHA-256 of the voting code handed to the person (the code itself is never stored).
    voting_code_hash: Mapped[str] = mapped_column(String(64))
    checked_in_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)


class VotingCard(TenantEntity, Base):
    """A printed voting card of a person on a session's roster: only its code's hash is kept.

    Printing the cards again gives everyone a new code (``code_hash`` replaced), so a card
    printed before no longer works. Checking in with the card makes its code the check-in's.
    """

    __tablename__ = "voting_card"
    __table_args__ = (
        tenant_fk("session_id", "assembly_session", ondelete="CASCADE"),
        tenant_fk("person_id", "person"),
        UniqueConstraint("tenant_id", "session_id", "person_id"),
        UniqueConstraint("tenant_id", "session_id", "code_hash"),
    )

    session_id: Mapped[int] = mapped_column(BigInteger)
    person_id: Mapped[int] = mapped_column(BigInteger)
    #: SHA-256 of the code printed on the card.
    code_hash: Mapped[str] = mapped_column(String(64))
    printed_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)


class ProposalStatus(enum.StrEnum):
    DRAFT = "draft"
    IN_FEASIBILITY_REVIEW = "in_feasibility_review"
    FINAL = "final"
    ADOPTED = "adopted"
    REJECTED = "rejected"


class Proposal(TenantEntity, Base):
    __tablename__ = "proposal"
    __table_args__ = (
        tenant_fk("edition_id", "edition", ondelete="CASCADE"),
        tenant_fk("body_id", "body"),
    )

    edition_id: Mapped[int] = mapped_column(BigInteger)
    #: The authoring body: only its members edit the text.
    body_id: Mapped[int] = mapped_column(BigInteger)
    position: Mapped[int] = mapped_column(Integer)
    title: Mapped[str] = mapped_column(String(300))
    text: Mapped[str] = mapped_column(Text)
    budget_eur: Mapped[int | None] = mapped_column(Integer)
    status: Mapped[ProposalStatus] = mapped_column(str_enum(ProposalStatus))
    revision: Mapped[int] = mapped_column(Integer, default=1)


class FeasibilityNote(TenantEntity, Base):
    """An agent's annotation: agents annotate, only authors edit the text."""

    __tablename__ = "feasibility_note"
    __table_args__ = (tenant_fk("proposal_id", "proposal", ondelete="CASCADE"),)

    proposal_id: Mapped[int] = mapped_column(BigInteger)
    author: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(20))
    verdict: Mapped[str] = mapped_column(String(40))
    rationale: Mapped[str] = mapped_column(Text)


class AmendmentStatus(enum.StrEnum):
    TABLED = "tabled"
    ACCEPTED_BY_AUTHORS = "accepted_by_authors"
    REJECTED = "rejected"


class Amendment(TenantEntity, Base):
    """A change to a proposal's text, tabled by a participant; only the authors decide."""

    __tablename__ = "amendment"
    __table_args__ = (
        tenant_fk("proposal_id", "proposal", ondelete="CASCADE"),
        tenant_fk("person_id", "person"),
    )

    proposal_id: Mapped[int] = mapped_column(BigInteger)
    person_id: Mapped[int] = mapped_column(BigInteger)
    author: Mapped[str] = mapped_column(String(200))
    #: The proposal's revision the amendment was written against, and the text it proposes.
    base_revision: Mapped[int] = mapped_column(Integer)
    base_text: Mapped[str] = mapped_column(Text)
    text: Mapped[str] = mapped_column(Text)
    rationale: Mapped[str] = mapped_column(Text)
    status: Mapped[AmendmentStatus] = mapped_column(
        str_enum(AmendmentStatus), default=AmendmentStatus.TABLED
    )
    #: The authors' reason when they reject it (public, like the amendment).
    decision_reason: Mapped[str] = mapped_column(Text, default="")
    decided_at: Mapped[datetime | None] = mapped_column(UtcDateTime())


class BallotStatus(enum.StrEnum):
    OPEN = "open"
    CLOSED = "closed"
    CERTIFIED = "certified"
    NOT_DECIDED = "not_decided"


class Ballot(TenantEntity, Base):
    __tablename__ = "ballot"
    __table_args__ = (
        tenant_fk("session_id", "assembly_session", ondelete="CASCADE"),
        tenant_fk("body_id", "body"),
        tenant_fk("runoff_of_id", "ballot"),
    )

    session_id: Mapped[int] = mapped_column(BigInteger)
    body_id: Mapped[int] = mapped_column(BigInteger)
    decision: Mapped[str] = mapped_column(String(60))
    question: Mapped[str] = mapped_column(String(500))
    method: Mapped[str] = mapped_column(String(40))
    secret: Mapped[bool] = mapped_column(Boolean, default=True)
    status: Mapped[BallotStatus] = mapped_column(str_enum(BallotStatus))
    closes_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    runoff_of_id: Mapped[int | None] = mapped_column(BigInteger)
    #: The tally, quorum report and tie-break record, as published.
    result: Mapped[dict[str, Any] | None] = mapped_column(JSON)


class BallotOption(TenantEntity, Base):
    __tablename__ = "ballot_option"
    __table_args__ = (tenant_fk("ballot_id", "ballot", ondelete="CASCADE"),)

    ballot_id: Mapped[int] = mapped_column(BigInteger)
    position: Mapped[int] = mapped_column(Integer)
    label: Mapped[str] = mapped_column(String(300))
    subject_id: Mapped[int | None] = mapped_column(BigInteger)
    proposal_id: Mapped[int | None] = mapped_column(BigInteger)


class BallotVoter(TenantOwned, Base):
    """Who has voted on a ballot: one row per person, which makes a second vote impossible.

    Ids are random and there is no time column, so a secret vote cannot be matched to its
    voter by order.
    """

    __tablename__ = "ballot_voter"
    references_tenant = False  # reached through the ballot: see TenantOwned
    __table_args__ = (
        tenant_fk("ballot_id", "ballot", ondelete="CASCADE"),
        tenant_fk("person_id", "person"),
    )

    ballot_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, sort_order=-10)
    person_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, sort_order=-9)


class Vote(TenantOwned, Base):
    """A vote's content. For a secret ballot, no person: only the voter's origin."""

    __tablename__ = "vote"
    references_tenant = False  # reached through the ballot: see TenantOwned
    __table_args__ = (
        tenant_fk("ballot_id", "ballot", ondelete="CASCADE"),
        tenant_fk("person_id", "person"),
    )

    id: Mapped[int] = mapped_column(
        BigInteger, primary_key=True, default=new_random_id, sort_order=-10
    )
    ballot_id: Mapped[int] = mapped_column(BigInteger)
    person_id: Mapped[int | None] = mapped_column(BigInteger)
    origin: Mapped[str] = mapped_column(String(40))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)


class PlanStatus(enum.StrEnum):
    DRAFT = "draft"
    ADOPTED = "adopted"
    TRANSMITTED = "transmitted"
    COUNCIL_DECIDED = "council_decided"


class ActionPlan(TenantEntity, Base):
    __tablename__ = "action_plan"
    __table_args__ = (
        tenant_fk("edition_id", "edition", ondelete="CASCADE"),
        UniqueConstraint("tenant_id", "edition_id"),
    )

    edition_id: Mapped[int] = mapped_column(BigInteger)
    status: Mapped[PlanStatus] = mapped_column(str_enum(PlanStatus))
    adopted_ballot_id: Mapped[int | None] = mapped_column(BigInteger)
    transmitted_at: Mapped[datetime | None] = mapped_column(UtcDateTime())


class MeasureStatus(enum.StrEnum):
    PLANNED = "planned"
    IN_PROGRESS = "in_progress"
    DELAYED = "delayed"
    DONE = "done"
    ABANDONED = "abandoned"


class CouncilResponse(enum.StrEnum):
    ACCEPTED = "accepted"
    MODIFIED = "modified"
    REJECTED = "rejected"
    DEFERRED = "deferred"


class Measure(TenantEntity, Base):
    """One measure of the plan: the assembly's text, the council's answer, its follow-up."""

    __tablename__ = "measure"
    __table_args__ = (tenant_fk("action_plan_id", "action_plan", ondelete="CASCADE"),)

    action_plan_id: Mapped[int] = mapped_column(BigInteger)
    position: Mapped[int] = mapped_column(Integer)
    title: Mapped[str] = mapped_column(String(300))
    text: Mapped[str] = mapped_column(Text)
    budget_eur: Mapped[int | None] = mapped_column(Integer)
    response: Mapped[CouncilResponse | None] = mapped_column(str_enum(CouncilResponse))
    council_text: Mapped[str | None] = mapped_column(Text)
    council_budget_eur: Mapped[int | None] = mapped_column(Integer)
    justification: Mapped[str] = mapped_column(Text, default="")
    owner_service: Mapped[str] = mapped_column(String(200), default="")
    elected_referent: Mapped[str] = mapped_column(String(200), default="")
    status: Mapped[MeasureStatus] = mapped_column(
        str_enum(MeasureStatus), default=MeasureStatus.PLANNED
    )
    status_note: Mapped[str] = mapped_column(Text, default="")
    due_on: Mapped[date | None] = mapped_column(Date)
    status_updated_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    #: When the commune was last told this measure's update is overdue (once per lapse).
    overdue_alerted_at: Mapped[datetime | None] = mapped_column(UtcDateTime())


class Milestone(TenantEntity, Base):
    """A dated step of a measure, announced publicly and marked when it is reached."""

    __tablename__ = "milestone"
    __table_args__ = (tenant_fk("measure_id", "measure", ondelete="CASCADE"),)

    measure_id: Mapped[int] = mapped_column(BigInteger)
    title: Mapped[str] = mapped_column(String(300))
    due_on: Mapped[date] = mapped_column(Date)
    reached_on: Mapped[date | None] = mapped_column(Date)


class CouncilOutcome(enum.StrEnum):
    ADOPTED_AS_IS = "adopted_as_is"
    ADOPTED_WITH_AMENDMENTS = "adopted_with_amendments"
    PARTIALLY_ADOPTED = "partially_adopted"
    REJECTED = "rejected"
    REFERRED_TO_REFERENDUM = "referred_to_local_referendum"
    POSTPONED = "postponed"


class CouncilDeliberation(TenantEntity, Base):
    __tablename__ = "council_deliberation"
    __table_args__ = (
        tenant_fk("action_plan_id", "action_plan", ondelete="CASCADE"),
        UniqueConstraint("tenant_id", "action_plan_id"),
    )

    action_plan_id: Mapped[int] = mapped_column(BigInteger)
    reference: Mapped[str] = mapped_column(String(100))
    session_date: Mapped[date] = mapped_column(Date)
    outcome: Mapped[CouncilOutcome] = mapped_column(str_enum(CouncilOutcome))
    votes_for: Mapped[int] = mapped_column(Integer)
    votes_against: Mapped[int] = mapped_column(Integer)
    abstentions: Mapped[int] = mapped_column(Integer)
    act_url: Mapped[str] = mapped_column(String(500), default="")
