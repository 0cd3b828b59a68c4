"""BAM records audited in bulk, on every core.

A BAM is read as what it is on disk (SAM 1.6, section 4): BGZF blocks, inflated here
(isal), holding binary records. SAM and CRAM come to this code as BAM too: htslib
(pysam) converts them in a child process, so every alignment format is checked by the
same code, and no check depends on how a scrubber printed a field.

Records are never turned into objects. The blocks are grouped into chunks of about a
mebibyte and each chunk is audited in a worker process: it finds the first record that
starts in its chunk (records cross block boundaries, so it tries each offset until a
chain of well-formed records follows), then locates the fixed fields and aux fields of all
its records in one pass (``scan.bam_records``: a C loop, a numpy twin without the build)
and checks them with array operations. The parent checks, chunk after chunk,
that the bytes between one chunk's last whole record and the next chunk's first are
whole records too, and audits them; a chunk whose start was guessed wrong is audited
again from the known boundary. So the result is the same as reading the file from
start to end, in one process or many (``--jobs``), and memory holds a few chunks.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import re
import struct
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field, replace
from fnmatch import fnmatchcase
from functools import partial
from itertools import chain
from typing import BinaryIO

import numpy as np
from genoscrub import scan, signals
from genoscrub.audit_alignment_tags import alignments_in_regions, alternative_hits_in_regions
from genoscrub.audit_allowlist import (
    AUX_TAGS,
    GERMLINE_SITE_TAGS,
    HASHED_NAME_DIGITS,
    HASHED_NAME_LENGTH,
    READ_COUNTER_DIGITS,
    READ_NAME,
    SEQUENCE_COPYING_TAGS,
)
from genoscrub.audit_aux import AuxValueChecks, integers, repeated_fields
from genoscrub.audit_aux_text import value_texts
from genoscrub.audit_containers import BGZF_SLACK, SAFE_BGZF_HEAD, ContainerWatch, check_bgzf_block_header
from genoscrub.audit_edit_tags import (
    INTEGER_TYPES,
    MD_AT_SITE,
    MD_CODE,
    MD_DELETION,
    NM_CODE,
    NM_EDITS,
    NO_CARET,
    counted_edits,
    edits,
    first_of_each,
    md_offset,
    mismatch_counts,
    said_at_sites,
    stale_at_sites,
)
from genoscrub.audit_findings import CLUMP, EXAMPLES_PER_KEY, Findings
from genoscrub.audit_forbid import ForbidList, beyond_chance
from genoscrub.audit_header import reference_holds_personal
from genoscrub.audit_mate_cigars import MINIMAP2_CIGAR, mate_cigar_clips_at_sites, mate_cigars_carrying_indels
from genoscrub.audit_mates import (
    EQUALS_BASE,
    FLAG_PAIRED,
    MATE_PLACE,
    NEAR,
    NO_EQUALS_PAIRS,
    NOT_PRIMARY,
    SEGMENTS,
    TEMPLATE_LENGTH,
    described,
    mate_segments,
    name_hashes,
    pair_up,
    place_numbers,
    run_key,
    template_length_misses,
)
from genoscrub.audit_reads import (
    ALIGNED,
    CONSUMES_QUERY,
    CONSUMES_REFERENCE,
    DELETION,
    DIFFERENT,
    HARD_CLIP,
    INSERTION,
    SOFT_CLIP,
    AlignedRead,
    alternates_may_fit_pairs,
    carried_sites,
    equals_resolved,
    length_change_reach,
    length_shown_in_regions,
    unmasked_regions,
)
from genoscrub.audit_sites import BASE_CODES, BASE_LETTERS, CONTIG_SPACING, N_CODE, GermlineSites, Reference, RegionList
from genoscrub.audit_split_reads import SPLIT_AT_SITE, split_parts
from genoscrub.heap import HeapTrim
from genoscrub.regions import overlap_mask
from genoscrub.report import InputError, WorkerFailed
from genoscrub.streams import BGZF_EOF_BLOCK, BGZF_MISSING_EOF
from isal import igzip_lib, isal_zlib
from numpy.lib.stride_tricks import sliding_window_view

FIXED_STRUCT = struct.Struct("<iiiBBHHHiiii")
"""The 36 bytes every BAM record starts with (SAM 1.6, section 4.2)."""
CHUNK_BYTES = 3 << 20
READ_AHEAD = 1 << 20
FLAG_UNMAPPED = 0x4
FLAG_MATE_UNMAPPED = 0x8
HASHED_NAME = HASHED_NAME_LENGTH

QNAME_CODE = 1 << 16
"""Where ``search_text_fields`` counts a read name among tag codes (a code is two bytes)."""
TEXT_TYPES = np.zeros(256, dtype=bool)
TEXT_TYPES[[ord("Z"), ord("H")]] = True

LOWER_HEX = np.zeros(256, dtype=np.uint8)
LOWER_HEX[list(HASHED_NAME_DIGITS)] = 1
DIGITS = np.zeros(256, dtype=np.uint8)
DIGITS[list(b"0123456789")] = 1
READ_PREFIX = np.frombuffer(b"READ", dtype=np.uint8)
ALIGNED_CODES = np.zeros(16, dtype=bool)
ALIGNED_CODES[list(ALIGNED)] = True
PACKED_LETTERS = [bytes([BASE_LETTERS[byte >> 4], BASE_LETTERS[byte & 0xF]]) for byte in range(256)]
"""The two bases of each byte of SEQ as BAM packs them, as letters (SAM 1.6, section 4.2.3)."""


def tag_table(names: frozenset[str] | set[str]) -> np.ndarray:
    """65536 booleans, True at ``(first letter << 8) | second letter`` of each tag named."""
    table = np.zeros(1 << 16, dtype=bool)
    for name in names:
        encoded = name.encode()
        table[(encoded[0] << 8) | encoded[1]] = True
    return table


def tag_name(code: int) -> str:
    return bytes([code >> 8, code & 0xFF]).decode("latin-1")


# --- what the workers check -------------------------------------------------------------------


LISTED_CONTIG = "record on a listed contig"
LISTED_MATE = "mate on a listed contig (RNEXT)"
LISTED_ALIGNMENT = "alignment list naming a listed contig"
ALIGNMENT_LIST_TAGS = frozenset(["SA", "XA", "XB", "OA"])
"""Tags whose entries begin with a contig name (``chr6,+1000,100M,0;``)."""


@dataclass
class ListedContigs:
    """``--forbid-contigs``: the header's contigs no record may be placed on or point to (the
    audit's own copy of sam-revert-germline's ``--drop-contigs`` rule: shell patterns, case kept,
    matched against the @SQ names). Allele-specific contigs (``HLA-*``, ``*_alt``) type the person
    by where a read lies, with no base differing from them."""

    names: frozenset[bytes]
    table: np.ndarray
    """One boolean per reference, in @SQ order, and a last False for ``-1`` and any number past them."""

    @classmethod
    def matching(cls, references: list[str], patterns: tuple[str, ...]) -> ListedContigs | None:
        if not patterns:
            return None
        listed = [any(fnmatchcase(name, pattern) for pattern in patterns) for name in references]
        names = frozenset(name.encode("latin-1") for name, hit in zip(references, listed, strict=True) if hit)
        return cls(names, np.array([*listed, False], dtype=bool))

    def on(self, ids: np.ndarray) -> np.ndarray:
        last = len(self.table) - 1
        return self.table[np.where((ids >= 0) & (ids < last), ids, last)]




@dataclass
class RecordChecks:
    """Everything a worker needs to audit records; set before the workers start (fork)."""

    path: str
    references: list[str]
    forbid: ForbidList | None = None
    allowed_tags: np.ndarray = field(default_factory=lambda: tag_table(AUX_TAGS))
    listed_tags: np.ndarray | None = None
    """``--only-tags``: the tags a record may carry at all (None: every allowlisted one)."""
    read_names: bool = True
    germline: GermlineSites | None = None
    regions: RegionList | None = None
    aux_values: AuxValueChecks | None = None
    """The value grammars of the allowlisted tags (None: their names alone are checked)."""
    lengths: list[int] | None = None
    """Each contig's LN, in ``references``' order (None: places are not held to them)."""
    all_reference: AllReference | None = None
    """``--all-reference``: every aligned base must be the reference's (``reference_differences``)."""
    low_mapq: LowMappingQuality | None = None
    """``--germline`` with ``--all-below-mapq``: a placed read of a lower MAPQ must show no difference
    from the reference (``low_mapq_differences``)."""
    listed: ListedContigs | None = None
    """``--forbid-contigs``: contigs no record may lie on or point to (``check_listed_contigs``)."""

    def __post_init__(self) -> None:
        reverted = self.germline is not None or self.all_reference is not None  # sam-revert-germline removes them
        self.copying_tags = tag_table(SEQUENCE_COPYING_TAGS) if reverted else None
        self.mate_key = run_key() if reverted else None
        """The key of the name hashes that join mates (``check_mates``): one per file, shared by the forked workers."""
        self.site_tags = tag_table(GERMLINE_SITE_TAGS) if self.germline is not None else None
        self.read_name_pattern = READ_NAME
        self.places = [self.place_name(number, name) for number, name in enumerate(self.references)]
        """How a finding names each reference: its name, unless the name holds personal data or a
        forbidden string (a finding of its own), then ``reference N`` (its @SQ line's rank)."""

    def place_name(self, number: int, name: str) -> str:
        forbidden = self.forbid is not None and any(True for _ in self.forbid.search_text(name.encode("latin-1")))
        return f"reference {number + 1}" if forbidden or reference_holds_personal(name) else name


_CHECKS: RecordChecks | None = None
"""The checks of the file being audited, inherited by the forked workers."""


def contig_name(checks: RecordChecks, ref_id: int) -> str:
    return checks.places[ref_id] if 0 <= ref_id < len(checks.references) else "unplaced"


def where(checks: RecordChecks, ref_id: int, pos: int) -> str:
    if 0 <= ref_id < len(checks.references) and pos >= 0:
        return f"{checks.places[ref_id]}:{pos + 1}"
    return "unplaced"


# --- BGZF -------------------------------------------------------------------------------------------


def bgzf_blocks(stream: BinaryIO, path: str, watch: ContainerWatch | None = None) -> Iterator[bytes]:
    """Whole BGZF blocks, compressed, as read; a missing end-of-file block is an error. With
    ``watch``, each block's header is held to what is known safe (``audit_containers``)."""
    buffer = b""
    at = 0
    last = b""
    number = 0
    while True:
        if len(buffer) - at < 18 or len(buffer) - at < (size := _block_size(buffer, at, path)):
            more = stream.read(READ_AHEAD)
            if not more:
                if at < len(buffer):
                    raise InputError("truncated BGZF input (a block is cut short)", path)
                if last != BGZF_EOF_BLOCK:
                    raise InputError(BGZF_MISSING_EOF, path)
                return
            buffer = buffer[at:] + more
            at = 0
            continue
        last = buffer[at : at + size]
        at += size
        number += 1
        if watch is not None and not last.startswith(SAFE_BGZF_HEAD):
            check_bgzf_block_header(last, number, watch)
        yield last


def _block_size(buffer: bytes, at: int, path: str) -> int:
    """BSIZE + 1 of the block at ``at``, from the ``BC`` subfield of its gzip extra field
    (SAM 1.6, section 4.1); a length beyond the buffer when more must be read first."""
    if buffer[at : at + 4] != b"\x1f\x8b\x08\x04":
        raise InputError("not BGZF (a BAM file is a series of BGZF blocks)", path)
    extra_end = at + 12 + int.from_bytes(buffer[at + 10 : at + 12], "little")
    if len(buffer) < extra_end:
        return extra_end - at + 1
    field = at + 12
    while field + 4 <= extra_end:
        length = int.from_bytes(buffer[field + 2 : field + 4], "little")
        if buffer[field : field + 2] == b"BC" and length == 2:
            return int.from_bytes(buffer[field + 4 : field + 6], "little") + 1
        field += 4 + length
    raise InputError("not BGZF (a gzip block without its BC field)", path)


def inflate(block: bytes, path: str) -> bytes:
    """One BGZF block's data, checked against its CRC32 and length. Its compressed data must end
    where its trailer starts (SAM 1.6, section 4.1: CDATA is BSIZE-XLEN-19 bytes): bytes between
    would be read by no decoder, so they make the block corrupt."""
    extra_length = int.from_bytes(block[10:12], "little")
    inflater = igzip_lib.IgzipDecompressor(flag=igzip_lib.DECOMP_DEFLATE)
    try:
        data = inflater.decompress(block[12 + extra_length : -8])
    except Exception:  # isal's error type is not an OSError
        raise InputError("corrupt BGZF block", path) from None
    if not inflater.eof or inflater.unused_data:
        raise InputError(BGZF_SLACK, path)
    if len(data) != int.from_bytes(block[-4:], "little") or isal_zlib.crc32(data) != int.from_bytes(block[-8:-4], "little"):
        raise InputError("corrupt BGZF block (CRC or length mismatch)", path)
    return data


def inflate_all(raw: bytes, path: str) -> bytes:
    """A run of whole BGZF blocks, inflated and joined."""
    pieces = []
    at = 0
    while at < len(raw):
        size = int.from_bytes(raw[at + 16 : at + 18], "little") + 1
        pieces.append(inflate(raw[at : at + size], path))
        at += size
    return b"".join(pieces)


# --- the header ---------------------------------------------------------------------------------------


@dataclass
class BamHeader:
    text: bytes
    references: list[tuple[str, int]]
    after_nul: bytes = b""
    """The bytes of ``l_text`` after the NUL that ends the text: no reader reads them."""


def read_header(blocks: Iterator[bytes], path: str) -> tuple[BamHeader, bytes]:
    """The header, and the inflated bytes after it (they start with a record)."""
    data = b""

    def need(size: int) -> None:
        nonlocal data
        while len(data) < size:
            block = next(blocks, None)
            if block is None:
                raise InputError("truncated BAM header", path)
            data += inflate(block, path)

    need(8)
    if data[:4] != b"BAM\x01":
        raise InputError("not a BAM file (no BAM magic)", path)
    text_length = int.from_bytes(data[4:8], "little")
    need(8 + text_length + 4)
    text, _, after_nul = data[8 : 8 + text_length].partition(b"\0")
    at = 8 + text_length
    count = int.from_bytes(data[at : at + 4], "little", signed=True)
    if count < 0:
        raise InputError("corrupt BAM header (negative reference count)", path)
    at += 4
    references = []
    for _ in range(count):
        need(at + 4)
        name_length = int.from_bytes(data[at : at + 4], "little")
        need(at + 4 + name_length + 4)
        name = data[at + 4 : at + 4 + name_length].rstrip(b"\0").decode("latin-1")
        length = int.from_bytes(data[at + 4 + name_length : at + 8 + name_length], "little")
        references.append((name, length))
        at += 8 + name_length
    return BamHeader(text, references, after_nul), data[at:]


# --- walking records ------------------------------------------------------------------------------------


def plausible_record(data: bytes, at: int, references: int) -> int | None:
    """Where the next record would start if one starts at ``at``; None if none can."""
    if at + 36 > len(data):
        return None
    size, ref_id, pos, name_length, _, _, cigar_ops, _, length, next_ref_id, next_pos, _ = FIXED_STRUCT.unpack_from(data, at)
    if size < 32 + name_length or name_length < 2 or length < 0 or pos < -1 or next_pos < -1:
        return None
    if not (-1 <= ref_id < references and -1 <= next_ref_id < references):
        return None
    if 32 + name_length + 4 * cigar_ops + (length + 1) // 2 + length > size:
        return None
    name_end = at + 36 + name_length - 1
    if name_end < len(data):
        name = data[at + 36 : name_end]
        if data[name_end] != 0 or len(name) != name_length - 1 or not name.isascii() or any(byte < 33 for byte in name):
            return None
    return at + 4 + size


def first_record(data: bytes, references: int, chain: int = 4) -> int | None:
    """The first offset from which ``chain`` well-formed records follow (or the data ends)."""
    for start in range(0, max(0, len(data) - 35)):
        at: int | None = start
        for _ in range(chain):
            assert at is not None
            following = plausible_record(data, at, references)
            if following is None:
                at = None
                break
            at = following
            if at + 36 > len(data):
                break
        if at is not None:
            return start
    return None


# --- auditing a block of records -------------------------------------------------------------------------


def exclusive_sum(values: np.ndarray) -> np.ndarray:
    """Running totals before each value: where each span starts when spans are laid end to end."""
    totals = np.zeros(len(values), dtype=np.int64)
    if len(values) > 1:
        np.cumsum(values[:-1], out=totals[1:])
    return totals


def walk(data: bytes, start: int) -> scan.BamRecords:
    """The whole records of ``data[start:]`` with their fixed fields and aux fields, located in
    one pass (``scan.bam_records``); ValueError for a record that does not parse."""
    return scan.bam_records(data, start)


@dataclass
class AuxTags:
    """Every aux field of a block of records, flattened: the record, tag code, type and value span."""

    records: np.ndarray
    codes: np.ndarray
    types: np.ndarray
    starts: np.ndarray  # in the block
    ends: np.ndarray


@dataclass
class RecordBlock:
    """The fixed fields and field offsets of a block of records, as arrays."""

    buffer: bytes  # the block, as bytes for the C loops
    data: np.ndarray  # the block, as a uint8 array for numpy
    offsets: np.ndarray
    ref_id: np.ndarray
    pos: np.ndarray
    flag: np.ndarray
    name_starts: np.ndarray
    name_lengths: np.ndarray  # without the NUL
    cigar_starts: np.ndarray  # the CIGAR readers see: CG's where htslib takes it from there (``scan.BAM_RECORD_FIELDS``)
    cigar_counts: np.ndarray
    sequence_starts: np.ndarray
    sequence_lengths: np.ndarray
    reference_lengths: np.ndarray
    first_operations: np.ndarray  # -1 without a CIGAR
    contiguous: np.ndarray  # 1 where the bases lie without gaps (``laid_out``)
    leading_clips: np.ndarray
    laid_lengths: np.ndarray
    off_grammar: np.ndarray  # 1 where a CIGAR operation is none of MIDNSHP=X
    next_ref_id: np.ndarray  # RNEXT, PNEXT (0-based) and TLEN, read once for the checks that need them
    next_pos: np.ndarray
    template_lengths: np.ndarray
    hashed: np.ndarray | None = None  # rows with hashed names (set by check_read_names)

    @classmethod
    def read(cls, buffer: bytes, walked: scan.BamRecords) -> RecordBlock:
        (offsets, ref_id, pos, flag, name_lengths, cigar_counts, sequence_lengths, _, reference_lengths, first_operations, contiguous,
         leading_clips, laid_lengths, cigar_starts, sequence_starts, off_grammar) = walked.records  # fmt: skip
        # the last 12 of a record's 36 fixed bytes (next_refID, next_pos, tlen), gathered as one item of
        # 12 bytes a record from a view with one starting at each byte, then read as three int32 columns
        mates = np.ndarray(shape=(max(len(buffer) - 35, 0),), dtype="V12", buffer=buffer, offset=min(24, len(buffer)), strides=(1,))
        next_ref_id, next_pos, template_lengths = mates[offsets].view("<i4").reshape(-1, 3).T.astype(np.int64, order="C")
        return cls(
            buffer, np.frombuffer(buffer, dtype=np.uint8), offsets, ref_id, pos, flag, offsets + 36, name_lengths - 1, cigar_starts,
            cigar_counts, sequence_starts, sequence_lengths, reference_lengths, first_operations, contiguous, leading_clips,
            laid_lengths, off_grammar, next_ref_id, next_pos, template_lengths,
        )  # fmt: skip

    def base_codes(self, rows: np.ndarray, query: np.ndarray) -> np.ndarray:
        """The 4-bit base code at query offset ``query`` of record ``rows``."""
        packed = self.data[self.sequence_starts[rows] + (query >> 1)]
        return np.where(query & 1, packed & 0xF, packed >> 4)

    def decoded(self, row: int, references: list[str]) -> AlignedRead:
        """One record as an ``AlignedRead`` (the slow path, for the few records that need it)."""
        buffer = self.buffer
        start, count = int(self.cigar_starts[row]), int(self.cigar_counts[row])
        cigar = [(word & 0xF, word >> 4) for word in struct.unpack_from(f"<{count}I", buffer, start)]  # within the record (``walk``)
        length = int(self.sequence_lengths[row])
        sequence_start = int(self.sequence_starts[row])
        letters = b"".join(map(PACKED_LETTERS.__getitem__, buffer[sequence_start : sequence_start + (length + 1) // 2]))
        ref_id = int(self.ref_id[row])
        contig = references[ref_id] if 0 <= ref_id < len(references) else "*"
        return AlignedRead.from_cigar(contig, int(self.pos[row]), cigar, letters[:length])


def audit_records(buffer: bytes, walked: scan.BamRecords, checks: RecordChecks, findings: Findings) -> None:
    """Every check on a block of whole records (as ``walk`` found them); counts go into ``findings``."""
    if not walked.record_count:
        return
    block = RecordBlock.read(buffer, walked)
    records, codes, types, starts, ends = walked.tags
    tags = AuxTags(records, codes, types, starts, ends)
    findings.records += walked.record_count
    check_skipped_fields(block, checks, findings)
    check_cigar_operations(block, checks, findings)
    if checks.lengths is not None:
        check_contig_ends(block, checks, findings)
    off_grammar = check_tags(block, tags, checks, findings)
    if checks.read_names:
        check_read_names(block, checks, findings)
    unusual = sequences_off(block, np.arange(len(block.flag)), ACGTN_PAIRS) if checks.mate_key is not None else None
    if checks.forbid is not None:
        qualities = quality_fields(tags, off_grammar)
        search_text_fields(block, tags, checks, findings, off_grammar, qualities)
        search_bases_and_qualities(block, checks, findings, tags, qualities, unusual)
    if checks.germline is not None:
        unmapped_bases_kept(block, checks, findings)
        unmapped_pairs_at_insertions(block, checks, findings)
        mate_cigars_at_germline_indels(block, tags, checks, findings)
        split_reads_at_sites(block, checks, findings)
    if checks.mate_key is not None:
        check_mates(block, tags, checks, findings, unusual)
    if checks.germline is not None or checks.regions is not None:
        check_positions(block, checks, findings, tags)
    if checks.regions is not None:
        mate_starts_into_regions(block, tags, checks, findings)
        tag_alignments_into_regions(block, tags, checks, findings)
    if checks.all_reference is not None:
        reference_differences(block, checks, findings)
    if checks.low_mapq is not None:
        low_mapq_differences(block, checks, findings)
    if checks.listed is not None and checks.listed.names:
        check_listed_contigs(block, tags, checks.listed, findings)


def report_places(findings: Findings, key: str, checks: RecordChecks, rows: np.ndarray, block: RecordBlock) -> None:
    """``rows`` of a block as germline findings of ``key``: counted, the first few placed."""
    if len(rows):
        first = rows[:EXAMPLES_PER_KEY].tolist()
        findings.germline.add_all(key, [where(checks, int(block.ref_id[row]), int(block.pos[row])) for row in first], len(rows))


def check_mates(block: RecordBlock, tags: AuxTags, checks: RecordChecks, findings: Findings, unusual: np.ndarray | None = None) -> None:
    """A record's mate fields held to its mate (``audit_mates``): TLEN to the outer span of the
    read and its ``MC``; PNEXT to the mate record's POS and the mate's presence, joined by keyed
    name hashes in the block, the records whose mate is in another block passed on to the file's
    ``MateJoin`` (near ones to wait for it, the rest into its sums); and SEQ bases written ``=``,
    which the scrubbers never write (the reads at sites would show as the ones written plain).
    Germline findings, placed at the record."""
    key = checks.mate_key
    assert key is not None
    unusual = sequences_off(block, np.arange(len(block.flag)), ACGTN_PAIRS) if unusual is None else unusual
    report_places(findings, EQUALS_BASE, checks, sequences_off(block, unusual, NO_EQUALS_PAIRS), block)
    flag = block.flag.astype(np.int64)
    chosen = np.flatnonzero((tags.codes == MATE_CIGAR_CODE) & (tags.types == ord("Z")))
    mate_cigars = (tags.records[chosen], tags.starts[chosen], tags.ends[chosen])
    misses = template_length_misses(
        block.buffer, flag, block.ref_id, block.pos, block.reference_lengths, block.next_ref_id, block.next_pos,
        block.template_lengths, mate_cigars,
    )  # fmt: skip
    report_places(findings, TEMPLATE_LENGTH, checks, misses, block)
    findings.mate_join.add_contigs(block.ref_id)
    paired = np.flatnonzero((flag & (FLAG_PAIRED | NOT_PRIMARY)) == FLAG_PAIRED)
    if not len(paired):
        return
    names = name_hashes(block.data, block.name_starts[paired], block.name_lengths[paired], key)
    segments = (flag[paired] & SEGMENTS).astype(np.uint64)
    ref_id, pos = block.ref_id[paired].astype(np.int64), block.pos[paired].astype(np.int64)
    next_ref_id, next_pos = block.next_ref_id[paired], block.next_pos[paired]
    own, claimed = place_numbers(ref_id, pos), place_numbers(next_ref_id, next_pos)
    cleared = (next_ref_id < 0) & ((flag[paired] & FLAG_MATE_UNMAPPED) == 0)  # the mate's place made unavailable
    with_mate_cigar = np.zeros(len(flag), dtype=bool)
    with_mate_cigar[mate_cigars[0]] = True
    rest, misses = pair_up(names, segments, own, claimed, cleared)
    report_places(findings, MATE_PLACE, checks, paired[misses], block)
    near = cleared[rest] | ((next_ref_id[rest] == ref_id[rest]) & (np.abs(next_pos[rest] - pos[rest]) <= NEAR))
    wait, far = rest[near], rest[~near]
    join = findings.mate_join
    columns = (names, segments, own, claimed, cleared, with_mate_cigar[paired], ref_id, pos)
    join.add_waiting(tuple(column[wait] for column in columns))
    if len(far):
        selves = described(names[far], segments[far], own[far], key)
        claims = described(names[far], mate_segments(segments[far]), claimed[far], key)
        contigs, mate_contigs = np.tile(ref_id[far], 2), np.tile(next_ref_id[far], 2)
        join.add_sums(contigs, mate_contigs, np.concatenate([selves, np.uint64(0) - claims]))


def settle_mates(checks: RecordChecks, findings: Findings) -> None:
    """The file is read: what ``check_mates`` left waiting or summed settled (``MateJoin.settle``)."""
    for key, examples, amount in findings.mate_join.settle():
        wheres = [
            where(checks, ref_id, pos) if pos >= 0 else f"{contig_name(checks, ref_id)} and {contig_name(checks, -2 - pos)}"
            for ref_id, pos in examples
        ]
        findings.germline.add_all(key, wheres, amount)
    places, amount = findings.split_join.settle(EXAMPLES_PER_KEY)
    if amount:
        findings.germline.add_all(SPLIT_AT_SITE, [where(checks, ref_id, pos) for ref_id, pos in places], amount)


def split_reads_at_sites(block: RecordBlock, checks: RecordChecks, findings: Findings) -> None:
    """A block's part of the join of supplementary records with their primaries
    (``audit_split_reads``): each primary's footprint (its aligned span, its clips laid beside it)
    held to the sites where a read may split (``GermlineSites.split_starts``), settled with the
    mates when the file is read (``settle_mates``)."""
    sites, key = checks.germline, checks.mate_key
    assert sites is not None and key is not None
    flag = block.flag.astype(np.int64)
    mapped = (block.ref_id >= 0) & (block.pos >= 0) & ((flag & FLAG_UNMAPPED) == 0) & (block.cigar_counts > 0)
    candidates = np.flatnonzero(mapped & ((flag & NOT_PRIMARY) == 0))
    at_site = np.zeros(len(flag), dtype=bool)
    if len(candidates) and len(sites.split_starts):
        start = (block.ref_id[candidates].astype(np.int64) << 32) + block.pos[candidates]
        end = start + block.reference_lengths[candidates]
        clipped = np.flatnonzero(block.cigar_counts[candidates] > 1)  # a read of one operation has no clip
        if len(clipped):
            leading, trailing = clip_lengths(block, candidates[clipped])
            start[clipped] -= leading
            end[clipped] += trailing
        at_site[candidates] = overlap_mask(sites.split_starts, sites.split_ends, start, end)
    if not at_site.any() and not (flag & 0x800).any():
        return
    supplementary, primaries = split_parts(
        block.data, block.flag, block.name_starts, block.name_lengths, block.ref_id, block.pos, at_site & mapped, key
    )
    findings.split_join.add(supplementary, primaries)


def check_listed_contigs(block: RecordBlock, tags: AuxTags, listed: ListedContigs, findings: Findings) -> None:
    """Records placed on a listed contig (RNAME, an unmapped read placed at its mate's too), records
    whose mate is (RNEXT), and alignment lists (``ALIGNMENT_LIST_TAGS``) with an entry on one: each a
    germline finding, counted by kind, placed by the @SQ rank (``reference N``), since the contig's
    name would be the genotype. Array passes; only the few list values are read one by one."""
    data = block.data
    fixed = block.offsets[:, None] + np.arange(24, 28)  # next_refID
    mate_ids = data[np.minimum(fixed, len(data) - 1)].copy().view("<i4").reshape(-1).astype(np.int64)
    marked = [(listed.on(block.ref_id.astype(np.int64)), LISTED_CONTIG), (listed.on(mate_ids), LISTED_MATE)]
    lists = np.flatnonzero(tag_table(ALIGNMENT_LIST_TAGS)[tags.codes] & TEXT_TYPES[tags.types])
    if len(lists):
        naming = np.zeros(len(block.offsets), dtype=bool)
        buffer = block.buffer
        for index in lists.tolist():
            value = buffer[int(tags.starts[index]) : int(tags.ends[index])]
            if any(entry.split(b",", 1)[0] in listed.names for entry in value.split(b";")):
                naming[int(tags.records[index])] = True
        marked.append((naming, LISTED_ALIGNMENT))
    for rows, key in marked:
        bad = np.flatnonzero(rows)
        if len(bad):
            leading = bad[:EXAMPLES_PER_KEY].tolist()
            places = [f"reference {int(block.ref_id[row]) + 1}:{int(block.pos[row]) + 1}" if block.ref_id[row] >= 0 else "unplaced"
                      for row in leading]  # fmt: skip
            findings.germline.add_all(key, places, len(bad))


BIN = "bin (not the one of its position)"
QUAL_AFTER_MISSING = "QUAL after its missing mark (not 0xFF)"
SEQ_PADDING = "SEQ padding (not 0)"
FF_BYTE = np.zeros(256, dtype=np.uint8)
FF_BYTE[0xFF] = 1
QUAL_OVER_PHRED = "QUAL (a value over 93, no Phred+33 byte)"
PHRED = np.zeros(256, dtype=np.uint8)
PHRED[: ord("~") - 33 + 1] = 1
"""The quality values SAM text can write (``!`` to ``~``, Phred+33): one over 93 prints as a byte
outside them, and such values spell text (a name in UTF-8, byte by byte) no check of the record's
text reads."""
BIN_LEVELS = ((14, 4681), (17, 585), (20, 73), (23, 9), (26, 1))
"""The first bin of each level of the binning index, finest first (SAM 1.6, section 5.3)."""


def reg2bin(begins: np.ndarray, ends: np.ndarray) -> np.ndarray:
    """The bin of ``[begin, end)`` (SAM 1.6, section 5.3, ``reg2bin``), for arrays."""
    last = ends - 1
    bins = np.zeros(len(begins), dtype=np.int64)
    done = np.zeros(len(begins), dtype=bool)
    for shift, first in BIN_LEVELS:
        same = ~done & ((begins >> shift) == (last >> shift))
        bins[same] = first + (begins[same] >> shift)
        done |= same
    return bins


def check_skipped_fields(block: RecordBlock, checks: RecordChecks, findings: Findings) -> None:
    """The bytes of a record readers skip (SAM 1.6, section 4.2), each a metadata finding unless
    it is what htslib writes: ``bin``, which htslib computes again from the position and CIGAR
    when it reads a record (its low 16 bits, all the field holds past 2^29; 0 too for an
    unmapped read: writers that leave it unset); QUAL after
    a first byte of 0xFF (QUAL missing: printed ``*``), which must be 0xFF throughout; the low
    half of SEQ's last byte when SEQ has an odd length; a quality value over 93 (``PHRED``). A few
    array passes over the block: most
    reads lie within one 16 kb bin, and have neither a missing QUAL nor an odd length."""
    data = block.data
    at = block.offsets + 14
    stored = np.take(data, at).astype(np.int64) | (np.take(data, at + 1).astype(np.int64) << 8)
    unmapped = (block.flag & FLAG_UNMAPPED) != 0
    spans = np.where(unmapped | (block.reference_lengths == 0), 1, block.reference_lengths)
    begins = block.pos
    finest = begins >> 14
    within = finest == (begins + spans - 1) >> 14
    bins = finest + BIN_LEVELS[0][1]
    wider = np.flatnonzero(~within)
    if len(wider):
        bins[wider] = reg2bin(begins[wider], begins[wider] + spans[wider])
    marked = [(((bins & 0xFFFF) != stored) & ~(unmapped & (stored == 0)), BIN)]
    lengths = block.sequence_lengths
    quality_starts = block.sequence_starts + ((lengths + 1) >> 1)
    missing = np.flatnonzero((np.take(data, quality_starts, mode="clip") == 0xFF) & (lengths > 1))
    if len(missing):
        kept = ~scan.spans_within(data, quality_starts[missing], quality_starts[missing] + lengths[missing], FF_BYTE)
        marked.append((missing[kept], QUAL_AFTER_MISSING))
    given = np.take(data, quality_starts, mode="clip") != 0xFF
    marked.append((given & ~scan.spans_within(data, quality_starts, quality_starts + np.where(given, lengths, 0), PHRED), QUAL_OVER_PHRED))
    odd = np.flatnonzero(lengths & 1)
    if len(odd):
        marked.append((odd[(data[block.sequence_starts[odd] + (lengths[odd] >> 1)] & 0x0F) != 0], SEQ_PADDING))
    for rows, key in marked:
        bad = np.flatnonzero(rows) if rows.dtype == bool else rows
        if len(bad):
            leading = bad[:EXAMPLES_PER_KEY].tolist()
            findings.metadata.add_all(key, [where(checks, int(block.ref_id[row]), int(block.pos[row])) for row in leading], len(bad))


CIGAR_OFF_GRAMMAR = "CIGAR (an operation none of MIDNSHP=X)"
"""A metadata finding: a CIGAR operation of code 9 to 15 (htslib's ``B``, the others unnamed),
which every scrubber refuses. Where it lies on the reference no check can tell, so the bases
it governs are not judged: the record itself is the finding (fail closed)."""


def check_cigar_operations(block: RecordBlock, checks: RecordChecks, findings: Findings) -> None:
    """Records whose CIGAR (the one readers see: ``CG``'s where htslib takes it) holds an
    operation off ``MIDNSHP=X``; flagged by ``scan.bam_records`` as it walks the operations."""
    bad = np.flatnonzero(block.off_grammar)
    if len(bad):
        leading = bad[:EXAMPLES_PER_KEY].tolist()
        findings.metadata.add_all(
            CIGAR_OFF_GRAMMAR, [where(checks, int(block.ref_id[row]), int(block.pos[row])) for row in leading], len(bad)
        )


PLACE_PAST_END = "POS and CIGAR past the contig's end (LN) by more than the contig and a read"
TEMPLATE_PAST_END = "TLEN longer than twice its contig (LN), a read and the distance to the mate"
MATE_PAST_END = "PNEXT past its contig's end (LN) by more than the contig and a read"
"""Metadata findings: a number held in the position columns that no place on the contig gives
(``19900101`` on a contig of 2000). A read may run past its contig's end (a circular chrM's;
test files cut a genome's header to a region), so: POS plus the CIGAR's reference length less one
at most twice the contig's LN and a read (SEQ's length, or its aligned bases without the skips
``N``); |TLEN| at most twice the LN, a read (SEQ, or the CIGAR's reference length) and, for a mate on
the same contig, the distance from POS to PNEXT. A read on ``*`` is held to nothing. PNEXT is held
to twice its contig's LN (next_refID's; the longest for none) and the record's read, as POS is
(``MATE_PAST_END``: ``PNEXT 19900101`` on a contig of 5000). The scrubbers'
``sam_columns.ReadPlaces`` refuses the same records, but for PNEXT, whose place sam-scrub-rg
makes unavailable (headers cut to a region name mates far past their LN)."""
CIGAR_SKIP = 3


def check_contig_ends(block: RecordBlock, checks: RecordChecks, findings: Findings) -> None:
    """Records whose POS and CIGAR, or TLEN, lie far past their contig's end (``PLACE_PAST_END``):
    array passes, the CIGAR's skips read only for the few reads whose span needs them."""
    assert checks.lengths is not None
    count = len(checks.lengths)
    table = np.array([*checks.lengths, 0], dtype=np.int64)
    mate = np.stack([block.next_ref_id, block.next_pos, block.template_lengths], axis=1)
    placed = (block.ref_id >= 0) & (block.ref_id < count)
    lengths = table[np.where(placed, block.ref_id, count)]
    reads, references = block.sequence_lengths.astype(np.int64), block.reference_lengths.astype(np.int64)
    positioned = placed & (block.pos >= 0)
    ends = block.pos + references
    past = positioned & (ends > 2 * lengths + np.maximum(reads, references))
    for row in np.flatnonzero(positioned & ~past & (ends > 2 * lengths + reads)).tolist():
        start, operations = int(block.cigar_starts[row]), int(block.cigar_counts[row])
        words = np.frombuffer(block.data[start : start + 4 * operations].tobytes(), dtype="<u4")
        skipped = int((words[(words & 0xF) == CIGAR_SKIP] >> 4).sum())
        past[row] = int(ends[row]) > 2 * int(lengths[row]) + max(int(reads[row]), int(references[row]) - skipped)
    near = (mate[:, 0] == block.ref_id) & (block.pos >= 0) & (mate[:, 1] >= 0)
    apart = np.where(near, np.abs(mate[:, 1] - block.pos), 0)
    long_templates = placed & (np.abs(mate[:, 2]) > 2 * lengths + np.maximum(reads, references) + apart)
    mate_placed = (mate[:, 0] >= 0) & (mate[:, 0] < count)
    mate_lengths = np.where(mate_placed, table[np.where(mate_placed, mate[:, 0], count)], max(checks.lengths, default=0))
    far_mates = np.abs(mate[:, 1] + 1) > 2 * mate_lengths + np.maximum(reads, references)
    for row in np.flatnonzero(~far_mates & (np.abs(mate[:, 1] + 1) > 2 * mate_lengths + reads)).tolist():
        start, operations = int(block.cigar_starts[row]), int(block.cigar_counts[row])
        words = np.frombuffer(block.data[start : start + 4 * operations].tobytes(), dtype="<u4")
        skipped = int((words[(words & 0xF) == CIGAR_SKIP] >> 4).sum())
        far_mates[row] = abs(int(mate[row, 1]) + 1) > 2 * int(mate_lengths[row]) + max(int(reads[row]), int(references[row]) - skipped)
    for rows, key in ((past, PLACE_PAST_END), (long_templates, TEMPLATE_PAST_END), (far_mates, MATE_PAST_END)):
        bad = np.flatnonzero(rows)
        if len(bad):
            leading = bad[:EXAMPLES_PER_KEY].tolist()
            findings.metadata.add_all(key, [where(checks, int(block.ref_id[row]), int(block.pos[row])) for row in leading], len(bad))


AUX_VALUE_OFF_GRAMMAR = "aux value off its grammar"
"""The finding of an allowlisted tag whose value (or type) is off its grammar: counted by tag name."""
REPEATED = " (repeated)"
"""After ``aux tag`` and its name, the finding of a tag given twice in a record: each copy after the first."""
OFF_LIST = " (off --only-tags)"
"""After ``aux tag`` and its name, the finding of an allowlisted tag that ``--only-tags`` does not name."""


def check_tags(block: RecordBlock, tags: AuxTags, checks: RecordChecks, findings: Findings) -> np.ndarray | None:
    """Aux tags not on the allowlist, tags given twice in a record, allowlisted tags whose
    value is off its grammar and, with ``--only-tags``, allowlisted tags it does not name
    (metadata); with ``--germline``, tags copying sequence or naming germline sites. Returns
    which fields are off their grammar (None where values are not checked)."""
    if not len(tags.codes):
        return None
    off_grammar = None
    if checks.aux_values is not None:
        off_grammar = checks.aux_values.off_grammar(block, tags.records, tags.codes, tags.types, tags.starts, tags.ends)
    tags_proper = ~taken_cigars(block, tags)
    allowed = checks.allowed_tags[tags.codes]
    off_list = allowed & ~checks.listed_tags[tags.codes] & tags_proper if checks.listed_tags is not None else None
    for marked, found, label, suffix in (
        (~allowed & tags_proper, findings.metadata, "aux tag", ""),
        (off_list, findings.metadata, "aux tag", OFF_LIST),
        (repeated_fields(tags.records, tags.codes), findings.metadata, "aux tag", REPEATED),
        (off_grammar, findings.metadata, AUX_VALUE_OFF_GRAMMAR, ""),
        (checks.copying_tags[tags.codes] if checks.copying_tags is not None else None, findings.germline, "tag copying sequence", ""),
        (checks.site_tags[tags.codes] if checks.site_tags is not None else None, findings.germline, "tag naming germline sites", ""),
    ):
        if marked is None:
            continue
        bad = np.flatnonzero(marked)
        if not len(bad):
            continue
        order = np.lexsort((tags.records[bad], tags.codes[bad]))  # by tag, then by record: the first in the file lead
        codes, first, counts = np.unique(tags.codes[bad][order], return_index=True, return_counts=True)
        rows = tags.records[bad][order]
        for code, index, count in zip(codes.tolist(), first.tolist(), counts.tolist(), strict=True):
            leading = rows[index : index + min(count, EXAMPLES_PER_KEY)].tolist()
            positions = [where(checks, int(block.ref_id[row]), int(block.pos[row])) for row in leading]
            found.add_all(f"{label} {tag_name(code)}{suffix}", positions, count)
    return off_grammar


LONG_CIGAR_CODE = (ord("C") << 8) | ord("G")


def taken_cigars(block: RecordBlock, tags: AuxTags) -> np.ndarray:
    """The ``CG`` fields htslib takes as their record's CIGAR (the CIGAR readers see starts in
    them: ``RecordBlock.cigar_starts``): to a reader they are the CIGAR, checked as such, not a
    tag. Any other ``CG`` (a second one, or beside a CIGAR that is not the placeholder) is an
    array of free numbers, off the allowlist."""
    taken = tags.codes == LONG_CIGAR_CODE
    taken[taken] = tags.starts[taken] + 5 == block.cigar_starts[tags.records[taken]]
    return taken


def check_read_names(block: RecordBlock, checks: RecordChecks, findings: Findings) -> None:
    """Read names that are not pseudonyms as the scrubbers write them (``READ<n>``, 24 hex digits, ``*``)."""
    lengths = block.name_lengths
    starts, ends = block.name_starts, block.name_starts + lengths
    good = np.zeros(len(lengths), dtype=bool)
    hashed = np.flatnonzero(lengths == HASHED_NAME)
    if len(hashed):
        good[hashed] = scan.spans_within(block.data, starts[hashed], ends[hashed], LOWER_HEX)
        block.hashed = hashed[good[hashed]]
    rest = np.flatnonzero(~good)
    if len(rest):
        numbered = rest[(lengths[rest] >= 5) & (lengths[rest] <= 4 + READ_COUNTER_DIGITS)]
        prefixed = np.ones(len(numbered), dtype=bool)
        for column, letter in enumerate(READ_PREFIX.tolist()):
            prefixed &= block.data[starts[numbered] + column] == letter
        numbered = numbered[prefixed]
        counters = scan.span_numbers(block.buffer, starts[numbered] + 4, ends[numbered])
        counted = (counters >= 0) & ((block.data[starts[numbered] + 4] != ord("0")) | (lengths[numbered] == 5))  # no leading zero
        good[numbered] = counted
        if counted.any():
            largest = int(np.argmax(np.where(counted, counters, 0)))
            row = int(numbered[largest])
            findings.counted_read(int(counters[largest]), where(checks, int(block.ref_id[row]), int(block.pos[row])))
        unnamed = rest[lengths[rest] == 1]
        good[unnamed] = block.data[starts[unnamed]] == ord("*")
    bad = np.flatnonzero(~good)
    if len(bad):
        leading = bad[:EXAMPLES_PER_KEY].tolist()
        findings.metadata.add_all("read name", [where(checks, int(block.ref_id[row]), int(block.pos[row])) for row in leading], len(bad))


def search_keyed_names(block: RecordBlock, hashed: np.ndarray, checks: RecordChecks, findings: Findings) -> None:
    """The forbid list's hex strings in keyed names (``hashed``: their rows), counted apart by
    the length of the string that hit: a count chance explains is no finding
    (``audit_findings.KeyedNameHits``, settled when the file is read). A pair's records share a
    name, so a hit comes in clumps (``CLUMP``)."""
    assert checks.forbid is not None
    keyed = findings.keyed_names
    keyed.names += len(hashed)
    keyed.clump = CLUMP
    hex_only = checks.forbid.hex_only
    if hex_only is None:
        return
    names = scan.join_spans(block.buffer, block.name_starts[hashed], block.name_starts[hashed] + HASHED_NAME)
    hits: dict[tuple[int, int], list[int]] = {}
    for entry, at in hex_only.search(names):
        if at % HASHED_NAME + len(entry.text) <= HASHED_NAME:
            hits.setdefault((entry.line, len(entry.text)), []).append(int(hashed[at // HASHED_NAME]))
    for (line, length), found in sorted(hits.items()):
        found.sort()
        positions = [where(checks, int(block.ref_id[row]), int(block.pos[row])) for row in found[:EXAMPLES_PER_KEY]]
        keyed.add_all(f"QNAME (list line {line})", length, positions, len(found))


COUNTER_CODES = frozenset((ord(name[0]) << 8) | ord(name[1]) for name in ("MI", "DI"))
"""Tags whose number counts through the file: fgbio's molecule (``MI``), Picard's duplicate set (``DI``)."""
COUNTER_VALUE = re.compile(rb"[0-9]{1,10}(?:/[A-Za-z0-9])?")


def counter_value(text: bytes, code: int, start: int, end: int) -> bool:
    """Whether ``text[start:end]`` is the number of a counter tag (``MI:Z:2301217/A``, ``DI:i:2301217``):
    searched as a position is, not at all. A file of 30x UMI reads numbers every molecule up to
    hundreds of millions, so it holds every listed number of 7 or 8 digits as one; the number names
    a molecule of the file, nothing else. Other text there is searched (``MI:Z:KIM2301217``)."""
    return code in COUNTER_CODES and COUNTER_VALUE.fullmatch(text, start, end) is not None


PLAIN_MD = np.zeros(256, dtype=bool)
PLAIN_MD[list(b"0123456789ACGTN^")] = True
"""The bytes of an MD string of plain bases: digits, ``ACGTN`` and the ``^`` of a deletion."""


def plain_edit_strings(block: RecordBlock, tags: AuxTags, text: np.ndarray, off_grammar: np.ndarray | None) -> np.ndarray:
    """Which of the text fields ``text`` are MD strings on their grammar, describing as many
    reference bases as their CIGAR (``check_tags`` judged both), of digits, ``ACGTN`` and ``^``
    only. Such an MD holds no name: its numbers add up to the read's span, its letters are bases
    (a deletion's the reference's), and it spells a short listed string by chance (``C10``, a C
    mismatch before 10 matches, in thousands of a genome's reads), as SEQ of plain bases does,
    which is not searched either. An MD with other base codes (``^KANGDAHYANG``) is searched."""
    if off_grammar is None:
        return np.zeros(len(text), dtype=bool)
    md = (tags.codes[text] == MD_CODE) & (tags.types[text] == ord("Z")) & ~off_grammar[text]
    candidates = np.flatnonzero(md)
    if len(candidates):
        fields = text[candidates]
        md[candidates] = np.asarray(scan.spans_within(block.data, tags.starts[fields], tags.ends[fields], PLAIN_MD), dtype=bool)
    return md


QUALITY_CODES = np.zeros(1 << 16, dtype=bool)
QUALITY_CODES[[(ord(name[0]) << 8) | ord(name[1]) for name in ("OQ", "U2", "BQ", "BD")]] = True
"""Tags of base qualities as long as SEQ, Phred+33 as QUAL is written: the original qualities
(``OQ``), the second call's (``U2``), BAQ's (``BQ``, ``BD``)."""


def quality_fields(tags: AuxTags, off_grammar: np.ndarray | None) -> np.ndarray:
    """The fields (indexes into ``tags``) of the quality tags (``QUALITY_CODES``) on their grammar
    (printable, as long as SEQ: ``check_tags``' verdicts): searched as QUAL is, not as text. Their
    bytes spell a short listed string by chance (``C10``: Q34, Q16, Q15), as QUAL's do."""
    if off_grammar is None:
        return np.zeros(0, dtype=np.int64)
    return np.flatnonzero(QUALITY_CODES[tags.codes] & (tags.types == ord("Z")) & ~off_grammar)


def search_text_fields(block: RecordBlock, tags: AuxTags, checks: RecordChecks, findings: Findings,
                       off_grammar: np.ndarray | None = None, qualities: np.ndarray | None = None) -> None:  # fmt: skip
    """Forbidden strings in read names and text aux values (never SEQ or QUAL), searched in one
    buffer: each field with the NUL that ends it in the record, so no match spans two fields;
    then the texts other aux values hold (``audit_aux_text``: arrays' bytes, numbers as long as
    a listed one), each ended by a NUL too. An MD of plain bases on its grammar is not searched
    (``plain_edit_strings``; ``off_grammar``: ``check_tags``' verdicts), nor the quality tags
    ``qualities`` (``quality_fields``), which ``search_bases_and_qualities`` searches as QUAL.
    A raw file may hold a hit in every record: the hits are placed and counted in bulk, by field
    and list line, each key's first records (in file order) named, as ``check_tags`` does."""
    assert checks.forbid is not None
    rows: list[np.ndarray] = []
    codes: list[np.ndarray] = []  # the tag's code, or QNAME_CODE
    lines: list[np.ndarray] = []
    plain_names = np.ones(len(block.name_starts), dtype=bool)
    if block.hashed is not None:  # hashed names, checked as lower-case hex: searched for the strings that can occur in them
        hashed = block.hashed
        plain_names[hashed] = False
        search_keyed_names(block, hashed, checks, findings)
    named = np.flatnonzero(plain_names)
    searched = TEXT_TYPES[tags.types]
    if qualities is not None:
        searched[qualities] = False
    text = np.flatnonzero(searched)
    text = text[~plain_edit_strings(block, tags, text, off_grammar)]
    starts = np.concatenate([block.name_starts[named], tags.starts[text]])
    ends = np.concatenate([block.name_starts[named] + block.name_lengths[named], tags.ends[text]]) + 1
    values = value_texts(block.data, tags.records, tags.codes, tags.types, tags.starts, tags.ends, checks.forbid.least_number)
    placed = exclusive_sum(np.concatenate([ends - starts, values.lengths]))
    span_rows = np.concatenate([named, tags.records[text], values.rows])
    span_codes = np.concatenate([np.full(len(named), QNAME_CODE, dtype=np.int64), tags.codes[text], values.codes])
    gathered = scan.join_spans(block.buffer, starts, ends) + values.text
    found = [(at, entry.line) for entry, at in checks.forbid.search(gathered)]
    if found:
        at, line = np.array(found, dtype=np.int64).T
        span = np.searchsorted(placed, at, side="right") - 1
        span_ends = np.append(placed[1:], len(gathered)) - 1  # each span's closing NUL
        counted = np.array([not counter_value(gathered, int(code), int(placed[one]), int(span_ends[one])) for one, code in
                            zip(span.tolist(), span_codes[span].tolist(), strict=True)], dtype=bool)  # fmt: skip
        rows.append(span_rows[span[counted]])
        codes.append(span_codes[span[counted]])
        lines.append(line[counted])
    if not rows:
        return
    row, code, line = (np.concatenate(parts).astype(np.int64) for parts in (rows, codes, lines))
    key = (code << 32) | line
    order = np.lexsort((row, key))  # by field and list line, then by record: the first in the file lead
    keys, first, counts = np.unique(key[order], return_index=True, return_counts=True)
    leading_rows = row[order]
    for each, index, count in zip(keys.tolist(), first.tolist(), counts.tolist(), strict=True):
        field_code, list_line = each >> 32, each & 0xFFFFFFFF
        field_name = "QNAME" if field_code == QNAME_CODE else f"aux {tag_name(field_code)}"
        leading = leading_rows[index : index + min(count, EXAMPLES_PER_KEY)].tolist()
        positions = [where(checks, int(block.ref_id[at]), int(block.pos[at])) for at in leading]
        findings.forbidden.add_all(f"{field_name} (list line {list_line})", positions, count)


PLAIN_BASE_PAIRS = np.zeros(256, dtype=np.uint8)
PLAIN_BASE_PAIRS[[high << 4 | low for high in (0, 1, 2, 4, 8, 15) for low in (0, 1, 2, 4, 8, 15)]] = 1
"""A byte of SEQ whose two codes are each ``=``, ``A``, ``C``, ``G``, ``T`` or ``N``: what reads hold."""
ACGTN_PAIRS = np.zeros(256, dtype=np.uint8)
ACGTN_PAIRS[[high << 4 | low for high in (1, 2, 4, 8, 15) for low in (1, 2, 4, 8, 15)]] = 1
"""A byte of SEQ whose two codes are each ``A``, ``C``, ``G``, ``T`` or ``N``: what the scrubbers write."""


def sequences_off(block: RecordBlock, rows: np.ndarray, pairs: np.ndarray) -> np.ndarray:
    """Those of ``rows`` whose SEQ holds a code outside ``pairs`` (a table of the packed bytes of
    two codes allowed): one C pass over their packed bases, an odd length's last code on its own."""
    if not len(rows):
        return rows
    lengths, starts = block.sequence_lengths[rows], block.sequence_starts[rows]
    plain = np.asarray(scan.spans_within(block.data, starts, starts + (lengths >> 1), pairs), dtype=bool)
    odd = np.flatnonzero(lengths & 1)
    if len(odd):
        last = block.data[starts[odd] + (lengths[odd] >> 1)] & 0xF0
        plain[odd] &= pairs[last | (last >> 4)].astype(bool)  # the padding code read as the last one again
    return rows[~plain]


PHRED_TEXT = bytes((value + 33) & 0xFF for value in range(256))
"""A quality value as SAM text writes it (Phred+33)."""
IDENTITY_TEXT = bytes(range(256))
"""Text read as it is written (a quality tag's, already Phred+33)."""


def search_bases_and_qualities(block: RecordBlock, checks: RecordChecks, findings: Findings, tags: AuxTags | None = None,
                               quality_tags: np.ndarray | None = None, unusual: np.ndarray | None = None) -> None:  # fmt: skip
    """Forbidden strings written where the bases and their qualities belong. QUAL is printable
    text (Phred+33), so a path or a name can be written there verbatim: searched for the list's
    strings of ``audit_forbid.QUALITY_LENGTH`` bytes or more, the reads' qualities one after another
    (a hit is counted in the read it starts in), then the quality tags ``quality_tags`` (fields of
    ``tags``: ``OQ``...), a hit a finding only beyond what chance gives such
    text (``audit_forbid.beyond_chance``). SEQ spells a
    name made of base codes (``KANGDAHYANG``): the few reads holding a code other than ``ACGTN=``
    (of ``unusual``, the block's reads with a code other than ``ACGTN``: one C pass over the
    packed bases, shared with ``check_mates``) are searched for the list's strings of such letters
    (``ForbidList.in_sequences``). A key's first records named, as ``search_text_fields`` does."""
    assert checks.forbid is not None
    marked: list[tuple[str, int]] = []  # (key, row)
    lengths = block.sequence_lengths
    qualities = checks.forbid.in_qualities
    if qualities is not None and len(lengths):
        starts = block.sequence_starts + ((lengths + 1) >> 1)
        given = np.flatnonzero((lengths > 0) & (np.take(block.data, starts, mode="clip") != 0xFF))
        values = scan.join_spans(block.buffer, starts[given], starts[given] + lengths[given])
        tag_text = b""
        if tags is not None and quality_tags is not None and len(quality_tags):  # Phred+33 text already, each field after a NUL
            tag_text = scan.join_spans(block.buffer, tags.starts[quality_tags], tags.ends[quality_tags] + 1)
        # most blocks hold no listed string: their qualities are not translated
        if qualities.may_occur(values, PHRED_TEXT) or (tag_text and qualities.may_occur(tag_text, IDENTITY_TEXT)):
            text = values.translate(PHRED_TEXT)
            placed = exclusive_sum(lengths[given])
            owners, fields = given, np.full(len(given), -1, dtype=np.int64)
            if tag_text:  # after QUAL, each field after a NUL
                spans = tags.ends[quality_tags] - tags.starts[quality_tags]  # type: ignore[union-attr,index]
                placed = np.concatenate([placed, len(text) + 1 + exclusive_sum(spans + 1)])
                text += b"\0" + tag_text
                owners = np.concatenate([given, tags.records[quality_tags]])  # type: ignore[union-attr,index]
                fields = np.concatenate([fields, tags.codes[quality_tags]])  # type: ignore[union-attr,index]
            for entry, at in beyond_chance(text, list(qualities.search(text))):
                index = int(np.searchsorted(placed, at, side="right") - 1)
                field = "QUAL" if fields[index] < 0 else f"aux {tag_name(int(fields[index]))}"
                marked.append((f"{field} (list line {entry.line})", int(owners[index])))
    sequences = checks.forbid.in_sequences
    if sequences is not None and len(lengths):
        unusual = sequences_off(block, np.arange(len(lengths)), ACGTN_PAIRS) if unusual is None else unusual
        for row in sequences_off(block, unusual, PLAIN_BASE_PAIRS).tolist():
            packed = block.data[int(block.sequence_starts[row]) : int(block.sequence_starts[row]) + (int(lengths[row]) + 1) // 2]
            letters = np.empty(2 * len(packed), dtype=np.uint8)
            letters[0::2], letters[1::2] = BASE_LETTERS[packed >> 4], BASE_LETTERS[packed & 0xF]
            for entry, _ in sequences.search(letters[: int(lengths[row])].tobytes()):
                marked.append((f"SEQ (list line {entry.line})", row))
    by_key: dict[str, list[int]] = {}
    for key, row in marked:
        by_key.setdefault(key, []).append(row)
    for key, rows in sorted(by_key.items()):
        leading = sorted(set(rows))[:EXAMPLES_PER_KEY]
        findings.forbidden.add_all(key, [where(checks, int(block.ref_id[row]), int(block.pos[row])) for row in leading], len(rows))


class EditTags:
    """Each record's first MD (type Z) and NM (an integer) of a block, for ``audit_edit_tags``."""

    def __init__(self, block: RecordBlock, tags: AuxTags) -> None:
        self.block = block
        count = len(block.offsets)
        self.md = first_of_each(tags.records, (tags.codes == MD_CODE) & (tags.types == ord("Z")), count)
        self.nm_fields = first_of_each(tags.records, (tags.codes == NM_CODE) & INTEGER_TYPES[tags.types], count)
        self.md_starts, self.md_ends, self.types = tags.starts, tags.ends, tags.types

    def nm(self, rows: np.ndarray) -> np.ndarray:
        """Each row's NM, -1 without one (read for the rows asked for: the reads over a site)."""
        fields = self.nm_fields[rows]
        values = np.full(len(rows), -1, dtype=np.int64)
        has = np.flatnonzero(fields >= 0)
        if len(has):
            values[has] = integers(self.block.data, self.types[fields[has]], self.md_starts[fields[has]])
        return values

    def check_laid(self, rows: np.ndarray, start: np.ndarray, end: np.ndarray, checks: RecordChecks, findings: Findings) -> None:
        """Reads whose bases lie without gaps (``rows``; aligned from global ``start`` to ``end``):
        MD at each germline SNV position, a deletion in MD, NM against MD's letters."""
        sites = checks.germline
        assert sites is not None
        block = self.block
        marked: list[tuple[np.ndarray, str]] = []
        without_md = rows[self.md[rows] < 0]
        if len(without_md):  # NM alone: held to SEQ and the reference, where it counts an edit at all
            nm = self.nm(without_md)
            counted = without_md[nm > 0]
            if len(counted):
                found = aligned_mismatches(block, counted, checks)
                marked.append((counted[(found >= 0) & (nm[nm > 0] > found)], NM_EDITS))
        rows = rows[self.md[rows] >= 0]
        md = self.md[rows]
        starts, ends = self.md_starts[md], self.md_ends[md]
        marked.append((rows[~np.asarray(scan.spans_within(block.data, starts, ends, NO_CARET), dtype=bool)], MD_DELETION))
        nm = self.nm(rows)
        with_nm = nm >= 0
        if with_nm.any():
            counts = mismatch_counts(block.buffer, block.data, starts[with_nm], ends[with_nm])
            marked.append((rows[with_nm][nm[with_nm] > counts], NM_EDITS))
        low = np.searchsorted(sites.snv_positions, start[rows], side="left")
        high = np.searchsorted(sites.snv_positions, end[rows], side="left")
        counts = high - low
        if counts.sum():
            pair = np.repeat(np.arange(len(rows)), counts)
            entries = np.repeat(low, counts) + np.arange(int(counts.sum())) - np.repeat(exclusive_sum(counts), counts)
            offsets = sites.snv_positions[entries] - start[rows][pair]
            said = said_at_sites(block.buffer, starts[pair], ends[pair], offsets)
            doubt = np.flatnonzero(said > 0)  # MD names a base there: held to SEQ and the reference
            if len(doubt):
                pair_rows = rows[pair[doubt]]
                query = block.leading_clips[pair_rows] + offsets[doubt]
                inside = query < block.sequence_lengths[pair_rows]
                read_codes = np.zeros(len(doubt), dtype=np.uint8)  # no base in SEQ (SEQ '*'): MD's mismatch is all it shows
                read_codes[inside] = block.base_codes(pair_rows[inside], query[inside])
                stale = stale_at_sites(said[doubt], read_codes, reference_codes_at(sites, sites.snv_positions[entries[doubt]]))
                marked.append((np.unique(pair_rows[stale]), MD_AT_SITE))
        for bad, key in marked:
            if len(bad):
                leading = np.sort(bad)[:EXAMPLES_PER_KEY].tolist()
                findings.germline.add_all(key, [where(checks, int(block.ref_id[row]), int(block.pos[row])) for row in leading], len(bad))

    def check_one(self, row: int, read: AlignedRead, candidates: list[int], checks: RecordChecks, findings: Findings) -> None:
        """A read with gaps: MD at each germline SNV position it aligns, NM against MD's letters and its insertions."""
        sites = checks.germline
        assert sites is not None
        md = int(self.md[row])
        block = self.block
        place = where(checks, int(block.ref_id[row]), int(block.pos[row]))
        nm = int(self.nm(np.array([row]))[0])
        if md < 0:
            contig = sites.reference_names.get(read.contig)
            if nm > 0 and contig is not None:
                reference = sites.reference.fetch(contig, read.start, read.end)
                if len(reference) == read.end - read.start and nm > counted_edits(read, reference):
                    findings.germline.add(NM_EDITS, place)
            return
        start, end = int(self.md_starts[md]), int(self.md_ends[md])
        seqless = bool(block.sequence_lengths[row] == 0)  # SEQ '*' (laid as N by ``check_one_read``): no base to show
        if nm >= 0 and nm > int(mismatch_counts(block.buffer, block.data, np.array([start]), np.array([end]))[0]) + edits(read):
            findings.germline.add(NM_EDITS, place)
        positions, offsets, read_codes = [], [], []
        for index in candidates:
            site = sites.site(index)
            for alt in site.alts:
                if len(alt) != len(site.ref):
                    continue
                for at, (ref_base, alt_base) in enumerate(zip(site.ref, alt, strict=True)):
                    offset = md_offset(read, site.start + at) if ref_base != alt_base else None
                    if offset is not None:
                        query = read.query_at(site.start + at)
                        positions.append(int(sites.global_starts[index]) + at)
                        offsets.append(offset)
                        read_codes.append(int(BASE_CODES[read.sequence[query]]) if query is not None and not seqless else 0)
        if not offsets:
            return
        count = len(offsets)
        said = said_at_sites(block.buffer, np.full(count, start, dtype=np.int64), np.full(count, end, dtype=np.int64), np.array(offsets))
        reference_bases = reference_codes_at(sites, np.array(positions, dtype=np.int64))
        if stale_at_sites(said, np.array(read_codes, dtype=np.uint8), reference_bases).any():
            findings.germline.add(MD_AT_SITE, place)


def aligned_mismatches(block: RecordBlock, rows: np.ndarray, checks: RecordChecks) -> np.ndarray:
    """For each row, a read whose bases lie without gaps: its aligned bases that differ from the
    reference (an N on either side counts, ``=`` matches), or -1 where the reference is not read
    (a contig it lacks, reads spread wider than ``REFERENCE_SPAN``, past the contig's end)."""
    sites = checks.germline
    assert sites is not None
    counts = np.full(len(rows), -1, dtype=np.int64)
    for ref_id in np.unique(block.ref_id[rows]).tolist():
        which = np.flatnonzero(block.ref_id[rows] == ref_id)
        contig = sites.reference_names.get(checks.references[ref_id])
        positions, lengths = block.pos[rows[which]].astype(np.int64), block.reference_lengths[rows[which]].astype(np.int64)
        lengths = np.minimum(lengths, block.sequence_lengths[rows[which]] - block.leading_clips[rows[which]])
        low, high = int(positions.min()), int((positions + lengths).max())
        if contig is None or high - low > REFERENCE_SPAN:
            continue
        bases = UPPER_LETTERS[np.frombuffer(sites.reference.fetch(contig, low, high), dtype=np.uint8)]
        inside = (positions + lengths - low <= len(bases)) & (lengths >= 0)
        which, positions, lengths = which[inside], positions[inside], lengths[inside]
        pair = np.repeat(np.arange(len(which)), lengths)
        query = np.arange(len(pair)) - np.repeat(exclusive_sum(lengths), lengths)
        letters = BASE_LETTERS[block.base_codes(rows[which][pair], block.leading_clips[rows[which]][pair] + query)]
        differs = ((letters != bases[positions[pair] - low + query]) | (letters == ord("N"))) & (letters != ord("="))
        counts[which] = np.bincount(pair[differs], minlength=len(which))
    return counts


UPPER_LETTERS = np.arange(256, dtype=np.uint8)
UPPER_LETTERS[ord("a") : ord("z") + 1] -= 32
FEW_POSITIONS = 256
"""Up to this many reference bases are fetched one by one (``reference_codes_at``)."""


def reference_codes_at(sites: GermlineSites, positions: np.ndarray) -> np.ndarray:
    """``reference_codes`` for positions spread over a contig: a few (MD's letters at sites)
    fetched one by one rather than the whole span they lie in."""
    if len(positions) > FEW_POSITIONS:
        return reference_codes(sites, positions)
    codes = np.full(len(positions), N_CODE, dtype=np.uint8)
    for at, position in enumerate(positions.tolist()):
        index = position >> 32
        contig = sites.reference_names.get(sites.names[index]) if index < len(sites.names) else None
        if contig is not None:
            base = sites.reference.fetch(contig, position & 0xFFFFFFFF, (position & 0xFFFFFFFF) + 1)
            codes[at] = BASE_CODES[base[0]] if base else N_CODE
    return codes


def check_positions(block: RecordBlock, checks: RecordChecks, findings: Findings, tags: AuxTags | None = None) -> None:
    """Germline alleles and region bases: in bulk for plain alignments, one by one for the rest.

    A read whose bases lie on the reference one after the other (soft clips laid beside its
    aligned bases, as ``audit_reads`` lays them) has its SNV and MNP bases checked in bulk
    too, and its region bases when they are all N; it is looked at one by one only near an
    indel site, for the indel alleles, or when it keeps a base in a region."""
    block = placed_at_mates(block)
    placed = (block.ref_id >= 0) & (block.pos >= 0) & (block.ref_id < len(checks.references))
    mapped = placed & ((block.flag & FLAG_UNMAPPED) == 0) & (block.cigar_counts > 0)
    first_operation = block.first_operations
    plain = mapped & (block.cigar_counts == 1) & ALIGNED_CODES[np.maximum(first_operation, 0)] & (first_operation >= 0)
    offset = block.ref_id.clip(0) << 32
    start = offset + block.pos
    end = start + block.reference_lengths
    # A read that is not plain may carry bases beyond its alignment in clips: widen by its length.
    reach = np.where(plain, 0, block.sequence_lengths)
    wide_start, wide_end = start - reach, end + reach
    snvs_counted = plain.copy()  # reads whose SNV and MNP alleles the bulk check counted
    edit_tags: EditTags | None = None
    slow: dict[int, set[int]] = {}  # rows to look at one by one -> sites already counted for them
    regions_unsettled: set[int] = set()  # rows whose region bases are looked at one by one
    fits_known: dict[int, bool] = {}  # ``no_alternate_fits``' verdicts, asked for near sites and near regions
    if checks.germline is not None:
        sites = checks.germline
        near = mapped & overlap_mask(sites.span_starts, sites.span_ends, wide_start, wide_end)
        plain_near = np.flatnonzero(near & plain)
        plain_counted = snv_alleles(block, plain_near, start[plain_near], end[plain_near], checks, findings)
        others = np.flatnonzero(near & ~plain)
        contiguous, leading, laid_length = laid_out(block, others)
        laid = others[contiguous]
        laid_start = start[laid] - leading[contiguous]
        laid_end = laid_start + laid_length[contiguous]
        counted = snv_alleles(block, laid, laid_start, laid_end, checks, findings, (wide_start[laid], wide_end[laid]))
        marking = np.flatnonzero(near & (~plain | (first_operation == DIFFERENT)))
        marked = mismatches_marked_at_sites(block, marking, start, checks, findings, [plain_counted, counted])
        edit_tags = EditTags(block, tags) if tags is not None else None
        if edit_tags is not None:
            edit_tags.check_laid(np.concatenate([plain_near, laid]), start, end, checks, findings)
        snvs_counted[laid] = True
        for row in others[~contiguous].tolist():
            slow[row] = set()
        near_indel = laid[overlap_mask(sites.indel_span_starts, sites.indel_span_ends, wide_start[laid], wide_end[laid])]
        for row in near_indel.tolist():
            slow[row] = set()
        for row in shifted_single_matches(block, plain_near, start, end, checks, fits_known).tolist():
            slow[row] = set()
        clips_at_sites(block, np.flatnonzero(mapped & ~plain), start, end, checks, findings)
        past_end = mapped & (block.ref_id < len(sites.lengths))
        past_end[past_end] = block.pos[past_end] + block.reference_lengths[past_end] > sites.lengths[block.ref_id[past_end]]
        for row in np.flatnonzero(past_end).tolist():  # bases past a contig's end: a circular chrM's first bases
            slow.setdefault(row, set())
    if checks.regions is not None:
        regions = checks.regions
        near_rows = np.flatnonzero(reads_near_regions(block, regions, placed, mapped, plain, start, end, reach))
        unmapped_near_regions(block, regions, placed & ~mapped, start, checks, findings)
        # Reads that lay their bases without gaps (most of them) are settled in bulk when every
        # base they lay in a region is N; the rest, and any that keeps a base, have their region
        # bases looked at one by one.
        contiguous, leading, laid_length = laid_out(block, near_rows)
        laid = contiguous | ~mapped[near_rows]  # an unmapped read lies at its place, base after base
        laid_rows = near_rows[laid]
        laid_start = np.where(mapped[laid_rows], start[laid_rows] - leading[laid], start[laid_rows])
        laid_bases = np.where(mapped[laid_rows], laid_length[laid], block.sequence_lengths[laid_rows])
        laid_end = laid_start + np.minimum(laid_bases, block.sequence_lengths[laid_rows])  # bases beyond SEQ are not there
        masked = np.zeros(len(near_rows), dtype=bool)
        masked[laid] = masked_in_regions(block, laid_rows, laid_start, laid_end, regions)
        masked &= ~clip_at_region(block, near_rows, start[near_rows], end[near_rows], mapped[near_rows], regions)
        regions_unsettled = set(near_rows[~masked].tolist())
        template_lengths_into_regions(block, placed, start, end, checks, findings)
        for row in regions_unsettled:
            slow.setdefault(row, set())
        if checks.germline is not None:  # one by one, a read of one match near a region is compared for indels too
            sites = checks.germline
            rows = near_rows[mapped[near_rows]]
            near_indel = rows[overlap_mask(sites.indel_span_starts, sites.indel_span_ends, wide_start[rows], wide_end[rows])]
            if sites.indels_on_reference and len(near_indel):  # unless its bases fit no ALT better: nothing to find
                settled = plain[near_indel] & (block.sequence_lengths[near_indel] == block.reference_lengths[near_indel])
                settled &= ~np.isin(near_indel, np.fromiter(regions_unsettled, dtype=np.int64, count=len(regions_unsettled)))
                settled[settled] = no_alternate_fits(block, near_indel[settled], start, end, checks, fits_known)
                near_indel = near_indel[~settled]
            for row in near_indel.tolist():
                slow.setdefault(row, set())
    if checks.germline is not None:
        for site, row in np.concatenate([counted, marked], axis=1).T.tolist():  # counted in bulk: not again one by one
            if row in slow:
                slow[row].add(site)
    for row in sorted(slow):
        check_one_read(
            block, row, bool(mapped[row]), bool(snvs_counted[row]), slow[row], int(wide_start[row]), int(wide_end[row]), checks, findings,
            checks.regions is not None and row in regions_unsettled, edit_tags if checks.germline is not None else None,
        )  # fmt: skip


def mismatches_marked_at_sites(
    block: RecordBlock, rows: np.ndarray, start: np.ndarray, checks: RecordChecks, findings: Findings, counted: list[np.ndarray]
) -> np.ndarray:
    """Each of ``rows`` (mapped reads near a germline site) whose CIGAR marks with ``X`` a
    position where a listed SNV or MNP's ALT differs from REF (``audit_reads.mismatch_marked``,
    in bulk): a germline finding keyed by the site, whatever the read's bases say, counted once
    a read and site beside the ``counted`` pairs (``(site, row)`` columns) its bases gave; returns
    the pairs it counted. The CIGAR words are read with numpy (SAM 1.6, section 4.2), their
    places only for the rows holding an ``X``; ``start`` is global, as the sites are."""
    sites = checks.germline
    assert sites is not None
    none = np.zeros((2, 0), dtype=np.int64)
    if not len(rows) or not len(sites.snv_positions):
        return none
    owner, operations, lengths = cigar_words(block, rows)
    marked = np.unique(owner[operations == DIFFERENT])
    if not len(marked):
        return none
    rows = rows[marked]
    owner, operations, lengths = cigar_words(block, rows)
    consumed = np.where(CONSUMES_REFERENCE_CODES[operations], lengths, 0)
    before = np.cumsum(consumed) - consumed
    first = np.searchsorted(owner, np.arange(len(rows)), side="left")
    offsets = before - before[first][owner]  # each operation's reference offset from POS
    x = np.flatnonzero(operations == DIFFERENT)
    x_starts = start[rows][owner[x]] + offsets[x]
    low = np.searchsorted(sites.snv_positions, x_starts, side="left")
    high = np.searchsorted(sites.snv_positions, x_starts + lengths[x], side="left")
    counts = high - low
    if not counts.sum():
        return none
    entries = np.repeat(low, counts) + np.arange(int(counts.sum())) - np.repeat(exclusive_sum(counts), counts)
    pairs = np.unique(np.stack([sites.snv_sites[entries], rows[owner[x]][np.repeat(np.arange(len(x)), counts)]]), axis=1)
    known = np.concatenate(counted, axis=1)
    pairs = pairs[:, ~np.isin(pairs[0] * (1 << 32) + pairs[1], known[0] * (1 << 32) + known[1])]
    for site in pairs[0].tolist():
        findings.germline.add(sites.label(site))
    return pairs


CONSUMES_REFERENCE_CODES = np.zeros(16, dtype=bool)
CONSUMES_REFERENCE_CODES[list(CONSUMES_REFERENCE)] = True


def cigar_words(block: RecordBlock, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Every CIGAR operation of ``rows``, in order: its row's index among ``rows``, its code and
    its length (SAM 1.6, section 4.2: length << 4 | operation, little-endian)."""
    counts = block.cigar_counts[rows].astype(np.int64)
    total = int(counts.sum())
    owner = np.repeat(np.arange(len(rows)), counts)
    within = np.arange(total) - np.repeat(exclusive_sum(counts), counts)
    at = block.cigar_starts[rows].astype(np.int64)[owner] + 4 * within
    data = block.data
    words = data[at].astype(np.int64) | data[at + 1].astype(np.int64) << 8 | data[at + 2].astype(np.int64) << 16 | (
        data[at + 3].astype(np.int64) << 24
    )
    return owner, words & 0xF, words >> 4


def shifted_single_matches(
    block: RecordBlock, rows: np.ndarray, start: np.ndarray, end: np.ndarray, checks: RecordChecks, known: dict[int, bool] | None = None
) -> np.ndarray:
    """Of ``rows`` (reads of one match near a germline site), those looked at one by one for the
    list's insertions and deletions: over an indel's span, with bases (SEQ ``*`` shows none), and
    not all of them the reference's (``on_reference``). An aligner writes an indel near a read's
    end as mismatches after a single match (no gap penalty pays off there), so such a read's
    bases are held to the allele's haplotype (``audit_reads.bases_fit_alternate``) as a gapped
    read's are; one whose bases are all the reference's fits no ALT better than REF, nor one whose
    few bases that differ cannot outweigh where the haplotypes differ (``alternate_may_fit``).
    ``known``: ``no_alternate_fits``' verdicts of the block, shared with its later calls."""
    sites = checks.germline
    assert sites is not None
    rows = rows[block.sequence_lengths[rows] > 0]
    rows = rows[overlap_mask(sites.indel_span_starts, sites.indel_span_ends, start[rows], end[rows])]
    if not sites.indels_on_reference or not len(rows):
        return rows
    settled = block.sequence_lengths[rows] == block.reference_lengths[rows]
    settled[settled] = no_alternate_fits(block, rows[settled], start, end, checks, known)
    return rows[~settled]


def no_alternate_fits(
    block: RecordBlock, rows: np.ndarray, start: np.ndarray, end: np.ndarray, checks: RecordChecks, known: dict[int, bool] | None = None
) -> np.ndarray:
    """For each row, a read of one match with as many bases as its alignment (global ``[start,
    end)``): can no indel or complex allele of a site over it fit its bases better than REF
    (``audit_reads.supports_alternate``), so that it need not be compared one by one? So when
    every base is the reference's (``on_reference``), or too few differ (``alternates_may_fit``).
    ``known`` (row -> verdict, for the same ``start`` and ``end``) gives the rows judged before in
    the block, and takes the verdicts of the others: a read near a region and an indel is asked twice."""
    if known is not None:
        seen = np.fromiter((row in known for row in rows.tolist()), dtype=bool, count=len(rows))
        if seen.any():
            settled = np.zeros(len(rows), dtype=bool)
            settled[seen] = [known[row] for row in rows[seen].tolist()]
            settled[~seen] = no_alternate_fits(block, rows[~seen], start, end, checks, known)
            return settled
    differing, masked = bases_off_reference(block, rows, checks)
    settled = differing == 0
    few = np.flatnonzero(differing > 0)
    settled[few] = ~alternates_may_fit(block, rows[few], start, end, 2 * differing[few] + masked[few], checks)
    if known is not None:
        known.update(zip(rows.tolist(), settled.tolist(), strict=True))
    return settled


def alternates_may_fit(
    block: RecordBlock, rows: np.ndarray, start: np.ndarray, end: np.ndarray, bounds: np.ndarray, checks: RecordChecks
) -> np.ndarray:
    """For each row, a read of one match (global ``[start, end)``, as many bases as it aligns):
    may an indel or complex allele of a site over it fit its bases better than REF one by one
    (``audit_reads.alternate_may_fit``; ``bounds``: twice its bases that differ from the
    reference plus its Ns)? Every allele ``check_one_read`` would hold it to, and more: the
    sites over each read found as ``GermlineSites.sites_between`` finds them, the pairs of read
    and allele judged at once (``audit_reads.alternates_may_fit_pairs``). True on a contig the
    reference lacks."""
    sites = checks.germline
    assert sites is not None
    may_fit = np.zeros(len(rows), dtype=bool)
    if not len(rows):
        return may_fit
    contigs = [sites.reference_names.get(checks.references[ref_id]) for ref_id in block.ref_id[rows].tolist()]
    may_fit[np.array([contig is None for contig in contigs], dtype=bool)] = True
    global_start, global_end = start[rows], end[rows]
    low = np.searchsorted(sites.site_starts, global_start - sites.longest_site, side="left")
    high = np.searchsorted(sites.site_starts, global_end, side="left")
    counts = np.maximum(high - low, 0)
    pair_row = np.repeat(np.arange(len(rows)), counts)
    at = np.repeat(low, counts) + np.arange(int(counts.sum())) - np.repeat(exclusive_sum(counts), counts)
    index = sites.site_order[at]
    kept = (sites.site_ends[at] > global_start[pair_row]) & sites.is_indel[index] & ~may_fit[pair_row]
    pair_row, index = pair_row[kept], index[kept]
    alleles: list[tuple[Reference, str, tuple[int, bytes, bytes]]] = []
    numbers: dict[tuple[str, int], list[int]] = {}  # (contig, site) -> its alleles' numbers
    pair_rows: list[int] = []
    pair_alleles: list[int] = []
    for row, site_index in zip(pair_row.tolist(), index.tolist(), strict=True):
        contig = contigs[row]
        assert contig is not None
        found = numbers.get((contig, site_index))
        if found is None:
            site = sites.site(site_index)
            found = numbers[(contig, site_index)] = []
            for alt in site.alts:
                if len(alt) != len(site.ref):  # an SNV or MNP allele: counted in bulk
                    found.append(len(alleles))
                    alleles.append((sites.reference, contig, (site.start, site.ref, alt)))
        pair_rows += [row] * len(found)
        pair_alleles += found
    paired = np.asarray(pair_rows, dtype=np.int64)
    read_rows = rows[paired]
    fits = alternates_may_fit_pairs(
        alleles, np.asarray(pair_alleles, dtype=np.int64), block.pos[read_rows].astype(np.int64),
        block.sequence_lengths[read_rows].astype(np.int64), bounds[paired],
    )  # fmt: skip
    may_fit[paired[fits]] = True
    return may_fit


CLIP_AT_SITE = "clip at a germline site"
"""A germline finding: a read whose clip at either end (its soft and hard clips together, laid
beside the alignment as if the aligner had not cut them) covers a germline site's span (an SNV's
bases, a deletion's REF bases, an insertion's anchor and the base after it; a breakpoint of a
symbolic ``<DEL>`` or ``<INS>`` too long to be held to reads as a site:
``audit_sites.VariantList.breakpoints``). An aligner clips an
allele near a read's end (a deletion a few bases from it, an SV's split read, whose supplementary
part is all clip there), so the clip's edge marks the carriers, whatever its bases say; the
reverter removes every clip whose projection comes within ``CLIP_MARGIN`` (10) of a germline
window, which holds the site (a strict superset of this finding)."""


def clips_at_sites(
    block: RecordBlock, rows: np.ndarray, start: np.ndarray, end: np.ndarray, checks: RecordChecks, findings: Findings
) -> None:
    """Each of ``rows`` (mapped reads of more than one CIGAR operation) whose clip at either end
    projects onto a germline site's span (``CLIP_AT_SITE``): the clips read from the first two and
    last two CIGAR words with numpy (SAM 1.6, section 4.2), ``start`` and ``end`` global as the
    sites' spans are."""
    sites = checks.germline
    if sites is None or not len(rows):
        return
    leading, trailing = clip_lengths(block, rows)
    clipped = (leading > 0) | (trailing > 0)
    rows, leading, trailing = rows[clipped], leading[clipped], trailing[clipped]
    if not len(rows):
        return
    at_site = partial(overlap_mask, sites.clip_starts, sites.clip_ends)
    read_start, read_end = start[rows], end[rows]
    found = ((leading > 0) & at_site(read_start - leading, read_start)) | ((trailing > 0) & at_site(read_end, read_end + trailing))
    bad = rows[found]
    if len(bad):
        first = bad[:EXAMPLES_PER_KEY].tolist()
        findings.germline.add_all(CLIP_AT_SITE, [where(checks, int(block.ref_id[row]), int(block.pos[row])) for row in first], len(bad))


def soft_clip_bases_kept(block: RecordBlock, row: int) -> bool:
    """Whether the record's soft clips (at either end, inside any hard clip) keep a base other
    than N; a record without a CIGAR or bases keeps none there."""
    _, operations, lengths = cigar_words(block, np.array([row]))
    ops, sizes = operations.tolist(), lengths.tolist()
    while ops and ops[0] == HARD_CLIP:
        ops, sizes = ops[1:], sizes[1:]
    while ops and ops[-1] == HARD_CLIP:
        ops, sizes = ops[:-1], sizes[:-1]
    length = int(block.sequence_lengths[row])
    lead = sizes[0] if ops and ops[0] == SOFT_CLIP else 0
    trail = sizes[-1] if len(ops) > 1 and ops[-1] == SOFT_CLIP else 0
    start = int(block.sequence_starts[row])
    for base in (*range(min(lead, length)), *range(max(length - trail, lead), length)):
        code = block.data[start + (base >> 1)]
        if ((code >> 4) if base % 2 == 0 else (code & 0xF)) != 0xF:
            return True
    return False


def clip_lengths(block: RecordBlock, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For each row, the bases clipped (soft and hard) before its aligned part and after it: the
    operations of its first two and last two CIGAR words (a hard clip outside a soft one)."""
    counts = block.cigar_counts[rows].astype(np.int64)
    cigar_starts = block.cigar_starts[rows].astype(np.int64)
    data = block.data
    last_byte = len(data) - 4

    def word(index: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        at = np.clip(cigar_starts + 4 * index, 0, max(last_byte, 0))
        words = data[at].astype(np.int64) | data[at + 1].astype(np.int64) << 8 | data[at + 2].astype(np.int64) << 16 | (
            data[at + 3].astype(np.int64) << 24
        )
        operations = words & 0xF
        return (operations == SOFT_CLIP) | (operations == HARD_CLIP), words >> 4

    zero = np.zeros(len(rows), dtype=np.int64)
    first, first_length = word(zero)
    second, second_length = word(np.minimum(1, counts - 1))
    first &= counts > 1
    second &= first & (counts > 2)
    leading_operations = first.astype(np.int64) + second
    last, last_length = word(counts - 1)
    before_last, before_last_length = word(np.maximum(counts - 2, 0))
    last &= (counts - 1 >= leading_operations) & (counts > 1)
    before_last &= last & (counts - 2 >= leading_operations)
    leading = np.where(first, first_length, 0) + np.where(second, second_length, 0)
    trailing = np.where(last, last_length, 0) + np.where(before_last, before_last_length, 0)
    return leading, trailing


def placed_at_mates(block: RecordBlock) -> RecordBlock:
    """The block with each unmapped read written unplaced (refID -1) that names its mate's place
    (next_refID, next_pos) placed there, for the checks of bases by place: SAM places an
    unmapped read at its mate, and its bases (a repeat allele's read that failed to map, its
    mate anchored in the flank) say the same whichever way it is written. The other checks
    read the fields as written."""
    moved = (block.ref_id < 0) & ((block.flag & FLAG_UNMAPPED) != 0) & (block.next_ref_id >= 0) & (block.next_pos >= 0)
    if not moved.any():
        return block
    ref_id = np.where(moved, block.next_ref_id, block.ref_id).astype(block.ref_id.dtype)
    return replace(block, ref_id=ref_id, pos=np.where(moved, block.next_pos, block.pos).astype(block.pos.dtype))


def reads_near_regions(
    block: RecordBlock, regions: RegionList, placed: np.ndarray, mapped: np.ndarray, plain: np.ndarray, start: np.ndarray,
    end: np.ndarray, reach: np.ndarray,
) -> np.ndarray:
    """Which reads may keep a base in a region or show a length there, and are looked at further:
    a mapped read whose span, widened by ``reach`` (its clips' bases) and by its longest insertion
    or deletion, overlaps a region or meets its edge (an insertion, a clip junction or an indel's
    widened span at a region's edge shows a length too: ``length_shown_in_regions``), and an
    unmapped read whose bases, laid from its place, overlap one."""
    widen = reach.copy()
    gapped = np.flatnonzero(mapped & ~plain)
    widen[gapped] = np.maximum(widen[gapped], longest_length_changes(block, gapped))
    unmapped_end = start + block.sequence_lengths
    return (mapped & overlap_mask(regions.merged_starts, regions.merged_ends, start - widen - 1, end + widen + 1)) | (
        placed & ~mapped & overlap_mask(regions.merged_starts, regions.merged_ends, start, unmapped_end)
    )


UNMAPPED_REACH = 1000
"""How far from a region an unmapped read placed beside its mapped mate may hold the region's
bases: within about an insert size (a read of an expanded repeat allele fails to map, its mate
anchors in the flank and places it there)."""


def unmapped_near_regions(
    block: RecordBlock, regions: RegionList, unmapped: np.ndarray, start: np.ndarray, checks: RecordChecks, findings: Findings
) -> None:
    """Unmapped reads placed within ``UNMAPPED_REACH`` of a region but not on it (the bases of
    those on it are laid there: ``reads_near_regions``) that keep a base other than N: a region
    finding keyed ``(unmapped near)``, whichever of their bases the region's are. sam-mask-regions
    masks every such read whole (its own copy of the reach), so 25 units of an STR in the read
    of a mate placed 100 bases before it went unseen. ``start`` is global, as the regions are."""
    rows = np.flatnonzero(unmapped)
    if not len(rows):
        return
    ends = start[rows] + block.sequence_lengths[rows]
    near = overlap_mask(regions.merged_starts, regions.merged_ends, start[rows] - UNMAPPED_REACH, ends + UNMAPPED_REACH)
    near &= ~overlap_mask(regions.merged_starts, regions.merged_ends, start[rows], ends)
    rows = rows[near]
    for row in rows[bases_kept(block, rows)].tolist():
        low = int(start[row])
        for region in regions.regions_between(low - UNMAPPED_REACH, low + int(block.sequence_lengths[row]) + UNMAPPED_REACH)[:1]:
            label = f"{region.label}{f' {region.name}' if region.name else ''} (unmapped near)"
            findings.regions.add(label, where(checks, int(block.ref_id[row]), int(block.pos[row])))


def longest_length_changes(block: RecordBlock, rows: np.ndarray) -> np.ndarray:
    """For each row, its CIGAR's longest insertion or deletion (at least 1 where it has one),
    0 without: ``audit_reads.length_change_reach`` for a block's rows, the CIGAR words read
    with numpy (SAM 1.6, section 4.2: length << 4 | operation, little-endian)."""
    counts = block.cigar_counts[rows]
    longest = np.zeros(len(rows), dtype=np.int64)
    total = int(counts.sum())
    if not total:
        return longest
    owner = np.repeat(np.arange(len(rows)), counts)
    within = np.arange(total) - np.repeat(exclusive_sum(counts), counts)
    at = block.cigar_starts[rows][owner] + 4 * within
    data = block.data
    words = data[at].astype(np.int64) | data[at + 1].astype(np.int64) << 8 | data[at + 2].astype(np.int64) << 16 | (
        data[at + 3].astype(np.int64) << 24
    )
    operations, lengths = words & 0xF, np.maximum(words >> 4, 1)
    changing = (operations == INSERTION) | (operations == DELETION)
    np.maximum.at(longest, owner[changing], lengths[changing])
    return longest


def clip_at_region(
    block: RecordBlock, rows: np.ndarray, start: np.ndarray, end: np.ndarray, mapped: np.ndarray, regions: RegionList
) -> np.ndarray:
    """For each row: a mapped read whose first or last CIGAR operation is a clip (soft or hard)
    with its junction in a region or at its edge; the bulk check settles a read by its bases,
    and such a read is looked at one by one for the length its clip shows."""
    counts = block.cigar_counts[rows]
    last_words = block.cigar_starts[rows] + 4 * np.maximum(counts - 1, 0)
    last = block.data[np.minimum(last_words, len(block.data) - 1)] & 0xF  # the operation is the low 4 bits of the word's first byte
    first = block.first_operations[rows]
    leading = mapped & ((first == SOFT_CLIP) | (first == HARD_CLIP))
    trailing = mapped & (counts > 1) & ((last == SOFT_CLIP) | (last == HARD_CLIP))
    at_edge = partial(overlap_mask, regions.merged_starts, regions.merged_ends)
    return (leading & at_edge(start - 1, start + 1)) | (trailing & at_edge(end - 1, end + 1))


def template_lengths_into_regions(
    block: RecordBlock, placed: np.ndarray, start: np.ndarray, end: np.ndarray, checks: RecordChecks, findings: Findings
) -> None:
    """Reads whose TLEN ends the template past their own end on a mate that reaches into a
    region: TLEN and PNEXT then give the mate's reference span, and with its read length the
    length of an indel in the region, whatever the mate's own record shows. The mate reaches a
    region when its span, widened on each side by one more than the larger of the span and this
    read's length, meets one: an indel of L bases may lie up to L from the repeat whose length
    it is (a deletion no longer than the span, an insertion than the mate's read, taken as long
    as this one). A region finding keyed ``(TLEN)``. TLEN is the template's span on the
    reference (SAM 1.6, section 1.4, field 9); ``start`` and ``end`` are global as the regions
    are."""
    regions = checks.regions
    assert regions is not None
    next_ref_id, next_pos, tlen = block.next_ref_id, block.next_pos, block.template_lengths
    own_end = np.maximum(end, start + 1)
    mate_start = start - block.pos + next_pos
    reach = np.minimum(start, mate_start) + np.abs(tlen)
    shown = placed & (next_ref_id == block.ref_id) & (next_pos >= 0) & (tlen != 0) & (reach > own_end)
    rows = np.flatnonzero(shown)
    if not len(rows):
        return
    widen = np.maximum(reach[rows] - mate_start[rows], block.sequence_lengths[rows]) + 1
    contig_start = start[rows] - block.pos[rows]  # global positions: the contig's number above 32 bits
    low, high = np.maximum(mate_start[rows] - widen, contig_start), np.minimum(reach[rows] + widen, contig_start + (1 << 32))
    met = overlap_mask(regions.merged_starts, regions.merged_ends, low, high)
    for row, first, last in zip(rows[met].tolist(), low[met].tolist(), high[met].tolist(), strict=True):
        for region in regions.regions_between(first, last)[:1]:
            label = f"{region.label}{f' {region.name}' if region.name else ''} (TLEN)"
            findings.regions.add(label, where(checks, int(block.ref_id[row]), int(block.pos[row])))


def mate_places(block: RecordBlock) -> Callable[[np.ndarray], tuple[np.ndarray, np.ndarray]]:
    """RNEXT and PNEXT (0-based) of the rows of a block asked for."""

    def mates(rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return block.next_ref_id[rows], block.next_pos[rows]

    return mates


def mate_cigars_at_germline_indels(block: RecordBlock, tags: AuxTags, checks: RecordChecks, findings: Findings) -> None:
    """An ``MC`` that writes a germline insertion or deletion, or marks an SNV base ``X``, at its
    mate's place, and a ``cg`` (minimap2's CIGAR) that does so at the record's own place
    (``audit_mate_cigars``): a germline finding keyed by the site and ``(aux MC)`` or ``(aux cg)``."""
    sites = checks.germline
    assert sites is not None
    aux = (tags.records, tags.codes, tags.types, tags.starts, tags.ends)
    for row, site in mate_cigars_carrying_indels(block.buffer, aux, mate_places(block), sites):
        findings.germline.add(f"{sites.label(site)} (aux MC)", where(checks, int(block.ref_id[row]), int(block.pos[row])))
    own = own_places(block)
    for row, site in mate_cigars_carrying_indels(block.buffer, aux, own, sites, MINIMAP2_CIGAR):
        findings.germline.add(f"{sites.label(site)} (aux cg)", where(checks, int(block.ref_id[row]), int(block.pos[row])))
    for places, code, name in ((mate_places(block), MATE_CIGAR_CODE, "MC"), (own, MINIMAP2_CIGAR, "cg")):
        for row in mate_cigar_clips_at_sites(block.buffer, aux, places, sites, code):
            findings.germline.add(f"{CLIP_AT_SITE} (aux {name})", where(checks, int(block.ref_id[row]), int(block.pos[row])))


def own_places(block: RecordBlock) -> Callable[[np.ndarray], tuple[np.ndarray, np.ndarray]]:
    """RNAME and POS (0-based) of the rows of a block asked for: where a ``cg`` lies."""

    def places(rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return block.ref_id[rows].astype(np.int64), block.pos[rows].astype(np.int64)

    return places


def tag_alignments_into_regions(block: RecordBlock, tags: AuxTags, checks: RecordChecks, findings: Findings) -> None:
    """Aux tags placing an alignment or the mate's bases in a region (``audit_alignment_tags``):
    a region finding keyed ``(aux MC)``, ``(aux SA)``, ... ."""
    assert checks.regions is not None

    mates = mate_places(block)
    fields = {
        "ref_id": block.ref_id, "pos": block.pos, "flag": block.flag, "sequence_lengths": block.sequence_lengths,
        "reference_lengths": block.reference_lengths,
    }  # fmt: skip
    aux = (tags.records, tags.codes, tags.types, tags.starts, tags.ends)
    found = alignments_in_regions(block.buffer, block.data, checks.references, fields, mates, aux, checks.regions)
    shown = {(row, tag) for row, tag, _ in found}  # a hit showing a length there is that finding alone
    for row, hit_tag, hit_region in alternative_hits_in_regions(block.buffer, checks.references, aux, checks.regions):
        # the read may come from the region: sam-mask-regions masks every base of it
        if (row, hit_tag) not in shown and bases_kept(block, np.array([row]))[0]:
            label = f"{hit_region.label}{f' {hit_region.name}' if hit_region.name else ''} (aux {hit_tag}, bases kept)"
            findings.regions.add(label, where(checks, int(block.ref_id[row]), int(block.pos[row])))
    for row, hit_tag, hit_region in alternative_hits_in_regions(block.buffer, checks.references, aux, checks.regions, ("SA",)):
        # another part of the chimeric read lies in the region: its bases are this record's soft clips,
        # which sam-mask-regions masks (a 50M60S whose SA part spans an STR held all of its bases)
        if (row, hit_tag) not in shown and soft_clip_bases_kept(block, row):
            label = f"{hit_region.label}{f' {hit_region.name}' if hit_region.name else ''} (aux SA, clip bases kept)"
            findings.regions.add(label, where(checks, int(block.ref_id[row]), int(block.pos[row])))
    for row, tag, region in found:
        if region is None:
            label = f"aux {tag} (no place for the mate)" if tag == "R2" else f"aux {tag} (a contig the header lacks)"
        else:
            label = f"{region.label}{f' {region.name}' if region.name else ''} (aux {tag})"
        findings.regions.add(label, where(checks, int(block.ref_id[row]), int(block.pos[row])))


MATE_CIGAR_CODE = (ord("M") << 8) | ord("C")
CLIP_LETTERS = frozenset(b"SH")


def mate_starts_into_regions(block: RecordBlock, tags: AuxTags, checks: RecordChecks, findings: Findings) -> None:
    """Reads whose RNEXT and PNEXT place their mapped mate's start in a region or at its edge, unless
    they carry an ``MC`` (the mate's CIGAR) that starts with an aligned base: a mate whose
    alignment starts there at a clip shows the clip's junction, which moves with a repeat's
    length (a read of its own with such a junction is a ``(length)`` finding). A region
    finding keyed ``(PNEXT)``. An unmapped read placed in a region or at its edge is one keyed
    ``(placed unmapped)``: SAM places it at its mate's start, so it shows the same junction."""
    regions = checks.regions
    assert regions is not None
    placed_unmapped = np.flatnonzero(
        ((block.flag & FLAG_UNMAPPED) != 0) & (block.ref_id >= 0) & (block.pos >= 0) & (block.ref_id < len(checks.references))
    )
    if len(placed_unmapped):  # placed at the mate's start (SAM's rule): the same junction
        place = (block.ref_id[placed_unmapped].astype(np.int64) << 32) + block.pos[placed_unmapped]
        inside = overlap_mask(regions.merged_starts, regions.merged_ends, place - 1, place + 1)
        for row, start in zip(placed_unmapped[inside].tolist(), place[inside].tolist(), strict=True):
            for region in regions.regions_between(start - 1, start + 1)[:1]:
                label = f"{region.label}{f' {region.name}' if region.name else ''} (placed unmapped)"
                findings.regions.add(label, where(checks, int(block.ref_id[row]), int(block.pos[row])))
    next_ref_id, next_pos = block.next_ref_id, block.next_pos
    mate_mapped = (block.flag & FLAG_MATE_UNMAPPED) == 0  # an unmapped mate has no alignment, so no junction
    rows = np.flatnonzero(mate_mapped & (next_ref_id >= 0) & (next_pos >= 0) & (next_ref_id < len(checks.references)))
    if not len(rows):
        return
    mate_start = (next_ref_id[rows] << 32) + next_pos[rows]  # global, as the regions are
    met = overlap_mask(regions.merged_starts, regions.merged_ends, mate_start - 1, mate_start + 1)
    if not met.any():
        return
    rows, mate_start = rows[met], mate_start[met]
    chosen = np.zeros(len(block.offsets), dtype=bool)
    chosen[rows] = True
    named = np.flatnonzero(tags.codes == MATE_CIGAR_CODE)
    named = named[chosen[tags.records[named]]]
    first_mate_cigar: dict[int, bytes | None] = {}
    for index in named.tolist():
        record = int(tags.records[index])
        if record not in first_mate_cigar:
            typed = int(tags.types[index]) == ord("Z")
            first_mate_cigar[record] = block.buffer[int(tags.starts[index]) : int(tags.ends[index])] if typed else None
    for row, start in zip(rows.tolist(), mate_start.tolist(), strict=True):
        cigar = first_mate_cigar.get(row)
        leading = cigar.lstrip(b"0123456789")[:1] if cigar else b""
        if leading and leading in b"MIDNP=X" and cigar is not None and cigar[:1].isdigit():
            continue
        for region in regions.regions_between(start - 1, start + 1)[:1]:
            label = f"{region.label}{f' {region.name}' if region.name else ''} (PNEXT)"
            findings.regions.add(label, where(checks, int(block.ref_id[row]), int(block.pos[row])))


UNMAPPED_BASES = "unmapped read (keeps bases)"
"""A germline finding: an unmapped read (FLAG 0x4, or CIGAR ``*``) with a base other than N.
Nothing places its bases, so they cannot be compared with the reference, and a realignment
puts its germline alleles back; sam-revert-germline makes every base of such a read N."""


def bases_kept(block: RecordBlock, rows: np.ndarray) -> np.ndarray:
    """Per row: whether its SEQ keeps a base other than N (packed bytes all 0xFF but for an odd last half)."""
    starts, lengths = block.sequence_starts[rows], block.sequence_lengths[rows]
    kept = ~scan.spans_within(block.data, starts, starts + (lengths >> 1), N_BYTE)
    odd = (lengths & 1) == 1
    kept[odd] |= (block.data[starts[odd] + (lengths[odd] >> 1)] >> 4) != 0xF
    return kept & (lengths > 0)


def unmapped_bases_kept(block: RecordBlock, checks: RecordChecks, findings: Findings) -> None:
    """Unmapped reads, and records without a CIGAR (htslib reads them as unmapped), placed or
    not, that keep a base other than N: SEQ's packed bytes all 0xFF but for an odd last half."""
    rows = np.flatnonzero((((block.flag & FLAG_UNMAPPED) != 0) | (block.cigar_counts == 0)) & (block.sequence_lengths > 0))
    if not len(rows):
        return
    bad = rows[bases_kept(block, rows)]
    if len(bad):
        leading = bad[:EXAMPLES_PER_KEY].tolist()
        findings.germline.add_all(UNMAPPED_BASES, [where(checks, int(block.ref_id[row]), int(block.pos[row])) for row in leading], len(bad))


UNMAPPED_PAIR_AT_INSERTION = "unmapped mate at a germline insertion"
"""A germline finding: a record with FLAG 0x4 (unmapped) or 0x8 (mate unmapped) whose own place
(refID, pos) or mate's place (next_refID, next_pos) lies within ``audit_sites.UNMAPPED_MATE_REACH``
of a germline insertion's REF span (``GermlineSites.insertion_starts``). A carrier's read of the
inserted bases has no place on the reference: it is unmapped, placed at its mate, its mate flagged
mate-unmapped, a cluster only carriers have (what insertion and mobile-element callers genotype
from); sam-revert-germline removes every such record, a non-carrier's too."""


def unmapped_pairs_at_insertions(block: RecordBlock, checks: RecordChecks, findings: Findings) -> None:
    """Each record of a pair with an unmapped mate at a germline insertion (``UNMAPPED_PAIR_AT_INSERTION``)."""
    sites = checks.germline
    if sites is None or not len(sites.insertion_starts):
        return
    rows = np.flatnonzero((block.flag & (FLAG_UNMAPPED | FLAG_MATE_UNMAPPED)) != 0)
    if not len(rows):
        return
    found = np.zeros(len(rows), dtype=bool)
    for contig, position in ((block.ref_id[rows], block.pos[rows]), (block.next_ref_id[rows], block.next_pos[rows])):
        placed = (contig >= 0) & (position >= 0)
        at = contig.astype(np.int64) * CONTIG_SPACING + position.astype(np.int64)
        found |= placed & overlap_mask(sites.insertion_starts, sites.insertion_ends, at, at + 1)
    report_places(findings, UNMAPPED_PAIR_AT_INSERTION, checks, rows[found], block)


PAST_CONTIG_END = "bases past the contig end"
"""A germline finding: a read aligned past its contig's end keeps bases there that are not N.
Nothing there can be compared with the reference; on a circular contig (chrM) they are its
first bases, with the germline alleles of its start."""


def bases_past_contig_end(read: AlignedRead, length: int) -> bool:
    """Whether an aligned block of the read lays a base other than N at or past ``length``."""
    for reference, query, size in read.blocks:
        if reference + size > length:
            skip = max(0, length - reference)
            if read.sequence[query + skip : query + size].strip(b"N"):
                return True
    return False


REFERENCE_SPAN = 1 << 20
"""Reference bases fetched at once for the reads of a block on one contig; reads spread wider
(an unsorted file) are not compared in bulk."""


def on_reference(block: RecordBlock, rows: np.ndarray, checks: RecordChecks) -> np.ndarray:
    """For each row, a read of one match with as many bases as its alignment: is every base of
    it the reference's where it lies (an N in the read matching anything)? Such a read fits no
    indel's ALT better than its REF, where it is compared one by one; so it need not be."""
    return bases_off_reference(block, rows, checks)[0] == 0


def bases_off_reference(block: RecordBlock, rows: np.ndarray, checks: RecordChecks) -> tuple[np.ndarray, np.ndarray]:
    """For each row, a read of one match with as many bases as its alignment: how many of its
    bases differ from the reference's where they lie (but N, and ``=``), and how many are N;
    -1 and -1 for a read not compared (a contig the reference lacks, past its end, spread wide)."""
    sites = checks.germline
    assert sites is not None
    differing = np.full(len(rows), -1, dtype=np.int64)
    masked = np.full(len(rows), -1, dtype=np.int64)
    for ref_id in np.unique(block.ref_id[rows]).tolist():
        which = np.flatnonzero(block.ref_id[rows] == ref_id)
        contig = sites.reference_names.get(checks.references[ref_id])
        positions, lengths = block.pos[rows[which]], block.sequence_lengths[rows[which]]
        low, high = int(positions.min()), int((positions + lengths).max())
        if contig is None or high - low > REFERENCE_SPAN:
            continue
        bases = np.frombuffer(sites.reference.fetch(contig, low, high), dtype=np.uint8)
        inside = positions + lengths - low <= len(bases)  # beyond the contig's end: not compared here
        which, positions, lengths = which[inside], positions[inside], lengths[inside]
        for length in np.unique(lengths).tolist():  # reads of one length (most of a file's) as one matrix
            group = np.flatnonzero(lengths == length)
            if not length:
                differing[which[group]] = masked[which[group]] = 0
                continue
            letters = segment_letters(block, rows[which[group]], np.zeros(len(group), dtype=np.int64), length)
            laid = sliding_window_view(bases, length)[positions[group] - low]
            unknown = letters == ord("N")
            reference_base = letters == ord("=")  # SEQ's '=' (samtools calmd -e): the reference base by definition
            differing[which[group]] = ((letters != laid) & ~unknown & ~reference_base).sum(axis=1)
            masked[which[group]] = unknown.sum(axis=1)
    return differing, masked


def segment_letters(block: RecordBlock, rows: np.ndarray, queries: np.ndarray, length: int) -> np.ndarray:
    """The letters of SEQ from query offset ``queries`` (all even or all odd) for ``length`` bases
    (within SEQ) of each of ``rows``, one row a line: the packed bytes read as windows of the
    block, no index array a base (SAM 1.6, section 4.2.3: the high half of a byte first)."""
    parity = int(queries[0] & 1) if len(queries) else 0
    packed = sliding_window_view(block.data, (length + parity + 1) // 2)[block.sequence_starts[rows] + (queries >> 1)]
    codes = np.empty((len(rows), 2 * packed.shape[1]), dtype=np.uint8)
    codes[:, 0::2] = packed >> 4
    codes[:, 1::2] = packed & 0xF
    return BASE_LETTERS[codes[:, parity : parity + length]]


def laid_out(block: RecordBlock, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """For each row: whether its bases lie on the reference one after the other (its CIGAR,
    hard clips and padding aside, is aligned operations with at most a soft clip at either
    end), the length of its leading soft clip (laid before the alignment) and how many
    bases it lays; read by ``scan.bam_records`` with the record's other fields."""
    return block.contiguous[rows].astype(bool), block.leading_clips[rows], block.laid_lengths[rows]


N_BYTE = np.zeros(256, dtype=bool)
N_BYTE[0xFF] = True  # two N bases (4-bit code 15 each) packed in one byte


def masked_in_regions(
    block: RecordBlock, rows: np.ndarray, laid_starts: np.ndarray, laid_ends: np.ndarray, regions: RegionList
) -> np.ndarray:
    """For each row, whose bases lie one after the other on ``[laid_start, laid_end)`` (query
    offset 0 at ``laid_start``): is every base it lays inside a region N? Then no region
    can find a base kept (``audit_reads.unmasked_regions``), whatever region it is.

    The merged regions each read overlaps are paired with it, and each pair's bases are
    read from SEQ as packed: whole bytes in one pass (``scan.spans_within``), an odd base
    at either end of a span by its 4-bit half."""
    merged_starts, merged_ends = regions.merged_starts, regions.merged_ends
    low = np.searchsorted(merged_ends, laid_starts, side="right")
    high = np.searchsorted(merged_starts, laid_ends, side="left")
    counts = np.maximum(high - low, 0)
    masked = np.ones(len(rows), dtype=bool)
    total = int(counts.sum())
    if not total:
        return masked
    pair = np.repeat(np.arange(len(rows)), counts)
    interval = np.repeat(low, counts) + np.arange(total) - np.repeat(exclusive_sum(counts), counts)
    first = np.maximum(merged_starts[interval], laid_starts[pair]) - laid_starts[pair]  # query offsets, [first, last)
    last = np.minimum(merged_ends[interval], laid_ends[pair]) - laid_starts[pair]
    sequence = block.sequence_starts[rows][pair]
    data = block.data
    kept = np.zeros(total, dtype=bool)
    odd_first = (first & 1) == 1  # its base is the low half of a byte whose high half is outside
    kept[odd_first] = (data[sequence[odd_first] + (first[odd_first] >> 1)] & 0xF) != 0xF
    first = first + odd_first
    odd_last = (last & 1) == 1  # the base before ``last`` is the high half of a byte
    kept[odd_last] |= (data[sequence[odd_last] + (last[odd_last] >> 1)] >> 4) != 0xF
    last = last - odd_last
    kept |= ~scan.spans_within(data, sequence + (first >> 1), sequence + (np.maximum(last, first) >> 1), N_BYTE)
    masked[pair[kept]] = False
    return masked


def snv_alleles(
    block: RecordBlock,
    rows: np.ndarray,
    starts: np.ndarray,
    ends: np.ndarray,
    checks: RecordChecks,
    findings: Findings,
    windows: tuple[np.ndarray, np.ndarray] | None = None,
) -> np.ndarray:
    """SNV and MNP bases of reads laid on ``[starts, ends)`` without gaps, all pairs of read and
    site at once; returns the ``(site, row)`` pairs counted, one a column. With ``windows``,
    only sites whose span overlaps the row's window count: the sites the one-read path
    would look at (a SEQ shorter than its CIGAR narrows the window, not the layout)."""
    sites = checks.germline
    assert sites is not None
    low = np.searchsorted(sites.snv_positions, starts, side="left")
    high = np.searchsorted(sites.snv_positions, ends, side="left")
    counts = high - low
    if not counts.sum():
        return np.zeros((2, 0), dtype=np.int64)
    pair_rows = np.repeat(rows, counts)
    entries = np.repeat(low, counts) + np.arange(int(counts.sum())) - np.repeat(exclusive_sum(counts), counts)
    query = sites.snv_positions[entries] - np.repeat(starts, counts)
    inside = query < block.sequence_lengths[pair_rows]  # SEQ may be '*' (a secondary alignment): no bases to carry anything
    if windows is not None:
        window_starts, window_ends = np.repeat(windows[0], counts), np.repeat(windows[1], counts)
        site = sites.snv_sites[entries]
        inside &= (sites.global_starts[site] < window_ends) & (sites.global_ends[site] > window_starts)
    pair_rows, entries, query = pair_rows[inside], entries[inside], query[inside]
    codes = block.base_codes(pair_rows, query)
    equals = np.flatnonzero(codes == 0)  # '=' (samtools calmd -e): the reference base there, as ``audit_reads.equals_resolved`` reads it
    if len(equals):
        codes[equals] = reference_codes(sites, sites.snv_positions[entries[equals]])
    carried = codes == sites.snv_codes[entries]
    if not carried.any():
        return np.zeros((2, 0), dtype=np.int64)
    pairs = np.unique(np.stack([sites.snv_sites[entries[carried]], pair_rows[carried]]), axis=1)
    for site in pairs[0].tolist():  # one count per read and site, however many bases of an MNP it carries
        findings.germline.add(sites.label(site))
    return pairs


def reference_codes(sites: GermlineSites, positions: np.ndarray) -> np.ndarray:
    """The 4-bit base codes of the reference at global ``positions`` (N where it has none): what
    an ``=`` in SEQ stands for. Each contig's bases are fetched once when the positions lie
    within ``REFERENCE_SPAN``, one by one otherwise (an unsorted file)."""
    codes = np.full(len(positions), N_CODE, dtype=np.uint8)
    contigs = positions >> 32
    for index in np.unique(contigs).tolist():
        which = np.flatnonzero(contigs == index)
        contig = sites.reference_names.get(sites.names[index]) if index < len(sites.names) else None
        if contig is None:
            continue
        places = positions[which] - (index << 32)
        low, high = int(places.min()), int(places.max()) + 1
        if high - low <= REFERENCE_SPAN:
            bases = np.frombuffer(sites.reference.fetch(contig, low, high), dtype=np.uint8)
            inside = places - low < len(bases)
            codes[which[inside]] = BASE_CODES[bases[places[inside] - low]]
        else:
            for at, place in zip(which.tolist(), places.tolist(), strict=True):
                base = sites.reference.fetch(contig, place, place + 1)
                codes[at] = BASE_CODES[base[0]] if base else N_CODE
    return codes


def check_one_read(
    block: RecordBlock,
    row: int,
    mapped: bool,
    snvs_counted: bool,
    counted: set[int],
    low: int,
    high: int,
    checks: RecordChecks,
    findings: Findings,
    with_regions: bool,
    edit_tags: EditTags | None = None,
) -> None:
    """One read's germline alleles and, ``with_regions``, region bases. ``snvs_counted``: its SNV
    and MNP alleles were counted in bulk, so only indel sites are looked at here, less the
    ``counted`` ones. Region bases are not looked at for a read the bulk check found no region
    base in, or that touches no region."""
    read = block.decoded(row, checks.references)
    if checks.germline is not None and mapped and (reference_contig := checks.germline.reference_names.get(read.contig)) is not None:
        read = equals_resolved(read, checks.germline.reference, reference_contig)
    if checks.regions is not None and with_regions and mapped:
        widen = length_change_reach(read)
        for region in length_shown_in_regions(read, checks.regions.regions_between(low - widen - 1, high + widen + 1)):
            label = f"{region.label}{f' {region.name}' if region.name else ''} (length)"
            findings.regions.add(label, where(checks, int(block.ref_id[row]), int(block.pos[row])))
    if not read.sequence:  # SEQ '*': no base to carry an allele or a repeat, but its CIGAR still writes what it aligns
        if not mapped or checks.germline is None:
            return
        read = replace(read, sequence=b"N" * sum(length for op, length in read.operations if op in CONSUMES_QUERY))
    if not mapped:  # an unmapped read placed beside its mate: all its bases at that place
        read.blocks = [(read.start, 0, len(read.sequence))]
        read.insertions = []
    if checks.germline is not None and mapped and bases_past_contig_end(read, int(checks.germline.lengths[block.ref_id[row]])):
        findings.germline.add(PAST_CONTIG_END, where(checks, int(block.ref_id[row]), int(block.pos[row])))
    if checks.germline is not None and mapped:
        candidates = [index for index in checks.germline.sites_between(low, high) if index not in counted]
        if snvs_counted:
            candidates = [index for index in candidates if checks.germline.is_indel[index]]
        if edit_tags is not None and not block.contiguous[row]:  # a read laid without gaps had its MD and NM read in bulk
            edit_tags.check_one(row, read, checks.germline.sites_between(low, high), checks, findings)
        for index in carried_sites(read, checks.germline, candidates, with_snvs=not snvs_counted):
            findings.germline.add(checks.germline.label(index))
    if checks.regions is not None and with_regions:
        for region in unmasked_regions(read, checks.regions.regions_between(low, high)):
            findings.regions.add(
                region.label + (f" {region.name}" if region.name else ""), where(checks, int(block.ref_id[row]), int(block.pos[row]))
            )


# --- --all-reference: every base the reference's ----------------------------------------------------------


@dataclass
class AllReference:
    """``--all-reference``: the reads were reverted with ``sam-revert-germline --all``, so every
    base they lay is the reference's. ``names``: each @SQ's name in the FASTA (None where it has none)."""

    reference: Reference
    names: list[str | None]


ALL_REFERENCE_BASE = "base other than the reference's (--all-reference)"
"""A germline finding: an aligned base that is neither the reference's nor N (nor ``=``): a
variant of the person's, which ``sam-revert-germline --all`` would have written as the reference."""
ALL_REFERENCE_GAP = "insertion, deletion, clip or short skip (--all-reference)"
"""A germline finding: a CIGAR operation ``--all`` leaves nowhere (I, D, S, H, P, or an N of
fewer than ``INTRON_LENGTH`` bases): an indel of the person's, or a clip that may hide one."""
ALL_REFERENCE_UNREAD = "read on a contig the reference lacks (--all-reference)"
INTRON_LENGTH = 50
"""``sam-revert-germline --all`` fills a skip shorter than this (no intron is) and keeps a longer one."""
REFERENCE_PIECE = 1 << 20
ALL_REFERENCE_OPERATIONS = np.zeros(16, dtype=bool)
ALL_REFERENCE_OPERATIONS[[0, 3, 7, 8]] = True  # M, N, =, X


def reference_differences(block: RecordBlock, checks: RecordChecks, findings: Findings) -> None:
    """``--all-reference``: every mapped record's CIGAR holds only M, =, X and skips of
    ``INTRON_LENGTH`` or more, and every base it aligns is the reference's or N; an unmapped
    read keeps no base but N. Located by the first rows of each finding, never quoted."""
    setting = checks.all_reference
    assert setting is not None
    if checks.germline is None:  # with --germline this is checked already
        unmapped_bases_kept(block, checks, findings)
    placed = (block.ref_id >= 0) & (block.pos >= 0) & (block.ref_id < len(checks.references))
    rows = np.flatnonzero(placed & ((block.flag & FLAG_UNMAPPED) == 0) & (block.cigar_counts > 0))
    differing_from_reference(block, rows, setting, ALL_REFERENCE_KEYS, checks, findings)


@dataclass
class LowMappingQuality:
    """``--germline`` with ``--all-below-mapq N``: sam-revert-germline reverted every difference of a
    placed read whose MAPQ is below N (or 255, "not available"), wherever it lies, as a listed allele
    may have sent it to a paralogous copy; its clips masked (every base N) rather than removed. The
    audit's own copy of that rule: such a read may hold no base but the reference's or N, no
    insertion, deletion, padding or skip under ``INTRON_LENGTH``, and no soft clip with a base but N
    (``low_mapq_differences``). ``names``: each @SQ's name in the FASTA (None where it has none)."""

    threshold: int
    reference: Reference
    names: list[str | None]


ALL_BELOW_MAPQ = 30
"""The default of ``--all-below-mapq``: sam-revert-germline's, kept here apart (the audit shares no
rule code with the scrubbers; a test holds the two defaults equal)."""
LOW_MAPQ_BASE = "base other than the reference's in a read of low MAPQ (--all-below-mapq)"
LOW_MAPQ_GAP = "insertion, deletion or short skip in a read of low MAPQ (--all-below-mapq)"
LOW_MAPQ_CLIP = "soft clip with a base but N in a read of low MAPQ (--all-below-mapq)"
LOW_MAPQ_UNREAD = "read of low MAPQ on a contig the reference lacks (--all-below-mapq)"
ALL_REFERENCE_KEYS = (ALL_REFERENCE_GAP, ALL_REFERENCE_UNREAD, ALL_REFERENCE_BASE, None)
LOW_MAPQ_KEYS = (LOW_MAPQ_GAP, LOW_MAPQ_UNREAD, LOW_MAPQ_BASE, LOW_MAPQ_CLIP)
MAPQ_AT = 13
"""A BAM record's MAPQ byte, from its ``block_size`` (SAM 1.6, section 4.2)."""
CIGAR_SOFT, CIGAR_HARD = 4, 5
CLIPS_KEPT_OPERATIONS = ALL_REFERENCE_OPERATIONS.copy()
CLIPS_KEPT_OPERATIONS[[CIGAR_SOFT, CIGAR_HARD]] = True


def low_mapq_differences(block: RecordBlock, checks: RecordChecks, findings: Findings) -> None:
    """``LowMappingQuality``: the placed, mapped records of a MAPQ below the threshold or 255
    (secondary and supplementary ones too) held to the reference as ``--all-reference`` holds every
    read, their soft clips to N. Germline findings, located by the first rows, never quoted."""
    setting = checks.low_mapq
    assert setting is not None
    mapqs = block.data[block.offsets + MAPQ_AT]
    low = (mapqs < setting.threshold) | (mapqs == 255)
    placed = (block.ref_id >= 0) & (block.pos >= 0) & (block.ref_id < len(checks.references))
    rows = np.flatnonzero(low & placed & ((block.flag & FLAG_UNMAPPED) == 0) & (block.cigar_counts > 0))
    differing_from_reference(block, rows, setting, LOW_MAPQ_KEYS, checks, findings)


def differing_from_reference(
    block: RecordBlock, rows: np.ndarray, setting: AllReference | LowMappingQuality, keys: tuple[str, str, str, str | None],
    checks: RecordChecks, findings: Findings,
) -> None:  # fmt: skip
    """``rows`` (placed, mapped, with a CIGAR) held to the reference: a CIGAR operation but M, =, X
    and skips of ``INTRON_LENGTH`` or more is the first key's finding (with a fourth key, soft and
    hard clips pass, and a soft clip with a base but N is that key's finding), a read on a contig
    the reference lacks the second's, an aligned base but the reference's or N the third's."""
    if not len(rows):
        return
    gap_key, unread_key, base_key, clip_key = keys
    owner, codes, lengths = cigar_words(block, rows)
    allowed = ALL_REFERENCE_OPERATIONS if clip_key is None else CLIPS_KEPT_OPERATIONS
    off = ~allowed[codes] | ((codes == CIGAR_SKIP) & (lengths < INTRON_LENGTH))
    gapped = np.bincount(owner[off], minlength=len(rows)) > 0
    report_rows(block, rows[gapped], gap_key, checks, findings)
    unread = np.array([setting.names[ref_id] is None for ref_id in block.ref_id[rows].tolist()], dtype=bool)
    report_rows(block, rows[unread & ~gapped], unread_key, checks, findings)
    keep = ~(gapped | unread)[owner]
    owner, codes, lengths = owner[keep], codes[keep], lengths[keep]
    # Only M, =, X (aligned), long N (reference only) and, with clip_key, S (read only) and H (neither)
    # are left: offsets are the sums before each operation.
    first = np.concatenate(([True], owner[1:] != owner[:-1])) if len(owner) else np.zeros(0, dtype=bool)
    run_start = np.maximum.accumulate(np.where(first, np.arange(len(owner)), 0)) if len(owner) else owner
    aligned = (codes != CIGAR_SKIP) & (codes != CIGAR_SOFT) & (codes != CIGAR_HARD)
    reference_lengths = np.where((codes != CIGAR_SOFT) & (codes != CIGAR_HARD), lengths, 0)
    reference_offset = exclusive_sum(reference_lengths) - exclusive_sum(reference_lengths)[run_start]
    query_lengths = np.where(aligned | (codes == CIGAR_SOFT), lengths, 0)
    query_offset = exclusive_sum(query_lengths) - exclusive_sum(query_lengths)[run_start]
    row = rows[owner]
    size = np.clip(np.minimum(query_lengths, block.sequence_lengths[row] - query_offset), 0, None)
    if clip_key is not None:
        clips = np.flatnonzero((codes == CIGAR_SOFT) & (size > 0))
        pair = np.repeat(clips, size[clips])
        step = np.arange(len(pair)) - np.repeat(exclusive_sum(size[clips]), size[clips])
        letters = BASE_LETTERS[block.base_codes(row[pair], query_offset[pair] + step)]
        report_rows(block, np.unique(row[pair[letters != ord("N")]]), clip_key, checks, findings)
    segments = np.flatnonzero(aligned & (size > 0))
    row, size, query_offset = row[segments], size[segments], query_offset[segments]
    start = block.pos[row].astype(np.int64) + reference_offset[segments]
    differing: list[np.ndarray] = []
    for ref_id in np.unique(block.ref_id[row]).tolist():
        on = np.flatnonzero(block.ref_id[row] == ref_id)
        contig = setting.names[ref_id]
        assert contig is not None
        on = on[np.argsort(start[on], kind="stable")]
        starts = start[on]
        at = 0
        while at < len(on):  # pieces of at most REFERENCE_PIECE bases of reference, fetched once each
            low = int(starts[at])
            upto = max(int(np.searchsorted(starts, low + REFERENCE_PIECE, side="left")), at + 1)
            piece = on[at:upto]
            high = int((start[piece] + size[piece]).max())
            bases = setting.reference.fetch(contig, low, high).ljust(high - low, b"N")  # past the contig's end: N
            reference_bases = UPPER_LETTERS[np.frombuffer(bases, dtype=np.uint8)]
            shapes = 2 * size[piece] + (query_offset[piece] & 1)  # segments of one length and parity as one matrix
            for shape in np.unique(shapes).tolist():
                group = piece[shapes == shape]
                letters = segment_letters(block, row[group], query_offset[group], shape >> 1)
                laid = sliding_window_view(reference_bases, shape >> 1)[start[group] - low]
                wrong = (letters != laid) & (letters != ord("N")) & (letters != ord("="))
                differing.append(row[group][wrong.any(axis=1)])
            at = upto
    if differing:
        report_rows(block, np.unique(np.concatenate(differing)), base_key, checks, findings)


def report_rows(block: RecordBlock, rows: np.ndarray, key: str, checks: RecordChecks, findings: Findings) -> None:
    if len(rows):
        leading = rows[:EXAMPLES_PER_KEY].tolist()
        findings.germline.add_all(key, [where(checks, int(block.ref_id[row]), int(block.pos[row])) for row in leading], len(rows))


# --- the parallel reader ------------------------------------------------------------------------------------


@dataclass
class ChunkResult:
    first: int | None
    head: bytes
    tail: bytes
    findings: Findings


@dataclass(frozen=True)
class FileRange:
    """A run of whole BGZF blocks of a regular file, read by whoever audits it: the file's
    bytes are not copied through the parent to the workers."""

    path: str
    offset: int
    length: int


Chunk = bytes | FileRange
_OPEN_FILES: dict[str, int] = {}
_WORKER_HEAP = HeapTrim()
"""A worker's chunks, for trimming its heap now and then (a forked worker starts with a copy)."""


def raw_chunk(chunk: Chunk) -> bytes:
    """The compressed bytes of a chunk (read from its file when it is a range)."""
    if isinstance(chunk, bytes):
        return chunk
    descriptor = _OPEN_FILES.get(chunk.path)
    if descriptor is None:
        descriptor = _OPEN_FILES[chunk.path] = os.open(chunk.path, os.O_RDONLY)
    data = os.pread(descriptor, chunk.length, chunk.offset)
    if len(data) != chunk.length:
        raise InputError("truncated BGZF input (the file shrank while it was read)", chunk.path)
    return data


def close_files() -> None:
    for descriptor in _OPEN_FILES.values():
        with contextlib.suppress(OSError):
            os.close(descriptor)
    _OPEN_FILES.clear()


def file_chunks(path: str, offset: int, watch: ContainerWatch | None = None, number: int = 0) -> Iterator[FileRange]:
    """Runs of whole BGZF blocks of about CHUNK_BYTES from ``offset`` on, found by reading only
    the blocks' headers; a block cut short or a missing end-of-file block is an error. With
    ``watch``, each header is held to what is known safe, the blocks numbered after ``number``."""
    with open(path, "rb") as handle:
        size = os.fstat(handle.fileno()).st_size
        descriptor = handle.fileno()
        start = at = offset
        last = -1
        while at < size:
            header = os.pread(descriptor, 18, at)
            if len(header) < 18:
                raise InputError("truncated BGZF input (a block is cut short)", path)
            number += 1
            if header.startswith(SAFE_BGZF_HEAD):  # known safe as it stands: the block's length follows
                length = int.from_bytes(header[16:18], "little") + 1
            else:
                head = os.pread(descriptor, 12 + int.from_bytes(header[10:12], "little"), at)
                length = _block_size(head, 0, path)
                if watch is not None:
                    check_bgzf_block_header(head, number, watch)
            if at + length > size:
                raise InputError("truncated BGZF input (a block is cut short)", path)
            last = at
            at += length
            if at - start >= CHUNK_BYTES:
                yield FileRange(path, start, at - start)
                start = at
        if last < 0 or os.pread(descriptor, len(BGZF_EOF_BLOCK), last) != BGZF_EOF_BLOCK:
            raise InputError(BGZF_MISSING_EOF, path)
        if at > start:
            yield FileRange(path, start, at - start)


class CountedBlocks:
    """Blocks passed on as read, counting them and their bytes: where the records' blocks start in the file."""

    def __init__(self, blocks: Iterator[bytes]) -> None:
        self.blocks = blocks
        self.consumed = 0
        self.count = 0

    def __iter__(self) -> CountedBlocks:
        return self

    def __next__(self) -> bytes:
        block = next(self.blocks)
        self.consumed += len(block)
        self.count += 1
        return block


def audit_chunk(chunk: Chunk) -> ChunkResult:
    """Worker: inflate a chunk, find its first record, audit every whole record in it."""
    _WORKER_HEAP.chunk_done()  # the last chunk's freed pages, before this one's allocations
    checks = _CHECKS
    assert checks is not None
    data = inflate_all(raw_chunk(chunk), checks.path)
    first = first_record(data, len(checks.references))
    findings = Findings()
    if first is None:
        return ChunkResult(None, data, b"", findings)
    try:
        walked = walk(data, first)
        audit_records(data, walked, checks, findings)
    except (ValueError, InputError):
        return ChunkResult(None, data, b"", Findings())
    return ChunkResult(first, data[:first], data[walked.stop :], findings)


def chunks(blocks: Iterator[bytes]) -> Iterator[bytes]:
    """Runs of whole compressed blocks of about CHUNK_BYTES."""
    pending: list[bytes] = []
    size = 0
    for block in blocks:
        pending.append(block)
        size += len(block)
        if size >= CHUNK_BYTES:
            yield b"".join(pending)
            pending, size = [], 0
    if pending:
        yield b"".join(pending)


def start_worker(descriptors: list[int], parent: int) -> None:
    """Worker start: close what the parent must be the only one to hold open (the write end of a
    converter's input, whose reader would otherwise never see its end); signals as a worker
    takes them (``signals.for_worker``: the parent reports a stop and ends the workers); and
    die with the parent (``parent``, its pid): an executor's worker whose parent was SIGKILLed
    would wait on its task queue for ever."""
    signals.for_worker()
    signals.die_with_parent(parent)
    for descriptor in descriptors:
        with contextlib.suppress(OSError):
            os.close(descriptor)


def pool_processes(pool: ProcessPoolExecutor) -> list[multiprocessing.process.BaseProcess]:
    """The executor's worker processes. It has no public way to name them (Python 3.14's
    ``kill_workers``); its process table is read as it is."""
    return list((getattr(pool, "_processes", None) or {}).values())


def stop_workers(pool: ProcessPoolExecutor, started: list[multiprocessing.process.BaseProcess]) -> None:
    """End the workers now: on an error or a stop, nothing they do is wanted. ``started`` are
    the workers as first launched: once the pool is broken its own thread may have emptied its
    table while it still ends them."""
    processes = [*started, *(process for process in pool_processes(pool) if process not in started)]
    pool.shutdown(wait=False, cancel_futures=True)
    for process in processes:
        with contextlib.suppress(OSError, ValueError, AttributeError):
            process.kill()
    for process in processes:
        with contextlib.suppress(OSError, ValueError, AttributeError):
            process.join(timeout=5)


class BamAudit:
    """Audit the records after a BAM header, in ``jobs`` processes; ``private`` are descriptors
    the workers must not keep open."""

    def __init__(self, checks: RecordChecks, findings: Findings, jobs: int, private: list[int] | None = None) -> None:
        self.checks = checks
        self.findings = findings
        self.jobs = jobs
        self.private = private or []
        self.heap = HeapTrim()

    def run(self, blocks: Iterator[bytes], rest: bytes) -> None:
        """Audit the records of ``blocks`` (after the header, whose leftover bytes are ``rest``)."""
        self.run_chunks(chunks(blocks), rest)

    def run_file(self, path: str, offset: int, rest: bytes, watch: ContainerWatch | None = None, number: int = 0) -> None:
        """Audit the records of a regular file whose blocks after the header start at ``offset``
        (after block ``number``); ``watch`` holds their headers to what is known safe."""
        try:
            self.run_chunks(file_chunks(path, offset, watch, number), rest)
        finally:
            close_files()

    def run_chunks(self, stream: Iterator[Chunk], rest: bytes) -> None:
        global _CHECKS
        _CHECKS = self.checks
        pending = rest
        try:
            first = next(stream, None)
            if first is None:
                pending = self.sequential(pending, b"")
            else:
                second = next(stream, None)
                if second is None or self.jobs <= 1:
                    pending = self.sequential(pending, first)
                    if second is not None:
                        pending = self.sequential(pending, second)
                    for raw in stream:
                        pending = self.sequential(pending, raw)
                else:
                    pending = self.parallel(pending, [first, second], stream)
        finally:
            _CHECKS = None
        if pending:
            raise InputError("truncated BAM input (its last record is cut short)", self.checks.path)
        settle_mates(self.checks, self.findings)

    def sequential(self, pending: bytes, chunk: Chunk) -> bytes:
        self.heap.chunk_done()
        data = pending + inflate_all(raw_chunk(chunk), self.checks.path)
        try:
            walked = walk(data, 0)
        except ValueError:
            raise InputError("corrupt BAM record", self.checks.path) from None
        audit_records(data, walked, self.checks, self.findings)
        return data[walked.stop :]

    def parallel(self, pending: bytes, firsts: list[Chunk], rest: Iterator[Chunk]) -> bytes:
        """Chunks audited by ``jobs`` forked workers, taken in order. A worker that dies (the
        OOM killer) breaks the pool (``BrokenProcessPool``): the audit ends with an error
        rather than waiting for its lost chunk for ever, as ``multiprocessing.Pool`` did."""
        waiting: deque[tuple[Chunk, Future[ChunkResult]]] = deque()
        limit = 2 * self.jobs
        pool = ProcessPoolExecutor(
            self.jobs, mp_context=multiprocessing.get_context("fork"), initializer=start_worker, initargs=(self.private, os.getpid())
        )
        started: list[multiprocessing.process.BaseProcess] = []
        try:
            for chunk in chain(firsts, rest):
                waiting.append((chunk, pool.submit(audit_chunk, chunk)))
                started = started or pool_processes(pool)  # a forking pool launches all its workers at the first task
                if len(waiting) >= limit:
                    pending = self.accept(pending, *waiting.popleft())
            while waiting:
                pending = self.accept(pending, *waiting.popleft())
        except BrokenProcessPool:
            stop_workers(pool, started)
            raise WorkerFailed("a worker process was killed (out of memory?): the audit is incomplete") from None
        except BaseException:
            stop_workers(pool, started)  # an error or a stop: the chunks still queued are not waited for
            raise
        pool.shutdown()
        return pending

    def accept(self, pending: bytes, chunk: Chunk, result: Future[ChunkResult]) -> bytes:
        """Take a worker's result if its first record follows the last one known; else redo the chunk here."""
        self.heap.chunk_done()
        done = result.result()
        if done.first is None:
            return self.sequential(pending, chunk)
        boundary = pending + done.head
        try:
            walked = walk(boundary, 0)
        except ValueError:  # a record of the boundary is corrupt: found, and reported, again from the known start
            return self.sequential(pending, chunk)
        if walked.stop != len(boundary):
            return self.sequential(pending, chunk)
        audit_records(boundary, walked, self.checks, self.findings)
        self.findings.merge(done.findings)
        return done.tail


def default_jobs() -> int:
    with contextlib.suppress(AttributeError):
        return max(1, min(8, len(os.sched_getaffinity(0))))
    return max(1, min(8, os.cpu_count() or 1))
