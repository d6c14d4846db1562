"""service/allfhir/ingest/source.py: standard input, named pipes, gzip / bgzip for every format, and the
inputs that cannot be read (a directory, a path through a file, a file we may not read)."""

from __future__ import annotations

import gzip
import json
import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from allfhir import ingest
from allfhir.cli import main
from allfhir.errors import InputError

from .conftest import DATA, REPO

PROBABILITIES = REPO / "examples" / "allsorts" / "probabilities.csv"
ONE_PER_FORMAT = {
    "allsorts": DATA / "classifiers" / "allsorts-predictions.csv",
    "allcatchr": DATA / "classifiers" / "allcatchr-v1-predictions.tsv",
    "mdall": DATA / "classifiers" / "mdall-df_sums.tsv",
    "generic_json": DATA / "classifiers" / "generic-cohort.json",
    "arriba": DATA / "fusions" / "arriba-fusions.tsv",
    "star_fusion": DATA / "fusions" / "star-fusion.fusion_predictions.abridged.coding_effect.tsv",
    "fusioncatcher": DATA / "fusions" / "final-list_candidate-fusion-genes.txt",
    "vcf": DATA / "vcf" / "snpeff.vcf",
}


def parsed(path: Path) -> list[object]:
    return [item.problems if isinstance(item, InputError) else item for item in ingest.read(path)]


def sample_ids(out: str) -> list[str]:
    return [json.loads(line)["entry"][0]["resource"]["identifier"][0]["value"]
            for line in out.splitlines()]


def run_cli(*argv: str, stdin: bytes) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run([sys.executable, "-m", "allfhir.cli", *argv], cwd=REPO, input=stdin,
                          capture_output=True, check=False)


@pytest.mark.parametrize("fmt", sorted(ONE_PER_FORMAT))
def test_gzip_is_told_by_its_magic_bytes_for_every_format(
        fmt: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    source = ONE_PER_FORMAT[fmt]
    # The same name in two folders, one plain and one gzip-compressed: the name says nothing.
    (tmp_path / "plain").mkdir()
    (tmp_path / "gz").mkdir()
    (tmp_path / "plain" / source.name).write_bytes(source.read_bytes())
    (tmp_path / "gz" / source.name).write_bytes(gzip.compress(source.read_bytes()))
    monkeypatch.chdir(tmp_path / "plain")
    expected = parsed(Path(source.name))
    monkeypatch.chdir(tmp_path / "gz")
    assert ingest.detect_format(Path(source.name)) == fmt
    assert parsed(Path(source.name)) == expected


def test_csv_gz_converts(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    packed = tmp_path / "probabilities.csv.gz"
    packed.write_bytes(gzip.compress(PROBABILITIES.read_bytes()))
    assert main(["convert", str(packed), "--no-actionability"]) == 0
    assert sample_ids(capsys.readouterr().out) == [
        "allsorts:SJBALL043684", "allsorts:SJALL015972", "allsorts:SJBALL014030"]


def test_bgzip_vcf_reads_as_its_text() -> None:
    # vep-ikzf1.vcf.bgz is vep-ikzf1.vcf compressed by htslib's bgzip (BGZF blocks + EOF block).
    plain, packed = DATA / "vcf" / "vep-ikzf1.vcf", DATA / "vcf" / "vep-ikzf1.vcf.bgz"
    assert ingest.detect_format(packed) == "vcf"
    got = [s.model_dump_json() for s in ingest.read(packed)]
    assert [s.replace(packed.name, plain.name) for s in got] == [
        s.model_dump_json() for s in ingest.read(plain)]


def test_truncated_gzip_is_an_input_error(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    data = gzip.compress(PROBABILITIES.read_bytes())
    cut = tmp_path / "probabilities.csv.gz"
    cut.write_bytes(data[: len(data) // 2])
    assert main(["convert", str(cut)]) == 2
    [issue] = json.loads(capsys.readouterr().err)["issue"]
    assert issue["diagnostics"] == (f"{cut}: not a readable gzip file (Compressed file ended before "
                                    "the end-of-stream marker was reached)")


@pytest.mark.parametrize("argv", [["-"], ["--format", "allsorts", "-"]])
def test_standard_input(argv: list[str]) -> None:
    done = run_cli("convert", "--no-actionability", *argv, stdin=PROBABILITIES.read_bytes())
    assert (done.returncode, done.stderr) == (0, b"")
    assert sample_ids(done.stdout.decode()) == [
        "allsorts:SJBALL043684", "allsorts:SJALL015972", "allsorts:SJBALL014030"]


def test_standard_input_gzip_and_its_name_in_messages() -> None:
    done = run_cli("convert", "-", stdin=gzip.compress(b"sample\tnothing\nS1\tx\n"))
    assert done.returncode == 2
    [issue] = json.loads(done.stderr)["issue"]
    assert issue["location"] == ["<stdin>, line 1"]


def test_named_pipe_is_sniffed_without_seeking(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    # `allfhir convert <(zcat probabilities.csv.gz)`: the input is a pipe, readable once.
    fifo = tmp_path / "probabilities.csv"
    os.mkfifo(fifo)

    def write() -> None:
        with fifo.open("wb") as fh:  # blocks until the converter opens the pipe
            fh.write(PROBABILITIES.read_bytes())

    writer = threading.Thread(target=write, daemon=True)
    writer.start()
    code = main(["convert", "--no-actionability", str(fifo)])
    if writer.is_alive():  # the converter never opened the pipe: let the writer go
        os.close(os.open(fifo, os.O_RDONLY | os.O_NONBLOCK))
    writer.join()
    captured = capsys.readouterr()
    assert (code, captured.err) == (0, "")
    assert sample_ids(captured.out) == [
        "allsorts:SJBALL043684", "allsorts:SJALL015972", "allsorts:SJBALL014030"]


def test_directory_is_named_as_such(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    assert main(["convert", str(tmp_path)]) == 2
    assert json.loads(capsys.readouterr().err)["issue"] == [{
        "severity": "error", "code": "not-found", "diagnostics": f"{tmp_path}: is a directory, not a file",
        "location": [str(tmp_path)]}]


def test_os_reason_is_given(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    below_a_file = tmp_path / "probabilities.csv" / "x.csv"
    (tmp_path / "probabilities.csv").write_text("")
    assert main(["convert", str(below_a_file)]) == 2
    assert json.loads(capsys.readouterr().err)["issue"] == [{
        "severity": "error", "code": "exception",
        "diagnostics": f"{below_a_file}: cannot read the file: Not a directory",
        "location": [str(below_a_file)]}]


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads files whatever their mode")
def test_unreadable_file_gives_the_os_reason(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    locked = tmp_path / "probabilities.csv"
    locked.write_bytes(PROBABILITIES.read_bytes())
    locked.chmod(0)
    assert main(["convert", str(locked)]) == 2
    assert json.loads(capsys.readouterr().err)["issue"] == [{
        "severity": "error", "code": "forbidden",
        "diagnostics": f"{locked}: cannot read the file: Permission denied", "location": [str(locked)]}]
