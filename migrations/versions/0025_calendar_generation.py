"""A staff member's calendar address can be renewed: the generation signed into it.

Revision ID: 0025
Revises: 0024
Create Date: 2026-12-08 00:50:00

"""

import sqlalchemy as sa
from alembic import op

revision = "0025"
down_revision = "0024"
branch_labels = None
depends_on = None


def upgrade():
    op.add_column(
        "account",
        sa.Column("calendar_generation", sa.Integer(), nullable=False, server_default="0"),
    )


def downgrade():
    op.drop_column("account", "calendar_generation")
