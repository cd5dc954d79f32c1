"""A register read through a source whose columns are chosen for each file (a generic CSV)
waits for its column mapping (status ``mapping``), then keeps the mapping it was read with.

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-06 18:30:00

"""
import sqlalchemy as sa
from alembic import op

revision = '0016'
down_revision = '0015'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('draw_register') as batch_op:
        batch_op.add_column(
            sa.Column('column_mapping', sa.JSON(), nullable=False, server_default=sa.text("'{}'"))
        )


def downgrade():
    with op.batch_alter_table('draw_register') as batch_op:
        batch_op.drop_column('column_mapping')
