"""Which part of a draw's batch of letters holds each invitation's letter.

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-07 02:10:00

"""

import sqlalchemy as sa
from alembic import op

revision = "0022"
down_revision = "0021"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("invitation") as batch:
        batch.add_column(sa.Column("letter_part", sa.Integer(), nullable=True))


def downgrade():
    with op.batch_alter_table("invitation") as batch:
        batch.drop_column("letter_part")
