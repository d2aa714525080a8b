"""The garbage collector and long-lived server processes."""

from __future__ import annotations

import gc


def freeze_heap() -> None:
    """Move every object the started process holds into the collector's permanent generation.

    After start-up nearly all of a web worker's heap (about 240,000 objects: modules, routes, ORM mappings, compiled
    statements) lives as long as the process. A full collection walks all of it while holding the interpreter lock,
    so each one stalled every request of the worker: 45 ms on an idle machine, up to 200 ms under the soak
    (docs/benchmarks.md, "Soak", session 9). Frozen, it is never walked again; what requests create is collected as
    before. Garbage collected first, so none is frozen with it. A collection process does the same once it has
    imported the pipeline (``xinyong.ingest.offload``): its full collections are CPU taken from the web workers.
    """
    gc.collect()
    gc.freeze()
