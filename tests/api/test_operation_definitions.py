"""The OperationDefinition of `$convert` (profiles/input/fsh/OperationDefinitions.fsh): compiled,
served by the catalogue, referenced by the CapabilityStatement, and the same parameters the code
reads; on SQLite and PostgreSQL."""

from __future__ import annotations

from allfhir import codes
from allfhir.api.capability import CONVERT
from allfhir.api.conversion import VALUE_TYPES
from allfhir.conformance import compiled
from tests.api.conftest import Api


def test_convert_is_defined_by_the_canonical_the_capability_statement_names(api: Api) -> None:
    cs = api.client.get("/fhir/metadata").get_json()
    assert ("convert", CONVERT) in [(o["name"], o["definition"]) for o in cs["rest"][0]["operation"]]
    found = api.client.get("/fhir/OperationDefinition", query_string={"url": CONVERT},
                           headers=api.auth("reader")).get_json()
    (entry,) = found["entry"]
    od = entry["resource"]
    assert od == compiled("OperationDefinition", "convert")
    assert api.client.get("/fhir/OperationDefinition/convert", headers=api.auth("reader")).get_json() == od
    assert (od["url"], od["code"], od["kind"], od["system"], od["type"], od["instance"]) == (
        CONVERT, "convert", "operation", True, False, False)
    types = {r["type"]: r for r in cs["rest"][0]["resource"]}
    assert [p["name"] for p in types["OperationDefinition"]["searchParam"]] == ["url"]


def test_the_definition_names_the_parameters_the_code_reads() -> None:
    od = compiled("OperationDefinition", "convert")
    inputs = [(p["name"], p["min"], p["max"], p["type"]) for p in od["parameter"] if p["use"] == "in"]
    assert [name for name, *_ in inputs] == ["file", *VALUE_TYPES]
    # each declared type is the first value[x] the code accepts for it
    assert {name: f"value{kind[0].upper()}{kind[1:]}" for name, _, _, kind in inputs[1:]} == {
        name: kinds[0] for name, kinds in VALUE_TYPES.items()}
    assert inputs[0] == ("file", 1, "*", "Attachment")
    assert [(p["name"], p["max"], p["type"]) for p in od["parameter"] if p["use"] == "out"] == [
        ("report", "*", "Bundle"), ("outcome", "1", "OperationOutcome")]


def test_the_order_id_naming_system_is_compiled() -> None:
    ns = compiled("NamingSystem", "order-id")
    assert ns["uniqueId"] == [{"type": "uri", "value": codes.NS_ORDER_ID, "preferred": True}]


def test_the_definition_is_valid_r4(profile_validator: object) -> None:
    issues = profile_validator.validate(compiled("OperationDefinition", "convert"))  # type: ignore[attr-defined]
    assert [i.text() for i in issues if i.severity == "error"] == []


def test_openapi_describes_the_same_parameters(api: Api) -> None:
    ops = api.client.get("/openapi.json").get_json()["paths"]
    convert = ops["/fhir/$convert"]["post"]["parameters"]
    assert [p["name"] for p in convert if p["in"] == "query"] == ["_format", "_pretty", *VALUE_TYPES]
    assert [p["name"] for p in convert if p["in"] == "header"] == ["Prefer", "Idempotency-Key", "If-Match"]
    assert [p["name"] for p in ops["/fhir/AuditEvent"]["get"]["parameters"]] == [
        "_format", "_pretty", "date", "agent", "entity", "action", "_count", "_offset", "_elements"]
    assert [p["name"] for p in ops["/fhir/{rtype}/{rid}/$validate"]["post"]["parameters"]] == [
        "rtype", "rid", "_format", "_pretty", "mode", "profile"]


def test_every_operation_of_ours_the_capability_statement_names_is_served(api: Api) -> None:
    cs = api.client.get("/fhir/metadata").get_json()
    rest = cs["rest"][0]
    ours = sorted({o["definition"] for o in rest["operation"]
                   + [o for r in rest["resource"] for o in r.get("operation", [])]
                   if o["definition"].startswith(codes.ALLFHIR)})
    assert ours == [f"{codes.ALLFHIR}/OperationDefinition/{name}"
                    for name in ("convert", "delivery-status", "render", "retry")]
    for url in ours:
        found = api.client.get("/fhir/OperationDefinition", query_string={"url": url},
                               headers=api.auth("reader")).get_json()
        (entry,) = found["entry"]
        od = entry["resource"]
        assert (od["url"], od["code"]) == (url, url.rsplit("/", 1)[1])
    for name in ("render", "delivery-status", "retry"):
        od = compiled("OperationDefinition", name)
        assert (od["instance"], od["resource"]) == (True, ["DiagnosticReport"])
