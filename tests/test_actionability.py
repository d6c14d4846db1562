"""Actionability: the agents, evidence and trials each subtype / alteration of the review yields.

The expected tables are written out by hand from mappings/actionability.csv, agents.csv and
trials.csv, so a change of any emitted RxNorm code, evidence level or NCT id shows up here.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from service.cli import main
from service.fhir.bundle import BuildOptions, build
from service.knowledge import Knowledge
from service.model import ClassifierRun, Fusion, Sample, SubtypeCall
from service.resolve import resolve

from .fhir_asserts import (
    Json,
    assert_internal_refs_resolve,
    by_profile,
    component_value,
    components,
    parse_r4b,
    resources,
)
from .fhir_asserts import resolve as deref

LOINC = "http://loinc.org"
RXNORM = "http://www.nlm.nih.gov/research/umls/rxnorm"
NCIT = "http://ncicb.nci.nih.gov/xml/owl/EVS/Thesaurus.owl"
NCT = "http://clinicaltrials.gov"
TBD = "http://hl7.org/fhir/uv/genomics-reporting/CodeSystem/tbd-codes-cs"
IG = "http://hl7.org/fhir/uv/genomics-reporting/StructureDefinition"
SUBTYPE_CS = "https://allfhir.org/fhir/CodeSystem/bcp-all-subtype"
THERAPEUTIC = f"{IG}/therapeutic-implication"
NO_ACTIONABLE = ("No actionable finding: no agent or clinical trial in the allfhir knowledge base "
                 "applies to these results.")

ALLSORTS = ClassifierRun(classifier_id="allsorts", name="ALLSorts", version="0.4.0")
ALLCATCHR = ClassifierRun(classifier_id="allcatchr", name="ALLCatchR", version="1.0")


def convert(kb: Knowledge, *labels: str, classifier: ClassifierRun = ALLSORTS,
            fusions: tuple[tuple[str, str], ...] = ()) -> Json:
    column = "Pred" if classifier is ALLSORTS else "Prediction"
    sample = Sample(sample_id="S1", classifier=classifier,
                    calls=[SubtypeCall(label=lab, label_column=column, probability=0.9) for lab in labels],
                    fusions=[Fusion(gene5=g5, gene3=g3) for g5, g3 in fusions])
    bundle = build(resolve(sample, kb), kb, BuildOptions())
    parse_r4b(bundle)
    assert_internal_refs_resolve(bundle)
    return bundle


Row = tuple[str | None, tuple[tuple[str, str], ...], str | None, str, str | None]


def summary(bundle: Json) -> list[Row]:
    """(agent text, agent codings, NCT id, evidence levels, implication) per implication."""
    out: list[Row] = []
    for obs in by_profile(bundle, THERAPEUTIC):
        med = components(obs, LOINC, "51963-7")
        agent = med[0]["valueCodeableConcept"] if med else {}
        trial = components(obs, TBD, "associated-therapy")
        implication = components(obs, TBD, "therapeutic-implication")
        out.append((
            agent.get("text"),
            tuple((c["system"], c["code"]) for c in agent.get("coding", [])),
            trial[0]["valueCodeableConcept"]["coding"][0]["code"] if trial else None,
            "".join(c["valueCodeableConcept"]["text"].removeprefix("AMP/ASCO/CAP 2017: level ")
                    for c in components(obs, LOINC, "93044-6")),
            implication[0]["valueCodeableConcept"]["coding"][0]["code"] if implication else None,
        ))
    return sorted(out, key=str)


IMATINIB = ("imatinib", ((RXNORM, "282388"), (NCIT, "C62035")))
DASATINIB = ("dasatinib", ((RXNORM, "475342"),))
PONATINIB = ("ponatinib", ((RXNORM, "1364347"),))
RUXOLITINIB = ("ruxolitinib", ((RXNORM, "1193326"),))
VENETOCLAX = ("venetoclax", ((RXNORM, "1747556"),))
GILTERITINIB = ("gilteritinib", ((RXNORM, "2105806"),))
RESPONSIVE = "LA6677-4"


def rows(agent: tuple[str, tuple[tuple[str, str], ...]], nct: str | None, level: str,
         implication: str | None = RESPONSIVE) -> Row:
    return (agent[0], agent[1], nct, level, implication)


def named(name: str) -> tuple[str, tuple[tuple[str, str], ...]]:
    """An agent without RxNorm (or NCIt) code: the component carries its name only."""
    return (name, ())


TABLE_1: dict[str, tuple[tuple[str, ...], ClassifierRun, list[Row]]] = {
    "ph": (("Ph",), ALLSORTS, [rows(DASATINIB, None, "A"), rows(IMATINIB, None, "A"),
                               rows(PONATINIB, None, "A")]),
    "kmt2a": (("KMT2A",), ALLCATCHR, sorted([
        rows(named("palbociclib"), "NCT02310243", "D", None),
        rows(named("palbociclib"), "NCT03132454", "D", None),
        rows(named("palbociclib"), "NCT03792256", "D", None),
        rows(named("palbociclib"), None, "D"),
        rows(named("panobinostat"), None, "D"),
        rows(named("pinometostat"), "NCT01684150", "D", None),
        rows(named("pinometostat"), "NCT02141828", "D", None),
        rows(named("pinometostat"), "NCT03701295", "D", None),
        rows(named("pinometostat"), None, "C"),
        rows(named("revumenib"), None, "A"),
        rows(VENETOCLAX, "NCT03808610", "D", None),
        rows(VENETOCLAX, None, "D"),
        rows(named("vorinostat"), None, "D"),
        (None, (), "NCT02553460", "D", None),
    ], key=str)),
    "mef2d": (("MEF2D",), ALLSORTS, [rows(named("panobinostat"), None, "D"),
                                     rows(named("vorinostat"), None, "D")]),
    "znf384": (("ZNF384",), ALLCATCHR, [rows(GILTERITINIB, None, "D")]),
    "nutm1": (("NUTM1",), ALLSORTS, [rows(named("BET bromodomain inhibitor"), None, "D")]),
    "bcl2-myc": (("BCL2/MYC",), ALLSORTS, sorted([rows(named("THZ1"), None, "D"),
                                                 rows(VENETOCLAX, "NCT03808610", "D", None),
                                                 rows(VENETOCLAX, None, "D")], key=str)),
    "near-haploid": (("Near haploid",), ALLSORTS, [rows(VENETOCLAX, "NCT03808610", "D", None),
                                                   rows(VENETOCLAX, None, "D")]),
    "low-hypodiploid": (("Low hypodiploid",), ALLSORTS, [rows(VENETOCLAX, "NCT03808610", "D", None),
                                                         rows(VENETOCLAX, None, "D")]),
}


@pytest.mark.parametrize("subtype", sorted(TABLE_1))
def test_table_1_subtypes_yield_exact_agents_evidence_and_trials(kb: Knowledge, subtype: str) -> None:
    labels, classifier, expected = TABLE_1[subtype]
    bundle = convert(kb, *labels, classifier=classifier)
    assert summary(bundle) == expected
    for obs in by_profile(bundle, THERAPEUTIC):
        context = component_value(obs, LOINC, "81259-4")
        assert context["coding"][0]["system"] == SUBTYPE_CS and context["coding"][0]["code"] == subtype


@pytest.mark.parametrize(("fusion", "expected"), [
    (("ETV6", "ABL1"), [rows(DASATINIB, None, "C"), rows(IMATINIB, None, "C"), rows(PONATINIB, None, "C")]),
    (("EBF1", "PDGFRB"), [rows(DASATINIB, None, "C"), rows(IMATINIB, None, "C"),
                          rows(PONATINIB, None, "C")]),
    (("PAX5", "JAK2"), [rows(RUXOLITINIB, None, "C")]),
    (("IGH", "EPOR"), [rows(RUXOLITINIB, None, "C")]),
])
def test_ph_like_kinase_fusions_yield_tki_or_jak_inhibitor(
        kb: Knowledge, fusion: tuple[str, str], expected: list[Row]) -> None:
    bundle = convert(kb, "Ph-like", fusions=(fusion,))
    assert summary(bundle) == expected
    [variant] = by_profile(bundle, f"{IG}/variant")
    for obs in by_profile(bundle, THERAPEUTIC):
        # the implication rests on the fusion (derivedFrom) and its context is Ph-like
        assert {"reference": f"urn:uuid:{variant['id']}"} in obs["derivedFrom"]
        assert component_value(obs, LOINC, "81259-4")["coding"][0]["code"] == "ph-like"


def test_bcr_abl1_is_ph_evidence_not_an_abl_class_fusion(kb: Knowledge) -> None:
    bundle = convert(kb, "Ph", fusions=(("BCR", "ABL1"),))
    assert summary(bundle) == TABLE_1["ph"][2]
    conclusions = [component_value(o, TBD, "conclusion-string") for o in by_profile(bundle, THERAPEUTIC)]
    assert ("Ph (BCR::ABL1): responsive to imatinib (best evidence level A) [rules ph-imatinib]."
            in conclusions)


def test_links_resolve_inside_the_bundle(kb: Knowledge) -> None:
    bundle = convert(kb, "KMT2A", classifier=ALLCATCHR)
    report = resources(bundle, "DiagnosticReport")[0]
    actions = [e["valueReference"] for e in report["extension"] if e["url"] == f"{IG}/recommended-action"]
    tasks = [deref(bundle, ref) for ref in actions]
    assert len(tasks) == len(by_profile(bundle, THERAPEUTIC)) == 14
    [diagnostic] = by_profile(bundle, f"{IG}/diagnostic-implication")
    studies = {s["identifier"][0]["value"]: s for s in resources(bundle, "ResearchStudy")}
    assert sorted(studies) == ["NCT01684150", "NCT02141828", "NCT02310243", "NCT02553460", "NCT03132454",
                               "NCT03701295", "NCT03792256", "NCT03808610"]
    for task in tasks:
        implication = deref(bundle, task["reasonReference"])
        assert THERAPEUTIC in implication["meta"]["profile"]
        assert {"reference": f"urn:uuid:{diagnostic['id']}"} in implication["derivedFrom"]
        trial = components(implication, TBD, "associated-therapy")
        if trial:
            assert task["meta"]["profile"] == [f"{IG}/followup-recommendation"]
            study = deref(bundle, task["focus"])
            nct = trial[0]["valueCodeableConcept"]["coding"][0]
            assert (nct["system"], study["identifier"][0]) == (
                NCT, {"system": NCT, "value": nct["code"]})
            assert deref(bundle, trial[0]["extension"][0]["valueReference"]) is study
        else:
            assert task["meta"]["profile"] == [f"{IG}/medication-recommendation"]
    assert report["conclusion"].endswith(
        "Agents to consider: palbociclib, panobinostat, pinometostat, revumenib, venetoclax, vorinostat. "
        "Clinical trials: NCT01684150, NCT02141828, NCT02310243, NCT02553460, NCT03132454, NCT03701295, "
        "NCT03792256, NCT03808610.")


def test_trial_with_unknown_status_is_recorded_as_unknown(kb: Knowledge) -> None:
    bundle = convert(kb, "KMT2A", classifier=ALLCATCHR)
    study = next(s for s in resources(bundle, "ResearchStudy")
                 if s["identifier"][0]["value"] == "NCT02310243")
    assert "status" not in study
    assert study["_status"] == {"extension": [{
        "url": "http://hl7.org/fhir/StructureDefinition/data-absent-reason", "valueCode": "unknown"}]}
    assert study["title"] == "Study of Palbociclib in MLL-rearranged Acute Leukemias"
    assert study["phase"]["coding"][0]["code"] == "phase-1-phase-2"
    assert study["note"] == [{"text": "Recruitment status 'unknown'"}]
    untitled = next(s for s in resources(bundle, "ResearchStudy")
                    if s["identifier"][0]["value"] == "NCT02553460")
    assert "title" not in untitled  # no title was read in a source: none is stated


def test_agent_without_rxnorm_is_named_not_coded(kb: Knowledge) -> None:
    bundle = convert(kb, "KMT2A", classifier=ALLCATCHR)
    revumenib = [o for o in by_profile(bundle, THERAPEUTIC)
                 if [c["valueCodeableConcept"] for c in components(o, LOINC, "51963-7")]
                 == [{"text": "revumenib"}]]
    assert len(revumenib) == 1
    citations = [e["valueRelatedArtifact"]["citation"]
                 for c in components(revumenib[0], LOINC, "93044-6") for e in c["extension"]]
    assert citations == [
        "https://www.fda.gov/drugs/resources-information-approved-drugs/"
        "fda-approves-revumenib-relapsed-or-refractory-acute-leukemia-kmt2a-translocation",
        "PMID:34501239"]


def test_two_subtypes_for_one_sample(kb: Knowledge) -> None:
    # the real ALLSorts call of SJBALL014030: only the low hypodiploid call is actionable
    bundle = convert(kb, "Low hypodiploid", "Ph-like")
    assert summary(bundle) == TABLE_1["low-hypodiploid"][2]
    contexts = {component_value(o, LOINC, "81259-4")["coding"][0]["code"]
                for o in by_profile(bundle, THERAPEUTIC)}
    assert contexts == {"low-hypodiploid"}
    # High hyperdiploid + PAX5alt: two implications, nothing actionable, and the report says so
    both = convert(kb, "High hyperdiploid", "PAX5alt")
    phenotypes = [component_value(o, LOINC, "81259-4")["coding"][0]["code"]
                  for o in by_profile(both, f"{IG}/diagnostic-implication")]
    assert phenotypes == ["high-hyperdiploid", "pax5alt"]
    assert by_profile(both, THERAPEUTIC) == [] and resources(both, "Task") == []
    assert resources(both, "DiagnosticReport")[0]["conclusion"].endswith(NO_ACTIONABLE)


def test_unclassified_sample_has_no_recommendation_and_says_so(kb: Knowledge) -> None:
    bundle = convert(kb, "Unclassified")
    assert [r["resourceType"] for r in resources(bundle)] == [
        "DiagnosticReport", "Observation", "Observation", "Device"]
    assert by_profile(bundle, THERAPEUTIC) == []
    assert resources(bundle, "DiagnosticReport")[0]["conclusion"].endswith(NO_ACTIONABLE)


def test_group_call_with_defining_fusion_applies_member_rules(kb: Knowledge) -> None:
    bundle = convert(kb, "KMT2A Group", fusions=(("KMT2A", "AFF1"),))
    implication = next(o for o in by_profile(bundle, THERAPEUTIC)
                       if [c["valueCodeableConcept"] for c in components(o, LOINC, "51963-7")]
                       == [{"text": "revumenib"}])
    assert component_value(implication, LOINC, "81259-4")["coding"][0]["code"] == "kmt2a"
    [variant] = by_profile(bundle, f"{IG}/variant")
    assert {"reference": f"urn:uuid:{variant['id']}"} in implication["derivedFrom"]
    # without the fusion the group call alone recommends nothing
    assert by_profile(convert(kb, "KMT2A Group"), THERAPEUTIC) == []


def test_cli_no_actionability_leaves_recommendations_out(tmp_path: Path,
                                                         capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "calls.json"
    path.write_text(json.dumps({"sample_id": "S9", "calls": [{"label": "ph", "probability": 0.95}]}))
    assert main(["convert", str(path)]) == 0
    with_actions = json.loads(capsys.readouterr().out)
    assert len(resources(with_actions, "Task")) == 3
    assert main(["convert", "--no-actionability", str(path)]) == 0
    without = json.loads(capsys.readouterr().out)
    assert [r["resourceType"] for r in resources(without)] == [
        "DiagnosticReport", "Observation", "Observation"]
    assert by_profile(without, THERAPEUTIC) == [] and "extension" not in resources(without)[0]


def test_knowledge_show_prints_rules_with_sources(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["knowledge", "show", "ph"]) == 0
    out = capsys.readouterr().out
    assert out.splitlines()[0] == "Ph (BCR::ABL1) [ph] (subtype)"
    assert ("  [ph-imatinib] responsive: imatinib; AMP/ASCO/CAP 2017 level A; PMID:34501239; as of "
            "2026-11-25; FDA-approved for Ph+ ALL; standard with chemotherapy") in out.splitlines()
    assert main(["knowledge", "show", "no-such-subtype"]) == 2
