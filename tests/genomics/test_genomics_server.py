"""The operations through a real `allfhir serve` (gunicorn) on loopback, on SQLite and
PostgreSQL: results converted over HTTP, then asked for by GET and POST."""

from __future__ import annotations

import requests

from tests.api.test_server import Server, server  # noqa: F401  (the module's server fixture)
from tests.genomics.conftest import SV_VCF
from tests.genomics.test_subject_operations import A_BCR, A_FUSION, BCR_RANGE


def test_structural_variants_and_population_counts_over_http(server: Server) -> None:  # noqa: F811
    with SV_VCF.open("rb") as vcf:
        r = requests.post(f"{server.url}/fhir/$convert", headers=server.headers(), timeout=60,
                          params={"patient": "Patient/A"},
                          files={"calls": ("calls.csv", b",Prediction\nPT11_D,Ph\n", "text/csv"),
                                 "vcf": (SV_VCF.name, vcf, "text/plain")})
    assert r.status_code == 200, r.text
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
