"""Check-in from the roster: a check-in names the membership it was made from, and voting
cards are printed for a session's roster.

``check_in.membership_id`` (composite key to ``membership``) is the roster entry a person
was checked in by, whose origin the check-in copies; a walk-in has none and is a volunteer.
The quorum counts drawn residents present from check-ins with a membership only.

Existing check-ins whose person is on the session's roster (an active member of its body
or, in a session open to everyone present, of a body of its edition) with the same origin
are linked to that membership (the demo's closed-body check-ins); the others were
typed at the desk with a declared origin and stay without one, so a declared « drawn »
no longer counts as a drawn resident present in a ballot closed from now on.

``voting_card`` keeps, per session and person, the hash of the code printed on their card
(never the code); printing again replaces it.

On PostgreSQL the link is written by the owner with the forced row-level security of the
tables it reads lifted for this transaction only (no commune is bound during a migration).

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-06 03:20:00

"""
import sqlalchemy as sa
from alembic import op

from agora.tenancy.rls import enable_tenant_rls

# revision identifiers, used by Alembic.
revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None

LINK_EXISTING = """
UPDATE check_in SET membership_id = (
    SELECT m.id FROM membership m
    JOIN body b ON b.tenant_id = m.tenant_id AND b.id = m.body_id
    JOIN assembly_session s ON s.tenant_id = m.tenant_id AND s.edition_id = b.edition_id
    JOIN body own ON own.tenant_id = s.tenant_id AND own.id = s.body_id
    WHERE m.tenant_id = check_in.tenant_id AND s.id = check_in.session_id
      AND m.person_id = check_in.person_id AND m.origin = check_in.origin
      AND m.status IN ('accepted', 'active')
      AND (b.id = own.id OR own.openness = 'open_to_public')
    ORDER BY CASE WHEN b.id = own.id THEN 0 ELSE 1 END, m.id LIMIT 1
)
"""


READ_FOR_THE_LINK = ('check_in', 'membership', 'body', 'assembly_session')


def upgrade():
    op.create_table('voting_card',
    sa.Column('tenant_id', sa.BigInteger(), nullable=False),
    sa.Column('id', sa.BigInteger(), nullable=False),
    sa.Column('session_id', sa.BigInteger(), nullable=False),
    sa.Column('person_id', sa.BigInteger(), nullable=False),
    sa.Column('code_hash', sa.String(length=64), nullable=False),
    sa.Column('printed_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['tenant_id', 'person_id'], ['person.tenant_id', 'person.id'], name=op.f('fk_voting_card_tenant_id_person_id_person')),
    sa.ForeignKeyConstraint(['tenant_id', 'session_id'], ['assembly_session.tenant_id', 'assembly_session.id'], name=op.f('fk_voting_card_tenant_id_session_id_assembly_session'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenant.id'], name=op.f('fk_voting_card_tenant_id_tenant'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('tenant_id', 'id', name=op.f('pk_voting_card')),
    sa.UniqueConstraint('tenant_id', 'session_id', 'code_hash', name=op.f('uq_voting_card_tenant_id_session_id_code_hash')),
    sa.UniqueConstraint('tenant_id', 'session_id', 'person_id', name=op.f('uq_voting_card_tenant_id_session_id_person_id'))
    )
    enable_tenant_rls(op, 'voting_card')
    with op.batch_alter_table('check_in') as batch:
        batch.add_column(sa.Column('membership_id', sa.BigInteger(), nullable=True))
        batch.create_foreign_key(batch.f('fk_check_in_tenant_id_membership_id_membership'), 'membership', ['tenant_id', 'membership_id'], ['tenant_id', 'id'])
    postgresql = op.get_bind().dialect.name == 'postgresql'
    if postgresql:
        for table in READ_FOR_THE_LINK:
            op.execute(f'ALTER TABLE {table} NO FORCE ROW LEVEL SECURITY')
    op.execute(LINK_EXISTING)
    if postgresql:
        for table in READ_FOR_THE_LINK:
            op.execute(f'ALTER TABLE {table} FORCE ROW LEVEL SECURITY')


def downgrade():
    with op.batch_alter_table('check_in') as batch:
        batch.drop_constraint(batch.f('fk_check_in_tenant_id_membership_id_membership'), type_='foreignkey')
        batch.drop_column('membership_id')
    op.drop_table('voting_card')
