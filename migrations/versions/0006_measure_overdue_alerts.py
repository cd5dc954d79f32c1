"""Measures remember when the commune was last told their public update is overdue.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-25 23:25:00

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade():
    op.add_column('measure', sa.Column('overdue_alerted_at', sa.DateTime(timezone=True), nullable=True))


def downgrade():
    op.drop_column('measure', 'overdue_alerted_at')
