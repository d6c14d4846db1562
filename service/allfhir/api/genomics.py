"""The Genomics Reporting IG operations (allfhir.genomics) over HTTP: GET with query parameters
or POST with a Parameters body, at `[base]/$<name>` and, for clients written against the
reference implementation (FHIR/genomics-operations), at its paths
(`/subject-operations/genotype-operations/$find-subject-variants` ...).

Scopes:
- a subject operation returns that subject's Observations: `system/Observation.read` (or v2
  `.r`); `$find-study-metadata` describes reports: `system/DiagnosticReport.read`;
- a population operation answers counts, which need only the aggregate scope
  `allfhir/population.aggregate` (or read on Observations); with `includePatientList=true` it
  names subjects, which needs `system/Observation.rs` (read and search: it is a search of
  everyone's results).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Blueprint, Flask, Response, current_app, g, request

from .. import codes
from ..errors import RequestError
from ..genomics import parameters as params
from ..genomics import population, subject
from ..genomics.definitions import OPERATIONS, Operation
from ..genomics.parameters import Inputs
from ..store import Store
from . import audit, catalogue, scopes, terminology
from .auth import requires
from .negotiation import fhir_response, negotiate

bp = Blueprint("genomics", __name__)  # under /fhir
compat = Blueprint("genomics_compat", __name__)  # the reference implementation's paths
AGGREGATE_SCOPE = "allfhir/population.aggregate"
SUBJECT_MAP = f"{codes.ALLFHIR}/ConceptMap/bcp-all-subtype-to-terminologies"

Json = dict[str, Any]


bp.before_request(negotiate)
compat.before_request(negotiate)


def _store() -> Store:
    return current_app.extensions["allfhir.store"]


def expand_condition(text: str) -> set[tuple[str | None, str]]:
    """A condition token and the subtype codes our ConceptMap maps it from (NCIt, ICD-O-3,
    OncoTree -> bcp-all-subtype, read backwards with $translate)."""
    system, code = subject.token(text)
    pairs: set[tuple[str | None, str]] = {(system, code)}
    if system and system != codes.CS_SUBTYPE:
        answer = terminology.translate(catalogue.default(), {
            "code": code, "system": system, "url": SUBJECT_MAP, "reverse": "true"})
        for match in (p for p in answer["parameter"] if p["name"] == "match"):
            equivalence, concept = match["part"][0]["valueCode"], match["part"][1]["valueCoding"]
            if equivalence not in terminology.NO_MATCH:
                pairs.add((concept["system"], concept["code"]))
    return pairs


def _inputs(op: Operation) -> Inputs:
    if request.method == "POST":
        return params.from_body(op, request.get_data(), request.mimetype)
    return params.from_query(op, request.args)


def answer(op: Operation, inputs: Inputs) -> Json:
    """What the operation answers to checked inputs, without HTTP, scopes or audit (the
    benchmark times this apart from the request)."""
    store, name = _store(), op.name
    if name == "find-study-metadata":
        return subject.study_metadata(store, inputs)
    if name == "find-subject-specific-variants":
        return subject.specific_variants(store, inputs)
    if name == "find-subject-variants":
        return subject.variants_in_ranges(store, inputs, structural=False, subsume=False)
    if name.startswith("find-subject-structural-"):
        return subject.variants_in_ranges(store, inputs, structural=True,
                                          subsume=name.endswith("subsuming-variants"))
    if name == "find-subject-dx-implications":
        return subject.implications(store, inputs, codes.PROFILE_DIAGNOSTIC_IMPLICATION,
                                    expand_condition)
    if name == "find-subject-tx-implications":
        return subject.implications(store, inputs, codes.PROFILE_THERAPEUTIC_IMPLICATION,
                                    expand_condition)
    if name == "find-population-specific-variants":
        return population.specific_variants(store, inputs)
    kind = codes.TBD_DIAGNOSTIC_IMPLICATION if name == "find-population-dx-implications" \
        else codes.TBD_THERAPEUTIC_IMPLICATION
    return population.implications(store, inputs, kind, expand_condition)


def _needs(op: Operation) -> Callable[..., list[tuple[str, str]]]:
    if op.population:
        return lambda **_: []  # decided in the view: it depends on includePatientList
    rtype = "DiagnosticReport" if op.name == "find-study-metadata" else "Observation"
    return lambda **_: [(rtype, "r")]


def _population_allowed(inputs: Inputs) -> None:
    if params.one(inputs, "includePatientList", False):
        missing = [f"system/Observation.{p}" for p in "rs" if not scopes.allows(g.scopes, "Observation", p)]
        if missing:
            raise RequestError("forbidden", f"the API key '{g.client}' lacks the scope for a "
                               f"list of subjects: needs {', '.join(missing)}")
    elif AGGREGATE_SCOPE not in g.scopes and not scopes.allows(g.scopes, "Observation", "r"):
        raise RequestError("forbidden", f"the API key '{g.client}' lacks the scope for "
                           f"population counts: needs {AGGREGATE_SCOPE} or system/Observation.read")


def _view(op: Operation) -> Callable[[], Response]:
    @requires("operation", _needs(op))
    def view() -> Response:
        inputs = _inputs(op)
        if op.population:
            _population_allowed(inputs)
        result = answer(op, inputs)
        if op.population:
            audit.touched(query=True)
        else:
            audit.touched(*subject.returned(result), query=True)
        return fhir_response(result)

    view.__doc__ = f"${op.name} (Genomics Reporting IG 3.0.0, {op.url})"
    return view


for _op in OPERATIONS.values():
    _endpoint = _op.name.replace("-", "_")
    bp.add_url_rule(f"/${_op.name}", _endpoint, _view(_op), methods=["GET", "POST"])
    compat.add_url_rule(_op.path, _endpoint, _view(_op), methods=["GET", "POST"])


def register(app: Flask) -> None:
    app.register_blueprint(bp, url_prefix="/fhir")
    app.register_blueprint(compat)


def capability_operations() -> list[Json]:
    """The operations as CapabilityStatement.rest.operation entries."""
    def scope(op: Operation) -> str:
        if op.population:
            return (f"counts need {AGGREGATE_SCOPE} (or system/Observation.read); "
                    "includePatientList=true needs system/Observation.rs")
        return ("needs system/DiagnosticReport.read" if op.name == "find-study-metadata"
                else "needs system/Observation.read")

    return [{"name": op.name, "definition": op.url,
             "documentation": f"GET or POST at [base]/${op.name}; also at {op.path}; {scope(op)}"}
            for op in OPERATIONS.values()]
