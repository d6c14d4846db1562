from __future__ import annotations

import os
from pathlib import Path

import pytest
from pydantic import ValidationError

from allfhir import codes
from allfhir.settings import Settings


def test_defaults_are_the_demo_namespaces_and_a_sqlite_file(monkeypatch: pytest.MonkeyPatch) -> None:
    for var in ("ALLFHIR_DATABASE_URL", "ALLFHIR_DATA_DIR", "ALLFHIR_SAMPLE_ID_SYSTEM"):
        monkeypatch.delenv(var, raising=False)
    s = Settings()
    assert s.database_url == "sqlite:///allfhir-data/allfhir.db"
    assert (s.sample_id_system, s.report_id_system, s.resource_id_system) == (
        codes.NS_SAMPLE_ID, codes.NS_REPORT_ID, codes.NS_RESOURCE_ID)
    assert s.api_keys is True and s.max_body_bytes == 10 * 1024 * 1024


def test_environment_overrides(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("ALLFHIR_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("ALLFHIR_SAMPLE_ID_SYSTEM", "urn:oid:1.2.3")
    monkeypatch.setenv("ALLFHIR_MAX_BODY_BYTES", "1000")
    s = Settings()
    assert s.database_url == f"sqlite:///{tmp_path.as_posix()}/allfhir.db"
    assert s.sample_id_system == "urn:oid:1.2.3" and s.max_body_bytes == 1000
    monkeypatch.setenv("ALLFHIR_MAX_BODY_BYTES", "0")
    with pytest.raises(ValidationError):
        Settings()


def test_without_allfhir_variables_every_setting_is_its_default(monkeypatch: pytest.MonkeyPatch) -> None:
    # what `allfhir convert` relies on when it skips building Settings (environment.any_setting)
    from allfhir.environment import any_setting
    from allfhir.fhir.bundle import id_systems
    from allfhir.fhir.common import IdSystems

    for name in list(os.environ):
        if name.lower().startswith("allfhir_"):
            monkeypatch.delenv(name)
    assert not any_setting()
    assert id_systems(Settings()) == IdSystems()
    assert Settings() == Settings.model_validate({})


def test_any_setting_sees_names_in_any_case_as_settings_does(monkeypatch: pytest.MonkeyPatch) -> None:
    from allfhir.environment import any_setting

    assert not any_setting({"PATH": "/bin", "XALLFHIR_SAMPLE_ID_SYSTEM": "urn:x"})
    monkeypatch.setenv("allfhir_sample_id_system", "urn:oid:1.2.3")
    assert any_setting()
    assert Settings().sample_id_system == "urn:oid:1.2.3"
