"""A complete, closed draw of Poitiers written straight to the tables, for the public record
and the retention purge: a register of addresses, invitations in three strata with every
outcome, responses with profiles, a public deviation, and a REAL stage 2 (the engine's
LEXIMIN lottery, committed to a recorded drand beacon, revealed, one replacement) with its
picks. Stage 1's randomness is a recorded beacon too."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from flask import Flask
from sqlalchemy import select

from agora.assembly import editions
from agora.assembly.models import Body
from agora.db import paris_today, utcnow
from agora.draws import beacons, blocks
from agora.draws import pool as draw_pool
from agora.draws.models import (
    Deviation,
    Draw,
    DrawStatus,
    Invitation,
    InvitationStatus,
    Pick,
    PickRole,
    PickStatus,
    Register,
    RegisterBlock,
    RegisterStatus,
    Response,
    SubDraw,
)
from agora.extensions import db
from agora.plugins.contracts import QuotaCriterion
from agora.plugins.manager import get_registry
from agora.sortition import build_lottery, compile_instance
from agora.tenancy.config import TenantConfig
from agora.tenancy.isolation import tenant_scope
from agora.tenancy.models import Tenant
from agora.tenancy.services import current_config
from agora_sortition import audit

STRATA = ("centre", "couronneries", "trois-cites")
AGES = ("16-29", "30-44", "45-59", "60-74", "75+")
SEATS = 4
RESERVE = 5
ADDRESSES = 40
INVITED = 30
#: Invitations 0–5 not reached, 6–9 refused, the others interested or responded; responses
#: 10 and 11 gave no consent (outside the pool).
NOT_REACHED, REFUSED, NO_CONSENT = range(6), range(6, 10), (10, 11)
REGISTER_SHA256 = "a1" * 32
WITNESSES = "Maître Anne Lefèvre, commissaire de justice; Paul Girard, conseiller municipal"


@dataclass(frozen=True)
class ClosedDraw:
    tenant_id: int
    draw_id: int
    sub_draw_id: int


def recorded_beacon(number: int) -> dict[str, object]:
    document = json.loads(beacons.RECORDED.read_text(encoding="utf-8"))
    beacon: dict[str, object] = next(b for b in document["beacons"] if b["round"] == number)
    return beacon


def _hash(kind: str, i: int) -> str:
    """A person's (``p``) or a household's (``h``) hash, as the import computes them."""
    return hashlib.sha256(f"{kind}{i}".encode()).hexdigest()


def closed_draw(
    app: Flask,
    slug: str = "poitiers",
    *,
    closed_ago: timedelta | None = None,
    stage: str = "seated",
) -> ClosedDraw:
    """Give ``slug`` a draw of its 2031 plenary. ``stage``: ``"seated"`` (closed
    ``closed_ago`` ago, default 7 months), or ``"responses"`` (no stage 2 yet)."""
    with app.app_context():
        tenant = db.session.execute(select(Tenant).where(Tenant.slug == slug)).scalar_one()
        with tenant_scope(db.session, tenant.id):
            version = current_config(db.session, tenant)
            assert version is not None
            hooks = get_registry().view(TenantConfig(version.document))
            criteria = hooks.quota_criteria()
            edition = editions.open_edition(
                db.session, tenant, 2031, "Assemblée 2031", hooks.composition_rules(), "test"
            )
            db.session.flush()
            body = db.session.execute(
                select(Body).where(Body.edition_id == edition.id, Body.key == "plenary")
            ).scalar_one()
            draw = Draw(
                tenant_id=tenant.id,
                edition_id=edition.id,
                body_id=body.id,
                title="Tirage de l'assemblée 2031",
                status=DrawStatus.RESPONSES,
                minimum_age=16,
                reference_date=paris_today(),
                witnesses=WITNESSES,
                method_published_at=utcnow() - timedelta(days=300),
            )
            db.session.add(draw)
            db.session.flush()
            part = SubDraw(tenant_id=tenant.id, draw_id=draw.id, source="address_file", seats=SEATS)
            db.session.add(part)
            db.session.flush()
            register = Register(
                tenant_id=tenant.id,
                draw_id=draw.id,
                sub_draw_id=part.id,
                source="address_file",
                filename="adresses-poitiers.csv",
                size_bytes=4096,
                sha256=REGISTER_SHA256,
                status=RegisterStatus.IMPORTED,
                lines_read=ADDRESSES,
                row_count=ADDRESSES,
                imported_at=utcnow() - timedelta(days=290),
            )
            db.session.add(register)
            db.session.flush()
            block = blocks.Block(
                b"".join(bytes.fromhex(_hash("p", i)) for i in range(ADDRESSES)),
                b"".join(bytes.fromhex(_hash("h", i)) for i in range(ADDRESSES)),
                [STRATA[i % 3] for i in range(ADDRESSES)],
                contact={"adresse": [f"{i + 1} rue de la Paix" for i in range(ADDRESSES)]},
            )
            db.session.add(
                RegisterBlock(
                    tenant_id=tenant.id,
                    register_id=register.id,
                    number=0,
                    rows=ADDRESSES,
                    data=blocks.encode(block),
                )
            )
            # Stage 1 in the shapes stage1.commit and stage1.run store.
            households = {stratum: ADDRESSES // 3 for stratum in STRATA}
            stage1: dict[str, Any] = {
                "sub_draws": [
                    {
                        "source": part.source,
                        "sub_draw": part.id,
                        "channel": "door_to_door",
                        "register": register.id,
                        "register_sha256": REGISTER_SHA256,
                        "rows": ADDRESSES,
                        "households": households,
                    }
                ],
                "invitations": INVITED,
                "stratified": True,
                "drand": {"chain": "quicknet", "round": 1000, "at": "2023-08-23T15:59:24+00:00"},
            }
            beacon = recorded_beacon(1000)
            draw.commitment = stage1
            draw.commitment_sha256 = audit.sha256(stage1)
            draw.invitations_wanted = INVITED
            draw.reveal = {
                "drand": {**stage1["drand"], **beacon},
                "signature": {"checked": False, "why": "not checked in this test"},
                "random_value": beacon["randomness"],
                "invited": INVITED,
                "result_sha256": audit.sha256(sorted(_hash("p", i) for i in range(INVITED))),
            }
            draw.allocation = {part.source: {stratum: INVITED // 3 for stratum in STRATA}}
            for i in range(INVITED):
                status = (
                    InvitationStatus.NOT_REACHED
                    if i in NOT_REACHED
                    else InvitationStatus.REFUSED
                    if i in REFUSED
                    else (InvitationStatus.INTERESTED, InvitationStatus.RESPONDED)[i % 2]
                )
                invitation = Invitation(
                    tenant_id=tenant.id,
                    draw_id=draw.id,
                    sub_draw_id=part.id,
                    register_id=register.id,
                    person_hash=_hash("p", i),
                    household_hash=_hash("h", i),
                    stratum=STRATA[i % 3],
                    position=i,
                    code=f"CODE{i:04d}",
                    channel="door_to_door",
                    status=status,
                )
                db.session.add(invitation)
                db.session.flush()
                if status in (InvitationStatus.INTERESTED, InvitationStatus.RESPONDED):
                    db.session.add(
                        Response(
                            tenant_id=tenant.id,
                            draw_id=draw.id,
                            sub_draw_id=part.id,
                            invitation_id=invitation.id,
                            person_hash=_hash("p", i),
                            household_hash=_hash("h", i),
                            features={
                                "gender": "F" if i % 3 else "M",
                                "age_band": AGES[i % 5],
                                "neighbourhood": STRATA[i % 3],
                            },
                            contact={"nom": f"Habitant·e {i}", "courriel": f"h{i}@example.org"},
                            available=True,
                            consent=i not in NO_CONSENT,
                            channel="visit" if i % 2 else "online",
                        )
                    )
            db.session.add(
                Deviation(
                    tenant_id=tenant.id,
                    draw_id=draw.id,
                    kind=draw_pool.RELAXED_BOUND,
                    summary="Quota « Hommes » élargi à 0–4 sièges : trop peu de réponses.",
                    detail={
                        "sub_draw_id": part.id,
                        "feature": "gender",
                        "value": "M",
                        "min": 0,
                        "max": SEATS,
                    },
                    decided_by="Comité de méthode",
                )
            )
            db.session.flush()
            if stage == "seated":
                _stage_two(draw, part, criteria, closed_ago or timedelta(days=7 * 31))
            made = ClosedDraw(tenant.id, draw.id, part.id)
        db.session.commit()
        return made


def _stage_two(
    draw: Draw, part: SubDraw, criteria: list[QuotaCriterion], closed_ago: timedelta
) -> None:
    quotas = draw_pool.sub_draw_quotas(db.session, criteria, part)
    pool = draw_pool.sub_draw_pool(db.session, criteria, part)
    instance = compile_instance(pool, quotas, SEATS, households=True)
    _distribution, lottery = build_lottery(instance, "leximin", 60)
    committed = audit.commit(
        pool,
        quotas,
        panel_size=SEATS,
        households=True,
        algorithm="leximin",
        lottery=lottery.panels,
        probabilities=lottery.exact,
        max_deviation=lottery.max_deviation,
        tolerance=lottery.tolerance,
        random_source="drand",
        drand=("quicknet", 657413),
    )
    revealed = audit.reveal(committed, beacon=recorded_beacon(657413))
    withdrawn = revealed["panel"][0]
    record = audit.replace(revealed, withdrawn, allow_drift=True)
    draw.record = {str(part.id): record}
    responses = {r.person_hash: r for r in draw_pool.pool_responses(db.session, part)}
    for response in responses.values():
        response.probability = record["probabilities"][response.person_hash]
    replacement = record["replacements"][0]["replacement"]
    # The reserve called: its first five, and at least as far as the replacement.
    called = max(RESERVE, record["reserve"].index(replacement) + 1)
    picks: dict[str, Pick] = {}
    for role, people in (
        (PickRole.PANEL, record["panel"]),
        (PickRole.RESERVE, record["reserve"][:called]),
    ):
        for rank, person in enumerate(people):
            pick = Pick(
                tenant_id=draw.tenant_id,
                draw_id=draw.id,
                response_id=responses[person].id,
                role=role,
                rank=rank,
                status=PickStatus.SEATED if role == PickRole.PANEL else PickStatus.SELECTED,
            )
            db.session.add(pick)
            picks[person] = pick
    db.session.flush()
    picks[withdrawn].status = PickStatus.WITHDRAWN
    picks[replacement].status = PickStatus.SEATED
    picks[replacement].replaces_id = picks[withdrawn].id
    draw.status = DrawStatus.SEATED
    draw.closed_at = utcnow() - closed_ago
