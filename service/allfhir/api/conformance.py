"""Conformance resources and terminology operations under /fhir: read and `?url=` search of the
StructureDefinitions, CodeSystems, ValueSets, ConceptMaps, NamingSystems and OperationDefinitions
compiled from profiles/, `ConceptMap/$translate` and `CodeSystem/$lookup`.

They describe the server, not a patient: any valid API key may read them (no scope), and each
access is audited like any other.
"""

from __future__ import annotations

from flask import Blueprint, Response, request

from ..errors import RequestError
from . import audit, catalogue, terminology
from .auth import requires
from .fhir import ID, base
from .negotiation import fhir_response, negotiate

bp = Blueprint("conformance", __name__)
SEARCH = ("url",)  # search parameters of these types (besides _format and _pretty)


def _no_scope(**_: str) -> list[tuple[str, str]]:
    return []


bp.before_request(negotiate)


@requires("read", _no_scope)
def read(rtype: str, rid: str) -> Response:
    """Read a conformance resource from profiles/."""
    if not ID.match(rid):
        raise RequestError("malformed", f"'{rid}' is not a FHIR id", code="value")
    audit.touched(f"{rtype}/{rid}")
    found = catalogue.default().read(rtype, rid)
    if found is None:
        raise RequestError("not-found", f"{rtype}/{rid} is not known")
    return fhir_response(found)


@requires("search-type", _no_scope)
def search(rtype: str) -> Response:
    """Conformance resources of a type, all or by url."""
    unknown = sorted(k for k in request.args if k not in SEARCH and k not in ("_format", "_pretty"))
    if unknown:
        raise RequestError("malformed", f"unknown search parameter '{unknown[0]}' for {rtype}; "
                           f"known: {', '.join(SEARCH)}")
    audit.touched(query=True)
    hits = catalogue.default().find(rtype, request.args.get("url"))
    url = f"{base()}/{rtype}"
    return fhir_response({
        "resourceType": "Bundle", "type": "searchset", "total": len(hits),
        "link": [{"relation": "self", "url": f"{url}?{request.query_string.decode()}"
                  if request.query_string else url}],
        "entry": [{"fullUrl": f"{url}/{r['id']}", "resource": r, "search": {"mode": "match"}}
                  for r in hits],
    })


@bp.route("/ConceptMap/$translate", methods=["GET", "POST"])
@requires("operation", _no_scope)
def translate() -> Response:
    """Translate a code with our ConceptMaps (R4 ConceptMap-translate)."""
    params = terminology.inputs(request.get_data(), request.args, request.mimetype)
    return fhir_response(terminology.translate(catalogue.default(), params))


@bp.route("/CodeSystem/$lookup", methods=["GET", "POST"])
@requires("operation", _no_scope)
def lookup() -> Response:
    """Look up a code of our CodeSystems (R4 CodeSystem-lookup)."""
    params = terminology.inputs(request.get_data(), request.args, request.mimetype)
    return fhir_response(terminology.lookup(catalogue.default(), params))


for _type in catalogue.TYPES:
    # one rule per type: the literal type name takes precedence over the store's /<rtype>/<rid>
    bp.add_url_rule(f"/{_type}/<rid>", f"read_{_type}", read, defaults={"rtype": _type},
                    methods=["GET"])
    bp.add_url_rule(f"/{_type}", f"search_{_type}", search, defaults={"rtype": _type},
                    methods=["GET"])
