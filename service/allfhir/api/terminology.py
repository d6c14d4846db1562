"""`ConceptMap/$translate` and `CodeSystem/$lookup` (R4 definitions) over our own ConceptMaps and
CodeSystems (`catalogue`): classifier label -> subtype, subtype -> NCIt / ICD-O-3 / OncoTree,
and what a subtype code means. Pure functions: parameters in, a Parameters resource out.

R4 names (`target`, `targetsystem`, `equivalence`) are used, not R5's (`targetScope`,
`relationship`): this is an R4 server.
"""

from __future__ import annotations

from typing import Any

from ..errors import RequestError
from ..parameters_body import read_parameters
from .catalogue import Catalogue

Json = dict[str, Any]

# reading a map backwards inverts the direction of a broader / narrower relation (R4 $translate)
REVERSED = {"wider": "narrower", "narrower": "wider", "subsumes": "specializes",
            "specializes": "subsumes"}
NO_MATCH = ("unmatched", "disjoint")


def inputs(body: bytes, args: Any, mimetype: str) -> dict[str, Any]:
    """An operation's scalar inputs: the query (GET) or a Parameters body (POST)."""
    if not body.strip():
        return {k: v for k, v in args.items()}
    doc = read_parameters(body, mimetype)
    out: dict[str, Any] = {k: v for k, v in args.items()}
    for part in doc.get("parameter") or []:
        if not isinstance(part, dict) or not isinstance(part.get("name"), str):
            continue
        value = next((v for k, v in part.items() if k.startswith("value")), None)
        if isinstance(value, dict) and part["name"] == "coding":  # code and system in one
            out.setdefault("code", value.get("code"))
            out.setdefault("system", value.get("system"))
        elif value is not None:
            out[part["name"]] = value if isinstance(value, str) else \
                str(value).lower() if isinstance(value, bool) else value
    return out


def _required(params: dict[str, Any], *names: str) -> None:
    for name in names:
        if not params.get(name):
            raise RequestError("malformed", f"parameter '{name}' is required", code="required")


def translate(cat: Catalogue, params: dict[str, Any]) -> Json:
    _required(params, "code", "system")
    code, system = params["code"], params["system"]
    target, target_system = params.get("target"), params.get("targetsystem")
    reverse = str(params.get("reverse", "false")).lower()
    if reverse not in ("true", "false"):
        raise RequestError("malformed", f"reverse '{reverse}' is not true or false", code="value")
    maps = cat.find("ConceptMap", params.get("url"))
    matches: list[Json] = []
    for cm in maps:
        # `target` names the target ValueSet; a group's target system is accepted too, since
        # clients often send the code system there
        scopes = {cm.get("targetCanonical"), cm.get("targetUri")} if reverse == "false" else \
                 {cm.get("sourceCanonical"), cm.get("sourceUri")}
        for group in cm.get("group") or []:
            src, dst = (group.get("source"), group.get("target")) if reverse == "false" else \
                       (group.get("target"), group.get("source"))
            if src != system or (target_system and dst != target_system) or \
                    (target and target not in scopes and target != dst):
                continue
            for element in group.get("element") or []:
                for t in element.get("target") or []:
                    if reverse == "false" and element.get("code") == code:
                        hit, equivalence = t, t.get("equivalence", "equivalent")
                    elif reverse == "true" and t.get("code") == code:
                        hit, equivalence = element, REVERSED.get(t.get("equivalence", ""),
                                                                 t.get("equivalence", "equivalent"))
                    else:
                        continue
                    coding = {"system": dst, "code": hit["code"]}
                    if hit.get("display"):
                        coding["display"] = hit["display"]
                    matches.append({"name": "match", "part": [
                        {"name": "equivalence", "valueCode": equivalence},
                        {"name": "concept", "valueCoding": coding},
                        {"name": "source", "valueUri": cm["url"]}]})
    found = any(m["part"][0]["valueCode"] not in NO_MATCH for m in matches)
    out: list[Json] = [{"name": "result", "valueBoolean": found}]
    if not found:
        out.append({"name": "message", "valueString": f"no mapping of '{code}' in {system}"
                    + (f" to {target_system or target}" if target_system or target else "")})
    return {"resourceType": "Parameters", "parameter": out + matches}


def lookup(cat: Catalogue, params: dict[str, Any]) -> Json:
    _required(params, "code", "system")
    code, system = params["code"], params["system"]
    cs = cat.code_system(system)
    if cs is None:
        raise RequestError("not-found", f"code system '{system}' is not served here; served: "
                           f"{', '.join(sorted(c['url'] for c in cat.find('CodeSystem', None)))}")
    concept = _concept(cs.get("concept") or [], code)
    if concept is None:
        raise RequestError("not-found", f"'{code}' is not a code of {system}", code="code-invalid")
    out: list[Json] = [{"name": "name", "valueString": cs["name"]}]
    if cs.get("version"):
        out.append({"name": "version", "valueString": cs["version"]})
    if concept.get("display"):
        out.append({"name": "display", "valueString": concept["display"]})
    if concept.get("definition"):
        out.append({"name": "property", "part": [{"name": "code", "valueCode": "definition"},
                                                 {"name": "value", "valueString": concept["definition"]}]})
    for prop in concept.get("property") or []:
        value = {k: v for k, v in prop.items() if k.startswith("value")}
        out.append({"name": "property", "part": [
            {"name": "code", "valueCode": prop["code"]},
            *({"name": "value", k: v} for k, v in value.items())]})
    return {"resourceType": "Parameters", "parameter": out}


def _concept(concepts: list[Json], code: str) -> Json | None:
    for c in concepts:  # a hierarchy nests concepts
        if c.get("code") == code:
            return c
        found = _concept(c.get("concept") or [], code)
        if found is not None:
            return found
    return None
