"""Consistency check of mappings/ (`allfhir knowledge check`; also run by the tests).

Every reference resolves (subtypes, groups, labels, agents, trials, alterations, genes), every
code has a source, no duplicate keys, and codes have the form their system requires.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable
from pathlib import Path

from . import actionability_check, integration_check
from .errors import Problem
from .knowledge import Knowledge, load, read_records

_Err = Callable[[str, int | None, str | None, str], None]
Table = list[dict[str, str]]
_Dups = Callable[[str, Table, list[str]], None]

_FORMS = {
    "icd-o-3": re.compile(r"^\d{4}/\d$"),
    "ncit": re.compile(r"^C\d+$"),
    "snomed-ct": re.compile(r"^\d{6,18}$"),
    "oncotree": re.compile(r"^[A-Z0-9]+$"),
    "icd-10-cm": re.compile(r"^[A-Z]\d{2}(\.\d{1,4})?$"),
}
_NCT = re.compile(r"^NCT\d{8}$")
_HGNC = re.compile(r"^HGNC:\d+$")
_RXNORM = re.compile(r"^\d+$")
_IMPLICATIONS = {"responsive", "resistant", "eligible-for-trial"}
_LEVELS = {"A", "B", "C", "D"}


def check(root: Path | None = None) -> list[Problem]:
    """All problems found in the mappings directory (empty list = consistent)."""
    try:
        kb = load(root)
    except (FileNotFoundError, KeyError, AttributeError, ValueError, TypeError) as exc:
        return [Problem(f"mappings cannot be loaded: {exc}", code="structure")]
    root = kb.root
    out: list[Problem] = []

    def table(name: str, sep: str = ",") -> Table:
        return read_records(root / name, sep)

    def err(file: str, line: int | None, column: str | None, msg: str) -> None:
        out.append(Problem(msg, file=str(root / file), row=line, column=column, code="invariant"))

    def dups(file: str, frame: Table, cols: list[str]) -> None:
        keys = Counter(tuple(r[c] for c in cols) for r in frame)
        for key, n in keys.items():
            if n > 1:
                err(file, None, "/".join(cols), f"duplicate key {key} ({n} rows)")

    def sourced(file: str, frame: Table, col: str, code_col: str | None = None) -> None:
        for i, r in enumerate(frame, start=2):
            if (code_col is None or r[code_col]) and not r[col].strip():
                err(file, i, col, "no source given")

    subtypes = table("subtypes.csv")
    dups("subtypes.csv", subtypes, ["subtype_id"])
    sourced("subtypes.csv", subtypes, "source")
    for i, r in enumerate(subtypes, start=2):
        if r["kind"] not in ("subtype", "group", "no-call"):
            err("subtypes.csv", i, "kind", f"kind '{r['kind']}' is not subtype|group|no-call")
        if r["group"] and r["group"] not in kb.subtypes:
            err("subtypes.csv", i, "group", f"unknown group '{r['group']}'")
        for gene in kb.subtypes[r["subtype_id"]].defining_genes:
            if kb.gene(gene) is None:
                err("subtypes.csv", i, "defining_genes", f"unknown gene '{gene}'")
        for fusion in kb.subtypes[r["subtype_id"]].defining_fusions:
            for gene in fusion.split("::"):
                if kb.gene(gene) is None:
                    err("subtypes.csv", i, "defining_fusions", f"unknown gene '{gene}' in {fusion}")

    codes_t = table("subtype_codes.csv")
    dups("subtype_codes.csv", codes_t, ["subtype_id", "system", "code"])
    sourced("subtype_codes.csv", codes_t, "source")
    for i, r in enumerate(codes_t, start=2):
        if r["subtype_id"] not in kb.subtypes:
            err("subtype_codes.csv", i, "subtype_id", f"unknown subtype '{r['subtype_id']}'")
        form = _FORMS.get(r["system"])
        if form is None:
            err("subtype_codes.csv", i, "system", f"unknown system '{r['system']}'")
        elif not form.match(r["code"]):
            err("subtype_codes.csv", i, "code", f"'{r['code']}' is not a {r['system']} code")
        if r["note"] not in ("exact", "broader"):
            err("subtype_codes.csv", i, "note", "note must be 'exact' or 'broader'")
    exact = Counter((r["subtype_id"], r["system"]) for r in codes_t
                    if r["note"] == "exact")
    for (subtype_id, system), n in exact.items():
        if n > 1:
            err("subtype_codes.csv", None, "note",
                f"{n} exact {system} codes for '{subtype_id}': one concept means the subtype")

    groups = table("subtype_groups.csv")
    dups("subtype_groups.csv", groups, ["group_id", "member_subtype_id"])
    for i, r in enumerate(groups, start=2):
        for col in ("group_id", "member_subtype_id"):
            if r[col] not in kb.subtypes:
                err("subtype_groups.csv", i, col, f"unknown subtype '{r[col]}'")

    labels = table("classifier_labels.csv")
    dups("classifier_labels.csv", labels, ["classifier", "column", "label"])
    sourced("classifier_labels.csv", labels, "source")
    for i, r in enumerate(labels, start=2):
        if r["subtype_id"] not in kb.subtypes:
            err("classifier_labels.csv", i, "subtype_id", f"unknown subtype '{r['subtype_id']}'")

    genes = table("genes.tsv", sep="\t")
    dups("genes.tsv", genes, ["symbol"])
    dups("genes.tsv", genes, ["hgnc_id"])
    bad = [(i, r["hgnc_id"]) for i, r in enumerate(genes, start=2) if not _HGNC.match(r["hgnc_id"])]
    for line, hgnc_id in bad[:20]:
        err("genes.tsv", line, "hgnc_id", f"'{hgnc_id}' is not HGNC:n")

    agents = table("agents.csv")
    dups("agents.csv", agents, ["agent_id"])
    sourced("agents.csv", agents, "rxnorm_source", "rxnorm")
    sourced("agents.csv", agents, "ncit_source", "ncit")
    for i, r in enumerate(agents, start=2):
        if r["rxnorm"] and not _RXNORM.match(r["rxnorm"]):
            err("agents.csv", i, "rxnorm", f"'{r['rxnorm']}' is not an RxNorm RXCUI")
        if r["ncit"] and not _FORMS["ncit"].match(r["ncit"]):
            err("agents.csv", i, "ncit", f"'{r['ncit']}' is not an NCIt code")

    trials = table("trials.csv")
    dups("trials.csv", trials, ["nct_id"])
    for i, r in enumerate(trials, start=2):
        if not _NCT.match(r["nct_id"]):
            err("trials.csv", i, "nct_id", f"'{r['nct_id']}' is not an NCT number")
        for target in kb.trials[r["nct_id"]].targets:
            if target not in kb.subtypes and target not in kb.alterations:
                err("trials.csv", i, "targets", f"unknown subtype or alteration '{target}'")

    alterations = table("alterations.csv")
    dups("alterations.csv", alterations, ["alteration_id"])
    sourced("alterations.csv", alterations, "source")
    for i, r in enumerate(alterations, start=2):
        for gene in kb.alterations[r["alteration_id"]].genes:
            if kb.gene(gene) is None:
                err("alterations.csv", i, "genes", f"unknown gene '{gene}'")

    rules = table("actionability.csv")
    dups("actionability.csv", rules, ["rule_id"])
    sourced("actionability.csv", rules, "citation")
    for i, r in enumerate(rules, start=2):
        targets = kb.subtypes if r["target_kind"] == "subtype" else kb.alterations
        if r["target_kind"] not in ("subtype", "alteration"):
            err("actionability.csv", i, "target_kind", "target_kind must be subtype|alteration")
        elif r["target"] not in targets:
            err("actionability.csv", i, "target", f"unknown {r['target_kind']} '{r['target']}'")
        if r["agent_id"] and r["agent_id"] not in kb.agents:
            err("actionability.csv", i, "agent_id", f"unknown agent '{r['agent_id']}'")
        if r["trial"] and r["trial"] not in kb.trials:
            err("actionability.csv", i, "trial", f"unknown trial '{r['trial']}'")
        if not r["agent_id"] and not r["trial"]:
            err("actionability.csv", i, "agent_id", "a rule needs an agent or a trial")
        if r["implication"] not in _IMPLICATIONS:
            err("actionability.csv", i, "implication", f"'{r['implication']}' is not one of "
                f"{', '.join(sorted(_IMPLICATIONS))}")
        if r["implication"] == "eligible-for-trial" and not r["trial"]:
            err("actionability.csv", i, "trial", "eligible-for-trial needs a trial")
        if r["evidence_level"] not in _LEVELS:
            err("actionability.csv", i, "evidence_level", f"'{r['evidence_level']}' is not a "
                "level of the AMP/ASCO/CAP 2017 scale (A-D)")
    for file, line, column, message in [*actionability_check.violations(kb),
                                        *integration_check.violations(kb)]:
        err(file, line, column, message)
    if (root / "fusion_karyotypes.csv").exists():
        _check_karyotypes(kb, table("fusion_karyotypes.csv"), err, dups)
    return out


_ISCN_REARRANGEMENT = re.compile(r"^(t|inv|ins|der)\([0-9XY;]+\)\([pq0-9.;]+\)$")


def _check_karyotypes(kb: Knowledge, frame: Table, err: _Err, dups: _Dups) -> None:
    """Every fusion is two HGNC symbols (approved ones), every row has an ISCN and a source."""
    file = "fusion_karyotypes.csv"
    dups(file, frame, ["fusion"])
    pairs: Counter[frozenset[str]] = Counter()
    for i, r in enumerate(frame, start=2):
        genes = r["fusion"].split("::")
        if len(genes) != 2:
            err(file, i, "fusion", f"'{r['fusion']}' is not GENE5::GENE3")
            continue
        for gene in genes:
            hit = kb.gene(gene)
            if hit is None:
                err(file, i, "fusion", f"unknown gene '{gene}' in {r['fusion']}")
            elif hit.symbol != gene:
                err(file, i, "fusion", f"'{gene}' is not the approved HGNC symbol ({hit.symbol})")
        pairs[frozenset(genes)] += 1
        if not _ISCN_REARRANGEMENT.match(r["iscn"]):
            err(file, i, "iscn", f"'{r['iscn']}' is not an ISCN rearrangement such as "
                "t(9;22)(q34.1;q11.2)")
        if not r["source"].strip():
            err(file, i, "source", "no source given")
    for genes, n in pairs.items():
        if n > 1:
            err(file, None, "fusion", f"the gene pair {'/'.join(sorted(genes))} has {n} rows "
                "(one karyotype per rearrangement, whatever the partner order)")
