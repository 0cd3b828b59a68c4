"""The gathered BAM's index joined from its parts' indexes (workflow/bam_index.py) is the index
samtools builds from its records, byte for byte; where the files are not what the join needs,
gather falls back to samtools index and says so in its report."""

from __future__ import annotations

import json
import struct
import subprocess
import zlib
from argparse import Namespace
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import load_workflow_script

bam_index = load_workflow_script("bam_index")
scatter = load_workflow_script("scatter")

GROUPS = {"chr1": ["chr1"], "other": ["chr2", "chrM"], "unplaced": ["*"]}


def write_part(bam: Path, regions: list[str] | None, part: Path, writer: list[str]) -> int:
    """One part as the workflow writes it (its index written while encoding), of the header alone
    where ``regions`` is None; its record count."""
    reader = ["-H", str(bam)] if regions is None else ["-h", str(bam), *regions]
    text = subprocess.run(["samtools", "view", "--no-PG", *reader], capture_output=True, check=True).stdout
    subprocess.run(["samtools", "view", *writer, "--no-PG", "--write-index", "-o", f"{part}##idx##{part}.bai", "-"],
                   input=text, check=True)
    return sum(1 for line in text.splitlines() if not line.startswith(b"@"))


def parts_of(simulated: Path, folder: Path, writers: dict[str, list[str]]) -> list[Path]:
    parts = []
    for group, regions in GROUPS.items():
        part = folder / f"tumour.{group}.bam"
        write_part(simulated / "tumour.bam", regions, part, writers.get(group, ["-b"]))
        parts.append(part)
    return parts


def samtools_index(bam: Path) -> bytes:
    subprocess.run(["samtools", "index", "-o", f"{bam}.samtools.bai", str(bam)], check=True)
    return Path(f"{bam}.samtools.bai").read_bytes()


def cat(parts: list[Path], joined: Path) -> None:
    subprocess.run(["samtools", "cat", "--no-PG", "-o", str(joined), *map(str, parts)], check=True)


LEVEL_0 = ["--output-fmt", "bam,level=0"]
WRITERS = {
    "htslib's default level": ({}, False),
    "level 0 (many blocks a part), threads": ({"chr1": [*LEVEL_0, "-@", "2"], "other": LEVEL_0}, False),
    "levels mixed, a part of no record": ({"chr1": ["--output-fmt", "bam,level=1", "-@", "1"], "unplaced": ["-b", "-@", "3"]}, True),
}


@pytest.mark.parametrize(("writers", "empty_part"), WRITERS.values(), ids=WRITERS.keys())
def test_joined_index_is_the_index_samtools_builds(simulated: Path, tmp_path: Path, writers: dict[str, list[str]],
                                                   empty_part: bool) -> None:
    parts = parts_of(simulated, tmp_path, writers)
    if empty_part:  # a contig named in the scatter list that holds no read: the part is its header
        write_part(simulated / "tumour.bam", None, tmp_path / "empty.bam", ["-b"])
        parts.insert(1, tmp_path / "empty.bam")
    joined = tmp_path / "joined.bam"
    cat(parts, joined)
    data = bam_index.joined_index(joined, parts, [Path(f"{part}.bai") for part in parts])
    assert data == samtools_index(joined)
    counts = bam_index.read_bai(data)
    assert counts.no_coordinate > 0 and sum(1 for reference in counts.references if not reference.empty) == 3


def test_parts_named_out_of_their_order_are_not_joined(simulated: Path, tmp_path: Path) -> None:
    parts = parts_of(simulated, tmp_path, {})
    joined = tmp_path / "joined.bam"
    cat(parts, joined)
    with pytest.raises(bam_index.NotJoinable):
        bam_index.joined_index(joined, parts[::-1], [Path(f"{part}.bai") for part in parts[::-1]])


def test_two_parts_holding_one_contig_are_not_joined(simulated: Path, tmp_path: Path) -> None:
    first, second = tmp_path / "a.bam", tmp_path / "b.bam"
    write_part(simulated / "tumour.bam", ["chr1:1-5000"], first, ["-b"])
    write_part(simulated / "tumour.bam", ["chr1:5001-20000"], second, ["-b"])
    joined = tmp_path / "joined.bam"
    cat([first, second], joined)
    with pytest.raises(bam_index.NotJoinable, match="one contig"):
        bam_index.joined_index(joined, [first, second], [Path(f"{first}.bai"), Path(f"{second}.bai")])


def bgzf(data: bytes, first: int, size: int) -> bytes:
    """BGZF blocks of ``first`` uncompressed bytes, then ``size`` each, then the end-of-file block."""
    blocks = []
    for piece in [data[:first]] + [data[at : at + size] for at in range(first, len(data), size)]:
        compressor = zlib.compressobj(6, zlib.DEFLATED, -15)
        body = compressor.compress(piece) + compressor.flush()
        header = b"\x1f\x8b\x08\x04\x00\x00\x00\x00\x00\xff\x06\x00BC\x02\x00" + struct.pack("<H", len(body) + 25)
        blocks.append(header + body + struct.pack("<II", zlib.crc32(piece), len(piece)))
    return b"".join(blocks) + bam_index.BGZF_EOF


def test_a_header_ending_inside_a_block_is_indexed_by_samtools(simulated: Path, tmp_path: Path) -> None:
    """samtools cat compresses again the records that share a block with a part's header, so
    their offsets move by more than the part's: such a part is not joined, and gather's report
    says samtools indexed the BAM."""
    parts = parts_of(simulated, tmp_path, {})
    raw = subprocess.run(["gzip", "-dc", str(parts[1])], capture_output=True, check=True).stdout
    parts[1].write_bytes(bgzf(raw, bam_index.header_length(raw) + 7, 5000))  # the first block: the header and 7 bytes of a record
    subprocess.run(["samtools", "index", "-o", f"{parts[1]}.bai", str(parts[1])], check=True)
    with pytest.raises(bam_index.NotJoinable, match="inside a block"):
        bam_index.record_span(parts[1])
    report = gather(simulated, tmp_path, parts)
    assert report["indexed_by"] == "samtools index" and report["gathered_by"] == "samtools cat"
    assert (tmp_path / "out.bam.bai").read_bytes() == samtools_index(tmp_path / "out.bam")


def test_gather_joins_the_indexes_of_parts_it_cats(simulated: Path, tmp_path: Path) -> None:
    parts = parts_of(simulated, tmp_path, {"chr1": ["--output-fmt", "bam,level=0"]})
    report = gather(simulated, tmp_path, parts)
    assert report["indexed_by"] == "the parts' indexes, shifted" and report["gathered_by"] == "samtools cat"
    assert (tmp_path / "out.bam.bai").read_bytes() == samtools_index(tmp_path / "out.bam")
    every = subprocess.run(["samtools", "view", "-c", str(simulated / "tumour.bam")], capture_output=True, check=True, text=True).stdout
    assert report["counts"]["records_written"] == int(every)


def gather(simulated: Path, folder: Path, parts: list[Path]) -> dict[str, Any]:
    """scatter.py gather on ``parts`` (chr1, other, unplaced) as the workflow runs it."""
    reports = []
    for part in parts:
        count = int(subprocess.run(["samtools", "view", "-c", str(part)], capture_output=True, check=True, text=True).stdout)
        reports.append(folder / f"{part.name}.json")
        reports[-1].write_text(json.dumps({"counts": {"records": count, "reads_out": count}}))
    options = Namespace(scatter=["chr1"], keep_unplaced=True, whole=False, parts=[str(part) for part in parts],
                        input=str(simulated / "tumour.bam"), output=str(folder / "out.bam"), index=str(folder / "out.bam.bai"),
                        report=str(folder / "gather.json"), compression_level=None,
                        first_reports=[str(path) for path in reports], last_reports=[str(path) for path in reports])
    scatter.gather(options)
    report: dict[str, Any] = json.loads((folder / "gather.json").read_text())
    return report


def test_a_part_index_cut_short_is_indexed_by_samtools(simulated: Path, tmp_path: Path) -> None:
    """A part's index that does not parse (cut short) leaves the joined BAM to samtools index."""
    parts = parts_of(simulated, tmp_path, {})
    index = Path(f"{parts[0]}.bai")
    index.write_bytes(index.read_bytes()[:40])
    report = gather(simulated, tmp_path, parts)
    assert report["indexed_by"] == "samtools index"
    assert (tmp_path / "out.bam.bai").read_bytes() == samtools_index(tmp_path / "out.bam")
