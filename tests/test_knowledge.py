"""The curated knowledge: the real mappings pass `knowledge check`; a broken copy fails exactly."""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd
import pytest

from allfhir.cli import main
from allfhir.knowledge import Knowledge
from allfhir.knowledge_check import check
from allfhir.model import Fusion, SequenceVariant

from .conftest import REPO

MAPPINGS = REPO / "mappings"


def test_real_mappings_are_consistent() -> None:
    assert check(MAPPINGS) == []


def test_cli_check_passes_on_real_mappings(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["knowledge", "check", "--mappings", str(MAPPINGS)]) == 0
    assert capsys.readouterr().out.startswith("mappings OK: ")


def test_every_classifier_label_maps_to_a_known_subtype(kb: Knowledge) -> None:
    labels = pd.read_csv(MAPPINGS / "classifier_labels.csv", dtype=str, keep_default_na=False)
    assert {"allsorts", "allcatchr", "md-all"} <= set(labels["classifier"])
    for row in labels.to_dict("records"):
        st = kb.resolve_label(row["classifier"], row["column"], row["label"])
        assert st is not None and st.id == row["subtype_id"], row


def test_review_subtypes_are_all_present(kb: Knowledge) -> None:
    review = {"ph", "ph-like", "kmt2a", "kmt2a-like", "etv6-runx1", "etv6-runx1-like", "tcf3-pbx1", "hlf",
              "dux4", "mef2d", "znf384", "znf384-like", "pax5alt", "pax5-p80r", "bcl2-myc", "nutm1",
              "high-hyperdiploid", "near-haploid", "low-hypodiploid", "high-hypodiploid", "iamp21",
              "ikzf1-n159y", "zeb2-cebpe"}
    assert review <= set(kb.subtypes)
    assert kb.subtypes["ph"].defining_fusions == ("BCR::ABL1",)
    assert kb.subtypes["high-hyperdiploid"].defining_cytogenetics == (
        "chromosome_count:51-67", "karyotype:hyperdiploid")
    # an exact fusion defines Ph: neither partner gene alone does (ABL1::BCR, BCR::JAK2 do not)
    assert kb.subtypes["ph"].defining_genes == ()


def test_genes_resolve_by_previous_and_fusioncatcher_symbols(kb: Knowledge) -> None:
    gene = kb.gene("IGH@")
    assert gene is not None and (gene.symbol, gene.hgnc_id) == ("IGH", "HGNC:5477")
    bcr = kb.gene("BCR")
    assert bcr is not None and bcr.hgnc_id == "HGNC:1014"
    afdn = kb.gene("MLLT4")  # previous symbol
    assert afdn is not None and afdn.symbol == "AFDN"
    # FusionCatcher upper-cases open-reading-frame symbols
    orf = kb.gene("C19ORF47")
    assert orf is not None and orf.symbol == "C19orf47"
    assert kb.gene("AC092490.2") is None  # a clone name is no HGNC symbol


@pytest.fixture()
def broken(tmp_path: Path) -> Path:
    root = tmp_path / "mappings"
    shutil.copytree(MAPPINGS, root)

    def edit(name: str, change: str, sep: str = ",") -> None:
        frame = pd.read_csv(root / name, sep=sep, dtype=str, keep_default_na=False)
        if change == "dangling-label":
            frame.loc[0, "subtype_id"] = "no-such-subtype"
        elif change == "unsourced-code":
            frame.loc[0, "source"] = ""
        elif change == "duplicate":
            frame = pd.concat([frame, frame.iloc[[0]]])
        elif change == "unknown-agent":
            frame.loc[0, "agent_id"] = "no-such-agent"
        frame.to_csv(root / name, sep=sep, index=False)

    edit("classifier_labels.csv", "dangling-label")
    edit("subtype_codes.csv", "unsourced-code")
    edit("subtypes.csv", "duplicate")
    edit("actionability.csv", "unknown-agent")
    return root


def test_broken_mappings_fail_with_exact_problems(broken: Path) -> None:
    found = {(Path(p.file or "").name, p.row, p.column, p.message) for p in check(broken)}
    first_id = pd.read_csv(broken / "subtypes.csv", dtype=str).loc[0, "subtype_id"]
    assert ("classifier_labels.csv", 2, "subtype_id", "unknown subtype 'no-such-subtype'") in found
    assert ("subtype_codes.csv", 2, "source", "no source given") in found
    assert ("subtypes.csv", None, "subtype_id", f"duplicate key ('{first_id}',) (2 rows)") in found
    assert ("actionability.csv", 2, "agent_id", "unknown agent 'no-such-agent'") in found


def test_cli_check_fails_on_broken_mappings(broken: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["knowledge", "check", "--mappings", str(broken)]) == 2
    out = capsys.readouterr().out
    assert '"resourceType": "OperationOutcome"' in out and "unknown agent 'no-such-agent'" in out


def test_fusion_karyotypes_are_loaded_by_gene_pair(kb: Knowledge) -> None:
    bcr_abl1 = kb.fusion_karyotypes[frozenset({"BCR", "ABL1"})]
    assert (bcr_abl1.fusion, bcr_abl1.iscn) == ("BCR::ABL1", "t(9;22)(q34.1;q11.2)")
    assert bcr_abl1.source.startswith("github:cBioPortal/oncotree@")
    assert kb.fusion_karyotypes[frozenset({"ETV6", "RUNX1"})].iscn == "t(12;21)(p13.2;q22.1)"


def test_broken_fusion_karyotypes_fail_with_exact_problems(tmp_path: Path) -> None:
    root = tmp_path / "mappings"
    shutil.copytree(MAPPINGS, root)
    with (root / "fusion_karyotypes.csv").open("a", encoding="utf-8") as fh:
        fh.write("MLL::AFF4,t(5;11)(q31;q23),somewhere\n")  # MLL is KMT2A's previous symbol
        fh.write("NOPE1::ABL1,t(9;22)(q34.1;q11.2),somewhere\n")
        fh.write("ZNF384::EP300,t(12;22),\n")
        fh.write("ABL1::BCR,t(9;22)(q34.1;q11.2),somewhere\n")  # BCR::ABL1's pair again
    found = {(Path(p.file or "").name, p.row, p.column, p.message) for p in check(root)}
    file = "fusion_karyotypes.csv"
    assert found == {
        (file, 7, "fusion", "'MLL' is not the approved HGNC symbol (KMT2A)"),
        (file, 8, "fusion", "unknown gene 'NOPE1' in NOPE1::ABL1"),
        (file, 9, "iscn", "'t(12;22)' is not an ISCN rearrangement such as t(9;22)(q34.1;q11.2)"),
        (file, 9, "source", "no source given"),
        (file, None, "fusion", "the gene pair ABL1/BCR has 2 rows (one karyotype per rearrangement, "
                               "whatever the partner order)"),
    }


def test_may_define_screens_out_variants_no_subtype_is_defined_by(kb: Knowledge) -> None:
    p80r = SequenceVariant(gene="PAX5", hgvs_p="NP_057953.1:p.Pro80Arg")
    other = SequenceVariant(gene="PAX5", hgvs_p="NP_057953.1:p.Pro81Arg")
    no_protein = SequenceVariant(gene="PAX5", hgvs_c="NM_016734.3:c.100G>C")
    pax5alt = kb.subtypes["pax5-p80r"]
    assert kb.may_define(p80r) and kb.defines(pax5alt, p80r)
    assert not kb.may_define(other) and not kb.may_define(no_protein)
    assert not any(kb.defines(st, other) for st in kb.subtypes.values())
    assert kb.may_define(Fusion(gene5="BCR", gene3="ABL1"))  # not a sequence variant: asked per subtype
