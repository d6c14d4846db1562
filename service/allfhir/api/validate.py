"""`$validate` (R4 Resource-validate): parse the `resource`, `mode` and `profile` parameters from a
raw resource body or a Parameters body, validate with `allfhir.validation`, answer the issues.

The Validator reads the FHIR packages (tens of MB) and caches snapshots and expansions, so it is
built once per process and per packages folder, on the first $validate (not at start-up: a
server without the packages still converts and serves, and answers $validate with a 503). It is
not thread-safe and gunicorn runs threaded workers: one lock serialises its use.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import RequestError
from ..parameters_body import json_body
from ..validation import Issue, operation_outcome
from ..validation.nesting import nesting_issue
from ..validation.packages import missing_reason, packages_dir

Json = dict[str, Any]

# resource-validation-mode codes a type-level $validate honours; update and delete name an
# existing instance ([base]/[type]/[id]/$validate), where create does not apply
MODES = ("create", "profile")
INSTANCE_MODES = ("update", "delete", "profile")

_lock = threading.Lock()
_validators: dict[Path, Any] = {}  # packages folder -> Validator


@dataclass(frozen=True, slots=True)
class Request:
    resource: Json | None  # None: mode delete, which validates no content
    mode: str | None
    profile: str | None
    instance: str | None = None  # 'Type/id' of an instance-level $validate


def parse(body: bytes, args: Any, rtype: str | None, rid: str | None = None) -> Request:
    """The operation's parameters; query parameters `mode` and `profile` count as well. `rid`:
    the instance of [base]/[type]/[id]/$validate (the view has checked it is stored)."""
    doc = json_body(body)
    mode, profile = args.get("mode"), args.get("profile")
    if rid is not None and mode == "delete" and doc is None:
        return Request(None, mode, profile, f"{rtype}/{rid}")  # R4: delete needs no resource
    if not isinstance(doc, dict) or not isinstance(doc.get("resourceType"), str):
        raise RequestError("malformed", "send the resource to validate as the body, or a "
                           "Parameters resource with a 'resource' parameter", code="required")
    resource: Json | None = doc
    if doc["resourceType"] == "Parameters":
        resource = None
        parts = doc.get("parameter")
        for part in parts if isinstance(parts, list) else ():  # else: no 'resource', said below
            name = part.get("name") if isinstance(part, dict) else None
            if name == "resource":
                resource = part.get("resource")
            elif name == "mode":
                mode = part.get("valueCode")
            elif name == "profile":
                profile = part.get("valueUri") or part.get("valueCanonical")
        if not isinstance(resource, dict) or not isinstance(resource.get("resourceType"), str):
            raise RequestError("malformed", "the Parameters carry no 'resource' parameter with a "
                               "resource to validate", code="required")
    if rid is not None and mode is not None and mode not in INSTANCE_MODES:
        raise RequestError("malformed", f"mode '{mode}' is not supported at an instance: "
                           f"{', '.join(INSTANCE_MODES)} (create is type-level: {rtype}/$validate)",
                           code="not-supported")
    if rid is None and mode is not None and mode not in MODES:
        raise RequestError("malformed", f"mode '{mode}' is not supported here: {', '.join(MODES)} "
                           "(update and delete need an instance-level $validate)", code="not-supported")
    if profile is not None and not isinstance(profile, str):
        raise RequestError("malformed", "the 'profile' parameter is a canonical URL: a string",
                           code="invalid")
    if mode == "profile" and not profile:
        raise RequestError("malformed", "mode 'profile' needs a 'profile' parameter", code="required")
    assert resource is not None
    if rtype is not None and resource["resourceType"] != rtype:
        raise RequestError("malformed", f"a {resource['resourceType']} cannot be validated at "
                           f"{rtype}/$validate: post it to {resource['resourceType']}/$validate "
                           "or $validate", code="invalid")
    if rid is not None and resource.get("id", rid) != rid:
        raise RequestError("malformed", f"the resource's id '{resource['id']}' is not the id of "
                           f"{rtype}/{rid}", code="invalid")
    return Request(resource, mode, profile, f"{rtype}/{rid}" if rid is not None else None)


def validator() -> Any:
    """The process's Validator for the configured packages; 503 when they are absent."""
    root = packages_dir()
    found = _validators.get(root)
    if found is not None:
        return found
    reason = missing_reason(root)
    if reason:
        raise RequestError("unavailable", f"validation is unavailable on this server: {reason}")
    from ..validation.packages import Packages
    from ..validation.validator import Validator

    with _lock:
        if root not in _validators:
            _validators[root] = Validator(Packages(root))
    return _validators[root]


def run(req: Request) -> Json:
    """The OperationOutcome of the validation (200 whether or not the resource is valid).
    Stored resources change only through $convert (a new version), never by PUT or DELETE:
    mode update and delete say so, as the R4 operation asks ("would the server accept it")."""
    refused = None
    if req.mode == "delete":
        refused = Issue(f"{req.instance} cannot be deleted: stored reports are amended by a new "
                        "version ($convert), never deleted", req.instance or "", code="not-supported")
    elif req.mode == "update":
        refused = Issue(f"{req.instance} cannot be updated directly: a changed report is "
                        "submitted again through $convert, which makes the new version",
                        req.instance or "", code="not-supported")
    if req.resource is None:
        return operation_outcome([refused] if refused else [])
    v = validator()
    resource = req.resource
    if req.profile:
        url = req.profile.split("|", 1)[0]
        with _lock:
            known = v.packages.structure_definition(url)
        if known is None:
            # R4: a server that cannot validate against the profile SHALL say so
            raise RequestError("malformed", f"profile '{req.profile}' is not known to this "
                               "server", code="not-supported")
        meta = resource.get("meta") or {}
        if not isinstance(meta, dict) or not isinstance(meta.get("profile") or [], list):
            raise RequestError("malformed", "the 'profile' parameter is added to the resource's "
                               "meta.profile: its meta must be an object and meta.profile an array",
                               code="structure")
        meta = dict(meta)
        meta["profile"] = [*(meta.get("profile") or []), url]
        resource = {**resource, "meta": meta}
    # A client's JSON may nest arbitrarily deep: beyond MAX_DEPTH it is refused, the same way
    # whatever the server's stack (the validator alone would stop where its recursion does).
    too_deep = nesting_issue(resource, resource["resourceType"])
    if too_deep is not None:
        issues: list[Issue] = [too_deep]
    else:
        with _lock:
            issues = v.validate(resource)
    return operation_outcome([*issues, *([refused] if refused else [])])
