"""Which karyotype (ISCN) a gene fusion comes from: mappings/fusion_karyotypes.csv.

One row per rearrangement with the ISCN as a citable source writes it. A translocation gives
both reciprocal products (t(9;22) makes BCR::ABL1 and ABL1::BCR), so the look-up is by the pair
of genes, not by their order.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

FILE = "fusion_karyotypes.csv"


@dataclass(frozen=True, slots=True)
class FusionKaryotype:
    fusion: str  # 'BCR::ABL1' as the row writes it
    iscn: str  # 't(9;22)(q34.1;q11.2)'
    source: str


def load(root: Path) -> dict[frozenset[str], FusionKaryotype]:
    """Gene pair -> karyotype; an absent file means no karyotype is known."""
    path = root / FILE
    if not path.exists():
        return {}
    out: dict[frozenset[str], FusionKaryotype] = {}
    with path.open(encoding="utf-8", newline="") as fh:
        for row in csv.DictReader(fh):
            k = FusionKaryotype(row["fusion"], row["iscn"], row["source"])
            out[pair(*k.fusion.split("::"))] = k
    return out


def pair(gene5: str, gene3: str) -> frozenset[str]:
    return frozenset((gene5, gene3))
