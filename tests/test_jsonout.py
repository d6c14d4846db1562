"""allfhir.jsonout: orjson output is byte for byte the stdlib's compact JSON, on our bundles and on the
values orjson spells differently."""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any

import orjson
import pytest

from allfhir.convert import convert
from allfhir.fhir.bundle import BuildOptions
from allfhir.jsonout import detached, dumps, dumps_bytes, plain_floats, vouch

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


def test_plain_floats_are_the_floats_orjson_writes_as_the_stdlib() -> None:
    rng = random.Random(5)
    values = [rng.random() * 10 ** rng.randint(-12, 20) * rng.choice((1, -1)) for _ in range(20000)]
    values += [0.0, -0.0, 1e-4, -1e-4, 9.999999999999999e-05, 1e-05, 5e-324, 1.7976931348623157e308,
               float("nan"), float("inf"), -float("inf")]
    plain = [v for v in values if plain_floats([v])]
    assert [orjson.dumps(v) for v in plain] == [_stdlib(v) for v in plain]
    # the rule is conservative (5e-324 is written alike), but it refuses the ones that differ
    others = [v for v in values if not plain_floats([v])]
    assert sum(orjson.dumps(v) != _stdlib(v) for v in others) > len(others) / 2
    assert plain_floats([]) and plain_floats([None, 0.5, 1, 0.0]) and not plain_floats([0.5, 3e-05])


def _cohort(path: Path, cells: list[str]) -> Path:
    labels = ["Ph", "DUX4", "ETV6-RUNX1"]
    path.write_text("," + ",".join(labels) + ",Pred\n"
                    + "".join(f"S{i},{cell},0.5,0.25,Ph\n" for i, cell in enumerate(cells)),
                    encoding="utf-8")
    return path


def test_a_bundle_with_small_floats_is_scanned(tmp_path: Path) -> None:
    """The builder vouches for a Bundle only when no float of its sample is one orjson spells
    differently: written as it comes out of the pipeline, its text is the stdlib's either way."""
    cohort = _cohort(tmp_path / "probabilities.csv", ["0.9", "3e-05", "0", "1e-7", "0.0001"])
    bundles, written = [], []
    for item in convert([cohort]):
        assert isinstance(item, dict)
        bundles.append(item)
        written.append(dumps_bytes(item))
    assert written == [_stdlib(b) for b in bundles]
    assert b'"value":3e-05' in written[1] and b'"value":1e-07' in written[3]
    assert list(convert([cohort], as_json=True)) == written


def test_bundles_as_json_are_the_text_of_the_bundles() -> None:
    """convert(..., as_json=True), the CLI's path (no copy of the Bundle), writes the bytes the
    Bundle dicts are written as, in every option that changes the Bundle's shape."""
    cohort = REPO / "tests" / "data" / "classifiers" / "allsorts-comparisons.csv"
    for opts in (BuildOptions(), BuildOptions(bundle_type="transaction", actionability=False,
                                              effective="2026-11-25", patient="Patient/1")):
        texts = list(convert([cohort], opts=opts, as_json=True))
        assert len(texts) == 147
        assert texts == [_stdlib(b) for b in convert([cohort], opts=opts)]


def test_a_vouched_document_is_written_by_orjson_alone_once() -> None:
    """Vouching skips the scan (here wrongly, to show it) for the document's next writing only."""
    doc = {"a": "null", "b": [0.5, 3e-05]}
    assert dumps_bytes(vouch(doc)) == b'{"a":"null","b":[0.5,0.00003]}'
    assert dumps_bytes(doc) == _stdlib(doc) == b'{"a":"null","b":[0.5,3e-05]}'
    other = {"b": 3e-05}
    vouch(other)
    assert dumps_bytes(doc) == _stdlib(doc)  # not the one vouched for
    assert dumps_bytes(vouch({"a": 2**70})) == b'{"a":1180591620717411303424}'


def test_sorted_keys_are_the_stdlibs() -> None:
    # store/submissions.content_hash hashes this form: stored hashes must not change
    cohort = REPO / "tests" / "data" / "classifiers" / "allsorts-comparisons.csv"
    bundles = [b for b in convert([cohort]) if isinstance(b, dict)][:20]
    docs = [*bundles, {"é": 1, "z": {"b": 2, "a": [3e-05, {"y": 1, "x": None}]}, "A": "ü", "_": 1e16}]
    assert [dumps_bytes(d, sort_keys=True) for d in docs] == [
        json.dumps(d, ensure_ascii=False, separators=(",", ":"), sort_keys=True).encode("utf-8")
        for d in docs]


@pytest.mark.parametrize("doc", [{"a": [{"b": 0.5}], "c": "x"}, {"a": [{"b": 2**70}]},
                                 {"a": [{"b": float("nan")}]}])
def test_detached_copies_share_nothing_and_keep_every_value(doc: dict) -> None:
    plain = plain_floats([doc["a"][0]["b"]]) if isinstance(doc["a"][0]["b"], float) else True
    copy = detached(doc, plain)
    assert copy is not doc and copy["a"] is not doc["a"] and copy["a"][0] is not doc["a"][0]
    assert _stdlib(copy) == _stdlib(doc)  # NaN too: copied, not written as null and read back
