"""Open a signed-in session directly, as the sign-in does (the sign-in flows have their own
tests): a row on the server, and its id in the client's session cookie."""

from __future__ import annotations

from flask import Flask
from flask.testing import FlaskClient


def open_test_session(app: Flask, account_id: int, host: str) -> str:
    """The id of a new session of ``account_id`` on ``host``."""
    from agora.extensions import db
    from agora.identity.models import Account
    from agora.identity.sessions import open_session

    with app.app_context():
        account = db.session.get(Account, account_id)
        assert account is not None
        session_id = open_session(db.session, account, host)
        db.session.commit()
    return session_id


def sign_client_in(app: Flask, client: FlaskClient, account_id: int, host: str) -> str:
    """Sign ``client`` in as ``account_id`` on ``host``; the session's id."""
    session_id = open_test_session(app, account_id, host)
    with client.session_transaction(headers={"Host": host}) as session:
        session.clear()
        session["sid"] = session_id
    return session_id
