"""An account has at most one participant record per commune.

Two first requests at once (a double click) could each create one, and the account would
then sign a petition twice. Were two records already there for one account, this migration
stops on the constraint: merge them first.

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-26 02:05:00

"""
from alembic import op

# revision identifiers, used by Alembic.
revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('person') as batch:
        batch.create_unique_constraint(
            batch.f('uq_person_tenant_id_account_id'), ['tenant_id', 'account_id']
        )


def downgrade():
    with op.batch_alter_table('person') as batch:
        batch.drop_constraint(batch.f('uq_person_tenant_id_account_id'), type_='unique')
