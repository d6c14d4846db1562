"""The store under test: a fresh database (SQLite and PostgreSQL, tests/conftest.py) per test."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from allfhir.store import Store


@pytest.fixture
def store(database_url: str) -> Iterator[Store]:
    s = Store(database_url)
    yield s
    s.dispose()
