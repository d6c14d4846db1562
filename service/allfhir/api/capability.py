"""The CapabilityStatement: exactly what this server implements, built from the same tables the
routes use (readable types, search parameters), so it cannot claim more than there is."""

from __future__ import annotations

from typing import Any

from .. import __version__, codes
from .audit import ADMIN_SCOPE
from .catalogue import TYPES
from .export import OPERATIONS as EXPORT_OPERATIONS
from .genomics import capability_operations
from .search import AUDIT_PARAMS, INCLUDES, PARAMS

READABLE = ("DiagnosticReport", "Observation", "Task", "ResearchStudy", "Device", "MedicationStatement")
CONVERT = f"{codes.ALLFHIR}/OperationDefinition/convert"
VALIDATE = "http://hl7.org/fhir/OperationDefinition/Resource-validate"
# instance-level operations per readable type (api/render.py)
INSTANCE_OPERATIONS = {
    "DiagnosticReport": [{"name": "render", "definition": f"{codes.ALLFHIR}/OperationDefinition/render"}],
}
# the conformance types (catalogue.TYPES) and the type-level operations each serves
TERMINOLOGY_OPERATIONS = {
    "ConceptMap": [{"name": "translate",
                    "definition": "http://hl7.org/fhir/OperationDefinition/ConceptMap-translate"}],
    "CodeSystem": [{"name": "lookup",
                    "definition": "http://hl7.org/fhir/OperationDefinition/CodeSystem-lookup"}],
}
RELEASED = "2026-12-01"
# delivery destinations (api/exchange.py) and the operations on a report's deliveries
ENDPOINT = {"type": "Endpoint", "interaction": [{"code": c} for c in ("create", "read", "delete",
                                                                      "search-type")],
            "versioning": "no-version", "readHistory": False, "updateCreate": False,
            "searchParam": [{"name": "status", "type": "token",
                             "definition": "http://hl7.org/fhir/SearchParameter/Endpoint-status"}],
            "documentation": "Where reports are delivered; needs system/Endpoint scopes by name."}
DELIVERY_OPERATIONS = [{"name": "delivery-status", "definition":
                        f"{codes.ALLFHIR}/OperationDefinition/delivery-status"},
                       {"name": "retry", "definition": f"{codes.ALLFHIR}/OperationDefinition/retry"}]
PROCESS_MESSAGE = "http://hl7.org/fhir/OperationDefinition/MessageHeader-process-message"


def capability_statement(base: str) -> dict[str, Any]:
    resources = []
    for rtype in READABLE:
        entry: dict[str, Any] = {
            "type": rtype,
            "interaction": [{"code": "read"}, {"code": "vread"}, {"code": "history-instance"}],
            "versioning": "versioned",
            "readHistory": True,
            "updateCreate": False,
        }
        if rtype in PARAMS:
            entry["interaction"].append({"code": "search-type"})
            entry["searchParam"] = [
                {"name": name, "type": kind,
                 "definition": f"http://hl7.org/fhir/SearchParameter/{_definition(rtype, name)}"}
                for name, kind in PARAMS[rtype].items()]
        if rtype in INCLUDES:
            entry["searchInclude"] = list(INCLUDES[rtype])
        operations = INSTANCE_OPERATIONS.get(rtype, []) + (
            DELIVERY_OPERATIONS if rtype == "DiagnosticReport" else [])
        if operations:
            entry["operation"] = operations
        resources.append(entry)
    resources.append(_audit_log())
    for rtype in TYPES:
        entry = {"type": rtype, "interaction": [{"code": "read"}, {"code": "search-type"}],
                 "versioning": "no-version", "readHistory": False, "updateCreate": False,
                 "searchParam": [{"name": "url", "type": "uri", "definition":
                                  f"http://hl7.org/fhir/SearchParameter/{_url_parameter(rtype)}"}]}
        if rtype in TERMINOLOGY_OPERATIONS:
            entry["operation"] = TERMINOLOGY_OPERATIONS[rtype]
        resources.append(entry)
    resources.append(ENDPOINT)
    return {
        "resourceType": "CapabilityStatement",
        "status": "active",
        "date": RELEASED,
        "publisher": "allfhir",
        "kind": "instance",
        "software": {"name": "allfhir", "version": __version__},
        "implementation": {"description": "allfhir: BCP-ALL classifier output as HL7 Genomics "
                           "Reporting IG 3.0.0 reports", "url": base},
        "fhirVersion": "4.0.1",
        "format": ["json"],
        "implementationGuide": [f"{codes.IG}/ImplementationGuide/hl7.fhir.uv.genomics-reporting|3.0.0"],
        "rest": [{
            "mode": "server",
            "security": {"cors": False, "description": "Every request except metadata needs an API "
                         "key (Authorization: Bearer <key> or X-API-Key), or an OAuth2 bearer JWT "
                         "of the deployment's authorisation server (SMART Backend Services; "
                         "signature, iss, aud, exp, nbf checked), whose SMART system scopes "
                         "(v1 system/<Type>.read|write, v2 system/<Type>.cruds) allow it."},
            "resource": resources,
            "operation": [{"name": "convert", "definition": CONVERT,
                           "documentation": "Also asynchronous (Prefer: respond-async): 202 with "
                           "a Content-Location status URL polled until it answers a manifest of "
                           "NDJSON report Bundles (http://hl7.org/fhir/R4/async.html)."},
                          {"name": "validate", "definition": VALIDATE},
                          {"name": "process-message", "definition": PROCESS_MESSAGE,
                           "documentation": "Classifier output in a message (event "
                           "classifier-output-submitted, a DocumentReference per upload); a "
                           "resent message (same Bundle.identifier) gets the same response."},
                          *capability_operations(), *EXPORT_OPERATIONS],
        }],
    }


def _audit_log() -> dict[str, Any]:
    params = []
    for name, kind in AUDIT_PARAMS.items():
        param = {"name": name, "type": kind}
        if name == "agent":  # not R4's AuditEvent-agent (a reference): the client's name
            param["documentation"] = "the client (API key name) of agent.who.display, exactly"
        else:
            param["definition"] = f"http://hl7.org/fhir/SearchParameter/AuditEvent-{name}"
        params.append(param)
    return {"type": "AuditEvent", "documentation": f"The audit log: one event per access. Needs "
            f"the admin scope {ADMIN_SCOPE} (v1 system/AuditEvent.read); wildcards do not grant it.",
            "interaction": [{"code": "read"}, {"code": "search-type"}], "versioning": "no-version",
            "readHistory": False, "updateCreate": False, "searchParam": params}


def _url_parameter(rtype: str) -> str:
    # R4 defines `url` once for the canonical resources; NamingSystem has none, and here `url`
    # matches its uri-typed uniqueId, which is not an R4 parameter: declared as our own use
    return "conformance-url" if rtype != "NamingSystem" else "NamingSystem-value"


def _definition(rtype: str, name: str) -> str:
    # R4 defines identifier, code and date once for the clinical resources, _lastUpdated once for
    # every resource, the rest per type
    if name == "_lastUpdated":
        return "Resource-lastUpdated"
    return f"clinical-{name}" if name in ("identifier", "code", "date") else f"{rtype}-{name}"
