"""The floor for bench/voting.py: a minimal Flask endpoint doing one INSERT, on the same
stack (Flask, Flask-SQLAlchemy, psycopg, PostgreSQL, gunicorn)."""

from __future__ import annotations

import os

from flask import Flask, request
from flask_sqlalchemy import SQLAlchemy
from sqlalchemy import text

db = SQLAlchemy()


def create_app() -> Flask:
    app = Flask(__name__)
    app.config["SQLALCHEMY_DATABASE_URI"] = os.environ["BENCH_DATABASE_URL"]
    db.init_app(app)

    @app.post("/vote")
    def vote() -> tuple[str, int]:
        db.session.execute(
            text("INSERT INTO bench_vote (ballot, choice) VALUES (:ballot, :choice)"),
            {"ballot": 1, "choice": request.form.get("choice", "")},
        )
        db.session.commit()
        return "ok", 200

    return app


app = create_app()
