from __future__ import annotations

import pytest

from allfhir.store import Store, apikeys
from allfhir.store.schema import api_keys


def test_create_authenticate_list_revoke(database_url: str) -> None:
    store = Store(database_url)
    key = apikeys.create(store, "lims", ["system/*.read", "system/*.write"])
    assert key.startswith("afk_") and len(key) > 40
    with store.engine.connect() as conn:
        stored = conn.execute(api_keys.select()).one()
    assert stored.key_hash == apikeys.hash_key(key) and key not in stored  # only the hash is kept
    got = apikeys.authenticate(store, key)
    assert got is not None and got.name == "lims" and got.scopes == ("system/*.read", "system/*.write")
    assert apikeys.authenticate(store, key + "x") is None
    with pytest.raises(apikeys.KeyExists):
        apikeys.create(store, "lims", [])
    assert [(k.name, k.revoked) for k in apikeys.listing(store)] == [("lims", False)]
    assert apikeys.revoke(store, "lims") and not apikeys.revoke(store, "nobody")
    assert apikeys.authenticate(store, key) is None
    assert [(k.name, k.revoked) for k in apikeys.listing(store)] == [("lims", True)]
    store.dispose()


def test_db_upgrade_command(tmp_path, monkeypatch, capsys) -> None:
    from allfhir.cli import main
    from allfhir.store.migrate import is_empty

    monkeypatch.setenv("ALLFHIR_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.delenv("ALLFHIR_DATABASE_URL", raising=False)
    assert main(["db", "upgrade"]) == 0
    assert capsys.readouterr().out == "database at the current schema\n"
    assert not is_empty(f"sqlite:///{tmp_path / 'data' / 'allfhir.db'}")
