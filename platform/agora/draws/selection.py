"""Stage 2: the lottery over the closed pool, its reveal into a panel and an ordered reserve,
confirmations, seating the members in the body, and replacements keeping the quotas.

Each sub-draw's pool and quotas (``draws.pool``) go to the engine: the fairest lottery of
its algorithm (LEXIMIN by default) over panels meeting the quotas, one seat per household,
committed (``agora_sortition.audit.commit``) to a future drand round before that round is
out. Once out, its randomness picks the panel and orders the reserve
(``audit.reveal``); replacements are appended to the same record, so the public export keeps
verifying with ``python -m agora.sortition verify``. ``draw.record`` holds the engine record of
each sub-draw, by its id.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import select

from agora.assembly import bodies
from agora.assembly.models import Body, BodyStatus, Membership, MembershipStatus
from agora.audit import services as audit
from agora.db import DbSession, utcnow
from agora.draws import beacons, feasibility, pool, services
from agora.draws.models import (
    Deviation,
    Draw,
    DrawStatus,
    Pick,
    PickRole,
    PickStatus,
    Response,
    SubDraw,
)
from agora.errors import Conflict, Invalid
from agora.plugins.manager import TenantHooks
from agora.sortition import InfeasibleQuotas, build_lottery, compile_instance
from agora.tenancy.models import Tenant
from agora_sortition import audit as records
from agora_sortition.rounding import AUTO

#: Told how many sub-draws are done, out of how many.
Progress = Callable[[int, int], None]
#: The origin of a drawn member (``assembly`` origins).
DRAWN = "drawn"
QUOTA_GAP = "quota_gap"


def _lottery_algorithm(draw: Draw) -> str:
    if draw.algorithm not in ("leximin", "maximin"):
        raise Invalid(
            _("Stage 2 in the application draws by LEXIMIN or MAXIMIN: change the algorithm.")
        )
    return draw.algorithm


def run_lottery(
    session: DbSession,
    tenant: Tenant,
    hooks: TenantHooks,
    draw: Draw,
    *,
    actor: str,
    progress: Progress | None = None,
) -> Draw:
    """Compute and commit each sub-draw's lottery, naming the future drand round that will
    pick the panel; keep every volunteer's probability. Refused, with nothing stored, while a
    quota cannot be met."""
    if draw.status != DrawStatus.POOL_CLOSED:
        services.advance(session, tenant, draw, DrawStatus.LOTTERY_COMMITTED, actor=actor)
    algorithm = _lottery_algorithm(draw)
    criteria = hooks.quota_criteria()
    parts = services.sub_draws(session, draw)
    future = beacons.next_round()
    committed: dict[str, Any] = {}
    for done, part in enumerate(parts):
        responses = pool.pool_responses(session, part)
        people = pool.pool_of(criteria, part, responses)
        quotas = pool.sub_draw_quotas(session, criteria, part)
        try:
            # The engine checks feasibility first: no second solve here.
            lottery = build_lottery(
                compile_instance(people, quotas, part.seats, households=True), algorithm, AUTO
            )[1]
        except InfeasibleQuotas:
            found = feasibility.problems(session, hooks, draw)
            raise Invalid(
                _(
                    "The pool cannot meet the quotas: %(problems)s. Relax a quota (a public "
                    "deviation) before stage 2.",
                    problems="; ".join(p.message for p in found),
                )
            ) from None
        record = records.commit(
            people,
            quotas,
            panel_size=part.seats,
            households=True,
            algorithm=algorithm,
            lottery=lottery.panels,
            probabilities=lottery.exact,
            max_deviation=lottery.max_deviation,
            tolerance=lottery.tolerance,
            random_source=f"drand {future.chain} round {future.round}",
            drand=(future.chain, future.round),
        )
        committed[str(part.id)] = record
        chances = record["probabilities"]
        for response in responses:
            response.probability = float(chances[response.person_hash])
        if progress is not None:
            progress(done + 1, len(parts))
    draw.record = committed
    services.advance(session, tenant, draw, DrawStatus.LOTTERY_COMMITTED, actor=actor)
    audit.record(
        session,
        tenant,
        actor=actor,
        action="draw.lottery_committed",
        object_type="draw",
        object_id=draw.id,
        details={
            "commitments": {k: r["commitment_sha256"] for k, r in committed.items()},
            "drand": future.as_record(),
        },
        public=True,
    )
    session.flush()
    return draw


def named_round(draw: Draw) -> dict[str, Any]:
    """The drand round the lottery was committed to (``chain``, ``round``) and when it is
    published (``at``, which the engine's commitment does not keep)."""
    first = next(iter(draw.record.values()))
    named: dict[str, Any] = first["commitment"]["drand"]
    return {**named, "at": beacons.round_time(int(named["round"]))}


def reveal_lottery(
    session: DbSession, tenant: Tenant, draw: Draw, *, reserve: int, actor: str
) -> Draw:
    """Read the committed round's beacon: it picks each sub-draw's panel and orders its
    reserve, of which the first ``reserve`` people (shared in proportion to seats) are
    kept in order."""
    if draw.status != DrawStatus.LOTTERY_COMMITTED:
        services.advance(session, tenant, draw, DrawStatus.STAGE2_DONE, actor=actor)
    if reserve < 0:
        raise Invalid(_("Enter a reserve of zero people or more."))
    beacon = beacons.published_beacon(
        named_round(draw), _("The panel can only be drawn once it is out.")
    )
    parts = services.sub_draws(session, draw)
    total = sum(part.seats for part in parts)
    revealed: dict[str, Any] = {}
    for part in parts:
        record = records.reveal(draw.record[str(part.id)], beacon=beacon)
        revealed[str(part.id)] = record
        responses = {r.person_hash: r for r in pool.pool_responses(session, part)}
        kept = math.ceil(reserve * part.seats / total) if total else 0
        for rank, person in enumerate(record["panel"], start=1):
            _pick(session, draw, responses[person], PickRole.PANEL, rank)
        for rank, person in enumerate(record["reserve"][:kept], start=1):
            _pick(session, draw, responses[person], PickRole.RESERVE, rank)
    draw.record = revealed
    services.advance(session, tenant, draw, DrawStatus.STAGE2_DONE, actor=actor)
    audit.record(
        session,
        tenant,
        actor=actor,
        action="draw.panel_drawn",
        object_type="draw",
        object_id=draw.id,
        details={
            "drand_round": beacon["round"],
            "random_value": beacon.get("randomness"),
            "panel": sum(len(r["panel"]) for r in revealed.values()),
        },
        public=True,
    )
    session.flush()
    return draw


def _pick(
    session: DbSession, draw: Draw, response: Response, role: PickRole, rank: int, **extra: Any
) -> Pick:
    pick = Pick(
        tenant_id=draw.tenant_id, draw_id=draw.id, response_id=response.id, role=role, rank=rank
    )
    for key, value in extra.items():
        setattr(pick, key, value)
    session.add(pick)
    session.flush()
    return pick


def picks(session: DbSession, draw: Draw) -> list[tuple[Pick, Response]]:
    """The panel (current and past) then the reserve, in order, with their answers."""
    return [
        (pick, response)
        for pick, response in session.execute(
            select(Pick, Response)
            .join(
                Response,
                (Response.tenant_id == Pick.tenant_id) & (Response.id == Pick.response_id),
            )
            .where(Pick.tenant_id == draw.tenant_id, Pick.draw_id == draw.id)
            .order_by(Pick.role, Response.sub_draw_id, Pick.rank, Pick.id)
        ).all()
    ]


def confirm(session: DbSession, tenant: Tenant, draw: Draw, pick: Pick, *, actor: str) -> Pick:
    """The person selected said yes."""
    if draw.status != DrawStatus.STAGE2_DONE or pick.role != PickRole.PANEL:
        raise Conflict(_("Only a person selected on the panel, before seating, is confirmed."))
    if pick.status != PickStatus.SELECTED:
        raise Conflict(_("This person's answer is already recorded."))
    if pick.quota_gap and not pick.gap_confirmed_at:
        raise Conflict(_("The methodology committee must first confirm this quota gap."))
    pick.status = PickStatus.CONFIRMED
    audit.record(
        session,
        tenant,
        actor=actor,
        action="draw.pick_confirmed",
        object_type="draw",
        object_id=draw.id,
        details={"pick": pick.id},
    )
    session.flush()
    return pick


def seat(session: DbSession, tenant: Tenant, draw: Draw, *, actor: str) -> list[Membership]:
    """Every confirmed member of the panel joins the body, origin ``drawn`` with their
    source; the draw closes (the retention period runs from now)."""
    body = session.get(Body, (tenant.id, draw.body_id))
    assert body is not None
    if body.status != BodyStatus.TO_COMPOSE:
        raise Conflict(_("The body is already installed: its seats can no longer be filled."))
    panel = [(p, r) for p, r in picks(session, draw) if p.role == PickRole.PANEL]
    waiting = [p for p, _r in panel if p.status == PickStatus.SELECTED]
    if waiting:
        raise Conflict(
            _(
                "%(count)s people of the panel have not confirmed yet: confirm them, or "
                "replace those who decline.",
                count=len(waiting),
            )
        )
    services.advance(session, tenant, draw, DrawStatus.SEATED, actor=actor)
    sources = {part.id: part.source for part in services.sub_draws(session, draw)}
    seated = [
        _seat_one(session, tenant, body, pick, response, sources[response.sub_draw_id])
        for pick, response in panel
        if pick.status == PickStatus.CONFIRMED
    ]
    draw.closed_at = utcnow()
    audit.record(
        session,
        tenant,
        actor=actor,
        action="draw.members_seated",
        object_type="draw",
        object_id=draw.id,
        details={"body": body.id, "members": len(seated)},
        public=True,
    )
    session.flush()
    return seated


def _seat_one(
    session: DbSession, tenant: Tenant, body: Body, pick: Pick, response: Response, source: str
) -> Membership:
    name = str(response.contact.get("name") or _("Drawn member no. %(rank)s", rank=pick.rank))
    person = bodies.add_person(session, tenant, name)
    membership = bodies.add_member(session, body, person, DRAWN)
    membership.source = source
    if body.status == BodyStatus.INSTALLED:
        membership.status = MembershipStatus.ACTIVE
    pick.status = PickStatus.SEATED
    pick.membership_id = membership.id
    return membership


def withdraw(
    session: DbSession,
    tenant: Tenant,
    hooks: TenantHooks,
    draw: Draw,
    pick: Pick,
    *,
    reason: str,
    actor: str,
) -> Pick:
    """``pick`` leaves the panel (declined, or withdrew once seated): the first person of
    the reserve who keeps every quota takes the seat. Where none fits, the closest profile
    is proposed with its quota gap, which the methodology committee must confirm (a public
    deviation). The new pick; the engine record keeps the replacement."""
    if draw.status not in (DrawStatus.STAGE2_DONE, DrawStatus.SEATED):
        raise Conflict(_("Replacements come after the panel is drawn."))
    if pick.role != PickRole.PANEL or pick.status in (PickStatus.WITHDRAWN, PickStatus.DECLINED):
        raise Conflict(_("This person is not on the panel."))
    if not reason.strip():
        raise Invalid(_("Give the reason for the withdrawal."))
    response = session.get(Response, (tenant.id, pick.response_id))
    assert response is not None
    key = str(response.sub_draw_id)
    record = records.replace(draw.record[key], response.person_hash, allow_drift=True)
    done = record["replacements"][-1]
    replacement = session.execute(
        select(Response).where(
            Response.tenant_id == tenant.id,
            Response.draw_id == draw.id,
            Response.person_hash == done["replacement"],
        )
    ).scalar_one()
    draw.record = {**draw.record, key: record}
    seated = pick.status == PickStatus.SEATED
    pick.status = PickStatus.WITHDRAWN if seated else PickStatus.DECLINED
    # One pick per person: the reserve's becomes the panel's.
    _leave_reserve(session, draw, replacement)
    new = _pick(
        session,
        draw,
        replacement,
        PickRole.PANEL,
        pick.rank,
        replaces_id=pick.id,
        quota_gap=[] if done["fitting"] else list(done["breaches"]),
    )
    if seated and pick.membership_id is not None:
        ending = session.get(Membership, (tenant.id, pick.membership_id))
        assert ending is not None
        ending.status = MembershipStatus.ENDED
        ending.ended_at = utcnow()
    if not done["fitting"]:
        labels = feasibility.quota_labels(hooks)
        # Published as the commune writes, whoever's language the staff member reads.
        with force_locale(tenant.locale):
            summary = _(
                "No one in the reserve kept every quota: the closest profile replaces a "
                "member, with a quota gap (%(gap)s), to be confirmed by the methodology "
                "committee.",
                gap=", ".join(
                    " — ".join(labels.get((b["feature"], b["value"]), (b["feature"], b["value"])))
                    for b in done["breaches"]
                ),
            )
        session.add(
            Deviation(
                tenant_id=tenant.id,
                draw_id=draw.id,
                kind=QUOTA_GAP,
                summary=summary,
                detail={"pick": new.id, "breaches": list(done["breaches"])},
                decided_by=actor,
            )
        )
    elif seated:
        new.status = PickStatus.CONFIRMED
        _seat_replacement(session, tenant, draw, new, replacement, pick)
    audit.record(
        session,
        tenant,
        actor=actor,
        action="draw.member_replaced",
        object_type="draw",
        object_id=draw.id,
        details={
            "withdrawn": pick.id,
            "replacement": new.id,
            "fitting": done["fitting"],
            "reason": reason.strip(),
        },
        public=True,
    )
    session.flush()
    return new


def _leave_reserve(session: DbSession, draw: Draw, response: Response) -> None:
    for reserve in session.execute(
        select(Pick).where(
            Pick.tenant_id == draw.tenant_id,
            Pick.draw_id == draw.id,
            Pick.response_id == response.id,
            Pick.role == PickRole.RESERVE,
        )
    ).scalars():
        session.delete(reserve)
    session.flush()


def _seat_replacement(
    session: DbSession, tenant: Tenant, draw: Draw, new: Pick, response: Response, old: Pick
) -> None:
    body = session.get(Body, (tenant.id, draw.body_id))
    part = session.get(SubDraw, (tenant.id, response.sub_draw_id))
    assert body is not None and part is not None
    membership = _seat_one(session, tenant, body, new, response, part.source)
    if old.membership_id is not None:
        ending = session.get(Membership, (tenant.id, old.membership_id))
        if ending is not None:
            ending.replaced_by_id = membership.id


def confirm_gap(session: DbSession, tenant: Tenant, draw: Draw, pick: Pick, *, actor: str) -> Pick:
    """The methodology committee accepts a replacement outside the quotas."""
    if not pick.quota_gap or pick.gap_confirmed_at is not None:
        raise Conflict(_("This replacement has no quota gap to confirm."))
    pick.gap_confirmed_by = actor
    pick.gap_confirmed_at = utcnow()
    audit.record(
        session,
        tenant,
        actor=actor,
        action="draw.quota_gap_confirmed",
        object_type="draw",
        object_id=draw.id,
        details={"pick": pick.id, "breaches": pick.quota_gap},
        public=True,
    )
    if draw.status == DrawStatus.SEATED:
        response = session.get(Response, (tenant.id, pick.response_id))
        old = session.get(Pick, (tenant.id, pick.replaces_id)) if pick.replaces_id else None
        assert response is not None and old is not None
        pick.status = PickStatus.CONFIRMED
        _seat_replacement(session, tenant, draw, pick, response, old)
    session.flush()
    return pick
