"""`allfhir db upgrade`: migrate the configured database (ALLFHIR_DATABASE_URL) to this version."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .store import Store


def migrated_store() -> Store:
    """The configured database, migrated first (idempotent): the administration commands (API
    keys, users, Endpoints) can set a first one up before the first `serve`."""
    from .settings import Settings  # on use: building the CLI parser stays light
    from .store import Store, upgrade

    url = Settings().database_url
    upgrade(url)
    return Store(url)


def cmd_upgrade(args: argparse.Namespace) -> int:
    from .settings import Settings  # on use: building the CLI parser stays light
    from .store import upgrade

    settings = Settings()
    upgrade(args.database_url or settings.database_url)
    print("database at the current schema")
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    db = sub.add_parser("db", help="the service's database")
    actions = db.add_subparsers(dest="db_command", required=True)
    up = actions.add_parser("upgrade", help="apply the schema migrations (idempotent)")
    up.add_argument("--database-url", help="default: ALLFHIR_DATABASE_URL or the SQLite file")
    up.set_defaults(func=cmd_upgrade)
