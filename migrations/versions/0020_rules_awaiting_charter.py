"""A version of the rules may await the revision of the internal rules before taking effect.

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-06 23:30:00

"""

import sqlalchemy as sa
from alembic import op

from agora.tenancy.rls import app_role

revision = "0020"
down_revision = "0019"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("tenant_config_version") as batch:
        batch.add_column(
            sa.Column("awaiting_charter", sa.Boolean(), server_default=sa.false(), nullable=False)
        )
    if op.get_bind().dialect.name == "postgresql":
        # The versions stay append-only: the app may change this one column, nothing else.
        role = app_role()
        op.execute(
            "DO $$ BEGIN "
            f"IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '{role}') THEN "
            f"EXECUTE 'GRANT UPDATE (awaiting_charter) ON tenant_config_version TO {role}'; "
            "END IF; END $$"
        )


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        role = app_role()
        op.execute(
            "DO $$ BEGIN "
            f"IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '{role}') THEN "
            f"EXECUTE 'REVOKE UPDATE (awaiting_charter) ON tenant_config_version FROM {role}'; "
            "END IF; END $$"
        )
    with op.batch_alter_table("tenant_config_version") as batch:
        batch.drop_column("awaiting_charter")
