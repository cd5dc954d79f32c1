"""The public record of a draw: what anyone may check once its method is published.

Built from what the draw keeps for good (stage 1's commitment and reveal, stage 2's audit
records, the responses' profiles and probabilities, the picks, the public deviations and the
registers' hashes), never from names or contacts. The response funnel counts invitations,
which the retention purge deletes: the purge freezes the funnel in its audit event first, and
the record reads it from there afterwards, so that the page, the spreadsheets and the
procès-verbal stay the same.
"""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

from flask_babel import format_date, format_decimal, pgettext
from flask_babel import gettext as _
from sqlalchemy import select

from agora.assembly.models import Body
from agora.audit.models import AuditEvent
from agora.db import PARIS, DbSession
from agora.documents import pdf
from agora.draws import pool as draw_pool
from agora.draws import services
from agora.draws.models import (
    Deviation,
    Draw,
    DrawStatus,
    Invitation,
    InvitationStatus,
    Pick,
    Register,
    Response,
    SubDraw,
)
from agora.plugins.contracts import DrawSource, QuotaCriterion
from agora.shared.labels import ALGORITHMS
from agora.tenancy.models import Tenant
from agora_sortition.audit import current_panel as replaced_panel

#: The steps of the response funnel, in order.
FUNNEL_STEPS = ("invited", "reached", "interested", "pool", "panel")
#: Invitations whose household answered the letter or the visit (refusing included)…
REACHED = frozenset(
    {InvitationStatus.REFUSED, InvitationStatus.INTERESTED, InvitationStatus.RESPONDED}
)
#: … and those who said yes.
INTERESTED = frozenset({InvitationStatus.INTERESTED, InvitationStatus.RESPONDED})
#: The audit action of the retention purge, whose details keep the frozen funnel.
PURGED = "draw.purged"
#: What the public export is (its ``format`` field).
EXPORT_FORMAT = "agora-draw-export/1"


@dataclass(frozen=True)
class FunnelRow:
    """One stratum's numbers at each step (``stratum`` empty: people not invited by stratum,
    such as volunteers)."""

    stratum: str
    invited: int
    reached: int
    interested: int
    pool: int
    panel: int

    def steps(self) -> tuple[int, ...]:
        return tuple(int(getattr(self, step)) for step in FUNNEL_STEPS)


@dataclass(frozen=True)
class Funnel:
    """A sub-draw's funnel, by stratum, and its total."""

    sub_draw_id: int
    source: str
    rows: tuple[FunnelRow, ...]

    @property
    def total(self) -> FunnelRow:
        return FunnelRow(
            "", *(sum(getattr(row, step) for row in self.rows) for step in FUNNEL_STEPS)
        )

    def as_json(self) -> dict[str, Any]:
        return {
            "sub_draw_id": self.sub_draw_id,
            "source": self.source,
            "rows": [asdict(row) for row in self.rows],
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Funnel:
        return cls(
            int(data["sub_draw_id"]),
            str(data["source"]),
            tuple(FunnelRow(**row) for row in data["rows"]),
        )


@dataclass(frozen=True)
class Share:
    """One value of a quota criterion: its census share, and its share of the pool and of
    the panel (``None`` while there is no pool or panel yet)."""

    value: str
    label: str
    census: float
    pool: float | None
    panel: float | None
    pool_count: int
    panel_count: int


@dataclass(frozen=True)
class Representativeness:
    feature: str
    label: str
    shares: tuple[Share, ...]


@dataclass(frozen=True)
class ProfileProbabilities:
    """The selection probabilities of the pool's people sharing one profile (one value per
    quota criterion, as labels)."""

    profile: tuple[str, ...]
    count: int
    minimum: float
    mean: float
    maximum: float


@dataclass(frozen=True)
class Seal:
    """A stage's commitment and its reveal: the hash published before the randomness
    existed, the drand round it named (or a sealed seed), and the random value revealed."""

    commitment_sha256: str
    drand_chain: str
    drand_round: int | None
    seed_sha256: str
    random_value: str
    commitment: Mapping[str, Any]

    @property
    def revealed(self) -> bool:
        return bool(self.random_value)


@dataclass(frozen=True)
class StageTwo:
    """One sub-draw's stage 2, from its engine record."""

    sub_draw: SubDraw
    seal: Seal
    algorithm: str
    pool_size: int
    lottery_size: int
    panel_index: int | None
    panel_size: int
    reserve_size: int
    min_probability: float | None


@dataclass(frozen=True)
class ReplacementRow:
    sub_draw_id: int
    withdrawn: str
    replacement: str
    fitting: int
    breaches: tuple[str, ...]
    confirmed_on: str


@dataclass(frozen=True)
class PublicRecord:
    draw: Draw
    body: Body
    parts: tuple[SubDraw, ...]
    registers: Mapping[int, Register]
    stage1: Seal | None
    stage2: tuple[StageTwo, ...]
    funnels: tuple[Funnel, ...]
    representativeness: tuple[Representativeness, ...]
    profiles: tuple[ProfileProbabilities, ...]
    criteria_labels: tuple[str, ...]
    deviations: tuple[Deviation, ...]
    replacements: tuple[ReplacementRow, ...]
    #: A register's stratum → its name in the quota criteria (``trois-cites`` → Trois-Cités).
    strata: Mapping[str, str]

    def stratum_label(self, stratum: str) -> str:
        return services.stratum_label(self.strata, stratum)

    @property
    def panel_size(self) -> int:
        return sum(stage.panel_size for stage in self.stage2)

    @property
    def reserve_size(self) -> int:
        return sum(stage.reserve_size for stage in self.stage2)


def is_public(draw: Draw) -> bool:
    """A draw's record is public once its method is."""
    return draw.status != DrawStatus.DESIGNED


def engine_records(draw: Draw, parts: Sequence[SubDraw]) -> dict[int, dict[str, Any]]:
    """Stage 2's engine record of each sub-draw that has one (``draw.record`` is keyed by
    the sub-draw's id as text)."""
    return {part.id: draw.record[str(part.id)] for part in parts if draw.record.get(str(part.id))}


def engine_record(draw: Draw, sub_draw: SubDraw) -> dict[str, Any] | None:
    """The engine record of one sub-draw, as ``python -m agora.sortition verify`` reads it."""
    return engine_records(draw, [sub_draw]).get(sub_draw.id)


def current_panel(record: Mapping[str, Any]) -> list[str]:
    """The panel with the replacements made since (hashed ids); empty before the reveal."""
    if record.get("panel") is None:
        return []
    return replaced_panel(record)


# ---------------------------------------------------------------------------------------
# Seals


def _seal(commitment: Mapping[str, Any], commitment_sha256: str, reveal: Mapping[str, Any]) -> Seal:
    drand = commitment.get("drand") or {}
    revealed_drand = reveal.get("drand") or {}
    number = drand.get("round", revealed_drand.get("round", reveal.get("round")))
    value = (
        reveal.get("random_value")
        or reveal.get("randomness")
        or revealed_drand.get("randomness")
        or reveal.get("seed")
        or ""
    )
    return Seal(
        commitment_sha256=commitment_sha256,
        drand_chain=str(drand.get("chain", "")),
        drand_round=int(number) if number is not None else None,
        seed_sha256=str(commitment.get("seed_sha256", "")),
        random_value=str(value),
        commitment=commitment,
    )


def stage_one(draw: Draw) -> Seal | None:
    if not draw.commitment_sha256:
        return None
    return _seal(draw.commitment, draw.commitment_sha256, draw.reveal or {})


def stage_two(part: SubDraw, record: Mapping[str, Any]) -> StageTwo:
    commitment = record["commitment"]
    reveal = record.get("reveal") or {}
    probabilities = record.get("probabilities") or {}
    return StageTwo(
        sub_draw=part,
        seal=_seal(commitment, record["commitment_sha256"], reveal),
        algorithm=str(commitment.get("algorithm", "")),
        pool_size=int(commitment.get("pool_size", 0)),
        lottery_size=int(commitment.get("lottery_size", 0)),
        panel_index=reveal.get("panel_index"),
        panel_size=len(current_panel(record)),
        reserve_size=len(record.get("reserve") or ()),
        min_probability=min(probabilities.values()) if probabilities else None,
    )


# ---------------------------------------------------------------------------------------
# The funnel


def live_funnels(
    session: DbSession, draw: Draw, parts: Sequence[SubDraw], records: Mapping[int, Any]
) -> list[Funnel]:
    """Each sub-draw's funnel by stratum, counted from the invitations and the responses."""
    invitations = session.execute(
        select(Invitation.id, Invitation.sub_draw_id, Invitation.stratum, Invitation.status).where(
            Invitation.tenant_id == draw.tenant_id, Invitation.draw_id == draw.id
        )
    ).all()
    stratum_of = {row.id: row.stratum for row in invitations}
    counts: dict[int, dict[str, Counter[str]]] = defaultdict(lambda: defaultdict(Counter))
    for row in invitations:
        steps = counts[row.sub_draw_id][row.stratum]
        steps["invited"] += 1
        steps["reached"] += row.status in REACHED
        steps["interested"] += row.status in INTERESTED
    for part in parts:
        panel = set(current_panel(records.get(part.id) or {}))
        for response in draw_pool.pool_responses(session, part):
            stratum = stratum_of.get(response.invitation_id or 0, "")
            steps = counts[part.id][stratum]
            steps["pool"] += 1
            steps["panel"] += response.person_hash in panel
    return [
        Funnel(
            part.id,
            part.source,
            tuple(
                FunnelRow(stratum, *(steps[step] for step in FUNNEL_STEPS))
                for stratum, steps in sorted(counts[part.id].items())
            ),
        )
        for part in parts
    ]


def purge_event(session: DbSession, draw: Draw) -> AuditEvent | None:
    return session.execute(
        select(AuditEvent)
        .where(
            AuditEvent.tenant_id == draw.tenant_id,
            AuditEvent.action == PURGED,
            AuditEvent.object_type == "draw",
            AuditEvent.object_id == str(draw.id),
        )
        .order_by(AuditEvent.seq.desc())
        .limit(1)
    ).scalar_one_or_none()


def funnels(
    session: DbSession, draw: Draw, parts: Sequence[SubDraw], records: Mapping[int, Any]
) -> list[Funnel]:
    """The funnels: frozen by the purge once it ran, counted live before."""
    if draw.purged_at is not None and (event := purge_event(session, draw)) is not None:
        return [Funnel.from_json(funnel) for funnel in event.details["funnels"]]
    return live_funnels(session, draw, parts, records)


# ---------------------------------------------------------------------------------------
# Representativeness and probabilities


def _labels(criterion: QuotaCriterion) -> dict[str, str]:
    return {value.value: value.label for value in criterion.values}


def representativeness(
    session: DbSession,
    parts: Sequence[SubDraw],
    records: Mapping[int, Mapping[str, Any]],
    criteria: Sequence[QuotaCriterion],
) -> list[Representativeness]:
    """Per quota criterion, each value's share in the census, in the pool (every sub-draw's
    responses with consent and availability) and on the panel (with its replacements)."""
    pool = [r.features for part in parts for r in draw_pool.pool_responses(session, part)]
    panel: list[dict[str, str]] = []
    for record in records.values():
        chosen = set(current_panel(record))
        features = record["pool"]["features"]
        panel += [
            dict(zip(features, person[1], strict=True))
            for person in record["pool"]["people"]
            if person[0] in chosen
        ]
    result = []
    for criterion in criteria:
        in_pool = Counter(str(f.get(criterion.feature, "")) for f in pool)
        on_panel = Counter(p.get(criterion.feature, "") for p in panel)
        result.append(
            Representativeness(
                criterion.feature,
                criterion.label,
                tuple(
                    Share(
                        value.value,
                        value.label,
                        value.reference_share,
                        in_pool[value.value] / len(pool) if pool else None,
                        on_panel[value.value] / len(panel) if panel else None,
                        in_pool[value.value],
                        on_panel[value.value],
                    )
                    for value in criterion.values
                ),
            )
        )
    return result


def profile_probabilities(
    records: Mapping[int, Mapping[str, Any]], criteria: Sequence[QuotaCriterion]
) -> list[ProfileProbabilities]:
    """The engine's selection probabilities grouped by profile (no ids): how many people
    share it, and their smallest, mean and largest probability."""
    labels = {criterion.feature: _labels(criterion) for criterion in criteria}
    groups: dict[tuple[str, ...], list[float]] = defaultdict(list)
    for record in records.values():
        features = record["pool"]["features"]
        probabilities = record["probabilities"]
        for person_id, values, _home in record["pool"]["people"]:
            profile = tuple(
                labels.get(feature, {}).get(value, value)
                for feature, value in zip(features, values, strict=True)
            )
            groups[profile].append(float(probabilities[person_id]))
    return [
        ProfileProbabilities(
            profile, len(values), min(values), sum(values) / len(values), max(values)
        )
        for profile, values in sorted(groups.items())
    ]


# ---------------------------------------------------------------------------------------
# Replacements and the whole record


def _breach_text(breach: Mapping[str, Any]) -> str:
    return str(
        _(
            "%(feature)s “%(value)s”: %(count)s for a limit of %(limit)s",
            feature=breach.get("feature", "?"),
            value=breach.get("value", "?"),
            count=breach.get("count", "?"),
            limit=breach.get("limit", "?"),
        )
    )


def replacements(
    session: DbSession, draw: Draw, parts: Sequence[SubDraw], records: Mapping[int, Any]
) -> list[ReplacementRow]:
    """The replacements each engine record holds (hashed ids, shortened), with the quotas a
    replacement broke and when the methodology committee confirmed it."""
    confirmed = {
        person_hash: pick.gap_confirmed_at
        for pick, person_hash in session.execute(
            select(Pick, Response.person_hash)
            .join(
                Response,
                (Response.tenant_id == Pick.tenant_id) & (Response.id == Pick.response_id),
            )
            .where(Pick.tenant_id == draw.tenant_id, Pick.draw_id == draw.id)
        ).all()
        if pick.gap_confirmed_at is not None
    }
    rows = []
    for part in parts:
        for entry in (records.get(part.id) or {}).get("replacements") or ():
            when = confirmed.get(entry["replacement"])
            rows.append(
                ReplacementRow(
                    part.id,
                    short(entry["withdrawn"]),
                    short(entry["replacement"]),
                    int(entry.get("fitting", 0)),
                    tuple(_breach_text(b) for b in entry.get("breaches") or ()),
                    _long_date(when) if when else "",
                )
            )
    return rows


def short(person_id: str) -> str:
    """A hashed id as the page shows it (its first 12 characters, enough to find it in the
    export)."""
    return person_id[:12]


def deviations(session: DbSession, draw: Draw) -> list[Deviation]:
    return list(
        session.execute(
            select(Deviation)
            .where(Deviation.tenant_id == draw.tenant_id, Deviation.draw_id == draw.id)
            .order_by(Deviation.decided_at, Deviation.id)
        ).scalars()
    )


def public_record(
    session: DbSession, draw: Draw, criteria: Sequence[QuotaCriterion]
) -> PublicRecord:
    """Everything the public record shows, from what the draw keeps after the purge too."""
    parts = tuple(services.sub_draws(session, draw))
    records = engine_records(draw, parts)
    body = session.get(Body, (draw.tenant_id, draw.body_id))
    assert body is not None
    return PublicRecord(
        draw=draw,
        body=body,
        parts=parts,
        registers=services.current_registers(session, draw),
        stage1=stage_one(draw),
        stage2=tuple(stage_two(part, records[part.id]) for part in parts if part.id in records),
        funnels=tuple(funnels(session, draw, parts, records)),
        representativeness=tuple(representativeness(session, parts, records, criteria)),
        profiles=tuple(profile_probabilities(records, criteria)),
        criteria_labels=tuple(criterion.label for criterion in criteria),
        deviations=tuple(deviations(session, draw)),
        replacements=tuple(replacements(session, draw, parts, records)),
        strata=services.stratum_names(criteria),
    )


# ---------------------------------------------------------------------------------------
# Exports


def verify_command(filename: str, seal: Seal) -> str:
    return f"python -m agora.sortition verify {filename} --commitment {seal.commitment_sha256}"


def record_filename(draw: Draw, part: SubDraw) -> str:
    return f"tirage-{draw.id}-{part.source}.json"


def export(
    session: DbSession, tenant: Tenant, record: PublicRecord, sources: Mapping[str, DrawSource]
) -> dict[str, Any]:
    """The public export: stage 1's commitment and reveal, the registers' hashes, the public
    deviations and each sub-draw's engine record (hashed ids, profiles, probabilities,
    lottery, reveal, replacements), with how to check them."""
    draw = record.draw
    records = engine_records(draw, record.parts)
    readme = [
        _(
            "Each stage-2 record below is the sortition engine's own record: save it alone in a "
            "file (or download it from the draw's public page) and run the command given, which "
            "recomputes every hash, checks every panel of the lottery against the quotas, the "
            "probabilities, the panel drawn by the public random value, the reserve's order "
            "and the replacements."
        ),
        _(
            'To take a record out of this file: python -c "import json, sys; '
            "json.dump(json.load(open(sys.argv[1]))['records'][sys.argv[2]], "
            "open(sys.argv[3], 'w'))\" %(file)s SOURCE record.json",
            file=f"tirage-{draw.id}.json",
        ),
    ]
    readme += [
        verify_command(record_filename(draw, stage.sub_draw), stage.seal) for stage in record.stage2
    ]
    return {
        "format": EXPORT_FORMAT,
        "readme": [str(line) for line in readme],
        "commune": tenant.name,
        "draw": {
            "id": draw.id,
            "title": draw.title,
            "body": record.body.name,
            "status": draw.status.value,
            "method": services.method_record(session, draw),
        },
        "registers": [
            {
                "source": part.source,
                "file": register.filename,
                "sha256": register.sha256,
                "rows": register.row_count,
            }
            for part in record.parts
            if (register := record.registers.get(part.id)) is not None
        ],
        "stage1": {
            "commitment": draw.commitment,
            "commitment_sha256": draw.commitment_sha256,
            "allocation": draw.allocation,
            "reveal": draw.reveal,
        },
        "funnels": [funnel.as_json() for funnel in record.funnels],
        "deviations": [
            {
                "kind": deviation.kind,
                "summary": deviation.summary,
                "detail": deviation.detail,
                "decided_at": deviation.decided_at.isoformat(),
            }
            for deviation in record.deviations
        ],
        "records": {part.source: records[part.id] for part in record.parts if part.id in records},
        "sources": {part.source: source_label(sources, part) for part in record.parts},
    }


def source_label(sources: Mapping[str, DrawSource], part: SubDraw) -> str:
    source = sources.get(part.source)
    return source.label if source is not None else part.source


def export_bytes(data: Any) -> bytes:
    return (json.dumps(data, indent=1, ensure_ascii=False, sort_keys=True) + "\n").encode()


def funnel_table(
    record: PublicRecord, sources: Mapping[str, DrawSource]
) -> tuple[list[str], list[list[object]]]:
    """The funnel as a spreadsheet: one line per sub-draw and stratum."""
    header = [str(_("Source")), str(_("Stratum")), *step_labels()]
    labels = {part.id: source_label(sources, part) for part in record.parts}
    rows: list[list[object]] = [
        [
            labels.get(funnel.sub_draw_id, funnel.source),
            record.stratum_label(row.stratum),
            *row.steps(),
        ]
        for funnel in record.funnels
        for row in funnel.rows
    ]
    return header, rows


def representativeness_table(record: PublicRecord) -> tuple[list[str], list[list[object]]]:
    header = [
        str(_("Criterion")),
        str(_("Group")),
        str(_("Share in the census")),
        str(_("Share of the pool")),
        str(_("Share of the panel")),
        str(_("People in the pool")),
        str(_("Members of the panel")),
    ]
    rows: list[list[object]] = [
        [
            criterion.label,
            share.label,
            round(share.census, 4),
            round(share.pool, 4) if share.pool is not None else "",
            round(share.panel, 4) if share.panel is not None else "",
            share.pool_count,
            share.panel_count,
        ]
        for criterion in record.representativeness
        for share in criterion.shares
    ]
    return header, rows


def step_labels() -> list[str]:
    """The names of the funnel's steps, in order."""
    return [
        str(pgettext("funnel", "Invited")),
        str(pgettext("funnel", "Reached")),
        str(pgettext("funnel", "Interested")),
        str(pgettext("funnel", "In the pool")),
        str(pgettext("funnel", "On the panel")),
    ]


# ---------------------------------------------------------------------------------------
# The procès-verbal


def proces_verbal(tenant: Tenant, record: PublicRecord, sources: Mapping[str, DrawSource]) -> bytes:
    """The procès-verbal of the draw as a PDF: the commune, the body, the dates, the
    witnesses, the registers' fingerprints, each stage's commitment and randomness, the
    numbers at each stage, the deviations and replacements, and the witnesses' signatures.
    No resident is named."""
    draw = record.draw
    sections: list[tuple[str, str]] = [
        (
            _("The draw"),
            "\n".join(
                [
                    _("Commune: %(name)s", name=tenant.name),
                    _("Body: %(name)s", name=record.body.name),
                    _("Draw: %(title)s", title=draw.title),
                    _(
                        "Method published on %(day)s",
                        day=_long_date(draw.method_published_at)
                        if draw.method_published_at
                        else "—",
                    ),
                    _("Status: %(status)s", status=services.status_label(draw.status)),
                    *(
                        [_("Panel seated on %(day)s", day=_long_date(draw.closed_at))]
                        if draw.closed_at
                        else []
                    ),
                    _("Algorithm: %(algorithm)s", algorithm=ALGORITHMS[draw.algorithm]),
                    _("Witnesses: %(names)s", names=draw.witnesses or "—"),
                ]
            ),
        ),
        (
            _("Registers"),
            "\n".join(
                _(
                    "%(source)s: file “%(file)s”, %(rows)s eligible people, SHA-256 %(hash)s",
                    source=source_label(sources, part),
                    file=register.filename,
                    rows=format_decimal(register.row_count),
                    hash=register.sha256,
                )
                for part in record.parts
                if (register := record.registers.get(part.id)) is not None
            )
            or "—",
        ),
    ]
    if record.stage1 is not None:
        lines = [_seal_text(record.stage1)]
        if draw.allocation:
            lines.append(
                _(
                    "Invitations by stratum: %(allocation)s",
                    allocation=", ".join(
                        f"{record.stratum_label(str(k))} {v}"
                        for strata in draw.allocation.values()
                        for k, v in sorted(strata.items())
                    ),
                )
            )
        sections.append((_("Stage 1: the invitations"), "\n".join(lines)))
    for funnel in record.funnels:
        sections.append(
            (
                _("Responses: %(source)s", source=source_label(sources, _part(record, funnel))),
                "\n".join(
                    [
                        _funnel_sentence(funnel.total),
                        *(
                            _(
                                "%(stratum)s: %(figures)s",
                                stratum=record.stratum_label(row.stratum),
                                figures=_funnel_sentence(row),
                            )
                            for row in funnel.rows
                        ),
                    ]
                ),
            )
        )
    for stage in record.stage2:
        sections.append(
            (
                _("Stage 2: %(source)s", source=source_label(sources, stage.sub_draw)),
                "\n".join(
                    [
                        _seal_text(stage.seal),
                        _(
                            "Pool of %(pool)s people, lottery of %(lottery)s panels, panel "
                            "number %(index)s drawn.",
                            pool=stage.pool_size,
                            lottery=stage.lottery_size,
                            index=stage.panel_index if stage.panel_index is not None else "—",
                        ),
                        _(
                            "Panel: %(panel)s members; reserve: %(reserve)s people.",
                            panel=stage.panel_size,
                            reserve=stage.reserve_size,
                        ),
                    ]
                ),
            )
        )
    sections.append(
        (
            _("Deviations from the method"),
            "\n".join(f"{_long_date(d.decided_at)} — {d.summary}" for d in record.deviations)
            or _("None."),
        )
    )
    sections.append(
        (
            _("Replacements"),
            "\n".join(
                _(
                    "%(withdrawn)s replaced by %(replacement)s",
                    withdrawn=row.withdrawn,
                    replacement=row.replacement,
                )
                + (
                    " — " + _("quota gap: %(gaps)s", gaps="; ".join(row.breaches))
                    if row.breaches
                    else ""
                )
                for row in record.replacements
            )
            or _("None."),
        )
    )
    witnesses = [w.strip() for w in draw.witnesses.replace(";", "\n").splitlines() if w.strip()]
    sections.append(
        (
            _("Signatures of the witnesses"),
            "\n\n".join(
                _("%(name)s — signature: ______________________________", name=name)
                for name in witnesses or ["______________________________"]
            ),
        )
    )
    return pdf.document(
        str(_("Procès-verbal of the draw: %(title)s", title=draw.title)),
        str(_("%(commune)s — %(body)s", commune=tenant.name, body=record.body.name)),
        [(str(heading), str(text)) for heading, text in sections],
    )


def _long_date(moment: datetime) -> str:
    return str(format_date(moment.astimezone(PARIS).date(), "long"))


def _funnel_sentence(row: FunnelRow) -> str:
    return str(
        _(
            "Invited %(invited)s, reached %(reached)s, interested %(interested)s, in the pool "
            "%(pool)s, on the panel %(panel)s.",
            **dict(zip(FUNNEL_STEPS, row.steps(), strict=True)),
        )
    )


def _part(record: PublicRecord, funnel: Funnel) -> SubDraw:
    return next(part for part in record.parts if part.id == funnel.sub_draw_id)


def _seal_text(seal: Seal) -> str:
    lines = [_("Commitment (SHA-256): %(hash)s", hash=seal.commitment_sha256)]
    if seal.drand_round is not None:
        lines.append(
            _(
                "drand round %(round)s (chain %(chain)s)",
                round=seal.drand_round,
                chain=seal.drand_chain,
            )
        )
    if seal.seed_sha256:
        lines.append(_("Sealed seed (SHA-256): %(hash)s", hash=seal.seed_sha256))
    lines.append(
        _("Random value: %(value)s", value=seal.random_value)
        if seal.revealed
        else _("Random value: not revealed yet")
    )
    return "\n".join(str(line) for line in lines)
