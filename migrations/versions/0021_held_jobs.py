"""Jobs held in the database while Redis cannot be reached (agora/jobs/held.py).

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-07 02:30:00

"""

import sqlalchemy as sa
from alembic import op

from agora.tenancy.rls import grant_global_table

revision = "0021"
down_revision = "0020"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "held_job",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("tenant_id", sa.BigInteger(), nullable=False),
        sa.Column("kwargs", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_held_job")),
    )
    op.create_index("ix_held_job_created_at", "held_job", ["created_at"])
    # Global like the Redis queue it stands in for: no row-level security (see the module).
    # UPDATE too: the worker locks the rows it releases (SELECT … FOR UPDATE SKIP LOCKED).
    grant_global_table(op, "held_job", "SELECT, INSERT, UPDATE, DELETE")
    # /readyz compares the schema's revision with the scripts' head.
    grant_global_table(op, "alembic_version", "SELECT")


def downgrade():
    op.drop_index("ix_held_job_created_at", table_name="held_job")
    op.drop_table("held_job")
