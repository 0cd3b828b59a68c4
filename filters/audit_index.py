"""Index files (BAI, CSI, TBI, CRAI): read whole by their layout, held to their data file.

An index travels with the file it indexes, and a reader uses it without looking at it, so a
delivery's indexes are audited like its data: a name in a tabix index (the sequence names are
copied from the records), bytes after the layout's end, a number off the layout, or an index
made from another file (the raw input's: its offsets and reference count are that file's) would
otherwise pass unseen. The layouts are those of the SAM specification (section 5, BAI and CSI)
and the tabix one (TBI); CRAI is CRAM's gzipped text of six numbers a line.

What is held:
- the whole index is read to its end: bytes past it are a finding, a short one an error;
- bin numbers within the binning scheme (the pseudo-bin of counts included), chunks that do
  not end before they begin, a CSI's ``min_shift`` and ``depth`` and a TBI's column numbers,
  meta character and skip count within what htslib writes;
- sequence names (TBI, and CSI made by tabix) by the ``##contig`` ID rule and the forbid list;
- the record counts readers print (each reference's mapped and unmapped counts, the unplaced
  reads' ``n_no_coor``) searched with the forbid list as their decimal text, a listed number
  found only as a number of its own (a count of 70 million reads has 8 digits, as a date does:
  the personal-number rule cannot judge them), and their sum held to the most records the data
  file's size can hold (``COUNT_PAST_DATA``);
- with its data file beside it (``x.bam.bai`` or ``x.bai`` for ``x.bam``, ``x.vcf.gz.tbi``
  for ``x.vcf.gz``, ``x.cram.crai`` for ``x.cram``): as many references as the data file's
  header names, sequence names among its contigs, every offset within its size. An index with
  no data file beside it cannot be held to one: that is a finding too.

Every problem is a metadata finding located by reference number, never quoting a value; the
index's bytes (decompressed) are searched for the forbid list's strings.
"""

from __future__ import annotations

import gzip
import os
import re
import struct
from dataclasses import dataclass, field

import numpy as np
from genoscrub.audit_containers import CheckedStream, ContainerWatch
from genoscrub.audit_findings import Findings
from genoscrub.audit_forbid import ForbidList
from genoscrub.audit_header import contig_holds_personal
from genoscrub.report import InputError

INDEX_KINDS = ("bai", "csi", "tbi", "crai")
INDEX_SUFFIXES = {"bai": (".bai",), "csi": (".csi",), "tbi": (".tbi",), "crai": (".crai",)}
DATA_SUFFIXES = {"bai": (".bam",), "csi": (".bam", ".vcf.gz", ".bcf", ".gz"), "tbi": (".vcf.gz", ".gz", ".bgz"), "crai": (".cram",)}
"""How ``x.bai`` names its data file when the index name is not the data file's name plus a suffix."""

BAI_PSEUDO_BIN = 37450
BAI_BINS = 37449  # ((1 << 18) - 1) // 7: six levels of a 512 Mbp scheme
CONTIG_ID = re.compile(rb"[<,]ID=([^,>]*)")
CRAI_LINE = re.compile(rb"-?[0-9]{1,19}(?:\t[0-9]{1,19}){5}")

PAST_END = "index (bytes past its end)"
OFF_LAYOUT = "index (off its layout)"
NAME_PERSONAL = "index sequence name (holds personal data)"
NAME_ELSEWHERE = "index sequence name (not in its data file)"
REFERENCE_COUNT = "index (reference count differs from its data file)"
PAST_DATA = "index (offset past its data file)"
OFF_BLOCKS = "index (offset not at a block of its data file)"
BGZF_MAGIC = b"\x1f\x8b\x08\x04"
NO_DATA = "index (no data file beside it)"
FORBIDDEN = "index (list line {line})"
COUNT_FORBIDDEN = "index record count (list line {line})"
COUNT_PAST_DATA = "index record counts (more records than its data file can hold)"
DEFLATE_MOST = 1032
SHORTEST_RECORD = 16
"""Deflate packs at most 1032 bytes in one, and no record is shorter than 16 bytes (a BAM one has
36 with its length, a VCF line ``c\t1\t.\tA\t.\t.\t.\t.\n`` 16): a data file of S bytes holds
fewer than S * 1032 / 16 records, a bound a count written as a date or a registration number
passes only beside a file of its size (``9001011234567`` beside 200 GB)."""


def sniff_index(raw: bytes, head: bytes) -> str:
    """``bai``, ``csi``, ``tbi`` or ``crai`` by the first bytes (``raw``) and the first
    decompressed bytes (``head``); ``""`` for any other content."""
    if raw.startswith(b"BAI\x01"):
        return "bai"
    if head.startswith(b"CSI\x01"):
        return "csi"
    if head.startswith(b"TBI\x01"):
        return "tbi"
    if raw.startswith(b"\x1f\x8b") and CRAI_LINE.fullmatch(head.split(b"\n", 1)[0]):
        return "crai"
    return ""


@dataclass
class DataFile:
    """What an index is held to: its data file's size, reference count and contig names."""

    size: int
    references: int
    names: frozenset[str]

    @classmethod
    def read(cls, path: str) -> DataFile:
        import pysam

        size = os.stat(path).st_size
        try:
            if path.endswith((".bam", ".cram")):
                with pysam.AlignmentFile(path, check_sq=False) as reads:
                    names = list(reads.references)
            elif path.endswith(".bcf"):
                with pysam.VariantFile(path) as records:
                    names = [str(name) for name in records.header.contigs]  # type: ignore[attr-defined]
            else:
                names = vcf_contigs(path)
        except (OSError, ValueError, EOFError) as error:
            raise InputError(f"cannot read the data file of its index: {error}", path) from None
        return cls(size, len(names), frozenset(names))


def vcf_contigs(path: str) -> list[str]:
    """The ``##contig`` IDs of a VCF's header, read as text: htslib, given a header without
    them, adds the names of the tabix index beside the file, the very names to be held."""
    names = []
    with gzip.open(path, "rb") as handle:
        for line in handle:
            if not line.startswith(b"##"):
                break
            if line.startswith(b"##contig=<"):
                found = CONTIG_ID.search(line)
                names.append(found.group(1).decode("latin-1") if found else "")
    return names


def data_file_of(path: str, kind: str) -> str | None:
    """The data file an index sits beside, or None."""
    if path == "-":
        return None
    for suffix in INDEX_SUFFIXES[kind]:
        if path.endswith(suffix):
            stem = path[: -len(suffix)]
            if os.path.isfile(stem) and not stem.endswith(INDEX_SUFFIXES[kind]):
                return stem
            for data_suffix in DATA_SUFFIXES[kind]:
                if os.path.isfile(stem + data_suffix):
                    return stem + data_suffix
    return None


class IndexReader:
    """A cursor over an index's bytes; a read past the end is the error of a truncated index."""

    def __init__(self, data: bytes, path: str) -> None:
        self.data, self.at, self.path = data, 0, path

    def take(self, size: int) -> bytes:
        if size < 0 or self.at + size > len(self.data):
            raise InputError("truncated index", self.path)
        piece = self.data[self.at : self.at + size]
        self.at += size
        return piece

    def int32(self) -> int:
        return int(struct.unpack("<i", self.take(4))[0])

    def uint32(self) -> int:
        return int(struct.unpack("<I", self.take(4))[0])

    def uint64s(self, count: int) -> np.ndarray:
        return np.frombuffer(self.take(8 * count), dtype="<u8")


@dataclass
class IndexContent:
    """What the checks need of an index once read: per reference, its problems and the
    compressed offsets its chunks and intervals point to; the sequence names it holds."""

    references: int
    names: list[bytes]
    offsets: list[np.ndarray]  # virtual offsets, per reference
    off_layout: list[int]  # reference numbers (0-based; -1 for the header) with a value off the layout
    counts: list[tuple[int, int]] = field(default_factory=list)
    """The record counts readers print (``samtools idxstats``, ``bcftools index -s``): each
    reference's mapped and unmapped counts of its pseudo-bin, and ``n_no_coor`` (reference -1)."""


def read_bins(reader: IndexReader, reference: int, content: IndexContent, bins: int, pseudo: int, csi: bool) -> None:
    """One reference's bins (and for BAI and TBI its linear index), their offsets kept."""
    offsets: list[np.ndarray] = []
    count = reader.int32()
    if count < 0:
        raise InputError("truncated index", reader.path)
    bad = False
    for _ in range(count):
        number = reader.uint32()
        if csi:
            offsets.append(reader.uint64s(1))
        chunks = reader.int32()
        if chunks < 0:
            raise InputError("truncated index", reader.path)
        pairs = reader.uint64s(2 * chunks).reshape(-1, 2)
        if number == pseudo:
            bad |= chunks != 2 or bool(pairs[0, 0] > pairs[0, 1])  # the unmapped reads' span, then two counts
            offsets.append(pairs[0])
            content.counts.extend((reference, int(value)) for value in pairs[1:].ravel().tolist())
        else:
            bad |= number >= bins or bool(np.any(pairs[:, 0] > pairs[:, 1]))
            offsets.append(pairs.ravel())
    if not csi:
        intervals = reader.int32()
        if intervals < 0:
            raise InputError("truncated index", reader.path)
        linear = reader.uint64s(intervals)
        bad |= bool(np.any(np.diff(linear[linear > 0].astype(np.int64)) < 0))
        offsets.append(linear)
    content.offsets.append(np.concatenate(offsets) if offsets else np.zeros(0, dtype="<u8"))
    if bad:
        content.off_layout.append(reference)


def tabix_names(reader: IndexReader, content: IndexContent) -> None:
    """The tabix header (TBI, or a CSI's auxiliary data from tabix): format, columns, meta, skip, names."""
    file_format, sequence, begin, end, meta, skip = (reader.int32() for _ in range(6))
    length = reader.int32()
    names = reader.take(length)
    if (
        file_format & 0xFFFF not in (0, 1, 2) or file_format >> 16 not in (0, 1)
        or not 1 <= sequence <= 64 or not 1 <= begin <= 64 or not 0 <= end <= 64
        or not 32 <= meta < 127 or not 0 <= skip <= 1 << 20
        or (length and not names.endswith(b"\x00"))
    ):  # fmt: skip
        content.off_layout.append(-1)
    content.names = names[:-1].split(b"\x00") if length else []


def read_index(data: bytes, kind: str, path: str) -> tuple[IndexContent, int]:
    """The index's content, and where its layout ends in ``data``."""
    reader = IndexReader(data, path)
    reader.take(4)  # the magic, which told the kind
    content = IndexContent(0, [], [], [])
    bins, pseudo, csi = BAI_BINS, BAI_PSEUDO_BIN, False
    if kind == "csi":
        csi = True
        min_shift, depth, aux = reader.int32(), reader.int32(), reader.int32()
        if not 0 < min_shift <= 32 or not 0 < depth <= 12 or aux < 0:
            content.off_layout.append(-1)
            depth = min(max(depth, 0), 12)
        bins = ((1 << ((depth + 1) * 3)) - 1) // 7
        pseudo = bins + 1
        if aux:
            aux_reader = IndexReader(reader.take(aux), path)
            tabix_names(aux_reader, content)
            if aux_reader.at != aux:
                content.off_layout.append(-1)
    references = reader.int32()
    if references < 0:
        raise InputError("truncated index", path)
    if kind == "tbi":
        tabix_names(reader, content)
    content.references = references
    for reference in range(references):
        read_bins(reader, reference, content, bins, pseudo, csi)
    if len(data) - reader.at >= 8:
        content.counts.append((-1, int(reader.uint64s(1)[0])))  # n_no_coor, the unplaced reads' count (optional)
    return content, reader.at


def read_crai(data: bytes, path: str) -> tuple[IndexContent, int]:
    """A CRAI's lines: six numbers, the fourth the container's offset in the CRAM."""
    content = IndexContent(0, [], [], [])
    lines = data.split(b"\n")
    end = len(data) - len(lines[-1])
    if lines[-1] == b"":
        lines.pop()
    offsets = []
    for number, line in enumerate(lines):
        if not CRAI_LINE.fullmatch(line):
            content.off_layout.append(number)
            continue
        offsets.append(int(line.split(b"\t")[3]) << 16)
    content.offsets.append(np.array(offsets, dtype="<u8"))
    return content, end if lines else 0


def offsets_off_blocks(data_path: str, offsets: np.ndarray, size: int) -> bool:
    """Whether a virtual offset within the data file's size does not point into one of its BGZF
    blocks: its compressed part at a block's first byte, its uncompressed part within the
    block's data (the block's header and ISIZE read, nothing decompressed). An index made from
    another file (the raw input's, whose reads on a dropped contig ``samtools idxstats`` would
    count: an HLA allele contig's, chrEBV's) points at that file's blocks, which the delivered
    file's do not share, even where it is the larger file (a lower compression level)."""
    if not len(offsets):
        return False
    coffsets = offsets >> np.uint64(16)
    uoffsets = offsets & np.uint64(0xFFFF)
    order = np.lexsort((uoffsets, coffsets))
    starts = coffsets[order]
    last = np.r_[starts[1:] != starts[:-1], True]  # per block, the largest uncompressed offset
    with open(data_path, "rb") as handle:
        for block, within in zip(starts[last].tolist(), uoffsets[order][last].tolist(), strict=True):
            if block >= size:
                if block > size or within:
                    return True
                continue  # the file's end: where htslib points past the last record
            handle.seek(block)
            head = handle.read(12)
            if len(head) < 12 or head[:4] != BGZF_MAGIC:
                return True
            extra = handle.read(int.from_bytes(head[10:12], "little"))
            block_size = bgzf_block_size(extra)
            if block_size is None:
                return True
            handle.seek(block + block_size - 4)
            isize = handle.read(4)
            if len(isize) < 4 or within > int.from_bytes(isize, "little"):
                return True
    return False


def bgzf_block_size(extra: bytes) -> int | None:
    """A BGZF block's size from its gzip extra field (the ``BC`` subfield's BSIZE + 1), or None."""
    at = 0
    while at + 4 <= len(extra):
        length = int.from_bytes(extra[at + 2 : at + 4], "little")
        if extra[at : at + 2] == b"BC" and length == 2 and at + 6 <= len(extra):
            return int.from_bytes(extra[at + 4 : at + 6], "little") + 1
        at += 4 + length
    return None


def audit_index(path: str, kind: str, forbid: ForbidList | None, findings: Findings, watch: ContainerWatch) -> None:
    """Read an index whole (decompressed as the audit decompresses text) and hold it to its layout
    and, when it sits beside one, to its data file."""
    stream = CheckedStream(path, watch)
    try:
        data = stream.read()
    finally:
        stream.close()
    if forbid is not None:
        for line in sorted({entry.line for entry, _ in forbid.search(data)}):
            findings.forbidden.add(FORBIDDEN.format(line=line), "index")
    content, end = read_crai(data, path) if kind == "crai" else read_index(data, kind, path)
    findings.records = len(content.offsets)
    if forbid is not None:  # the counts as readers print them, a listed number only as a number of its own
        for reference, count in content.counts:
            for entry, _ in forbid.search_text(b"%d" % count):
                findings.forbidden.add(COUNT_FORBIDDEN.format(line=entry.line), "unplaced" if reference < 0 else f"reference {reference}")
    if end < len(data):
        findings.metadata.add(PAST_END, f"byte {end}")
    for reference in content.off_layout:
        findings.metadata.add(OFF_LAYOUT, "header" if reference < 0 else f"reference {reference}")
    for number, name in enumerate(content.names):
        if contig_holds_personal(name.decode("latin-1")):
            findings.metadata.add(NAME_PERSONAL, f"name {number}")
    data_path = data_file_of(path, kind)
    if data_path is None:
        findings.metadata.add(NO_DATA, "index")
        return
    beside = DataFile.read(data_path)
    if kind in ("bai", "csi") and not content.names and content.references != beside.references:
        findings.metadata.add(REFERENCE_COUNT, f"{content.references} against {beside.references}")
    for number, name in enumerate(content.names):
        if beside.names and name.decode("latin-1") not in beside.names:  # a VCF without ##contig lines names none
            findings.metadata.add(NAME_ELSEWHERE, f"name {number}")
    for reference, offsets in enumerate(content.offsets):
        if len(offsets) and int(offsets.max() >> np.uint64(16)) > beside.size:
            findings.metadata.add(PAST_DATA, f"reference {reference}")
        elif kind != "crai" and offsets_off_blocks(data_path, offsets[offsets > 0], beside.size):
            findings.metadata.add(OFF_BLOCKS, f"reference {reference}")
    if sum(count for _, count in content.counts) > beside.size * DEFLATE_MOST // SHORTEST_RECORD:
        findings.metadata.add(COUNT_PAST_DATA, "index")
