"""``flask identity …``: accounts, staff assignments, roles, provider credentials, retention."""

from __future__ import annotations

import click
from flask import Flask, current_app
from flask.cli import AppGroup
from sqlalchemy import select

from agora.extensions import db
from agora.identity.models import ProviderKind, Role
from agora.identity.services import (
    assign_staff,
    configure_provider,
    get_or_create_account,
    grant_role,
    purge_tokens,
)
from agora.identity.sessions import purge_sessions
from agora.jobs import enqueue
from agora.tenancy.isolation import tenant_scope
from agora.tenancy.models import Tenant
from agora.tenancy.services import tenant_by_slug

identity_cli = AppGroup("identity", help="Accounts, roles and sign-in providers.")


def _tenant(slug: str) -> Tenant:
    tenant = tenant_by_slug(db.session, slug)
    if tenant is None:
        raise click.ClickException(f"no commune {slug!r}")
    return tenant


@identity_cli.command("create-account")
@click.argument("email")
@click.option("--platform-admin", is_flag=True, help="Break-glass access to every commune.")
def create_account(email: str, platform_admin: bool) -> None:
    """Create (or find) the account of EMAIL."""
    account = get_or_create_account(db.session, email)
    account.is_platform_admin = account.is_platform_admin or platform_admin
    db.session.commit()
    click.echo(
        f"account {account.id} {account.email}{' (platform admin)' if platform_admin else ''}"
    )


@identity_cli.command("assign-staff")
@click.argument("email")
@click.argument("slug")
def assign_staff_command(email: str, slug: str) -> None:
    """Let consultancy staff member EMAIL work for commune SLUG."""
    tenant, account = _tenant(slug), get_or_create_account(db.session, email)
    assign_staff(db.session, tenant, account, actor="cli")
    db.session.commit()
    click.echo(f"{email} works for {slug}")


@identity_cli.command("grant")
@click.argument("email")
@click.argument("slug")
@click.argument("role", type=click.Choice([r.value for r in Role if r != Role.CONSULTANCY_STAFF]))
def grant(email: str, slug: str, role: str) -> None:
    """Grant ROLE in commune SLUG to EMAIL."""
    tenant, account = _tenant(slug), get_or_create_account(db.session, email)
    with tenant_scope(db.session, tenant.id):
        grant_role(db.session, tenant, account, Role(role), granted_by="cli")
    db.session.commit()
    click.echo(f"{email} is {role} in {slug}")


@identity_cli.command("set-provider")
@click.argument("slug")
@click.argument("kind", type=click.Choice([k.value for k in ProviderKind]))
@click.option("--discovery-url", required=True)
@click.option("--client-id", required=True)
@click.option("--client-secret", required=True, help="Stored encrypted.")
@click.option("--siret", help="The commune's SIRET (ProConnect matches agents on it).")
def set_provider(
    slug: str, kind: str, discovery_url: str, client_id: str, client_secret: str, siret: str | None
) -> None:
    """Store commune SLUG's credentials at FranceConnect or ProConnect."""
    configure_provider(
        db.session,
        _tenant(slug),
        ProviderKind(kind),
        discovery_url=discovery_url,
        client_id=client_id,
        client_secret=client_secret,
        siret=siret,
        actor="cli",
    )
    db.session.commit()
    click.echo(f"{slug}: {kind} configured")


@identity_cli.command("retention")
def retention() -> None:
    """Apply every commune's retention policy (queued when Redis is configured)."""
    purged = purge_tokens(db.session)
    ended = purge_sessions(db.session, current_app.permanent_session_lifetime)
    db.session.commit()
    for tenant in db.session.execute(select(Tenant)).scalars():
        enqueue("identity.retention", tenant_id=tenant.id)
    click.echo(
        f"{purged} expired sign-in tokens and {ended} expired sessions deleted;"
        " retention queued for every commune"
    )


def init_app(app: Flask) -> None:
    app.cli.add_command(identity_cli)
