"""The local cluster's database: migrated as its owner, then the communes of a ``tenants/``
folder onboarded as the app, in one process (the application is imported once).

    python deploy/local-cluster/prepare_database.py OWNER_URL APP_URL TENANTS_DIR
"""

from __future__ import annotations

import sys

from flask_migrate import upgrade

from agora import create_app
from agora.onboarding.cli import apply_command


def main(owner_url: str, app_url: str, tenants: str) -> None:
    with create_app({"SQLALCHEMY_DATABASE_URI": owner_url}).app_context():
        upgrade()
    with create_app({"SQLALCHEMY_DATABASE_URI": app_url}).app_context():
        apply_command.main([tenants], standalone_mode=False)


if __name__ == "__main__":
    main(*sys.argv[1:4])
