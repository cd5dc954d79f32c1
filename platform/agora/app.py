"""The application factory."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from flask import Flask, has_request_context, request, session
from sqlalchemy import inspect, select

from agora import config, replica
from agora.extensions import babel, csrf, db, limiter, migrate


def _select_locale() -> str:
    from flask import current_app

    from agora.tenancy.context import resolved_tenant

    languages: tuple[str, ...] = current_app.config["AGORA_LANGUAGES"]
    if not has_request_context():  # command line, jobs: the default language
        return str(current_app.config["BABEL_DEFAULT_LOCALE"])
    asked = request.args.get("lang")
    if asked in languages:
        session["lang"] = asked
        return asked
    if session.get("lang") in languages:
        return str(session["lang"])
    tenant = resolved_tenant()
    return tenant.locale if tenant is not None else str(current_app.config["BABEL_DEFAULT_LOCALE"])


def _trusted_custom_domains(app: Flask) -> list[str]:
    """Custom domains mapped to communes, trusted as Host headers (read at start-up)."""
    from agora.tenancy.models import TenantDomain

    with app.app_context():
        if not inspect(db.engine).has_table(TenantDomain.__tablename__):
            return []
        hosts = list(db.session.execute(select(TenantDomain.hostname)).scalars())
        db.session.remove()
        return hosts


def build_app(test_config: dict[str, Any] | None = None) -> Flask:
    # Shared layout, error pages and styles live with the web capability.
    app = Flask(
        "agora",
        # The embedded database and uploads go to ./instance unless told otherwise.
        instance_path=os.path.abspath(os.environ.get("AGORA_INSTANCE_PATH", "instance")),
        instance_relative_config=True,
        template_folder="web/templates",
        static_folder="web/static",
    )
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)
    app.config.from_mapping(config.from_environment(app.instance_path))
    if test_config:
        app.config.from_mapping(test_config)

    replica.configure(app)
    db.init_app(app)
    replica.init_app(app)
    migrate.init_app(app, db, directory=str(Path(__file__).resolve().parents[2] / "migrations"))
    babel.init_app(app, locale_selector=_select_locale)
    csrf.init_app(app)
    limiter.init_app(app)
    # Every limit is declared on its view, whose decorator checks it. The extension's own
    # before-request check serves application-wide and default limits, which Agora has
    # none of: it would only add its cost to every request, each vote included.
    app.before_request_funcs[None].remove(limiter._check_request_limit)

    # Importing the models registers every table on the metadata (migrations compare it).
    from agora import (
        demo,
        models,  # noqa: F401
    )
    from agora.assembly import admin as assembly_admin
    from agora.assembly import cli as assembly_cli
    from agora.assembly import jobs as assembly_jobs  # noqa: F401  (registers the jobs)
    from agora.assembly import views as assembly_views
    from agora.audit import cli as audit_cli
    from agora.audit import jobs as audit_jobs  # noqa: F401  (registers the jobs)
    from agora.billing import views as billing_views
    from agora.draws import jobs as draws_jobs  # noqa: F401  (registers the jobs)
    from agora.draws import retention as draws_retention  # (registers draws.purge, its CLI)
    from agora.draws import views as draws_views
    from agora.identity import access as identity_access
    from agora.identity import cli as identity_cli
    from agora.identity import jobs as identity_jobs  # noqa: F401
    from agora.identity import views as identity_views
    from agora.indicators import views as indicators_views
    from agora.jobs import cli as jobs_cli
    from agora.notifications import views as notifications_views
    from agora.observability import init_app as observability_init
    from agora.onboarding import cli as onboarding_cli
    from agora.onboarding import rules_views
    from agora.petitions import views as petitions_views
    from agora.programme import views as programme_views
    from agora.tenancy import context
    from agora.web import init_app as init_web

    context.init_app(app)
    identity_access.init_app(app)  # after the commune is resolved: roles are per commune
    observability_init(app)  # after both: its log lines name the commune and account
    init_web(app)
    app.register_blueprint(identity_views.bp)
    app.register_blueprint(programme_views.bp)
    app.register_blueprint(assembly_views.bp)
    app.register_blueprint(assembly_admin.bp)
    app.register_blueprint(notifications_views.bp)
    app.register_blueprint(petitions_views.bp)
    app.register_blueprint(draws_views.bp)
    app.register_blueprint(indicators_views.bp)
    app.register_blueprint(rules_views.bp)
    app.register_blueprint(billing_views.bp)
    app.register_blueprint(billing_views.console_bp)
    app.register_blueprint(billing_views.webhook_bp)
    onboarding_cli.init_app(app)
    audit_cli.init_app(app)
    jobs_cli.init_app(app)
    identity_cli.init_app(app)
    assembly_cli.init_app(app)
    draws_retention.init_app(app)
    demo.init_app(app)

    app.config["TRUSTED_HOSTS"] = [*app.config["TRUSTED_HOSTS"], *_trusted_custom_domains(app)]
    return app
