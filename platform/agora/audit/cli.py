"""``flask audit verify SLUG``: recompute a commune's audit chain."""

from __future__ import annotations

import click
from flask import Flask
from flask.cli import AppGroup

from agora.audit.services import verify_chain
from agora.extensions import db
from agora.tenancy.isolation import tenant_scope
from agora.tenancy.services import tenant_by_slug

audit_cli = AppGroup("audit", help="Check the audit log.")


@audit_cli.command("verify")
@click.argument("slug")
def verify_command(slug: str) -> None:
    """Check that no event of SLUG's audit log was modified, deleted or inserted."""
    tenant = tenant_by_slug(db.session, slug)
    if tenant is None:
        raise click.ClickException(f"no commune {slug!r}")
    with tenant_scope(db.session, tenant.id):
        report = verify_chain(db.session, tenant)
    if not report.intact:
        raise click.ClickException(
            f"{slug}: audit chain BROKEN ({report.events} events read)\n"
            + "\n".join(report.problems)
        )
    click.echo(f"{slug}: audit chain intact ({report.events} events)")


def init_app(app: Flask) -> None:
    app.cli.add_command(audit_cli)
