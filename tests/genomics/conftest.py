"""BCP-ALL results stored through `$convert` for the Genomics Reporting IG operations: four
subjects on a fresh database (SQLite and PostgreSQL), each converted by the API itself.

- Patient/A: ALLSorts 'Ph' for PT11_D with the Manta/VEP structural-variant VCF (GRCh38 in its
  header): BCR::ABL1 from breakends, IKZF1 / CDKN2A / CDKN2B / ERG losses, a PAX5 gain.
- Patient/B: ALLSorts 'PAX5 P80R' for ALL-001 with the VEP VCF of PAX5 p.Pro80Arg.
- Patient/C: the ALLSorts example cohort (three samples) with its Arriba fusions (the caller
  names no assembly, so the breakpoints are not placed on an assembly).
- Patient/D: a generic-JSON iAMP21 call with its chromosome 21 amplification.
"""

from __future__ import annotations

import io
import json
from dataclasses import dataclass

import pytest

from allfhir.store import apikeys
from tests.api import conftest as api_fixtures
from tests.api.conftest import Api
from tests.conftest import DATA, REPO

SV_VCF = DATA / "vcf" / "vep-sv.vcf"
PAX5_VCF = DATA / "vcf" / "vep-pax5.vcf"
EXAMPLE = REPO / "examples" / "allsorts" / "probabilities.csv"
ARRIBA = REPO / "examples" / "allsorts" / "SJBALL043684.arriba.fusions.tsv"
IAMP21 = {"sample_id": "LAB-21", "calls": [{"label": "iamp21", "score_type": "score",
                                             "probability": 0.9}], "ploidy": {"iamp21": True}}
REGISTRY = "registry"  # a key with the aggregate scope only
api = api_fixtures.api  # the API on a fresh database, with its keys


@dataclass
class Stored:
    api: Api

    def get(self, path: str, key: str = "reader", **params: object):
        return self.api.client.get(path, query_string=params, headers=self.api.auth(key))

    def post(self, path: str, body: dict, key: str = "reader"):
        return self.api.client.post(path, data=json.dumps(body), headers={
            **self.api.auth(key), "Content-Type": "application/fhir+json"})

    def read(self, ref: str) -> dict:
        r = self.api.client.get(f"/fhir/{ref}", headers=self.api.auth("reader"))
        assert r.status_code == 200, ref
        return r.get_json()


def _convert(api: Api, patient: str, files: list[tuple[str, bytes]], **query: str):
    data = {"file": [(io.BytesIO(content), name) for name, content in files]}
    r = api.client.post("/fhir/$convert", data=data, content_type="multipart/form-data",
                        query_string={"patient": patient, **query}, headers=api.auth("writer"))
    assert r.status_code == 200, r.get_data(as_text=True)
    return r


@pytest.fixture
def stored(api: Api) -> Stored:
    _convert(api, "Patient/A", [("calls.csv", b",Prediction\nPT11_D,Ph\n"),
                                (SV_VCF.name, SV_VCF.read_bytes())])
    _convert(api, "Patient/B", [("calls.csv", b",Prediction\nALL-001,PAX5 P80R\n"),
                                (PAX5_VCF.name, PAX5_VCF.read_bytes())])
    _convert(api, "Patient/C", [(EXAMPLE.name, EXAMPLE.read_bytes()),
                                (ARRIBA.name, ARRIBA.read_bytes())])
    _convert(api, "Patient/D", [("lab21.json", json.dumps(IAMP21).encode())])
    api.keys[REGISTRY] = apikeys.create(api.store, REGISTRY, ["allfhir/population.aggregate"])
    return Stored(api)
