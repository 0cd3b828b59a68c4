"""Memory stays flat in the input's size, for every command and the workflow's SAM chain (the
README promises it; `make memory` runs every command at 10x the bench).

Each command reads a generated stream on stdin under a memory cap (``ulimit -v``)
and writes to /dev/null; GNU time measures the peak RSS of the command's own
process. The same command runs on a stream a tenth of the size and on the full
size; the larger peak may not exceed the smaller by more than a margin.

The streams never touch the disk: a generator process tiles one block of
records many times, renaming reads or shifting positions per copy with a
single ``bytes.join`` (see ``Tile``), so it outruns every command. Sizes, as
multiples of the bench sizes (FASTQ 2M records, VCF 1M records, BAM 2M pairs
= 4M records), are in ``SIZES``: 10x under ``make memory``; under ``make test-slow``
what fits in 5 to 15 s a case, named there with the command's measured rate.

The margin is not slack for a leak: vcf-scrub-header peaked at 105 MB on 1M
records, 125 MB on 10M and 125 MB on 30M (the heap settles, then stays).
"""

from __future__ import annotations

import gzip
import os
import random
import shlex
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import pytest

from tests.conftest import BIN, ROOT

CAP_KIB = 1_500_000  # ulimit -v for the command (virtual memory; numpy/pysam map a lot)
SLACK_KIB = 24 * 1024
BENCH_RECORDS = {"fastq": 2_000_000, "vcf": 1_000_000, "sam": 4_000_000}
COPY_BYTES = 1 << 22  # the generator writes in blocks of about this size

# command -> (input format, records in the large stream); the small stream has a tenth.
# Rates measured on the 2-core test machine under load 4 (CPU seconds of generator
# and command per million records): FASTQ 1.4, vcf-scrub-header 0.75,
# vcf-drop-rare 1.4, vcf-drop-regions 0.8, sam-scrub-rg --names 5.9,
# sam-revert-germline 6.6, sam-mask-regions 15.8. ``make test-slow`` runs each case in about
# 5 to 15 s (the whole file once took 4 of the suite's CPU minutes at larger sizes): a
# leak of 50 bytes a record still shows (45 MiB over the million SAM records between the
# two runs, against a margin of 24 MiB and a quarter). ``make memory``
# (GENOSCRUB_MEMORY_FULL=1) runs every command at 10x the bench, which is what the
# README's flat-memory promise rests on.
FULL = bool(os.environ.get("GENOSCRUB_MEMORY_FULL"))
# genoscrub-audit reads all three formats; its cases are named command:format. Its inputs are
# the raw tiles (planted identifiers, germline alleles), so every record is a finding: the
# worst case for the findings it keeps (counts per field or site, the first positions of each).
# Measured: 4.7 CPU s a million SAM records (with --germline, a SAM stream converted to BAM in
# a child process; 13 on raw reads with --forbid hits in every record, 37 before the hits were
# counted in bulk), 17 a million FASTQ records (each one a --forbid hit, found record by
# record), 3.6 a million VCF records with --forbid.
SIZES = {
    "fastq-scrub-names": ("fastq", 20_000_000 if FULL else 2_500_000),  # 10x the bench; 1.25x in make test-slow
    "vcf-scrub-header": ("vcf", 10_000_000 if FULL else 2_000_000),  # 10x; 2x
    "vcf-drop-rare": ("vcf", 10_000_000 if FULL else 2_000_000),  # 10x; 2x
    "vcf-drop-regions": ("vcf", 10_000_000 if FULL else 2_000_000),  # 10x; 2x
    "sam-scrub-rg": ("sam", 40_000_000 if FULL else 1_000_000),  # 10x; 0.25x (500k pairs)
    "sam-revert-germline": ("sam", 40_000_000 if FULL else 1_000_000),  # 10x; 0.25x
    "sam-mask-regions": ("sam", 40_000_000 if FULL else 1_000_000),  # 10x; 0.25x
    "genoscrub-audit:sam": ("sam", 40_000_000 if FULL else 500_000),  # 10x; 0.125x
    "sam-chain": ("sam", 40_000_000 if FULL else 500_000),  # the three SAM commands in one process (workflow/sam_chain.py); 0.125x
    "genoscrub-audit:fastq": ("fastq", 20_000_000 if FULL else 200_000),  # 10x; 0.1x
    "genoscrub-audit:vcf": ("vcf", 10_000_000 if FULL else 1_000_000),  # 10x; 1x
}
FINDINGS_EXIT = 1
"""genoscrub-audit's status when it finds something (here: always), told from an error by its
stderr: an error is one line naming the command, a finding under -q prints nothing."""

pytestmark = [
    pytest.mark.slow,  # make test-slow (CI runs it after make test); make memory runs every size
    pytest.mark.skipif(not Path("/usr/bin/time").exists(), reason="GNU time (/usr/bin/time) is not installed"),
    pytest.mark.timeout(3600 if FULL else 900),
]


# --- the generator -----------------------------------------------------------


@dataclass
class Tile:
    """One block of records split where each copy differs: ``stamp(k).join(pieces)``.

    FASTQ and SAM: a piece ends just before a read name, and the stamp
    (``c<k>_``) makes every copy's names new; SAM copies keep their
    positions (every SAM command takes any order), so the reference stays
    the simulated one. VCF: a piece ends just before
    POS, whose text in the tile is the offset zero-padded to six digits, and
    the stamp is the copy number, so copy ``k`` sits at ``k`` Mb plus the
    offset and the stream stays sorted.
    """

    header: bytes
    pieces: list[bytes]
    records: int
    kind: str

    def stamp(self, copy: int) -> bytes:
        return b"%d" % (copy + 1) if self.kind == "vcf" else b"c%d_" % copy


def fastq_tile(folder: Path) -> Tile:
    data = gzip.decompress((folder / "tumour_R1.fastq.gz").read_bytes())
    lines = data.split(b"\n")[:-1]
    pieces = [b"@"] + [b"\n".join(lines[i : i + 4])[1:] + b"\n@" for i in range(0, len(lines), 4)]
    pieces[-1] = pieces[-1][:-1]
    return Tile(b"", pieces, len(lines) // 4, "fastq")


def sam_tile(folder: Path) -> Tile:
    text = subprocess.run(["samtools", "view", "-h", "--no-PG", str(folder / "tumour.bam")], check=True, capture_output=True).stdout
    lines = text.split(b"\n")[:-1]
    header = b"".join(line + b"\n" for line in lines if line.startswith(b"@"))
    records = [line + b"\n" for line in lines if not line.startswith(b"@")]
    return Tile(header, [b"", *records], len(records), "sam")


VCF_HEADER = (
    "##fileformat=VCFv4.2\n##fileDate=20231029\n##source=caller /home/kimjh/run.sh\n"
    "##contig=<ID=chr1,length=248956422>\n"
    '##INFO=<ID=DP,Number=1,Type=Integer,Description="Depth">\n'
    '##INFO=<ID=AF_eas,Number=A,Type=Float,Description="East Asian allele frequency">\n'
    '##FORMAT=<ID=GT,Number=1,Type=String,Description="Genotype">\n'
    '##FORMAT=<ID=GQ,Number=1,Type=Integer,Description="Genotype quality">\n'
    "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT\tS2301217N_20231029\n"
)


def vcf_tile() -> Tile:
    """50,000 chr1 records over one megabase (a site every 20 bases), 240 copies fit in GRCh38's chr1."""
    rng = random.Random(7)
    pieces = [b""]
    offset = 0
    for index in range(50_000):
        offset = index * 20 + rng.randrange(20)
        ref = rng.choice("ACGT")
        alt = rng.choice([base for base in "ACGT" if base != ref])
        if index % 50 == 0:
            ref, alt = ref + "AC", ref  # a deletion now and then
        identifier = f"rs{rng.randrange(10**8)}" if index % 3 else (f"HOSP_{index}" if index % 7 == 0 else ".")
        frequency = rng.choice(["0.0005", "0.003", "0.02", "0.15", "0.41"])
        genotype = rng.choice(["0/1", "1/1", "0/1"])
        pieces[-1] += b"chr1\t"
        pieces.append(
            f"{offset:06d}\t{identifier}\t{ref}\t{alt}\t{rng.randrange(30, 3000)}.5\tPASS\tDP={rng.randrange(10, 90)};AF_eas={frequency}"
            f"\tGT:GQ\t{genotype}:{rng.randrange(1, 99)}\n".encode()
        )
    return Tile(VCF_HEADER.encode(), pieces, 50_000, "vcf")


def write_stream(tile: Tile, records: int, out: BinaryIO) -> None:
    """The header, then ``records`` records (rounded up to whole copies), in blocks of ~4 MiB."""
    out.write(tile.header)
    copies = -(-records // tile.records)
    per_block = max(1, COPY_BYTES // max(1, sum(map(len, tile.pieces))))
    for first in range(0, copies, per_block):
        out.write(b"".join(tile.stamp(copy).join(tile.pieces) for copy in range(first, min(copies, first + per_block))))
    out.flush()


def generate(kind: str, folder: str, records: int) -> None:
    """Entry point of the generator process (``python -c``): the stream on stdout."""
    tile = {"fastq": lambda: fastq_tile(Path(folder)), "sam": lambda: sam_tile(Path(folder)), "vcf": vcf_tile}[kind]()
    try:
        write_stream(tile, records, sys.stdout.buffer)
    except BrokenPipeError:
        sys.exit(1)


# --- the test ----------------------------------------------------------------


SIMULATION = {"pairs": 20_000, "seed": 3, "contig_length": 200_000, "read_length": 150}


def arguments(case: str, folder: Path) -> list[str]:
    forbid = ["--forbid", str(folder / "forbidden.txt")]
    return {
        "fastq-scrub-names": [],
        "sam-scrub-rg": ["--names"],
        "sam-revert-germline": ["-r", str(folder / "ref.fa"), "-v", str(folder / "germline.vcf.gz")],
        "sam-mask-regions": ["--bed", str(folder / "repeats.bed"), "-r", str(folder / "ref.fa")],
        "vcf-scrub-header": [],
        "vcf-drop-rare": ["--af-key", "AF_eas"],
        "vcf-drop-regions": ["--preset", "codis-str", "--preset", "identity-snp"],
        "genoscrub-audit:sam": [*forbid, "--germline", str(folder / "germline.vcf.gz"), "-r", str(folder / "ref.fa"), "-"],
        "genoscrub-audit:fastq": [*forbid, "-"],
        "genoscrub-audit:vcf": [*forbid, "-"],
    }[case]


def command_line(case: str, folder: Path) -> str:
    """The command of a case; the chain's, its three SAM commands' lines as its arguments."""
    if case == "sam-chain":
        steps = [" ".join([step, "-q", *arguments(step, folder)]) for step in ("sam-scrub-rg", "sam-revert-germline", "sam-mask-regions")]
        return " ".join([sys.executable, str(ROOT / "workflow" / "sam_chain.py"), *map(shlex.quote, steps)])
    return " ".join([str(BIN / case.split(":")[0]), "-q", *arguments(case, folder)])


def peak_rss_kib(case: str, folder: Path, kind: str, records: int) -> int:
    command = case.split(":")[0]
    feed = f"{sys.executable} -c 'from tests.test_memory import generate; generate(\"{kind}\", \"{folder}\", {records})'"
    run = command_line(case, folder)
    script = f"set -o pipefail; {feed} | (ulimit -v {CAP_KIB}; /usr/bin/time -f 'RSS %M' {run} > /dev/null)"
    result = subprocess.run(["bash", "-c", script], capture_output=True, text=True, timeout=3600 if FULL else 900, cwd=ROOT)
    findings = command == "genoscrub-audit" and result.returncode == FINDINGS_EXIT
    assert result.returncode == 0 or (findings and f"{command}:" not in result.stderr), result.stderr[-2000:]
    return int(next(line for line in result.stderr.splitlines() if line.startswith("RSS "))[4:])


@pytest.mark.parametrize("case", sorted(SIZES))
def test_peak_memory_does_not_grow_with_input(simulated: Path, case: str) -> None:
    kind, records = SIZES[case]
    if kind == "sam" and shutil.which("samtools") is None:
        pytest.skip("samtools not installed (it decodes the simulated BAM for the SAM tile)")
    small = peak_rss_kib(case, simulated, kind, records // 10)
    large = peak_rss_kib(case, simulated, kind, records)
    print(f"{case}: peak RSS {small} KiB on {records // 10:,} records, {large} KiB on {records:,}")  # shown by pytest -rP
    assert large <= small * 1.25 + SLACK_KIB, (
        f"{case}: peak RSS {small} KiB on {records // 10:,} records, {large} KiB on {records:,} "
        f"({records / BENCH_RECORDS[kind]:g}x the bench)"
    )
