"""Petitions and their signatures (the right of interpellation).

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-26 02:00:00

"""
import sqlalchemy as sa
from alembic import op

from agora.tenancy.rls import enable_tenant_rls

# revision identifiers, used by Alembic.
revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('petition',
    sa.Column('tenant_id', sa.BigInteger(), nullable=False),
    sa.Column('id', sa.BigInteger(), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('author_id', sa.BigInteger(), nullable=False),
    sa.Column('opened_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('closes_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('status', sa.Enum('open', 'threshold_reached', 'on_council_agenda', 'referendum_requested', 'decided', 'closed', name='petitionstatus', native_enum=False, length=40), nullable=False),
    sa.Column('rules', sa.JSON(), nullable=False),
    sa.Column('signature_count', sa.Integer(), nullable=False),
    sa.Column('levels_reached', sa.JSON(), nullable=False),
    sa.Column('meeting_held_on', sa.Date(), nullable=True),
    sa.Column('council_session_on', sa.Date(), nullable=True),
    sa.Column('decided_on', sa.Date(), nullable=True),
    sa.Column('answer', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['tenant_id', 'author_id'], ['person.tenant_id', 'person.id'], name=op.f('fk_petition_tenant_id_author_id_person')),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenant.id'], name=op.f('fk_petition_tenant_id_tenant'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('tenant_id', 'id', name=op.f('pk_petition'))
    )
    enable_tenant_rls(op, 'petition')
    op.create_table('petition_signature',
    sa.Column('tenant_id', sa.BigInteger(), nullable=False),
    sa.Column('id', sa.BigInteger(), nullable=False),
    sa.Column('petition_id', sa.BigInteger(), nullable=False),
    sa.Column('person_id', sa.BigInteger(), nullable=False),
    sa.Column('attests_residence', sa.Boolean(), nullable=False),
    sa.Column('attests_age', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['tenant_id', 'person_id'], ['person.tenant_id', 'person.id'], name=op.f('fk_petition_signature_tenant_id_person_id_person')),
    sa.ForeignKeyConstraint(['tenant_id', 'petition_id'], ['petition.tenant_id', 'petition.id'], name=op.f('fk_petition_signature_tenant_id_petition_id_petition'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenant.id'], name=op.f('fk_petition_signature_tenant_id_tenant'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('tenant_id', 'id', name=op.f('pk_petition_signature')),
    sa.UniqueConstraint('tenant_id', 'petition_id', 'person_id', name=op.f('uq_petition_signature_tenant_id_petition_id_person_id'))
    )
    enable_tenant_rls(op, 'petition_signature')


def downgrade():
    op.drop_table('petition_signature')
    op.drop_table('petition')
