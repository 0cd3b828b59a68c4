"""The index of BAM parts joined by ``samtools cat``, from the parts' own indexes: no record decoded.

Each part of a BAM cut by chromosome writes its BAI while it is encoded (``samtools view
--write-index``). ``samtools cat`` then writes the first part's header and copies every part's
BGZF blocks after its header as they are, each part's end-of-file block left out. A record at
virtual offset ``c << 16 | u`` in part k (``c`` the file offset of its block, ``u`` the offset
within the block) is therefore at ``(c + shift_k) << 16 | u`` in the joined BAM, where
``shift_k`` is where part k's blocks start in the joined BAM less where they start in the part.
The parts hold disjoint contigs (the scatter plan gives each contig one part, the reads with no
coordinate their own), so each contig's bins and linear index come from one part, shifted; the
count of reads with no coordinate is the parts' sum.

This holds only where every part's header ends at a block boundary (htslib flushes a BAM
header: ``samtools cat`` would otherwise compress the rest of that block again) and the joined
file is exactly the header and the parts' copied blocks. ``joined_index`` checks both from the
files themselves and returns None when anything differs; gather then indexes the joined BAM
with ``samtools index`` (decoding every record) as before. See ARCHITECTURE.md, *The cohort
workflow*.
"""

from __future__ import annotations

import struct
import sys
import zlib
from array import array
from dataclasses import dataclass
from pathlib import Path

BGZF_EOF = bytes.fromhex("1f8b08040000000000ff0600424302001b0003000000000000000000")
"""The empty block that ends a BGZF file (SAM specification 4.1.2)."""
META_BIN = 37450
"""The BAI pseudo-bin: its first chunk holds virtual offsets, its second two counts."""
COMPARED = 1 << 16
"""Bytes of the joined file compared with each part at both ends of the part's blocks."""


class NotJoinable(Exception):
    """The parts' indexes cannot be shifted into the joined BAM's: index it from its records."""


@dataclass(frozen=True)
class Span:
    """Where a BAM's records lie: from the first block after its header to its end-of-file block."""

    start: int
    end: int


def bgzf_block(data: bytes, at: int) -> tuple[int, bytes]:
    """The size of the BGZF block at ``at`` and what it holds, uncompressed."""
    if data[at : at + 4] != b"\x1f\x8b\x08\x04":
        raise NotJoinable("not a BGZF block")
    extra_length = struct.unpack_from("<H", data, at + 10)[0]
    extra = data[at + 12 : at + 12 + extra_length]
    size = None
    cursor = 0
    while cursor + 4 <= len(extra):
        tag, length = extra[cursor : cursor + 2], struct.unpack_from("<H", extra, cursor + 2)[0]
        if tag == b"BC" and length == 2:
            size = struct.unpack_from("<H", extra, cursor + 4)[0] + 1
        cursor += 4 + length
    if size is None or at + size > len(data):
        raise NotJoinable("a BGZF block without its size, or cut short")
    body = data[at + 12 + extra_length : at + size - 8]
    return size, zlib.decompress(body, wbits=-15)


def header_length(text: bytes) -> int | None:
    """The bytes of a BAM header at the start of ``text``, None while ``text`` ends inside it."""
    if len(text) < 12:
        return None
    if text[:4] != b"BAM\x01":
        raise NotJoinable("not a BAM")
    cursor = 8 + struct.unpack_from("<i", text, 4)[0]
    if cursor + 4 > len(text):
        return None
    references = struct.unpack_from("<i", text, cursor)[0]
    cursor += 4
    for _ in range(references):
        if cursor + 4 > len(text):
            return None
        cursor += 8 + struct.unpack_from("<i", text, cursor)[0]
    return cursor if cursor <= len(text) else None


def record_span(path: Path) -> Span:
    """Where the records of the BAM at ``path`` lie, its header read block by block."""
    size = path.stat().st_size
    with path.open("rb") as stream:
        head = stream.read(1 << 20)
        text = b""
        at = 0
        while True:
            if at >= len(head):
                head += stream.read(1 << 20)
            block_size, block = bgzf_block(head, at)
            at += block_size
            text += block
            length = header_length(text)
            if length is not None:
                break
        stream.seek(size - len(BGZF_EOF))
        tail = stream.read()
    if length != len(text):
        raise NotJoinable("the header ends inside a block")
    if tail != BGZF_EOF or at > size - len(BGZF_EOF):
        raise NotJoinable("no end-of-file block")
    return Span(at, size - len(BGZF_EOF))


def offsets(data: bytes, at: int, count: int) -> array[int]:
    """``count`` little-endian uint64 values from ``at``."""
    values = array("Q", data[at : at + 8 * count])
    if sys.byteorder == "big":
        values.byteswap()
    return values


def little_endian(values: array[int]) -> bytes:
    if sys.byteorder == "big":
        values = array("Q", values)
        values.byteswap()
    return values.tobytes()


@dataclass(frozen=True)
class Reference:
    """One contig's part of a BAI, as its bytes: bins then linear index."""

    bins: list[tuple[int, array[int]]]
    """``(bin, chunks)``, chunks the begin and end of each chunk in turn, in the file's order."""
    linear: array[int]

    @property
    def empty(self) -> bool:
        return not self.bins and not len(self.linear)

    def shifted(self, shift: int) -> Reference:
        """Every virtual offset moved ``shift`` bytes of compressed file along (the pseudo-bin's
        counts and zero linear entries, which name no offset, unchanged)."""
        moved = shift << 16
        bins = []
        for bin_number, chunks in self.bins:
            if bin_number == META_BIN:
                bins.append((bin_number, array("Q", [chunks[0] + moved, chunks[1] + moved, *chunks[2:]])))
            else:
                bins.append((bin_number, array("Q", [offset + moved for offset in chunks])))
        linear = array("Q", [offset + moved if offset else 0 for offset in self.linear])
        return Reference(bins, linear)

    def encode(self) -> bytes:
        parts = [struct.pack("<i", len(self.bins))]
        for bin_number, chunks in self.bins:
            parts.append(struct.pack("<Ii", bin_number, len(chunks) // 2))
            parts.append(little_endian(chunks))
        parts.append(struct.pack("<i", len(self.linear)))
        parts.append(little_endian(self.linear))
        return b"".join(parts)


@dataclass(frozen=True)
class Bai:
    references: list[Reference]
    no_coordinate: int

    def encode(self) -> bytes:
        body = b"".join(reference.encode() for reference in self.references)
        return b"BAI\x01" + struct.pack("<i", len(self.references)) + body + struct.pack("<Q", self.no_coordinate)


def read_bai(data: bytes) -> Bai:
    """A BAI file (SAM specification 5.2), as htslib writes it."""
    if data[:4] != b"BAI\x01":
        raise NotJoinable("not a BAI index")
    count = struct.unpack_from("<i", data, 4)[0]
    cursor = 8
    references = []
    for _ in range(count):
        bins = []
        for _ in range(struct.unpack_from("<i", data, cursor)[0]):
            bin_number, chunks = struct.unpack_from("<Ii", data, cursor + 4)
            cursor += 8
            bins.append((bin_number, offsets(data, cursor + 4, 2 * chunks)))
            cursor += 16 * chunks
        intervals = struct.unpack_from("<i", data, cursor + 4)[0]
        linear = offsets(data, cursor + 8, intervals)
        cursor += 8 + 8 * intervals
        references.append(Reference(bins, linear))
    no_coordinate = 0
    if cursor + 8 <= len(data):
        no_coordinate = struct.unpack_from("<Q", data, cursor)[0]
        cursor += 8
    if cursor != len(data):
        raise NotJoinable("bytes after the index")
    return Bai(references, no_coordinate)


def same_bytes(joined: Path, at: int, part: Path, span: Span) -> bool:
    """Whether the joined file holds the part's blocks at ``at``, compared at both ends."""
    length = span.end - span.start
    ends = [(0, min(length, COMPARED)), (max(0, length - COMPARED), length)]
    with joined.open("rb") as out, part.open("rb") as source:
        for begin, end in ends:
            out.seek(at + begin)
            source.seek(span.start + begin)
            if out.read(end - begin) != source.read(end - begin):
                return False
    return True


def joined_index(joined: Path, parts: list[Path], indexes: list[Path]) -> bytes:
    """The BAI of ``joined``, which ``samtools cat`` wrote from ``parts`` in this order, from the
    parts' indexes; NotJoinable when the files are not what that needs."""
    at = record_span(joined).start
    references: list[Reference] | None = None
    no_coordinate = 0
    for part, index in zip(parts, indexes, strict=True):
        span = record_span(part)
        if not same_bytes(joined, at, part, span):
            raise NotJoinable("the joined BAM does not hold a part's blocks where expected")
        bai = read_bai(index.read_bytes())
        if references is None:
            references = [Reference([], array("Q"))] * len(bai.references)
        if len(bai.references) != len(references):
            raise NotJoinable("the parts' indexes name different numbers of contigs")
        for number, reference in enumerate(bai.references):
            if reference.empty:
                continue
            if not references[number].empty:
                raise NotJoinable("two parts hold records of one contig")
            references[number] = reference.shifted(at - span.start)
        no_coordinate += bai.no_coordinate
        at += span.end - span.start
    if references is None or at + len(BGZF_EOF) != joined.stat().st_size:
        raise NotJoinable("the joined BAM is not the header and the parts' blocks")
    return Bai(references, no_coordinate).encode()
