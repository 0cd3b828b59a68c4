"""sam-mask-regions: mask read bases inside forensic loci (or BED regions) to N.

The guideline asks for short tandem repeats (the NIST/CODIS forensic loci) to
be deleted unless the research needs them (the guideline, item 3). In reads, a
repeat is revealed by its bases and also by its *length*: the number of read
bases between the two flanks, an insertion or deletion inside the repeat, or
the point where an aligner gave up and soft-clipped. So, with W a region
widened by ``--flank`` (man page, *WHAT IS MASKED*):

- aligned bases whose reference position lies in W become ``N`` with quality
  ``#`` (Phred 2), and ``MD``/``NM`` are recomputed (``-r``) or removed;
- a soft clip whose bases, laid out beyond the alignment end, would touch W
  is masked whole (its bases may be repeat units the aligner could not place);
- a read whose CIGAR has an insertion, deletion or skip touching W, or whose
  alignment starts or ends inside W at a clip, is dropped: masking its bases
  would still show the allele length (in SEQ length or clip position); an
  insertion or deletion of L bases touches W when its span widened by L on each
  side overlaps or meets W (an aligner may place it anywhere along the repeat);
- an unmapped read placed (by RNAME and POS, or written unplaced with its mate's place
  in RNEXT and PNEXT: ``placement``) within ``UNMAPPED_REACH`` of W is masked whole, and dropped
  when placed in W or at its edge: it is placed at its mate's start (SAM's rule), which
  may be the clip junction its mate was dropped for;
- RNEXT and PNEXT become ``*`` and 0 (and TLEN 0) where PNEXT lies in W or at its edge
  and may be a clip junction (``mate_start_shows_region``: the read keeps no readable
  ``MC`` that starts with no clip): a mate dropped for a clip junction in W would show it
  there, and the junctions of many reads pile up at the repeat allele's end;
- ``MC`` (the mate's CIGAR), and ``YS``/``nM`` (scored on the mate's bases), are
  removed where the mate touches W, ``SA``/``XA``/``XB`` where an alignment they list
  touches W; TLEN becomes 0 where it shows the end of a mate that may have been
  dropped (``template_length_reach``, ``mate_footprint``): with the mate's start (PNEXT)
  and its read length, that end tells an indel's length inside W as the mate's CIGAR
  would; a masked read keeps only the tags that say nothing of its bases
  (``KEPT_WHEN_MASKED``): those that copy them or were scored on them go;
- ``R2``/``Q2`` (the mate's bases) and ``OA``/``OC``/``OP`` (the alignment before
  realignment) go from every record (``COPYING_TAGS``): no rule here judges them;
- a place no contig has goes from every record, as sam-scrub-rg removes it
  (``without_far_places``, ``sam_columns.ReadPlaces``): a PNEXT past its contig leaves the
  mate's place unavailable, a ``CP`` past RNAME's goes.

Reads whose span touches no region pass as the same bytes (but for ``COPYING_TAGS``): each block's
positions and CIGAR spans are tested with ``numpy.searchsorted`` against the
merged region arrays; only the few reads near a region are parsed further.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from functools import cache, cached_property, partial
from itertools import chain
from pathlib import Path
from typing import Annotated, Any, cast

import numpy as np
import typer
from genoscrub import scan
from genoscrub.alignments import AlignmentOutput, open_alignment_text
from genoscrub.aux_tags import TAGS_BLIND_TO_BASES, without_repeats
from genoscrub.aux_values import alignment_hits
from genoscrub.cigar import (
    ALIGNED,
    CACHE_LIMIT,
    CONSUMES_REFERENCE,
    DEL,
    HARD,
    INS,
    SKIP,
    SOFT,
    CigarShape,
    ShapeCache,
    widened_length_changes,
)
from genoscrub.cli import (
    BedOption,
    BuildOption,
    FlankOption,
    InputArgument,
    OutputOption,
    PresetOption,
    QuietOption,
    ReportOption,
    make_app,
    run,
)
from genoscrub.contigs import ContigMap, HitContigs
from genoscrub.fasta import ContigReference, Fasta
from genoscrub.one_by_one import one_by_one as one_record_path_forced
from genoscrub.regions import (
    AUTO_BUILD,
    DEFAULT_FLANK,
    BlockColumns,
    RegionIndex,
    RegionRequest,
    distinct,
    field_bounds,
    load_regions,
    overlap_mask,
)
from genoscrub.report import InputError, Report
from genoscrub.sam_columns import (
    BAD_NUMBER,
    PLACE_TAGS,
    UNAVAILABLE_MATE,
    ReadPlaces,
    is_position,
    lines_with_repeated_tags,
)
from genoscrub.sam_header import program_ids, program_line, sequence_dictionary
from genoscrub.sam_stage import SamStage
from genoscrub.streams import BLOCK_SIZE, background_reads, whole_line_blocks, workers

COMMAND = "sam-mask-regions"
MASK_BASE = ord("N")
MASK_QUALITY = ord("#")  # Phred 2, the conventional "unreliable base" quality
MASK_BASE_BYTE, MASK_QUALITY_BYTE = bytes([MASK_BASE]), bytes([MASK_QUALITY])
UNMAPPED_REACH = 1000  # an unmapped mate lies within about one insert size of its placed position
ALIGNMENT_LISTS = (b"SA", b"XA", b"XB")
"""Tags listing the read's other alignments: SA (its chimeric parts), XA (bwa's alternative
hits, ``rname,[+-]pos,CIGAR,NM;``) and XB (bwa mem -u's XA, each hit with its score and MAPQ
after the same fields). Each is judged by the hits it lists (``check_alignment_lists``)."""
KEPT_WHEN_MASKED = TAGS_BLIND_TO_BASES | {b"MC", b"SA", b"XA", b"XB"}
"""The tags a masked read keeps: those that say nothing of its bases (``aux_tags``), and the mate's
CIGAR and the read's other alignments, which have rules of their own (below). Every other tag
goes, fail closed: it copies the bases (``R2``, ``cs``, ``OQ``, ``MM``, ...), or it was scored on
them (``AS``, ``XS``, ``nM``, ``UQ``, ...), and a score tells how many of the masked bases
differed from the reference. ``MD`` and ``NM`` are recomputed against ``-r``."""
COPYING_TAGS = frozenset(b"R2 Q2 OA OC OP cg E2 U2 CS CQ cs ds".split())
"""Tags removed from every record, whether or not it touches a region: they hold what no rule
here judges, another read's bases or another alignment. ``R2``/``Q2`` are the mate's bases
and qualities (the mate may be dropped or masked for a region, its repeat allele left here);
``OA``, ``OC`` and ``OP`` are the read's alignment before realignment (GATK's IndelRealigner,
lifters): a position and a CIGAR that may lie in a region and show an allele's length; minimap2's
``cg`` is the read's CIGAR again, and its ``cs`` and ``ds``, ``E2`` (with its qualities ``U2``) and
``CS`` (with ``CQ``) spell the read's bases beside SEQ: an indel pair there (``cg:Z:20M4D26M4I``)
keeps the read's lengths but shows an STR allele's, and the read's place does not bound how far
an indel's length reaches. Counted in ``copying_tags_removed``; sam-revert-germline removes them
too (its ``COPYING_TAGS``, ``cg`` where it rewrites a read)."""
COPYING_TAG_START = re.compile(rb"\t(?:%s)" % b"|".join(sorted(COPYING_TAGS)))
MATE_CIGAR_TAG = frozenset([b"MC"])
MATE_CIGAR_NAME = ord("M") << 8 | ord("C")  # as LocatedBlock.tag_names numbers it
MATE_SCORE_TAGS = frozenset([b"YS", b"ms", b"nM", b"jI", b"jM"])
"""Tags of a read that describe its mate too (Bowtie2's ``YS``, the mate's alignment score;
``samtools fixmate -m``'s ``ms``, the sum of the mate's base qualities of 15 or more;
STAR's ``nM``, the mismatches of the pair, and ``jI``/``jM``, the junctions of the pair, the
mate's skips among them): removed where the mate touches a region, like ``MC``."""
REFERENCE_STRETCH = 1 << 20
"""Widest reference stretch read at once for the reads of a block masked in bulk (``reference_stretches``)."""
REFERENCE_CHUNK = 1 << 14
"""Reference bases read at a time for the masked reads' ``MD`` and ``NM`` (``reference_bases``)."""
FIELD_TABS = 10  # the tabs between the eleven mandatory columns
NEWLINE, TAB, COLON = ord("\n"), ord("\t"), ord(":")
REACH_UNKNOWN = 1 << 32
"""Where a TLEN that is not a number of 1 to 10 digits (``-`` allowed first) may reach: past
every contig's end, so such a TLEN is judged as reaching every region after the mate's start."""

app = make_app()


def touches(windows: list[tuple[int, int]], position: int) -> bool:
    """Whether a point between bases (an insertion, a clip junction) lies in or at the edge of a window."""
    return any(start <= position <= end for start, end in windows)


def reveals_length(shape: CigarShape, position: int, windows: list[tuple[int, int]]) -> bool:
    """Whether the CIGAR alone shows an allele length inside a window.

    Insertions, deletions and skips touching a window, and clip junctions
    inside one, change with the repeat length whatever the bases say. An
    insertion or deletion of L bases is judged over its span widened by L on
    each side (``cigar.widened_length_changes``): an aligner may place it
    anywhere along the repeat, up to about its own length past the repeat's
    catalogued edges.
    """
    if not (shape.has_clip or shape.has_indel or shape.has_skip):
        return False  # no clip, insertion, deletion or skip (most reads, ``150M``): nothing below can hold
    operations = shape.operations
    if operations[0][0] in (SOFT, HARD) and touches(windows, position):
        return True
    if operations[-1][0] in (SOFT, HARD) and touches(windows, position + shape.reference_length):
        return True
    if shape.has_indel:
        for low, high in widened_length_changes(operations):
            if any(position + low <= end and position + high >= start for start, end in windows):
                return True
    if shape.has_skip:
        reference = position
        for op, length in operations:
            if op == SKIP and any(reference <= end and reference + length >= start for start, end in windows):
                return True
            if op in CONSUMES_REFERENCE:
                reference += length
    return False


def footprint_extents(shape: CigarShape) -> tuple[int, int]:
    """``(bases before POS, end after POS)`` of the reference a CIGAR's read may show
    something of: its aligned span with soft clips laid out beyond it, and the widened span
    of each insertion and deletion (``reveals_length``) one base further, so that a region
    that only meets a widened span still overlaps the footprint. The one-record and the
    block paths, and the mate's ``MC`` and the ``SA``/``XA`` lists, all take it from here."""
    lead, extent = shape.left_clip, max(1, shape.reference_length) + shape.right_clip
    if shape.has_indel:
        lead, extent = max(lead, 1 - shape.length_change_start), max(extent, shape.length_change_end + 1)
    return lead, extent


def mask_bases(shape: CigarShape, position: int, windows: list[tuple[int, int]], sequence: bytearray, quality: bytearray | None) -> int:
    """Set to N (quality ``#``) every base in a window and every clip that would reach one; return the count."""
    masked = 0
    query = 0
    reference = position
    aligned_yet = False
    for op, length in shape.operations:
        if op in ALIGNED:
            for start, end in windows:
                low, high = max(reference, start), min(reference + length, end)
                if low < high:
                    first = query + low - reference
                    sequence[first : first + high - low] = MASK_BASE_BYTE * (high - low)
                    if quality is not None:
                        quality[first : first + high - low] = MASK_QUALITY_BYTE * (high - low)
                    masked += high - low
            query += length
            reference += length
            aligned_yet = True
        elif op == SOFT:
            virtual = (reference, reference + length) if aligned_yet else (reference - length, reference)
            if any(virtual[0] < end and virtual[1] > start for start, end in windows):
                sequence[query : query + length] = MASK_BASE_BYTE * length
                if quality is not None:
                    quality[query : query + length] = MASK_QUALITY_BYTE * length
                masked += length
            query += length
        elif op == INS:
            query += length
        elif op in (DEL, SKIP):
            reference += length
            aligned_yet = True
    return masked


def mask_clips(shape: CigarShape, sequence: bytearray, quality: bytearray | None) -> int:
    """Set the soft-clipped bases to N (quality ``#``); return how many were not N before."""
    masked = 0
    query = 0
    for op, length in shape.operations:
        if op == SOFT:
            masked += length - sequence[query : query + length].count(MASK_BASE)
            sequence[query : query + length] = MASK_BASE_BYTE * length
            if quality is not None:
                quality[query : query + length] = MASK_QUALITY_BYTE * length
        if op in (SOFT, INS) or op in ALIGNED:
            query += length
    return masked


def tag_value(tags: bytes, name: bytes) -> bytes | None:
    """The value of a ``NAME:Z:`` tag in the tab-separated tag part of a line."""
    marker = b"\t" + name + b":Z:"
    where = (b"\t" + tags).find(marker)
    if where < 0:
        return None
    start = where + len(marker) - 1
    end = tags.find(b"\t", start)
    return tags[start : end if end >= 0 else len(tags)]


def tags_tab_of(rest: bytes) -> int:
    """Where the optional fields of a record given from SEQ on (``SEQ\\tQUAL[\\tTAGS]``) start:
    the tab after QUAL (every field follows a tab from there on), or -1 without one."""
    quality_tab = rest.find(b"\t")
    return rest.find(b"\t", quality_tab + 1) if quality_tab >= 0 else -1


def optional_tag(rest: bytes, name: bytes, tags_tab: int | None = None) -> bytes | None:
    """The value of the first ``NAME:Z:`` tag of a record given from SEQ on
    (``SEQ\\tQUAL[\\tTAGS]``): ``tag_value`` of its optional fields, without cutting them
    out. A tag is looked for there only, never in SEQ or QUAL (a QUAL may read ``MC:Z:...``).
    ``tags_tab``: ``tags_tab_of(rest)``, where the caller has it."""
    if tags_tab is None:
        tags_tab = tags_tab_of(rest)
    if tags_tab < 0:
        return None
    marker = b"\t" + name + b":Z:"
    start = rest.find(marker, tags_tab)
    if start < 0:
        return None
    start += len(marker)
    end = rest.find(b"\t", start)
    return rest[start : end if end >= 0 else len(rest)]


UNKNOWN_MATE_CIGAR = b"*"
"""What ``rewrite`` judges the mate by when its ``MC`` is of another type than ``Z`` (``MC:i:5``):
no CIGAR, so the mate's span is unknown, judged as touching a region (fail closed), and the
field goes as an ``MC`` would."""


def mate_cigar_of(rest: bytes, tags_tab: int | None = None) -> bytes | None:
    """The first ``MC`` of a record given from SEQ on: its value when it is of type ``Z``,
    ``UNKNOWN_MATE_CIGAR`` when it is of another type, None without one (``tags_tab``: as
    ``optional_tag``'s)."""
    if tags_tab is None:
        tags_tab = tags_tab_of(rest)
    value = optional_tag(rest, b"MC", tags_tab)
    if value is not None:
        return value
    return UNKNOWN_MATE_CIGAR if tags_tab >= 0 and rest.find(b"\tMC:", tags_tab) >= 0 else None


def template_length_reach(fields: list[bytes], aligned_end: int) -> int | None:
    """The end of the mate that this record's TLEN shows, or None when it shows none.

    TLEN spans the template, from the leftmost aligned base of the pair to the rightmost; this
    record's own start and end, and the mate's start (PNEXT), are known. So where the template
    ends past this record's own aligned end (0-based, exclusive), that end is the mate's, and
    with the mate's read length it tells the length of an indel in the mate, whatever the mate's
    own record shows. A mate on another contig, or TLEN 0, shows nothing; a TLEN that is not a
    number is judged as reaching ``REACH_UNKNOWN`` (fail closed). The block twin is
    ``RegionMasker.template_lengths_reaching``."""
    if fields[2] == b"*" or fields[6] not in (b"=", fields[2]):
        return None
    digits = fields[8][1:] if fields[8][:1] == b"-" else fields[8]
    magnitude = int(digits) if 0 < len(digits) <= 10 and digits.isdigit() else -1
    if magnitude == 0:
        return None
    start = min(int(fields[3]), int(fields[7])) - 1
    reach = REACH_UNKNOWN if magnitude < 0 else start + magnitude
    return reach if reach > aligned_end else None


def placement(fields: list[bytes]) -> tuple[bytes, int]:
    """Where a record lies: RNAME and POS (0-based), or for an unmapped read written unplaced
    (RNAME ``*``) that names its mate's place, RNEXT and PNEXT: SAM places an unmapped read
    at its mate, and writing it unplaced must not let its bases pass a region unmasked. The
    block path's twin is ``placed_by_mate`` in ``RegionMasker.process``."""
    if fields[2] == b"*" and int(fields[1]) & 4 and fields[6] not in (b"*", b"=") and int(fields[7]) > 0:
        return fields[6], int(fields[7]) - 1
    return fields[2], int(fields[3]) - 1


def mate_footprint(mate_start: int, reach: int, own_length: int) -> tuple[int, int]:
    """The reference ``[start, end)`` the mate whose span TLEN shows as ``[mate_start, reach)``
    may have been dropped for: that span widened by W + 1 on each side, W the larger of the
    span and this read's own length (its CIGAR's bases or SEQ). The masker drops a mate whose
    insertion or deletion of L bases, widened by L (``reveals_length``), meets a region; a
    deletion is no longer than the span, an insertion no longer than the mate's read, taken
    as long as this one. Without the widening, a mate dropped for a deletion placed just past
    a region would show its length here. The block twin is in
    ``RegionMasker.template_lengths_reaching``."""
    widen = max(reach - mate_start, own_length) + 1
    return mate_start - widen, reach + widen


def only_tags(tags: bytes, names: frozenset[bytes]) -> tuple[bytes, int]:
    """The tag part with only the tags named in ``names`` left, and how many went: those whose
    first two bytes are not one of ``names`` (``tag[:2] in names``), each with the tab before
    it, removed by one pattern (``fields_not_named``) from the part with a tab put first."""
    if not tags:
        return tags, 0
    kept, removed = fields_not_named(names).subn(b"", b"\t" + tags)
    return kept[1:], removed


@cache
def fields_not_named(names: frozenset[bytes]) -> re.Pattern[bytes]:
    """A tab and the field after it, where that field does not start with one of ``names``
    (two bytes each): an empty field, or one of a byte, is matched too, as ``tag[:2] in names``
    keeps neither."""
    assert names and all(len(name) == 2 and b"\t" not in name for name in names)
    return re.compile(rb"\t(?!%s)[^\t]*" % b"|".join(re.escape(name) for name in sorted(names)))


def without_tags(tags: bytes, names: Iterable[bytes]) -> tuple[bytes, int]:
    """The tag part with every tag named in ``names`` removed (``tag[:2] in names``), and how many
    went: as ``only_tags``, by one pattern (``fields_named``)."""
    if not tags:
        return tags, 0
    kept, removed = fields_named(names if isinstance(names, frozenset) else frozenset(names)).subn(b"", b"\t" + tags)
    return kept[1:], removed


@cache
def fields_named(names: frozenset[bytes]) -> re.Pattern[bytes]:
    """A tab and the field after it, where that field starts with one of ``names`` (two bytes each)."""
    assert names and all(len(name) == 2 and b"\t" not in name for name in names)
    return re.compile(rb"\t(?:%s)[^\t]*" % b"|".join(re.escape(name) for name in sorted(names)))


@cache
def name_table(names: frozenset[bytes]) -> np.ndarray:
    """65,536 booleans, True at ``first << 8 | second`` of each two-byte name in ``names``
    (``LocatedBlock.tag_names``' numbers); a table per set of names, built once."""
    table = np.zeros(1 << 16, dtype=bool)
    table[[name[0] << 8 | name[1] for name in names]] = True
    table[0] = False  # a field too short to name anything (``LocatedBlock.names_of_fields``)
    return table


@dataclass
class LocatedBlock:
    """A block of SAM lines (``text``: each line ending in a newline) with the mandatory
    columns of every line and its optional fields located once (``scan.line_fields``)."""

    text: bytes
    columns: BlockColumns
    tag_tabs: np.ndarray  # the tab before each optional field, in order
    tag_ends: np.ndarray  # the tab or newline after each optional field
    line_ends: np.ndarray  # the newline of each line
    fields: scan.LineFields  # all of the above, as scan.line_fields found them

    @cached_property
    def tag_names(self) -> np.ndarray:
        """The first two bytes after each tab of ``tag_tabs`` as ``first << 8 | second`` (a byte past
        the text's end read as its last), gathered once for every :meth:`fields_named`."""
        data, tabs = self.columns.data, self.tag_tabs
        last = len(data) - 1
        return (data[np.minimum(tabs + 1, last)].astype(np.uint16) << 8) | data[np.minimum(tabs + 2, last)]

    def fields_named(self, names: Iterable[bytes]) -> np.ndarray:
        """The tabs before every optional field whose first two bytes are one of ``names``
        (whatever follows: the test ``tag[:2] in names`` of ``without_tags``): one look-up
        of each field's :attr:`tag_names` in a table of the names (``name_table``)."""
        return self.tag_tabs[name_table(frozenset(names))[self.names_of_fields]]

    @cached_property
    def names_of_fields(self) -> np.ndarray:
        """:attr:`tag_names`, 0 for a field shorter than two bytes (it names nothing, and no name is 0)."""
        return np.where(self.tag_ends - self.tag_tabs > 2, self.tag_names, 0).astype(np.uint16)

    def tags_after_tabs(self, names: Iterable[bytes]) -> dict[bytes, np.ndarray]:
        """For each two-letter name, the tabs followed by ``NAME:Z:``: every such tag of the block.

        The four bytes after every tab are read as one little-endian number (a view of the
        text with a stride of one byte), so each name is one comparison over the tabs.
        """
        data, tabs = self.columns.data, self.tag_tabs
        words = np.ndarray(shape=(len(data) - 3,), dtype="<u4", buffer=self.text, strides=(1,))
        # A tab too near the end for four bytes after it cannot start a tag (the text ends in a newline).
        following = words[np.minimum(tabs + 1, len(words) - 1)]
        found: dict[bytes, np.ndarray] = {}
        for name in names:
            tagged = tabs[following == int.from_bytes(name + b":Z", "little")]
            found[name] = tagged[data[tagged + 5] == COLON]
        return found

    def values(self, field: int) -> MostlyOneValue:
        """Column ``field`` (0-based) of every line."""
        begin, end = field_bounds(self.columns, field)
        return mostly_one_value(self.text, self.columns.data, begin, end)

    def rows_of(self, offsets: np.ndarray) -> np.ndarray:
        """The line each offset of the block lies on."""
        return np.searchsorted(self.columns.line_starts, offsets, side="right") - 1

    def values_after(self, tag_tabs: np.ndarray, skip: int) -> MostlyOneValue:
        """The text from ``skip`` bytes past each tab to the next tab or the line's end."""
        ends = self.tag_ends[np.searchsorted(self.tag_tabs, tag_tabs)]
        return mostly_one_value(self.text, self.columns.data, tag_tabs + skip, ends)


COMPARED_WIDTH = 32  # a common value longer than this is not looked for byte by byte


@dataclass
class MostlyOneValue:
    """The values of a column (or of one tag) over a block, when most rows hold the same
    one: a sorted block's RNAME, its ``150M`` CIGAR, ``=`` for RNEXT. Those rows are found
    with one comparison per byte of that value; only the others are cut out of the text."""

    common: bytes
    others: np.ndarray  # the rows whose value is not ``common``
    other_values: list[bytes]
    count: int

    def distinct(self) -> set[bytes]:
        if not self.count:
            return set()
        return {*self.other_values, self.common} if len(self.others) < self.count else set(self.other_values)

    def array(self) -> np.ndarray:
        """Every row's value, as a bytes array."""
        width = max(1, len(self.common), *map(len, self.other_values))
        values = np.full(self.count, self.common, dtype=f"S{width}")
        if len(self.others):
            values[self.others] = self.other_values
        return values


def mostly_one_value(text: bytes, data: np.ndarray, begin: np.ndarray, end: np.ndarray) -> MostlyOneValue:
    """The values of the spans ``text[begin:end]``. The first row's value is taken as the
    common one, or, when most rows differ from it, the value of the first row that does."""
    count = len(begin)
    common, others = b"", np.arange(count)
    row = 0
    for _ in range(2):
        value = text[int(begin[row]) : int(end[row])] if row < count else b""
        if row >= count or len(value) > COMPARED_WIDTH:
            break
        same = (end - begin) == len(value)
        last = len(data) - 1
        for offset, byte in enumerate(value):
            same &= data[np.minimum(begin + offset, last)] == byte
        differing = np.flatnonzero(~same)
        if len(differing) < len(others):
            common, others = value, differing
        if len(differing) <= count // 2:
            break
        row = int(differing[0])
    other_values = list(map(text.__getitem__, map(slice, begin[others].tolist(), end[others].tolist())))
    return MostlyOneValue(common, others, other_values, count)


def locate_block(text: bytes) -> LocatedBlock | None:
    """The columns of ``text`` (whole lines, each ending in a newline), or None when a line
    starts with ``@`` (a header line among records) or has fewer than eleven columns."""
    located = scan.line_fields(text, FIELD_TABS)
    if located.bad_row >= 0 or not located.line_count:
        return None
    data = np.frombuffer(text, dtype=np.uint8)
    if bool((data[located.starts] == ord("@")).any()):
        return None
    columns = BlockColumns(data, located.starts, list(np.ascontiguousarray(located.tabs.T)), located.extra_counts + FIELD_TABS)
    return LocatedBlock(text, columns, located.extra_starts, located.extra_ends, located.ends, located)


@dataclass
class MateCigarCuts:
    """Reads settled without ``rewrite``: ``settled`` (per row of the block) pass as they
    are except for the ``MC`` fields ``[starts, ends)`` (the tab before each field to the
    byte after it) that go."""

    settled: np.ndarray
    rows: np.ndarray  # the row of each cut, in order
    starts: np.ndarray
    ends: np.ndarray
    places_cleared: np.ndarray | None = None
    """Of ``settled``, the rows whose RNEXT, PNEXT and TLEN become ``*``, 0, 0 (``mate_start_shows_region``), in order."""

    @staticmethod
    def none(count: int) -> MateCigarCuts:
        empty = np.zeros(0, dtype=np.int64)
        return MateCigarCuts(np.zeros(count, dtype=bool), empty, empty, empty, empty)


@dataclass
class PlainMasks:
    """Reads in a region masked for the whole block (``RegionMasker.plain_masks``): ``settled``
    (per row of the block) are written as the spans ``[starts, ends)`` replaced by ``pieces``
    (in no order; a span of no width is an insertion), and ``events`` are their counts, each
    ``(row, order, key, total)``: added at the first row that adds it, in ``rewrite``'s order."""

    settled: np.ndarray
    starts: np.ndarray
    ends: np.ndarray
    pieces: list[bytes]
    events: list[tuple[int, int, str, int]]
    text: bytes | bytearray | None = None
    """The block with the settled reads' bases and qualities masked (None: none settled): the
    splice reads it in place of the block."""

    @staticmethod
    def none(count: int) -> PlainMasks:
        empty = np.zeros(0, dtype=np.int64)
        return PlainMasks(np.zeros(count, dtype=bool), empty, empty, [], [])


def splice_lines_and_cuts(
    text: bytes | bytearray, starts: np.ndarray, ends: np.ndarray, lines: list[bytes | None], cuts: MateCigarCuts,
    zeroed: tuple[np.ndarray, np.ndarray], replaced: tuple[np.ndarray, np.ndarray, list[bytes]] | None = None,
) -> bytes:
    """``text`` with the lines ``[starts[k], ends[k])`` (``ends``: their newlines) replaced by
    ``lines[k]`` (None: removed with its newline), the spans of ``cuts`` removed, the spans
    ``zeroed`` (TLEN fields) replaced by ``0`` and the spans of ``replaced`` by its pieces (a
    span of no width: inserted there, after any span ending there)."""
    removed = np.array([line is None for line in lines], dtype=bool)
    none = np.zeros(0, dtype=np.int64)
    replaced_starts, replaced_ends, replaced_pieces = replaced if replaced is not None else (none, none, [])
    span_starts = np.concatenate([starts, cuts.starts, zeroed[0], replaced_starts])
    span_ends = np.concatenate([ends + removed, cuts.ends, zeroed[1], replaced_ends])
    choices = np.concatenate([
        np.where(removed, 0, np.arange(1, len(lines) + 1)), np.zeros(len(cuts.starts), dtype=np.int64),
        np.full(len(zeroed[0]), len(lines) + 1, dtype=np.int64), np.arange(len(replaced_pieces), dtype=np.int64) + len(lines) + 2,
    ])  # fmt: skip
    order = np.lexsort((span_ends, span_starts))
    pieces = [b"", *(line if line is not None else b"" for line in lines), b"0", *replaced_pieces]
    # both loops read ``text`` as a buffer (the C one with ``y*``, the Python one by slicing): a
    # bytearray (``PlainMasks.text``) needs no copy into bytes
    return scan.splice_spans(cast(bytes, text), span_starts[order], span_ends[order], pieces, choices[order].astype(np.int64))


def lines_of(text: bytes) -> list[bytes]:
    """The lines of a block of whole lines, without their newlines (for the rare paths that need them)."""
    return text[:-1].split(b"\n") if text else []


class RegionMasker:
    """Masks, or with ``drop`` removes, the reads of a block that touch a region."""

    def __init__(
        self,
        regions: RegionIndex,
        declared: Mapping[bytes, int] | set[bytes],
        reference: ContigReference | None,
        drop: bool,
        path: str,
        report: Report,
        drop_unknown_contigs: bool = False,
        one_by_one: bool = False,
        drop_alignment_lists: bool = False,
    ) -> None:
        self.regions = regions
        self.places = ReadPlaces(declared)
        """FLAG, POS, PNEXT, RNAME and RNEXT read as every SAM command reads them."""
        self.hit_contigs = HitContigs(declared)
        """The contigs of ``SA``/``XA``/``XB`` hits read as the header's (``1`` in a ``chr1`` header)."""
        self.reference = reference
        self.drop = drop
        self.path = path
        self.report = report
        self.shapes = ShapeCache()
        self.drop_unknown_contigs = drop_unknown_contigs
        self.one_by_one = one_by_one
        """Every record judged alone (``GENOSCRUB_ONE_BY_ONE=1``): the reference the block path must equal."""
        self.drop_alignment_lists = drop_alignment_lists
        self.mate_spans: dict[bytes, tuple[int, int]] = {}
        """``mate_span`` of each ``MC`` value met, forgotten past ``cigar.CACHE_LIMIT`` values as ``shapes`` is."""
        self.reference_chunk: tuple[bytes, int, bytes] = (b"", 0, b"")
        """The contig, start and bases of the reference last read by ``reference_bases``."""
        """``--drop-alignment-lists``: ``SA``/``XA``/``XB`` judged, then removed from every record
        (after sam-revert-germline ``--keep-alignment-lists``, which left them for this judgement).
        Every record holding one is a candidate of the block path, so ``rewrite`` sees them all."""

    def find_bad_record(self, lines: list[bytes], first_line: int) -> InputError:
        """The error for the first line the block-wide expression could not read."""
        for index, line in enumerate(lines):
            fields = line.split(b"\t", 9)
            if line.startswith(b"@"):
                return InputError("header line after the first record", self.path, first_line + index)
            if len(fields) < 10 or fields[9].count(b"\t") < 1:
                return InputError("record has fewer than 11 columns", self.path, first_line + index)
            if not (is_position(fields[1]) and is_position(fields[3]) and is_position(fields[7])):
                return InputError(BAD_NUMBER, self.path, first_line + index)
            if not fields[2] or not fields[5] or not fields[6]:
                return InputError("RNAME, CIGAR or RNEXT is empty", self.path, first_line + index)
        return InputError("malformed record", self.path, first_line)

    def hits(self, contigs: np.ndarray, starts: np.ndarray, ends: np.ndarray) -> np.ndarray:
        """Which footprints ``[start, end)`` on ``contigs`` (a bytes array) overlap a region."""
        names = distinct(contigs)
        if len(names) == 1:  # the usual block, on one contig: no rows to select
            intervals = self.regions.intervals(names.pop())
            return overlap_mask(*intervals, starts, ends) if intervals is not None else np.zeros(len(contigs), dtype=bool)
        found = np.zeros(len(contigs), dtype=bool)
        for contig in names:
            intervals = self.regions.intervals(contig)
            if intervals is None:
                continue
            selected = contigs == contig
            found[selected] = overlap_mask(intervals[0], intervals[1], starts[selected], ends[selected])
        return found

    def process(self, text: bytes, first_line: int) -> bytes:
        """The output text of a block of whole lines (kept lines, each ending in a newline):
        untouched reads as the same bytes, the few near a region rewritten.

        The block is never split into lines. Positions, flags and CIGAR spans of the whole
        block are read from the located columns and tested with ``searchsorted``; the
        ``MC``, ``SA``, ``XA`` and ``XB`` tags are found from the block's tabs, not by searching the
        text again. A read whose only change can be the loss of its ``MC`` is settled for the
        whole block (``mate_cigar_cuts``); Python work per read is spent only on the reads
        whose own footprint or alignment list may come near a region, or whose tag section
        is unusual. The block's text is then copied with those lines replaced and the ``MC``
        fields cut.
        """
        nul = text.find(b"\0")
        if nul >= 0:  # the block's columns are gathered as NUL-padded strings, which would drop it
            raise InputError("record holds a NUL byte", self.path, first_line + text.count(b"\n", 0, nul))
        located = locate_block(text)
        columns = located.columns if located else None
        if located is None or columns is None:
            raise self.find_bad_record(lines_of(text), first_line)
        spans = partial(field_bounds, columns)
        flags, positions, mate_positions, far_mates = self.places.read_block(text, spans, self.path, first_line)
        count = len(located.line_ends)
        contigs = located.values(2).array()
        cigars = located.values(5)
        mate_contigs = located.values(6).array()
        if self.reference is not None and (on_reference := self.on_reference(contigs, first_line)) is not None:
            self.report.add("reads_in", count - int(on_reference.sum()))
            self.report.add("reads_dropped_unknown_contig", count - int(on_reference.sum()))
            outside = np.flatnonzero(~on_reference)
            kept = scan.splice_lines(text, columns.line_starts, located.line_ends, outside, [None] * len(outside))
            return self.process(kept, first_line) if kept else b""
        lead, extent = self.cigar_extents(cigars, first_line)
        unmapped = (flags & 4) != 0
        # an unmapped read written unplaced but naming its mate's place lies there (``placement``)
        placed_by_mate = (contigs == b"*") & unmapped & (mate_contigs != b"*") & (mate_contigs != b"=") & (mate_positions > 0) & ~far_mates
        self.report.add("reads_in", count)
        self.report.add("unplaced_reads_passed", int(((contigs == b"*") & ~placed_by_mate).sum()))
        if self.one_by_one:
            return self.process_one_by_one(lines_of(text), first_line)
        positions -= 1
        place_contigs = np.where(placed_by_mate, mate_contigs, contigs) if placed_by_mate.any() else contigs
        places = np.where(placed_by_mate, mate_positions - 1, positions)
        own_starts = np.where(unmapped, places - UNMAPPED_REACH, positions - lead)
        own_ends = np.where(unmapped, places + UNMAPPED_REACH, positions + extent)
        own_hit = self.hits(place_contigs, own_starts, own_ends)
        tags = located.tags_after_tabs((b"MC", *ALIGNMENT_LISTS))
        mate_scores = located.fields_named(MATE_SCORE_TAGS)
        candidates = own_hit | self.mate_candidates(located, tags[b"MC"], mate_scores, flags, contigs, mate_contigs, mate_positions - 1)
        far_places = far_mates.copy()  # rewrite makes the mate's place unavailable
        place_tabs = located.fields_named(PLACE_TAGS)
        if len(place_tabs):  # rewrite removes those past their contig
            place_rows = located.rows_of(place_tabs)
            place_ends = located.tag_ends[np.searchsorted(located.tag_tabs, place_tabs)]
            far_places[place_rows[self.places.places_past(text, place_tabs, place_ends, place_rows, spans)]] = True
        candidates |= far_places
        listing = np.zeros(count, dtype=bool)
        for name in ALIGNMENT_LISTS:
            listing[located.rows_of(tags[name])] = True
        if self.drop_alignment_lists:  # rewrite removes a list of any type
            listing[located.rows_of(located.fields_named(ALIGNMENT_LISTS))] = True
        repeating = lines_with_repeated_tags(text, located.fields)
        candidates[repeating] = True
        candidates[located.rows_of(self.mate_cigars_of_other_types(located))] = True  # rewrite judges them (fail closed)
        clearing = self.template_lengths_reaching(text, columns, contigs, mate_contigs, positions, mate_positions - 1, cigars)
        candidates |= clearing
        mate_starts_in_region = self.mate_starts_in_regions(contigs, mate_contigs, mate_positions - 1, flags)
        candidates |= mate_starts_in_region
        copying = located.fields_named(COPYING_TAGS)
        copies = np.zeros(count, dtype=bool)
        copies[located.rows_of(copying)] = True  # rewrite looks for COPYING_TAGS in these lines only
        unusual_copying = self.unusual_tag_sections(located, copying)
        candidates[unusual_copying] = True  # a CR or an empty field beside them: rewrite removes them
        list_cuts = MateCigarCuts.none(count)
        if self.drop_alignment_lists:
            list_cuts = self.alignment_list_cuts(located, listing & ~candidates)
        candidates |= listing & ~list_cuts.settled
        cuts = MateCigarCuts.none(count)
        if not self.drop:
            mate_only = candidates & ~own_hit & ~listing & ~far_places
            mate_only[located.rows_of(mate_scores)] = False  # rewrite judges what they lose
            mate_only[repeating] = False  # rewrite leaves out the second copy of a tag first
            mate_only[unusual_copying] = False
            cuts = self.mate_cigar_cuts(
                located, tags[b"MC"], mate_only, flags, contigs, mate_contigs, mate_positions - 1, mate_starts_in_region
            )
            candidates &= ~cuts.settled
        plain = self.plain_masks(
            located, cigars, candidates & own_hit & ~unmapped & ~far_places & ~listing & ~copies, repeating, tags[b"MC"], flags, contigs,
            mate_contigs, positions, mate_positions - 1, mate_starts_in_region, clearing,
        )
        candidates &= ~plain.settled
        rows = np.flatnonzero(candidates)
        places_cleared = cuts.places_cleared if cuts.places_cleared is not None else np.zeros(0, dtype=np.int64)
        keeping_place = np.ones(count, dtype=bool)
        keeping_place[places_cleared] = False
        cleared = np.flatnonzero(cuts.settled & clearing & keeping_place)  # settled in bulk: their TLEN becomes 0 as rewrite sets it
        copying = copying[~candidates[located.rows_of(copying)]]  # the rewritten lines lose theirs in rewrite
        bulk_edits = len(cuts.starts) or len(cleared) or len(list_cuts.starts) or len(copying) or plain.events or len(places_cleared)
        if not len(rows) and not bulk_edits:
            self.report.add("reads_out", count)
            return text

        repeats = np.zeros(count, dtype=bool)
        repeats[repeating] = True  # rewrite looks for a tag's second copy in these lines only

        def rewritten(selected: np.ndarray) -> list[bytes | None]:
            rewrite = self.rewrite
            return [
                rewrite(
                    text[start:end], hit, footprint_start, footprint_end, first_line + index, far, repeated, copied, listed,
                    mate_start, reaching,
                )
                for index, start, end, hit, footprint_start, footprint_end, far, repeated, copied, listed, mate_start, reaching in zip(
                    selected.tolist(),
                    columns.line_starts[selected].tolist(),
                    located.line_ends[selected].tolist(),
                    own_hit[selected].tolist(),
                    own_starts[selected].tolist(),
                    own_ends[selected].tolist(),
                    far_places[selected].tolist(),
                    repeats[selected].tolist(),
                    copies[selected].tolist(),
                    listing[selected].tolist(),
                    mate_starts_in_region[selected].tolist(),
                    clearing[selected].tolist(),
                    strict=True,
                )
            ]

        if not bulk_edits:
            every = rewritten(rows)
            self.report.add("reads_out", count - every.count(None))
            return scan.splice_lines(text, columns.line_starts, located.line_ends, rows, every)
        # The reads before the first cut (and before the first TLEN cleared in bulk) are judged
        # first, so that the report's counts appear in the order the one-record path adds them.
        events = [(int(cuts.rows[0]), 0, "mate_cigar_tags_removed", len(cuts.starts))] if len(cuts.starts) else []
        events += [(int(located.rows_of(copying[:1])[0]), -1, "copying_tags_removed", len(copying))] if len(copying) else []
        events += [(int(cleared[0]), 1, "template_lengths_cleared", len(cleared))] if len(cleared) else []
        events += [(int(places_cleared[0]), 1, "mate_positions_cleared", len(places_cleared))] if len(places_cleared) else []
        events += plain.events
        lines: list[bytes | None] = []
        done = 0
        for row, _, key, total in sorted(events):
            before = int(np.searchsorted(rows, row))
            lines += rewritten(rows[done:before])
            done = before
            self.report.add(key, total)
        lines += rewritten(rows[done:])
        self.report.add("reads_out", count - lines.count(None))
        tlen_starts, tlen_ends = field_bounds(columns, 8)
        zeroed = (tlen_starts[cleared], tlen_ends[cleared])
        copying_ends = located.tag_ends[np.searchsorted(located.tag_tabs, copying)]
        every_cut = MateCigarCuts(
            cuts.settled | list_cuts.settled, np.concatenate([cuts.rows, list_cuts.rows, located.rows_of(copying)]),
            np.concatenate([cuts.starts, list_cuts.starts, copying]), np.concatenate([cuts.ends, list_cuts.ends, copying_ends]),
        )  # fmt: skip
        rnext_starts, _ = field_bounds(columns, 6)
        replaced = (
            np.concatenate([plain.starts, rnext_starts[places_cleared]]), np.concatenate([plain.ends, tlen_ends[places_cleared]]),
            plain.pieces + [b"*\t0\t0"] * len(places_cleared),
        )  # fmt: skip
        source = text if plain.text is None else plain.text
        return splice_lines_and_cuts(source, columns.line_starts[rows], located.line_ends[rows], lines, every_cut, zeroed, replaced)

    def plain_masks(
        self, located: LocatedBlock, cigars: MostlyOneValue, candidates: np.ndarray, repeating: np.ndarray, mate_cigar_tabs: np.ndarray,
        flags: np.ndarray, contigs: np.ndarray, mate_contigs: np.ndarray, positions: np.ndarray, mate_positions: np.ndarray,
        mate_starts_in_region: np.ndarray, clearing: np.ndarray,
    ) -> PlainMasks:
        """The common read in a region, masked for the whole block: what :meth:`rewrite` and
        :meth:`mask_record` make of it, as spans of the block replaced (``positions`` and
        ``mate_positions`` 0-based).

        Of ``candidates`` (mapped reads in a region with no place past a contig, no alignment list
        and no ``COPYING_TAGS``), a read is settled here when its CIGAR is one aligned run
        (``150M``: ``reveals_length`` holds nothing against it), SEQ and QUAL (or ``*``) have its
        length, no tag is given twice (``repeating``), its tag section is plain (no empty optional
        field, no carriage return), the only field named ``MC`` is one readable ``MC:Z:``, a base is
        masked, and not ``--drop``; anything else goes to ``rewrite``. For each: SEQ and QUAL masked
        in the regions (``mask_bases`` of one run: ``N``, ``#``), the fields ``only_tags`` leaves out
        cut, ``MD`` and ``NM`` recomputed against ``-r`` and written after the tags, its ``MC``
        cut where the mate touches a region (``mate_touches``: the mate's footprint from PNEXT and
        ``MC``, or one base at PNEXT), RNEXT, PNEXT and TLEN cleared where PNEXT may show a clip
        junction (``mate_start_shows_region``), else TLEN 0 where it reaches a region
        (``template_length_shows_region``); each count added at the first read that adds it, in the
        order ``rewrite`` adds them (``events``). ``GENOSCRUB_ONE_BY_ONE=1`` sends every read to
        ``rewrite``, and the tests hold the two to the same bytes and counts."""
        count = len(candidates)
        if self.drop or not candidates.any():
            return PlainMasks.none(count)
        run_lengths: dict[bytes, int] = {}  # one aligned run: its length, else -1
        run_operations: dict[bytes, tuple[tuple[int, int], ...]] = {}
        for cigar in cigars.distinct():
            shape = self.shapes[cigar] if cigar != b"*" else None
            if shape is not None and len(shape.operations) == 1 and shape.operations[0][0] in ALIGNED:
                run_lengths[cigar], run_operations[cigar] = shape.query_length, shape.operations
            else:
                run_lengths[cigar] = -1
        lengths = np.full(count, run_lengths.get(cigars.common, -1), dtype=np.int64)
        if len(cigars.others):
            lengths[cigars.others] = [run_lengths[cigar] for cigar in cigars.other_values]
        plain = candidates & (lengths > 0)
        plain[repeating] = False
        if not plain.any():
            return PlainMasks.none(count)
        columns, located_fields = located.columns, located.fields
        data, tag_tabs, tag_ends = columns.data, located.tag_tabs, located.tag_ends
        sequence_starts, sequence_ends = field_bounds(columns, 9)
        extra_counts = located_fields.extra_counts
        first_fields = np.cumsum(extra_counts) - extra_counts
        quality_ends = located.line_ends.copy()
        with_tags = np.flatnonzero(extra_counts > 0)
        quality_ends[with_tags] = tag_tabs[first_fields[with_tags]]
        sizes = sequence_ends - sequence_starts
        quality_sizes = quality_ends - sequence_ends - 1
        no_quality = (quality_sizes == 1) & (data[sequence_ends + 1] == ord("*"))
        plain &= (sizes == lengths) & ~((sizes == 1) & (data[sequence_starts] == ord("*"))) & ((quality_sizes == sizes) | no_quality)
        plain &= data[np.maximum(located.line_ends - 1, 0)] != ord("\r")
        field_rows = np.repeat(np.arange(count), extra_counts)
        plain[field_rows[tag_ends - tag_tabs == 1]] = False  # an empty optional field
        named_mate_cigar = np.bincount(field_rows[located.names_of_fields == MATE_CIGAR_NAME], minlength=count)
        mate_cigar_rows = field_rows[np.searchsorted(tag_tabs, mate_cigar_tabs)]
        with_mate_cigar = np.zeros(count, dtype=bool)
        with_mate_cigar[mate_cigar_rows] = True
        plain &= named_mate_cigar == with_mate_cigar  # MC:i:, MCx:Z:, "MC": rewrite judges them
        lead = np.zeros(count, dtype=np.int64)  # the mate's footprint around PNEXT: one base without MC
        extent = np.ones(count, dtype=np.int64)
        clipped_first = np.zeros(count, dtype=bool)
        looked_at = plain[mate_cigar_rows]
        if looked_at.any():
            holding = mate_cigar_rows[looked_at]
            mate_cigars = located.values_after(mate_cigar_tabs[looked_at], len(b"\tMC:Z:"))
            judged = {cigar: (*self.mate_span(cigar), self.starts_with_clip(cigar)) for cigar in mate_cigars.distinct()}
            spans = np.empty((len(holding), 3), dtype=np.int64)
            if len(mate_cigars.others) < len(holding):
                spans[:] = judged[mate_cigars.common]
            if len(mate_cigars.others):
                spans[mate_cigars.others] = [judged[cigar] for cigar in mate_cigars.other_values]
            lead[holding], extent[holding], clipped_first[holding] = spans[:, 0], spans[:, 1], spans[:, 2] != 0
            plain[holding[spans[:, 1] < 0]] = False  # empty or unreadable: rewrite judges it (fail closed)
        rows = np.flatnonzero(plain)
        if not len(rows):
            return PlainMasks.none(count)
        # the regions each read's run overlaps (merged intervals: those from the first ending after
        # its start to the last starting before its end), as mask_bases takes them
        starts, stops = positions[rows], positions[rows] + lengths[rows]
        first_window, windows = np.zeros(len(rows), dtype=np.int64), np.zeros(len(rows), dtype=np.int64)
        region_starts: list[np.ndarray] = []
        region_ends: list[np.ndarray] = []
        window_base = 0
        row_contigs = contigs[rows]
        for contig in distinct(row_contigs):
            intervals = self.regions.intervals(contig)
            if intervals is None:
                continue
            group = np.flatnonzero(row_contigs == contig) if len(distinct(row_contigs)) > 1 else np.arange(len(rows))
            low = np.searchsorted(intervals[1], starts[group], side="right")
            high = np.searchsorted(intervals[0], stops[group], side="left")
            first_window[group] = low + window_base
            windows[group] = np.maximum(high - low, 0)
            region_starts.append(intervals[0])
            region_ends.append(intervals[1])
            window_base += len(intervals[0])
        all_starts = np.concatenate(region_starts) if region_starts else np.zeros(0, dtype=np.int64)
        all_ends = np.concatenate(region_ends) if region_ends else np.zeros(0, dtype=np.int64)
        owners = np.repeat(np.arange(len(rows)), windows)
        which = first_window[owners] + np.arange(len(owners)) - np.repeat(np.cumsum(windows) - windows, windows)
        overlap_starts = np.maximum(starts[owners], all_starts[which]) - starts[owners]  # in the read, from its first base
        overlap_ends = np.minimum(stops[owners], all_ends[which]) - starts[owners]
        masked = np.bincount(owners, weights=overlap_ends - overlap_starts, minlength=len(rows)).astype(np.int64)
        kept = masked > 0  # a read in a region has a base in one: else rewrite judges it
        if not kept.all():
            plain[rows[~kept]] = False
            keep_windows = kept[owners]
            owners = np.cumsum(kept)[owners[keep_windows]] - 1
            overlap_starts, overlap_ends = overlap_starts[keep_windows], overlap_ends[keep_windows]
            rows, starts, masked = rows[kept], starts[kept], masked[kept]
            if not len(rows):
                return PlainMasks.none(count)
        # SEQ and QUAL masked in a copy of the block, which the splice then reads
        masked_text = bytearray(located.text)
        view = np.frombuffer(masked_text, dtype=np.uint8)
        owner_rows = rows[owners]
        with_quality = ~no_quality[owner_rows]
        for first_bases, fill in ((sequence_starts[owner_rows], MASK_BASE), (sequence_ends[owner_rows][with_quality] + 1, MASK_QUALITY)):
            chosen = slice(None) if fill == MASK_BASE else with_quality
            span_starts_in = first_bases + overlap_starts[chosen]
            span_sizes = overlap_ends[chosen] - overlap_starts[chosen]
            view[np.repeat(span_starts_in - (np.cumsum(span_sizes) - span_sizes), span_sizes) + np.arange(int(span_sizes.sum()))] = fill
        # the tags only_tags leaves out, and the MC of a mate touching a region (mate_touches)
        field_kept = name_table(KEPT_WHEN_MASKED)[located.names_of_fields]
        settled = np.zeros(count, dtype=bool)
        settled[rows] = True
        in_rows = settled[field_rows]
        removed = np.bincount(field_rows[in_rows & ~field_kept], minlength=count)[rows]
        paired = ((flags[rows] & 1) != 0) & (((flags[rows] & 8) == 0) | with_mate_cigar[rows]) & (mate_contigs[rows] != b"*")
        mate_hit = np.zeros(len(rows), dtype=bool)
        if paired.any():
            mates = rows[paired]
            where = np.where(mate_contigs[mates] == b"=", contigs[mates], mate_contigs[mates])
            mate_hit[paired] = self.hits(where, mate_positions[mates] - lead[mates], mate_positions[mates] + extent[mates])
        losing_mate_cigar = mate_hit & with_mate_cigar[rows]
        losing = np.zeros(count, dtype=bool)
        losing[rows[losing_mate_cigar]] = True
        cut = in_rows & (~field_kept | (losing[field_rows] & (located.names_of_fields == MATE_CIGAR_NAME)))
        # PNEXT that may show a clip junction: RNEXT, PNEXT and TLEN go; else a TLEN reaching a region
        place_cleared = mate_starts_in_region[rows] & (mate_hit | ~with_mate_cigar[rows] | clipped_first[rows])
        length_cleared = ~place_cleared & clearing[rows]
        span_starts = [tag_tabs[cut]]
        span_ends = [tag_ends[cut]]
        pieces = [b""] * int(cut.sum())
        rnext_starts, _ = field_bounds(columns, 6)
        tlen_starts, tlen_ends = field_bounds(columns, 8)
        span_starts += [rnext_starts[rows[place_cleared]], tlen_starts[rows[length_cleared]]]
        span_ends += [tlen_ends[rows[place_cleared]], tlen_ends[rows[length_cleared]]]
        pieces += [b"*\t0\t0"] * int(place_cleared.sum()) + [b"0"] * int(length_cleared.sum())
        recomputed = np.zeros(len(rows), dtype=bool)
        if self.reference is not None:  # MD and NM after the tags, at the line's end
            line_ends = located.line_ends[rows].tolist()
            row_cigars, row_names = cigars.array()[rows].tolist(), contigs[rows].tolist()
            stretches = self.reference_stretches(row_names, starts, starts + lengths[rows])
            inserted_at = []
            for index, (name, position, length, first_base, end, cigar) in enumerate(
                zip(row_names, starts.tolist(), lengths[rows].tolist(), sequence_starts[rows].tolist(), line_ends, row_cigars, strict=True)
            ):
                stretch = stretches.get(name)
                if stretch is not None:
                    reference: bytes | None = stretch[1][position - stretch[0] : position - stretch[0] + length]
                else:
                    reference = self.reference_bases(name, position, position + length)
                if reference is None:
                    continue
                bases = bytes(masked_text[first_base : first_base + length])
                md, distance = scan.md_and_nm(position, run_operations[cigar], bases, reference, position)
                inserted_at.append(end)
                pieces.append(b"\tMD:Z:%s\tNM:i:%d" % (md, distance))
                recomputed[index] = True
            span_starts.append(np.array(inserted_at, dtype=np.int64))
            span_ends.append(np.array(inserted_at, dtype=np.int64))
        events: list[tuple[int, int, str, int]] = []
        first = int(rows[0])
        events += [(first, 10, "reads_masked", len(rows)), (first, 11, "bases_masked", int(masked.sum()))]
        events.append((first, 12, "tags_removed", int(removed.sum())))
        for order, (key, chosen) in enumerate(
            (("md_nm_recomputed", recomputed), ("mate_cigar_tags_removed", losing_mate_cigar), ("mate_positions_cleared", place_cleared),
             ("template_lengths_cleared", length_cleared)),
            start=13,
        ):  # fmt: skip
            if chosen.any():
                events.append((int(rows[np.argmax(chosen)]), order, key, int(chosen.sum())))
        return PlainMasks(settled, np.concatenate(span_starts), np.concatenate(span_ends), pieces, events, masked_text)

    def unusual_tag_sections(self, located: LocatedBlock, tabs: np.ndarray) -> np.ndarray:
        """The rows holding one of the fields at ``tabs`` whose tag section is not plain (an empty
        optional field, a carriage return before the newline): ``rewrite`` takes those fields out
        rather than the cuts of ``process``."""
        rows = np.unique(located.rows_of(tabs))
        if not len(rows):
            return rows
        data, all_tabs, ends = located.columns.data, located.tag_tabs, located.tag_ends
        unusual = np.zeros(len(located.line_ends), dtype=bool)
        unusual[located.rows_of(all_tabs[ends - all_tabs == 1])] = True
        unusual |= data[np.maximum(located.line_ends - 1, 0)] == ord("\r")
        return rows[unusual[rows]]

    def mate_cigars_of_other_types(self, located: LocatedBlock) -> np.ndarray:
        """The tabs before fields named ``MC`` of another type than ``Z`` (``MC:i:5``): the block
        twin of ``mate_cigar_of``'s ``UNKNOWN_MATE_CIGAR``."""
        data = located.columns.data
        last = len(data) - 1
        tabs = located.tag_tabs[located.tag_names == MATE_CIGAR_NAME]

        def byte(offset: int, value: bytes) -> np.ndarray:
            return data[np.minimum(tabs + offset, last)] == ord(value)

        return tabs[byte(3, b":") & ~(byte(4, b"Z") & byte(5, b":"))]

    def template_lengths_reaching(
        self, text: bytes, columns: BlockColumns, contigs: np.ndarray, mate_contigs: np.ndarray, positions: np.ndarray,
        mate_positions: np.ndarray, cigars: MostlyOneValue,
    ) -> np.ndarray:
        """Which reads' TLEN shows the end of a mate that reaches into a region: the block
        twin of ``template_length_reach`` (``positions`` and ``mate_positions`` 0-based)."""
        starts, ends = field_bounds(columns, 8)
        negative = columns.data[starts] == ord("-")  # TLEN is never empty (ReadPlaces)
        magnitudes = scan.span_numbers(text, starts + negative, ends)  # -1: not a number of 1 to 10 digits
        shapes = {cigar: self.shapes[cigar] for cigar in cigars.distinct() if cigar != b"*"}
        spans = {
            cigar: (max(1, shape.reference_length), shape.query_length) if shape is not None else (1, 0) for cigar, shape in shapes.items()
        }
        spans[b"*"] = (1, 0)
        common = spans.get(cigars.common, (1, 0))
        aligned = np.full(cigars.count, common[0], dtype=np.int64)
        query = np.full(cigars.count, common[1], dtype=np.int64)
        if len(cigars.others):
            others = np.array([spans[cigar] for cigar in cigars.other_values], dtype=np.int64).reshape(-1, 2)
            aligned[cigars.others], query[cigars.others] = others[:, 0], others[:, 1]
        reach = np.where(magnitudes < 0, REACH_UNKNOWN, np.minimum(positions, mate_positions) + magnitudes)
        same_contig = (contigs != b"*") & ((mate_contigs == b"=") | (mate_contigs == contigs))
        rows = np.flatnonzero(same_contig & (magnitudes != 0) & (reach > positions + aligned))
        found = np.zeros(len(contigs), dtype=bool)
        if len(rows):
            sequence_starts, sequence_ends = field_bounds(columns, 9)
            own_lengths = np.maximum(sequence_ends[rows] - sequence_starts[rows], query[rows])
            widen = np.maximum(reach[rows] - mate_positions[rows], own_lengths) + 1  # mate_footprint
            found[rows] = self.hits(contigs[rows], mate_positions[rows] - widen, reach[rows] + widen)
        return found

    def mate_starts_in_regions(
        self, contigs: np.ndarray, mate_contigs: np.ndarray, mate_positions: np.ndarray, flags: np.ndarray
    ) -> np.ndarray:
        """Which reads' PNEXT (``mate_positions``, 0-based) of a mapped mate lies in a region or
        at its edge, on the mate's contig: ``rewrite`` then judges by the mate's ``MC`` whether
        that start may be a clip junction (``mate_start_shows_region``)."""
        placed = (mate_contigs != b"*") & (mate_positions >= 0) & ((flags & 8) == 0)
        rows = np.flatnonzero(placed)
        found = np.zeros(len(contigs), dtype=bool)
        if len(rows):
            names = np.where(mate_contigs[rows] == b"=", contigs[rows], mate_contigs[rows])
            found[rows] = self.hits(names, mate_positions[rows] - 1, mate_positions[rows] + 1)
        return found

    def mate_cigar_cuts(
        self, located: LocatedBlock, mate_cigar_tabs: np.ndarray, mate_only: np.ndarray, flags: np.ndarray,
        contigs: np.ndarray, mate_contigs: np.ndarray, mate_positions: np.ndarray, mate_starts_in_region: np.ndarray,
    ) -> MateCigarCuts:
        """The reads among ``mate_only`` (not in a region themselves, no ``SA``/``XA``/``XB``,
        no ``--drop``) that ``rewrite`` would at most strip of their ``MC``, settled for
        the whole block: ``mate_touches`` on each read's own ``MC``, and the fields
        ``without_tags`` would remove, as spans of the text.

        A read whose tag section is anything but plain stays with ``rewrite``: an
        ``MC`` that is unreadable or empty, two fields named ``MC*`` or one of
        another type than ``Z``, an empty optional field, a carriage return. A read whose
        PNEXT lies in a region (``mate_starts_in_region``) and keeps no ``MC`` that starts with
        no clip (none, one that starts with a clip, or one that goes) has its RNEXT, PNEXT and
        TLEN cleared as ``rewrite`` clears them (``mate_start_shows_region``):
        ``places_cleared``.
        """
        rows = np.flatnonzero(mate_only)
        if not len(rows):
            return MateCigarCuts.none(len(flags))
        data, tabs, ends = located.columns.data, located.tag_tabs, located.tag_ends
        last = len(data) - 1
        named_mc = tabs[located.tag_names == MATE_CIGAR_NAME]
        of_type_z = (
            (data[np.minimum(named_mc + 3, last)] == COLON) & (data[np.minimum(named_mc + 4, last)] == ord("Z"))
            & (data[np.minimum(named_mc + 5, last)] == COLON)
        )
        unusual = np.zeros(len(flags), dtype=bool)
        unusual[located.rows_of(named_mc[~of_type_z])] = True  # MC:i:, MCx:Z:, "MC", ...
        mate_cigar_rows = located.rows_of(mate_cigar_tabs)
        unusual[mate_cigar_rows[1:][np.diff(mate_cigar_rows) == 0]] = True  # two MC:Z:
        unusual[located.rows_of(tabs[ends - tabs == 1])] = True
        unusual |= data[np.maximum(located.line_ends - 1, 0)] == ord("\r")
        lead = np.zeros(len(flags), dtype=np.int64)  # a read without MC: its mate's one base at PNEXT
        extent = np.ones(len(flags), dtype=np.int64)
        looked_at = mate_only[mate_cigar_rows] & ~unusual[mate_cigar_rows]
        if looked_at.any():
            holding = mate_cigar_rows[looked_at]
            mate_cigars = located.values_after(mate_cigar_tabs[looked_at], len(b"\tMC:Z:"))
            spans = np.empty((len(holding), 2), dtype=np.int64)
            if len(mate_cigars.others) < len(holding):
                spans[:] = self.mate_span(mate_cigars.common)
            if len(mate_cigars.others):
                spans[mate_cigars.others] = [self.mate_span(cigar) for cigar in mate_cigars.other_values]
            unusual[holding[spans[:, 1] < 0]] = True  # unreadable or empty: rewrite judges it
            lead[holding], extent[holding] = spans[:, 0], spans[:, 1]
            clipped_first = {cigar: self.starts_with_clip(cigar) for cigar in mate_cigars.distinct()}
            clipped = np.full(len(holding), clipped_first.get(mate_cigars.common, True), dtype=bool)
            if len(mate_cigars.others):
                clipped[mate_cigars.others] = [clipped_first[cigar] for cigar in mate_cigars.other_values]
            clipped_rows = holding[clipped]
        read_by_mate_cigar = np.zeros(len(flags), dtype=bool)
        read_by_mate_cigar[mate_cigar_rows[looked_at]] = True
        settled = mate_only & ~unusual
        # PNEXT in a region where nothing tells it is no clip junction: no MC (none of another type
        # either, those are unusual), one that starts with a clip, or one that goes (below)
        place_shown = settled & mate_starts_in_region & ~read_by_mate_cigar
        if looked_at.any():
            place_shown[clipped_rows] |= settled[clipped_rows] & mate_starts_in_region[clipped_rows]
        mate_placed = ((flags & 8) == 0) | read_by_mate_cigar  # an MC beside 0x8 is judged all the same (mate_touches)
        rows = np.flatnonzero(settled & ((flags & 1) != 0) & mate_placed & (mate_contigs != b"*"))
        where = np.where(mate_contigs[rows] == b"=", contigs[rows], mate_contigs[rows])
        touching = np.zeros(len(flags), dtype=bool)
        touching[rows] = self.hits(where, mate_positions[rows] - lead[rows], mate_positions[rows] + extent[rows])
        place_shown |= touching & mate_starts_in_region  # without its MC, PNEXT may show a clip junction: rewrite clears it
        cut = touching[mate_cigar_rows]
        cut_tabs = mate_cigar_tabs[cut]
        return MateCigarCuts(settled, mate_cigar_rows[cut], cut_tabs, ends[np.searchsorted(tabs, cut_tabs)], np.flatnonzero(place_shown))

    def alignment_list_cuts(self, located: LocatedBlock, listing: np.ndarray) -> MateCigarCuts:
        """With ``--drop-alignment-lists``: the reads among ``listing`` (an ``SA``/``XA``/``XB``
        and nothing else that ``rewrite`` must judge) whose lists touch no region, settled for
        the whole block: ``rewrite`` would only remove the lists, so their fields are cut as
        spans. The hits are judged by ``list_touches``, the one rule; a read whose lists touch
        a region, or whose tag section is unusual (a list of another type than ``Z``, an empty
        field, a carriage return), stays with ``rewrite``."""
        rows = np.flatnonzero(listing)
        if not len(rows):
            return MateCigarCuts.none(len(listing))
        data, tabs, ends, text = located.columns.data, located.tag_tabs, located.tag_ends, located.text
        named = located.fields_named(ALIGNMENT_LISTS)
        named = named[listing[located.rows_of(named)]]
        unusual = np.zeros(len(listing), dtype=bool)
        unusual[located.rows_of(tabs[ends - tabs == 1])] = True
        unusual |= data[np.maximum(located.line_ends - 1, 0)] == ord("\r")
        field_ends = ends[np.searchsorted(tabs, named)]
        named_rows = located.rows_of(named)
        for tab, end, row in zip(named.tolist(), field_ends.tolist(), named_rows.tolist(), strict=True):
            if unusual[row]:
                continue
            field = text[tab + 1 : end]
            if field[2:5] != b":Z:" or self.list_touches(field[5:], field[:2]):
                unusual[row] = True
        settled = listing & ~unusual
        cut = settled[named_rows]
        return MateCigarCuts(settled, named_rows[cut], named[cut], field_ends[cut])

    def process_one_by_one(self, lines: list[bytes], first_line: int) -> bytes:
        """The same block, every record judged by itself (``GENOSCRUB_ONE_BY_ONE=1``):
        the path the bulk one must agree with."""
        kept: list[bytes] = []
        for index, line in enumerate(lines):
            fields = line.split(b"\t", 8)
            contig, position = placement(fields)
            start, end = self.footprint(int(fields[1]), position, fields[5])
            own_hit = self.regions.overlaps(contig, start, end)
            new_line = self.rewrite(line, own_hit, start, end, first_line + index)
            if new_line is not None:
                kept.append(new_line)
        self.report.add("reads_out", len(kept))
        return b"".join(line + b"\n" for line in kept)

    def footprint(self, flag: int, position: int, cigar: bytes) -> tuple[int, int]:
        """The reference a record's bases may come from: its aligned span with soft clips laid
        out beyond it, or ``UNMAPPED_REACH`` each way for an unmapped read placed at ``position``."""
        if flag & 4:
            return position - UNMAPPED_REACH, position + UNMAPPED_REACH
        shape = self.shapes[cigar] if cigar != b"*" else None
        if shape is None:
            return position, position + 1
        lead, extent = footprint_extents(shape)
        return position - lead, position + extent

    def on_reference(self, contigs: np.ndarray, first_line: int) -> np.ndarray | None:
        """A read on a contig the reference lacks is an error, or with
        --drop-unknown-contigs dropped; returns which reads to keep (None: all)."""
        assert self.reference is not None
        known = self.reference.to_reference
        unknown = {contig for contig in distinct(contigs) if contig != b"*" and contig.decode("ascii", errors="replace") not in known}
        if not unknown:
            return None
        outside = np.isin(contigs, list(unknown))
        if not self.drop_unknown_contigs:
            message = "read on a contig the reference lacks (--drop-unknown-contigs drops such reads)"
            raise InputError(message, self.path, first_line + int(np.flatnonzero(outside)[0]))
        return ~outside

    def cigar_extents(self, cigars: MostlyOneValue, first_line: int) -> tuple[np.ndarray, np.ndarray]:
        """Per read: bases clipped before POS, and the end of its footprint relative to POS."""
        spans = {cigar: self.cigar_span(cigar) for cigar in cigars.distinct()}
        if None in spans.values():
            rows = [row for row, cigar in zip(cigars.others.tolist(), cigars.other_values, strict=True) if spans[cigar] is None]
            if len(cigars.others) < cigars.count and spans[cigars.common] is None:
                holding = np.ones(cigars.count, dtype=bool)
                holding[cigars.others] = False
                rows.append(int(np.flatnonzero(holding)[0]))
            raise InputError("CIGAR is malformed", self.path, first_line + min(rows))
        lead = np.zeros(cigars.count, dtype=np.int64)
        extent = np.zeros(cigars.count, dtype=np.int64)
        common = spans.get(cigars.common)
        if common is not None and len(cigars.others) < cigars.count:
            lead[:], extent[:] = common
        if len(cigars.others):
            lead[cigars.others], extent[cigars.others] = np.array([spans[cigar] for cigar in cigars.other_values], dtype=np.int64).T
        return lead, extent

    def cigar_span(self, cigar: bytes) -> tuple[int, int] | None:
        """``(bases clipped before POS, end of the footprint after POS)`` of a CIGAR (``*``: one base); None if malformed."""
        if cigar == b"*":
            return 0, 1
        shape = self.shapes[cigar]
        if shape is None:
            return None
        return footprint_extents(shape)

    def mate_candidates(
        self, located: LocatedBlock, mate_cigar_tabs: np.ndarray, mate_score_tabs: np.ndarray, flags: np.ndarray,
        contigs: np.ndarray, mate_contigs: np.ndarray, mate_positions: np.ndarray,
    ) -> np.ndarray:
        """Which reads' mate may touch a region, judged with the widest mate CIGAR in the block.

        The exact test (this read's own ``MC``) runs later on these few reads;
        a read whose mate cannot touch a region needs neither ``MC`` nor ``YS``/``nM``
        removal nor, with ``--drop``, removal. A read with an unreadable ``MC`` is always
        one of them: the exact test fails closed on it.
        """
        found = np.zeros(len(flags), dtype=bool)
        if not self.drop and not len(mate_cigar_tabs) and not len(mate_score_tabs):
            return found
        # a mate flagged unmapped (0x8) has no alignment, unless an MC says it has one (inconsistent
        # input, after re-pairing tools): that MC is judged as any, as the audit reads it
        with_mate_cigar = np.zeros(len(flags), dtype=bool)
        with_mate_cigar[located.rows_of(mate_cigar_tabs)] = True
        paired = ((flags & 1) != 0) & (((flags & 8) == 0) | with_mate_cigar) & (mate_contigs != b"*")
        if not paired.any():
            return found
        lead, extent = 0, 1
        mate_cigars = located.values_after(mate_cigar_tabs, len(b"\tMC:Z:"))
        for cigar in mate_cigars.distinct():
            shape = self.shapes[cigar]
            if shape is None:
                found[located.rows_of(mate_cigar_tabs[mate_cigars.array() == cigar])] = True
                continue
            shape_lead, shape_extent = footprint_extents(shape)
            lead, extent = max(lead, shape_lead), max(extent, shape_extent)
        rows = np.flatnonzero(paired)  # an unpaired read's RNEXT is not looked up (and "*" would make the block's contigs mixed)
        where = np.where(mate_contigs[rows] == b"=", contigs[rows], mate_contigs[rows])
        found[rows] |= self.hits(where, mate_positions[rows] - lead, mate_positions[rows] + extent)
        return found

    def mate_span(self, cigar: bytes) -> tuple[int, int]:
        """``(bases clipped before PNEXT, end of the mate's footprint after PNEXT)`` of an
        ``MC`` value, for ``mate_touches`` and ``mate_cigar_cuts`` alike, and of the CIGAR of a
        hit in an alignment list (``list_touches``); ``(0, -1)`` where it is empty or unreadable."""
        span = self.mate_spans.get(cigar)
        if span is None:
            shape = self.shapes[cigar] if cigar else None
            span = (0, -1) if shape is None else footprint_extents(shape)
            if len(self.mate_spans) > CACHE_LIMIT:
                self.mate_spans.clear()
            self.mate_spans[cigar] = span
        return span

    def mate_touches(self, fields: list[bytes], cigar: bytes | None) -> bool:
        """Whether this read's mate (from RNEXT, PNEXT and ``cigar``, its MC) touches a region."""
        flag = int(fields[1])
        if not flag & 1 or (flag & 8 and not cigar) or fields[6] == b"*":  # an MC beside 0x8 is judged all the same
            return False
        contig = fields[2] if fields[6] == b"=" else fields[6]
        position = int(fields[7]) - 1
        if not cigar:
            return self.regions.overlaps(contig, position, position + 1)
        lead, extent = self.mate_span(cigar)
        if extent < 0:
            return True  # an unreadable mate CIGAR: fail closed
        return self.regions.overlaps(contig, position - lead, position + extent)

    def rewrite(
        self, line: bytes, own_hit: bool, start: int, end: int, line_number: int, far: bool = True, repeated: bool = True,
        copied: bool = True, listed: bool = True, mate_start_in_region: bool | None = None, template_length_reaches: bool | None = None,
    ) -> bytes | None:
        """One read near a region (or giving a tag twice): dropped (None), masked, or stripped
        of tags that point into a region. A tag's second and later copies go first
        (``aux_tags.without_repeats``): only the first is read for the mate or the alignment
        lists, so a second ``MC`` or ``SA`` would keep a length inside a region. ``far``: the read
        may hold a place no contig has (False where the block's check found none there);
        ``repeated``: it may give a tag twice (False where the block's ``lines_with_repeated_tags``,
        the same rule, found no copy); ``copied``: it may hold one of ``COPYING_TAGS`` (False where
        the block's ``fields_named``, the rule of ``without_copying_tags``, found none); ``listed``: it
        may hold an ``SA``/``XA``/``XB`` (False where the block found no field so named).
        ``mate_start_in_region`` and ``template_length_reaches``: the block's answers for this
        read (``mate_starts_in_regions``, ``template_lengths_reaching``, the twins of
        ``mate_start_shows_region``'s place and of ``template_length_shows_region``), taken
        unless ``far`` (a place past its contig made unavailable changes RNEXT, PNEXT and
        TLEN first); None: judged here."""
        line = self.without_repeated_tags(line) if repeated else line
        line = self.without_copying_tags(line) if copied else line
        fields = line.split(b"\t", 9)
        changed: list[bytes] | None = list(fields) if far and self.without_far_places(fields) else None
        rest = fields[9]
        tags_tab = tags_tab_of(rest)
        mate_cigar = mate_cigar_of(rest, tags_tab)
        mate_hit = self.mate_touches(fields, mate_cigar)
        if self.drop and (own_hit or mate_hit):
            self.report.add("reads_dropped")
            return None
        if own_hit:
            contig = fields[2] if fields[2] != b"*" else placement(fields)[0]  # placement's contig, without its POS
            changed = self.mask_record(fields, line_number, self.regions.overlapping(contig, int(start), int(end)))
            if changed is None:
                return None
        if mate_hit and mate_cigar is not None:
            changed = changed or list(fields)
            sequence, quality, tags = changed[9].split(b"\t", 2)
            tags, removed = without_tags(tags, MATE_CIGAR_TAG)
            changed[9] = b"\t".join([sequence, quality, tags] if tags else [sequence, quality])
            self.report.counts["mate_cigar_tags_removed"] += removed
        if mate_hit:
            parts = (changed or fields)[9].split(b"\t", 2)
            tags, removed = without_tags(parts[2], MATE_SCORE_TAGS) if len(parts) == 3 else (b"", 0)
            if removed:
                changed = changed or list(fields)
                changed[9] = b"\t".join(parts[:2] + [tags] if tags else parts[:2])
                self.report.add("mate_score_tags_removed", removed)
        # ALIGNMENT_LISTS: each call below changes nothing in a record with no optional field
        # named so (of type Z for the first), and the rules above add none
        if listed and tags_tab >= 0 and (
            rest.find(b"\tSA:Z:", tags_tab) >= 0 or rest.find(b"\tXA:Z:", tags_tab) >= 0 or rest.find(b"\tXB:Z:", tags_tab) >= 0
        ):
            changed = self.check_alignment_lists(changed or list(fields), line_number) or changed
        if listed and self.drop_alignment_lists and tags_tab >= 0 and (
            rest.find(b"\tSA", tags_tab) >= 0 or rest.find(b"\tXA", tags_tab) >= 0 or rest.find(b"\tXB", tags_tab) >= 0
        ):
            changed = without_alignment_lists(changed or list(fields)) or changed
        if far:
            mate_start_in_region = template_length_reaches = None
        if mate_start_in_region is not False and self.mate_start_shows_region(fields, None if mate_hit else mate_cigar):
            changed = changed or list(fields)
            changed[6], changed[7], changed[8] = b"*", b"0", b"0"
            self.report.counts["mate_positions_cleared"] += 1
        elif template_length_reaches if template_length_reaches is not None else self.template_length_shows_region(fields):
            changed = changed or list(fields)
            changed[8] = b"0"
            self.report.counts["template_lengths_cleared"] += 1
        return line if changed is None else b"\t".join(changed)

    def without_far_places(self, fields: list[bytes]) -> bool:
        """Whether the record's fields (the tenth holding SEQ and the rest), changed in place, held a
        place no contig has; they are left without it, as
        sam-scrub-rg leaves it (``sam_columns.ReadPlaces``): a PNEXT past its contig makes the mate's
        place unavailable (RNEXT ``*``, PNEXT and TLEN 0, counted as ``mate_places_cleared``) and its
        ``MC`` goes (``mate_cigar_tags_removed``); a ``CP`` past RNAME's contig goes
        (``aux_values_removed``). ``RNEXT =``, ``PNEXT 19900101`` on a contig of 5000 holds a date."""
        parts = fields[9].split(b"\t", 2)
        tags = parts[2] if len(parts) == 3 else b""
        cleared = self.places.mate_past_contig(fields)
        if cleared:
            fields[6:9] = UNAVAILABLE_MATE
            self.report.add("mate_places_cleared")
            tags, removed = without_tags(tags, MATE_CIGAR_TAG)
            if removed:
                self.report.add("mate_cigar_tags_removed", removed)
        kept, removed = self.places.places_kept(tags.split(b"\t"), fields[2], parts[0])
        if removed:
            tags = b"\t".join(kept)
            self.report.add("aux_values_removed", removed)
        if len(parts) == 3 and tags != parts[2]:
            fields[9] = b"\t".join([*parts[:2], tags] if tags else parts[:2])
        return cleared or bool(removed)

    def starts_with_clip(self, cigar: bytes) -> bool:
        """Whether a mate's CIGAR (its ``MC``) may start with a clip: it does, or it cannot be read."""
        shape = self.shapes[cigar] if cigar not in (b"", UNKNOWN_MATE_CIGAR) else None
        return shape is None or shape.operations[0][0] in (SOFT, HARD)

    def mate_start_shows_region(self, fields: list[bytes], mate_cigar: bytes | None) -> bool:
        """Whether PNEXT may show a mate's clip junction in a region: it lies in one or at its
        edge, and the ``MC`` the read keeps (``mate_cigar``: None where it goes) starts with a
        clip or is missing or unreadable. Without ``MC``, nothing tells a reader (or the audit)
        that the mate's alignment did not start at a clip there. The block twin is
        ``mate_starts_in_regions`` with ``mate_cigar_cuts``."""
        if fields[6] == b"*" or int(fields[1]) & 8 or (mate_cigar is not None and not self.starts_with_clip(mate_cigar)):
            return False  # no mate's place, a mate unmapped (no alignment, no junction), or an aligned start
        start = int(fields[7]) - 1
        return start >= 0 and self.regions.overlaps(fields[2] if fields[6] == b"=" else fields[6], start - 1, start + 1)

    def template_length_shows_region(self, fields: list[bytes]) -> bool:
        """Whether TLEN shows the end of a mate that reaches into a region (``template_length_reach``)."""
        position = int(fields[3]) - 1
        shape = self.shapes[fields[5]] if fields[5] != b"*" else None
        reach = template_length_reach(fields, position + (max(1, shape.reference_length) if shape is not None else 1))
        if reach is None:
            return False
        sequence_end = fields[9].find(b"\t")
        own_length = max(sequence_end if sequence_end >= 0 else len(fields[9]), shape.query_length if shape is not None else 0)
        return self.regions.overlaps(fields[2], *mate_footprint(int(fields[7]) - 1, reach, own_length))

    def without_copying_tags(self, line: bytes) -> bytes:
        """The line without its ``COPYING_TAGS`` (counted); the block twin is the cuts of ``process``."""
        if COPYING_TAG_START.search(line) is None:  # most lines: no field starts so (a QUAL may, then the fields tell)
            return line
        fields = line.split(b"\t", 11)
        if len(fields) < 12:
            return line
        tags = fields[11].split(b"\t")
        kept = [tag for tag in tags if tag[:2] not in COPYING_TAGS]
        if len(kept) == len(tags):
            return line
        self.report.add("copying_tags_removed", len(tags) - len(kept))
        return b"\t".join(fields[:11] + kept)  # each field with the tab before it, as the block's cuts

    def without_repeated_tags(self, line: bytes) -> bytes:
        """The line without the second and later copies of its tags (counted)."""
        fields = line.split(b"\t", 11)
        if len(fields) < 12:
            return line
        tags, repeated = without_repeats(fields[11].split(b"\t"))
        if not repeated:
            return line
        self.report.add("aux_repeats_removed", len(repeated))
        return b"\t".join([*fields[:11], *tags])

    def mask_record(
        self, fields: list[bytes], line_number: int, windows: list[tuple[int, int]] | None, whole: bool = False
    ) -> list[bytes] | None:
        """The masked record's fields, or None when the read must be dropped.

        ``windows``: mask the bases in them (and clips reaching them); None: mask the soft
        clips (another part of a chimeric read lies in a region); ``whole``: every base
        (an alternative alignment lies in a region).
        """
        contig, flag, position = fields[2], int(fields[1]), int(fields[3]) - 1
        parts = fields[9].split(b"\t", 2)
        sequence = bytearray(parts[0]) if parts[0] != b"*" else bytearray()
        quality = bytearray(parts[1]) if len(parts) > 1 and parts[1] != b"*" else None
        tags = parts[2] if len(parts) > 2 else b""
        if quality is not None and len(quality) != len(sequence):
            raise InputError("SEQ and QUAL lengths differ", self.path, line_number)
        if flag & 4 and windows and touches(windows, placement(fields)[1]):
            self.report.add("reads_dropped_placed_unmapped")  # placed at its mate's start, which may be a clip junction
            return None
        shape = None if flag & 4 or fields[5] == b"*" else self.shapes[fields[5]]
        if shape is not None and sequence and shape.query_length != len(sequence):
            raise InputError("CIGAR and SEQ lengths differ", self.path, line_number)
        if shape is None or whole:  # unmapped, mapped without a CIGAR, or placed elsewhere too: nothing vouches for its bases
            masked = len(sequence) - sequence.count(MASK_BASE)
            sequence[:] = MASK_BASE_BYTE * len(sequence)
            if quality is not None:
                quality[:] = MASK_QUALITY_BYTE * len(quality)
        elif windows is None:
            masked = mask_clips(shape, sequence, quality) if sequence else 0
        else:
            if reveals_length(shape, position, windows):
                self.report.add("reads_dropped_length_revealing")
                return None
            masked = mask_bases(shape, position, windows, sequence, quality) if sequence else 0
        if not masked:
            return list(fields)
        counts = self.report.counts  # added to in place: a call less a count, on every masked read
        counts["reads_masked"] += 1
        counts["bases_masked"] += masked
        tags, removed = only_tags(tags, KEPT_WHEN_MASKED)
        counts["tags_removed"] += removed
        bases = bytes(sequence) or b"*"  # not empty: a read with no SEQ has nothing to mask
        if shape is not None and self.reference is not None:
            reference = self.reference_bases(contig, position, position + shape.reference_length)
            if reference is not None:
                md, distance = scan.md_and_nm(position, shape.operations, bases, reference, position)
                tags = b"%s\tMD:Z:%s\tNM:i:%d" % (tags, md, distance) if tags else b"MD:Z:%s\tNM:i:%d" % (md, distance)
                counts["md_nm_recomputed"] += 1
        qualities = bytes(quality) if quality is not None else b"*"
        return [*fields[:9], b"%s\t%s\t%s" % (bases, qualities, tags) if tags else bases + b"\t" + qualities]

    def reference_stretches(self, contigs: list[bytes], starts: np.ndarray, ends: np.ndarray) -> dict[bytes, tuple[int, bytes]]:
        """Per contig, ``(start, bases)`` of the reference under all of the reads ``[starts[k],
        ends[k])`` on it, read in one fetch where that stretch is short (sorted input) and lies
        whole within the contig: each read's span is then cut from it, the bytes
        :meth:`reference_bases` gives (``fetch_exact``). Other contigs are left out."""
        stretches: dict[bytes, tuple[int, bytes]] = {}
        assert self.reference is not None
        names = np.array(contigs, dtype=object)
        for contig in set(contigs):
            group = np.flatnonzero(names == contig) if len(stretches) or len(set(contigs)) > 1 else np.arange(len(contigs))
            low, high = int(starts[group].min()), int(ends[group].max())
            name = contig.decode("ascii", errors="replace")
            if low < 0 or high - low > REFERENCE_STRETCH or name not in self.reference:
                continue
            bases = self.reference.fetch(name, low, high)
            if len(bases) == high - low:
                stretches[contig] = (low, bases)
        return stretches

    def reference_bases(self, contig: bytes, start: int, end: int) -> bytes | None:
        """``ContigReference.fetch_exact`` of ``[start, end)``, cut from the last
        ``REFERENCE_CHUNK`` bases read where it lies within them: the masked reads of a region
        ask for overlapping spans one after the other. The chunk holds the contig's bases as
        they are (``fetch`` clamps only at the contig's ends), so a span within it is the
        span ``fetch_exact`` reads; any other goes to ``fetch_exact``."""
        assert self.reference is not None
        chunk_contig, chunk_start, chunk = self.reference_chunk
        if contig == chunk_contig and chunk_start <= start and end <= chunk_start + len(chunk):
            return chunk[start - chunk_start : end - chunk_start]
        name = contig.decode("ascii", errors="replace")
        if start >= 0 and end - start <= REFERENCE_CHUNK and name in self.reference:
            self.reference_chunk = (contig, start, self.reference.fetch(name, start, start + REFERENCE_CHUNK))
            chunk = self.reference_chunk[2]
            if end <= start + len(chunk):
                return chunk[: end - start]
        return self.reference.fetch_exact(name, start, end)

    def check_alignment_lists(self, fields: list[bytes], line_number: int) -> list[bytes] | None:
        """``SA``/``XA``/``XB`` that list an alignment touching a region (its CIGAR may show a
        length) are removed, and the bases they place there masked: the soft clips, for another
        part of a chimeric read (``SA``); the whole read, for an alternative alignment (``XA``,
        or ``XB``, bwa mem -u's XA with scores): the read may come from the region as well as
        from where it was placed."""
        parts = fields[9].split(b"\t", 2)
        if len(parts) < 3:
            return None
        leaking = [name for name in ALIGNMENT_LISTS if self.list_touches(tag_value(parts[2], name), name)]
        if not leaking:
            return None
        tags, removed = without_tags(parts[2], leaking)
        self.report.add("alignment_tags_removed", removed)
        fields = [*fields[:9], b"\t".join(filter(None, [parts[0], parts[1], tags]))]
        if b"XA" in leaking or b"XB" in leaking:
            self.report.add("reads_masked_alternative_hit_in_region")
            return self.mask_record(fields, line_number, None, whole=True)
        self.report.add("reads_masked_chimeric_part_in_region")
        return self.mask_record(fields, line_number, None)

    def list_touches(self, value: bytes | None, name: bytes) -> bool:
        """Whether an alignment list names a hit that touches a region: its contig read through
        the header's spellings (``HitContigs``), and judged as touching where it cannot be read
        or placed."""
        if value is None:
            return False
        hits = alignment_hits(value, name)
        if hits is None:
            return True  # unreadable: fail closed
        for contig, position, cigar in hits:
            lead, extent = self.mate_span(cigar)
            places = self.hit_contigs.places(contig)
            if extent < 0 or places is None:
                return True  # a CIGAR that cannot be read, a contig the header cannot place: fail closed
            for place in places:
                if self.regions.overlaps(place, position - lead, position + extent):
                    return True
        return False


def without_alignment_lists(fields: list[bytes]) -> list[bytes] | None:
    """The record's fields without ``SA``/``XA``/``XB`` (``--drop-alignment-lists``); None when it has none."""
    parts = fields[9].split(b"\t", 2)
    if len(parts) < 3:
        return None
    tags, removed = without_tags(parts[2], ALIGNMENT_LISTS)
    if not removed:
        return None
    return [*fields[:9], b"\t".join(filter(None, [parts[0], parts[1], tags]))]


def split_header(blocks: Iterator[tuple[int, bytes]]) -> tuple[list[bytes], list[tuple[int, bytes]]]:
    """The header lines at the start of ``blocks``, and the first block of records (its rest)."""
    header: list[bytes] = []
    for first_line, text in blocks:
        start = taken = 0
        while start < len(text) and text[start] == ord("@"):
            end = text.index(b"\n", start)
            header.append(text[start:end])
            start, taken = end + 1, taken + 1
        if start < len(text):
            return header, [(first_line + taken, text[start:])]
    return header, []


def mask_regions(
    source: Iterable[tuple[int, bytes]],
    request: RegionRequest,
    reference_path: str | None,
    drop: bool,
    path: str,
    report: Report,
    drop_unknown_contigs: bool = False,
    one_by_one: bool | None = None,
    drop_alignment_lists: bool = False,
) -> Iterator[bytes]:
    """Yield SAM text: the header with one ``@PG`` line, then the masked reads. ``source``
    gives ``(number of the first line, text)`` for blocks of whole lines, each ending in a
    newline (``streams.whole_line_blocks``); ``one_by_one``: every record judged alone (by
    default as ``GENOSCRUB_ONE_BY_ONE=1`` asks)."""
    blocks = iter(source)
    header, pending = split_header(blocks)
    contigs = sequence_dictionary(header, path)
    if not contigs:
        raise InputError(
            "no @SQ header lines, so the regions cannot be checked against the genome (unaligned reads cannot be masked)",
            path,
            len(header) + 1,
        )
    regions = load_regions(request, contigs, path)
    reference = None
    if reference_path:
        fasta = Fasta(reference_path)
        reference = fasta.through(ContigMap(contigs, fasta.lengths, "reference", reference_path))
    report.notes.update(regions.report_notes())
    report.notes["md_nm"] = "recomputed" if reference else "removed from masked reads"
    yield b"\n".join([*header, program_line(COMMAND, program_ids(header))]) + b"\n"
    masker = RegionMasker(
        regions, {name.encode(): length for name, length in contigs.items()}, reference, drop, path, report, drop_unknown_contigs,
        one_record_path_forced() if one_by_one is None else one_by_one, drop_alignment_lists,
    )
    for first_line, text in chain(pending, blocks):
        out = masker.process(text, first_line)
        if out:
            yield out


def mask_stage(
    report: Report,
    path: str,
    *,
    bed: list[str] | None = None,
    preset: list[str] | None = None,
    build: str = AUTO_BUILD,
    flank: int = DEFAULT_FLANK,
    reference: str | None = None,
    drop: bool = False,
    drop_unknown_contigs: bool = False,
    drop_alignment_lists: bool = False,
) -> SamStage:
    """The command's work, its region request checked (keyword names are the options' own,
    see ``main``): what ``main`` runs between its reader and writer, and the cohort workflow
    in one process with the commands before it (``genoscrub.sam_stage``)."""
    request = RegionRequest(beds=bed or [], presets=preset or [], build=build, flank=flank)
    request.check()

    def transform(blocks: Iterable[tuple[int, int, bytes]]) -> Iterator[bytes]:
        return mask_regions(
            ((first, text) for first, _, text in blocks), request, reference, drop, path, report, drop_unknown_contigs,
            drop_alignment_lists=drop_alignment_lists,
        )

    return SamStage(COMMAND, transform)


def output_format(value: str) -> str:
    if value not in ("sam", "bam"):
        raise typer.BadParameter("choose sam or bam")
    return value


@app.command(
    help="Mask read bases in forensic loci or BED regions to N; or drop the reads; other reads pass unchanged. "
    "Presets: CODIS and kit STRs, Y-STRs, identity SNPs, the mitochondrial control region."
)
def main(
    input: InputArgument = "-",
    output: OutputOption = None,
    bed: BedOption = None,
    preset: PresetOption = None,
    build: BuildOption = AUTO_BUILD,
    flank: FlankOption = DEFAULT_FLANK,
    reference: Annotated[
        str | None,
        typer.Option("-r", "--reference", metavar="FASTA", help="Reference FASTA (indexed) to recompute MD and NM of masked reads."),
    ] = None,
    drop: Annotated[bool, typer.Option("--drop", help="Remove reads (and their mates) touching a region instead of masking.")] = False,
    drop_unknown_contigs: Annotated[
        bool, typer.Option("--drop-unknown-contigs", help="With -r: drop (and count) reads on contigs the reference lacks; default: fail.")
    ] = False,
    drop_alignment_lists: Annotated[
        bool,
        typer.Option(
            "--drop-alignment-lists",
            help="Remove SA, XA and XB from every record once judged (after sam-revert-germline --keep-alignment-lists).",
        ),
    ] = False,
    output_fmt: Annotated[
        str, typer.Option("-O", "--output-fmt", metavar="FORMAT", callback=output_format, help="sam (default) or bam.")
    ] = "sam",
    report_path: ReportOption = None,
    quiet: QuietOption = False,
) -> None:
    def job(report: Report) -> None:
        stage = mask_stage(
            report,
            input,
            bed=bed,
            preset=preset,
            build=build,
            flank=flank,
            reference=reference,
            drop=drop,
            drop_unknown_contigs=drop_unknown_contigs,
            drop_alignment_lists=drop_alignment_lists,
        )
        stream: Any = open_alignment_text(input, reference)
        sink = AlignmentOutput(output, output_fmt, reference)
        try:
            for chunk in stage.transform(whole_line_blocks(background_reads(stream, BLOCK_SIZE, depth=2), input)):
                sink.write(chunk)
            sink.close()
        except BaseException:
            sink.abort()
            raise
        finally:
            workers.close(stream)

    run(COMMAND, job, Path(report_path) if report_path else None, quiet)


if __name__ == "__main__":
    app()
