"""Every domain's ORM models, imported once so ``Base.metadata`` is complete (for Alembic and tests).

Domains are found on disk (``xinyong/<domain>/models.py``) rather than listed here, so a new domain's tables are
registered by creating its models module — nothing to edit in a shared file.
"""

from __future__ import annotations

import importlib
import pkgutil
from pathlib import Path

import xinyong

MODEL_MODULES = tuple(
    f"xinyong.{info.name}.models"
    for info in sorted(pkgutil.iter_modules(xinyong.__path__), key=lambda i: i.name)
    if info.ispkg and (Path(xinyong.__path__[0]) / info.name / "models.py").exists()
)

for _module in MODEL_MODULES:
    importlib.import_module(_module)
