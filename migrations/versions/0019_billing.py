"""Quotes and invoices: a commune's billing profile, its quotes and their lines, its
milestone invoices (issued through Stripe) and the Stripe events already applied.

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-06 23:04:31

"""
import sqlalchemy as sa
from alembic import op

from agora.tenancy.rls import enable_tenant_rls


# revision identifiers, used by Alembic.
revision = '0019'
down_revision = '0018'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('billing_profile',
    sa.Column('tenant_id', sa.BigInteger(), nullable=False),
    sa.Column('legal_name', sa.String(length=200), nullable=False),
    sa.Column('siret', sa.String(length=14), nullable=False),
    sa.Column('service_code', sa.String(length=100), nullable=False),
    sa.Column('engagement_number', sa.String(length=50), nullable=False),
    sa.Column('email', sa.String(length=254), nullable=False),
    sa.Column('address', sa.String(length=500), nullable=False),
    sa.Column('stripe_customer_id', sa.String(length=100), nullable=True),
    sa.Column('transfer_iban', sa.String(length=34), nullable=False),
    sa.Column('transfer_bic', sa.String(length=11), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenant.id'], name=op.f('fk_billing_profile_tenant_id_tenant'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('tenant_id', name=op.f('pk_billing_profile'))
    )
    enable_tenant_rls(op, 'billing_profile')
    op.create_table('quote',
    sa.Column('tenant_id', sa.BigInteger(), nullable=False),
    sa.Column('id', sa.BigInteger(), nullable=False),
    sa.Column('number', sa.String(length=40), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('status', sa.Enum('draft', 'submitted', 'accepted', 'refused', name='quotestatus', native_enum=False, length=40), nullable=False),
    sa.Column('total_excl_tax_cents', sa.BigInteger(), nullable=False),
    sa.Column('vat_cents', sa.BigInteger(), nullable=False),
    sa.Column('total_incl_tax_cents', sa.BigInteger(), nullable=False),
    sa.Column('vat_rate_bp', sa.Integer(), nullable=False),
    sa.Column('created_by', sa.String(length=200), nullable=False),
    sa.Column('sent_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('decided_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('decided_by', sa.String(length=200), nullable=False),
    sa.Column('refusal_reason', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenant.id'], name=op.f('fk_quote_tenant_id_tenant'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('tenant_id', 'id', name=op.f('pk_quote')),
    sa.UniqueConstraint('tenant_id', 'number', name=op.f('uq_quote_tenant_id_number'))
    )
    enable_tenant_rls(op, 'quote')
    op.create_table('stripe_event',
    sa.Column('tenant_id', sa.BigInteger(), nullable=False),
    sa.Column('event_id', sa.String(length=100), nullable=False),
    sa.Column('event_type', sa.String(length=100), nullable=False),
    sa.Column('invoice_id', sa.BigInteger(), nullable=True),
    sa.Column('received_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenant.id'], name=op.f('fk_stripe_event_tenant_id_tenant'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('tenant_id', 'event_id', name=op.f('pk_stripe_event'))
    )
    enable_tenant_rls(op, 'stripe_event')
    op.create_table('invoice',
    sa.Column('tenant_id', sa.BigInteger(), nullable=False),
    sa.Column('id', sa.BigInteger(), nullable=False),
    sa.Column('quote_id', sa.BigInteger(), nullable=False),
    sa.Column('milestone', sa.Integer(), nullable=False),
    sa.Column('label', sa.String(length=200), nullable=False),
    sa.Column('amount_excl_tax_cents', sa.BigInteger(), nullable=False),
    sa.Column('vat_cents', sa.BigInteger(), nullable=False),
    sa.Column('total_incl_tax_cents', sa.BigInteger(), nullable=False),
    sa.Column('amount_paid_cents', sa.BigInteger(), nullable=False),
    sa.Column('status', sa.Enum('to_issue', 'open', 'paid', 'void', 'uncollectible', name='invoicestatus', native_enum=False, length=40), nullable=False),
    sa.Column('stripe_invoice_id', sa.String(length=100), nullable=True),
    sa.Column('number', sa.String(length=100), nullable=False),
    sa.Column('hosted_url', sa.String(length=500), nullable=False),
    sa.Column('issued_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('due_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('paid_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('last_error', sa.String(length=500), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['tenant_id', 'quote_id'], ['quote.tenant_id', 'quote.id'], name=op.f('fk_invoice_tenant_id_quote_id_quote')),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenant.id'], name=op.f('fk_invoice_tenant_id_tenant'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('tenant_id', 'id', name=op.f('pk_invoice')),
    sa.UniqueConstraint('tenant_id', 'quote_id', 'milestone', name=op.f('uq_invoice_tenant_id_quote_id_milestone'))
    )
    enable_tenant_rls(op, 'invoice')
    op.create_table('quote_line',
    sa.Column('tenant_id', sa.BigInteger(), nullable=False),
    sa.Column('id', sa.BigInteger(), nullable=False),
    sa.Column('quote_id', sa.BigInteger(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('label', sa.String(length=200), nullable=False),
    sa.Column('amount_excl_tax_cents', sa.BigInteger(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['tenant_id', 'quote_id'], ['quote.tenant_id', 'quote.id'], name=op.f('fk_quote_line_tenant_id_quote_id_quote'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenant.id'], name=op.f('fk_quote_line_tenant_id_tenant'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('tenant_id', 'id', name=op.f('pk_quote_line'))
    )
    enable_tenant_rls(op, 'quote_line')


def downgrade():
    op.drop_table('quote_line')
    op.drop_table('invoice')
    op.drop_table('stripe_event')
    op.drop_table('quote')
    op.drop_table('billing_profile')
