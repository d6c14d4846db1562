"""A cohort's report texts from one template per shape of report.

The reports of a cohort differ mostly in a few values: the sample id (and the ids, identifiers and
titles made of it) and the classifier's numbers (every label's score, the call's probability). Two
samples that agree in everything else (the classifier, the labels called and how, the score
columns, comments, the options) get reports that are the same text around those values: one
shape. At a shape's second sample `Templates` builds its report through the Bundle builder with
each such value replaced by a marker, keeps the text between the markers, and writes every later
report of that shape by putting the sample's values in: byte for byte what `bundle.build_json` writes, at a
fraction of its cost (the builder, resolution, integration and actionability are what a template
leaves out; they depend only on what the shape holds).

What makes that true, and what keeps it true:
- The builders copy and format the values that become slots (`format(v, spec)`, orjson's text of
  a float, the sample id inside strings); they never branch on them or compute with them. A
  template is built twice, every slot's value 0 and then 1, and the two must be the same text: a
  value the builder computed with, or a cut-off within [0, 1) it compared one with, shows as a
  difference. The template must then give the sample's own report. A template that fails either
  check is never used (its shape takes the builder). tests/test_templates.py compares both paths
  on random values, and changes the builder to compute and branch to see the template refused.
- Only values whose every spelling is the same in JSON, in HTML and as plain text take a slot: a
  sample id of letters, digits and `._-` and floats that orjson writes as the stdlib does
  (`jsonout.plain_floats`). Any other sample, and every sample with findings (fusions, variants,
  copy numbers: each report its own shape), takes the builder.
- The report's presentedForm is the base64 of its narrative: the narrative is a template of its
  own, written and encoded per report.
Bounded: at most MAX_SHAPES templates per conversion, and the shapes seen once are forgotten when
there are many; one `Templates` serves one conversion (one knowledge base, one set of options).
"""

from __future__ import annotations

import base64
import itertools
import re
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from typing import Any

import orjson
from pydantic import BaseModel

from ..jsonout import plain_floats
from ..knowledge import Knowledge
from ..model import Sample, SubtypeCall
from . import bundle
from .bundle import BuildOptions
from .common import IdLog, Json, id_prefix, name_uuid

MAX_SHAPES = 512
_MAX_SEEN = 4096

# Markers: characters of Unicode's private use area, which no JSON, HTML or base64 writer escapes
# or changes. A marker reads OPEN + what it stands for + CLOSE.
_OPEN, _CLOSE = "\ue001", "\ue002"
_SAMPLE = f"{_OPEN}s{_CLOSE}"
_MARKER = re.compile(f"{_OPEN}([^{_CLOSE}]*){_CLOSE}")
_SAFE_ID = re.compile(r"[A-Za-z0-9._-]+")

# A sample's slot values (`_values`)
_Values = list[float]
WorkedOut = Callable[[Sample, Knowledge, BuildOptions], tuple[Any, ...]]

# what a slot of a template is filled with
_SID, _ID, _JSON, _FORMAT, _PAGE = range(5)


class _NoTemplate(Exception):
    """The builder's text of a stand-in cannot be a template (a marker cut or changed)."""


class _Slot(float):
    """A value of the sample standing in a template build for its place in the text: its marker
    is what orjson (through `_marker_json`) and `format` write of it."""

    __slots__ = ("index",)
    index: int

    def __new__(cls, value: float, index: int) -> _Slot:
        slot = super().__new__(cls, value)
        slot.index = index
        return slot

    def __format__(self, spec: str) -> str:
        return f"{_OPEN}f{self.index}:{spec}{_CLOSE}"

    def __repr__(self) -> str:
        return f"{_OPEN}f{self.index}:r{_CLOSE}"

    __str__ = __repr__


def _marker_json(obj: object) -> orjson.Fragment:
    if isinstance(obj, _Slot):
        return orjson.Fragment(f"{_OPEN}j{obj.index}{_CLOSE}".encode())
    raise TypeError(f"{type(obj).__name__} is not JSON")


def _values(sample: Sample) -> _Values:
    """The sample's slot values, in slot order: every score, then each call's probability and
    threshold where it has one."""
    out = list(sample.scores.values())
    for call in sample.calls:
        if call.probability is not None:
            out.append(call.probability)
        if call.threshold is not None:
            out.append(call.threshold)
    return out


_ATOMS = (str, int, float, type(None))  # bool is an int


def _frozen(value: object) -> Hashable:
    if isinstance(value, _ATOMS):
        return value
    if isinstance(value, BaseModel):
        return (type(value), *map(_frozen, value.__dict__.values()))
    if isinstance(value, list | tuple):
        return tuple(map(_frozen, value))
    if isinstance(value, dict):
        return tuple((k, _frozen(v)) for k, v in value.items())
    return value  # type: ignore[return-value]


# Sample fields that are slots (or, as the rows a value came from, never in a report); the rest
# are the shape. Findings are never a shape: a sample with any takes the builder.
_SAMPLE_SLOTS = frozenset({"sample_id", "scores", "calls", "source"})
_CALL_SLOTS = frozenset({"probability", "threshold", "source"})
_FINDINGS = ("fusions", "variants", "copy_numbers", "ploidy")
_SHAPE_FIELDS = tuple(name for name in Sample.model_fields
                      if name not in _SAMPLE_SLOTS and name not in _FINDINGS)
_CALL_FIELDS = tuple(name for name in SubtypeCall.model_fields if name not in _CALL_SLOTS)


def shape(sample: Sample) -> Hashable | None:
    """What a report of `sample` is made of besides its slot values; None: no template for it."""
    fields = sample.__dict__
    if any(fields[name] for name in _FINDINGS):
        return None
    calls = tuple((*map(_frozen, map(call.__dict__.__getitem__, _CALL_FIELDS)),
                   call.probability is None, call.threshold is None) for call in sample.calls)
    return (tuple(sample.scores), calls, *map(_frozen, map(fields.__getitem__, _SHAPE_FIELDS)))


def _fits(sample: Sample, values: _Values) -> bool:
    """Whether each value is spelled the same in every place a template puts it."""
    sid = sample.sample_id
    return (sid is not None and _SAFE_ID.fullmatch(sid) is not None
            and plain_floats(values))


@dataclass(frozen=True, slots=True)
class _Text:
    """Text with slots, as the order in which to join its pieces: `order` indexes the literal
    pieces followed by what a render puts in the slots (the sample id, the ids, each value's JSON,
    each (value, format spec) asked for, the page), so that a render is one join."""

    literals: tuple[bytes, ...]
    formats: tuple[tuple[int, str], ...]  # (value index, format spec) of each formatted slot
    order: tuple[int, ...]

    @classmethod
    def parse(cls, text: str, ids: dict[str, int], values: int) -> _Text:
        for uid, index in ids.items():
            text = text.replace(uid, f"{_OPEN}i{index}{_CLOSE}")
        literals: list[bytes] = []
        formats: dict[tuple[int, str], int] = {}
        order: list[int | tuple[int, int]] = []  # a literal's index, or a slot's (kind, which)
        at = 0
        for m in _MARKER.finditer(text):
            order.append(len(literals))
            literals.append(text[at:m.start()].encode())
            kind, what = _slot(m.group(1))
            order.append((kind, formats.setdefault(what, len(formats)) if kind == _FORMAT else what))
            at = m.end()
        order.append(len(literals))
        literals.append(text[at:].encode())
        if any(_OPEN.encode() in p or _CLOSE.encode() in p for p in literals):
            raise _NoTemplate("a marker the builder cut or changed")
        if (any(not isinstance(o, int) and o[0] == _JSON and o[1] >= values for o in order)
                or any(i >= values for i, _ in formats)):
            raise _NoTemplate("a slot of no value")
        # where each kind's fills start in `render`'s list, after the literals
        start = dict(zip((_SID, _ID, _JSON, _FORMAT, _PAGE), itertools.accumulate(
            (1, len(ids), values, len(formats)), initial=len(literals)), strict=True))
        numbered = tuple(o if isinstance(o, int) else start[o[0]] + o[1] for o in order)
        return cls(tuple(literals), tuple(formats), numbered)

    def render(self, sid: bytes, ids: list[bytes], values: _Values, page: bytes = b"") -> bytes:
        fills = [*self.literals, sid, *ids, *map(orjson.dumps, values),
                 *[format(values[i], spec).encode() for i, spec in self.formats], page]
        return b"".join(map(fills.__getitem__, self.order))


def _slot(marker: str) -> tuple[int, Any]:
    kind, what = marker[0], marker[1:]
    if kind == "s":
        return _SID, 0
    if kind == "i":
        return _ID, int(what)
    if kind == "j":
        return _JSON, int(what)
    if kind == "f":
        index, spec = what.split(":", 1)
        return _FORMAT, (int(index), "" if spec == "r" else spec)  # a float's repr is its format
    if kind == "b":
        return _PAGE, 0
    raise _NoTemplate(marker)


@dataclass(frozen=True, slots=True)
class Template:
    """One shape's report text; `render` writes a sample's."""

    key: tuple[bytes, bytes]  # the report key around the sample id
    names: tuple[bytes, ...]  # the names of the report's ids, in slot order
    text: _Text
    page: _Text | None  # the narrative that presentedForm carries in base64

    def render(self, sample_id: str, values: _Values) -> bytes:
        sid = sample_id.encode()
        prefix = id_prefix(self.key[0] + sid + self.key[1])
        ids = [name_uuid(prefix, name).encode() for name in self.names]
        page = b""
        if self.page is not None:
            page = base64.b64encode(self.page.render(sid, ids, values))
        return self.text.render(sid, ids, values, page)


class Templates:
    """Report texts of one conversion: from a template when the sample's shape has one, else from
    the builder (`make` resolves, integrates and assesses a sample for it)."""

    def __init__(self, make: WorkedOut) -> None:
        self._make = make
        self._templates: dict[Hashable, Template | None] = {}
        self._seen: set[Hashable] = set()
        self.rendered = 0  # reports written from a template

    @property
    def shapes(self) -> int:
        """How many shapes have a template."""
        return sum(t is not None for t in self._templates.values())

    def text(self, sample: Sample, kb: Knowledge, opts: BuildOptions) -> bytes:
        key = shape(sample)
        values = _values(sample)
        if key is None or not _fits(sample, values):
            return bundle.build_json(*self._make(sample, kb, opts))
        template = self._templates.get(key)
        if template is not None:
            self.rendered += 1
            return template.render(sample.sample_id, values)  # type: ignore[arg-type]
        text = bundle.build_json(*self._make(sample, kb, opts))
        if key in self._templates or len(self._templates) >= MAX_SHAPES:
            return text  # a shape without a template, or no room for another
        if key not in self._seen:  # a shape seen once may stay alone: not worth a template yet
            if len(self._seen) >= _MAX_SEEN:
                self._seen.clear()
            self._seen.add(key)
            return text
        self._seen.discard(key)
        made = self._template(sample, kb, opts)
        # The template must give this sample's own report, or the shape keeps the builder.
        self._templates[key] = (made if made is not None
                                and made.render(sample.sample_id, values) == text else None)  # type: ignore[arg-type]
        return text

    def _template(self, sample: Sample, kb: Knowledge, opts: BuildOptions) -> Template | None:
        """The shape's template, built twice: with every slot's value 0 and with every one 1, so
        that a builder branching on a value (any cut-off within [0, 1)) or computing with one
        gives two templates that differ; None then."""
        try:
            low, high = (self._built(sample, kb, opts, value) for value in (0.0, 1.0))
        except Exception:  # whatever stops a stand-in's build (a value divided by): the builder's
            return None
        return low if low == high else None

    def _built(self, sample: Sample, kb: Knowledge, opts: BuildOptions, value: float) -> Template:
        log = IdLog()
        out = bundle.build_traced(*self._make(_stand_in(sample, value), kb, opts), log)
        ids = {uid: i for i, uid in enumerate(log.names)}
        values = len(_values(sample))
        page = _page(out, ids, values)
        text = _Text.parse(orjson.dumps(out, default=_marker_json).decode(), ids, values)
        if log.key.count(_SAMPLE) != 1:
            raise _NoTemplate(f"the report key {log.key!r} does not hold the sample id once")
        head, tail = log.key.split(_SAMPLE)
        return Template((head.encode(), tail.encode()), tuple(n.encode() for n in log.names.values()),
                        text, page)


def _stand_in(sample: Sample, value: float) -> Sample:
    """`sample` with a marker for its id and a slot of `value` for each of its slot values."""
    index = iter(range(1 << 30))
    scores = {label: _Slot(value, next(index)) for label in sample.scores}
    calls = []
    for call in sample.calls:
        update: dict[str, object] = {}
        if call.probability is not None:
            update["probability"] = _Slot(value, next(index))
        if call.threshold is not None:
            update["threshold"] = _Slot(value, next(index))
        calls.append(call.model_copy(update=update))
    return sample.model_copy(update={"sample_id": _SAMPLE, "scores": scores, "calls": calls})


def _page(out: Json, ids: dict[str, int], values: int) -> _Text | None:
    """The report's narrative as a template when its presentedForm is that narrative in base64
    (report.build writes it so), its data replaced by the page's marker; None: no such form."""
    report = out["entry"][0]["resource"]
    div = report.get("text", {}).get("div")
    for form in report.get("presentedForm", ()):
        if div is not None and form.get("data") == base64.b64encode(div.encode()).decode():
            form["data"] = f"{_OPEN}b{_CLOSE}"
            return _Text.parse(div, ids, values)
    return None
