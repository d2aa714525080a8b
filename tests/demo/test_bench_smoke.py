"""bench/ingest.py runs end to end at a small scale and the pipeline accepts every generated row."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def test_ingest_benchmark_smoke(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, str(REPO / "bench" / "ingest.py"), "--rows", "2000", "--engines", "sqlite",
         "--workdir", str(tmp_path)],
        env={**os.environ, "PYTHONPATH": str(REPO)}, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    row = next(line for line in done.stdout.splitlines() if line.startswith("| sqlite"))
    cells = [c.strip() for c in row.strip("|").split("|")]
    assert cells[1] == "2,000"
    assert cells[-1] == "2,000 / 0"
    assert re.fullmatch(r"\d+\.\d\d", cells[4])  # the ratio pipeline ÷ raw, measured
