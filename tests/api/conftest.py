"""The API under test: the app factory on a fresh database (SQLite and PostgreSQL), with keys."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from flask import Flask
from flask.testing import FlaskClient

from allfhir.api import create_app
from allfhir.settings import Settings
from allfhir.store import apikeys

LIMIT = 200_000  # body limit of the app under test (413 above)
KEYS = {
    "writer": ["system/*.read", "system/*.write"],
    "reader": ["system/*.read"],
    "report-reader": ["system/DiagnosticReport.rs"],  # v2, one type only
    "revoked": ["system/*.cruds"],
}


@dataclass
class Api:
    app: Flask
    client: FlaskClient
    keys: dict[str, str]

    def auth(self, name: str = "writer") -> dict[str, str]:
        return {"Authorization": f"Bearer {self.keys[name]}"}

    @property
    def store(self):
        return self.app.extensions["allfhir.store"]


@pytest.fixture
def api(database_url: str) -> Iterator[Api]:
    app = create_app(Settings(database_url=database_url, max_body_bytes=LIMIT))
    store = app.extensions["allfhir.store"]
    keys = {name: apikeys.create(store, name, scopes) for name, scopes in KEYS.items()}
    apikeys.revoke(store, "revoked")
    yield Api(app, app.test_client(), keys)
    store.dispose()
