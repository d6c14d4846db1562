"""allfhir.jsonout: orjson output is byte for byte the stdlib's compact JSON, on our bundles and on the
values orjson spells differently."""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any

import pytest

from allfhir.convert import convert
from allfhir.jsonout import dumps, dumps_bytes

REPO = Path(__file__).resolve().parents[1]


def _stdlib(obj: Any) -> bytes:
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def test_bundles_are_byte_identical() -> None:
    cohort = REPO / "tests" / "data" / "classifiers" / "allsorts-comparisons.csv"
    bundles = [b for b in convert([cohort]) if isinstance(b, dict)]
    assert len(bundles) == 147
    assert [dumps_bytes(b) for b in bundles] == [_stdlib(b) for b in bundles]


@pytest.mark.parametrize("value", [
    1e-05, 3e-05, 9.9e-05, 1.234e-07, 1e-10, 5e-324, -2.5e-06, 0.0001, 0.1, 1e16, 1.2e22, -0.0,
    float("nan"), float("inf"), -float("inf"), 2**64, 2**70, -(2**63) - 1,
    "é\u2028\x7f\x00\x1f\b\f\n\r\t\"\\/", "null", "x:1e-5,", None, True, [], {},
])
def test_values_orjson_spells_differently(value: Any) -> None:
    doc = {"a": [value, {"b": value}], "c": value}
    assert dumps_bytes(doc) == _stdlib(doc)
    assert dumps(doc) == _stdlib(doc).decode("utf-8")


def test_random_floats() -> None:
    rng = random.Random(11)
    values = [rng.random() * 10 ** rng.randint(-30, 30) * rng.choice((1, -1)) for _ in range(20000)]
    docs = [{"v": v, "w": [v]} for v in values]
    assert [dumps_bytes(d) for d in docs] == [_stdlib(d) for d in docs]


def test_sorted_keys_are_the_stdlibs() -> None:
    # store/submissions.content_hash hashes this form: stored hashes must not change
    cohort = REPO / "tests" / "data" / "classifiers" / "allsorts-comparisons.csv"
    bundles = [b for b in convert([cohort]) if isinstance(b, dict)][:20]
    docs = [*bundles, {"é": 1, "z": {"b": 2, "a": [3e-05, {"y": 1, "x": None}]}, "A": "ü", "_": 1e16}]
    assert [dumps_bytes(d, sort_keys=True) for d in docs] == [
        json.dumps(d, ensure_ascii=False, separators=(",", ":"), sort_keys=True).encode("utf-8")
        for d in docs]
