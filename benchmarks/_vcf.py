"""A synthetic VEP-annotated VCF: the header of tests/data/vcf/vep-pax5.vcf and N records like its
first (two CSQ annotations each, one canonical, with HGVSc / HGVSp / HGVSg; two samples, the first
heterozygous). `passing` is the share of PASS records (the rest are LowQual, read and skipped)."""

from __future__ import annotations

from pathlib import Path

from _tree import REPO

TEMPLATE = REPO / "tests" / "data" / "vcf" / "vep-pax5.vcf"
AMINO = ["Ala", "Arg", "Asn", "Asp", "Cys", "Gln", "Glu", "Gly", "His", "Ile", "Leu", "Lys", "Met", "Phe",
         "Pro", "Ser", "Thr", "Trp", "Tyr", "Val"]


def header() -> str:
    return "".join(line for line in TEMPLATE.read_text(encoding="utf-8").splitlines(keepends=True)
                   if line.startswith("#"))


def write(path: Path, n: int, passing: float = 1.0) -> None:
    every = max(1, round(1 / passing)) if passing > 0 else 0
    with path.open("w", encoding="utf-8") as fh:
        fh.write(header())
        for i in range(n):
            pos = 37_000_000 + i
            c = 100 + i
            aa = (AMINO[i % 20], 34 + i // 3, AMINO[(i + 7) % 20])
            p = f"p.{aa[0]}{aa[1]}{aa[2]}"
            csq = (f"C|missense_variant|MODERATE|PAX5|5079|Transcript|NM_001280547.2|protein_coding|2/9||"
                   f"NM_001280547.2:c.{c}G>C|NP_001267476.1:{p}||||||||-1|||EntrezGene|HGNC:8619||,"
                   f"C|missense_variant|MODERATE|PAX5|5079|Transcript|NM_016734.3|protein_coding|3/10||"
                   f"NM_016734.3:c.{c}G>C|NP_057953.1:{p}|521|{c}|{aa[1]}|P/R|cCc/cGc|||-1|||EntrezGene|"
                   f"HGNC:8619|YES|NC_000009.12:g.{pos}G>C")
            flt = "PASS" if every and i % every == 0 else "LowQual"
            fh.write(f"chr9\t{pos}\t.\tG\tC\t612.3\t{flt}\tDP=160;CSQ={csq}\tGT:AD:DP:AF\t"
                     "0/1:40,38:78:0.487\t0/0:80,0:80:0.0\n")
