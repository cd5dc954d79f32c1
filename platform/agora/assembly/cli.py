"""``flask assembly …``: the assembly's periodic work (run daily, see deploy/systemd)."""

from __future__ import annotations

import click
from flask import Flask
from flask.cli import AppGroup
from sqlalchemy import select

from agora.extensions import db
from agora.jobs import enqueue
from agora.tenancy.models import Tenant

assembly_cli = AppGroup("assembly", help="The assembly's periodic work.")


@assembly_cli.command("remind-overdue")
def remind_overdue() -> None:
    """Tell each commune which measures' public updates are overdue (queued with Redis)."""
    for tenant in db.session.execute(select(Tenant)).scalars():
        enqueue("assembly.overdue_alerts", tenant_id=tenant.id)
    click.echo("overdue measures checked for every commune")


def init_app(app: Flask) -> None:
    app.cli.add_command(assembly_cli)
