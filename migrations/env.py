"""Alembic environment for Agora (one migration stream for every commune).

On PostgreSQL, migrations run as the owner role, take an advisory lock so that two deploys
never migrate at once, and give up on long lock waits instead of blocking the site.
"""

import logging
from logging.config import fileConfig

from alembic import context
from flask import current_app
from sqlalchemy import text

config = context.config
# Keeps the loggers already configured (an application migrating in-process logs on).
fileConfig(config.config_file_name, disable_existing_loggers=False)
logger = logging.getLogger("alembic.env")

db = current_app.extensions["migrate"].db
config.set_main_option(
    "sqlalchemy.url", db.engine.url.render_as_string(hide_password=False).replace("%", "%%")
)
MIGRATION_LOCK = 727_274_677  # arbitrary, fixed: pg_advisory_lock key for "agora migrations"


def _skip_empty_autogenerate(context, revision, directives):
    if getattr(config.cmd_opts, "autogenerate", False) and directives[0].upgrade_ops.is_empty():
        directives[:] = []
        logger.info("No changes in schema detected.")


def run_migrations_offline():
    context.configure(
        url=config.get_main_option("sqlalchemy.url"),
        target_metadata=db.metadata,
        literal_binds=True,
        render_as_batch=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online():
    conf_args = dict(current_app.extensions["migrate"].configure_args)
    conf_args.setdefault("process_revision_directives", _skip_empty_autogenerate)
    conf_args["compare_type"] = True
    with db.engine.connect() as connection:
        postgresql = connection.dialect.name == "postgresql"
        if postgresql:
            connection.execute(text("SET lock_timeout = '4s'"))
            connection.execute(text("SET statement_timeout = '120s'"))
            connection.execute(text("SELECT pg_advisory_lock(:key)"), {"key": MIGRATION_LOCK})
            connection.commit()
        # SQLite alters tables by copying them.
        conf_args["render_as_batch"] = not postgresql
        try:
            context.configure(
                connection=connection,
                target_metadata=db.metadata,
                transaction_per_migration=True,
                **conf_args,
            )
            with context.begin_transaction():
                context.run_migrations()
        finally:
            if postgresql:
                connection.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": MIGRATION_LOCK})
                connection.commit()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
