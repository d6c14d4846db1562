"""The clinical-safety rules of mappings/ACTIONABILITY.md, checked on the data (`knowledge check`).

Evidence level vs answer code vs Task policy; agents' availability; trial records (status with its
date, population); alteration conditions; that every subtype a rule targets says what confirms it.
Each function returns (file, line, column, message) tuples for `knowledge_check` to report.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import date

from .knowledge import Knowledge, numbered_records

Violation = tuple[str, int | None, str | None, str]

_LEVELS = ("A", "B", "C", "D")
_TASK_POLICIES = {"prescribable", "obtainable", "none"}
_SECTIONS = {"standard-of-care", "investigational", "preclinical"}
_AVAILABILITY = {"approved", "investigational", "preclinical", "drug-class"}
_LINES = {"any", "newly-diagnosed", "relapsed-refractory"}
_DISEASES = {"B-ALL", "T-ALL", "ALL", "AML", "acute-leukemia", "lymphoblastic-lymphoma", "other"}
_KINDS = {"fusion", "rearrangement", "mutation", "phenotype"}
_POSITIONS = {"3prime", "5prime", "either"}
_FRAMES = {"in-frame-or-unknown", "any"}
_ORIGINS = {"somatic", "germline", "unknown"}
_CONFIRMING_FINDINGS = {"defining", "chromosome-count"}
_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
THERAPEUTIC_ANSWERS = "genetic-therapeutic-implications-vs"


def violations(kb: Knowledge) -> list[Violation]:
    return [*_policy(kb), *_agents(kb), *_trials(kb), *_alterations(kb), *_rules(kb),
            *_confirmations(kb), *_outcomes(kb)]



def _policy(kb: Knowledge) -> Iterator[Violation]:
    f = "evidence_policy.csv"
    for level in _LEVELS:
        if level not in kb.evidence_policy:
            yield f, None, "evidence_level", f"no policy for evidence level {level}"
    for i, r in numbered_records(kb.root / f):
        if (THERAPEUTIC_ANSWERS, r["answer"].casefold()) not in kb.loinc_answers:
            yield f, i, "answer", f"'{r['answer']}' is not in the IG's therapeutic-implication answers"
        if r["medication_task"] not in _TASK_POLICIES:
            yield f, i, "medication_task", f"'{r['medication_task']}' is not prescribable|obtainable|none"
        if r["section"] not in _SECTIONS:
            yield f, i, "section", f"'{r['section']}' is not one of {', '.join(sorted(_SECTIONS))}"
        # Preclinical or indirect evidence is never worded as, or coded as, an approved therapy.
        if r["evidence_level"] in ("C", "D") and r["answer"].casefold() == "responsive":
            yield f, i, "answer", f"level {r['evidence_level']} must be 'Presumed responsive'"
        if r["evidence_level"] == "D" and r["medication_task"] != "none":
            yield f, i, "medication_task", "level D evidence never gives a medication Task"
        if not r["source"].strip():
            yield f, i, "source", "no source given"


def _agents(kb: Knowledge) -> Iterator[Violation]:
    for i, r in numbered_records(kb.root / "agents.csv"):
        if r["availability"] not in _AVAILABILITY:
            yield ("agents.csv", i, "availability",
                   f"'{r['availability']}' is not one of {', '.join(sorted(_AVAILABILITY))}")
        if r["availability"] in ("approved", "investigational") and not r["availability_source"].strip():
            yield "agents.csv", i, "availability_source", "no source for the availability"


def _trials(kb: Knowledge) -> Iterator[Violation]:
    for i, r in numbered_records(kb.root / "trials.csv"):
        status = r["status"].strip().casefold()
        if status and status != "unknown":
            if not _ISO_DATE.match(r["status_as_of"]):
                yield "trials.csv", i, "status_as_of", "a known status needs its as-of date (YYYY-MM-DD)"
            if not r["status_source"].strip():
                yield "trials.csv", i, "status_source", "a known status needs its source"
        for disease in filter(None, (d.strip() for d in r["diseases"].split(";"))):
            if disease not in _DISEASES:
                yield "trials.csv", i, "diseases", f"'{disease}' is not one of {', '.join(sorted(_DISEASES))}"
        if r["line_of_therapy"] and r["line_of_therapy"] not in _LINES:
            yield ("trials.csv", i, "line_of_therapy",
                   f"'{r['line_of_therapy']}' is not {'|'.join(sorted(_LINES))}")
        if (r["diseases"] or r["min_age"] or r["line_of_therapy"]) and not r["eligibility_source"].strip():
            yield "trials.csv", i, "eligibility_source", "eligibility recorded without its source"


def _alterations(kb: Knowledge) -> Iterator[Violation]:
    f = "alterations.csv"
    for i, r in numbered_records(kb.root / f):
        a = kb.alterations[r["alteration_id"]]
        if a.kind not in _KINDS:
            yield f, i, "kind", f"'{a.kind}' is not one of {', '.join(sorted(_KINDS))}"
        if a.kind in ("fusion", "rearrangement"):
            if a.gene_position not in _POSITIONS:
                yield f, i, "gene_position", "a fusion target needs gene_position 3prime|5prime|either"
            if a.frame not in _FRAMES:
                yield f, i, "frame", "a fusion target needs frame in-frame-or-unknown|any"
        if a.kind == "mutation":
            if not a.consequences:
                yield f, i, "consequences", "a mutation target must name the consequences it accepts"
            for so in a.consequences:
                if kb.so(so) is None:
                    yield f, i, "consequences", f"'{so}' is not a Sequence Ontology term in the mappings"
            for origin in a.origins:
                if origin not in _ORIGINS:
                    yield f, i, "origins", f"'{origin}' is not one of {', '.join(sorted(_ORIGINS))}"
        if a.kind == "phenotype" and a.genes:
            yield f, i, "genes", "a phenotype target is decided on immunophenotype: no genes"
        for st in a.context_subtypes:
            if st not in kb.subtypes:
                yield f, i, "context_subtypes", f"unknown subtype '{st}'"


def _rules(kb: Knowledge) -> Iterator[Violation]:
    f = "actionability.csv"
    for i, r in numbered_records(kb.root / f):
        agent = kb.agents.get(r["agent_id"])
        if agent and agent.availability in ("preclinical", "drug-class") and r["evidence_level"] != "D":
            yield f, i, "evidence_level", (f"{agent.name} is {agent.availability}: only level D "
                                           "(a tool compound or a class is never a recommendation)")
        if agent and r["evidence_level"] in ("A", "B") and agent.availability != "approved":
            yield f, i, "evidence_level", f"level {r['evidence_level']} needs an approved agent"
        if r["line_of_therapy"] not in _LINES:
            yield f, i, "line_of_therapy", f"'{r['line_of_therapy']}' is not {'|'.join(sorted(_LINES))}"
        if not r["age_group"].strip():
            yield f, i, "age_group", "state the age group ('any' when unrestricted)"
        if not _ISO_DATE.match(r["as_of"]) or date.fromisoformat(r["as_of"]) > date.today():
            yield f, i, "as_of", "as_of must be a past ISO date"
        trial = kb.trials.get(r["trial"])
        if trial and trial.diseases and not set(trial.diseases) & {"B-ALL", "ALL"}:
            yield f, i, "trial", (f"{trial.nct_id} enrols {', '.join(trial.diseases)}, not BCP-ALL: "
                                  "it cannot be a BCP-ALL trial rule")
        if r["target_kind"] == "subtype" and r["target"] not in kb.confirmations:
            yield f, i, "target", (f"subtype '{r['target']}' has rules but no row in "
                                   "confirmations.csv saying what confirms it")


def _confirmations(kb: Knowledge) -> Iterator[Violation]:
    f = "confirmations.csv"
    for i, r in numbered_records(kb.root / f):
        if r["target"] not in kb.subtypes:
            yield f, i, "target", f"unknown subtype or group '{r['target']}'"
        if r["required"] not in ("yes", "no"):
            yield f, i, "required", "required must be yes|no"
        for fusion in filter(None, r["confirming_fusions"].split(";")):
            # Fusions are named with approved symbols: anything else would never match.
            for gene in fusion.strip().split("::"):
                if gene not in kb.genes:
                    yield (f, i, "confirming_fusions",
                           f"'{gene}' in {fusion} is not an approved HGNC symbol")
        for gene in filter(None, (g.strip() for g in r["confirming_genes"].split(";"))):
            if gene not in kb.genes:
                yield f, i, "confirming_genes", f"'{gene}' is not an approved HGNC symbol"
        if r["confirming_findings"] and r["confirming_findings"] not in _CONFIRMING_FINDINGS:
            yield f, i, "confirming_findings", "confirming_findings must be defining|chromosome-count"
        if not (r["confirming_fusions"] or r["confirming_genes"] or r["confirming_findings"]):
            yield f, i, "confirming_fusions", "nothing would ever confirm this call"
        if not r["followup_test"].strip():
            yield f, i, "followup_test", "name the confirmatory test"
        if not r["source"].strip():
            yield f, i, "source", "no source given"


def _outcomes(kb: Knowledge) -> Iterator[Violation]:
    for i, r in numbered_records(kb.root / "outcomes.csv"):
        if r["subtype_id"] not in kb.subtypes:
            yield "outcomes.csv", i, "subtype_id", f"unknown subtype '{r['subtype_id']}'"
        if not r["source"].strip():
            yield "outcomes.csv", i, "source", "no source given"

