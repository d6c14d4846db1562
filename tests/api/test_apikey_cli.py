"""`allfhir apikey create|list|revoke` against the configured database."""

from __future__ import annotations

from pathlib import Path

import pytest

from allfhir.cli import main
from allfhir.settings import Settings
from allfhir.store import Store, apikeys

SCOPES = ["system/*.read", "system/DiagnosticReport.cruds"]


def test_create_prints_the_key_once_as_the_last_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                      capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("ALLFHIR_DATA_DIR", str(tmp_path))
    monkeypatch.delenv("ALLFHIR_DATABASE_URL", raising=False)
    assert main(["apikey", "create", "lims", "--scope", *SCOPES]) == 0
    out = capsys.readouterr().out.splitlines()
    key = out[-1]
    assert out[0] == ("API key 'lims' with scopes system/*.read system/DiagnosticReport.cruds; shown once, "
                      "store it now:")
    store = Store(Settings().database_url)
    got = apikeys.authenticate(store, key)
    assert got is not None and got.name == "lims"
    assert main(["apikey", "create", "lims", "--scope", "system/*.read"]) == 2
    assert "an API key named 'lims' exists" in capsys.readouterr().err
    assert main(["apikey", "create", "x", "--scope", "patient/*.read"]) == 2
    assert "not a SMART system scope: patient/*.read" in capsys.readouterr().err
    assert main(["apikey", "list"]) == 0
    listed = capsys.readouterr().out
    assert listed.startswith("lims\tactive\t") and listed.endswith("\t" + " ".join(SCOPES) + "\n")
    assert key not in listed
    assert main(["apikey", "revoke", "lims"]) == 0 and capsys.readouterr().out == "revoked 'lims'\n"
    assert apikeys.authenticate(store, key) is None
    assert main(["apikey", "revoke", "nobody"]) == 2
    store.dispose()
