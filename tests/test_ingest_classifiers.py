"""Classifier adapters (ALLSorts, generic JSON, ALLCatchR, MD-ALL): exact samples, calls and errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from allfhir import ingest
from allfhir.errors import InputError, Problem
from allfhir.ingest import allsorts, generic_json
from allfhir.model import Sample

from .conftest import REPO

DATA = Path(__file__).resolve().parent / "data" / "classifiers"
SHARED = Path(__file__).resolve().parents[1].parent / "shared"
EXAMPLES = SHARED / "classifier-examples"
needs_shared = pytest.mark.skipif(not EXAMPLES.is_dir(), reason="../shared/classifier-examples is absent")
LABELS = REPO / "mappings" / "classifier_labels.csv"
needs_labels = pytest.mark.skipif(not LABELS.is_file(), reason="mappings/classifier_labels.csv is absent")

PROBABILITIES = REPO / "examples" / "allsorts" / "probabilities.csv"
COMPARISONS = DATA / "allsorts-comparisons.csv"
PARENTS = DATA / "allsorts-parents-ball-labels.csv"
PREDICTIONS = DATA / "allsorts-predictions.csv"
COHORT = DATA / "generic-cohort.json"
SINGLE = DATA / "generic-single.json"


def read_all(path: Path, fmt: str | None = None) -> list[Sample | InputError]:
    return list(ingest.read(path, fmt))


def samples(path: Path, fmt: str | None = None) -> list[Sample]:
    items = read_all(path, fmt)
    assert all(isinstance(i, Sample) for i in items), [str(i) for i in items if isinstance(i, InputError)]
    return [i for i in items if isinstance(i, Sample)]


def row_errors(path: Path, fmt: str | None = None) -> list[Problem]:
    return [p for i in read_all(path, fmt) if isinstance(i, InputError) for p in i.problems]


def raised(path: Path, fmt: str) -> list[Problem]:
    with pytest.raises(InputError) as info:
        list(ingest.read(path, fmt))
    return info.value.problems


def where(p: Problem) -> tuple[str | None, int | None, str | None]:
    return (Path(p.file).name if p.file else None, p.row, p.column)


def calls(sample: Sample) -> list[tuple[str, str | None, float | None, bool]]:
    return [(c.label, c.label_column, c.probability, c.called) for c in sample.calls]


# ---------------------------------------------------------------------------------------- ALLSorts


def test_allsorts_probabilities_example() -> None:
    s1, s2, s3 = samples(PROBABILITIES)
    assert [s.sample_id for s in (s1, s2, s3)] == ["SJBALL043684", "SJALL015972", "SJBALL014030"]
    assert calls(s1) == [("Ph", "Pred", 0.932, True)]
    assert calls(s2) == [("High hyperdiploid", "Pred", 0.902, True)]
    # a multi-label call keeps both labels, in the file's order, each with its own probability
    assert calls(s3) == [("Low hypodiploid", "Pred", 0.999, True), ("Ph-like", "Pred", 0.462, True)]
    assert s1.classifier is not None
    assert (s1.classifier.classifier_id, s1.classifier.name, s1.classifier.version) == (
        "allsorts", "ALLSorts", None)
    assert len(s1.scores) == 20 and "Pred" not in s1.scores
    assert s1.scores["PAX5alt"] == 0.348 and s1.scores["High hyperdiploid"] == 0.0
    assert list(s1.scores)[:3] == ["TCF3-PBX1", "KMT2A Group", "DUX4"]
    assert s3.calls[1].source is not None
    assert (s3.calls[1].source.row, s3.calls[1].source.column) == (4, "Pred")
    assert s3.source is not None and (s3.source.row, s3.source.column) == (4, None)
    assert s1.source_files == [str(PROBABILITIES)] and s1.comments == []
    assert {c.score_type for s in (s1, s2, s3) for c in s.calls} == {"probability"}


def test_allsorts_model_comparisons_file() -> None:
    """The model's own comparisons.csv: first header cell '0', meta columns, 'True' before 'Pred'."""
    found = samples(COMPARISONS)
    assert len(found) == 147
    first = found[0]
    assert first.sample_id == "SJBALL020917"
    assert calls(first) == [("MEF2D", "Pred", 0.9998976654592736, True)]
    assert first.comments == ["Reference label supplied to ALLSorts: MEF2D"]
    assert first.source is not None and first.source.column == "0"
    assert len(first.scores) == 23 and {"High Sig", "Ph Group", "ETV6-RUNX1 Group"} <= set(first.scores)
    by_id = {s.sample_id: s for s in found}
    double = by_id["SJBALL014030"]
    assert [c.label for c in double.calls] == ["Low hypodiploid", "Ph-like"]
    assert double.calls[0].source is not None and double.calls[0].source.row == 19
    group = by_id["SJBALL154"]
    assert calls(group) == [("ZNF384 Group", "Pred", 0.7589222361582827, True),
                            ("ETV6-RUNX1-like", "Pred", 0.761382593470625, True)]
    assert group.scores["ETV6-RUNX1 Group"] == 0.8934494009080591
    assert group.calls[0].source is not None and group.calls[0].source.row == 45


@needs_shared
def test_allsorts_shared_copy_matches_the_fixture() -> None:
    assert (EXAMPLES / "ALLSorts-comparisons.csv").read_bytes() == COMPARISONS.read_bytes()
    assert [s.sample_id for s in samples(EXAMPLES / "ALLSorts-comparisons.csv")][:2] == [
        "SJBALL020917", "SJALL050008"]


def test_allsorts_parents_ball_and_labels_columns() -> None:
    p1, p2, p3, p4 = samples(PARENTS)
    # a meta-subtype call stays the group: never narrowed to a leaf
    assert calls(p1) == [("Ph Group", "Pred", 0.87, True)]
    assert calls(p2) == [("High hyperdiploid", "Pred", 0.913, True)]
    assert calls(p3) == [("Unclassified", "Pred", None, True)]
    assert p3.comments == ["ALLSorts B-ALL check: False (the expression profile may not be B-ALL)",
                           "Reference label supplied to ALLSorts: Other"]
    assert calls(p4) == [("Near haploid", "Pred", 0.85, True), ("ETV6-RUNX1-like", "Pred", 0.64, True)]
    assert len(p1.scores) == 23 and not {"B-ALL", "True", "Pred", ""} & set(p1.scores)
    assert p1.scores["Ph Group"] == 0.87 and p1.scores["Ph-like"] == 0.42


def test_allsorts_predictions_file() -> None:
    found = samples(PREDICTIONS)
    assert [(s.sample_id, calls(s)) for s in found] == [
        ("SJBALL043684", [("Ph", "Pred", None, True)]),
        ("SJALL015972", [("High hyperdiploid", "Pred", None, True)]),
        ("SJBALL014030", [("Low hypodiploid", "Pred", None, True), ("Ph-like", "Pred", None, True)]),
        ("SJX1", [("Unclassified", "Pred", None, True)]),
    ]
    assert found[0].scores == {}
    # the crosswalk column is "Pred" for both files; the source names the file's own column
    assert found[2].calls[1].source is not None
    assert (found[2].calls[1].source.row, found[2].calls[1].source.column) == (4, "Prediction")


def test_allsorts_is_detected(tmp_path: Path) -> None:
    for path in (PROBABILITIES, COMPARISONS, PARENTS, PREDICTIONS):
        assert ingest.detect_format(path) == "allsorts", path
    tallsorts = tmp_path / "predictions.csv"
    tallsorts.write_text("Sample,Predictions\nT1,TLX3\n")
    assert not allsorts.sniff(tallsorts, tallsorts.read_text())


def _edited(tmp_path: Path, line: int, old: str, new: str, source: Path = PROBABILITIES) -> Path:
    lines = source.read_text().splitlines()
    assert old in lines[line - 1]
    lines[line - 1] = lines[line - 1].replace(old, new, 1)
    out = tmp_path / "probabilities.csv"
    out.write_text("\n".join(lines) + "\n")
    return out


def test_allsorts_probability_outside_range_is_a_row_error(tmp_path: Path) -> None:
    bad = _edited(tmp_path, 3, "0.902", "1.7")
    items = read_all(bad)
    assert [i.sample_id for i in items if isinstance(i, Sample)] == ["SJBALL043684", "SJBALL014030"]
    [problem] = row_errors(bad)
    assert where(problem) == ("probabilities.csv", 3, "High hyperdiploid")
    assert problem.message == "probability 1.7 is outside [0, 1]" and problem.code == "value"


def test_allsorts_non_numeric_and_negative_in_one_row(tmp_path: Path) -> None:
    bad = _edited(tmp_path, 2, "0.002,0.005,0.012", "abc,-0.005,0.012")
    problems = row_errors(bad)
    assert [(where(p), p.message) for p in problems] == [
        (("probabilities.csv", 2, "TCF3-PBX1"), "'abc' is not a number"),
        (("probabilities.csv", 2, "KMT2A Group"), "probability -0.005 is outside [0, 1]"),
    ]


def test_allsorts_duplicate_and_empty_sample_id(tmp_path: Path) -> None:
    bad = tmp_path / "probabilities.csv"
    text = PROBABILITIES.read_text().replace("SJALL015972", "SJBALL043684").replace("SJBALL014030", "")
    bad.write_text(text)
    problems = row_errors(bad)
    assert [(where(p), p.message, p.code) for p in problems] == [
        (("probabilities.csv", 3, None), "duplicate sample id 'SJBALL043684' (first on line 2)", "duplicate"),
        (("probabilities.csv", 4, None), "empty sample id", "required"),
    ]
    assert [i.sample_id for i in read_all(bad) if isinstance(i, Sample)] == ["SJBALL043684"]


def test_allsorts_empty_call(tmp_path: Path) -> None:
    bad = _edited(tmp_path, 3, ",High hyperdiploid", ",")
    [problem] = row_errors(bad)
    assert where(problem) == ("probabilities.csv", 3, "Pred")
    assert problem.message == "empty label in call ''"


def test_allsorts_missing_pred_column(tmp_path: Path) -> None:
    bad = _edited(tmp_path, 1, ",Pred", ",Call")
    [problem] = raised(bad, "allsorts")
    assert where(problem) == ("probabilities.csv", 1, None) and problem.code == "required"
    assert problem.message == "missing required column(s): Pred (or Prediction in predictions.csv)"


def test_allsorts_semicolon_file_is_a_delimiter_error(tmp_path: Path) -> None:
    bad = tmp_path / "probabilities.csv"
    # a spreadsheet in a comma-decimal locale re-saves the file with ';' and ',' decimals
    bad.write_text(";TCF3-PBX1;KMT2A Group;DUX4;Pred\nS1;0,002;0,005;0,9;DUX4\n")
    assert ingest.detect_format(bad) == "allsorts"
    [problem] = raised(bad, "allsorts")
    assert where(problem) == ("probabilities.csv", 1, None) and problem.code == "structure"
    assert problem.message == "expected a comma-separated file (the header contains ';')"


def test_allsorts_empty_and_non_utf8_files(tmp_path: Path) -> None:
    empty = tmp_path / "empty.csv"
    empty.write_text("\n  \n")
    [problem] = raised(empty, "allsorts")
    assert (problem.message, problem.code, where(problem)) == ("the file is empty", "required",
                                                               ("empty.csv", None, None))
    latin = tmp_path / "latin1.csv"
    accented = "SJALL01597\u00e9".encode("latin-1")
    latin.write_bytes(PROBABILITIES.read_bytes().replace(b"SJALL015972", accented))
    [problem] = raised(latin, "allsorts")
    assert where(problem) == ("latin1.csv", 3, None)
    assert problem.message.startswith("not UTF-8 text (byte 0xe9 at offset ")


def test_allsorts_short_row_is_a_structure_error(tmp_path: Path) -> None:
    bad = _edited(tmp_path, 3, ",High hyperdiploid", "")
    with pytest.raises(InputError) as info:
        read_all(bad)
    [problem] = info.value.problems
    assert where(problem) == ("probabilities.csv", 3, None)
    assert problem.message == "21 fields where the header has 22"


@needs_labels
def test_allsorts_labels_resolve_and_an_unknown_label_is_named(kb: object, tmp_path: Path) -> None:
    from allfhir.resolve import resolve

    resolved = [resolve(s, kb) for s in samples(PARENTS)]  # type: ignore[arg-type]
    assert [[c.subtype.id for c in r.calls] for r in resolved] == [
        ["ph-group"], ["high-hyperdiploid"], ["unclassified"], ["near-haploid", "etv6-runx1-like"]]
    bad = _edited(tmp_path, 3, ",High hyperdiploid", ",Hyperdiploid")
    sample = samples(bad)[1]
    with pytest.raises(InputError) as info:
        resolve(sample, kb)  # type: ignore[arg-type]
    [problem] = info.value.problems
    assert where(problem) == ("probabilities.csv", 3, "Pred") and problem.code == "code-invalid"
    assert problem.message.startswith("unknown ALLSorts label 'Hyperdiploid'")


# ------------------------------------------------------------------------------------ generic JSON


def test_generic_json_cohort() -> None:
    s1, s2 = samples(COHORT)
    assert ingest.detect_format(COHORT) == "generic_json"
    assert (s1.sample_id, s1.patient, s1.specimen) == ("S1", "Patient/p1", "Specimen/s1")
    assert s1.classifier is not None
    assert (s1.classifier.classifier_id, s1.classifier.name, s1.classifier.version) == (
        "generic", "LabSorter", "2.1")
    assert calls(s1) == [("ph-like", None, 0.91, True), ("Low hypodiploid", None, 0.4, False)]
    assert s1.calls[1].source is not None
    assert (s1.calls[1].source.row, s1.calls[1].source.column) == (11, "samples[0].calls[1].label")
    assert s1.scores == {"ph-like": 0.91, "low-hypodiploid": 0.4, "dux4": 0.02}
    [fusion] = s1.fusions
    assert (fusion.gene5, fusion.gene3, fusion.junction_reads, fusion.caller) == (
        "P2RY8", "CRLF2", 12, "Arriba")
    assert fusion.source is not None
    assert (fusion.source.row, fusion.source.column) == (14, "samples[0].fusions[0]")
    [variant] = s1.variants
    assert (variant.gene, variant.hgvs_c, variant.hgvs_p, variant.allele_frequency, variant.read_depth) == (
        "JAK2", "NM_004972.4:c.2048A>G", "NP_004963.1:p.Arg683Gly", 0.38, 212)
    assert [(c.change, c.gene) for c in s1.copy_numbers] == [("deletion", "IKZF1")]
    assert s1.ploidy is not None and s1.ploidy.chromosome_count == 46
    assert s1.comments == ["reviewed by the molecular board"]
    assert s1.source_files == [str(COHORT)]
    assert s2.classifier is not None and s2.classifier.classifier_id == "allsorts"
    assert calls(s2) == [("Ph Group", "Pred", 0.87, True)]


def test_generic_json_single_sample_object() -> None:
    [sample] = samples(SINGLE)
    assert sample.sample_id == "LAB-0042" and sample.classifier is None
    [call] = sample.calls
    assert (call.label, call.score_type, call.probability, call.confidence) == (
        "high-hyperdiploid", "score", 0.8, "high")
    assert call.source is not None and (call.source.row, call.source.column) == (3, "calls[0].label")
    assert sample.ploidy is not None
    assert (sample.ploidy.chromosome_count, sample.ploidy.iscn) == (
        55, "55,XX,+4,+6,+10,+14,+17,+18,+21,+21,+X")
    assert sample.source is not None and (sample.source.row, sample.source.column) == (1, None)


def _json(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "result.json"
    path.write_text(text)
    return path


def test_generic_json_bad_sample_is_a_row_error_with_its_path(tmp_path: Path) -> None:
    path = _json(tmp_path, """{"samples": [
  {"sample_id": "A", "calls": [{"label": "dux4", "probability": 0.8}]},
  {"sample_id": "B",
   "calls": [{"label": "dux4", "probability": 0.8},
             {"label": "iamp21", "probability": 1.3}]},
  {"sample_id": "C", "calls": [{"label": "dux4", "probability": "high"}]},
  {"calls": [], "colour": "red"},
  {"sample_id": "A"}
]}
""")
    items = read_all(path)
    assert [i.sample_id for i in items if isinstance(i, Sample)] == ["A"]
    assert [(where(p), p.message, p.code) for p in row_errors(path)] == [
        (("result.json", 5, "samples[1].calls[1].probability"), "probability 1.3 is outside [0, 1]", "value"),
        (("result.json", 6, "samples[2].calls[0].probability"), "'high' is not a number", "value"),
        (("result.json", 7, "samples[3].sample_id"), "required field is missing", "required"),
        (("result.json", 7, "samples[3].colour"), "unknown field 'colour' (see `allfhir schema`)", "value"),
        (("result.json", 8, "samples[4].sample_id"),
         "duplicate sample id 'A' (first at samples[0].sample_id)", "duplicate"),
    ]


def test_generic_json_invalid_hgvs_is_a_row_error(tmp_path: Path) -> None:
    path = _json(tmp_path, """{"samples": [
  {"sample_id": "A", "variants": [{"gene": "PAX5", "hgvs_c": "NM_016734.3:c.239C>G",
                                   "hgvs_p": "NP_057953.1:p.Pro80Arg"}]},
  {"sample_id": "B", "variants": [{"gene": "IKZF1",
                                   "hgvs_c": "NM_006060.6:c.475A->T"}]}
]}
""")
    assert [i.sample_id for i in read_all(path) if isinstance(i, Sample)] == ["A"]
    [problem] = row_errors(path)
    assert where(problem) == ("result.json", 5, "samples[1].variants[0].hgvs_c")
    assert problem.message.startswith("invalid HGVS 'NM_006060.6:c.475A->T': ")


def test_generic_json_file_level_errors(tmp_path: Path) -> None:
    [problem] = raised(_json(tmp_path, '{"samples": [\n  {"sample_id": "A",}\n]}'), "generic_json")
    assert where(problem) == ("result.json", 2, None) and problem.code == "structure"
    assert problem.message.startswith("not valid JSON: ")
    [problem] = raised(_json(tmp_path, '[{"sample_id": "A"}]'), "generic_json")
    assert problem.message == 'expected a JSON object (one sample, or {"samples": [...]})'
    [problem] = raised(_json(tmp_path, '{"samples": {"sample_id": "A"}}'), "generic_json")
    assert where(problem) == ("result.json", 1, "samples")
    assert problem.message == "Input should be a valid list"
    [problem] = raised(_json(tmp_path, "  \n"), "generic_json")
    assert problem.message == "the file is empty"
    [problem] = raised(_json(tmp_path, '{"samples": ' + "[" * 5000 + "]" * 5000 + "}"), "generic_json")
    assert where(problem) == ("result.json", 1, None) and problem.code == "structure"
    assert problem.message == "arrays and objects nested too deeply to be read"
    latin = tmp_path / "latin.json"
    latin.write_bytes('{"sample_id": "Jos\u00e9"}'.encode("latin-1"))
    [problem] = raised(latin, "generic_json")
    assert problem.message.startswith("not UTF-8 text (byte 0xe9 at offset 18)") and problem.row == 1


def test_generic_json_schema_is_what_the_adapter_accepts() -> None:
    schema = generic_json.json_schema()
    assert schema["type"] == "object"
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert schema["anyOf"][0] == {"$ref": "#/$defs/Sample"}
    assert schema["anyOf"][1]["properties"]["samples"]["items"] == {"$ref": "#/$defs/Sample"}
    sample = schema["$defs"]["Sample"]
    assert sample["required"] == ["sample_id"] and sample["additionalProperties"] is False
    assert set(sample["properties"]) == {
        "sample_id", "patient", "specimen", "classifier", "calls", "scores", "fusions", "variants",
        "copy_numbers", "ploidy", "comments"}
    # internal bookkeeping is never part of the published schema
    assert all("source" not in d.get("properties", {}) for d in schema["$defs"].values())
    call = schema["$defs"]["SubtypeCall"]["properties"]
    assert call["probability"]["anyOf"][0] == {"maximum": 1.0, "minimum": 0.0, "type": "number"}
    assert schema["$defs"]["Classifier"]["properties"]["classifier_id"]["default"] == "generic"


def test_generic_json_sniff(tmp_path: Path) -> None:
    assert ingest.detect_format(SINGLE) == "generic_json"
    bundle = _json(tmp_path, '{"resourceType": "Bundle", "samples": []}')
    assert not generic_json.sniff(bundle, bundle.read_text())


# ----------------------------------------------------------------------------------------- ALLCatchR

CATCHR_V1 = DATA / "allcatchr-v1-predictions.tsv"
CATCHR_BCR = DATA / "allcatchr-bcrabl1-predictions.tsv"


def test_allcatchr_v1_and_bcrabl1_predictions() -> None:
    assert ingest.detect_format(CATCHR_V1) == ingest.detect_format(CATCHR_BCR) == "allcatchr"
    c1, c2 = samples(CATCHR_V1)
    assert calls(c1) == [("ETV6::RUNX1", "Prediction", 1.0, True)]
    assert (c2.calls[0].label, c2.calls[0].probability, c2.calls[0].score_type, c2.calls[0].confidence) == (
        "Hyperdiploid", 0.85, "score", "high-confidence")
    assert len(c1.scores) == 43 and c1.scores["NN_ETV6::RUNX1"] == 1.0
    l1, l2, l3 = samples(CATCHR_BCR)
    assert calls(l1) == [("Ph-pos", "Prediction", 0.95, True)]
    assert l1.comments == ["ALLCatchR BCR::ABL1 subgroups: maincluster multilineage (0.91); subcluster "
                           "delHBS1L (0.72); hyperdiploidy no_hyperdiploid (0.88)"]
    assert (l2.calls[0].confidence, l2.calls[0].called, l2.comments) == ("candidate", True, [])
    # Confidence 'unclassified': the label is kept as the classifier's best guess, but not a call
    assert calls(l3) == [("CEBP", "Prediction", 0.35, False)]


def test_allcatchr_bad_cells_are_row_errors(tmp_path: Path) -> None:
    lines = CATCHR_V1.read_text().splitlines()
    bad = tmp_path / "predictions.tsv"
    bad.write_text("\n".join([lines[0], lines[1].replace('"high-confidence"', '"sure"'),
                              lines[2].replace("0.85", "1.85", 1)]) + "\n")
    assert [i for i in read_all(bad) if isinstance(i, Sample)] == []
    assert [(where(p), p.message) for p in row_errors(bad)] == [
        (("predictions.tsv", 2, "Confidence"),
         "unknown confidence 'sure'; expected one of: high-confidence, candidate, unclassified"),
        (("predictions.tsv", 3, "Score"), "probability 1.85 is outside [0, 1]"),
    ]


def test_allcatchr2_t_all_table_is_refused(tmp_path: Path) -> None:
    t_all = tmp_path / "predictions.tsv"
    t_all.write_text('"sample"\t"T-ALL main-cluster high-confidence"\t"Prediction"\n"T1"\t"C1"\t"C1"\n',
                     encoding="utf-8")
    [problem] = raised(t_all, "allcatchr")
    assert problem.code == "not-supported" and problem.message.startswith(
        "ALLCatchR2 T-ALL output is not supported (BCP-ALL only)")


# ------------------------------------------------------------------------------------------- MD-ALL

DF_SUMS = DATA / "mdall-df_sums.tsv"
COUNT_MATRIX = DATA / "mdall-out_countMatrix_sum.tsv"


def test_mdall_full_summary_frame() -> None:
    assert ingest.detect_format(DF_SUMS) == "mdall"
    md1, md2, md3 = samples(DF_SUMS)
    # the final call (no probability: MD-ALL gives a High/Low confidence and the deciding rule)
    assert calls(md1) == [("Ph", "subtype_final", None, True)]
    assert (md1.calls[0].confidence, md1.calls[0].source.row, md1.calls[0].source.column) == (  # type: ignore[union-attr]
        "High", 2, "subtype_final_possible")
    # both callers found BCR::ABL1: one fusion; FusionCatcher's (pairs; unique reads) are kept
    [fusion] = md1.fusions
    assert (fusion.gene5, fusion.gene3, fusion.caller, fusion.spanning_reads, fusion.junction_reads) == (
        "BCR", "ABL1", "FusionCatcher, CICERO", 14, 31)
    assert md1.ploidy is not None and md1.ploidy.chromosome_count == 46
    assert md1.comments == ["MD-ALL decision rule: Fusion", "RNAseqCNV: female;;46"]
    assert md2.scores == {"subtype_svm:Hyperdiploid": 0.91, "subtype_svm:Low hypodiploid": 0.09,
                          "subtype_phenograph:Hyperdiploid": 1.0}
    assert md2.ploidy is not None and md2.ploidy.chromosome_count == 55
    assert calls(md3) == [("PAX5 P80R", "subtype_final", None, True)]
    assert md3.calls[0].confidence == "Low"
    assert md3.comments == ["MD-ALL decision rule: Mutation", "MD-ALL hotspot mutations: PAX5:P80R(0.48)",
                            "RNAseqCNV: male;;46"]


def test_mdall_expression_only_table_keeps_both_method_calls() -> None:
    cm1, cm2 = samples(COUNT_MATRIX)
    assert calls(cm1) == [("DUX4", "subtype_svm", 1.0, True), ("DUX4", "subtype_phenograph", 1.0, True)]
    assert calls(cm2) == [("KMT2A", "subtype_svm", 0.64, True),
                          ("NoClusterAsigned", "subtype_phenograph", 1.0, True)]
    assert {c.score_type for c in cm2.calls} == {"run-share"}


@needs_labels
def test_mdall_labels_resolve_by_column(kb: object) -> None:
    from allfhir.resolve import resolve

    final = [[c.subtype.id for c in resolve(s, kb).calls] for s in samples(DF_SUMS)]  # type: ignore[arg-type]
    assert final == [["ph"], ["high-hyperdiploid"], ["pax5-p80r"]]
    # in the expression-only columns 'KMT2A' is the KMT2A / KMT2A-like group, never a leaf
    gep = [[c.subtype.id for c in resolve(s, kb).calls] for s in samples(COUNT_MATRIX)]  # type: ignore[arg-type]
    assert gep == [["dux4", "dux4"], ["kmt2a-group", "unclassified"]]


def test_mdall_bad_cells_are_row_errors(tmp_path: Path) -> None:
    lines = DF_SUMS.read_text().splitlines()
    header = lines[0].split("\t")
    md2 = lines[2].split("\t")
    md2[header.index("subtype_svm_label")] = "Hyperdiploid,10"
    md2[header.index("RNAseqCNV_ChromN")] = "55.5"
    md3 = lines[3].split("\t")
    md3[header.index("fusion_fc")] = "BCR-ABL1"
    bad = tmp_path / "df_sums.tsv"
    bad.write_text("\n".join([lines[0], lines[1], "\t".join(md2), "\t".join(md3)]) + "\n")
    assert [i.sample_id for i in read_all(bad) if isinstance(i, Sample)] == ["MD1"]
    assert [(where(p), p.message) for p in row_errors(bad)] == [
        (("df_sums.tsv", 3, "subtype_svm_label"), "'Hyperdiploid,10' is not 'label,count(share)'"),
        (("df_sums.tsv", 3, "RNAseqCNV_ChromN"), "'55.5' is not an integer"),
        (("df_sums.tsv", 4, "fusion_fc"), "'BCR-ABL1' is not a list of 'GENE1::GENE2(n;n)'"),
    ]


def test_mdall_file_level_errors(tmp_path: Path) -> None:
    no_call = tmp_path / "sum.tsv"
    no_call.write_text("sample_id\tfusion_fc\nS1\t\n")
    [problem] = raised(no_call, "mdall")
    assert where(problem) == ("sum.tsv", 1, None)
    assert problem.message == ("missing required column(s): subtype_final_possible (or subtype_final, "
                               "subtype_svm, subtype_phenograph)")
    comma = tmp_path / "comma.tsv"
    comma.write_text("sample_id,subtype_final\nS1,Ph\n")
    [problem] = raised(comma, "mdall")
    assert problem.message == "expected a tab-separated file (the header contains ',')"
