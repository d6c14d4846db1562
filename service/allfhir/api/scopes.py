"""SMART on FHIR system scopes, v1 (`system/DiagnosticReport.read`, `system/*.write`) and v2
(`system/DiagnosticReport.rs`, `system/*.cruds`): does a set of scopes allow an interaction?

Only `system/` scopes count: these are backend service accounts, not patients or users. A v2
scope narrowed by a query (`?category=...`) grants nothing here, which is the safe reading
until such restrictions are enforced.
"""

from __future__ import annotations

import re

V1 = {"read": set("rs"), "write": set("cud"), "*": set("cruds")}
_SCOPE = re.compile(r"system/(?P<type>\*|[A-Z][A-Za-z]+)\.(?P<perm>read|write|\*|c?r?u?d?s?)$")


def permissions(scope: str) -> tuple[str, set[str]] | None:
    """(resource type or '*', permission letters) of one scope; None if it grants nothing here."""
    m = _SCOPE.match(scope)
    if not m or not m["perm"]:
        return None
    perm = m["perm"]
    return m["type"], V1.get(perm, set(perm))


def allows(scopes: tuple[str, ...] | list[str], rtype: str, letter: str, *,
           wildcard: bool = True) -> bool:
    """Whether a scope grants `letter` on `rtype`. `wildcard=False`: only a scope that names the
    type itself counts (the audit log, delivery destinations: `system/*.read` is not enough)."""
    types = (rtype, "*") if wildcard else (rtype,)
    for scope in scopes:
        granted = permissions(scope)
        if granted and granted[0] in types and letter in granted[1]:
            return True
    return False
