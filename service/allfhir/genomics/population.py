"""The population operations for a registry: `$find-population-specific-variants`,
`-dx-implications`, `-tx-implications`. Counts come from the search index (index.py's
`genomics-*` rows) without reading a resource:

- denominator: the subjects with a stored genomic report (reports without a subject count as
  no one);
- numerator: the subjects with a matching Observation. Different parameters all apply, per
  subject (a subject with the implication and, in another Observation, the variant counts);
  values of one parameter are alternatives;
- subject (only with includePatientList=true, which api/genomics.py allows only to keys that
  may read the Observations): each subject as its reference or 'system|value'.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .. import codes, knowledge
from ..store import Store, genomics
from ..store.reads import Criterion
from .parameters import Inputs, one
from .subject import parameters, sought_variant, token

Json = dict[str, Any]
Expand = Callable[[str], set[tuple[str | None, str]]]


def _quantity(n: int) -> Json:
    return {"value": n}


def _source(inputs: Inputs) -> Criterion | None:
    wanted = one(inputs, "genomicSourceClass")
    if wanted is None:
        return None
    _, code = token(wanted)
    if not code.startswith("LA"):  # a display ('somatic'): its LOINC answer code
        try:
            code = knowledge.default().loinc_answer("LL378-1", code).code
        except KeyError:
            return Criterion("genomics-source-class", [(codes.LOINC, wanted)])  # matches no one
    return Criterion("genomics-source-class", [(codes.LOINC, code)])


def tested(store: Store) -> int:
    """The denominator: how many subjects have a stored report."""
    return genomics.count(store, "DiagnosticReport", [])


def _counted(store: Store, part: list[Json], criteria: list[Criterion] | None,
             also: list[list[Criterion]], denominator: int, inputs: Inputs) -> Json:
    """The numerator (subjects with Observations matching `criteria` and each list of `also`;
    None: no one), the denominator and, with includePatientList, the subjects: counted in the
    database unless they are to be listed."""
    listed = one(inputs, "includePatientList", False)
    found: set[str] = set()
    if listed and criteria is not None:
        found = genomics.subjects(store, "Observation", criteria, *also)
    numerator = len(found) if listed or criteria is None else \
        genomics.count(store, "Observation", criteria, *also)
    part.append({"name": "numerator", "valueQuantity": _quantity(numerator)})
    part.append({"name": "denominator", "valueQuantity": _quantity(denominator)})
    if listed:
        part += [{"name": "subject", "valueString": s} for s in sorted(found)]
    return part


def specific_variants(store: Store, inputs: Inputs) -> Json:
    sought = [(item, sought_variant(item)) for item in inputs["variants"]]
    source = _source(inputs)
    denominator = tested(store)
    out = []
    for item, hgvs in sought:
        criteria = [Criterion("genomics-variant", [(None, hgvs)]), *([source] if source else [])]
        out.append({"name": "variants", "part": _counted(
            store, [{"name": "variantItem", "valueString": item}], criteria, [], denominator,
            inputs)})
    return parameters(out)


def implications(store: Store, inputs: Inputs, kind: str, expand: Expand) -> Json:
    """kind: diagnostic-implication | therapeutic-implication (the implication's code)."""
    sought = [sought_variant(v) for v in inputs.get("variants", [])]
    criteria = []  # the most selective first: it drives the query (store/genomics.py)
    if inputs.get("treatments"):
        criteria.append(Criterion("genomics-treatment", [token(t) for t in inputs["treatments"]]))
    if inputs.get("conditions"):
        pairs = set().union(*(expand(c) for c in inputs["conditions"]))
        criteria.append(Criterion("genomics-condition", sorted(pairs, key=str)))
    criteria.append(Criterion("code", [(codes.TBD_CODES, kind)]))
    source = _source(inputs)
    also: list[list[Criterion]] = []
    if sought or source:
        # the subject also carries one of the variants (of the source class asked for)
        also.append([*([Criterion("genomics-variant", [(None, h) for h in sought])] if sought else []),
                     *([source] if source else [])])
    # no haplotype is stored, so no subject has one
    return parameters([{"name": "implications", "part": _counted(
        store, [], None if inputs.get("haplotypes") else criteria, also, tested(store), inputs)}])
