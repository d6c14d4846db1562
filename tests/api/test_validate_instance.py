"""Instance-level `POST /fhir/{type}/{id}/$validate` (modes update, delete, profile) next to the
type-level one, against what $convert stored; on SQLite and PostgreSQL."""

from __future__ import annotations

import json

import pytest

from tests.api.conftest import Api
from tests.api.test_fhir_rest import EXAMPLE, issue, reports
from tests.api.test_fhir_rest import post as convert
from tests.api.test_validate_api import DOM6, issues, post


@pytest.fixture
def stored(api: Api, profile_validator: object) -> dict:
    """A stored report Bundle (the validator's packages are needed: skips without them)."""
    r = convert(api, EXAMPLE.read_bytes(), "text/csv")
    return reports(r.get_json())[0]


def test_instance_validate_checks_against_the_stored_resource(api: Api, stored: dict) -> None:
    biomarker = stored["entry"][1]["resource"]
    rid = biomarker["id"]
    path = f"/fhir/Observation/{rid}/$validate"
    plain = issues(post(api, path, biomarker))
    assert plain == issues(post(api, "/fhir/Observation/$validate", biomarker))
    assert plain == [("warning", "invariant", f"Observation: {DOM6}", ["Observation"])]
    update = issues(post(api, path, biomarker, mode="update"))
    assert update == [*plain, (
        "error", "not-supported", f"Observation/{rid} cannot be updated directly: a changed report "
        "is submitted again through $convert, which makes the new version", [f"Observation/{rid}"])]
    # delete validates no content: the body may be empty
    r = api.client.post(f"{path}?mode=delete", headers=api.auth("reader"))
    assert issues(r) == [(
        "error", "not-supported", f"Observation/{rid} cannot be deleted: stored reports are amended "
        "by a new version ($convert), never deleted", [f"Observation/{rid}"])]
    wrapped = post(api, path, {"resourceType": "Parameters", "parameter": [
        {"name": "resource", "resource": biomarker}, {"name": "mode", "valueCode": "update"}]})
    assert issues(wrapped) == update


def test_instance_validate_refusals(api: Api, stored: dict) -> None:
    biomarker = stored["entry"][1]["resource"]
    rid = biomarker["id"]
    path = f"/fhir/Observation/{rid}/$validate"
    assert issue(post(api, "/fhir/Observation/00000000-0000-0000-0000-000000000000/$validate",
                      biomarker)) == (404, "not-found",
                                      "Observation/00000000-0000-0000-0000-000000000000 is not known")
    assert issue(post(api, path, biomarker, mode="create")) == (
        400, "not-supported", "mode 'create' is not supported at an instance: update, delete, "
        "profile (create is type-level: Observation/$validate)")
    other = {**biomarker, "id": "another-id"}
    assert issue(post(api, path, other)) == (
        400, "invalid", f"the resource's id 'another-id' is not the id of Observation/{rid}")
    report = stored["entry"][0]["resource"]
    assert issue(post(api, path, report))[:2] == (400, "invalid")
    # reading the instance needs its read scope
    refused = api.client.post(path, data=json.dumps(biomarker), headers={
        **api.auth("report-reader"), "Content-Type": "application/fhir+json"})
    assert issue(refused) == (403, "forbidden", "the API key 'report-reader' lacks the scope for this "
                              "request: needs system/Observation.r")
