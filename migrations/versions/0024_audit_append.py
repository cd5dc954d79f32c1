"""The audit chain extended in one statement on PostgreSQL: ``audit_append`` locks the
commune's head, hashes the new event, inserts it and moves the head, so that the lock is
held for one statement and the commit instead of four round trips (a hall of 500 checking
in appends 500 events to one chain, one after the other).

The hash is the one ``agora.audit.services.event_hash`` computes: the application sends the
canonical text cut where the previous hash and the sequence number go.

Revision ID: 0024
Revises: 0023
Create Date: 2026-12-07 17:45:00

"""

from alembic import op

revision = "0024"
down_revision = "0023"
branch_labels = None
depends_on = None

APPEND = """
CREATE FUNCTION audit_append(
    p_tenant_id bigint,
    p_occurred_at timestamptz,
    p_actor text,
    p_action text,
    p_object_type text,
    p_object_id text,
    p_details json,
    p_public boolean,
    p_before_prev text,
    p_before_seq text,
    p_after_seq text
) RETURNS TABLE (event_seq integer, event_prev_hash text, event_hash text)
LANGUAGE plpgsql
SET search_path FROM CURRENT
AS $$
DECLARE
    v_seq integer;
    v_prev text;
    v_hash text;
BEGIN
    SELECT t.audit_head_seq + 1, coalesce(nullif(t.audit_head_hash, ''), repeat('0', 64))
      INTO v_seq, v_prev
      FROM tenant t
     WHERE t.id = p_tenant_id
       FOR NO KEY UPDATE;
    IF v_seq IS NULL THEN
        RAISE EXCEPTION 'no commune %', p_tenant_id USING ERRCODE = 'foreign_key_violation';
    END IF;
    v_hash := encode(
        sha256(convert_to(p_before_prev || v_prev || p_before_seq || v_seq::text || p_after_seq,
                          'UTF8')),
        'hex');
    INSERT INTO audit_event (tenant_id, seq, occurred_at, actor, action, object_type,
                             object_id, details, public, prev_hash, hash)
    VALUES (p_tenant_id, v_seq, p_occurred_at, p_actor, p_action, p_object_type,
            p_object_id, p_details, p_public, v_prev, v_hash);
    UPDATE tenant SET audit_head_seq = v_seq, audit_head_hash = v_hash WHERE id = p_tenant_id;
    RETURN QUERY SELECT v_seq, v_prev, v_hash;
END
$$
"""


def upgrade():
    if op.get_bind().dialect.name == "postgresql":
        op.execute(APPEND)


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            "DROP FUNCTION audit_append(bigint, timestamptz, text, text, text, text, json, "
            "boolean, text, text, text)"
        )
