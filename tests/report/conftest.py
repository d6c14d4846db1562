"""The API fixture of tests/api (a fresh database per test, SQLite and PostgreSQL, with keys)."""

from tests.api.conftest import api  # noqa: F401
