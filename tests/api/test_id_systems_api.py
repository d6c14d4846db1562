"""`$convert` writes the identifier systems the deployment configures, through the test client
and through a real `allfhir serve` configured by ALLFHIR_* variables."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import requests

from allfhir.api import create_app
from allfhir.settings import Settings
from allfhir.store import apikeys
from tests.api.test_server import Server, running_server
from tests.conftest import REPO, fresh_database
from tests.fhir_asserts import LAB_ENV, LAB_SYSTEMS, assert_lab_systems

EXAMPLE = REPO / "examples" / "allsorts" / "probabilities.csv"
ARRIBA = REPO / "examples" / "allsorts" / "SJBALL043684.arriba.fusions.tsv"


def _reports(body: dict) -> list[dict]:
    return [p["resource"] for p in body["parameter"] if p["name"] == "report"]


def _sample(bundle: dict) -> str:
    return bundle["entry"][0]["resource"]["identifier"][0]["value"].split(":", 1)[1]


def test_convert_uses_the_configured_systems(database_url: str) -> None:
    app = create_app(Settings(database_url=database_url, sample_id_system=LAB_SYSTEMS["sample"],
                              report_id_system=LAB_SYSTEMS["report"],
                              resource_id_system=LAB_SYSTEMS["resource"]))
    store = app.extensions["allfhir.store"]
    try:
        key = apikeys.create(store, "lims", ["system/*.read", "system/*.write"])
        files = {"classifier": (EXAMPLE.open("rb"), EXAMPLE.name),
                 "fusions": (ARRIBA.open("rb"), ARRIBA.name)}
        r = app.test_client().post("/fhir/$convert?bundle-type=transaction", data=files,
                                   headers={"Authorization": f"Bearer {key}"},
                                   content_type="multipart/form-data")
        assert r.status_code == 200
        bundles = _reports(r.get_json())
        assert [_sample(b) for b in bundles] == ["SJBALL043684", "SJALL015972", "SJBALL014030"]
        for bundle in bundles:
            assert_lab_systems(bundle, _sample(bundle))
        # the stored report is searchable by the lab's own report identifier
        found = app.test_client().get(
            "/fhir/DiagnosticReport",
            query_string={"identifier": f"{LAB_SYSTEMS['report']}|allsorts:SJALL015972"},
            headers={"Authorization": f"Bearer {key}"}).get_json()
        assert [e["resource"]["id"] for e in found["entry"]] == [bundles[1]["entry"][0]["resource"]["id"]]
    finally:
        store.dispose()


@pytest.fixture(scope="module")
def lab_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    with fresh_database("sqlite", tmp_path_factory.mktemp("serve-lab"), migrate=False) as url, \
            running_server(url, LAB_ENV) as (srv, _):
        yield srv


def test_served_convert_uses_the_systems_of_its_environment(lab_server: Server) -> None:
    r = requests.post(f"{lab_server.url}/fhir/$convert", data=EXAMPLE.read_bytes(), timeout=30,
                      params={"bundle-type": "transaction"},
                      headers=lab_server.headers(**{"Content-Type": "text/csv"}))
    assert r.status_code == 200
    bundles = _reports(r.json())
    assert len(bundles) == 3
    for bundle in bundles:
        assert_lab_systems(bundle, _sample(bundle))
