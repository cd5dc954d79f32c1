"""A draw may leave out the people its commune's last editions seated (their number of
editions pinned on the draw when it is designed, from ``[draws]``); a draw's stage-2 record
(megabytes of JSON: the committed lottery) is compressed with LZ4 where the server has it.

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-06 18:00:00

"""
import sqlalchemy as sa
from alembic import op

revision = '0015'
down_revision = '0014'
branch_labels = None
depends_on = None


def _has_lz4() -> bool:
    bind = op.get_bind()
    if bind.dialect.name != "postgresql":
        return False
    # PostgreSQL 14 and later, built with LZ4 (Debian's and the official images are).
    values = bind.execute(
        sa.text("SELECT enumvals FROM pg_settings WHERE name = 'default_toast_compression'")
    ).scalar()
    return values is not None and "lz4" in values


def upgrade():
    with op.batch_alter_table('draw') as batch_op:
        batch_op.add_column(
            sa.Column('recent_editions_excluded', sa.Integer(), nullable=False, server_default='0')
        )
    if _has_lz4():
        # pglz compresses the committed lottery (several MB of hashed ids) ten times slower.
        op.execute("ALTER TABLE draw ALTER COLUMN record SET COMPRESSION lz4")


def downgrade():
    if _has_lz4():
        op.execute("ALTER TABLE draw ALTER COLUMN record SET COMPRESSION DEFAULT")
    with op.batch_alter_table('draw') as batch_op:
        batch_op.drop_column('recent_editions_excluded')
