"""Alembic environment: the URL comes from `allfhir.store.migrate.config`, never from a file."""

from __future__ import annotations

from alembic import context

from allfhir.store.engine import make_engine
from allfhir.store.schema import metadata

url = context.config.get_main_option("sqlalchemy.url")
assert url
engine = make_engine(url)
with engine.connect() as connection:
    context.configure(connection=connection, target_metadata=metadata)
    with context.begin_transaction():
        context.run_migrations()
engine.dispose()
