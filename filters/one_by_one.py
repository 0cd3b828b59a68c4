"""The switch that sends every record down the one-record path: ``GENOSCRUB_ONE_BY_ONE=1``.

The record commands decide most records in bulk (numpy over a block, the C loops) and
the rest one at a time; both paths must give the same bytes and the same report
counts (ARCHITECTURE.md, *One answer*). Tests compare a run with this switch on
against one without: where they differ, the one-record path is the reference.
"""

from __future__ import annotations

import os

ENVIRONMENT = "GENOSCRUB_ONE_BY_ONE"


def one_by_one() -> bool:
    """Whether every record must take the one-record path (read at each call: tests set it in-process)."""
    return os.environ.get(ENVIRONMENT) == "1"
