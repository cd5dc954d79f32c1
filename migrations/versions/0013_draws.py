"""Draws in the application: a draw fills a body's drawn seats, for an edition or for the
support programme; its sub-draws name the commune's draw source they read; registers are
uploaded files (name, size, SHA-256, status, error) whose eligible rows keep only what the
draw needs (hashed id, household, stratum, profile, contact).

A body now belongs to an edition or to the support programme (the prefiguration group):
``body.edition_id`` becomes nullable, ``body.programme_id`` is added, and exactly one of the
two is set (check constraint). Existing bodies all have an edition.

``draw``, ``sub_draw``, ``draw_register`` and ``register_row`` are tenant-owned, with forced
row-level security; ``register_row`` reaches its commune through its register.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-06 09:15:00

"""
import sqlalchemy as sa
from alembic import op

from agora.tenancy.rls import enable_tenant_rls

# revision identifiers, used by Alembic.
revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('draw',
    sa.Column('tenant_id', sa.BigInteger(), nullable=False),
    sa.Column('id', sa.BigInteger(), nullable=False),
    sa.Column('edition_id', sa.BigInteger(), nullable=True),
    sa.Column('programme_id', sa.BigInteger(), nullable=True),
    sa.Column('body_id', sa.BigInteger(), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('status', sa.Enum('designed', 'method_published', 'committed', 'stage1_done', 'revealed', 'invitations', 'responses', 'pool_closed', 'stage2_done', 'seated', name='drawstatus', native_enum=False, length=40), nullable=False),
    sa.Column('minimum_age', sa.Integer(), nullable=False),
    sa.Column('reference_date', sa.Date(), nullable=False),
    sa.Column('excluded_hashes', sa.JSON(), nullable=False),
    sa.Column('algorithm', sa.String(length=20), nullable=False),
    sa.Column('witnesses', sa.Text(), nullable=False),
    sa.Column('method_published_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('status_changed_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('(edition_id IS NULL) <> (programme_id IS NULL)', name=op.f('ck_draw_edition_or_programme')),
    sa.ForeignKeyConstraint(['tenant_id', 'body_id'], ['body.tenant_id', 'body.id'], name=op.f('fk_draw_tenant_id_body_id_body')),
    sa.ForeignKeyConstraint(['tenant_id', 'edition_id'], ['edition.tenant_id', 'edition.id'], name=op.f('fk_draw_tenant_id_edition_id_edition')),
    sa.ForeignKeyConstraint(['tenant_id', 'programme_id'], ['programme.tenant_id', 'programme.id'], name=op.f('fk_draw_tenant_id_programme_id_programme')),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenant.id'], name=op.f('fk_draw_tenant_id_tenant'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('tenant_id', 'id', name=op.f('pk_draw'))
    )
    op.create_table('sub_draw',
    sa.Column('tenant_id', sa.BigInteger(), nullable=False),
    sa.Column('id', sa.BigInteger(), nullable=False),
    sa.Column('draw_id', sa.BigInteger(), nullable=False),
    sa.Column('source', sa.String(length=40), nullable=False),
    sa.Column('seats', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('seats > 0', name=op.f('ck_sub_draw_some_seats')),
    sa.ForeignKeyConstraint(['tenant_id', 'draw_id'], ['draw.tenant_id', 'draw.id'], name=op.f('fk_sub_draw_tenant_id_draw_id_draw'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenant.id'], name=op.f('fk_sub_draw_tenant_id_tenant'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('tenant_id', 'id', name=op.f('pk_sub_draw')),
    sa.UniqueConstraint('tenant_id', 'draw_id', 'source', name=op.f('uq_sub_draw_tenant_id_draw_id_source'))
    )
    op.create_table('draw_register',
    sa.Column('tenant_id', sa.BigInteger(), nullable=False),
    sa.Column('id', sa.BigInteger(), nullable=False),
    sa.Column('draw_id', sa.BigInteger(), nullable=False),
    sa.Column('sub_draw_id', sa.BigInteger(), nullable=False),
    sa.Column('source', sa.String(length=40), nullable=False),
    sa.Column('filename', sa.String(length=255), nullable=False),
    sa.Column('size_bytes', sa.BigInteger(), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('status', sa.Enum('uploaded', 'importing', 'imported', 'failed', name='registerstatus', native_enum=False, length=40), nullable=False),
    sa.Column('lines_read', sa.Integer(), nullable=False),
    sa.Column('row_count', sa.Integer(), nullable=False),
    sa.Column('ineligible', sa.JSON(), nullable=False),
    sa.Column('error', sa.Text(), nullable=False),
    sa.Column('imported_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['tenant_id', 'draw_id'], ['draw.tenant_id', 'draw.id'], name=op.f('fk_draw_register_tenant_id_draw_id_draw'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['tenant_id', 'sub_draw_id'], ['sub_draw.tenant_id', 'sub_draw.id'], name=op.f('fk_draw_register_tenant_id_sub_draw_id_sub_draw'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenant.id'], name=op.f('fk_draw_register_tenant_id_tenant'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('tenant_id', 'id', name=op.f('pk_draw_register'))
    )
    op.create_table('register_row',
    sa.Column('tenant_id', sa.BigInteger(), nullable=False),
    sa.Column('register_id', sa.BigInteger(), nullable=False),
    sa.Column('person_hash', sa.String(length=64), nullable=False),
    sa.Column('line', sa.Integer(), nullable=False),
    sa.Column('household_hash', sa.String(length=64), nullable=False),
    sa.Column('stratum', sa.String(length=100), nullable=False),
    sa.Column('birth_date', sa.Date(), nullable=True),
    sa.Column('features', sa.JSON(), nullable=False),
    sa.Column('contact', sa.JSON(), nullable=False),
    sa.ForeignKeyConstraint(['tenant_id', 'register_id'], ['draw_register.tenant_id', 'draw_register.id'], name=op.f('fk_register_row_tenant_id_register_id_draw_register'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('tenant_id', 'register_id', 'person_hash', name=op.f('pk_register_row'))
    )
    for table in ('draw', 'sub_draw', 'draw_register', 'register_row'):
        enable_tenant_rls(op, table)
    with op.batch_alter_table('body', schema=None) as batch_op:
        batch_op.add_column(sa.Column('programme_id', sa.BigInteger(), nullable=True))
        batch_op.alter_column('edition_id',
               existing_type=sa.BIGINT(),
               nullable=True)
        batch_op.create_foreign_key(batch_op.f('fk_body_tenant_id_programme_id_programme'), 'programme', ['tenant_id', 'programme_id'], ['tenant_id', 'id'])
        batch_op.create_check_constraint(batch_op.f('ck_body_edition_or_programme'), '(edition_id IS NULL) <> (programme_id IS NULL)')



def downgrade():
    with op.batch_alter_table('body', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('ck_body_edition_or_programme'), type_='check')
        batch_op.drop_constraint(batch_op.f('fk_body_tenant_id_programme_id_programme'), type_='foreignkey')
        batch_op.alter_column('edition_id',
               existing_type=sa.BIGINT(),
               nullable=False)
        batch_op.drop_column('programme_id')

    op.drop_table('register_row')
    op.drop_table('draw_register')
    op.drop_table('sub_draw')
    op.drop_table('draw')
