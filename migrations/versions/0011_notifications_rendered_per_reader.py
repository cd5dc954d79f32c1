"""Notifications are stored as a kind and its parameters, and rendered for each reader in
their language; accounts remember the language their person reads the site in.

``notification`` loses ``subject``, ``body`` and ``link`` (text written in the language of
the person who acted, and a path) and gains ``params`` (JSON: ids, numbers, codes, dates as
ISO strings), which the kind's registered renderer turns into text when the notification
is shown or e-mailed (``agora.notifications.kinds``).

Existing rows cannot be taken back to parameters (their text is all they hold): each becomes
kind ``legacy`` with ``params = {"kind": old kind, "subject", "body", "link"}``, shown and
sent as it was written. Downgrading restores those rows' text; a row of another kind, which
never had text, comes back with its kind as subject, an empty body and no link.

``account.locale`` (``'fr'`` for every existing account) is the language a person's mails
are written in; sign-in and a change of language on the site set it.

On PostgreSQL the rows are rewritten by the owner with ``notification``'s forced row-level
security lifted for this transaction only (no commune is bound during a migration, so the
policy would hide every row); it is forced again before the transaction ends.

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-26 03:00:00

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None

LEGACY = 'legacy'
TEXT_COLUMNS = ('subject', 'body', 'link')

notification = sa.table(
    'notification',
    sa.column('tenant_id', sa.BigInteger()),
    sa.column('id', sa.BigInteger()),
    sa.column('kind', sa.String(60)),
    sa.column('subject', sa.String(300)),
    sa.column('body', sa.Text()),
    sa.column('link', sa.String(500)),
    sa.column('params', sa.JSON()),
)
_KEY = (notification.c.tenant_id == sa.bindparam('t')) & (notification.c.id == sa.bindparam('n'))


def _every_commune(postgresql, rewrite):
    """Run ``rewrite`` on every commune's rows (the owner is bound by forced RLS)."""
    if postgresql:
        op.execute('ALTER TABLE notification NO FORCE ROW LEVEL SECURITY')
    rewrite(op.get_bind())
    if postgresql:
        op.execute('ALTER TABLE notification FORCE ROW LEVEL SECURITY')


def _to_legacy(bind):
    rows = bind.execute(
        sa.select(
            notification.c.tenant_id,
            notification.c.id,
            notification.c.kind,
            notification.c.subject,
            notification.c.body,
            notification.c.link,
        )
    ).all()
    if rows:
        bind.execute(
            notification.update().where(_KEY).values(kind=LEGACY, params=sa.bindparam('p')),
            [
                {
                    't': r.tenant_id,
                    'n': r.id,
                    'p': {'kind': r.kind, 'subject': r.subject, 'body': r.body, 'link': r.link},
                }
                for r in rows
            ],
        )


def _from_params(bind):
    rows = bind.execute(
        sa.select(
            notification.c.tenant_id, notification.c.id, notification.c.kind, notification.c.params
        )
    ).all()
    updates = []
    for r in rows:
        legacy = r.kind == LEGACY
        params = r.params or {}
        updates.append(
            {
                't': r.tenant_id,
                'n': r.id,
                'k': str(params.get('kind', LEGACY)) if legacy else r.kind,
                's': str(params.get('subject', '')) if legacy else r.kind,
                'b': str(params.get('body', '')) if legacy else '',
                'l': str(params.get('link', '')) if legacy else '',
            }
        )
    if updates:
        bind.execute(
            notification.update()
            .where(_KEY)
            .values(
                kind=sa.bindparam('k'),
                subject=sa.bindparam('s'),
                body=sa.bindparam('b'),
                link=sa.bindparam('l'),
            ),
            updates,
        )


def upgrade():
    postgresql = op.get_bind().dialect.name == 'postgresql'
    with op.batch_alter_table('account') as batch:
        batch.add_column(
            sa.Column('locale', sa.String(length=5), server_default='fr', nullable=False)
        )
    with op.batch_alter_table('notification') as batch:
        batch.add_column(sa.Column('params', sa.JSON(), nullable=True))
    _every_commune(postgresql, _to_legacy)
    with op.batch_alter_table('notification') as batch:
        batch.alter_column('params', existing_type=sa.JSON(), nullable=False)
        for name in TEXT_COLUMNS:
            batch.drop_column(name)


def downgrade():
    postgresql = op.get_bind().dialect.name == 'postgresql'
    with op.batch_alter_table('notification') as batch:
        batch.add_column(sa.Column('subject', sa.String(length=300), nullable=True))
        batch.add_column(sa.Column('body', sa.Text(), nullable=True))
        batch.add_column(sa.Column('link', sa.String(length=500), nullable=True))
    _every_commune(postgresql, _from_params)
    with op.batch_alter_table('notification') as batch:
        batch.alter_column('subject', existing_type=sa.String(length=300), nullable=False)
        batch.alter_column('body', existing_type=sa.Text(), nullable=False)
        batch.alter_column('link', existing_type=sa.String(length=500), nullable=False)
        batch.drop_column('params')
    with op.batch_alter_table('account') as batch:
        batch.drop_column('locale')
