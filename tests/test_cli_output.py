"""`allfhir convert` at the edges of a run: `-o` is written whole or not at all, a signal ends the
run without a traceback or a partial file, a closed stdout ends it quietly. Real processes, real
signals and real named pipes."""

from __future__ import annotations

import errno
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from allfhir.cli import main

from .conftest import REPO

PROBABILITIES = REPO / "examples" / "allsorts" / "probabilities.csv"


def allfhir(*argv: str, **kwargs: object) -> subprocess.Popen[bytes]:
    return subprocess.Popen([sys.executable, "-m", "allfhir.cli", *argv], cwd=REPO,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, **kwargs)  # type: ignore[call-overload]


def open_writer(fifo: Path, proc: subprocess.Popen[bytes]) -> int:
    """Open the write end of `fifo` once the process has opened its read end (or has ended)."""
    while True:
        try:
            return os.open(fifo, os.O_WRONLY | os.O_NONBLOCK)
        except OSError as exc:
            if exc.errno != errno.ENXIO:
                raise
        if proc.poll() is not None:
            _, err = proc.communicate()
            pytest.fail(f"the process ended (exit {proc.returncode}) without opening {fifo}: {err!r}")
        time.sleep(0.01)


def test_failed_run_leaves_an_existing_output_untouched(
        capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    out = tmp_path / "report.ndjson"
    out.write_text("yesterday's report\n")
    bad = tmp_path / "probabilities.csv"
    bad.write_text("only,one,header\n")
    assert main(["convert", str(PROBABILITIES), str(bad), "-o", str(out)]) == 2
    assert out.read_text() == "yesterday's report\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["probabilities.csv", "report.ndjson"]


def test_successful_run_replaces_the_output_whole(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    out = tmp_path / "report.ndjson"
    out.write_text("yesterday's report\n")
    assert main(["convert", str(PROBABILITIES), "-o", str(out)]) == 0
    assert len(out.read_text().splitlines()) == 3
    assert [p.name for p in tmp_path.iterdir()] == ["report.ndjson"]


def test_output_that_is_an_input_is_refused(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    data = tmp_path / "probabilities.csv"
    data.write_bytes(PROBABILITIES.read_bytes())
    alias = tmp_path / "same.csv"
    alias.symlink_to(data)
    assert main(["convert", str(data), "-o", str(alias)]) == 2
    assert json.loads(capsys.readouterr().err) == {"resourceType": "OperationOutcome", "issue": [{
        "severity": "error", "code": "conflict",
        "diagnostics": f"{alias}: the output file is one of the input files; choose another -o",
        "location": [str(alias)]}]}
    assert data.read_bytes() == PROBABILITIES.read_bytes()


@pytest.mark.parametrize(("signum", "name", "code"), [(signal.SIGTERM, "SIGTERM", 143),
                                                      (signal.SIGINT, "SIGINT", 130)])
def test_signal_ends_the_run_without_a_file_under_the_final_name(
        tmp_path: Path, signum: int, name: str, code: int) -> None:
    # The second classifier file is a named pipe: when the process opens it, the three samples of
    # the first file have been converted, and it then waits for data that never comes.
    fifo = tmp_path / "more.csv"
    os.mkfifo(fifo)
    out = tmp_path / "report.ndjson"
    proc = allfhir("convert", "--format", "allsorts", str(PROBABILITIES), str(fifo), "-o", str(out))
    writer = open_writer(fifo, proc)
    try:
        proc.send_signal(signum)
        try:
            stdout, stderr = proc.communicate(timeout=60)
        except subprocess.TimeoutExpired:
            # A run that ignores the signal is the defect this test is for: fail, never hang CI.
            proc.kill()
            _, err = proc.communicate()
            pytest.fail(f"convert did not end within 60 s of {name}: {err.decode()[-2000:]!r}")
    finally:
        os.close(writer)
    assert proc.returncode == code
    assert stdout == b""
    assert b"Traceback" not in stderr
    assert stderr.decode().count("\n") == 1
    assert json.loads(stderr) == {"resourceType": "OperationOutcome", "issue": [{
        "severity": "error", "code": "incomplete",
        "diagnostics": f"interrupted by {name} after 3 sample(s) were converted; {out} was not written"}]}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["more.csv"]


def test_closed_stdout_ends_the_run_quietly(tmp_path: Path) -> None:
    # `allfhir convert big.csv | head -1`: a cohort whose output is far larger than a pipe buffer.
    header, *rows = PROBABILITIES.read_text().splitlines()
    big = tmp_path / "big.csv"
    big.write_text("\n".join([header] + [f"S{i}," + rows[i % 3].split(",", 1)[1] for i in range(300)]) + "\n")
    proc = allfhir("convert", "--no-actionability", str(big))
    assert proc.stdout is not None and proc.stderr is not None
    first = proc.stdout.readline()
    proc.stdout.close()
    stderr = proc.stderr.read()
    proc.stderr.close()
    assert proc.wait() == 0
    assert json.loads(first)["resourceType"] == "Bundle"
    assert stderr == b""
