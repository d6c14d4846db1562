"""Users of the web pages in the store (SQLite and PostgreSQL) and `allfhir user add|list|remove`."""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from allfhir.cli import main
from allfhir.settings import Settings
from allfhir.store import Store, users
from allfhir.store.schema import users as users_table


@pytest.fixture
def store(database_url: str) -> Iterator[Store]:
    s = Store(database_url)
    yield s
    s.dispose()


def test_only_an_argon2id_hash_of_the_password_is_stored(store: Store) -> None:
    made = users.add(store, "ann", "a long lab password", "lab")
    assert (made.name, made.role, made.disabled) == ("ann", "lab", False)
    with store.engine.connect() as conn:
        stored = conn.execute(select(users_table.c.password_hash)).scalar_one()
    assert stored.startswith("$argon2id$") and "a long lab password" not in stored
    got = users.authenticate(store, "ann", "a long lab password")
    assert got is not None and (got.name, got.role) == ("ann", "lab")
    assert users.authenticate(store, "ann", "a long lab passwore") is None
    assert users.authenticate(store, "nobody", "a long lab password") is None


def test_names_are_unique_roles_are_lab_or_viewer_and_removal_is_final(store: Store) -> None:
    users.add(store, "vic", "a long viewer password", "viewer")
    with pytest.raises(users.UserExists):
        users.add(store, "vic", "another long password", "lab")
    with pytest.raises(ValueError, match="role 'admin' is not one of: lab, viewer"):
        users.add(store, "eve", "a long admin password", "admin")  # type: ignore[arg-type]
    with pytest.raises(IntegrityError), store.transaction() as conn:  # the database says so too
        conn.execute(users_table.insert().values(name="eve", password_hash="x", role="admin",
                                                 created=users.listing(store)[0].created, disabled=False))
    assert [(u.name, u.role) for u in users.listing(store)] == [("vic", "viewer")]
    assert users.remove(store, "vic") and not users.remove(store, "vic")
    assert users.get(store, "vic") is None
    assert users.authenticate(store, "vic", "a long viewer password") is None


def test_a_disabled_user_cannot_sign_in(store: Store) -> None:
    users.add(store, "ann", "a long lab password", "lab")
    with store.transaction() as conn:
        conn.execute(users_table.update().values(disabled=True))
    assert users.authenticate(store, "ann", "a long lab password") is None


def test_the_session_secret_is_made_once_and_kept(store: Store, database_url: str) -> None:
    first = users.secret(store, "session")
    assert len(first) == 64
    other = Store(database_url)  # another worker
    try:
        assert users.secret(other, "session") == first
    finally:
        other.dispose()
    assert users.secret(store, "another") != first


def test_user_add_reads_the_password_from_standard_input(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                         capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("ALLFHIR_DATA_DIR", str(tmp_path))
    monkeypatch.delenv("ALLFHIR_DATABASE_URL", raising=False)
    monkeypatch.setattr("sys.stdin", io.StringIO("a long lab password\n"))
    assert main(["user", "add", "ann", "--role", "lab"]) == 0
    assert capsys.readouterr().out == "user 'ann' with role lab\n"
    store = Store(Settings().database_url)
    try:
        assert users.authenticate(store, "ann", "a long lab password") is not None
    finally:
        store.dispose()
    monkeypatch.setattr("sys.stdin", io.StringIO("another long password\n"))
    assert main(["user", "add", "ann", "--role", "viewer"]) == 2
    assert "a user named 'ann' exists" in capsys.readouterr().err
    monkeypatch.setattr("sys.stdin", io.StringIO("short\n"))
    assert main(["user", "add", "bob", "--role", "viewer"]) == 2
    assert capsys.readouterr().err == "the password must have at least 12 characters\n"
    assert main(["user", "list"]) == 0
    assert capsys.readouterr().out.split("\t")[:3] == ["ann", "lab", "active"]
    assert main(["user", "remove", "ann"]) == 0 and main(["user", "remove", "ann"]) == 2
    assert capsys.readouterr().err == "no user named 'ann'\n"
    with pytest.raises(SystemExit):
        main(["user", "add", "eve", "--role", "admin"])
