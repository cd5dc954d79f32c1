"""``flask audit verify SLUG`` (or ``--all``): recompute communes' audit chains."""

from __future__ import annotations

import click
from flask import Flask
from flask.cli import AppGroup
from sqlalchemy import select

from agora.audit.services import verify_chain
from agora.extensions import db
from agora.tenancy.isolation import tenant_scope
from agora.tenancy.models import Tenant
from agora.tenancy.services import tenant_by_slug

audit_cli = AppGroup("audit", help="Check the audit log.")


@audit_cli.command("verify")
@click.argument("slug", required=False)
@click.option("--all", "every", is_flag=True, help="Every commune (after a restore).")
def verify_command(slug: str | None, every: bool) -> None:
    """Check that no event of SLUG's audit log was modified, deleted or inserted."""
    if every == (slug is not None):
        raise click.UsageError("give one commune's SLUG or --all")
    if every:
        tenants = list(db.session.scalars(select(Tenant).order_by(Tenant.slug)))
    else:
        assert slug is not None
        tenant = tenant_by_slug(db.session, slug)
        if tenant is None:
            raise click.ClickException(f"no commune {slug!r}")
        tenants = [tenant]
    broken = []
    for tenant in tenants:
        with tenant_scope(db.session, tenant.id):
            report = verify_chain(db.session, tenant)
        if report.intact:
            click.echo(f"{tenant.slug}: audit chain intact ({report.events} events)")
        else:
            broken.append(
                f"{tenant.slug}: audit chain BROKEN ({report.events} events read)\n"
                + "\n".join(report.problems)
            )
    if broken:
        raise click.ClickException("\n".join(broken))


def init_app(app: Flask) -> None:
    app.cli.add_command(audit_cli)
