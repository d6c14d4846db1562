"""profiles/: the generated FSH matches mappings/ byte-for-byte, and the compiled JSON says what the
converter emits (the compiled JSON itself is checked against the FSH by SUSHI in .ci/run)."""

from __future__ import annotations

from pathlib import Path

import pytest

from allfhir import codes, conformance
from allfhir.knowledge import Knowledge

REPO = Path(__file__).resolve().parents[1]
COMMITTED = REPO / "profiles" / "input" / "fsh" / "generated"
EXAMPLES = REPO / "profiles" / "input" / "examples"


def test_generated_fsh_is_up_to_date(tmp_path: Path, kb: Knowledge) -> None:
    written = conformance.generate(tmp_path, kb)
    committed = [*COMMITTED.glob("*.fsh"), *EXAMPLES.glob("*.json")]
    assert sorted(p.name for p in written) == sorted(p.name for p in committed), \
        "profiles/input is stale: run `python -m allfhir.conformance`"
    for path in written:
        twin = (COMMITTED if path.suffix == ".fsh" else EXAMPLES) / path.name
        assert path.read_bytes() == twin.read_bytes(), \
            f"{path.name} differs from mappings/ or the converter: run `python -m allfhir.conformance`"


def test_generate_removes_stale_files(tmp_path: Path, kb: Knowledge) -> None:
    stale = conformance.generated_dir(tmp_path) / "Old.fsh"
    stale.parent.mkdir(parents=True)
    stale.write_text("// old\n")
    conformance.generate(tmp_path, kb)
    assert not stale.exists()


def test_subtype_codesystem_fsh() -> None:
    text = (COMMITTED / "CodeSystem-bcp-all-subtype.fsh").read_text()
    assert f'* ^url = "{codes.CS_SUBTYPE}"' in text
    assert ('* #ph "Ph (BCR::ABL1)" "Philadelphia chromosome-positive B-ALL: t(9;22) giving the '
            'BCR::ABL1 fusion."\n') in text


def test_fsh_quoting() -> None:
    assert conformance.fsh_code("Ph Group") == '#"Ph Group"'
    assert conformance.fsh_code("ETV6::RUNX1") == '#"ETV6::RUNX1"'
    assert conformance.fsh_code("ph-like", "BcpAllSubtype") == "BcpAllSubtype#ph-like"
    assert conformance.fsh_str('say "x" \\ y') == '"say \\"x\\" \\\\ y"'


# --- compiled JSON (profiles/fsh-generated/resources) -------------------------------------------
def _compiled(resource_type: str, resource_id: str) -> dict:
    return conformance.compiled(resource_type, resource_id)


def test_compiled_dir_is_the_repo_folder() -> None:
    assert conformance.compiled_dir() == REPO / "profiles" / "fsh-generated" / "resources"
    assert (conformance.compiled_dir() / "CodeSystem-bcp-all-subtype.json").is_file()


def test_compiled_subtype_codesystem(kb: Knowledge) -> None:
    cs = _compiled("CodeSystem", "bcp-all-subtype")
    assert cs["url"] == codes.CS_SUBTYPE
    assert cs["content"] == "complete"
    assert [c["code"] for c in cs["concept"]] == list(kb.subtypes)
    assert cs["count"] == len(kb.subtypes) == 33
    ph = cs["concept"][0]
    assert ph["code"] == "ph"
    assert ph["display"] == "Ph (BCR::ABL1)"
    assert ph["property"] == [
        {"code": "kind", "valueCode": "subtype"},
        {"code": "parent", "valueCode": "ph-group"},
        {"code": "who-haem5", "valueString": "B-lymphoblastic leukaemia/lymphoma with BCR::ABL1 fusion"},
        {"code": "icc-2022", "valueString": "B-ALL with t(9;22)(q34.1;q11.2)/BCR::ABL1"},
        {"code": "defining-fusion", "valueString": "BCR::ABL1"},
    ]
    assert {p["code"] for p in cs["property"]} == {p[0] for p in conformance.SUBTYPE_PROPERTIES}


def test_compiled_allfhir_codes() -> None:
    cs = _compiled("CodeSystem", "allfhir-codes")
    assert cs["url"] == codes.CS_ALLFHIR
    assert {c["code"]: c["display"] for c in cs["concept"]} == codes.ALLFHIR_CODE_DISPLAY
    assert all(c.get("definition") for c in cs["concept"])


def test_compiled_valuesets(kb: Knowledge) -> None:
    def members(vs_id: str) -> list[str]:
        vs = _compiled("ValueSet", vs_id)
        assert vs["url"] == f"{codes.ALLFHIR}/ValueSet/{vs_id}"
        (include,) = vs["compose"]["include"]
        assert include["system"] == codes.CS_SUBTYPE
        return [c["code"] for c in include["concept"]]

    assert members("bcp-all-subtypes") == list(kb.subtypes)
    only = members("bcp-all-subtypes-only")
    assert "ph" in only and "ph-group" not in only and len(only) == 27
    assert members("bcp-all-subtype-groups") == [s.id for s in kb.subtypes.values() if s.kind == "group"]
    assert "ph-group" in members("bcp-all-subtype-groups")


def test_compiled_allsorts_conceptmap() -> None:
    cm = _compiled("ConceptMap", "allsorts-pred-to-bcp-all-subtype")
    assert cm["sourceUri"] == "https://allfhir.org/fhir/CodeSystem/allsorts-labels"
    assert cm["targetCanonical"] == "https://allfhir.org/fhir/ValueSet/bcp-all-subtypes"
    (group,) = cm["group"]
    assert group["source"] == "https://allfhir.org/fhir/CodeSystem/allsorts-labels"
    assert group["target"] == codes.CS_SUBTYPE
    by_label = {e["code"]: e["target"] for e in group["element"]}
    assert by_label["Ph Group"] == [{"code": "ph-group", "display": "Ph or Ph-like (group)",
                                     "equivalence": "equivalent"}]
    assert len(by_label) == 24
    labels_cs = _compiled("CodeSystem", "allsorts-labels")
    assert [c["code"] for c in labels_cs["concept"]] == list(by_label)


def test_compiled_conceptmap_per_classifier_column(kb: Knowledge) -> None:
    for classifier, column in kb.labels:
        cm_id = f"{classifier}-{column}-to-bcp-all-subtype".lower().replace("_", "-")
        cm = _compiled("ConceptMap", cm_id)
        assert len(cm["group"][0]["element"]) == len(kb.labels[(classifier, column)])


def test_compiled_terminology_conceptmap(kb: Knowledge) -> None:
    cm = _compiled("ConceptMap", "bcp-all-subtype-to-terminologies")
    groups = {g["target"]: g for g in cm["group"]}
    assert set(groups) <= set(codes.TERMINOLOGY_SYSTEMS.values())
    oncotree = {e["code"]: e["target"] for e in groups[codes.ONCOTREE]["element"]}
    display = "B-Lymphoblastic Leukemia/Lymphoma with t(9;22)(q34.1;q11.2);BCR-ABL1"
    assert oncotree["ph"] == [{"code": "BLLBCRABL1", "equivalence": "equivalent", "display": display}]
    ncit = {e["code"]: e["target"] for e in groups[codes.NCIT]["element"]}
    assert [(t["code"], t["equivalence"]) for t in ncit["ph"]] == [
        ("C80331", "equivalent"), ("C8644", "wider")]
    total = sum(len(e["target"]) for g in cm["group"] for e in g["element"])
    assert total == sum(len(s.codes) for s in kb.subtypes.values())


def test_compiled_subtype_implication_profile() -> None:
    sd = _compiled("StructureDefinition", "bcp-all-subtype-implication")
    assert sd["url"] == codes.PROFILE_SUBTYPE_IMPLICATION
    assert sd["baseDefinition"] == codes.PROFILE_DIAGNOSTIC_IMPLICATION
    elements = {e["id"]: e for e in sd["differential"]["element"]}
    phenotype = elements["Observation.component:predicted-phenotype"]
    assert (phenotype["min"], phenotype["max"]) == (1, "1")
    binding = elements["Observation.component:predicted-phenotype.value[x]"]["binding"]
    assert binding == {"strength": "required", "valueSet": "https://allfhir.org/fhir/ValueSet/bcp-all-subtypes"}
    system = elements["Observation.component:predicted-phenotype.value[x].coding:subtype.system"]
    assert system["patternUri"] == codes.CS_SUBTYPE
    probability = elements["Observation.component:classifier-probability"]
    assert (probability["min"], probability["max"]) == (0, "1")
    code = elements["Observation.component:classifier-probability.code"]["patternCodeableConcept"]
    assert code["coding"] == [{"code": codes.C_CLASSIFIER_PROBABILITY, "system": codes.CS_ALLFHIR}]
    value = elements["Observation.component:classifier-probability.value[x]"]
    assert [t["code"] for t in value["type"]] == ["Quantity"]


@pytest.mark.parametrize("ns", [codes.NS_REPORT_ID, codes.NS_RESOURCE_ID, codes.NS_SAMPLE_ID,
                                codes.NS_DEVICE])
def test_compiled_naming_systems(ns: str) -> None:
    resource = _compiled("NamingSystem", ns.rsplit("/", 1)[1])
    assert resource["uniqueId"] == [{"type": "uri", "value": ns, "preferred": True}]
    assert resource["kind"] == "identifier"


def test_converter_output_fits_the_profile(kb: Knowledge) -> None:
    # The codes the profile fixes and binds are the ones the converter writes (allfhir/fhir/subtype.py).
    from allfhir.convert import convert
    from allfhir.fhir.bundle import BuildOptions

    examples = REPO / "examples" / "allsorts"
    files = [examples / "probabilities.csv", examples / "SJBALL043684.arriba.fusions.tsv"]
    bundles = [b for b in convert(files, None, BuildOptions()) if isinstance(b, dict)]
    implications = [e["resource"] for b in bundles for e in b["entry"]
                    if codes.PROFILE_SUBTYPE_IMPLICATION in e["resource"].get("meta", {}).get("profile", [])]
    assert implications
    include = _compiled("ValueSet", "bcp-all-subtypes")["compose"]["include"][0]
    subtype_vs = [c["code"] for c in include["concept"]]
    for obs in implications:
        by_code: dict[str, list[dict]] = {}
        for component in obs["component"]:
            by_code.setdefault(component["code"]["coding"][0]["code"], []).append(component)
        phenotype = by_code.get(codes.LOINC_PREDICTED_PHENOTYPE, [])
        assert len(phenotype) == 1
        ours = [c for c in phenotype[0]["valueCodeableConcept"]["coding"] if c["system"] == codes.CS_SUBTYPE]
        assert len(ours) == 1 and ours[0]["code"] in subtype_vs
        probability = by_code.get(codes.C_CLASSIFIER_PROBABILITY, [])
        assert len(probability) <= 1
        for c in probability:
            assert c["valueQuantity"]["system"] == codes.UCUM and c["valueQuantity"]["code"] == "1"
