"""Memory stays flat in the input's size, for every command (DESIGN.md, *Streams*).

Each command runs on a simulated set and on one ten times larger (longer genome,
ten times the reads and variants) under a memory cap; its peak RSS, measured by
GNU time for the command's own process, must not grow with the input.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from tests.conftest import BIN
from tests.simulate import simulate

CAP_KIB = 1_500_000  # ulimit -v for the command (virtual memory; numpy/pysam map a lot)
SLACK_KIB = 24 * 1024

pytestmark = pytest.mark.skipif(not Path("/usr/bin/time").exists(), reason="GNU time (/usr/bin/time) is not installed")


@pytest.fixture(scope="module")
def sets(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    small = tmp_path_factory.mktemp("small")
    large = tmp_path_factory.mktemp("large")
    simulate(small, seed=3, pairs=2_000, contig_length=20_000)
    simulate(large, seed=3, pairs=20_000, contig_length=200_000)
    return {"small": small, "large": large}


def pipelines(data: Path) -> dict[str, tuple[str, list[str]]]:
    """command -> (shell feeding stdin, the command's arguments)."""
    sam = f"samtools view -h --no-PG {data / 'tumour.bam'}"
    vcf = f"bcftools view {data / 'germline.vcf.gz'}"
    return {
        "fastq-scrub-names": (f"gzip -dc {data / 'tumour_R1.fastq.gz'}", ["-q"]),
        "sam-scrub-rg": (sam, ["-q", "--names"]),
        "sam-revert-germline": (sam, ["-q", "-r", str(data / "ref.fa"), "-v", str(data / "germline.vcf.gz")]),
        "vcf-scrub-header": (vcf, ["-q"]),
        "vcf-drop-rare": (vcf, ["-q", "--population", str(data / "population.vcf.gz"), "--af-key", "AF_eas"]),
    }


def peak_rss_kib(feed: str, command: str, args: list[str]) -> int:
    quoted = " ".join(args)
    script = f"set -o pipefail; {feed} | (ulimit -v {CAP_KIB}; /usr/bin/time -f 'RSS %M' {BIN / command} {quoted} > /dev/null)"
    result = subprocess.run(["bash", "-c", script], capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-2000:]
    return int(next(line for line in result.stderr.splitlines() if line.startswith("RSS "))[4:])


@pytest.mark.parametrize("command", ["fastq-scrub-names", "sam-scrub-rg", "sam-revert-germline", "vcf-scrub-header", "vcf-drop-rare"])
def test_peak_memory_does_not_grow_with_input(sets: dict[str, Path], command: str) -> None:
    if shutil.which("samtools") is None or shutil.which("bcftools") is None:
        pytest.skip("samtools/bcftools not installed")
    small_feed, args = pipelines(sets["small"])[command]
    large_feed, large_args = pipelines(sets["large"])[command]
    small = peak_rss_kib(small_feed, command, args)
    large = peak_rss_kib(large_feed, command, large_args)
    assert large <= small * 1.25 + SLACK_KIB, f"{command}: peak RSS {small} KiB on the small set, {large} KiB on the 10x set"
