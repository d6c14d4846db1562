"""allfhir.fhir.common.stable_id gives exactly the uuid5 strings it always gave (ids are promises)."""

from __future__ import annotations

import random
import uuid

from allfhir import codes
from allfhir.fhir.common import stable_id

NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, codes.ALLFHIR)


def _reference(*parts: str) -> str:
    return str(uuid.uuid5(NAMESPACE, "\x1f".join(parts)))


def test_known_id() -> None:
    # The id of a real report of examples/allsorts (fixed before the hand-written form).
    assert stable_id("allsorts:SJBALL043684", "report") == _reference("allsorts:SJBALL043684", "report")


def test_many_names_give_uuid5_strings() -> None:
    rng = random.Random(5)
    alphabet = "abcXYZ019:-_/|.\x1f é∆\U0001d518\u2028\t"
    names = [tuple("".join(rng.choice(alphabet) for _ in range(rng.randrange(0, 40)))
                   for _ in range(rng.randrange(1, 5))) for _ in range(50000)]
    names += [(), ("",), ("", ""), ("allsorts:S1", "variant", "NM_016734.3:c.239C>G")]
    assert [stable_id(*n) for n in names] == [_reference(*n) for n in names]
