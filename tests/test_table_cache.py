"""Look-up tables kept between processes (allfhir.table_cache): read back exactly as built, for
the same file and derivation only; damaged or unwritable caches cost a rebuild, never a wrong
table."""

from __future__ import annotations

import gc
from pathlib import Path

import pytest

from allfhir import knowledge, table_cache

TABLE = {"PAX5": "HGNC:8619", "ETV6": "HGNC:3495"}


class Builds:
    def __init__(self, table: dict[str, str]) -> None:
        self.table, self.count = table, 0

    def __call__(self) -> dict[str, str]:
        self.count += 1
        return dict(self.table)


def test_a_table_is_built_once_and_read_back_equal(tmp_path: Path) -> None:
    build = Builds(TABLE)
    assert table_cache.cached("d1", "genes0", build, tmp_path) == TABLE
    again = table_cache.cached("d1", "genes0", build, tmp_path)
    assert again == TABLE and build.count == 1
    assert not gc.is_tracked(again)  # strings only: the collector never walks it
    assert [p.name.split(".")[0] for p in tmp_path.iterdir()] == ["genes0-d1"]


def test_another_digest_or_table_name_is_built_again(tmp_path: Path) -> None:
    build = Builds(TABLE)
    table_cache.cached("d1", "genes0", build, tmp_path)
    assert table_cache.cached("d2", "genes0", Builds({"A": "1"}), tmp_path) == {"A": "1"}
    assert table_cache.cached("d1", "genes1", Builds({"B": "2"}), tmp_path) == {"B": "2"}
    assert table_cache.cached("d1", "genes0", build, tmp_path) == TABLE and build.count == 1


def test_a_damaged_table_is_built_again_and_replaced(tmp_path: Path) -> None:
    table_cache.cached("d1", "genes0", Builds(TABLE), tmp_path)
    (stored,) = tmp_path.iterdir()
    stored.write_bytes(stored.read_bytes()[:20])
    build = Builds(TABLE)
    assert table_cache.cached("d1", "genes0", build, tmp_path) == TABLE and build.count == 1
    stored.write_bytes(b"\x00not marshal")
    assert table_cache.cached("d1", "genes0", build, tmp_path) == TABLE and build.count == 2
    assert table_cache.cached("d1", "genes0", build, tmp_path) == TABLE and build.count == 2


def test_an_unwritable_cache_folder_still_gives_the_table(tmp_path: Path) -> None:
    not_a_folder = tmp_path / "file"
    not_a_folder.write_text("x")
    build = Builds(TABLE)
    assert table_cache.cached("d1", "genes0", build, not_a_folder / "tables") == TABLE
    assert table_cache.cached("d1", "genes0", build, not_a_folder / "tables") == TABLE
    assert build.count == 2 and not_a_folder.read_text() == "x"


def test_the_digest_covers_every_file_and_where_one_ends(tmp_path: Path) -> None:
    a, b = tmp_path / "a", tmp_path / "b"
    a.write_bytes(b"ab")
    b.write_bytes(b"c")
    first = table_cache.digest(a, b)
    assert first == table_cache.digest(a, b) and len(first) == 64
    a.write_bytes(b"a")
    b.write_bytes(b"bc")
    assert table_cache.digest(a, b) != first  # same bytes in all, split elsewhere
    assert table_cache.digest(a) != table_cache.digest(a, b)


def test_knowledge_reads_the_gene_tables_it_stored(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    root = tmp_path / "mappings"
    root.mkdir()
    for f in knowledge.mappings_dir().iterdir():
        (root / f.name).write_bytes(f.read_bytes())
    (root / "genes.tsv").write_text(
        "symbol\thgnc_id\tprevious_symbols\talias_symbols\tsource\n"
        "PAX5\tHGNC:8619\t\tBSAP\ttest\nETV6\tHGNC:3495\tTEL\t\ttest\n", encoding="utf-8")
    built = knowledge.load(root)
    assert built.gene("TEL") == knowledge.Gene("ETV6", "HGNC:3495")  # genes0 and genes1 stored
    assert built.gene("bsap") == knowledge.Gene("PAX5", "HGNC:8619")  # genes2 stored
    stored = sorted(p.name.split("-")[0] for p in (tmp_path / "cache" / "allfhir" / "tables").iterdir())
    assert stored == ["genes0", "genes1", "genes2"]
    again = knowledge.load(root)
    assert dict(again.genes.items()) == dict(built.genes.items()) == {
        "PAX5": knowledge.Gene("PAX5", "HGNC:8619"), "ETV6": knowledge.Gene("ETV6", "HGNC:3495")}
    assert dict(again.gene_synonyms) == {"BSAP": "PAX5", "TEL": "ETV6"}
    assert again.gene("bsap") == knowledge.Gene("PAX5", "HGNC:8619")
    # a changed genes.tsv is another file: its own tables, never the stored ones
    (root / "genes.tsv").write_text(
        "symbol\thgnc_id\tprevious_symbols\talias_symbols\tsource\nPAX5\tHGNC:1\t\t\ttest\n",
        encoding="utf-8")
    assert dict(knowledge.load(root).genes.items()) == {"PAX5": knowledge.Gene("PAX5", "HGNC:1")}
