"""A register's rows packed by blocks; each invitation keeps its contact; a draw keeps 16
bits of each excluded id.

``register_row`` (one row per person, keyed by a 64-character hash) becomes ``register_block``
(one row per block of some thousands of people, packed column by column by
``agora.draws.blocks``): storing a roll of 1.5 million people one row each cost PostgreSQL
alone several times the time ``csv`` takes to read it. The letters and the visit sheets read
the contact the invitation now keeps (``invitation.contact``) instead of joining the row.
``draw.excluded_filter`` (16 bits of the CRC-32 of each excluded id) spares the import the
hash of every other id; draws designed before have none, and every id is hashed for them.
Existing rows are packed into blocks and the contact copied into their invitations; the
downgrade unpacks them (each row's line and date of birth, no longer kept, come back as 0
and empty).

Revision ID: 0026
Revises: 0025
Create Date: 2026-12-08 02:40:00

"""

import json

import sqlalchemy as sa
from alembic import op

from agora.draws import blocks
from agora.tenancy.rls import enable_tenant_rls

revision = "0026"
down_revision = "0025"
branch_labels = None
depends_on = None

ROWS_PER_BLOCK = 20_000
#: Tables read and written across communes here, their forced row-level security lifted.
TOUCHED = ("register_row", "register_block", "invitation")


def _json(value):
    return value if isinstance(value, dict) else json.loads(value or "{}")


def _lift_rls(postgresql, lifted):
    if postgresql:
        for table in TOUCHED:
            if sa.inspect(op.get_bind()).has_table(table):
                op.execute(f"ALTER TABLE {table} {'NO ' if lifted else ''}FORCE ROW LEVEL SECURITY")


def _pack(bind, tenant_id, register_id, rows):
    for number, start in enumerate(range(0, len(rows), ROWS_PER_BLOCK)):
        part = rows[start : start + ROWS_PER_BLOCK]
        features = sorted({name for row in part for name in _json(row.features)})
        contact = sorted({name for row in part for name in _json(row.contact)})
        block = blocks.Block(
            b"".join(bytes.fromhex(row.person_hash) for row in part),
            b"".join(bytes.fromhex(row.household_hash) for row in part),
            [row.stratum for row in part],
            {f: [str(_json(row.features).get(f, "")) for row in part] for f in features},
            {c: [str(_json(row.contact).get(c, "")) for row in part] for c in contact},
        )
        bind.execute(
            sa.text(
                "INSERT INTO register_block (tenant_id, register_id, number, rows, data) "
                "VALUES (:tenant, :register, :number, :rows, :data)"
            ),
            {
                "tenant": tenant_id,
                "register": register_id,
                "number": number,
                "rows": len(part),
                "data": blocks.encode(block),
            },
        )


def upgrade():
    bind = op.get_bind()
    postgresql = bind.dialect.name == "postgresql"
    op.add_column(
        "invitation", sa.Column("contact", sa.JSON(), nullable=False, server_default="{}")
    )
    op.add_column(
        "draw", sa.Column("excluded_filter", sa.JSON(), nullable=False, server_default="[]")
    )
    op.create_table(
        "register_block",
        sa.Column("tenant_id", sa.BigInteger(), nullable=False),
        sa.Column("register_id", sa.BigInteger(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("rows", sa.Integer(), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id", "register_id"],
            ["draw_register.tenant_id", "draw_register.id"],
            name=op.f("fk_register_block_tenant_id_register_id_draw_register"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "tenant_id", "register_id", "number", name=op.f("pk_register_block")
        ),
    )
    enable_tenant_rls(op, "register_block")
    if postgresql:
        # Digests do not compress: a block is stored as it is, out of line.
        op.execute("ALTER TABLE register_block ALTER COLUMN data SET STORAGE EXTERNAL")
    _lift_rls(postgresql, True)
    bind.execute(
        sa.text(
            "UPDATE invitation SET contact = (SELECT r.contact FROM register_row r "
            "WHERE r.tenant_id = invitation.tenant_id AND r.register_id = invitation.register_id "
            "AND r.person_hash = invitation.person_hash) WHERE EXISTS (SELECT 1 FROM register_row "
            "r WHERE r.tenant_id = invitation.tenant_id AND r.register_id = invitation.register_id "
            "AND r.person_hash = invitation.person_hash)"
        )
    )
    registers = bind.execute(
        sa.text("SELECT DISTINCT tenant_id, register_id FROM register_row")
    ).all()
    for tenant_id, register_id in registers:
        rows = bind.execute(
            sa.text(
                "SELECT person_hash, household_hash, stratum, features, contact FROM register_row "
                "WHERE tenant_id = :tenant AND register_id = :register ORDER BY line"
            ),
            {"tenant": tenant_id, "register": register_id},
        ).all()
        _pack(bind, tenant_id, register_id, rows)
    _lift_rls(postgresql, False)
    op.drop_table("register_row")


def downgrade():
    bind = op.get_bind()
    postgresql = bind.dialect.name == "postgresql"
    op.create_table(
        "register_row",
        sa.Column("tenant_id", sa.BigInteger(), nullable=False),
        sa.Column("register_id", sa.BigInteger(), nullable=False),
        sa.Column("person_hash", sa.String(length=64), nullable=False),
        sa.Column("line", sa.Integer(), nullable=False),
        sa.Column("household_hash", sa.String(length=64), nullable=False),
        sa.Column("stratum", sa.String(length=100), nullable=False),
        sa.Column("birth_date", sa.Date(), nullable=True),
        sa.Column("features", sa.JSON(), nullable=False),
        sa.Column("contact", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id", "register_id"],
            ["draw_register.tenant_id", "draw_register.id"],
            name=op.f("fk_register_row_tenant_id_register_id_draw_register"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "tenant_id", "register_id", "person_hash", name=op.f("pk_register_row")
        ),
    )
    enable_tenant_rls(op, "register_row")
    _lift_rls(postgresql, True)
    stored = bind.execute(
        sa.text("SELECT tenant_id, register_id, data FROM register_block ORDER BY number")
    ).all()
    for tenant_id, register_id, data in stored:
        block = blocks.decode(bytes(data))
        bind.execute(
            sa.text(
                "INSERT INTO register_row (tenant_id, register_id, person_hash, line, "
                "household_hash, stratum, birth_date, features, contact) VALUES (:tenant, "
                ":register, :person, 0, :household, :stratum, NULL, :features, :contact)"
            ),
            [
                {
                    "tenant": tenant_id,
                    "register": register_id,
                    "person": block.person(i),
                    "household": block.household(i),
                    "stratum": block.strata[i],
                    "features": json.dumps(block.profile(i)),
                    "contact": json.dumps(block.contact_of(i)),
                }
                for i in range(len(block))
            ],
        )
    _lift_rls(postgresql, False)
    op.drop_table("register_block")
    with op.batch_alter_table("invitation") as batch:
        batch.drop_column("contact")
    with op.batch_alter_table("draw") as batch:
        batch.drop_column("excluded_filter")
