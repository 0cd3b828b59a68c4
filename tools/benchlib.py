"""Timing for ``make bench``: shell pipelines measured side by side, alternating.

The machine is noisy, so no absolute time is trusted: each pipeline runs
``runs`` times in alternation with its baseline, and the figure reported is
the ratio of medians to the baseline measured in the same run. Never used in
a unit test (ARCHITECTURE.md, *Where things go*).
"""

from __future__ import annotations

import resource
import statistics
import subprocess
import time
from collections.abc import Mapping


def time_pipeline(command: str) -> tuple[float, int]:
    """Wall seconds and the children's peak RSS (KiB) of one ``bash -o pipefail -c``."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    start = time.perf_counter()
    subprocess.run(["bash", "-o", "pipefail", "-c", command], check=True)
    elapsed = time.perf_counter() - start
    return elapsed, max(before, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)


def peak_rss_mib(command: str) -> int:
    """Peak RSS (MiB) of the largest process of one ``bash -c`` pipeline, by GNU time."""
    result = subprocess.run(["/usr/bin/time", "-f", "%M", "bash", "-c", command], capture_output=True, text=True, check=True)
    return int(result.stderr.strip().splitlines()[-1]) // 1024


def measure(pipelines: Mapping[str, str], runs: int = 3) -> dict[str, float]:
    """Median wall time of each named pipeline, runs interleaved (a, b, c, a, b, c, ...)."""
    times: dict[str, list[float]] = {name: [] for name in pipelines}
    for _ in range(runs):
        for name, command in pipelines.items():
            times[name].append(time_pipeline(command)[0])
    return {name: statistics.median(values) for name, values in times.items()}


def table(title: str, medians: Mapping[str, float], baseline: str, records: int, megabytes: float) -> str:
    """A printable table: records/s, MB/s and the ratio to the baseline."""
    lines = [f"== {title} ({records:,} records, {megabytes:.0f} MB)", f"{'pipeline':<44}{'seconds':>9}{'rec/s':>12}{'MB/s':>8}{'ratio':>8}"]
    for name, seconds in medians.items():
        lines.append(
            f"{name:<44}{seconds:>9.2f}{records / seconds:>12,.0f}{megabytes / seconds:>8.1f}{seconds / medians[baseline]:>8.2f}"
        )
    return "\n".join(lines)
