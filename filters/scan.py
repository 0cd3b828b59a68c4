"""The C byte loops of filters/_scan.c, or None where they were not built.

Each caller keeps a pure-Python twin of what it uses from here, so genoscrub works
(slower, with the same output) from a checkout or an install without a C compiler.
``GENOSCRUB_PURE_PYTHON=1`` makes every command use the twins; the tests run both
on the same bytes. ``GENOSCRUB_REQUIRE_SCAN=1`` (set by ``make test``) makes a
missing build an error, so CI cannot pass on the slow path by accident.
"""

from __future__ import annotations

import importlib
import os
from types import ModuleType


def _load() -> ModuleType | None:
    if os.environ.get("GENOSCRUB_PURE_PYTHON"):
        return None
    try:
        return importlib.import_module("genoscrub._scan")
    except ImportError:
        if os.environ.get("GENOSCRUB_REQUIRE_SCAN"):
            raise
        return None


native = _load()
