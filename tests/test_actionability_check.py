"""`knowledge check` enforces the clinical-safety policy: each violation found in the issue,
planted in a copy of the real mappings, is reported at its file, line and column."""

from __future__ import annotations

import csv
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from allfhir.knowledge_check import check

from .conftest import REPO

MAPPINGS = REPO / "mappings"
Row = dict[str, str]


def planted(tmp_path: Path, name: str, key: str, value: str, change: Callable[[Row], None]) -> Path:
    """A copy of mappings/ where the row of `name` whose `key` column is `value` is changed."""
    root = tmp_path / "mappings"
    shutil.copytree(MAPPINGS, root)
    with open(root / name, newline="", encoding="utf-8") as f:
        reader = csv.DictReader(f)
        fields, rows = list(reader.fieldnames or []), list(reader)
    hits = [r for r in rows if r[key] == value]
    assert len(hits) == 1, f"{name}: no single row {key}={value}"
    change(hits[0])
    with open(root / name, "w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fields, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
    return root


def line_of(root: Path, name: str, key: str, value: str) -> int:
    with open(root / name, newline="", encoding="utf-8") as f:
        return next(i for i, r in enumerate(csv.DictReader(f), start=2) if r[key] == value)


def problems(root: Path) -> set[tuple[str, int | None, str | None, str]]:
    return {(Path(p.file or "").name, p.row, p.column, p.message) for p in check(root)}


def test_real_mappings_pass_the_policy_checks() -> None:
    assert check(MAPPINGS) == []


CASES = [
    # preclinical evidence coded as 'Responsive'
    ("evidence_policy.csv", "evidence_level", "D", lambda r: r.update(answer="Responsive"),
     "answer", "level D must be 'Presumed responsive'"),
    # preclinical evidence allowed a medication Task
    ("evidence_policy.csv", "evidence_level", "D", lambda r: r.update(medication_task="obtainable"),
     "medication_task", "level D evidence never gives a medication Task"),
    # a tool compound raised above preclinical
    ("actionability.csv", "rule_id", "bcl2-myc-thz1", lambda r: r.update(evidence_level="C"),
     "evidence_level", "THZ1 is preclinical: only level D (a tool compound or a class is never a "
                       "recommendation)"),
    # an investigational agent at level A
    ("actionability.csv", "rule_id", "kmt2a-pinometostat", lambda r: r.update(evidence_level="A"),
     "evidence_level", "level A needs an approved agent"),
    # an AML-only trial offered to BCP-ALL (the NCT03724084 record enrols AML)
    ("actionability.csv", "rule_id", "kmt2a-nct01684150", lambda r: r.update(trial="NCT03724084"),
     "trial", "NCT03724084 enrols AML, not BCP-ALL: it cannot be a BCP-ALL trial rule"),
    # a line of therapy outside the vocabulary
    ("actionability.csv", "rule_id", "kmt2a-revumenib", lambda r: r.update(line_of_therapy="second line"),
     "line_of_therapy", "'second line' is not any|newly-diagnosed|relapsed-refractory"),
    # a status without its date
    ("trials.csv", "nct_id", "NCT03472573", lambda r: r.update(status_as_of=""),
     "status_as_of", "a known status needs its as-of date (YYYY-MM-DD)"),
    # a disease outside the vocabulary
    ("trials.csv", "nct_id", "NCT03472573", lambda r: r.update(diseases="leukaemia"),
     "diseases", "'leukaemia' is not one of ALL, AML, B-ALL, T-ALL, acute-leukemia, "
                 "lymphoblastic-lymphoma, other"),
    # a kinase-fusion target without orientation
    ("alterations.csv", "alteration_id", "abl-class-fusion", lambda r: r.update(gene_position=""),
     "gene_position", "a fusion target needs gene_position 3prime|5prime|either"),
    # an activating-mutation target that accepts anything
    ("alterations.csv", "alteration_id", "jak-mutation", lambda r: r.update(consequences=""),
     "consequences", "a mutation target must name the consequences it accepts"),
    ("alterations.csv", "alteration_id", "jak-mutation", lambda r: r.update(consequences="missense"),
     "consequences", "'missense' is not a Sequence Ontology term in the mappings"),
    ("alterations.csv", "alteration_id", "jak-mutation", lambda r: r.update(context_subtypes="ph-lik"),
     "context_subtypes", "unknown subtype 'ph-lik'"),
    # an agent whose availability is unknown
    ("agents.csv", "agent_id", "imatinib", lambda r: r.update(availability="marketed"),
     "availability", "'marketed' is not one of approved, drug-class, investigational, preclinical"),
    # a confirmation that nothing can satisfy
    ("confirmations.csv", "target", "ph", lambda r: r.update(confirming_fusions=""),
     "confirming_fusions", "nothing would ever confirm this call"),
    ("confirmations.csv", "target", "ph", lambda r: r.update(confirming_fusions="BCR::ABL"),
     "confirming_fusions", "'ABL' in BCR::ABL is not an approved HGNC symbol"),
]


@pytest.mark.parametrize(("name", "key", "value", "change", "column", "message"), CASES,
                         ids=[f"{c[0]}:{c[2]}:{c[4]}" for c in CASES])
def test_policy_violation_is_reported_where_it_is(tmp_path: Path, name: str, key: str, value: str,
                                                  change: Callable[[Row], None], column: str,
                                                  message: str) -> None:
    root = planted(tmp_path, name, key, value, change)
    assert (name, line_of(root, name, key, value), column, message) in problems(root)


def test_subtype_rules_without_a_confirmation_decision_are_reported(tmp_path: Path) -> None:
    root = tmp_path / "mappings"
    shutil.copytree(MAPPINGS, root)
    lines = (root / "confirmations.csv").read_text().splitlines(keepends=True)
    (root / "confirmations.csv").write_text("".join(row for row in lines if not row.startswith("ph,")))
    line = line_of(root, "actionability.csv", "rule_id", "ph-imatinib")
    assert ("actionability.csv", line, "target", "subtype 'ph' has rules but no row in "
            "confirmations.csv saying what confirms it") in problems(root)


INTEGRATION_CASES = [
    ("entities.csv", "ph", "ph:lymphoid", lambda r: r.update(driver="fusion"),
     "driver", "'fusion' is not defining|alteration:<id>|none"),
    ("entities.csv", "ph-like", "ph-like:alteration:jak2-fusion",
     lambda r: r.update(driver="alteration:jak3"),
     "driver", "unknown alteration 'jak3'"),
    ("entities.csv", "dux4", "dux4:defining", lambda r: r.update(who_haem5="", icc_2022=""),
     "who_haem5", "no entity name: name it, or say it is an expression class only"),
    ("entities.csv", "ph", "ph:defining", lambda r: r.update(lineage="lymphoid"),
     "driver", "unreachable: an earlier row of 'ph' with driver 'defining' wins"),
]


def _entity_key(r: Row) -> str:
    return f"{r['subtype_id']}:{r['driver'] if r['driver'] != 'defining' else (r['lineage'] or 'defining')}"


@pytest.mark.parametrize(("name", "subtype", "key", "change", "column", "message"), INTEGRATION_CASES,
                         ids=[c[2] for c in INTEGRATION_CASES])
def test_entity_rule_violation_is_reported_where_it_is(tmp_path: Path, name: str, subtype: str, key: str,
                                                       change: Callable[[Row], None], column: str,
                                                       message: str) -> None:
    root = tmp_path / "mappings"
    shutil.copytree(MAPPINGS, root)
    with open(root / name, newline="", encoding="utf-8") as f:
        reader = csv.DictReader(f)
        fields, rows = list(reader.fieldnames or []), list(reader)
    [line] = [i for i, r in enumerate(rows, start=2) if _entity_key(r) == key]
    change(rows[line - 2])
    with open(root / name, "w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fields, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
    assert (name, line, column, message) in problems(root)


def test_subtype_without_an_entity_row_is_reported(tmp_path: Path) -> None:
    root = tmp_path / "mappings"
    shutil.copytree(MAPPINGS, root)
    lines = (root / "entities.csv").read_text().splitlines(keepends=True)
    (root / "entities.csv").write_text("".join(row for row in lines if not row.startswith("iamp21,")))
    assert ("entities.csv", None, "subtype_id", "subtype 'iamp21' has no entity row") in problems(root)
