"""Values worked out once and shared: what a sentence or a piece of FHIR JSON says for a subtype,
a rule or a label is the same for every sample that has them."""

from __future__ import annotations

from collections.abc import Hashable
from typing import TypeVar

V = TypeVar("V")


class Worked(dict[Hashable, V]):
    """Values (sentences, parts of FHIR JSON) worked out once from knowledge objects and plain
    values, and then shared by every report that has them (a cohort's reports differ mostly in
    ids and numbers).

    Keyed by plain values and by the identities of the knowledge objects read (frozen dataclasses:
    what one says never changes; hashing one by value would cost more than the work saved). The
    objects are kept beside the value, so an id is never reused for another object while its entry
    lives; bounded (cleared when full), so memory stays flat whatever the input. Look-ups are the
    dict's own `get`. The shared values are never changed: a Bundle is handed out as a copy that
    shares none of them (`fhir/bundle.build`, through `jsonout.detached`) or as its JSON text
    (`fhir/bundle.build_json`)."""

    __slots__ = ("_kept", "_size")

    def __init__(self, size: int = 4096) -> None:
        super().__init__()
        self._kept: list[object] = []
        self._size = size

    def put(self, key: Hashable, keep: object, value: V) -> V:
        """Store `value` (`keep`: the objects whose ids are in `key`); returns it."""
        if len(self) >= self._size:
            self.clear()
            self._kept.clear()
        self[key] = value
        if keep is not None:
            self._kept.append(keep)
        return value
