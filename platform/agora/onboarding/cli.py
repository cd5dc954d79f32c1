"""``flask tenants …``: onboard or update communes from ``tenants/*.toml``, export them back."""

from __future__ import annotations

import getpass
from pathlib import Path

import click
from flask import Flask
from flask.cli import AppGroup
from sqlalchemy import select

from agora.extensions import db
from agora.onboarding.rules_editor import hold_for_charter
from agora.onboarding.services import (
    apply_config,
    browser_version_in_the_way,
    export_config,
    plan_apply,
)
from agora.plugins.manager import get_registry
from agora.tenancy.config import FieldError, TenantConfigError, load_file
from agora.tenancy.isolation import tenant_scope
from agora.tenancy.models import Tenant
from agora.tenancy.services import newest_config, tenant_by_slug

tenants_cli = AppGroup("tenants", help="Onboard and update communes from configuration files.")


def _files(paths: tuple[Path, ...]) -> list[Path]:
    found: list[Path] = []
    for path in paths:
        found.extend(sorted(path.glob("*.toml")) if path.is_dir() else [path])
    return found


@tenants_cli.command("apply")
@click.argument("paths", nargs=-1, required=True, type=click.Path(exists=True, path_type=Path))
@click.option("--dry-run", is_flag=True, help="Print what would change; write nothing.")
@click.option(
    "--force",
    is_flag=True,
    help="Overwrite the rules of communes that were last changed in the browser.",
)
def apply_command(paths: tuple[Path, ...], dry_run: bool, force: bool) -> None:
    """Onboard or update the communes described by PATHS (files or folders), idempotently.

    All files are checked first; if any is invalid, nothing at all is written. A commune
    whose rules were last changed in the browser keeps them (the file is reported as
    behind) unless --force is given.
    """
    registry = get_registry()
    configs, errors = [], []
    first_with: dict[str, str] = {}  # slug: the file that names it first
    for path in _files(paths):
        try:
            config = load_file(path, registry)
        except TenantConfigError as error:
            errors.append(str(error))
            continue
        if config.slug in first_with:
            # Otherwise the last file would silently win over the first.
            clash = f"{config.slug!r} is also the slug of {first_with[config.slug]}"
            errors.append(FieldError("commune.slug", clash).format(str(path)))
        first_with.setdefault(config.slug, str(path))
        configs.append((str(path), config))
    if errors:
        raise click.ClickException("configuration refused, nothing written:\n" + "\n".join(errors))
    actor = f"cli:{getpass.getuser()}"
    try:
        for source, config in configs:
            in_the_way = None if force else browser_version_in_the_way(db.session, config)
            if in_the_way is not None:
                click.echo(
                    f"{config.slug}: kept version {in_the_way.version}, made in the browser"
                    f" ({in_the_way.source}, {in_the_way.created_at:%Y-%m-%d %H:%M} UTC);"
                    f" {source} is behind it: run 'flask tenants export {config.slug}' to"
                    " update the file, or apply with --force to overwrite"
                )
                continue
            if dry_run:
                click.echo(plan_apply(db.session, config, source).describe())
            else:
                plan = apply_config(db.session, config, source, actor)
                click.echo(plan.describe(with_diff=False))
                if plan.changes_config and not plan.creates_tenant:
                    _hold_for_charter(config.slug, actor)
    except TenantConfigError as error:
        db.session.rollback()
        raise click.ClickException(f"configuration refused, nothing written:\n{error}") from error
    if dry_run:
        db.session.rollback()
    else:
        db.session.commit()


def _hold_for_charter(slug: str, actor: str) -> None:
    """A file, like the browser, cannot bypass an adopted charter: rules that rewrite one of
    its clauses wait for its revision."""
    tenant = tenant_by_slug(db.session, slug)
    version = newest_config(db.session, tenant) if tenant is not None else None
    if tenant is None or version is None:
        return
    with tenant_scope(db.session, tenant.id):
        clauses = hold_for_charter(db.session, tenant, version, get_registry(), actor)
    if clauses:
        click.echo(
            f"  version {version.version} awaits the revision of the internal rules"
            f" (clauses rewritten: {', '.join(clauses)})"
        )


@tenants_cli.command("export")
@click.argument("slug")
@click.option("--output", "-o", type=click.Path(dir_okay=False, path_type=Path))
def export_command(slug: str, output: Path | None) -> None:
    """Write the configuration in force for SLUG in the tenants/*.toml format."""
    try:
        text = export_config(db.session, slug)
    except LookupError as error:
        raise click.ClickException(str(error)) from error
    if output is None:
        click.echo(text, nl=False)
    else:
        output.write_text(text, encoding="utf-8")


@tenants_cli.command("list")
def list_command() -> None:
    """List communes with their status and configuration version."""
    for tenant in db.session.execute(select(Tenant).order_by(Tenant.slug)).scalars():
        click.echo(
            f"{tenant.slug}\t{tenant.status.value}\tv{tenant.config_version or 0}\t{tenant.name}"
        )


def init_app(app: Flask) -> None:
    app.cli.add_command(tenants_cli)
