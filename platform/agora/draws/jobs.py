"""Draw jobs: importing a register (all or nothing, with its progress), printing the letters."""

from __future__ import annotations

from pathlib import Path

from flask import current_app
from sqlalchemy import update
from sqlalchemy.orm import Session

from agora.draws import printing, services
from agora.draws.models import Register, RegisterStatus
from agora.extensions import db
from agora.jobs import job
from agora.plugins.manager import get_registry
from agora.tenancy.config import TenantConfig
from agora.tenancy.isolation import bind_tenant, bound_tenant_id
from agora.tenancy.models import Tenant
from agora.tenancy.services import current_config


def _progress_writer(tenant_id: int, register_id: int) -> services.Progress | None:
    """On PostgreSQL, the lines read so far, written in a transaction of their own so that
    the register's page sees them while the import's own transaction is still open. (SQLite
    has one writer at a time: there the page sees the result only.)"""
    if db.engine.dialect.name != "postgresql":
        return None

    def write(lines: int) -> None:
        with Session(db.engine) as side:
            bind_tenant(side, tenant_id)
            side.execute(
                update(Register)
                .where(Register.tenant_id == tenant_id, Register.id == register_id)
                .values(lines_read=lines)
            )
            side.commit()

    return write


@job("draws.import_register")
def import_register(register_id: int) -> str:
    """Read an uploaded register through the commune's source and store its eligible rows;
    the register's final status (``imported`` or ``failed``)."""
    tenant = db.session.get(Tenant, bound_tenant_id(db.session))
    if tenant is None:
        raise LookupError("the job's commune no longer exists")
    register = db.session.get(Register, (tenant.id, register_id))
    if register is None:
        raise LookupError(f"no register {register_id}")
    if register.status not in (RegisterStatus.UPLOADED, RegisterStatus.IMPORTING):
        return register.status.value
    version = current_config(db.session, tenant)
    if version is None:
        raise LookupError("the job's commune has no configuration")
    hooks = get_registry().view(TenantConfig(version.document))
    path = services.upload_path(current_app.config["AGORA_UPLOAD_DIR"], tenant, register.id)
    services.import_register(
        db.session,
        tenant,
        hooks,
        register,
        Path(path),
        progress=_progress_writer(tenant.id, register.id),
    )
    return register.status.value


@job("draws.print_letters")
def print_letters(draw_id: int) -> int:
    """Print the draw's letters part by part (``draws/printing.py``), resuming where a
    previous run stopped; the number of parts."""
    tenant = db.session.get(Tenant, bound_tenant_id(db.session))
    if tenant is None:
        raise LookupError("the job's commune no longer exists")
    version = current_config(db.session, tenant)
    if version is None:
        raise LookupError("the job's commune has no configuration")
    config = TenantConfig(version.document)
    directory = printing.batch_dir(current_app.config["AGORA_UPLOAD_DIR"], tenant, draw_id)
    while printing.print_next_part(db.session, tenant, config, draw_id, directory) is not None:
        pass
    return printing.parts_printed(db.session, tenant, draw_id)
