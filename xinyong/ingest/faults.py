"""The crash-test hook of collection: ``XINYONG_FAULT=<stage>:<n>`` makes the process exit at once (``os._exit(137)``,
as SIGKILL would) at ``stage`` the ``n``-th time it is reached. It exists for the crash tests and does nothing unless
that variable is set.

Stages and what ``n`` counts:

- ``CHUNK_STAGES`` (``after_parse`` … ``after_commit``): the chunk number, counted from 1 over the whole file;
- ``rejects_row``: rows written to the rejects file so far (the file is then half-written);
- ``after_rejects``: 1 — the rejects file is complete, the batch not yet marked completed;
- ``upload_block``: blocks of an HTTP upload written so far (the upload is then half-saved);
- ``upload_saved``: 1 — the upload is saved under its final name, its batch not yet opened.
"""

from __future__ import annotations

import os

CHUNK_STAGES = ("after_parse", "after_link", "after_upsert", "before_commit", "after_commit")
OTHER_STAGES = ("rejects_row", "after_rejects", "upload_block", "upload_saved")


class Fault:
    def __init__(self) -> None:
        stage, _, count = os.environ.get("XINYONG_FAULT", "").partition(":")
        self.stage = stage if stage in CHUNK_STAGES + OTHER_STAGES else None
        self.count = int(count) if count.isdigit() else 0

    def __call__(self, stage: str, count: int = 1) -> None:
        if self.stage == stage and self.count == count:
            os._exit(137)
