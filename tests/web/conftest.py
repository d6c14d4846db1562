"""The web pages under test: the Flask test client on a fresh database with a lab and a viewer
user, and (browser tests) a real `allfhir serve` driven by a real headless Chromium."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from flask import Flask
from flask.testing import FlaskClient

from allfhir.api import create_app
from allfhir.settings import Settings
from allfhir.store import users
from tests.conftest import REPO

EXAMPLE = REPO / "examples" / "allsorts" / "probabilities.csv"
ARRIBA = REPO / "examples" / "allsorts" / "SJBALL043684.arriba.fusions.tsv"
PASSWORDS = {"ann": "ann's long password", "vic": "vic's long password"}
TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')


@dataclass
class Web:
    app: Flask
    client: FlaskClient

    @property
    def store(self):
        return self.app.extensions["allfhir.store"]

    def token(self, path: str = "/web/sign-in") -> str:
        """The CSRF token of the form on `path` (the session's)."""
        page = self.client.get(path)
        found = TOKEN.search(page.get_data(as_text=True))
        assert found, f"no CSRF token on {path} ({page.status_code})"
        return found[1]

    def sign_in(self, name: str) -> None:
        r = self.client.post("/web/sign-in", data={
            "csrf_token": self.token(), "name": name, "password": PASSWORDS[name]})
        assert (r.status_code, r.headers["Location"]) == (302, "/web/reports")

    def upload(self, *files, **fields: str):
        data = {"csrf_token": self.token("/web/upload"), **fields,
                "files": [(f.open("rb"), f.name) for f in files]}
        return self.client.post("/web/upload", data=data, content_type="multipart/form-data")


@pytest.fixture
def web(database_url: str) -> Iterator[Web]:
    app = create_app(Settings(database_url=database_url))
    store = app.extensions["allfhir.store"]
    users.add(store, "ann", PASSWORDS["ann"], "lab")
    users.add(store, "vic", PASSWORDS["vic"], "viewer")
    yield Web(app, app.test_client())
    store.dispose()
