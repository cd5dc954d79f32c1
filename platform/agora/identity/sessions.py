"""Signed-in sessions kept on the server, so that ending one ends every copy of its cookie.

The session cookie is signed but not secret to its holder: a copied cookie would otherwise
work until it expires. The cookie carries a random session id; only its SHA-256 is stored
(:class:`~agora.identity.models.AccountSession`), and a request whose id has no row is
anonymous. A code holder's vote carries no session and pays nothing for this.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from sqlalchemy import delete, select

from agora.db import DbSession, utcnow
from agora.identity.models import Account, AccountSession


def _hash(session_id: str) -> str:
    return hashlib.sha256(session_id.encode()).hexdigest()


def open_session(session: DbSession, account: Account, host: str) -> str:
    """A new session of ``account`` valid on ``host``: the id its cookie carries."""
    session_id = secrets.token_urlsafe(32)
    session.add(AccountSession(id_hash=_hash(session_id), account_id=account.id, host=host))
    session.flush()
    return session_id


def account_of_session(session: DbSession, session_id: str, host: str) -> Account | None:
    """The account whose session ``session_id`` is still open on ``host`` (erased accounts
    have none)."""
    account: Account | None = session.execute(
        select(Account)
        .join(AccountSession, AccountSession.account_id == Account.id)
        .where(
            AccountSession.id_hash == _hash(session_id),
            AccountSession.host == host,
            Account.erased_at.is_(None),
        )
    ).scalar_one_or_none()
    return account


def end_session(session: DbSession, session_id: str) -> None:
    """Sign-out: this session ends, on every browser that holds a copy of its cookie."""
    session.execute(delete(AccountSession).where(AccountSession.id_hash == _hash(session_id)))


def end_all_sessions(session: DbSession, account_id: int) -> int:
    """Every session of the account ends (sign out everywhere, a role revoked, an erasure);
    the number ended."""
    result = session.execute(delete(AccountSession).where(AccountSession.account_id == account_id))
    return int(getattr(result, "rowcount", 0) or 0)


def purge_sessions(session: DbSession, lifetime: timedelta) -> int:
    """Delete sessions older than a session cookie may live (``PERMANENT_SESSION_LIFETIME``:
    Flask refuses such a cookie anyway)."""
    result = session.execute(
        delete(AccountSession).where(AccountSession.created_at < utcnow() - lifetime)
    )
    return int(getattr(result, "rowcount", 0) or 0)
