"""allfhir.worked and what the builders share through it: a report is the same whatever was
converted before it in the process, and follows the knowledge it is converted with."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from allfhir.convert import convert
from allfhir.jsonout import dumps_bytes
from allfhir.knowledge import Knowledge
from allfhir.worked import Worked

REPO = Path(__file__).resolve().parents[1]
COHORT = REPO / "tests" / "data" / "classifiers" / "allsorts-comparisons.csv"


def test_worked_is_bounded_and_keeps_what_its_keys_name() -> None:
    worked: Worked[str] = Worked(size=2)
    thing = object()
    assert worked.put((id(thing), "a"), thing, "A") == "A"
    assert worked.get((id(thing), "a")) == "A" and worked.get("b") is None
    worked.put("b", None, "B")
    worked.put("c", None, "C")  # full: cleared first
    assert dict(worked) == {"c": "C"}


def _reports(paths: list[Path], kb: Knowledge | None = None) -> dict[str, bytes]:
    out = {}
    for item in convert(paths, kb=kb):
        assert isinstance(item, dict)
        out[item["entry"][0]["resource"]["identifier"][0]["value"]] = dumps_bytes(item)
    return out


def test_a_report_does_not_depend_on_the_reports_before_it(tmp_path: Path) -> None:
    """The cohort in file order, then each sample alone in the reverse order: the same bytes
    (what is worked out for one sample's subtype and labels is what another's would be)."""
    header, *rows = COHORT.read_text(encoding="utf-8").splitlines()
    together = _reports([COHORT])
    assert len(together) == len(rows) == 147
    alone: dict[str, bytes] = {}
    for i, row in reversed(list(enumerate(rows))):
        single = tmp_path / f"{i}.csv"
        single.write_text(f"{header}\n{row}\n", encoding="utf-8")
        alone |= _reports([single])
    assert alone == together


def test_a_report_follows_its_knowledge(kb: Knowledge, tmp_path: Path) -> None:
    """Converted again with other entity names and outcome notes, the report says the new ones:
    shared parts are keyed by the knowledge objects they were worked out from."""
    cohort = tmp_path / "probabilities.csv"
    cohort.write_text(",Ph-like,DUX4,Ph,Pred\nS1,0.9,0.1,0.2,Ph-like\nS2,0.1,0.2,0.9,Ph\n",
                      encoding="utf-8")
    first = _reports([cohort], kb)
    entities = {sid: tuple(dataclasses.replace(e, who_haem5=f"renamed {sid}") if e.who_haem5 else e
                           for e in rows) for sid, rows in kb.entities.items()}
    outcomes = {sid: dataclasses.replace(o, note=f"noted {sid}") for sid, o in kb.outcomes.items()}
    kb2 = dataclasses.replace(kb, entities=entities, outcomes=outcomes)
    second = _reports([cohort], kb2)
    # Ph-like stands on its expression class (its entity is named); Ph needs its BCR::ABL1
    assert b"renamed " not in first["allsorts:S1"] and b"noted " not in first["allsorts:S1"]
    assert b"WHO-HAEM5: renamed ph-like " in second["allsorts:S1"]
    assert b"(noted ph-like)" in second["allsorts:S1"]
    assert b"renamed " not in second["allsorts:S2"] and second["allsorts:S2"] == first["allsorts:S2"]
    assert _reports([cohort], kb) == first


def _vandalise(node: object) -> None:
    """Change every object of a document in place: its lists emptied, its strings replaced."""
    if isinstance(node, dict):
        for key, value in node.items():
            _vandalise(value)
            if isinstance(value, str):
                node[key] = "changed"
    elif isinstance(node, list):
        for value in node:
            _vandalise(value)
        node.clear()


def test_changing_a_report_changes_no_other_report() -> None:
    """A Bundle is handed out sharing nothing with the parts worked out once: a caller that
    changes every object of one report (a test, a caller adding meta) changes no later report."""
    before = _reports([COHORT])
    for item in convert([COHORT]):
        assert isinstance(item, dict)
        _vandalise(item)
    assert _reports([COHORT]) == before
