"""Milestones of a measure: dated steps announced publicly and marked when reached.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-26 00:20:00

"""
import sqlalchemy as sa
from alembic import op

from agora.tenancy.rls import enable_tenant_rls

# revision identifiers, used by Alembic.
revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('milestone',
    sa.Column('tenant_id', sa.BigInteger(), nullable=False),
    sa.Column('id', sa.BigInteger(), nullable=False),
    sa.Column('measure_id', sa.BigInteger(), nullable=False),
    sa.Column('title', sa.String(length=300), nullable=False),
    sa.Column('due_on', sa.Date(), nullable=False),
    sa.Column('reached_on', sa.Date(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['tenant_id', 'measure_id'], ['measure.tenant_id', 'measure.id'], name=op.f('fk_milestone_tenant_id_measure_id_measure'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenant.id'], name=op.f('fk_milestone_tenant_id_tenant'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('tenant_id', 'id', name=op.f('pk_milestone'))
    )
    enable_tenant_rls(op, 'milestone')


def downgrade():
    op.drop_table('milestone')
