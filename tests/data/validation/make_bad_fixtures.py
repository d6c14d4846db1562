"""Regenerate the negative validation fixtures: each is a good allfhir bundle with one deliberate defect.

Run from the repo root: python tests/data/validation/make_bad_fixtures.py
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from allfhir.convert import convert

HERE = Path(__file__).parent
REPO = HERE.parents[2]
Json = dict[str, Any]


def good_fusion_bundle() -> Json:
    ex = REPO / "examples" / "allsorts"
    [first, *_] = [b for b in convert([ex / "probabilities.csv", ex / "SJBALL043684.arriba.fusions.tsv"])
                   if isinstance(b, dict)]
    return first


def good_variant_bundle(tmp: Path) -> Json:
    path = tmp / "pax5.json"
    path.write_text(json.dumps({"sample_id": "V1", "calls": [{"label": "pax5-p80r", "probability": 0.9}],
                                "variants": [{"gene": "PAX5", "hgvs_c": "NM_016734.3:c.239C>G",
                                              "hgvs_p": "NP_057953.1:p.Pro80Arg"}]}))
    [bundle] = [b for b in convert([path]) if isinstance(b, dict)]
    return bundle


def entry(bundle: Json, profile_tail: str) -> Json:
    for e in bundle["entry"]:
        if any(p.endswith(profile_tail) for p in e["resource"].get("meta", {}).get("profile", [])):
            return e["resource"]
    raise KeyError(profile_tail)


def missing_component_value(b: Json) -> None:
    del entry(b, "/variant")["component"][0]["valueCodeableConcept"]


def wrong_fixed_code(b: Json) -> None:
    entry(b, "/variant")["code"]["coding"][0]["code"] = "81247-9"


def wrong_cardinality(b: Json) -> None:
    obs = entry(b, "/diagnostic-implication")
    conclusion = next(c for c in obs["component"] if c["code"]["coding"][0]["code"] == "conclusion-string")
    obs["component"].append(copy.deepcopy(conclusion))


def dangling_reference(b: Json) -> None:
    entry(b, "/genomic-report")["result"][0]["reference"] = "urn:uuid:00000000-0000-0000-0000-000000000000"


def code_outside_required_valueset(b: Json) -> None:
    entry(b, "/genomic-report")["status"] = "done"


def invalid_hgvs(b: Json) -> None:
    for comp in entry(b, "/variant")["component"]:
        for coding in comp.get("valueCodeableConcept", {}).get("coding", []):
            if coding.get("system") == "http://varnomen.hgvs.org" and ":c." in coding["code"]:
                coding["code"] = coding["code"].replace(">", ">>")


FIXTURES: dict[str, tuple[str, Callable[[Json], None]]] = {
    "missing-component-value": ("fusion", missing_component_value),
    "wrong-fixed-code": ("fusion", wrong_fixed_code),
    "wrong-cardinality": ("fusion", wrong_cardinality),
    "dangling-reference": ("fusion", dangling_reference),
    "code-outside-required-valueset": ("fusion", code_outside_required_valueset),
    "invalid-hgvs": ("variant", invalid_hgvs),
}


def main() -> None:
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        bases = {"fusion": good_fusion_bundle(), "variant": good_variant_bundle(Path(tmp))}
    for name, (base, edit) in FIXTURES.items():
        bundle = copy.deepcopy(bases[base])
        edit(bundle)
        (HERE / f"bad-{name}.json").write_text(json.dumps(bundle, indent=1) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
