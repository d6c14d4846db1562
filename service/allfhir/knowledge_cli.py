"""`allfhir knowledge check | show SUBTYPE`: inspect the curated knowledge in mappings/."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import TYPE_CHECKING

from .errors import operation_outcome

if TYPE_CHECKING:  # knowledge (and its CSV reading) is imported by the command that needs it
    from .knowledge import Knowledge


def register(sub: argparse._SubParsersAction) -> None:
    knowledge = sub.add_parser("knowledge", help="check or show the curated knowledge (mappings/)")
    ksub = knowledge.add_subparsers(dest="knowledge_command", required=True)
    chk = ksub.add_parser("check", help="validate mappings/: references, sources, duplicates")
    chk.add_argument("--mappings", type=Path, help="mappings directory (default: the shipped one)")
    chk.set_defaults(func=cmd_check)
    show = ksub.add_parser("show", help="what applies to a subtype, and why, with sources")
    show.add_argument("subtype", help="subtype id or display name, e.g. 'ph-like' or 'Ph-like'")
    show.add_argument("--mappings", type=Path)
    show.set_defaults(func=cmd_show)


def cmd_check(args: argparse.Namespace) -> int:
    from .knowledge import load
    from .knowledge_check import check

    problems = check(args.mappings)
    if problems:
        print(json.dumps(operation_outcome(problems), indent=1))
        return 2
    kb = load(args.mappings)
    print(f"mappings OK: {len(kb.subtypes)} subtypes/groups, "
          f"{sum(len(t) for t in kb.labels.values())} classifier labels, {len(kb.genes)} genes, "
          f"{len(kb.agents)} agents, {len(kb.trials)} trials, {len(kb.rules)} actionability rules")
    return 0


def cmd_show(args: argparse.Namespace) -> int:
    from .knowledge import load

    kb = load(args.mappings)
    st = kb.resolve_label("generic", None, args.subtype)
    if st is None:
        print(f"unknown subtype '{args.subtype}'; known: {', '.join(sorted(kb.subtypes))}")
        return 2
    print(describe(kb, st.id))
    return 0


def describe(kb: Knowledge, subtype_id: str) -> str:
    from .fhir.therapy import setting

    st = kb.subtypes[subtype_id]
    lines = [f"{st.display} [{st.id}] ({st.kind})"]
    for label, value in (("WHO-HAEM5", st.who_haem5), ("ICC 2022", st.icc_2022),
                         ("defining fusions", ", ".join(st.defining_fusions)),
                         ("defining genes", ", ".join(st.defining_genes)),
                         ("defining variants", ", ".join(st.defining_variants)),
                         ("defining cytogenetics", ", ".join(st.defining_cytogenetics)),
                         ("members", ", ".join(st.members)), ("source", st.source)):
        if value:
            lines.append(f"  {label}: {value}")
    for c in st.codes:
        lines.append(f"  code {c.coding.system}|{c.coding.code} {c.coding.display or ''} "
                     f"({'exact' if c.exact else 'broader'}; source: {c.source})")
    conf = kb.confirmations.get(st.id)
    if conf:
        by = [*conf.fusions, *([f"a fusion of {'/'.join(conf.genes)}"] if conf.genes else []),
              *([conf.findings] if conf.findings else [])]
        lines.append(f"  confirmed by: {' or '.join(by)} ("
                     + ("required before its rules apply" if conf.required else "not required")
                     + f"); follow-up test: {conf.followup_test}")
    outcome = kb.outcomes.get(st.id)
    if outcome:
        lines.append(f"  outcome (review, Table 1): {outcome.outcome or 'not stated'}; frequency "
                     f"{outcome.frequency_adult} in adults, {outcome.frequency_child} in children")
    alterations = {a.id for a in kb.alterations.values()
                   if set(a.genes) & (set(st.defining_genes) | {g for f in st.defining_fusions
                                                                 for g in f.split("::")})}
    rules = [r for r in kb.rules if (r.target_kind == "subtype" and r.target == st.id)
             or (r.target_kind == "alteration" and r.target in alterations)]
    if not rules:
        lines.append("  actionability: none in the knowledge base")
    for r in rules:
        what = kb.agents[r.agent].name if r.agent else ""
        trial = f" trial {r.trial}" if r.trial else ""
        via = "" if r.target_kind == "subtype" else f" (via alteration {r.target})"
        policy = kb.evidence_policy[r.evidence_level]
        agent = kb.agents.get(r.agent or "")
        task = ("no medication Task" if policy.medication_task == "none" or agent is None
                or r.trial or agent.availability in ("preclinical", "drug-class")
                else "medication Task" if agent.availability == "approved"
                else "medication Task only with an open trial" if policy.medication_task == "obtainable"
                else "no medication Task")
        where = setting([r])
        lines.append(f"  [{r.id}] {r.implication}: {what}{trial}{via}; {r.evidence_scale} level "
                     f"{r.evidence_level} -> {policy.answer}, {task}; "
                     + (f"setting: {where}; " if where else "")
                     + f"{r.citation}; as of {r.as_of}" + (f"; {r.notes}" if r.notes else ""))
    return "\n".join(lines)
