"""A FHIR Parameters resource sent as an operation's POST body: media type, JSON, resourceType
checked once for every operation that takes one (terminology, the genomics operations)."""

from __future__ import annotations

import json
from typing import Any

from .errors import RequestError


def read_parameters(body: bytes, mimetype: str) -> dict[str, Any]:
    if mimetype not in ("application/fhir+json", "application/json"):
        raise RequestError("unsupported-media-type", f"cannot read a '{mimetype or 'untyped'}' "
                           "body: send a FHIR Parameters resource (application/fhir+json)")
    try:
        doc = json.loads(body)
    except ValueError as err:
        raise RequestError("malformed", f"the body is not JSON: {err}") from None
    if not isinstance(doc, dict) or doc.get("resourceType") != "Parameters":
        raise RequestError("malformed", "the body must be a Parameters resource")
    return doc
