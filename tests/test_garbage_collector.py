"""What the conversion does with Python's cyclic garbage collector: the gene table is held in a
form the collector does not walk, and a Bundle is built with the collector paused and left as it
was found (see allfhir.fhir.bundle._collector_paused and allfhir.knowledge.GeneTable)."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest

from allfhir.fhir.bundle import BuildOptions, build
from allfhir.knowledge import Gene, Knowledge
from allfhir.model import ClassifierRun, Sample, SequenceVariant, SubtypeCall
from allfhir.resolve import resolve


def pax5_sample() -> Sample:
    return Sample(
        sample_id="S1",
        classifier=ClassifierRun(classifier_id="allsorts", name="ALLSorts", version="0.1.0"),
        calls=[SubtypeCall(label="PAX5 P80R", label_column="Pred", probability=0.91)],
        variants=[SequenceVariant(gene="PAX5", hgvs_p="NP_057953.1:p.Pro80Arg")],
    )


def test_gene_table_is_a_mapping_of_genes(kb: Knowledge) -> None:
    pax5 = Gene("PAX5", "HGNC:8619")
    assert kb.genes["PAX5"] == pax5
    assert kb.genes.get("PAX5") == pax5
    assert kb.genes.get("NOT-A-GENE") is None
    assert kb.genes.get("NOT-A-GENE", "default") == "default"
    with pytest.raises(KeyError):
        kb.genes["NOT-A-GENE"]
    assert "PAX5" in kb.genes and "NOT-A-GENE" not in kb.genes
    items = dict(kb.genes.items())
    assert len(items) == len(kb.genes) == len(list(kb.genes.values())) > 40_000
    assert items["PAX5"] == pax5 and pax5 in kb.genes.values()
    assert kb.genes == items
    assert kb.gene("IGH@") == Gene("IGH", "HGNC:5477")  # the locus form, through the same table


def test_gene_table_is_not_walked_by_the_collector(kb: Knowledge) -> None:
    kb.gene("PAX5")
    gc.collect()
    # 43k genes: none of them is a tracked object once the lookup has been made
    assert sum(1 for o in gc.get_objects() if isinstance(o, Gene)) < 100


@pytest.fixture
def collector() -> Iterator[None]:
    was = gc.isenabled()
    yield
    if was:
        gc.enable()
    else:
        gc.disable()


@pytest.mark.usefixtures("collector")
@pytest.mark.parametrize("enabled", [True, False])
def test_build_leaves_the_collector_as_it_found_it(kb: Knowledge, enabled: bool) -> None:
    seen: list[str] = []

    def during(phase: str, info: dict[str, int]) -> None:
        seen.append(phase)

    (gc.enable if enabled else gc.disable)()
    gc.callbacks.append(during)
    try:
        bundle = build(resolve(pax5_sample(), kb), kb, BuildOptions())
        during_build = list(seen)
    finally:
        gc.callbacks.remove(during)
    assert gc.isenabled() is enabled
    assert during_build == []  # no collection ran while the Bundle was built
    assert bundle["entry"][0]["resource"]["resourceType"] == "DiagnosticReport"
