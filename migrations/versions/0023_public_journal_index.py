"""The public journal's own index: a commune's public audit events by sequence number.

Revision ID: 0023
Revises: 0022
Create Date: 2026-12-07 14:20:00

"""

import sqlalchemy as sa
from alembic import op

revision = "0023"
down_revision = "0022"
branch_labels = None
depends_on = None

# Each as SQLAlchemy writes ``where(AuditEvent.public)``, so that the planner uses it.
PUBLIC = {"postgresql_where": sa.text("public"), "sqlite_where": sa.text("public = 1")}


def upgrade():
    op.create_index(
        "ix_audit_event_public",
        "audit_event",
        ["tenant_id", "seq"],
        **PUBLIC,
    )


def downgrade():
    op.drop_index("ix_audit_event_public", table_name="audit_event")
