"""Conformance resources, `ConceptMap/$translate` and `CodeSystem/$lookup` through the test
client: any valid key reads them, no key is 401; answers checked against profiles/."""

from __future__ import annotations

import json

from allfhir.conformance import compiled
from tests.api.conftest import Api

ALLFHIR = "https://allfhir.org/fhir"
SUBTYPE = f"{ALLFHIR}/CodeSystem/bcp-all-subtype"
ALLSORTS = f"{ALLFHIR}/CodeSystem/allsorts-labels"
NCIT = "http://ncicb.nci.nih.gov/xml/owl/EVS/Thesaurus.owl"
ICDO3 = "http://terminology.hl7.org/CodeSystem/icd-o-3"
ONCOTREE = "http://data.mskcc.org/ontologies/oncotree"
TERMINOLOGIES = f"{ALLFHIR}/ConceptMap/bcp-all-subtype-to-terminologies"


def get(api: Api, path: str, key: str = "report-reader", **query: str):
    return api.client.get(path, query_string=query, headers=api.auth(key))


def matches(body: dict) -> list[tuple[str, str, str, str]]:
    assert body["resourceType"] == "Parameters"
    return [(m["part"][0]["valueCode"], m["part"][1]["valueCoding"]["system"],
             m["part"][1]["valueCoding"]["code"], m["part"][2]["valueUri"])
            for m in body["parameter"] if m["name"] == "match"]


def test_read_by_id_and_url_with_any_key(api: Api) -> None:
    # a key scoped to DiagnosticReports only still reads the server's own conformance resources
    for rtype, rid in (("StructureDefinition", "bcp-all-subtype-implication"),
                       ("CodeSystem", "bcp-all-subtype"), ("ValueSet", "bcp-all-subtypes"),
                       ("ConceptMap", "bcp-all-subtype-to-terminologies"),
                       ("NamingSystem", "sample-id")):
        r = get(api, f"/fhir/{rtype}/{rid}")
        assert r.status_code == 200 and r.content_type == "application/fhir+json; charset=utf-8"
        assert r.get_json() == compiled(rtype, rid)
    page = get(api, "/fhir/CodeSystem", url=SUBTYPE).get_json()
    assert (page["type"], page["total"]) == ("searchset", 1)
    assert page["entry"][0]["fullUrl"] == "http://localhost/fhir/CodeSystem/bcp-all-subtype"
    assert page["entry"][0]["resource"] == compiled("CodeSystem", "bcp-all-subtype")
    versioned = get(api, "/fhir/CodeSystem", url=f"{SUBTYPE}|0.1.0").get_json()
    assert versioned["total"] == 1
    assert get(api, "/fhir/CodeSystem", url=f"{SUBTYPE}|9").get_json()["total"] == 0
    named = get(api, "/fhir/NamingSystem", url=f"{ALLFHIR}/NamingSystem/report-id").get_json()
    assert [e["resource"]["id"] for e in named["entry"]] == ["report-id"]
    everything = get(api, "/fhir/ConceptMap").get_json()
    assert everything["total"] == 6


def test_conformance_refusals(api: Api) -> None:
    assert api.client.get("/fhir/CodeSystem/bcp-all-subtype").status_code == 401
    missing = get(api, "/fhir/ValueSet/nope")
    assert (missing.status_code, missing.get_json()["issue"][0]["diagnostics"]) == (
        404, "ValueSet/nope is not known")
    bad = get(api, "/fhir/ValueSet", name="x")
    assert (bad.status_code, bad.get_json()["issue"][0]["diagnostics"]) == (
        400, "unknown search parameter 'name' for ValueSet; known: url")


def test_translate_classifier_label_to_subtype(api: Api) -> None:
    r = get(api, "/fhir/ConceptMap/$translate", code="Ph", system=ALLSORTS)
    body = r.get_json()
    assert body["parameter"][0] == {"name": "result", "valueBoolean": True}
    assert body["parameter"][1] == {"name": "match", "part": [
        {"name": "equivalence", "valueCode": "equivalent"},
        {"name": "concept", "valueCoding": {"system": SUBTYPE, "code": "ph",
                                            "display": "Ph (BCR::ABL1)"}},
        {"name": "source", "valueUri": f"{ALLFHIR}/ConceptMap/allsorts-pred-to-bcp-all-subtype"}]}
    assert len(body["parameter"]) == 2


def test_translate_subtype_to_ncit_icdo3_oncotree(api: Api) -> None:
    got = {system: matches(get(api, "/fhir/ConceptMap/$translate", code="ph", system=SUBTYPE,
                               targetsystem=system).get_json())
           for system in (NCIT, ICDO3, ONCOTREE)}
    assert got == {
        NCIT: [("equivalent", NCIT, "C80331", TERMINOLOGIES), ("wider", NCIT, "C8644", TERMINOLOGIES)],
        ICDO3: [("equivalent", ICDO3, "9812/3", TERMINOLOGIES)],
        ONCOTREE: [("equivalent", ONCOTREE, "BLLBCRABL1", TERMINOLOGIES)],
    }
    # `target` (the target ValueSet, or the system as clients often send it) narrows the same way
    assert matches(get(api, "/fhir/ConceptMap/$translate", code="ph", system=SUBTYPE,
                       target=ONCOTREE).get_json()) == got[ONCOTREE]


def test_translate_reverse_and_post_parameters(api: Api) -> None:
    body = {"resourceType": "Parameters", "parameter": [
        {"name": "code", "valueCode": "BLLBCRABL1"}, {"name": "system", "valueUri": ONCOTREE},
        {"name": "reverse", "valueBoolean": True}]}
    r = api.client.post("/fhir/ConceptMap/$translate", data=json.dumps(body),
                        headers={**api.auth("reader"), "Content-Type": "application/fhir+json"})
    assert matches(r.get_json()) == [("equivalent", SUBTYPE, "ph", TERMINOLOGIES)]


def test_translate_without_a_mapping(api: Api) -> None:
    body = get(api, "/fhir/ConceptMap/$translate", code="no-such", system=SUBTYPE,
               targetsystem=NCIT).get_json()
    assert body == {"resourceType": "Parameters", "parameter": [
        {"name": "result", "valueBoolean": False},
        {"name": "message", "valueString": f"no mapping of 'no-such' in {SUBTYPE} to {NCIT}"}]}
    missing = get(api, "/fhir/ConceptMap/$translate", code="ph")
    assert (missing.status_code, missing.get_json()["issue"][0]["diagnostics"]) == (
        400, "parameter 'system' is required")


def test_lookup_subtype_code(api: Api) -> None:
    body = get(api, "/fhir/CodeSystem/$lookup", code="ph", system=SUBTYPE).get_json()
    assert body == {"resourceType": "Parameters", "parameter": [
        {"name": "name", "valueString": "BcpAllSubtype"},
        {"name": "version", "valueString": "0.1.0"},
        {"name": "display", "valueString": "Ph (BCR::ABL1)"},
        {"name": "property", "part": [
            {"name": "code", "valueCode": "definition"},
            {"name": "value", "valueString": "Philadelphia chromosome-positive B-ALL: t(9;22) "
                                             "giving the BCR::ABL1 fusion."}]},
        {"name": "property", "part": [{"name": "code", "valueCode": "kind"},
                                      {"name": "value", "valueCode": "subtype"}]},
        {"name": "property", "part": [{"name": "code", "valueCode": "parent"},
                                      {"name": "value", "valueCode": "ph-group"}]},
        {"name": "property", "part": [
            {"name": "code", "valueCode": "who-haem5"},
            {"name": "value", "valueString": "B-lymphoblastic leukaemia/lymphoma with BCR::ABL1 fusion"}]},
        {"name": "property", "part": [
            {"name": "code", "valueCode": "icc-2022"},
            {"name": "value", "valueString": "B-ALL with t(9;22)(q34.1;q11.2)/BCR::ABL1"}]},
        {"name": "property", "part": [{"name": "code", "valueCode": "defining-fusion"},
                                      {"name": "value", "valueString": "BCR::ABL1"}]},
    ]}
    unknown = get(api, "/fhir/CodeSystem/$lookup", code="nope", system=SUBTYPE)
    assert (unknown.status_code, unknown.get_json()["issue"][0]) == (404, {
        "severity": "error", "code": "code-invalid",
        "diagnostics": f"'nope' is not a code of {SUBTYPE}"})
    posted = api.client.post("/fhir/CodeSystem/$lookup", data=json.dumps({
        "resourceType": "Parameters", "parameter": [
            {"name": "coding", "valueCoding": {"system": SUBTYPE, "code": "ph"}}]}),
        headers={**api.auth("reader"), "Content-Type": "application/fhir+json"})
    assert posted.get_json() == body


def test_metadata_declares_the_conformance_types_and_operations(api: Api) -> None:
    rest = api.client.get("/fhir/metadata").get_json()["rest"][0]
    types = {res["type"]: res for res in rest["resource"]}
    for rtype in ("StructureDefinition", "CodeSystem", "ValueSet", "ConceptMap", "NamingSystem"):
        assert [i["code"] for i in types[rtype]["interaction"]] == ["read", "search-type"]
        assert [p["name"] for p in types[rtype]["searchParam"]] == ["url"]
    assert types["ConceptMap"]["operation"] == [
        {"name": "translate", "definition": "http://hl7.org/fhir/OperationDefinition/ConceptMap-translate"}]
    assert types["CodeSystem"]["operation"] == [
        {"name": "lookup", "definition": "http://hl7.org/fhir/OperationDefinition/CodeSystem-lookup"}]
    assert "operation" not in types["ValueSet"]
