"""Making the database unreachable for a running application, for real: its engine's new
connections go to a closed port (PostgreSQL) or an impossible path (SQLite), and the
connections it holds are dropped."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from flask import Flask
from sqlalchemy import event

from agora.extensions import db

#: Nothing listens there (the observability tests' own port range).
CLOSED_PORT = 18197


@contextmanager
def database_unreachable(app: Flask) -> Iterator[None]:
    with app.app_context():
        engine = db.engine

    def redirect(dialect: Any, _record: Any, cargs: list[Any], cparams: dict[str, Any]) -> None:
        if dialect.name == "postgresql":
            cparams.update(host="127.0.0.1", port=CLOSED_PORT)
        else:
            cargs[:] = ["/nonexistent-directory/agora.sqlite3"]

    event.listen(engine, "do_connect", redirect)
    engine.dispose()
    try:
        yield
    finally:
        event.remove(engine, "do_connect", redirect)
