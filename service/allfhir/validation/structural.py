"""Structural check: parse with the fhir.resources R4B models (R4B equals R4 for the resource and data
types allfhir emits), and turn pydantic errors into FHIRPath-style locations. A resource the JSON
alone shows to be plainly well-formed is not parsed (structure_screen.py)."""

from __future__ import annotations

from typing import Any

from .issues import Issue
from .structure_screen import certainly_valid
from .structure_screen import resource_model as _model


def _expression(root: str, loc: tuple[Any, ...]) -> str:
    out = root
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        elif part in ("__root__",):
            continue
        else:
            out += f".{part}"
    return out


def check_structure(resource: dict[str, Any], loc: str) -> list[Issue]:
    from pydantic import ValidationError

    rtype = resource.get("resourceType")
    if not isinstance(rtype, str):
        return [Issue("resourceType is missing", loc, code="structure", check="structure")]
    model = _model(rtype)
    if model is None:
        return [Issue(f"unknown resourceType '{rtype}'", loc, code="structure", check="structure")]
    if certainly_valid(resource, model):
        return []  # what the parse would find: nothing (structure_screen.py)
    try:
        model.model_validate(resource)
    except RecursionError:
        raise  # nested too deeply for the parse: one issue for the document (Validator.validate)
    except ValidationError as exc:
        return [Issue(f"{err['msg']}", _expression(loc, tuple(err["loc"])), code="structure",
                      check="structure") for err in exc.errors()]
    except Exception as exc:  # fhir.resources raises non-pydantic errors for some malformed input
        return [Issue(f"{type(exc).__name__}: {exc}", loc, code="structure", check="structure")]
    return []
