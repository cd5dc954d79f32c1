"""Sessions are kept on the server (``account_session``, the SHA-256 of each id) so that
signing out, "sign out everywhere", a role revoked or an erasure ends every copy of a
session cookie; a second-factor code is accepted once (``account.totp_last_step``).

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-06 20:40:00

"""
import sqlalchemy as sa
from alembic import op

from agora.tenancy.rls import grant_global_table

revision = '0017'
down_revision = '0016'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('account_session',
    sa.Column('id_hash', sa.String(length=64), nullable=False),
    sa.Column('account_id', sa.BigInteger(), nullable=False),
    sa.Column('host', sa.String(length=253), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['account_id'], ['account.id'], name=op.f('fk_account_session_account_id_account'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id_hash', name=op.f('pk_account_session'))
    )
    op.create_index(op.f('ix_account_session_account_id'), 'account_session', ['account_id'])
    grant_global_table(op, 'account_session')
    with op.batch_alter_table('account') as batch_op:
        batch_op.add_column(sa.Column('totp_last_step', sa.BigInteger(), nullable=True))


def downgrade():
    with op.batch_alter_table('account') as batch_op:
        batch_op.drop_column('totp_last_step')
    op.drop_index(op.f('ix_account_session_account_id'), table_name='account_session')
    op.drop_table('account_session')
