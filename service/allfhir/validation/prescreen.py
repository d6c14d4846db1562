"""Constraints decided without FHIRPath when the JSON alone settles them.

fhirpathpy evaluation is most of the validator's time, and most evaluations are of a few base
constraints on elements where the answer is plain: dom-2..5 on a resource with no `contained`,
ref-1 on a `urn:uuid:` reference, bdl-8 on a fullUrl. Each function here says True only when the
constraint certainly holds (a result other than [False]), False only when it certainly fails
(dom-6 on a resource without text: exists() of nothing is false); otherwise (None) the expression
is evaluated as before.
tests/test_validation_prescreen.py evaluates every decided case with fhirpathpy too (but bdl-10's,
which fhirpathpy cannot evaluate: it has no hasValue(); without the screen it was skipped).
Keyed by the exact expression text of the R4 core StructureDefinitions.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

Json = dict[str, Any]
Screen = Callable[[Json, Json], bool | None]  # (node, %resource) -> holds / fails / None


def _absent(node: Json, key: str) -> bool:
    return node.get(key) in (None, [])


def _when_absent(key: str) -> Screen:
    # 'key.… .empty()', 'key.empty() or …', 'key.exists().not() or …': hold when there is no key.
    return lambda node, _root: True if _absent(node, key) else None


def _present(value: Any) -> bool:
    # Certainly exists() in FHIRPath: a non-empty string, a number or boolean, a non-empty object.
    return (isinstance(value, str | int | float) and value != "") or (isinstance(value, dict) and bool(value))


def _absent_or_exists(key: str, other: str) -> Screen:
    # 'key.empty() or other.exists()': holds without key, or with other there.
    return lambda node, _root: True if _absent(node, key) or _present(node.get(other)) else None


# The value[x] types of Extension (fhirpathpy's R4 model resolves `value` to these keys only).
_EXTENSION_VALUES = frozenset((
    "Base64Binary", "Boolean", "Canonical", "Code", "Date", "DateTime", "Decimal", "Id", "Instant",
    "Integer", "Markdown", "Oid", "PositiveInt", "String", "Time", "UnsignedInt", "Uri", "Url", "Uuid",
    "Address", "Age", "Annotation", "Attachment", "CodeableConcept", "Coding", "ContactPoint", "Count",
    "Distance", "Duration", "HumanName", "Identifier", "Money", "Period", "Quantity", "Range", "Ratio",
    "Reference", "SampledData", "Signature", "Timing", "ContactDetail", "Contributor",
    "DataRequirement", "Expression", "ParameterDefinition", "RelatedArtifact", "TriggerDefinition",
    "UsageContext", "Dosage", "Meta"))


def _ext_1(node: Json, _root: Json) -> bool | None:
    # extension.exists() != value.exists(), on an Extension: decided when each side is plain (a
    # list of non-empty objects or no key; one value[x] of a known type holding a value, or none).
    extension = node.get("extension", ())
    if not (extension == () or (isinstance(extension, list) and extension
                                and all(isinstance(e, dict) and e for e in extension))):
        return None
    values = [k for k in node if k.startswith(("value", "_value"))]
    if len(values) > 1 or (values and (values[0][5:] not in _EXTENSION_VALUES
                                       or not _present(node[values[0]]))):
        return None  # several, an unknown type, a primitive's '_value...' sibling, an empty value
    return (extension != ()) != bool(values)


def _ref_1(node: Json, _root: Json) -> bool | None:
    # reference.startsWith('#').not() or (…contained…): only a '#local' reference needs the rest.
    ref = node.get("reference")
    return True if ref is None or (isinstance(ref, str) and not ref.startswith("#")) else None


def _bdl_8(node: Json, _root: Json) -> bool | None:
    # fullUrl.exists() implies fullUrl.contains('/_history/').not()
    url = node.get("fullUrl")
    return True if url is None or (isinstance(url, str) and "/_history/" not in url) else None


def _bdl_5(node: Json, _root: Json) -> bool | None:
    # resource.exists() or request.exists() or response.exists()
    res = node.get("resource")
    return True if isinstance(res, dict) and res else None


def _type_is_not(kind: str) -> Screen:
    # "type = '<kind>' implies …": holds for a Bundle of another (given) type.
    return lambda node, _root: True if isinstance(node.get("type"), str) and node["type"] != kind else None


def _entries(node: Json) -> list[Json] | None:
    entries = node.get("entry")
    if entries is None:
        return []
    if isinstance(entries, list) and all(isinstance(e, dict) for e in entries):
        return entries
    return None


def _entry_part_matches(part: str, types: tuple[str, ...]) -> Screen:
    # entry.all(<part>.exists() = (%resource.type = … or …)), on the Bundle itself.
    def screen(node: Json, _root: Json) -> bool | None:
        entries = _entries(node)
        if entries is None or not isinstance(node.get("type"), str):
            return None
        wanted = node["type"] in types
        present = [isinstance(e.get(part), dict) and bool(e[part]) for e in entries]
        absent = [e.get(part) is None for e in entries]
        ok = all(absent) if not wanted else all(present)
        return True if ok else None
    return screen


def _bdl_2(node: Json, _root: Json) -> bool | None:
    # entry.search.empty() or (type = 'searchset')
    entries = _entries(node)
    return True if entries is not None and all(e.get("search") is None for e in entries) else None


def _bdl_7(node: Json, _root: Json) -> bool | None:
    # (type = 'history') or entry.where(fullUrl.exists()).select(fullUrl&resource.meta.versionId)
    #   .isDistinct(): distinct fullUrls and no versionId settle it.
    entries = _entries(node)
    if entries is None:
        return None
    urls = []
    for e in entries:
        url = e.get("fullUrl")
        if url is None:
            continue
        res = e.get("resource")
        meta = res.get("meta") if isinstance(res, dict) else None
        if not isinstance(url, str) or (isinstance(meta, dict) and meta.get("versionId") is not None):
            return None
        urls.append(url)
    return True if len(set(urls)) == len(urls) else None


def _codes(concept: Any) -> set[tuple[Any, Any]] | None:
    codings = concept.get("coding") if isinstance(concept, dict) else None
    if codings is None:
        return set()
    if not isinstance(codings, list) or not all(isinstance(c, dict) for c in codings):
        return None
    try:
        return {(c.get("system"), c.get("code")) for c in codings}
    except TypeError:  # an object or array as system or code (unhashable): not compared here
        return None


def _obs_7(node: Json, root: Json) -> bool | None:
    # value.empty() or component.code.where(coding.intersect(%resource.code.coding).exists()).empty():
    # holds when no component coding has the (system, code) of a coding of the resource's code
    # (Codings that differ there are not equal, whatever else they carry).
    components = node.get("component")
    if components in (None, []):
        return True
    own = _codes(root.get("code"))
    if own is None or not isinstance(components, list):
        return None
    for comp in components:
        theirs = _codes(comp.get("code")) if isinstance(comp, dict) else None
        if theirs is None or theirs & own:
            return None
    return True


def _dom_6(node: Json, _root: Json) -> bool | None:
    # text.`div`.exists(): holds with a narrative div; fails (exists() of nothing) without a text.
    text = node.get("text")
    if text is None:
        return False
    return True if isinstance(text, dict) and isinstance(text.get("div"), str) and text["div"] else None


SCREENS: dict[str, Screen] = {
    "contained.contained.empty()": _when_absent("contained"),
    "contained.where((('#'+id in (%resource.descendants().reference | %resource.descendants().as(canonical)"
    " | %resource.descendants().as(uri) | %resource.descendants().as(url))) or descendants().where("
    "reference = '#').exists() or descendants().where(as(canonical) = '#').exists() or descendants()."
    "where(as(canonical) = '#').exists()).not()).trace('unmatched', id).empty()": _when_absent("contained"),
    "contained.meta.versionId.empty() and contained.meta.lastUpdated.empty()": _when_absent("contained"),
    "contained.meta.security.empty()": _when_absent("contained"),
    "text.`div`.exists()": _dom_6,
    "dataAbsentReason.empty() or value.empty()": _when_absent("dataAbsentReason"),
    "value.empty() or component.code.where(coding.intersect(%resource.code.coding).exists()).empty()":
        _obs_7,
    "code.empty() or system.exists()": _absent_or_exists("code", "system"),
    "extension.exists() != value.exists()": _ext_1,
    "lastModified.exists().not() or authoredOn.exists().not() or lastModified >= authoredOn":
        _when_absent("lastModified"),
    "data.empty() or contentType.exists()": _absent_or_exists("data", "contentType"),
    "reference.startsWith('#').not() or (reference.substring(1).trace('url') in "
    "%rootResource.contained.id.trace('ids'))": _ref_1,
    "total.empty() or (type = 'searchset') or (type = 'history')": _when_absent("total"),
    "entry.search.empty() or (type = 'searchset')": _bdl_2,
    "entry.all(request.exists() = (%resource.type = 'batch' or %resource.type = 'transaction' or "
    "%resource.type = 'history'))": _entry_part_matches("request", ("batch", "transaction", "history")),
    "entry.all(response.exists() = (%resource.type = 'batch-response' or %resource.type = "
    "'transaction-response' or %resource.type = 'history'))":
        _entry_part_matches("response", ("batch-response", "transaction-response", "history")),
    "(type = 'history') or entry.where(fullUrl.exists()).select(fullUrl&resource.meta.versionId)"
    ".isDistinct()": _bdl_7,
    "type = 'document' implies (identifier.system.exists() and identifier.value.exists())":
        _type_is_not("document"),
    "type = 'document' implies entry.first().resource.is(Composition)": _type_is_not("document"),
    "type = 'message' implies entry.first().resource.is(MessageHeader)": _type_is_not("message"),
    "type = 'document' implies (timestamp.hasValue())": _type_is_not("document"),
    "resource.exists() or request.exists() or response.exists()": _bdl_5,
    "fullUrl.exists() implies fullUrl.contains('/_history/').not()": _bdl_8,
}
