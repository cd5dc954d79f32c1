"""Counting the SQL statements the application sends."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from flask import Flask
from sqlalchemy import Engine, event

from agora.extensions import db
from agora.tenancy.isolation import StandaloneStatement


@contextmanager
def statements(app: Flask) -> Iterator[list[str]]:
    """The SQL statements the app sends meanwhile: through SQLAlchemy, and as transactions of
    their own in one round trip (:class:`StandaloneStatement`, which SQLAlchemy does not see)."""
    sent: list[str] = []

    def count(_conn: object, _cursor: object, statement: str, *_args: object) -> None:
        sent.append(statement)

    alone = StandaloneStatement.first

    def count_alone(
        self: StandaloneStatement, engine: Engine, tenant_id: int, params: Mapping[str, Any]
    ) -> Any:
        sent.append(str(self.statement))
        return alone(self, engine, tenant_id, params)

    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", count)
    StandaloneStatement.first = count_alone  # type: ignore[method-assign]
    try:
        yield sent
    finally:
        StandaloneStatement.first = alone  # type: ignore[method-assign]
        event.remove(engine, "before_cursor_execute", count)
