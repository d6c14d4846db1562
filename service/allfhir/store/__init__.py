"""The database: submissions, versioned resources, their search index, API keys, audit events.

Only this package imports SQLAlchemy. Callers get a `Store` (one engine, short transactions) and
plain dicts back; the schema lives in `schema.py` and changes only through the Alembic migrations
shipped in `migrations/` (so an installed wheel can migrate its own database: `allfhir db upgrade`).
"""

from __future__ import annotations

from .driver import Transaction
from .engine import Store, init_app
from .migrate import upgrade

__all__ = ["Store", "Transaction", "init_app", "upgrade"]
