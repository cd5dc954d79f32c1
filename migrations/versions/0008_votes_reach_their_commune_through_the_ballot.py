"""Votes and the register of voters reach their commune through their ballot only.

Their composite key to ``ballot (tenant_id, id)`` already ties each row to an existing
commune (the ballot's own key to ``tenant`` does the rest); the direct key to ``tenant`` was
checked again on every vote, each locking the commune's row that all voters share.

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-26 01:05:00

"""
from alembic import op

# revision identifiers, used by Alembic.
revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None

TABLES = ('ballot_voter', 'vote')


def upgrade():
    for table in TABLES:
        with op.batch_alter_table(table) as batch:
            batch.drop_constraint(f'fk_{table}_tenant_id_tenant', type_='foreignkey')


def downgrade():
    for table in TABLES:
        with op.batch_alter_table(table) as batch:
            batch.create_foreign_key(
                f'fk_{table}_tenant_id_tenant', 'tenant', ['tenant_id'], ['id'], ondelete='RESTRICT'
            )
