"""Which resources the fhir.resources parse (structural.py) certainly accepts, told from the JSON.

The parse builds a pydantic model for every element (most of a bundle's structural-check time) only
to find, for the resources allfhir emits, nothing. This screen walks the JSON against the same
models' field declarations and says True only where each value is of a plain form the parse
accepts: a known key (by its JSON name), a non-empty list or a single value as declared, a
non-empty object of the declared model, the resource type its model expects, the required and
one-of-many (choice) fields the model-level validators check, and primitives in a conservative
subset of what their fhir_core types accept (see _PRIMITIVES). Anything else (a null, a '_name'
extension sibling, an unusual string, a type not in _PRIMITIVES) makes it say False, and the parse
runs as before, so every structural issue is the parse's own (tests/test_validation_structure_screen.py
parses every input the screen passes).
"""

from __future__ import annotations

import datetime
import importlib
import math
import re
import typing
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache, lru_cache
from types import NoneType, UnionType
from typing import Any

Json = dict[str, Any]
Check = Callable[[Any], bool]

# ASCII printable without space: surely \S for the parse's regular expressions (which are Unicode).
_STRING = re.compile(r"[!-~]")  # String: '[ \r\n\t\S]+' searched, so one such character suffices
_CODE = re.compile(r"[!-~]+( [!-~]+)*")  # inside Code's '^[^\s]+(\s[^\s]+)*$'
_URI = re.compile(r"[!-~]+")  # inside Uri's '\S*' (searched: any string)
_ID = re.compile(r"[A-Za-z0-9\-.]{1,64}")  # inside Id's default pattern and lengths
_BASE64 = re.compile(r"(?:[A-Za-z0-9+/]{4})+(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?|"
                     r"[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=")  # standard, padded: decodes as it is
_FRACTION = re.compile(r"\.([0-9]{1,6})(?=Z|[+\-]|$)")


def _string(v: Any) -> bool:
    return type(v) is str and _STRING.search(v) is not None


def _fullmatch(pattern: re.Pattern[str]) -> Check:
    return lambda v: type(v) is str and pattern.fullmatch(v) is not None


def _valid_day(text: str) -> bool:
    try:
        datetime.date(int(text[0:4]), int(text[5:7]), int(text[8:10]))
    except ValueError:
        return False
    return True


def _date_time(pattern: re.Pattern[str], partial_ok: bool) -> Check:
    """Dates and times: the type's own pattern, a real day, no leap second, at most microseconds
    (what the date-time parser behind it takes without a question); a partial date is kept as
    text by the type when `partial_ok`."""
    def check(v: Any) -> bool:
        if type(v) is not str or pattern.fullmatch(v) is None:
            return False
        if len(v) < 10:
            return partial_ok  # YYYY or YYYY-MM: the pattern is all the type checks
        if not _valid_day(v):
            return False
        if len(v) == 10:
            return True
        if v[17:19] == "60":
            return False  # a leap second: kept as text by a path of its own
        rest = v[19:]
        return rest[:1] != "." or _FRACTION.match(rest) is not None
    return check


def _decimal(pattern: re.Pattern[str]) -> Check:
    def check(v: Any) -> bool:
        if type(v) is int:
            return abs(v) < 10 ** 15
        return type(v) is float and math.isfinite(v) and pattern.fullmatch(str(v)) is not None
    return check


def _integer(low: int, high: int) -> Check:
    return lambda v: type(v) is int and low <= v <= high


def _primitive(base: Any, meta: Any) -> Check | None:
    """The check for a primitive field (the annotated Python type and its fhir_core metadata), or
    None for a type outside the subset this screen judges."""
    from fhir_core import constraints
    from fhir_core import types as ft

    kind = type(meta)
    if kind in (ft.String, ft.Markdown) and base is str:
        return _string
    if kind is ft.Code and base is str:
        return _fullmatch(_CODE)
    if kind in (ft.Uri, ft.Canonical) and base is str:
        return _fullmatch(_URI)
    if kind is ft.Xhtml and base is str:
        return _string  # Xhtml has no schema of its own: any string (the narrative is not parsed)
    if kind is ft.Id and base is str:
        default = constraints.TYPES_ID_PATTERN == r"^[A-Za-z0-9\-.]+$"
        if default and (constraints.TYPES_ID_MAX_LENGTH or 64) >= 64:
            return _fullmatch(_ID)
        return None
    if kind is ft.Instant:
        return _date_time(ft.Instant.pattern, partial_ok=False)
    if kind is ft.DateTime:
        return _date_time(ft.DateTime.pattern, partial_ok=True)
    if kind is ft.Date:
        return _date_time(ft.Date.pattern, partial_ok=True)
    if kind is ft.Decimal:
        return _decimal(ft.Decimal.pattern)
    if kind in (ft.Integer, ft.UnsignedInt, ft.PositiveInt) and base is int:
        return _integer(meta.min_length, meta.max_length)
    return None


def _base64(base: Any, meta: list[Any]) -> Check | None:
    # base64Binary: bytes decoded by pydantic's Base64Encoder (EncodedBytes), then Base64Binary.
    from fhir_core import types as ft
    from pydantic.types import Base64Encoder, EncodedBytes

    if base is bytes and len(meta) == 2 and isinstance(meta[0], EncodedBytes) \
            and meta[0].encoder is Base64Encoder and type(meta[1]) is ft.Base64Binary:
        return _fullmatch(_BASE64)
    return None


@dataclass(frozen=True, slots=True)
class _Field:
    listed: bool
    check: Check | None  # a primitive's; None for a complex value
    model: Any  # the model class of a complex value; None for a resource (by its resourceType)


@dataclass(frozen=True, slots=True)
class _Model:
    resource_type: str | None  # for a resource model: the resourceType it expects
    fields: dict[str, _Field | None]  # JSON name -> how to judge it; None: never judged plain
    required: tuple[str, ...]  # JSON names that must be there
    choices: tuple[tuple[tuple[str, ...], bool], ...]  # one-of-many groups, and whether required


def _optional(annotation: Any) -> Any:
    """X for Optional[X] (None for a union of more), else the annotation."""
    if typing.get_origin(annotation) in (typing.Union, UnionType):
        rest = [a for a in typing.get_args(annotation) if a is not NoneType]
        return rest[0] if len(rest) == 1 else None
    return annotation


def _unwrap(annotation: Any) -> tuple[Any, bool]:
    """(the annotation inside Optional[...]/List[Optional[...]], whether it is a list); a null in
    a list is never plain (the checks take no None)."""
    annotation = _optional(annotation)
    if typing.get_origin(annotation) is list:
        return _optional(typing.get_args(annotation)[0]), True
    return annotation, False


def _field(annotation: Any) -> _Field | None:
    from fhir_core import types as ft

    inner, listed = _unwrap(annotation)
    if inner is None:
        return None
    if typing.get_origin(inner) is typing.Annotated:
        base, *meta = typing.get_args(inner)
        check = _primitive(base, meta[0]) if len(meta) == 1 else _base64(base, meta)
        return _Field(listed, check, None) if check is not None else None
    if inner is bool:
        return _Field(listed, lambda v: type(v) is bool, None)
    if isinstance(inner, type) and issubclass(inner, ft.FhirBase):
        model = inner.get_model_klass()
        if issubclass(inner, ft.FhirElementOrResourceBase):
            # Resource: any resource model, chosen by resourceType; Element and the like: not judged.
            return _Field(listed, None, None) if model.__name__ == "Resource" else None
        return _Field(listed, None, model)
    return None


@cache
def _plan(model: Any) -> _Model:
    # Strict mode (a global override of the models' config) refuses e.g. an int for a decimal.
    judged = not model.model_config.get("strict")
    fields: dict[str, _Field | None] = {}
    required: list[str] = []
    groups: dict[str, tuple[list[str], bool]] = {}
    for name, info in model.model_fields.items():
        key = info.alias or name
        extra = info.json_schema_extra if isinstance(info.json_schema_extra, dict) else {}
        plain = judged and not name.endswith("__ext") and name != "fhir_comments"
        fields[key] = _field(info.annotation) if plain else None
        if info.is_required() or extra.get("element_required"):
            required.append(key)
        if extra.get("one_of_many"):
            # Required or not as its first member says (as fhir_core's check reads it).
            first_says = extra.get("one_of_many_required") is True
            groups.setdefault(str(extra["one_of_many"]), ([], first_says))[0].append(key)
    resource_type = model.__resource_type__ if model.has_resource_base() else None
    return _Model(resource_type, fields, tuple(required),
                  tuple((tuple(m), needed) for m, needed in groups.values()))


@lru_cache(maxsize=512)  # bounded: resourceType comes from the input
def resource_model(resource_type: str) -> Any:
    """The fhir.resources R4B model of a resource type, or None."""
    from fhir_core.fhirabstractmodel import FHIRAbstractModel

    try:
        module = importlib.import_module(f"fhir.resources.R4B.{resource_type.lower()}")
    except ModuleNotFoundError:
        return None
    found = getattr(module, resource_type, None)
    # Not a model class, e.g. the module's own '__init__' for a resourceType of that name.
    return found if isinstance(found, type) and issubclass(found, FHIRAbstractModel) else None


def certainly_valid(value: Any, model: Any) -> bool:
    """True only when parsing `value` with `model` raises nothing (see the module docstring)."""
    if type(value) is not dict or not value:
        return False
    plan = _plan(model)
    for key in plan.required:
        if key not in value:
            return False
    for members, needed in plan.choices:
        present = sum(1 for m in members if m in value)
        if present > 1 or (needed and present == 0):
            return False
    fields = plan.fields
    for key, item in value.items():
        if key == "resourceType":
            if plan.resource_type is None or item != plan.resource_type:
                return False
            continue
        spec = fields.get(key)
        if spec is None:
            return False
        if spec.listed:
            if type(item) is not list or not item:
                return False
            if not all(_plain(v, spec) for v in item):
                return False
        elif not _plain(item, spec):
            return False
    return True


def _plain(v: Any, spec: _Field) -> bool:
    if spec.check is not None:
        return spec.check(v)
    if spec.model is not None:
        return certainly_valid(v, spec.model)
    rtype = v.get("resourceType") if type(v) is dict else None
    model = resource_model(rtype) if isinstance(rtype, str) else None
    return model is not None and certainly_valid(v, model)
