"""When a draw's letters were last asked for as a batch for the print shop (the staff page
shows its progress from then on).

Revision ID: 0027
Revises: 0026
Create Date: 2026-12-08 05:10:00

"""

import sqlalchemy as sa
from alembic import op

revision = "0027"
down_revision = "0026"
branch_labels = None
depends_on = None


def upgrade():
    op.add_column("draw", sa.Column("letters_requested_at", sa.DateTime(timezone=True)))


def downgrade():
    op.drop_column("draw", "letters_requested_at")
