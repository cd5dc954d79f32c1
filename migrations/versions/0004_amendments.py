"""Amendments: changes to a proposal's text tabled by participants, decided by its authors.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-25 22:40:38.201097

"""
import sqlalchemy as sa
from alembic import op

from agora.tenancy.rls import enable_tenant_rls

# revision identifiers, used by Alembic.
revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('amendment',
    sa.Column('tenant_id', sa.BigInteger(), nullable=False),
    sa.Column('id', sa.BigInteger(), nullable=False),
    sa.Column('proposal_id', sa.BigInteger(), nullable=False),
    sa.Column('person_id', sa.BigInteger(), nullable=False),
    sa.Column('author', sa.String(length=200), nullable=False),
    sa.Column('base_revision', sa.Integer(), nullable=False),
    sa.Column('base_text', sa.Text(), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('rationale', sa.Text(), nullable=False),
    sa.Column('status', sa.Enum('tabled', 'accepted_by_authors', 'rejected', name='amendmentstatus', native_enum=False, length=40), nullable=False),
    sa.Column('decision_reason', sa.Text(), nullable=False),
    sa.Column('decided_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['tenant_id', 'person_id'], ['person.tenant_id', 'person.id'], name=op.f('fk_amendment_tenant_id_person_id_person')),
    sa.ForeignKeyConstraint(['tenant_id', 'proposal_id'], ['proposal.tenant_id', 'proposal.id'], name=op.f('fk_amendment_tenant_id_proposal_id_proposal'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenant.id'], name=op.f('fk_amendment_tenant_id_tenant'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('tenant_id', 'id', name=op.f('pk_amendment'))
    )
    enable_tenant_rls(op, 'amendment')


def downgrade():
    op.drop_table('amendment')
