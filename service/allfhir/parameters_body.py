"""A FHIR Parameters resource sent as an operation's POST body: media type, JSON, resourceType
checked once for every operation that takes one (terminology, the genomics operations)."""

from __future__ import annotations

import json
from typing import Any

from .errors import RequestError


def json_body(body: bytes) -> Any:
    """A request body's JSON (None when empty); a RequestError (400) when it is not JSON or nests
    arrays and objects too deeply for the parser (it recurses: thousands of '[' exhaust the
    stack), never an exception the client would see as a 500."""
    try:
        return json.loads(body) if body.strip() else None
    except ValueError as err:
        raise RequestError("malformed", f"the body is not JSON: {err}") from None
    except RecursionError:
        raise RequestError("malformed", "the body nests JSON arrays and objects too deeply to be "
                           "read") from None


def read_parameters(body: bytes, mimetype: str) -> dict[str, Any]:
    if mimetype not in ("application/fhir+json", "application/json"):
        raise RequestError("unsupported-media-type", f"cannot read a '{mimetype or 'untyped'}' "
                           "body: send a FHIR Parameters resource (application/fhir+json)")
    doc = json_body(body)
    if not isinstance(doc, dict) or doc.get("resourceType") != "Parameters":
        raise RequestError("malformed", "the body must be a Parameters resource")
    return doc
