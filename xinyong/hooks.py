"""Where the domains plug into each other's registries: one list of hook modules, loaded once.

The registries (``evaluation.sources``, ``monitoring.metrics.register_metric``, ``monitoring.worker.register_job``,
``console.sections.register_section``, ``console.service.MERGE_HOOKS``) are filled by importing the modules named
here; a module may also serve pages (its ``router``). The web app (``create_app``), the command line (``xinyong …``,
including the worker) and the registries' own readers (the worker's ``run_due``, the dashboard's ``compute_all``,
``merge_subjects``) call ``install()``, so a job, a chart or a merge never runs without the domains' hooks.
"""

from __future__ import annotations

import importlib
from types import ModuleType
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from fastapi import FastAPI

HOOK_MODULES = (
    "xinyong.lists.hooks",
    "xinyong.checks.hooks",
    "xinyong.evaluation.hooks",
    "xinyong.rights.hooks",
    "xinyong.rights.report_parts",
)


def install(app: FastAPI | None = None) -> list[ModuleType]:
    """Import every hook module (registration happens on import, so calling this again changes nothing) and, given
    the app, mount the pages they serve."""
    modules = [importlib.import_module(name) for name in HOOK_MODULES]
    if app is not None:
        for module in modules:
            router = getattr(module, "router", None)
            if router is not None:
                app.include_router(router)
    return modules
