"""The operations and bulk export through a real `allfhir serve` (gunicorn) on loopback and a
real `allfhir worker` process, on SQLite and PostgreSQL: results converted over HTTP, then asked
for by GET and POST, and exported."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from tests.api.test_server import Server, running_server
from tests.conftest import fresh_database
from tests.genomics.conftest import SV_VCF
from tests.genomics.test_subject_operations import A_BCR, A_FUSION, BCR_RANGE


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def served(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
           ) -> Iterator[tuple[Server, Path]]:
    """The server, with its data folder (where the worker writes exports) in a temporary one,
    holding one converted sample of Patient/A (a Ph call and its structural-variant VCF): each
    test reads it, none depends on another having run."""
    tmp = tmp_path_factory.mktemp(f"genomics-{request.param}")
    with fresh_database(request.param, tmp, migrate=False) as database_url, \
            running_server(database_url, {"ALLFHIR_DATA_DIR": str(tmp)}) as (srv, _):
        with SV_VCF.open("rb") as vcf:
            r = requests.post(f"{srv.url}/fhir/$convert", headers=srv.headers(), timeout=60,
                              params={"patient": "Patient/A"},
                              files={"calls": ("calls.csv", b",Prediction\nPT11_D,Ph\n", "text/csv"),
                                     "vcf": (SV_VCF.name, vcf, "text/plain")})
        assert r.status_code == 200, r.text
        yield srv, tmp


def test_structural_variants_and_population_counts_over_http(served: tuple[Server, Path]) -> None:
    server, _ = served
    got = requests.get(f"{server.url}/fhir/$find-subject-structural-intersecting-variants",
                       params={"subject": "Patient/A", "ranges": BCR_RANGE, "includeVariants": "true"},
                       headers=server.headers(), timeout=10)
    assert got.status_code == 200 and got.headers["Content-Type"] == "application/fhir+json; charset=utf-8"
    [variants] = got.json()["parameter"]
    parts = variants["part"]
    assert [(p["name"], p.get("valueBoolean"), p.get("resource", {}).get("id")) for p in parts] == [
        ("rangeItem", None, None), ("presence", True, None), ("variant", None, A_BCR),
        ("variant", None, A_FUSION)]
    counted = requests.post(f"{server.url}/fhir/$find-population-dx-implications", timeout=10,
                            headers=server.headers(**{"Content-Type": "application/fhir+json"}),
                            json={"resourceType": "Parameters", "parameter": [
                                {"name": "conditions", "valueString":
                                 "https://allfhir.org/fhir/CodeSystem/bcp-all-subtype|ph"},
                                {"name": "includePatientList", "valueBoolean": True}]})
    assert counted.json() == {"resourceType": "Parameters", "parameter": [{"name": "implications", "part": [
        {"name": "numerator", "valueQuantity": {"value": 1}},
        {"name": "denominator", "valueQuantity": {"value": 1}},
        {"name": "subject", "valueString": "Patient/A"}]}]}
    bad = requests.get(f"{server.url}/fhir/$find-subject-specific-variants", timeout=10,
                       params={"subject": "Patient/A", "variants": "BCR::ABL1"}, headers=server.headers())
    assert bad.status_code == 400 and bad.json()["resourceType"] == "OperationOutcome"
    assert "variant 'BCR::ABL1' is not valid HGVS or SPDI" in bad.json()["issue"][0]["diagnostics"]


def test_bulk_export_over_http_with_a_worker_process(served: tuple[Server, Path]) -> None:
    server, data_dir = served
    kick = requests.get(f"{server.url}/fhir/Patient/$export", params={"_type": "DiagnosticReport"},
                        headers=server.headers(Prefer="respond-async", Accept="application/fhir+json"),
                        timeout=10)
    assert kick.status_code == 202
    status = kick.headers["Content-Location"]
    assert requests.get(status, headers=server.headers(), timeout=10).status_code == 202
    env = {**os.environ, "ALLFHIR_DATABASE_URL": server.database_url, "ALLFHIR_DATA_DIR": str(data_dir)}
    subprocess.run([sys.executable, "-m", "allfhir", "worker", "--kind", "export", "--once"], env=env,
                   check=True, capture_output=True, timeout=120)
    manifest = requests.get(status, headers=server.headers(), timeout=10).json()
    [out] = manifest["output"]
    assert (out["type"], out["count"]) == ("DiagnosticReport", 1)
    got = requests.get(out["url"], headers=server.headers(), timeout=10)
    assert got.status_code == 200 and got.headers["Content-Type"].startswith("application/fhir+ndjson")
    [report] = [json.loads(line) for line in got.text.splitlines()]
    assert report["subject"] == {"reference": "Patient/A"}
    assert requests.get(out["url"], timeout=10).status_code == 401
