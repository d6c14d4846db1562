"""Start and stop the MLLP listener test peer (mllp_listener.py) as its own process."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

LISTENER = Path(__file__).with_name("mllp_listener.py")


@dataclass
class Listener:
    port: int
    mode_file: Path
    received_file: Path
    process: subprocess.Popen[str]

    def set_mode(self, mode: str) -> None:
        """Change what the running listener does with the next message."""
        self.mode_file.write_text(mode)

    def received(self) -> list[dict[str, str]]:
        """Each message that arrived: its MSH-10 and the mode it met."""
        if not self.received_file.exists():
            return []
        return [json.loads(line) for line in self.received_file.read_text().splitlines()]


@contextmanager
def mllp_listener(workdir: Path, mode: str = "accept", *extra: str, port: int = 0) -> Iterator[Listener]:
    """A listener on 127.0.0.1 (`port`, or one the system picks), stopped by its pid afterwards.
    The same `workdir` again keeps the mode and the record of what arrived (a restart)."""
    workdir.mkdir(parents=True, exist_ok=True)
    mode_file, received = workdir / "mode", workdir / "received.jsonl"
    process = subprocess.Popen(
        [sys.executable, str(LISTENER), "--port", str(port), "--mode", mode, "--mode-file", str(mode_file),
         "--received", str(received), *extra],
        stdout=subprocess.PIPE, text=True)
    try:
        assert process.stdout is not None
        line = process.stdout.readline()  # "listening <port>", printed once bound
        if not line.startswith("listening "):
            raise RuntimeError(f"MLLP listener did not start (exit {process.poll()})")
        yield Listener(int(line.split()[1]), mode_file, received, process)
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        if process.stdout is not None:
            process.stdout.close()
