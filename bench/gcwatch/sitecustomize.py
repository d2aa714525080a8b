"""Logs the garbage collector's pauses of every Python process the soak's server starts (``bench/soak.py``).

``bench/soak.py`` puts this directory on the server's ``PYTHONPATH`` and names a directory in ``XINYONG_BENCH_GC_LOG``;
Python imports ``sitecustomize`` at start-up, so the uvicorn workers and the collection processes each append their
full collections, and every pause of 1 ms or more, to ``<pid>.log`` there: a first line with the parent's pid, then
wall time, generation, milliseconds.
A pause holds the interpreter lock, so it stalls every request of that process. Without the variable it does nothing.
"""

from __future__ import annotations

import gc
import os
import sys
import time
from typing import Any, TextIO

_DIRECTORY = os.environ.get("XINYONG_BENCH_GC_LOG")
_started = [0.0]
_out: list[TextIO] = []


def _on_collection(phase: str, info: dict[str, Any]) -> None:
    if phase == "start":
        _started[0] = time.perf_counter()
        return
    ms = 1000 * (time.perf_counter() - _started[0])
    if ms < 1.0 and info["generation"] < 2:
        return
    if not _out:
        _out.append(open(os.path.join(str(_DIRECTORY), f"{os.getpid()}.log"), "a", buffering=1))  # noqa: SIM115
        _out[0].write(f"# {os.getppid()} {' '.join(sys.argv)[:300]}\n")  # the parent tells the soak which process
    _out[0].write(f"{time.time():.3f} {info['generation']} {ms:.2f}\n")


if _DIRECTORY:
    gc.callbacks.append(_on_collection)
