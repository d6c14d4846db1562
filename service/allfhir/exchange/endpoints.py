"""Endpoint resources as delivery destinations: checking one that is created, and reading the
delivery settings (`Target`) out of a stored one.

An Endpoint (FHIR R4) says where (`address`), how (`connectionType`), what (`payloadType`: one
of our payload-type codes, channels.CHANNELS) and whether (`status` active). Our extension
`endpoint-delivery` adds authentication (none | api-key | oauth2-client-credentials), timeouts
and the filter of which reports go there. The secret in it is taken out before the Endpoint is
stored: it is kept apart and never served.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from .. import codes
from ..errors import InputError, Problem
from ..validation.structural import check_structure
from . import criteria
from .channels import CHANNELS, CONNECTION_TYPE

Json = dict[str, Any]
AUTH = ("none", "api-key", "oauth2-client-credentials")
DEFAULT_CONNECT, DEFAULT_READ = 5.0, 30.0
STATUSES = ("active", "suspended", "error", "off", "entered-in-error", "test")


@dataclass(frozen=True, slots=True)
class Target:
    """Where and how one delivery goes."""

    id: str
    address: str
    payload: str
    auth: str = "none"
    secret: str | None = None
    api_key_header: str = "X-API-Key"
    token_url: str | None = None
    client_id: str | None = None
    scope: str | None = None
    connect_timeout: float = DEFAULT_CONNECT
    read_timeout: float = DEFAULT_READ
    filter: criteria.Criteria | None = None

    @property
    def timeout(self) -> tuple[float, float]:
        return self.connect_timeout, self.read_timeout


def _settings(resource: Json) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for ext in resource.get("extension", []):
        if ext.get("url") != codes.EXT_ENDPOINT_DELIVERY:
            continue
        for sub in ext.get("extension", []):
            value = next((v for k, v in sub.items() if k.startswith("value")), None)
            out[sub.get("url", "")] = value
    return out


def payload_code(resource: Json) -> str | None:
    for concept in resource.get("payloadType", []):
        for coding in concept.get("coding", []):
            if coding.get("system") == codes.CS_ALLFHIR and coding.get("code") in CHANNELS:
                return coding["code"]
    return None


def target(resource: Json, secret: str | None) -> Target:
    s = _settings(resource)
    payload = payload_code(resource)
    assert payload is not None, "checked when the Endpoint was created"
    return Target(
        id=resource["id"], address=resource["address"].rstrip("/"), payload=payload,
        auth=s.get("auth") or "none", secret=secret,
        api_key_header=s.get("api-key-header") or "X-API-Key", token_url=s.get("token-url"),
        client_id=s.get("client-id"), scope=s.get("scope"),
        connect_timeout=float(s.get("connect-timeout") or DEFAULT_CONNECT),
        read_timeout=float(s.get("read-timeout") or DEFAULT_READ),
        filter=criteria.parse(s["filter"]) if s.get("filter") else None)


def check(resource: Any) -> tuple[Json, str | None]:
    """A new Endpoint -> (the Endpoint to store, without its secret; the secret). Every problem
    found is reported at once (InputError, 422)."""
    if not isinstance(resource, dict) or resource.get("resourceType") != "Endpoint":
        raise InputError(Problem("the body is not an Endpoint resource", code="structure"))
    problems = [Problem(f"{i.expression}: {i.message}", code="structure")
                for i in check_structure(resource, "Endpoint")]
    if problems:
        raise InputError(problems)
    problems += _check_delivery(resource)
    if problems:
        raise InputError(problems)
    served = dict(resource)
    served.pop("id", None)
    served.pop("meta", None)
    secret = _settings(resource).get("secret")
    served["extension"] = [_without_secret(e) for e in resource.get("extension", [])]
    if not served["extension"]:
        del served["extension"]
    return served, secret


def _without_secret(ext: Json) -> Json:
    if ext.get("url") != codes.EXT_ENDPOINT_DELIVERY:
        return ext
    return {**ext, "extension": [e for e in ext.get("extension", []) if e.get("url") != "secret"]}


def _check_delivery(resource: Json) -> list[Problem]:
    problems: list[Problem] = []
    if resource.get("status") not in STATUSES:
        problems.append(Problem(f"Endpoint.status must be one of: {', '.join(STATUSES)}",
                                code="required" if "status" not in resource else "value"))
    payload = payload_code(resource)
    if payload is None:
        known = ", ".join(f"{codes.CS_ALLFHIR}#{c}" for c in CHANNELS)
        problems.append(Problem(f"Endpoint.payloadType names no payload this service sends; one of: "
                                f"{known}", code="value"))
        return problems
    address, schemes = resource.get("address", ""), CHANNELS[payload].schemes
    if urlsplit(address).scheme not in schemes or not urlsplit(address).netloc:
        problems.append(Problem(f"Endpoint.address '{address}' is not a {' or '.join(schemes)} URL",
                                code="value"))
    connection = resource.get("connectionType", {})
    wanted = CHANNELS[payload].connection
    if (connection.get("system"), connection.get("code")) != (CONNECTION_TYPE, wanted):
        problems.append(Problem(f"Endpoint.connectionType must be {CONNECTION_TYPE}#{wanted} for "
                                f"payload type {payload}", code="value"))
    s = _settings(resource)
    auth = s.get("auth") or "none"
    if auth not in AUTH:
        problems.append(Problem(f"endpoint-delivery auth '{auth}' is not one of: {', '.join(AUTH)}",
                                code="value"))
    if auth != "none" and not s.get("secret"):
        problems.append(Problem(f"endpoint-delivery auth '{auth}' needs its secret", code="required"))
    if auth == "oauth2-client-credentials":
        problems += [Problem(f"endpoint-delivery auth '{auth}' needs {name}", code="required")
                     for name in ("token-url", "client-id") if not s.get(name)]
    for name in ("connect-timeout", "read-timeout"):
        if s.get(name) is not None and not (isinstance(s[name], int | float)
                                            and 0 < float(s[name]) <= 600):
            problems.append(Problem(f"endpoint-delivery {name} must be a decimal above 0 and at "
                                    "most 600 seconds", code="value"))
    if s.get("filter"):
        try:
            criteria.parse(s["filter"])
        except ValueError as err:
            found = err.args[0] if err.args else None
            problems.append(found if isinstance(found, Problem) else
                            Problem(f"filter '{s['filter']}' is not a search: {err}", code="value"))
    return problems


def resource(address: str, payload: str, *, name: str | None = None, auth: str = "none",
             secret: str | None = None, api_key_header: str | None = None,
             token_url: str | None = None, client_id: str | None = None, scope: str | None = None,
             connect_timeout: float | None = None, read_timeout: float | None = None,
             filter: str | None = None, status: str = "active") -> Json:
    """An Endpoint resource from plain settings (what `allfhir endpoint add` sends)."""
    settings = [("auth", "valueCode", auth), ("api-key-header", "valueString", api_key_header),
                ("token-url", "valueUrl", token_url), ("client-id", "valueString", client_id),
                ("scope", "valueString", scope), ("secret", "valueString", secret),
                ("connect-timeout", "valueDecimal", connect_timeout),
                ("read-timeout", "valueDecimal", read_timeout), ("filter", "valueString", filter)]
    out: Json = {
        "resourceType": "Endpoint",
        "extension": [{"url": codes.EXT_ENDPOINT_DELIVERY,
                       "extension": [{"url": url, key: value} for url, key, value in settings
                                     if value is not None]}],
        "status": status,
        "connectionType": {"system": CONNECTION_TYPE,
                           "code": CHANNELS[payload].connection if payload in CHANNELS else "hl7-fhir-rest"},
        "payloadType": [{"coding": [{"system": codes.CS_ALLFHIR, "code": payload,
                                     "display": codes.ALLFHIR_CODE_DISPLAY.get(payload, payload)}]}],
        "payloadMimeType": [CHANNELS[payload].mime if payload in CHANNELS else "application/fhir+json"],
        "address": address,
    }
    if name:
        out["name"] = name
    return out
