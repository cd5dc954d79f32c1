"""Nested draws: a sub-draw among the drawn members of another body of the same edition (or
support programme) who volunteer — a proposal group « drawn among the volunteers of
the plenary ».

Their source is the application's own (:class:`MembersSource`), not a plugin's: a draw's
members are the same thing in every commune. Its register is not uploaded: it is written
from the members the staff tick as volunteers (their profile is the one their own draw
recorded), then read, stored and drawn as a volunteers' list (nobody is invited at stage 1).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

from flask_babel import gettext as _
from sqlalchemy import select

from agora.assembly.models import Body, Membership
from agora.db import DbSession
from agora.draws.models import Pick, PickStatus, Response
from agora.plugins.contracts import (
    DrawSource,
    RegisterBatch,
    RegisterEntry,
    RegisterFormatError,
    entry_batches,
)
from agora.plugins.manager import TenantHooks

#: A members source is named after its body: ``members_plenary``.
PREFIX = "members_"
#: Members are asked by the means their body uses; none is invited by lot.
CHANNEL = "email"


@dataclass
class MembersSource:
    """The drawn members of the body ``body_id`` who volunteer (a :class:`DrawSource`)."""

    name: str
    label: str
    body_id: int
    channel: str = CHANNEL

    @property
    def columns(self) -> Mapping[str, str]:
        return {"person": "person", "household": "household", "stratum": "stratum"}

    def read_batches(self, path: Path) -> Iterator[RegisterBatch]:
        """The JSON lines :func:`volunteers_file` wrote (a body's members: a few dozen)."""
        return entry_batches(self._entries(path))

    @staticmethod
    def _entries(path: Path) -> Iterator[RegisterEntry]:
        with path.open(encoding="utf-8") as lines:
            for number, line in enumerate(lines, start=1):
                try:
                    row = json.loads(line)
                    yield RegisterEntry(
                        person_key=str(row["person"]),
                        household_key=str(row["household"]),
                        stratum=str(row.get("stratum", "")),
                        attributes=dict(row.get("contact", {})),
                        line=number,
                        features=dict(row.get("features", {})),
                    )
                except (ValueError, KeyError, TypeError) as error:
                    raise RegisterFormatError(
                        f"malformed line: {error}",
                        line=number,
                        code="malformed",
                        params={"detail": str(error)},
                    ) from error


def source_name(body: Body) -> str:
    return f"{PREFIX}{body.key}"[:40]


def _with_drawn_members(session: DbSession, bodies: Iterable[Body]) -> list[Body]:
    """The bodies among ``bodies`` with members a draw seated."""
    wanted = {body.id: body for body in bodies}
    if not wanted:
        return []
    seated = set(
        session.scalars(
            select(Membership.body_id)
            .join(
                Pick,
                (Pick.tenant_id == Membership.tenant_id) & (Pick.membership_id == Membership.id),
            )
            .where(Membership.body_id.in_(wanted), Pick.status == PickStatus.SEATED)
            .distinct()
        )
    )
    return [body for body_id, body in wanted.items() if body_id in seated]


def _source(body: Body) -> MembersSource:
    return MembersSource(
        source_name(body),
        _("the drawn members of “%(body)s” who volunteer", body=body.name),
        body.id,
    )


def members_sources(session: DbSession, body: Body) -> dict[str, MembersSource]:
    """The members sources a draw for ``body`` may read: the other bodies of its edition (or
    programme) whose members a draw seated."""
    same_owner = (
        Body.edition_id == body.edition_id
        if body.edition_id is not None
        else Body.programme_id == body.programme_id
    )
    others = session.scalars(
        select(Body).where(Body.tenant_id == body.tenant_id, same_owner, Body.id != body.id)
    )
    return {source_name(b): _source(b) for b in _with_drawn_members(session, others)}


def any_members_sources(session: DbSession, tenant_id: int) -> dict[str, MembersSource]:
    """Every members source of the commune, by name (for a draw whose body is not chosen
    yet: its design checks the one it names belongs to the body's edition)."""
    bodies = session.scalars(select(Body).where(Body.tenant_id == tenant_id).order_by(Body.id))
    return {source_name(b): _source(b) for b in _with_drawn_members(session, bodies)}


def sources_for(session: DbSession, hooks: TenantHooks, body: Body) -> dict[str, DrawSource]:
    """The sources a draw filling ``body`` reads: the commune's plugins', then its nested ones."""
    return {**hooks.draw_sources(), **members_sources(session, body)}


def drawn_members(session: DbSession, source: MembersSource) -> list[tuple[Membership, Response]]:
    """The active members a draw seated in the source's body, with the answer they were drawn
    from (their profile, their contact), in their order of seating."""
    rows = session.execute(
        select(Membership, Response)
        .join(
            Pick, (Pick.tenant_id == Membership.tenant_id) & (Pick.membership_id == Membership.id)
        )
        .join(Response, (Response.tenant_id == Pick.tenant_id) & (Response.id == Pick.response_id))
        .where(
            Membership.body_id == source.body_id,
            Membership.ended_at.is_(None),
            Pick.status == PickStatus.SEATED,
        )
        .order_by(Membership.id)
    ).all()
    return [(membership, response) for membership, response in rows]


def volunteers_file(members: Iterable[tuple[Membership, Response]]) -> bytes:
    """The register of the volunteers among ``members``: one JSON line each, with the
    profile their own draw recorded."""
    lines = [
        json.dumps(
            {
                "person": response.person_hash,
                "household": response.household_hash or response.person_hash,
                "features": dict(response.features),
                "contact": dict(response.contact),
            },
            ensure_ascii=False,
            sort_keys=True,
        )
        for _membership, response in members
    ]
    return "".join(f"{line}\n" for line in lines).encode("utf-8")
