"""The subject operations: `$find-study-metadata`, `$find-subject-variants`,
`$find-subject-specific-variants`, `$find-subject-structural-intersecting-variants` /
`-subsuming-variants`, `$find-subject-dx-implications`, `$find-subject-tx-implications`.

Each takes checked inputs (parameters.py) and answers the IG's output Parameters. Within one
parameter the values are alternatives (any matches); different parameters all apply. A variant
is sought by the HGVS it was reported with (coding, protein or genomic HGVS, compared exactly;
a SPDI SNV is read as its genomic HGVS); nothing is normalised over the network, unlike the
reference implementation.

A fusion is found by its breakpoints: the fusion Variant has no coordinates of its own (one
Observation cannot hold two loci, fusion.py), so it intersects a range when one of the
breakpoint Variants it derives from does, and is subsumed when all of them are.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from typing import Any

from .. import codes
from ..errors import RequestError
from ..hgvs_syntax import hgvs_error
from ..store import Store
from . import locate, results
from .parameters import Inputs, one
from .results import Results

Json = dict[str, Any]
Expand = Callable[[str], set[tuple[str | None, str]]]  # condition token -> (system, code) pairs
_SPDI = re.compile(r"^(?P<ac>N[CGMRTW]_[0-9]+\.[0-9]+):(?P<pos>[0-9]+):(?P<ref>[ACGTN]*):"
                   r"(?P<alt>[ACGTN]*)$")
HGVS_COMPONENTS = (codes.LOINC_CODING_HGVS, codes.LOINC_PROTEIN_HGVS, codes.LOINC_GENOMIC_HGVS)


def parameters(params: list[Json]) -> Json:
    # an empty answer has no `parameter` (FHIR JSON allows no empty arrays)
    return {"resourceType": "Parameters", **({"parameter": params} if params else {})}


def sought_variant(item: str) -> str:
    """The HGVS an item is matched by; 400 naming the item when it is neither HGVS nor SPDI."""
    spdi = _SPDI.match(item)
    if spdi:
        if len(spdi["ref"]) != 1 or len(spdi["alt"]) != 1:
            raise RequestError("malformed", f"variant '{item}': only SPDI substitutions of one "
                               "base are read here; give other changes as HGVS", code="not-supported")
        return f"{spdi['ac']}:g.{int(spdi['pos']) + 1}{spdi['ref']}>{spdi['alt']}"
    problem = hgvs_error(item)
    if problem is not None:
        raise RequestError("malformed", f"variant '{item}' is not valid HGVS or SPDI: {problem}",
                           code="value")
    return item


def hgvs_of(obs: Json) -> set[str]:
    return {c["code"] for comp in obs.get("component", [])
            if any(cd.get("code") in HGVS_COMPONENTS for cd in comp["code"].get("coding", []))
            for c in (comp.get("valueCodeableConcept") or {}).get("coding", []) if c.get("code")}


def _variant_parts(item_name: str, item: str, found: list[Json], include: bool) -> Json:
    parts: list[Json] = [{"name": item_name, "valueString": item},
                         {"name": "presence", "valueBoolean": bool(found)}]
    if include:
        parts += [{"name": "variant", "resource": v} for v in found]
    return {"name": "variants", "part": parts}


def specific_variants(store: Store, inputs: Inputs) -> Json:
    sought = [(item, sought_variant(item)) for item in inputs["variants"]]
    res = results.load(store, inputs)
    variants = res.variants()
    return parameters([_variant_parts("variantItem", item, [v for v in variants if hgvs in hgvs_of(v)],
                                      True) for item, hgvs in sought])


def _placed(res: Results, variants: list[Json], rng: locate.Range, subsume: bool) -> list[Json]:
    test = rng.subsumes if subsume else rng.intersects
    found = []
    for v in variants:
        where = locate.span(v)
        if where is not None:
            hit = test(where)
        else:  # a fusion: by the breakpoints it derives from
            spans = [locate.span(b) for b in res.derived_from(v)
                     if codes.PROFILE_VARIANT in b.get("meta", {}).get("profile", [])]
            spans = [s for s in spans if s is not None]
            hit = bool(spans) and (all if subsume else any)(test(s) for s in spans)
        if hit:
            found.append(v)
    return found


def variants_in_ranges(store: Store, inputs: Inputs, *, structural: bool, subsume: bool) -> Json:
    ranges = [locate.parse_range(r) for r in inputs["ranges"]]
    res = results.load(store, inputs)
    variants = [v for v in res.variants() if not (structural and locate.is_small(v))]
    include = bool(one(inputs, "includeVariants", False) or one(inputs, "includePhasing", False))
    return parameters([_variant_parts("rangeItem", rng.text, _placed(res, variants, rng, subsume),
                                      include) for rng in ranges])


def study_metadata(store: Store, inputs: Inputs) -> Json:
    for r in inputs.get("ranges", []):
        locate.parse_range(r)  # checked; every test here covers the transcriptome (no regions)
    res = results.load(store, inputs)
    out = []
    for report in res.reports:
        parts: list[Json] = [{"name": "testId", "valueString": results.test_id(report)}]
        when = report.get("effectiveDateTime") or report.get("issued") or \
            report.get("meta", {}).get("lastUpdated")
        if when:
            parts.append({"name": "testDate", "valueDateTime": when})
        specimen = results.specimen_id(report)
        if specimen:
            parts.append({"name": "specimenId", "valueString": specimen})
        build = _genomic_build(res, report)
        if build:
            parts.append({"name": "genomicBuild", "valueCodeableConcept": build})
        out.append({"name": "tests", "part": parts})
    return parameters(out)


def _genomic_build(res: Results, report: Json) -> Json | None:
    """The assembly its located results name (one assembly per test), if any does."""
    builds = []
    for ref in report.get("result", []):
        obs = res.observations.get(ref.get("reference", ""))
        for comp in (obs or {}).get("component", []):
            if any(c.get("code") == codes.LOINC_REFERENCE_ASSEMBLY for c in comp["code"]["coding"]):
                if comp.get("valueCodeableConcept") not in builds:
                    builds.append(comp["valueCodeableConcept"])
    return builds[0] if len(builds) == 1 else None


def _codings(obs: Json, component: str) -> list[Json]:
    return [c for comp in obs.get("component", [])
            if any(cd.get("code") == component for cd in comp["code"].get("coding", []))
            for c in (comp.get("valueCodeableConcept") or {}).get("coding", [])]


def _any_coding(codings: list[Json], wanted: Iterable[tuple[str | None, str]]) -> bool:
    return any(c.get("code") == code and (system is None or c.get("system") == system)
               for system, code in wanted for c in codings)


def token(text: str) -> tuple[str | None, str]:
    system, bar, code = text.rpartition("|")
    return (system or None) if bar else None, code


def implications(store: Store, inputs: Inputs, profile: str, expand: Expand) -> Json:
    """`$find-subject-dx-implications` (diagnostic-implication) or `-tx-implications`
    (therapeutic-implication): the implications and the variants they rest on."""
    sought = [sought_variant(v) for v in inputs.get("variants", [])]
    ranges = [locate.parse_range(r) for r in inputs.get("ranges", [])]
    conditions = set().union(*(expand(c) for c in inputs.get("conditions", [])))
    treatments = [token(t) for t in inputs.get("treatments", [])]
    res = results.load(store, inputs)
    variants = res.variants()
    wanted = {id(v) for v in variants}
    out_impl, out_var = [], []
    for impl in res.of_profile(profile):
        rests_on = [o for o in res.derived_from(impl) if id(o) in wanted]
        if inputs.get("haplotypes"):
            continue  # no haplotype is stored, so no implication rests on one
        if res.source_class is not None and not rests_on:
            continue
        if sought and not any(h in hgvs_of(v) for v in rests_on for h in sought):
            continue
        if ranges and not any(_placed(res, rests_on, r, False) for r in ranges):
            continue
        if inputs.get("conditions") and not _any_coding(
                _codings(impl, codes.LOINC_PREDICTED_PHENOTYPE), conditions):
            continue
        if treatments and not _any_coding(_codings(impl, codes.LOINC_MEDICATION_ASSESSED),
                                          treatments):
            continue
        out_impl.append(impl)
        out_var += [v for v in rests_on if v not in out_var]
    return parameters([{"name": "implication", "resource": i} for i in out_impl]
                      + [{"name": "variant", "resource": v} for v in out_var])


def returned(answer: Json) -> list[str]:
    """'Observation/id' of every resource an answer carries (for the audit)."""
    refs = []
    for p in answer.get("parameter", []):
        for part in [p, *p.get("part", [])]:
            if "resource" in part:
                refs.append(f"{part['resource']['resourceType']}/{part['resource']['id']}")
    return refs
