"""A person holds at most one current (not ended) membership of a body.

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-06 21:00:00

"""
import sqlalchemy as sa
from alembic import op

revision = '0018'
down_revision = '0017'
branch_labels = None
depends_on = None

CURRENT = sa.text("status <> 'ended'")


def upgrade():
    op.create_index(
        'uq_membership_current',
        'membership',
        ['tenant_id', 'body_id', 'person_id'],
        unique=True,
        postgresql_where=CURRENT,
        sqlite_where=CURRENT,
    )


def downgrade():
    op.drop_index('uq_membership_current', table_name='membership')
