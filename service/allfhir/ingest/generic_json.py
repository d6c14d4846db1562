"""Generic JSON: our own documented schema for classifiers we have no adapter for.

A document is either one sample object or `{"samples": [...]}`. Field names and meanings are those
of allfhir.model (minus the internal `source` / `source_files` bookkeeping, which we fill in), so
`allfhir schema` publishes exactly what this adapter accepts. Each sample is validated on its own:
a bad sample is yielded as an InputError naming its JSON path (e.g.
`samples[0].calls[1].probability`) and line, and the other samples still convert.

Call labels are our subtype ids or display names (classifier_id "generic", the default), or, when
`classifier.classifier_id` names a classifier of mappings/classifier_labels.csv, that classifier's
labels as it writes them.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from functools import cache
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, create_model

from ..errors import InputError, Problem
from ..hgvs_syntax import hgvs_error
from ..model import (
    SCHEMA_VERSION,
    ClassifierRun,
    CopyNumberChange,
    Fusion,
    Ploidy,
    Sample,
    SequenceVariant,
    SourceRef,
    SubtypeCall,
)
from ._tabular import read_text
from .source import Source

NAME = "generic_json"
KIND = "classifier"
DESCRIPTION = "allfhir generic JSON (one sample object or {\"samples\": [...]}; see `allfhir schema`)"

GENERIC = "generic"
_INTERNAL = {"source", "source_files"}


class _Input(BaseModel):
    model_config = ConfigDict(extra="forbid")


def _public(model: type[BaseModel], name: str, **override: Any) -> type[BaseModel]:
    """`model` without its internal bookkeeping fields, under a schema-friendly name."""
    fields: dict[str, Any] = {
        key: (info.annotation, info) for key, info in model.model_fields.items() if key not in _INTERNAL
    }
    fields.update(override)
    return create_model(name, __base__=_Input, __doc__=model.__doc__, **fields)


@cache
def _models() -> tuple[type[BaseModel], type[BaseModel]]:
    """(Sample, Document) of the accepted JSON, built on first use: building these nine pydantic
    models is about half of importing the adapters, which every conversion does (sniffing asks
    each adapter) and which only a generic JSON input needs."""
    call = _public(SubtypeCall, "SubtypeCall")
    fusion = _public(Fusion, "Fusion")
    variant = _public(SequenceVariant, "SequenceVariant")
    copy_number = _public(CopyNumberChange, "CopyNumberChange")
    ploidy = _public(Ploidy, "Ploidy")
    classifier = _public(
        ClassifierRun, "Classifier",
        classifier_id=(str, Field(
            default=GENERIC,
            description="'generic' (labels are allfhir subtype ids or display names) or a "
                        "classifier key of mappings/classifier_labels.csv (labels as that "
                        "classifier writes them)")),
    )
    sample = _public(
        Sample, "Sample",
        sample_id=(str, Field(min_length=1, description="the sample's id; one report per sample")),
        classifier=(classifier | None, None),
        calls=(list[call], Field(default_factory=list)),  # type: ignore[valid-type]
        fusions=(list[fusion], Field(default_factory=list)),  # type: ignore[valid-type]
        variants=(list[variant], Field(default_factory=list)),  # type: ignore[valid-type]
        copy_numbers=(list[copy_number], Field(default_factory=list)),  # type: ignore[valid-type]
        ploidy=(ploidy | None, None),
    )

    class Document(_Input):
        """Several samples in one file."""

        schema_version: str = Field(default=SCHEMA_VERSION, description="version of this schema")
        samples: list[dict[str, Any]] = Field(description="one object per sample (see Sample)")

    return sample, Document


def json_schema() -> dict[str, Any]:
    """JSON Schema (2020-12) of the accepted documents: one Sample, or {"samples": [Sample...]}."""
    sample = _models()[0].model_json_schema(ref_template="#/$defs/{model}")
    defs = sample.pop("$defs", {})
    defs["Sample"] = sample
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "allfhir generic classifier result",
        "description": "One sample object, or an object with 'samples': a list of sample objects. "
                       f"Schema version {SCHEMA_VERSION}.",
        "type": "object",
        "anyOf": [
            {"$ref": "#/$defs/Sample"},
            {
                "type": "object",
                "properties": {
                    "schema_version": {"type": "string", "default": SCHEMA_VERSION},
                    "samples": {"type": "array", "items": {"$ref": "#/$defs/Sample"}},
                },
                "required": ["samples"],
                "additionalProperties": False,
            },
        ],
        "$defs": defs,
    }


def sniff(source: Source, head: str) -> bool:
    text = head.lstrip("\ufeff \t\r\n")
    return text.startswith("{") and ('"samples"' in head or '"sample_id"' in head) \
        and '"resourceType"' not in head


def read(source: Source) -> Iterator[Sample | InputError]:
    name = source.name
    text = read_text(source)
    try:
        # json.loads keeps the last of a repeated key silently; a report must not guess.
        data = json.loads(text, object_pairs_hook=_unique_keys)
    except json.JSONDecodeError as exc:
        raise InputError(Problem(f"not valid JSON: {exc.msg} (character {exc.colno} of the line)",
                                 file=name, row=exc.lineno, code="structure")) from None
    except RecursionError:  # the parser recurses: thousands of nested '[' exhaust the stack
        raise InputError(Problem("arrays and objects nested too deeply to be read", file=name,
                                 row=1, code="structure")) from None
    except _DuplicateKey:
        lines = _Lines(text)
        path = lines.first_duplicate()
        raise InputError(Problem(f"duplicate key '{path[-1]}' in one object: only one value can "
                                 "be meant", file=name, row=lines.line(path), column=_path(path),
                                 code="duplicate")) from None
    if not isinstance(data, dict):
        raise InputError(Problem("expected a JSON object (one sample, or {\"samples\": [...]})",
                                 file=name, row=1, code="structure"))
    if "samples" in data:
        try:
            document = _models()[1].model_validate(data)
        except ValidationError as exc:
            raise InputError(_problems(exc, name, text, ())) from None
        items = [(("samples", i), item) for i, item in enumerate(document.samples)]
    else:
        items = [((), data)]
    return _samples(items, name, text)


def _samples(items: list[tuple[tuple[str | int, ...], Any]], name: str, text: str,
             ) -> Iterator[Sample | InputError]:
    lines = _Lines(text)
    sample_model = _models()[0]
    seen: dict[str, str] = {}
    for prefix, item in items:
        try:
            parsed = sample_model.model_validate(item)
        except ValidationError as exc:
            yield InputError(_problems(exc, name, text, prefix, lines))
            continue
        sid_path = (*prefix, "sample_id")
        sid = parsed.sample_id
        if sid in seen:
            yield InputError(Problem(f"duplicate sample id '{sid}' (first at {seen[sid]})", file=name,
                                     row=lines.line(sid_path), column=_path(sid_path), code="duplicate"))
            continue
        seen[sid] = _path(sid_path)
        bad_hgvs = _hgvs_problems(parsed, prefix, name, lines)
        if bad_hgvs:
            yield InputError(bad_hgvs)
            continue
        yield _to_model(parsed, prefix, name, lines)


def _hgvs_problems(parsed: BaseModel, prefix: tuple[str | int, ...], name: str,
                   lines: _Lines) -> list[Problem]:
    out = []
    for i, variant in enumerate(parsed.variants):  # type: ignore[attr-defined]
        for field in ("hgvs_c", "hgvs_p", "hgvs_g"):
            expression = getattr(variant, field)
            error = hgvs_error(expression) if expression else None
            if error:
                path = (*prefix, "variants", i, field)
                out.append(Problem(f"invalid HGVS '{expression}': {error}", file=name,
                                   row=lines.line(path), column=_path(path), code="value"))
    return out


def _to_model(parsed: BaseModel, prefix: tuple[str | int, ...], name: str, lines: _Lines) -> Sample:
    def ref(*path: str | int) -> SourceRef:
        full = (*prefix, *path)
        return SourceRef(file=name, row=lines.line(full), column=_path(full) or None)

    data = parsed.model_dump(exclude_unset=False)
    classifier = data.pop("classifier")
    sample = Sample.model_validate({
        **data,
        "classifier": None if classifier is None else {**classifier, "source": ref("classifier")},
        "calls": [{**c, "source": ref("calls", i, "label")} for i, c in enumerate(data["calls"])],
        "fusions": [{**f, "source": ref("fusions", i)} for i, f in enumerate(data["fusions"])],
        "variants": [{**v, "source": ref("variants", i)} for i, v in enumerate(data["variants"])],
        "copy_numbers": [{**c, "source": ref("copy_numbers", i)} for i, c in enumerate(data["copy_numbers"])],
        "ploidy": None if data["ploidy"] is None else {**data["ploidy"], "source": ref("ploidy")},
        "source_files": [name],
        "source": ref(),
    })
    return sample


def _problems(exc: ValidationError, name: str, text: str, prefix: tuple[str | int, ...],
              lines: _Lines | None = None) -> list[Problem]:
    lines = lines or _Lines(text)
    out = []
    for err in exc.errors(include_url=False):
        loc = tuple(err["loc"])
        # `Model | None` unions add no loc parts in pydantic v2 for models; keep the path as given.
        path = (*prefix, *loc)
        out.append(Problem(_message(err), file=name, row=lines.line(path), column=_path(path) or None,
                           code="required" if err["type"] == "missing" else "value"))
    return out


def _message(err: Any) -> str:
    kind, value = err["type"], err.get("input")
    field = err["loc"][-1] if err["loc"] else None
    if field == "probability" or field == "allele_frequency":
        if kind in ("greater_than_equal", "less_than_equal"):
            return f"probability {value} is outside [0, 1]" if field == "probability" \
                else f"allele frequency {value} is outside [0, 1]"
    if kind in ("float_parsing", "float_type"):
        return f"'{value}' is not a number"
    if kind == "missing":
        return "required field is missing"
    if kind == "extra_forbidden":
        return f"unknown field '{field}' (see `allfhir schema`)"
    return str(err["msg"])


def _path(path: tuple[str | int, ...]) -> str:
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


class _DuplicateKey(ValueError):
    pass


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out = dict(pairs)
    if len(out) != len(pairs):
        raise _DuplicateKey
    return out


class _Lines:
    """Line number of the value at a JSON path, found by re-scanning the (already valid) text.

    Only computed when needed (sources and errors), since the json module keeps no positions.
    """

    def __init__(self, text: str) -> None:
        self.text = text
        self._positions: dict[tuple[str | int, ...], int] | None = None
        self._duplicates: list[tuple[str | int, ...]] = []

    def _scanned(self) -> dict[tuple[str | int, ...], int]:
        if self._positions is None:
            self._positions = {}
            try:
                _scan(self.text, _skip(self.text, 0), (), self._positions, self._duplicates)
            except (ValueError, IndexError):
                pass  # positions are a courtesy; a scan failure must not hide the real problem
        return self._positions

    def first_duplicate(self) -> tuple[str | int, ...]:
        """The path of the first key repeated within one object (its second occurrence)."""
        self._scanned()
        return self._duplicates[0]

    def line(self, path: tuple[str | int, ...]) -> int | None:
        self._positions = self._scanned()
        # The nearest existing ancestor (a missing field is reported at its parent object).
        while path not in self._positions and path:
            path = path[:-1]
        pos = self._positions.get(path)
        return None if pos is None else self.text.count("\n", 0, pos) + 1


_DECODER = json.JSONDecoder()


def _skip(text: str, i: int) -> int:
    while i < len(text) and text[i] in " \t\r\n\ufeff":
        i += 1
    return i


def _scan(text: str, i: int, path: tuple[str | int, ...], out: dict[tuple[str | int, ...], int],
          duplicates: list[tuple[str | int, ...]]) -> int:
    """Record the start of every value under `path` (and the paths of repeated keys); return the
    index after the value at `i`."""
    out[path] = i
    if text[i] == "{":
        i = _skip(text, i + 1)
        if text[i] == "}":
            return i + 1
        keys: set[str] = set()
        while True:
            key, i = json.decoder.scanstring(text, i + 1)  # type: ignore[attr-defined]
            if key in keys:
                duplicates.append((*path, key))
            keys.add(key)
            i = _skip(text, _skip(text, i) + 1)  # past the ':'
            i = _skip(text, _scan(text, i, (*path, key), out, duplicates))
            if text[i] == "}":
                return i + 1
            i = _skip(text, i + 1)  # past the ','
    if text[i] == "[":
        i = _skip(text, i + 1)
        if text[i] == "]":
            return i + 1
        index = 0
        while True:
            i = _skip(text, _scan(text, i, (*path, index), out, duplicates))
            index += 1
            if text[i] == "]":
                return i + 1
            i = _skip(text, i + 1)
    _, end = _DECODER.raw_decode(text, i)
    return end
