"""allfhir.report: the report rendered from a Bundle alone, for every supported input format.

Each rendered page is read back (tests/report/page.py) and compared with what the Bundle says:
the call sentences, every finding, every therapy tier, the chart's bars and highlighted call,
the amended banner; the PDF holds the same text.
"""

from __future__ import annotations

import copy
import json
import re
from pathlib import Path

import pytest

from allfhir import codes
from allfhir.convert import convert
from allfhir.fhir.bundle import BuildOptions
from allfhir.knowledge import Knowledge
from allfhir.report import Lab, render_html, render_pdf, view
from tests.conftest import DATA, REPO
from tests.fhir_asserts import by_profile, components
from tests.test_actionability import ALLCATCHR, fitting, fusion
from tests.test_actionability import convert as convert_sample

from .page import bars, parse, pdf_text, words

Json = dict
EXAMPLE = [REPO / "examples" / "allsorts" / "probabilities.csv",
           REPO / "examples" / "allsorts" / "SJBALL043684.arriba.fusions.tsv"]
CLASSIFIERS = DATA / "classifiers"
# every input format: (adapter, files converted together)
FORMATS = [
    ("allsorts", EXAMPLE),
    ("allsorts", [CLASSIFIERS / "allsorts-parents-ball-labels.csv"]),
    ("allcatchr", [CLASSIFIERS / "allcatchr-bcrabl1-predictions.tsv"]),
    ("allcatchr", [CLASSIFIERS / "allcatchr-v1-predictions.tsv"]),
    ("mdall", [CLASSIFIERS / "mdall-df_sums.tsv"]),
    ("mdall", [CLASSIFIERS / "mdall-out_countMatrix_sum.tsv"]),
    ("generic_json", [CLASSIFIERS / "generic-cohort.json"]),
    ("generic_json", [CLASSIFIERS / "generic-single.json"]),
    ("arriba", [DATA / "fusions" / "arriba-fusions.tsv"]),
    ("fusioncatcher", [DATA / "fusions" / "final-list_candidate-fusion-genes.txt"]),
    ("star_fusion", [DATA / "fusions" / "star-fusion.fusion_candidates.final.abridged.FFPM"]),
    ("vcf", [DATA / "vcf" / "snpeff.vcf"]),
    ("vcf", [DATA / "vcf" / "vep-bnd-pairs.vcf"]),
]
IMPLICATION = codes.PROFILE_DIAGNOSTIC_IMPLICATION
LAB = Lab("Haematology Molecular Diagnostics, City Hospital", "1 Hospital Road, Springfield")
KMT2A = {
    "sample_id": "K1", "classifier": {"classifier_id": "allsorts", "name": "ALLSorts", "version": "0.1.3"},
    "calls": [{"label": "KMT2A Group", "label_column": "Pred", "probability": 0.91}],
    "scores": {"KMT2A Group": 0.91, "DUX4": 0.05, "Ph": 0.02},
    "fusions": [{"gene5": "KMT2A", "gene3": "AFF1", "junction_reads": 25, "spanning_reads": 12,
                 "breakpoint5": "chr11:118482495:+", "breakpoint3": "chr4:87046240:-", "caller": "Arriba"}],
    "variants": [{"gene": "NRAS", "hgvs_c": "NM_002524.5:c.35G>A", "hgvs_p": "NP_002515.1:p.Gly12Asp",
                  "allele_frequency": 0.31, "read_depth": 120}],
}


def bundles(files: list[Path], **opts: object) -> list[Json]:
    return [b for b in convert(files, None, BuildOptions(**opts)) if isinstance(b, dict)]  # type: ignore[arg-type]


def by_sample(files: list[Path], sample: str) -> Json:
    return next(b for b in bundles(files) if b["entry"][0]["resource"]["identifier"][0]["value"]
                .endswith(f":{sample}"))


def bare(label: str) -> str:
    """A scored label without its method's prefix (ALLCatchR ML_ / NN_, MD-ALL 'subtype_svm:')."""
    return re.sub(r"^(ML_|NN_|subtype_[a-z]+:)", "", label)


def ours(resource: Json, code: str) -> list[Json]:
    return components(resource, codes.CS_ALLFHIR, code)


def sentences(bundle: Json) -> list[str]:
    return [components(o, codes.TBD_CODES, codes.TBD_CONCLUSION_STRING)[0]["valueString"]
            for o in by_profile(bundle, IMPLICATION)]


def label_scores(bundle: Json) -> list[list[tuple[str, float]]]:
    return [[(c["code"]["text"], c["valueQuantity"]["value"]) for c in ours(o, codes.C_LABEL_SCORE)]
            for o in by_profile(bundle, codes.PROFILE_MOLECULAR_BIOMARKER)]


@pytest.mark.parametrize(("adapter", "files"), FORMATS, ids=[f"{a}-{f[0].name}" for a, f in FORMATS])
def test_every_format_renders_what_its_bundle_says(adapter: str, files: list[Path]) -> None:
    for bundle in bundles(files):
        page = parse(render_html(bundle, LAB))
        report = bundle["entry"][0]["resource"]
        calls = page.texts("result-call")
        # the call: each implication's sentence, in the Result section, in the bundle's order
        if sentences(bundle):
            for sentence, shown in zip(sentences(bundle), calls, strict=True):
                assert words(sentence) in shown
        else:
            assert calls == [f"No subtype assigned. {words(report['conclusion'])}"]
        # each finding: fusions by name, variants by HGVS
        variants = by_profile(bundle, codes.PROFILE_VARIANT)
        fusion_names = [components(v, codes.LOINC, codes.LOINC_VARIATION_CODE)[0]["valueCodeableConcept"]
                        ["text"].removesuffix(" fusion") for v in variants
                        if any(c["valueCodeableConcept"].get("coding", [{}])[0].get("code") == "SO:0001565"
                               for c in components(v, codes.LOINC, codes.LOINC_CODING_CHANGE_TYPE))]
        assert [row.split(" ")[0] for row in page.texts("fusion")] == fusion_names
        hgvs = [c["valueCodeableConcept"].get("text") or c["valueCodeableConcept"]["coding"][0]["code"]
                for v in variants for c in components(v, codes.LOINC, codes.LOINC_CODING_HGVS)]
        assert [h for h in hgvs if not any(h in row for row in page.texts("variant"))] == []
        # the chart: one bar per scored label, highest first, the classifier's label highlighted
        expected = []
        for obs, scores in zip(by_profile(bundle, codes.PROFILE_MOLECULAR_BIOMARKER), label_scores(bundle),
                               strict=True):
            called = obs["valueCodeableConcept"]["text"]
            expected += [(label, value, bare(label) == called) for label, value in scores]
        assert sorted(bars(page)) == sorted(expected)
        # each therapy option under its tier, as many as the bundle has therapeutic implications
        therapy = [o for o in by_profile(bundle, codes.PROFILE_THERAPEUTIC_IMPLICATION)
                   if not components(o, codes.TBD_CODES, codes.TBD_ASSOCIATED_THERAPY)]
        assert len(page.texts("therapy-option")) == len(therapy)
        assert page.texts("tier") == ["Standard of care", "Investigational (limited clinical evidence)",
                                      "Preclinical evidence only, not treatment recommendations"]
        assert page.texts("lab-name") == [LAB.name] and page.texts("lab-address") == [LAB.address]
        assert page.by_class("amended") == []


@pytest.mark.parametrize(("adapter", "files"), FORMATS, ids=[f"{a}-{f[0].name}" for a, f in FORMATS])
def test_every_format_renders_a_pdf_with_the_same_text(adapter: str, files: list[Path]) -> None:
    bundle = bundles(files)[0]
    page = parse(render_html(bundle, LAB))
    pdf = render_pdf(bundle, LAB)
    assert pdf.startswith(b"%PDF-")
    text = pdf_text(pdf)
    for shown in [*page.texts("result-call"), *page.texts("fusion"), *page.texts("therapy-option")]:
        # pypdf may break a long table cell anywhere: compare without spaces
        assert shown.replace(" ", "") in text.replace(" ", ""), shown
    for _label, value, called in bars(page):
        assert f"{value:g}{' (call)' if called else ''}" in text


def test_ph_sample_with_bcr_abl1() -> None:
    bundle = by_sample(EXAMPLE, "SJBALL043684")
    page = parse(render_html(bundle, LAB))
    assert page.texts("result-call") == [
        # the entity names once, as the call's sentence gives them with their citations
        "Ph (BCR::ABL1). ALLSorts: expression class Ph (BCR::ABL1) ('Ph', "
        "probability 0.932). driver BCR::ABL1 by Arriba (11 split reads, 0 discordant mates). WHO-HAEM5: "
        "B-lymphoblastic leukaemia/lymphoma with BCR::ABL1 fusion (Alaggio et al., Leukemia 2022, "
        "doi:10.1038/s41375-022-01620-2); ICC 2022: B-ALL with t(9;22)(q34.1;q11.2)/BCR::ABL1 (Arber et "
        "al., Blood 2022, doi:10.1182/blood.2022015850). Call basis: driver-confirmed (the expression "
        "class and its defining finding agree)."]
    assert page.texts("fusion") == ["BCR::ABL1 t(9;22)(q34.1;q11.2) 11 0 5' breakpoint 22:23632600; "
                                    "3' breakpoint 9:133729451 Arriba (high), in-frame"]
    got = bars(page)
    assert len(got) == 20
    assert got[:3] == [("Ph", 0.932, True), ("PAX5alt", 0.348, False), ("Ph-like", 0.02, False)]
    assert [b for b in got if b[2]] == [("Ph", 0.932, True)]
    assert page.texts("therapy-option") == [
        "imatinib AMP/ASCO/CAP 2017 level A Ph (BCR::ABL1) [1]",
        "dasatinib AMP/ASCO/CAP 2017 level A Ph (BCR::ABL1) [1]",
        "ponatinib AMP/ASCO/CAP 2017 level A Ph (BCR::ABL1) [1]"]
    # the review is one reference, cited for its Table 1 and for the therapies alike
    assert page.texts("reference") == [
        "Li J et al. Emerging molecular subtypes and therapeutic targets in B-cell precursor acute "
        "lymphoblastic leukemia. Front Med 2021, 15(3):347-371 (DOI and PMID not confirmed against a "
        "stored page)"]
    interpretation = page.texts("interpretation-call")
    assert interpretation[0].startswith("Ph (BCR::ABL1); call basis: Expression class confirmed by its "
                                        "defining driver. Defining alterations: BCR::ABL1 fusion. "
                                        "Outcome association: Ph (BCR::ABL1): frequency 15-25% in adults")
    assert page.texts("threshold") == []  # ALLSorts writes no threshold to its output


def test_expression_only_ph_call_says_the_entity_is_not_asserted() -> None:
    bundle = by_sample([EXAMPLE[0]], "SJBALL043684")  # the same call without the Arriba file
    page = parse(render_html(bundle))
    [call] = page.texts("result-call")
    assert call.startswith("Ph (BCR::ABL1). ALLSorts: expression class Ph (BCR::ABL1) ('Ph', probability "
                           "0.932). Call basis: expression-only")
    assert page.texts("fusion") == [] and page.texts("therapy-option") == []
    assert [t for t in page.texts("followup") if "BCR::ABL1" in t]


def test_kmt2a_with_fusion_and_variant_has_every_tier_and_the_trials(tmp_path: Path) -> None:
    source = tmp_path / "kmt2a.json"
    source.write_text(json.dumps(KMT2A), encoding="utf-8")
    [bundle] = bundles([source], effective="2026-11-25")
    page = parse(render_html(bundle, LAB))
    assert page.texts("result-call")[0].startswith(
        "KMT2A-rearranged. ALLSorts 0.1.3: expression class "
        "KMT2A-rearranged or KMT2A-like (group) ('KMT2A Group', probability 0.91). driver KMT2A::AFF1")
    assert page.texts("fusion") == ["KMT2A::AFF1 t(4;11)(q21;q23) 25 12 5' breakpoint chr11:118482495:+; "
                                    "3' breakpoint chr4:87046240:- Arriba"]
    assert page.texts("variant") == ["NRAS NM_002524.5:c.35G>A NP_002515.1:p.Gly12Asp 0.31 Somatic"]
    agents = {}
    for row in page.texts("therapy-option"):
        agents[row.split(" ")[0]] = row.split(" level ")[1][0]
    assert agents == {"revumenib": "A", "pinometostat": "C", "panobinostat": "D", "vorinostat": "D",
                      "palbociclib": "D", "venetoclax": "D"}
    html = render_html(bundle)
    tiers = html.split('<section class="trials">')[0].split('class="tier"')
    assert "revumenib" in tiers[1] and "pinometostat" in tiers[2] and "palbociclib" in tiers[3]
    assert "pinometostat" not in tiers[1] + tiers[3] and "revumenib" not in tiers[2] + tiers[3]
    trials = {e.attrs["data-nct"]: " ".join(e.text.split()) for e in page.by_class("trial")}
    assert trials["NCT03472573"] == (
        "NCT03472573: Palbociclib and Dexamethasone in Treating Participants With Relapsed or Refractory "
        "B-Cell Acute Lymphoblastic Leukemia not in the report completed 2022-06-03 evidence only, not an "
        "enrolment opportunity")
    assert '<a href="https://clinicaltrials.gov/study/NCT03472573">NCT03472573</a>' in html
    assert bars(page) == [("KMT2A Group", 0.91, True), ("DUX4", 0.05, False), ("Ph", 0.02, False)]


def test_an_open_trial_shows_phase_status_and_its_date(kb: Knowledge) -> None:
    bundle = convert_sample(fitting(kb), "KMT2A", classifier=ALLCATCHR, fusions=(fusion("KMT2A", "AFF1"),))
    page = parse(render_html(bundle))
    trials = {e.attrs["data-nct"]: " ".join(e.text.split()) for e in page.by_class("trial")}
    assert trials["NCT03472573"] == (
        "NCT03472573: Palbociclib and Dexamethasone in Treating Participants With Relapsed or Refractory "
        "B-Cell Acute Lymphoblastic Leukemia phase-1 active 2026-06-01 open for enrolment")
    # the enrolment Task is the trial's row, not a follow-up test
    assert not [f for f in page.texts("followup") if "enrolment" in f]


def test_kmt2a_group_call_from_md_all_marks_its_threshold() -> None:
    bundle = by_sample([CLASSIFIERS / "mdall-out_countMatrix_sum.tsv"], "CM2")
    [svm, phenograph] = by_profile(bundle, codes.PROFILE_MOLECULAR_BIOMARKER)
    for signature in (svm, phenograph):  # one cut-off for every label of either GEP method
        assert [c["valueQuantity"]["value"] for c in ours(signature, codes.C_CLASSIFIER_THRESHOLD)] == [0.5]
    assert label_scores(bundle) == [[("KMT2A", 0.64), ("ZNF384", 0.36)], [("NoClusterAsigned", 1)]]
    page = parse(render_html(bundle))
    assert [e.attrs["data-value"] for e in page.by_class("threshold")] == ["0.5", "0.5"]
    assert bars(page) == [("KMT2A", 0.64, True), ("ZNF384", 0.36, False), ("NoClusterAsigned", 1.0, True)]
    calls = page.texts("result-call")
    assert calls[0].startswith("KMT2A-rearranged or KMT2A-like (group). MD-ALL (SVM): expression class "
                               "KMT2A-rearranged or KMT2A-like (group) ('KMT2A', run-share 0.64)")
    assert calls[1] == "No subtype assigned. MD-ALL (PhenoGraph) call: Unclassified (run-share 1)"
    captions = [" ".join(e.text.split()) for e in page.elements if e.tag == "figcaption"]
    assert captions == [
        'MD-ALL (SVM) score, highest first; the call in solid black, marked "(call)"; dashed: the '
        "classifier's threshold (0.5).",
        "MD-ALL (PhenoGraph) score, highest first; the classifier's best label in solid black: it gave "
        "no call; dashed: the classifier's threshold (0.5)."]
    text = pdf_text(render_pdf(bundle))
    assert "0.64 (call)" in text and "1 (best label, no call)" in text and "threshold 0.5" in text


def test_unclassified_sample_says_no_subtype_and_why() -> None:
    bundle = by_sample([CLASSIFIERS / "allcatchr-bcrabl1-predictions.tsv"], "L3")
    page = parse(render_html(bundle))
    [call] = page.texts("result-call")
    assert call.startswith("No subtype assigned. ALLCatchR: no subtype assigned (best label")
    assert "(best label, no call)" in render_html(bundle) and "(call)" not in render_html(bundle)
    assert "confidence 'unclassified'" in call
    titles = [" ".join(e.text.split()) for e in page.elements if e.tag == "figcaption"]
    assert [t.split(",")[0] for t in titles] == ["ALLCatchR score (ML_ columns)",
                                                 "ALLCatchR score (NN_ columns)"]
    ml = [b for b in bars(page) if b[0].startswith("ML_")]
    assert len(ml) == 21 and ml == sorted(ml, key=lambda b: -b[1])


def test_amended_report_has_the_banner() -> None:
    bundle = copy.deepcopy(by_sample(EXAMPLE, "SJBALL043684"))
    report = bundle["entry"][0]["resource"]
    report["status"] = "amended"
    report["meta"] |= {"versionId": "2", "lastUpdated": "2026-12-01T10:00:00.000Z"}
    page = parse(render_html(bundle))
    assert page.texts("amended") == ["AMENDED REPORT (status amended, version 2): this report replaces an "
                                     "earlier version; read it in full."]
    assert "AMENDED REPORT" in pdf_text(render_pdf(bundle))


def test_the_page_fetches_nothing_and_escapes_the_bundle_text() -> None:
    bundle = copy.deepcopy(by_sample(EXAMPLE, "SJBALL043684"))
    bundle["entry"][0]["resource"]["conclusion"] = "<script>alert(1)</script>"
    bundle["entry"][0]["resource"]["specimen"] = [{"display": '<img src="http://example.org/x.png">'}]
    html = render_html(bundle)
    assert "<script>" not in html and "<img" not in html and "&lt;img" in html
    assert "http://example.org" not in html.replace("&#34;http://example.org", "")
    assert render_pdf(bundle).startswith(b"%PDF-")  # the refused fetch does not stop the PDF


def test_not_a_report_bundle_is_refused() -> None:
    with pytest.raises(ValueError, match="holds no DiagnosticReport"):
        render_html({"resourceType": "Bundle", "type": "collection", "entry": []})
    with pytest.raises(ValueError, match="not a FHIR Bundle"):
        render_html({"resourceType": "Patient"})


def test_every_score_is_in_the_expression_signature() -> None:
    bundle = by_sample(EXAMPLE, "SJBALL043684")
    [signature] = by_profile(bundle, codes.PROFILE_MOLECULAR_BIOMARKER)
    assert signature["meta"]["profile"] == [codes.PROFILE_MOLECULAR_BIOMARKER,
                                            codes.PROFILE_EXPRESSION_SIGNATURE]
    header = EXAMPLE[0].read_text(encoding="utf-8").splitlines()[0].split(",")[1:-1]
    row = next(line for line in EXAMPLE[0].read_text(encoding="utf-8").splitlines()
               if line.startswith("SJBALL043684,")).split(",")[1:-1]
    assert label_scores(bundle) == [[(label, float(value)) for label, value in zip(header, row, strict=True)]]
    assert ours(signature, codes.C_LABEL_SCORE)[0] == {
        "code": {"coding": [{"system": codes.CS_ALLFHIR, "code": "label-score",
                             "display": "Classifier score of one label"}], "text": "TCF3-PBX1"},
        "valueQuantity": {"value": 0.002, "system": codes.UCUM, "code": "1"}}


def test_variants_and_copy_number_from_the_generic_json() -> None:
    bundle = by_sample([CLASSIFIERS / "generic-cohort.json"], "S1")
    page = parse(render_html(bundle))
    assert page.texts("variant") == ["JAK2 NM_004972.4:c.2048A>G NP_004963.1:p.Arg683Gly 0.38 Somatic"]
    assert page.texts("copy-number") == [
        "IKZF1 copy number loss", "46 chromosomes chromosome number variation; modal chromosome number 46"]
    assert page.texts("fusion") == ["P2RY8::CRLF2 12 Arriba"]
    assert [t.agent for t in view.read(bundle).therapies["preclinical"]] == ["venetoclax"]
