"""Retention of a draw's personal data (GDPR minimisation).

``retention_months`` after a draw closes (the commune's ``[draws] retention_months``, 6 by
default), the personal data of the people not selected goes: the rows of the draw's
registers, the invitations of people without a pick, the contact details of the responses
without a pick, and the letters printed for the print shop (every invited household's name
and address). What the public record needs stays: the registers' hashes, the responses'
declared profiles and probabilities, the engine's records, the picks and the deviations; the
response funnel, which counts the deleted invitations, is frozen in the purge's audit event
(see ``record``). ``flask draws purge`` (run daily, see deploy/systemd) queues the job
``draws.purge`` for every commune.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

import click
from flask import Flask, current_app
from flask.cli import AppGroup
from sqlalchemy import Select, delete, func, select, update

from agora.audit import services as audit
from agora.db import DbSession, utcnow
from agora.draws import printing, record, services
from agora.draws.models import Draw, Invitation, Pick, Register, RegisterBlock, Response
from agora.extensions import db
from agora.jobs import enqueue, job
from agora.petitions.services import add_months
from agora.tenancy.isolation import bound_tenant_id
from agora.tenancy.models import Tenant
from agora.tenancy.services import current_config

DEFAULT_RETENTION_MONTHS = 6
ACTOR = "job:draws.purge"


def retention_months(draws_settings: Mapping[str, Any]) -> int:
    """The commune's retention period, in months after a draw closes."""
    return int(draws_settings.get("retention_months", DEFAULT_RETENTION_MONTHS))


def purge_date(draw: Draw, months: int) -> datetime | None:
    """When the personal data of ``draw``'s people not selected goes (``None`` while the
    draw is open)."""
    return add_months(draw.closed_at, months) if draw.closed_at is not None else None


def due(session: DbSession, tenant: Tenant, months: int, now: datetime | None = None) -> list[Draw]:
    """The closed draws whose retention period is over and that are not purged yet."""
    moment = now or utcnow()
    closed = session.execute(
        select(Draw).where(
            Draw.tenant_id == tenant.id,
            Draw.closed_at.is_not(None),
            Draw.purged_at.is_(None),
        )
    ).scalars()
    return [
        draw for draw in closed if (day := purge_date(draw, months)) is not None and day <= moment
    ]


def _selected_responses(draw: Draw) -> Select[Any]:
    """The responses of the people stage 2 picked (panel or reserve): their data stays."""
    return select(Pick.response_id).where(Pick.tenant_id == draw.tenant_id, Pick.draw_id == draw.id)


def _count(result: Any) -> int:
    """The rows a bulk DELETE or UPDATE touched."""
    return int(getattr(result, "rowcount", 0) or 0)


def purge(
    session: DbSession, tenant: Tenant, draw: Draw, *, months: int, upload_dir: str
) -> dict[str, int]:
    """Delete the personal data of ``draw``'s people not selected (the funnel frozen first)
    and its printed letters (under ``upload_dir``); the counts deleted, audited as
    ``draw.purged``."""
    parts = services.sub_draws(session, draw)
    funnels = record.live_funnels(session, draw, parts, record.engine_records(draw, parts))
    picked = _selected_responses(draw)
    kept_invitations = select(Response.invitation_id).where(
        Response.tenant_id == draw.tenant_id,
        Response.id.in_(picked),
        Response.invitation_id.is_not(None),
    )
    registers = select(Register.id).where(
        Register.tenant_id == draw.tenant_id, Register.draw_id == draw.id
    )
    stored = (RegisterBlock.tenant_id == draw.tenant_id) & RegisterBlock.register_id.in_(registers)
    rows = int(
        session.scalar(select(func.coalesce(func.sum(RegisterBlock.rows), 0)).where(stored)) or 0
    )
    session.execute(delete(RegisterBlock).where(stored))
    contacts = _count(
        session.execute(
            update(Response)
            .where(
                Response.tenant_id == draw.tenant_id,
                Response.draw_id == draw.id,
                Response.id.not_in(picked),
            )
            .values(contact={})
        )
    )
    # The responses keep their profile; their link to an invitation about to go goes first.
    session.execute(
        update(Response)
        .where(
            Response.tenant_id == draw.tenant_id,
            Response.draw_id == draw.id,
            Response.invitation_id.not_in(kept_invitations),
        )
        .values(invitation_id=None)
    )
    invitations = _count(
        session.execute(
            delete(Invitation).where(
                Invitation.tenant_id == draw.tenant_id,
                Invitation.draw_id == draw.id,
                Invitation.id.not_in(kept_invitations),
            )
        )
    )
    letters = printing.batch_dir(upload_dir, tenant, draw.id)
    counts = {
        "register_rows": rows,
        "invitations": invitations,
        "contacts": contacts,
        "letter_files": len(printing.batch_files(letters)),
    }
    draw.purged_at = utcnow()
    audit.record(
        session,
        tenant,
        actor=ACTOR,
        action=record.PURGED,
        object_type="draw",
        object_id=draw.id,
        details={
            **counts,
            "months": months,
            "funnels": [funnel.as_json() for funnel in funnels],
        },
    )
    session.flush()
    # Files are not part of the transaction: deleted once everything else is written.
    printing.delete_batch(letters)
    return counts


def purge_due(
    session: DbSession,
    tenant: Tenant,
    months: int,
    upload_dir: str,
    now: datetime | None = None,
) -> int:
    """Purge every draw of ``tenant`` whose retention period is over; how many."""
    draws = due(session, tenant, months, now)
    for draw in draws:
        purge(session, tenant, draw, months=months, upload_dir=upload_dir)
    return len(draws)


@job("draws.purge")
def purge_job() -> int:
    """The commune's draws purged today, after its ``[draws] retention_months``."""
    tenant = db.session.get(Tenant, bound_tenant_id(db.session))
    if tenant is None:
        raise LookupError("the job's commune no longer exists")
    version = current_config(db.session, tenant)
    settings = version.document.get("draws", {}) if version is not None else {}
    return purge_due(
        db.session, tenant, retention_months(settings), current_app.config["AGORA_UPLOAD_DIR"]
    )


draws_cli = AppGroup("draws", help="The draws' periodic and batch work.")


@draws_cli.command("purge")
def purge_command() -> None:
    """Purge, in every commune, the personal data of the draws whose retention period is
    over (queued with Redis)."""
    for tenant in db.session.execute(select(Tenant)).scalars():
        enqueue("draws.purge", tenant_id=tenant.id)
    click.echo("draws past their retention period purged in every commune")


@draws_cli.command("print-letters")
@click.argument("slug")
@click.argument("draw_id", type=int)
def print_letters_command(slug: str, draw_id: int) -> None:
    """Print the letters of a draw of commune SLUG for the print shop, as a batch (queued
    with Redis); run again, it finishes a batch a stopped worker left unfinished."""
    tenant = db.session.execute(select(Tenant).where(Tenant.slug == slug)).scalar_one_or_none()
    if tenant is None:
        raise click.ClickException(f"no commune {slug!r}")
    handle = enqueue("draws.print_letters", tenant_id=tenant.id, draw_id=draw_id)
    click.echo(f"letters of draw {draw_id} {'queued' if handle.queued else 'printed'}: {handle.id}")


def init_app(app: Flask) -> None:
    app.cli.add_command(draws_cli)
