"""Shared fixtures: the real curated knowledge and the workplace's real example files."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from allfhir import knowledge
from allfhir.knowledge import Knowledge

REPO = Path(__file__).resolve().parents[1]
DATA = Path(__file__).resolve().parent / "data"
# Real classifier outputs live beside the repository in this workplace only; tests that need them
# skip elsewhere (several of those files may not be redistributed).
SHARED = REPO.parent / "shared"
needs_shared = pytest.mark.skipif(not (SHARED / "classifier-examples").is_dir(),
                                  reason="../shared/classifier-examples is not present")


@pytest.fixture(scope="session", autouse=True)
def _own_user_cache(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    # The tables allfhir keeps under the user's cache folder (table_cache): a test run writes
    # its own, never the developer's ~/.cache (subprocesses of the tests inherit it).
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("XDG_CACHE_HOME", str(tmp_path_factory.mktemp("user-cache")))
        yield


@pytest.fixture(scope="session")
def kb() -> Knowledge:
    return knowledge.default()


@pytest.fixture(scope="session")
def profile_validator() -> object:
    """The FHIR profile validator (allfhir.validation); skips when the FHIR packages are absent
    (`allfhir packages fetch`, which .ci/run runs, provides them)."""
    from allfhir.validation.packages import missing_reason
    from allfhir.validation.validator import Validator

    if missing_reason():
        pytest.skip(str(missing_reason()))
    return Validator()


# --- databases: every store and API test runs on SQLite and on the real PostgreSQL ---------------
# PostgreSQL at 127.0.0.1:5432, database `test` (trust auth). Each test gets its own schema, so
# reruns and parallel runs start clean. Unreachable PostgreSQL fails the test on CI (CI=true) and
# skips it elsewhere.
POSTGRES_URLS = [os.environ["ALLFHIR_TEST_POSTGRES"]] if os.environ.get("ALLFHIR_TEST_POSTGRES") else [
    "postgresql+psycopg://postgres@127.0.0.1:5432/test",
    "postgresql+psycopg://root@127.0.0.1:5432/test",
]


def _postgres_server() -> str:
    import psycopg

    errors = []
    for url in POSTGRES_URLS:
        try:
            with psycopg.connect(url.replace("+psycopg", ""), connect_timeout=3):
                return url
        except psycopg.Error as exc:
            errors.append(f"{url}: {exc}".strip())
    message = "PostgreSQL is not reachable: " + "; ".join(errors)
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(message)
    pytest.skip(message)


@contextmanager
def fresh_database(kind: str, tmp_path: Path, migrate: bool = True) -> Iterator[str]:
    """The URL of a new database of `kind` (sqlite | postgresql), migrated unless told not."""
    from allfhir.store import upgrade

    if kind == "sqlite":
        url = f"sqlite:///{tmp_path / 'allfhir.db'}"
        if migrate:
            upgrade(url)
        yield url
        return
    import psycopg

    server = _postgres_server()
    schema = f"t_{uuid.uuid4().hex[:16]}"
    admin = server.replace("+psycopg", "")
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
    url = f"{server}?options=-csearch_path%3D{schema}"
    try:
        if migrate:
            upgrade(url)
        yield url
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA "{schema}" CASCADE')


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    with fresh_database(request.param, tmp_path) as url:
        yield url
