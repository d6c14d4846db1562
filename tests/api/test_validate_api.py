"""`$validate` through the test client: raw and Parameters bodies, type level, `profile`, the
issues of a known-bad fixture, and a 503 when the FHIR packages are absent."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from allfhir.api import create_app
from allfhir.convert import convert
from allfhir.settings import Settings
from allfhir.store import apikeys
from tests.api.conftest import Api
from tests.conftest import DATA, REPO

EXAMPLE = REPO / "examples" / "allsorts" / "probabilities.csv"
BAD = DATA / "validation"
DOM6 = "constraint dom-6 failed: A resource should have narrative for robust management " \
       "(text.`div`.exists())"
BIOMARKER = "http://hl7.org/fhir/uv/genomics-reporting/StructureDefinition/molecular-biomarker"
VARIANT = "http://hl7.org/fhir/uv/genomics-reporting/StructureDefinition/variant"
SIGNATURE = "https://allfhir.org/fhir/StructureDefinition/bcp-all-expression-signature"


def example_bundle() -> dict:
    return next(b for b in convert([EXAMPLE]) if isinstance(b, dict))


def post(api: Api, path: str, doc: dict, key: str = "reader", **query: str):
    return api.client.post(path, data=json.dumps(doc), query_string=query,
                           headers={**api.auth(key), "Content-Type": "application/fhir+json"})


def issues(r) -> list[tuple[str, str, str, list[str]]]:
    assert r.status_code == 200 and r.content_type == "application/fhir+json; charset=utf-8"
    body = r.get_json()
    assert body["resourceType"] == "OperationOutcome"
    return [(i["severity"], i["code"], i["diagnostics"], i.get("expression", []))
            for i in body["issue"]]


def test_our_report_bundle_has_no_errors(api: Api) -> None:
    got = issues(post(api, "/fhir/$validate", example_bundle()))
    # only dom-6 warnings: our entries carry no narrative of their own (the report's text has it)
    assert got == [("warning", "invariant", f"{kind}: {DOM6}", [f"Bundle.entry[{i}].resource"])
                   for i, kind in ((1, "Observation"), (2, "Observation"), (3, "Task"), (4, "Device"))]


def test_parameters_body_gives_the_same_answer(api: Api) -> None:
    bundle = example_bundle()
    raw = post(api, "/fhir/Bundle/$validate", bundle).get_json()
    wrapped = post(api, "/fhir/Bundle/$validate", {
        "resourceType": "Parameters",
        "parameter": [{"name": "resource", "resource": bundle}, {"name": "mode", "valueCode": "create"}],
    })
    assert wrapped.get_json() == raw


def test_known_bad_fixture_reports_its_defect(api: Api) -> None:
    bundle = json.loads((BAD / "bad-wrong-fixed-code.json").read_text(encoding="utf-8"))
    errors = [i for i in issues(post(api, "/fhir/$validate", bundle)) if i[0] == "error"]
    assert errors == [(
        "error", "value",
        'Variant: Observation.code: value {"coding":[{"code":"81247-9","system":"http://loinc.org"}]} '
        'does not match pattern value {"coding":[{"code":"69548-6","system":"http://loinc.org"}]}',
        ["Bundle.entry[1].resource.code"])]


def test_profile_parameter_adds_the_profile(api: Api) -> None:
    biomarker = example_bundle()["entry"][1]["resource"]
    assert biomarker["meta"]["profile"] == [BIOMARKER, SIGNATURE]
    plain = issues(post(api, "/fhir/Observation/$validate", biomarker))
    assert plain == [("warning", "invariant", f"Observation: {DOM6}", ["Observation"])]
    against = issues(post(api, "/fhir/Observation/$validate", biomarker, mode="profile",
                          profile=VARIANT))
    # the molecular-biomarker code is not the variant profile's fixed LOINC 69548-6
    assert against == [plain[0], (
        "error", "value", 'Variant: Observation.code: value {"coding":[{"code":'
        '"expression-subtype-signature","display":"BCP-ALL gene-expression subtype signature",'
        '"system":"https://allfhir.org/fhir/CodeSystem/allfhir-codes"}],"text":"ALLSorts '
        'expression subtype signature"} does not match pattern value {"coding":[{"code":'
        '"69548-6","system":"http://loinc.org"}]}', ["Observation.code"])]


def _refusal(r) -> tuple[int, str, str]:
    body = r.get_json()
    assert body["resourceType"] == "OperationOutcome"
    return r.status_code, body["issue"][0]["code"], body["issue"][0]["diagnostics"]


def test_refusals(api: Api) -> None:
    obs = example_bundle()["entry"][1]["resource"]
    assert _refusal(post(api, "/fhir/DiagnosticReport/$validate", obs)) == (
        400, "invalid", "a Observation cannot be validated at DiagnosticReport/$validate: post it "
        "to Observation/$validate or $validate")
    assert _refusal(post(api, "/fhir/$validate", obs, mode="update")) == (
        400, "not-supported", "mode 'update' is not supported here: create, profile (update and "
        "delete need an instance-level $validate)")
    assert _refusal(post(api, "/fhir/$validate", obs, profile="https://example.org/SD/none")) == (
        400, "not-supported", "profile 'https://example.org/SD/none' is not known to this server")
    assert _refusal(post(api, "/fhir/$validate", {"resourceType": "Parameters"})) == (
        400, "required", "the Parameters carry no 'resource' parameter with a resource to validate")
    device = {"resourceType": "Device"}
    assert _refusal(post(api, "/fhir/$validate", {"resourceType": "Parameters", "parameter": 1})) == (
        400, "required", "the Parameters carry no 'resource' parameter with a resource to validate")
    assert _refusal(post(api, "/fhir/$validate", {"resourceType": "Parameters", "parameter": [
        {"name": "resource", "resource": device}, {"name": "profile", "valueUri": {"x": 1}}]})) == (
        400, "invalid", "the 'profile' parameter is a canonical URL: a string")
    for meta in ("x", {"profile": 1}):
        assert _refusal(post(api, "/fhir/$validate", {**device, "meta": meta}, profile=VARIANT)) == (
            400, "structure", "the 'profile' parameter is added to the resource's meta.profile: its "
            "meta must be an object and meta.profile an array")
    no_key = api.client.post("/fhir/$validate", data=json.dumps(obs),
                             headers={"Content-Type": "application/fhir+json"})
    assert no_key.status_code == 401


def test_without_packages_validate_is_503(database_url: str, tmp_path: Path,
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ALLFHIR_FHIR_PACKAGES", str(tmp_path))
    app = create_app(Settings(database_url=database_url))
    store = app.extensions["allfhir.store"]
    try:
        key = apikeys.create(store, "lims", ["system/*.read"])
        r = app.test_client().post("/fhir/$validate", data=json.dumps({"resourceType": "Device"}),
                                   headers={"Authorization": f"Bearer {key}",
                                            "Content-Type": "application/fhir+json"})
        assert _refusal(r) == (
            503, "transient", "validation is unavailable on this server: FHIR packages not found "
            f"({tmp_path / 'ig/package/package.json'} missing); run `allfhir packages fetch`, or "
            "set ALLFHIR_FHIR_PACKAGES to a folder that holds them")
    finally:
        store.dispose()


# Malformed inputs the validator once raised on (tests/test_validation_malformed.py has one per
# place): through the API each is a 200 OperationOutcome naming what is wrong, never a 500.
MALFORMED = [
    ({"resourceType": "Bundle", "type": "collection", "entry": 1},
     [("error", "structure", "Input should be a valid list", ["Bundle.entry"])]),
    ({"resourceType": "Bundle", "type": "collection", "entry": [{"resource": ["x"]}]},
     [("error", "structure", "Value is expected from the instance of Resource, but got type <class 'list'>",
       ["Bundle.entry[0].resource.root"])]),
    ({"resourceType": "Device", "meta": {"profile": 1}},
     [("error", "structure", "Input should be a valid list", ["Device.meta.profile"]),
      ("warning", "invariant", f"Device: {DOM6}", ["Device"])]),
    ({"resourceType": "Device", "contained": 1, "text": {"status": "generated", "div": "<div>x</div>"}},
     [("error", "structure", "Input should be a valid list", ["Device.contained"])]),
]


@pytest.mark.parametrize("doc, expected", MALFORMED, ids=["entry", "resource", "profile", "contained"])
def test_malformed_input_is_an_outcome(api: Api, doc: dict, expected: list) -> None:
    assert issues(post(api, "/fhir/$validate", doc)) == expected
    assert issues(post(api, f"/fhir/{doc['resourceType']}/$validate", doc)) == expected


def test_deep_nesting_is_an_outcome(api: Api) -> None:
    ext: dict = {"url": "http://example.org/x", "valueString": "a"}
    for _ in range(120):  # 240 levels: within what the validator follows, beyond what the API takes
        ext = {"url": "http://example.org/x", "extension": [ext]}
    got = issues(post(api, "/fhir/Device/$validate", {"resourceType": "Device", "extension": [ext]}))
    assert got == [("error", "structure", "objects and arrays nested more than 100 levels deep: "
                    "not validated", ["Device" + ".extension[0]" * 50])]
    # deeper than the JSON parser follows: the body is refused as unreadable
    r = api.client.post("/fhir/$validate", data="[" * 50_000 + "]" * 50_000,
                        headers={**api.auth("reader"), "Content-Type": "application/fhir+json"})
    assert _refusal(r) == (400, "invalid", "the body nests JSON arrays and objects too deeply to be read")
