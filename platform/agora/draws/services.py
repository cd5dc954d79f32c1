"""Draws: design, method, lifecycle and registers. Every write and audit record is here.

The lifecycle (:class:`~agora.draws.models.DrawStatus`) moves one step at a time and never
back; each step is in the commune's audit chain. The method (sources and seats, eligibility,
algorithm, witnesses) can change only while the draw is designed: once published, a change
is refused and nothing is stored.
"""

from __future__ import annotations

import hashlib
import io
import zlib
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from itertools import compress
from operator import itemgetter
from pathlib import Path
from typing import IO, Any

from flask_babel import format_date, format_decimal, ngettext
from flask_babel import gettext as _
from sqlalchemy import insert, select

from agora.assembly.models import Body, BodyStatus, Edition
from agora.audit import services as audit
from agora.db import PARIS, DbSession, paris_today, utcnow
from agora.draws import blocks, hashing, nested
from agora.draws.models import (
    Draw,
    DrawStatus,
    Pick,
    PickStatus,
    Register,
    RegisterBlock,
    RegisterStatus,
    Response,
    SubDraw,
)
from agora.errors import Conflict, Invalid, TooLarge
from agora.plugins.contracts import (
    ColumnMappedSource,
    DrawSource,
    QuotaCriterion,
    RegisterBatch,
    RegisterFormatError,
)
from agora.plugins.manager import TenantHooks
from agora.programme.models import Programme
from agora.shared.labels import DRAW_STATUS
from agora.tenancy.models import Tenant

#: The lifecycle, in order: a draw moves to the next status only.
LIFECYCLE: tuple[DrawStatus, ...] = tuple(DrawStatus)
#: The engine's algorithms (``agora.sortition.ALGORITHMS``), named here so that loading the
#: application does not load the engine and its solvers; a test keeps the two equal.
ALGORITHMS = ("leximin", "maximin", "legacy")
#: Registers may be uploaded (or replaced) until the commitment seals them.
REGISTERS_OPEN = (DrawStatus.DESIGNED, DrawStatus.METHOD_PUBLISHED)
#: The most previous editions whose seated members a draw may leave out.
MAX_RECENT_EDITIONS = 20
#: On PostgreSQL, the import's progress is written (in its own transaction) this often.
PROGRESS_EVERY = 20000
CHUNK = 1 << 20


#: Told the number of lines read so far, during an import.
Progress = Callable[[int], None]


@dataclass(frozen=True)
class SubDrawPlan:
    """``seats`` drawn from the commune's source ``source``."""

    source: str
    seats: int


# ---------------------------------------------------------------------------------------
# Design and method


def drawn_seats(hooks: TenantHooks, body: Body) -> int | None:
    """The seats of ``body`` its composition rule fills by lot (``None`` when the commune's
    rule does not describe the body, as for a programme's prefiguration group)."""
    for spec in hooks.composition_rules():
        if spec.key == body.key:
            return sum(
                seat.count
                for seat in spec.seats
                if seat.selection_mode in ("drawn", "drawn_among_volunteers")
            )
    return None


def draw_sources(session: DbSession, hooks: TenantHooks, draw: Draw) -> dict[str, DrawSource]:
    """The sources ``draw`` may read: the commune's, and the members of the other bodies of
    its edition or programme (nested draws)."""
    body = session.get(Body, (draw.tenant_id, draw.body_id))
    assert body is not None
    return nested.sources_for(session, hooks, body)


def _check_plan(
    session: DbSession, hooks: TenantHooks, body: Body, plan: list[SubDrawPlan], algorithm: str
) -> None:
    if not plan:
        raise Invalid(_("A draw needs at least one source."))
    sources = nested.sources_for(session, hooks, body)
    seen: set[str] = set()
    for part in plan:
        if part.source not in sources:
            raise Invalid(
                _(
                    "The commune has no draw source named “%(source)s” (it has: %(known)s).",
                    source=part.source,
                    known=", ".join(sources) or "—",
                )
            )
        if part.source in seen:
            raise Invalid(_("The source “%(source)s” is named twice.", source=part.source))
        seen.add(part.source)
        if part.seats < 1:
            raise Invalid(_("Each source fills at least one seat."))
    if algorithm not in ALGORITHMS:
        raise Invalid(_("Unknown selection algorithm."))
    wanted = drawn_seats(hooks, body)
    total = sum(part.seats for part in plan)
    if wanted is not None and total != wanted:
        raise Invalid(
            ngettext(
                "The body “%(body)s” has %(num)d drawn seat; the sources fill %(total)d.",
                "The body “%(body)s” has %(num)d drawn seats; the sources fill %(total)d.",
                wanted,
                body=body.name,
                total=total,
            )
        )


def bodies_to_draw(session: DbSession, tenant: Tenant) -> list[tuple[str, str]]:
    """Bodies still to compose whose seats can be drawn, as (id, name — edition or
    programme), newest first."""
    rows = session.execute(
        select(Body, Edition.title, Programme.title)
        .outerjoin(Edition, (Edition.tenant_id == Body.tenant_id) & (Edition.id == Body.edition_id))
        .outerjoin(
            Programme,
            (Programme.tenant_id == Body.tenant_id) & (Programme.id == Body.programme_id),
        )
        .where(Body.tenant_id == tenant.id, Body.status == BodyStatus.TO_COMPOSE)
        .order_by(Body.created_at.desc())
    ).all()
    return [
        (str(body.id), f"{body.name} — {edition or programme}") for body, edition, programme in rows
    ]


def _exclusion_prefix(tenant_id: int) -> bytes:
    """What an excluded id's hash starts with: the commune."""
    return f"{tenant_id}:".encode()


def exclusion_hash(tenant: Tenant, person_key: str) -> str:
    """What an excluded id is kept as (the id itself is not)."""
    return hashlib.sha256(_exclusion_prefix(tenant.id) + person_key.strip().encode()).hexdigest()


def exclusion_bits(person_key: str) -> int:
    """The 16 bits of an id that ``Draw.excluded_filter`` keeps."""
    return zlib.crc32(person_key.strip().encode()) & 0xFFFF


def _exclude(tenant: Tenant, draw: Draw, excluded_ids: Iterable[str]) -> None:
    ids = [i for i in excluded_ids if i.strip()]
    draw.excluded_hashes = sorted({exclusion_hash(tenant, i) for i in ids})
    draw.excluded_filter = sorted({exclusion_bits(i) for i in ids})


def design_draw(
    session: DbSession,
    tenant: Tenant,
    hooks: TenantHooks,
    *,
    actor: str,
    body: Body,
    title: str,
    plan: list[SubDrawPlan],
    algorithm: str = "leximin",
    witnesses: str = "",
    minimum_age: int = 0,
    recent_editions: int = 0,
    excluded_ids: Iterable[str] = (),
) -> Draw:
    """A new draw filling ``body``'s drawn seats, for the body's edition or programme; the
    minimum age and the previous editions whose members are left out come from the
    commune's ``[draws]`` configuration."""
    _check_plan(session, hooks, body, plan, algorithm)
    _check_eligibility(minimum_age, recent_editions)
    draw = Draw(
        tenant_id=tenant.id,
        edition_id=body.edition_id,
        programme_id=body.programme_id,
        body_id=body.id,
        title=title,
        status=DrawStatus.DESIGNED,
        minimum_age=minimum_age,
        recent_editions_excluded=recent_editions,
        reference_date=paris_today(),
        algorithm=algorithm,
        witnesses=witnesses,
    )
    _exclude(tenant, draw, excluded_ids)
    session.add(draw)
    session.flush()
    for position, part in enumerate(plan):
        _add_sub_draw(session, draw, part, position)
    audit.record(
        session,
        tenant,
        actor=actor,
        action="draw.designed",
        object_type="draw",
        object_id=draw.id,
        details={
            "body": body.id,
            "sources": {part.source: part.seats for part in plan},
            "minimum_age": draw.minimum_age,
            "recent_editions_excluded": recent_editions,
            "algorithm": algorithm,
        },
        public=True,
    )
    session.flush()
    return draw


def _check_eligibility(minimum_age: int, recent_editions: int) -> None:
    if not 0 <= minimum_age <= 120:
        raise Invalid(_("The minimum age must be between 0 and 120."))
    if not 0 <= recent_editions <= MAX_RECENT_EDITIONS:
        raise Invalid(
            _(
                "The number of previous editions whose members are left out must be between "
                "0 and %(max)d.",
                max=MAX_RECENT_EDITIONS,
            )
        )


def _add_sub_draw(session: DbSession, draw: Draw, part: SubDrawPlan, position: int) -> None:
    session.add(
        SubDraw(
            tenant_id=draw.tenant_id,
            draw_id=draw.id,
            source=part.source,
            seats=part.seats,
            position=position,
        )
    )


def change_method(
    session: DbSession,
    tenant: Tenant,
    hooks: TenantHooks,
    draw: Draw,
    *,
    actor: str,
    plan: list[SubDrawPlan],
    algorithm: str,
    witnesses: str,
    minimum_age: int,
    recent_editions: int = 0,
    excluded_ids: Iterable[str] | None = None,
) -> Draw:
    """Change the method of a draw not yet published (refused once published)."""
    if draw.status != DrawStatus.DESIGNED:
        raise Conflict(
            _(
                "The method of this draw was published on %(day)s: it can no longer change.",
                day=format_date(draw.method_published_at.astimezone(PARIS).date(), "long")
                if draw.method_published_at
                else "—",
            )
        )
    body = session.get(Body, (tenant.id, draw.body_id))
    assert body is not None
    _check_plan(session, hooks, body, plan, algorithm)
    _check_eligibility(minimum_age, recent_editions)
    existing = {s.source: s for s in sub_draws(session, draw)}
    wanted = {part.source for part in plan}
    for source, sub_draw in existing.items():
        if source not in wanted:
            session.delete(sub_draw)
    for position, part in enumerate(plan):
        if part.source in existing:
            existing[part.source].seats = part.seats
            existing[part.source].position = position
        else:
            _add_sub_draw(session, draw, part, position)
    draw.algorithm = algorithm
    draw.witnesses = witnesses
    draw.minimum_age = minimum_age
    draw.recent_editions_excluded = recent_editions
    if excluded_ids is not None:
        _exclude(tenant, draw, excluded_ids)
    audit.record(
        session,
        tenant,
        actor=actor,
        action="draw.method_changed",
        object_type="draw",
        object_id=draw.id,
        details={
            "sources": {part.source: part.seats for part in plan},
            "minimum_age": minimum_age,
            "recent_editions_excluded": recent_editions,
            "algorithm": algorithm,
            "exclusions": len(draw.excluded_hashes),
        },
    )
    session.flush()
    return draw


def sub_draws(session: DbSession, draw: Draw) -> list[SubDraw]:
    return list(
        session.execute(
            select(SubDraw)
            .where(SubDraw.tenant_id == draw.tenant_id, SubDraw.draw_id == draw.id)
            .order_by(SubDraw.position)
        ).scalars()
    )


def registers(session: DbSession, draw: Draw) -> list[Register]:
    return list(
        session.execute(
            select(Register)
            .where(Register.tenant_id == draw.tenant_id, Register.draw_id == draw.id)
            .order_by(Register.created_at.desc(), Register.id.desc())
        ).scalars()
    )


def current_registers(session: DbSession, draw: Draw) -> dict[int, Register]:
    """Per sub-draw, its latest register."""
    latest: dict[int, Register] = {}
    for register in registers(session, draw):
        latest.setdefault(register.sub_draw_id, register)
    return latest


def draws_of(session: DbSession, tenant: Tenant) -> list[Draw]:
    return list(
        session.execute(
            select(Draw).where(Draw.tenant_id == tenant.id).order_by(Draw.created_at.desc())
        ).scalars()
    )


def owner_title(session: DbSession, draw: Draw) -> str:
    """The edition or the programme the draw belongs to, as staff name it."""
    if draw.edition_id is not None:
        edition = session.get(Edition, (draw.tenant_id, draw.edition_id))
        return edition.title if edition else ""
    programme = session.get(Programme, (draw.tenant_id, draw.programme_id))
    return programme.title if programme else ""


# ---------------------------------------------------------------------------------------
# The lifecycle


def advance(session: DbSession, tenant: Tenant, draw: Draw, to: DrawStatus, *, actor: str) -> Draw:
    """Move ``draw`` to ``to``, the next step of its lifecycle (each step is audited)."""
    position = LIFECYCLE.index(draw.status)
    if to == draw.status or LIFECYCLE.index(to) <= position:
        raise Conflict(
            _(
                "This draw is already past the step “%(step)s”: a step is never done twice.",
                step=status_label(to),
            )
        )
    expected = LIFECYCLE[position + 1]
    if to != expected:
        raise Conflict(
            _(
                "The step “%(step)s” comes after “%(expected)s”, which is not done yet.",
                step=status_label(to),
                expected=status_label(expected),
            )
        )
    if to == DrawStatus.METHOD_PUBLISHED:
        _check_publishable(session, draw)
        draw.method_published_at = utcnow()
    if to == DrawStatus.COMMITTED:
        _check_registers_imported(session, draw)
    previous = draw.status
    draw.status = to
    draw.status_changed_at = utcnow()
    audit.record(
        session,
        tenant,
        actor=actor,
        action=f"draw.{to.value}",
        object_type="draw",
        object_id=draw.id,
        details={"from": previous.value, "to": to.value, **method_record(session, draw)},
        public=True,
    )
    session.flush()
    return draw


def publish_method(session: DbSession, tenant: Tenant, draw: Draw, *, actor: str) -> Draw:
    return advance(session, tenant, draw, DrawStatus.METHOD_PUBLISHED, actor=actor)


def _check_publishable(session: DbSession, draw: Draw) -> None:
    if not sub_draws(session, draw):
        raise Conflict(_("A draw needs at least one source before its method is published."))


def _check_registers_imported(session: DbSession, draw: Draw) -> None:
    latest = current_registers(session, draw)
    for sub_draw in sub_draws(session, draw):
        register = latest.get(sub_draw.id)
        if register is None or register.status != RegisterStatus.IMPORTED:
            raise Conflict(
                _(
                    "The register of the source “%(source)s” is not imported yet.",
                    source=sub_draw.source,
                )
            )


def method_record(session: DbSession, draw: Draw) -> dict[str, Any]:
    """The method as the audit chain and the public page keep it."""
    return {
        "sources": {s.source: s.seats for s in sub_draws(session, draw)},
        "minimum_age": draw.minimum_age,
        "recent_editions_excluded": draw.recent_editions_excluded,
        "reference_date": draw.reference_date.isoformat(),
        "exclusions": len(draw.excluded_hashes),
        "algorithm": draw.algorithm,
        "witnesses": draw.witnesses,
    }


def stratum_names(criteria: Iterable[QuotaCriterion]) -> dict[str, str]:
    """A register's strata named by the quota criteria whose values they are (the address
    file's ``quartier`` holds the neighbourhood criterion's values)."""
    return {value.value: value.label for criterion in criteria for value in criterion.values}


def stratum_label(names: Mapping[str, str], stratum: str) -> str:
    if not stratum:
        return str(_("no stratum (volunteers, or a uniform draw)"))
    return names.get(stratum, stratum)


def status_label(status: DrawStatus) -> str:
    return str(DRAW_STATUS[status.value])


# ---------------------------------------------------------------------------------------
# Registers: upload


def upload_path(folder: str | Path, tenant: Tenant, register_id: int) -> Path:
    return Path(folder) / str(tenant.id) / f"register-{register_id}.upload"


def receive_register(
    session: DbSession,
    tenant: Tenant,
    draw: Draw,
    sub_draw: SubDraw,
    *,
    actor: str,
    stream: IO[bytes],
    filename: str,
    folder: str | Path,
    max_bytes: int,
) -> Register:
    """Stream an uploaded file to disk (hashing and measuring it on the way) and record it;
    a file over ``max_bytes`` is refused and nothing is kept."""
    if draw.status not in REGISTERS_OPEN:
        raise Conflict(
            _("The registers of this draw are sealed by its commitment: none can be added.")
        )
    name = Path(filename or "registre").name[:255] or "registre"
    register = Register(
        tenant_id=tenant.id,
        draw_id=draw.id,
        sub_draw_id=sub_draw.id,
        source=sub_draw.source,
        filename=name,
        size_bytes=0,
        sha256="",
        status=RegisterStatus.UPLOADED,
    )
    session.add(register)
    session.flush()
    path = upload_path(folder, tenant, register.id)
    path.parent.mkdir(parents=True, exist_ok=True)
    digest, size = hashlib.sha256(), 0
    try:
        with path.open("wb") as out:
            while chunk := stream.read(CHUNK):
                size += len(chunk)
                if size > max_bytes:
                    raise TooLarge(
                        _(
                            "File “%(file)s”: larger than the %(limit)s accepted.",
                            file=name,
                            limit=megabytes(max_bytes),
                        )
                    )
                digest.update(chunk)
                out.write(chunk)
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    register.size_bytes = size
    register.sha256 = digest.hexdigest()
    # A file still waiting for its columns is replaced: it is not kept on disk for nothing.
    for waiting in registers(session, draw):
        if waiting.sub_draw_id == sub_draw.id and waiting.status == RegisterStatus.MAPPING:
            fail_register(
                session,
                tenant,
                waiting,
                _(
                    "File “%(file)s”: replaced by another file before its columns were chosen.",
                    file=waiting.filename,
                ),
                upload_path(folder, tenant, waiting.id),
            )
    audit.record(
        session,
        tenant,
        actor=actor,
        action="draw.register_uploaded",
        object_type="draw",
        object_id=draw.id,
        details={
            "register": register.id,
            "source": sub_draw.source,
            "file": name,
            "bytes": size,
            "sha256": register.sha256,
        },
    )
    session.flush()
    return register


def register_members(
    session: DbSession,
    tenant: Tenant,
    hooks: TenantHooks,
    draw: Draw,
    sub_draw: SubDraw,
    *,
    volunteers: Iterable[int],
    folder: str,
    actor: str,
) -> Register:
    """The register of a nested sub-draw: the members of its source's body who volunteer
    (their membership ids), written and read as an uploaded file is, all or nothing."""
    source = draw_sources(session, hooks, draw).get(sub_draw.source)
    if not isinstance(source, nested.MembersSource):
        raise Invalid(_("This source is not the members of a body."))
    chosen = set(volunteers)
    members = [(m, r) for m, r in nested.drawn_members(session, source) if m.id in chosen]
    if not members:
        raise Invalid(_("Tick at least one member who volunteers."))
    content = nested.volunteers_file(members)
    body = session.get(Body, (tenant.id, source.body_id))
    assert body is not None
    register = receive_register(
        session,
        tenant,
        draw,
        sub_draw,
        actor=actor,
        stream=io.BytesIO(content),
        filename=_("Volunteering members — %(body)s", body=body.name),
        folder=folder,
        max_bytes=len(content),
    )
    return import_register(
        session, tenant, hooks, register, upload_path(folder, tenant, register.id)
    )


def megabytes(size: int) -> str:
    return str(_("%(size)s MB", size=format_decimal(round(size / 2**20, 1))))


# ---------------------------------------------------------------------------------------
# Registers: import


def _person_prefix(tenant_id: int, source: str) -> bytes:
    """What a person's hash starts with: the commune and the source."""
    return f"{tenant_id}:{source}:".encode()


def _household_prefix(tenant_id: int, source: str) -> bytes:
    return f"{tenant_id}:{source}:household:".encode()


def person_hash(tenant: Tenant, source: str, person_key: str) -> str:
    """The stable id a register's entry keeps (the register's own id is not kept)."""
    return hashlib.sha256(_person_prefix(tenant.id, source) + person_key.encode()).hexdigest()


def format_error(filename: str, error: RegisterFormatError) -> str:
    """The French (reader's language) message of a register's fault: file, line, column."""
    params = {k: str(v) for k, v in error.params.items()}
    code = error.code
    if code == "empty_file":
        problem = _("the file is empty (a header line is expected)")
    elif code == "not_text":
        problem = _("this is not a text file (a workbook, or text saved as UTF-16?)")
    elif code == "spreadsheet":
        problem = _("this is a spreadsheet workbook, not a CSV file: save it as CSV")
    elif code == "utf16_without_bom":
        problem = _("the file seems to be UTF-16 without a byte-order mark: save it as UTF-8")
    elif code == "binary":
        problem = _("binary data: this is not a CSV text file")
    elif code == "undecodable":
        problem = _("bytes that are neither UTF-8 nor Windows-1252: save the file as UTF-8 CSV")
    elif code == "mixed_encoding":
        problem = _("the file mixes UTF-8 and Windows-1252 text: save it again as UTF-8")
    elif code == "encoding":
        problem = _(
            "the file is not valid %(encoding)s text; save it again as %(encoding)s",
            encoding=params.get("encoding", "?"),
        )
    elif code == "delimiter":
        problem = _(
            "columns are separated by “%(found)s” where “%(expected)s” is expected",
            found=params.get("found", "?"),
            expected=params.get("expected", "?"),
        )
    elif code == "missing_columns":
        columns = params.get("columns", "")
        problem = ngettext(
            "missing column: %(columns)s",
            "missing columns: %(columns)s",
            len(columns.split(", ")),
            columns=columns,
        )
    elif code == "duplicate_columns":
        columns = params.get("columns", "")
        problem = ngettext(
            "the header names the column %(columns)s twice",
            "the header names the columns %(columns)s twice",
            len(columns.split(", ")),
            columns=columns,
        )
    elif code == "field_count":
        problem = _(
            "%(found)s fields where the header has %(expected)s",
            found=params.get("found", "?"),
            expected=params.get("expected", "?"),
        )
    elif code == "empty_identifier":
        problem = _("empty identifier")
    elif code == "empty_address":
        problem = _("empty address")
    elif code == "unreadable_date":
        problem = _("unreadable date “%(value)s”", value=params.get("value", ""))
    elif code == "duplicate":
        problem = _(
            "identifier “%(value)s” already on line %(first)s",
            value=params.get("value", ""),
            first=params.get("first", "?"),
        )
    elif code == "unknown_value":
        problem = _(
            "unknown value “%(value)s” for “%(criterion)s” (expected: %(expected)s)",
            value=params.get("value", ""),
            criterion=params.get("criterion", ""),
            expected=params.get("expected", ""),
        )
    else:
        problem = _("malformed file: %(detail)s", detail=params.get("detail", str(error)))
    if error.line is not None and error.column is not None:
        place = _("Line %(line)s, column “%(column)s”", line=error.line, column=error.column)
    elif error.line is not None:
        place = _("Line %(line)s", line=error.line)
    else:
        place = ""
    if place:
        return str(
            _(
                "File “%(file)s” — %(place)s: %(problem)s",
                file=filename,
                place=place,
                problem=problem,
            )
        )
    return str(_("File “%(file)s”: %(problem)s", file=filename, problem=problem))


def _age_on(birth: date, day: date) -> int:
    return day.year - birth.year - ((day.month, day.day) < (birth.month, birth.day))


def _criteria_by_feature(criteria: list[QuotaCriterion]) -> dict[str, QuotaCriterion]:
    return {criterion.feature: criterion for criterion in criteria}


def import_register(
    session: DbSession,
    tenant: Tenant,
    hooks: TenantHooks,
    register: Register,
    path: Path,
    *,
    progress: Progress | None = None,
) -> Register:
    """Read the register at ``path`` through its source and store its eligible rows, all or
    nothing: on the first fault nothing is stored and the register is marked failed with
    the French message naming file, line and column. The file is deleted either way."""
    draw = session.get(Draw, (tenant.id, register.draw_id))
    assert draw is not None
    source = draw_sources(session, hooks, draw).get(register.source)
    if source is None:
        return fail_register(
            session,
            tenant,
            register,
            _("The commune no longer has the draw source “%(source)s”.", source=register.source),
            path,
        )
    if register.column_mapping:
        if not isinstance(source, ColumnMappedSource):
            return fail_register(
                session,
                tenant,
                register,
                _("The source “%(source)s” no longer reads chosen columns.", source=source.label),
                path,
            )
        source = source.mapped(register.column_mapping)
    savepoint = session.begin_nested()
    try:
        stored, ineligible = _store_rows(
            session, tenant, hooks, draw, register, source, path, progress
        )
    except RegisterFormatError as error:
        savepoint.rollback()
        return fail_register(
            session, tenant, register, format_error(register.filename, error), path
        )
    except OSError as error:
        savepoint.rollback()
        return fail_register(
            session,
            tenant,
            register,
            _("File “%(file)s”: %(problem)s", file=register.filename, problem=str(error)),
            path,
        )
    savepoint.commit()
    register.status = RegisterStatus.IMPORTED
    register.row_count = stored
    register.ineligible = ineligible
    register.error = ""
    register.imported_at = utcnow()
    audit.record(
        session,
        tenant,
        actor="job:draws.import_register",
        action="draw.register_imported",
        object_type="draw",
        object_id=draw.id,
        details={
            "register": register.id,
            "source": register.source,
            "sha256": register.sha256,
            "rows": stored,
            "ineligible": ineligible,
        },
        public=True,
    )
    path.unlink(missing_ok=True)
    session.flush()
    return register


def fail_register(
    session: DbSession, tenant: Tenant, register: Register, message: str, path: Path
) -> Register:
    """Refuse ``register`` with ``message`` (French), delete its file; audited."""
    register.status = RegisterStatus.FAILED
    register.error = message
    register.row_count = 0
    audit.record(
        session,
        tenant,
        actor="job:draws.import_register",
        action="draw.register_failed",
        object_type="draw",
        object_id=register.draw_id,
        details={"register": register.id, "sha256": register.sha256, "error": message},
    )
    path.unlink(missing_ok=True)
    session.flush()
    return register


def recent_member_hashes(session: DbSession, draw: Draw) -> set[str]:
    """The hashed register ids of the people seated by the draws of the
    ``draw.recent_editions_excluded`` editions before the draw's own (for a programme's draw,
    the latest ones). A hash names its source, so people match within one source only."""
    if not draw.recent_editions_excluded:
        return set()
    earlier = select(Edition.id).where(Edition.tenant_id == draw.tenant_id)
    if draw.edition_id is not None:
        own = session.get(Edition, (draw.tenant_id, draw.edition_id))
        assert own is not None
        earlier = earlier.where(Edition.year < own.year)
    editions = earlier.order_by(Edition.year.desc()).limit(draw.recent_editions_excluded)
    return set(
        session.scalars(
            select(Response.person_hash)
            .join(
                Pick,
                (Pick.tenant_id == Response.tenant_id) & (Pick.response_id == Response.id),
            )
            .join(Draw, (Draw.tenant_id == Pick.tenant_id) & (Draw.id == Pick.draw_id))
            .where(
                Pick.tenant_id == draw.tenant_id,
                Pick.status == PickStatus.SEATED,
                Draw.edition_id.in_(editions.scalar_subquery()),
            )
        )
    )


#: A stratum is kept to the width of the invitation's column.
_STRATUM = itemgetter(slice(None, 100))


def _refuse_duplicates(source: DrawSource, path: Path, prefix: bytes, prefixes: Any) -> None:
    """Refuse the register if a person appears twice, naming both lines: the 64-bit prefixes
    of the people's hashes (in the file's order) are sorted to find the repeated ones, then
    the file is read again to find the first line repeating an earlier one (a duplicate is
    rare, and a refusal; prefixes may also meet by chance, with other ids)."""
    import numpy as np  # here only: no other request of the application needs NumPy

    ordered = np.sort(prefixes)
    repeated = set(ordered[1:][ordered[1:] == ordered[:-1]].tolist())
    if not repeated:
        return
    first: dict[str, int] = {}
    for batch in source.read_batches(path):
        heads = np.frombuffer(b"".join(hashing.digests(prefix, batch.person_keys)), ">u8")[::4]
        for index in np.flatnonzero(np.isin(heads, list(repeated))).tolist():
            key, line = batch.person_keys[index], batch.lines[index]
            if key in first:
                raise RegisterFormatError(
                    f"duplicate identifier {key!r}",
                    line=line,
                    column=source.columns.get("person"),
                    code="duplicate",
                    params={"value": key, "first": str(first[key])},
                )
            first[key] = line


def _check_values(
    batch: RegisterBatch,
    criteria: Mapping[str, QuotaCriterion],
    allowed: Mapping[str, set[str]],
    columns: Mapping[str, str],
) -> None:
    """Refuse a value no quota criterion knows, at its first line."""
    for feature, cells in batch.features.items():
        values = allowed.get(feature)
        if values is None or set(cells) <= values:
            continue
        index = next(i for i, value in enumerate(cells) if value not in values)
        raise RegisterFormatError(
            f"unknown value {cells[index]!r} for {feature}",
            line=batch.lines[index],
            column=columns.get(feature, feature),
            code="unknown_value",
            params={
                "value": cells[index],
                "criterion": criteria[feature].label,
                "expected": ", ".join(sorted(values)),
            },
        )


class _Eligibility:
    """Who of a batch may be drawn; the others counted by reason (one reason each, the first
    that applies: excluded by name, under age, seated in a recent edition)."""

    def __init__(self, session: DbSession, tenant_id: int, draw: Draw) -> None:
        self.excluded = set(draw.excluded_hashes)
        self.filter = set(draw.excluded_filter)
        self.recent = {bytes.fromhex(h) for h in recent_member_hashes(session, draw)}
        self.exclusion_prefix = _exclusion_prefix(tenant_id)
        self.young = _Young(draw.minimum_age, draw.reference_date)
        self.counts = {"under_age": 0, "excluded": 0, "recent_member": 0}

    def _excluded(self, keys: Sequence[str]) -> list[int]:
        """The entries excluded by name: their ids' hashes in ``excluded_hashes``, hashed only
        where the id's 16 bits are in ``excluded_filter`` (when the draw has it)."""
        if self.filter:
            bits = map((0xFFFF).__and__, map(zlib.crc32, map(str.encode, keys)))
            candidates = list(compress(range(len(keys)), map(self.filter.__contains__, bits)))
        else:
            candidates = list(range(len(keys)))
        hashes = hashing.hexdigests(self.exclusion_prefix, [keys[i] for i in candidates])
        return list(compress(candidates, map(self.excluded.__contains__, hashes)))

    def keep(self, batch: RegisterBatch, digests: list[bytes]) -> list[bool] | None:
        """One flag an entry (``None``: all of them kept)."""
        reasons: list[tuple[str, Iterable[int]]] = []
        if self.excluded:
            reasons.append(("excluded", self._excluded(batch.person_keys)))
        if self.young.minimum_age and batch.birth_dates is not None:
            flags = map(self.young.__getitem__, batch.birth_dates)
            reasons.append(("under_age", compress(range(len(batch)), flags)))
        if self.recent:
            flags = map(self.recent.__contains__, digests)
            reasons.append(("recent_member", compress(range(len(batch)), flags)))
        keep: list[bool] | None = None
        for reason, indexes in reasons:
            for index in indexes:
                if keep is None:
                    keep = [True] * len(batch)
                if keep[index]:
                    keep[index] = False
                    self.counts[reason] += 1
        return keep


class _Young(dict[date | None, bool]):
    """Whether a date of birth is under the minimum age on the reference day, each date
    computed once (a roll of a million people has some tens of thousands of them)."""

    def __init__(self, minimum_age: int, reference_date: date) -> None:
        super().__init__()
        self.minimum_age, self.reference_date = minimum_age, reference_date

    def __missing__(self, born: date | None) -> bool:
        young = born is not None and _age_on(born, self.reference_date) < self.minimum_age
        self[born] = young
        return young


def _store_rows(
    session: DbSession,
    tenant: Tenant,
    hooks: TenantHooks,
    draw: Draw,
    register: Register,
    source: DrawSource,
    path: Path,
    progress: Progress | None,
) -> tuple[int, dict[str, int]]:
    """Check and store the register's eligible entries by blocks, a column at a time: a roll
    of a million people is hashed, checked and packed inside C's loops, and written as a few
    hundred rows (:mod:`agora.draws.blocks`)."""
    import numpy as np  # here only: no other request of the application needs NumPy

    criteria = _criteria_by_feature(hooks.quota_criteria())
    allowed = {
        feature: {value.value for value in criterion.values}
        for feature, criterion in criteria.items()
    }
    columns = source.columns
    eligibility = _Eligibility(session, tenant.id, draw)
    people = _person_prefix(tenant.id, register.source)
    homes = _household_prefix(tenant.id, register.source)
    # 64 bits of each person's hash, not the ids nor their lines: a roll of 1.5 million
    # people keeps 12 MB here; repeated ones are looked for once the file is read, and
    # confirmed on the file.
    heads = []
    lines = stored = 0
    for number, batch in enumerate(source.read_batches(path)):
        _check_values(batch, criteria, allowed, columns)
        digests = hashing.digests(people, batch.person_keys)
        persons = b"".join(digests)
        heads.append(np.frombuffer(persons, dtype=">u8")[::4].copy())  # not the whole hashes
        keep = eligibility.keep(batch, digests)
        households, strata = batch.household_keys, batch.strata
        features, contact = batch.features, batch.attributes
        if keep is not None:
            persons = b"".join(compress(digests, keep))
            households, strata = list(compress(households, keep)), list(compress(strata, keep))
            features = {name: list(compress(cells, keep)) for name, cells in features.items()}
            contact = {name: list(compress(cells, keep)) for name, cells in contact.items()}
        block = blocks.Block(
            persons,
            hashing.repeated_digests(homes, households),
            list(map(_STRATUM, strata)) if max(map(len, strata), default=0) > 100 else strata,
            features,
            contact,
        )
        try:
            data = blocks.encode(block)
        except blocks.CellHoldsSeparator as held:
            lines_kept = batch.lines if keep is None else list(compress(batch.lines, keep))
            raise RegisterFormatError(
                f"a NUL byte in column {held.column!r}", line=lines_kept[held.index], code="binary"
            ) from held
        session.execute(
            insert(RegisterBlock),
            [
                {
                    "tenant_id": tenant.id,
                    "register_id": register.id,
                    "number": number,
                    "rows": len(block),
                    "data": data,
                }
            ],
        )
        before, lines = lines, lines + len(batch)
        stored += len(block)
        if progress is not None and before // PROGRESS_EVERY != lines // PROGRESS_EVERY:
            progress(lines)
    if heads:
        _refuse_duplicates(source, path, people, np.concatenate(heads))
    register.lines_read = lines
    return stored, {k: v for k, v in eligibility.counts.items() if v}


def stored_blocks(session: DbSession, register: Register) -> Iterator[bytes]:
    """The register's stored blocks, as bytes, one at a time (some hundreds of kilobytes
    each), in the file's order."""
    numbers = session.scalars(
        select(RegisterBlock.number)
        .where(
            RegisterBlock.tenant_id == register.tenant_id,
            RegisterBlock.register_id == register.id,
        )
        .order_by(RegisterBlock.number)
    ).all()
    if session.get_bind().dialect.name == "postgresql":
        # Read as binary: in text, psycopg would receive each byte as two hex digits.
        driver = session.connection().connection.driver_connection
        assert driver is not None
        with driver.cursor(binary=True) as cursor:
            for number in numbers:
                cursor.execute(
                    "SELECT data FROM register_block "
                    "WHERE tenant_id = %s AND register_id = %s AND number = %s",
                    (register.tenant_id, register.id, number),
                )
                yield bytes(cursor.fetchone()[0])
        return
    for number in numbers:
        yield session.scalars(
            select(RegisterBlock.data).where(
                RegisterBlock.tenant_id == register.tenant_id,
                RegisterBlock.register_id == register.id,
                RegisterBlock.number == number,
            )
        ).one()


def read_blocks(
    session: DbSession, register: Register, *, contact: bool = True
) -> Iterator[blocks.Block]:
    """The register's stored blocks, decoded one at a time, in the file's order."""
    for data in stored_blocks(session, register):
        yield blocks.decode(data, contact=contact)
