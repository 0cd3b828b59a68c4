"""sam-revert-germline's one-record path: a SAM line in, its reverted line out.

This is the reference every faster path is checked against (``GENOSCRUB_ONE_BY_ONE=1``
sends every record here). A record is split into fields, its windows found
(:class:`GermlineWindows` from the germline VCF, or :class:`EveryDifference` for
``--all``), its alignment reverted by the rules of filters/revert.py, its tags
fixed: ``MD``/``NM`` recomputed, ``MC`` made to follow the mate (computed from
``MC`` alone, by the same rules, so no second pass is needed), tags that copy
another record's sequence or alignment removed.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from genoscrub import scan
from genoscrub.aux_tags import TAGS_BLIND_TO_BASES, without_repeats
from genoscrub.aux_values import alignment_hits
from genoscrub.cigar import CONSUMES_QUERY, CONSUMES_REFERENCE, HARD, SOFT, CigarShape, ShapeCache, format_cigar, reference_length
from genoscrub.contigs import HitContigs
from genoscrub.dropped_contigs import listed_contigs
from genoscrub.fasta import ContigReference
from genoscrub.germline_sites import GermlineTables
from genoscrub.keep_list import KeepList
from genoscrub.report import InputError, Report
from genoscrub.revert import (
    CLIP_MARGIN,
    MAX_SHIFT,
    SHORT_SKIP,
    ClipRule,
    LengthChange,
    Removed,
    Window,
    moved_start,
    revert_alignment,
    rewrite_mate_cigar,
)
from genoscrub.sam_columns import UNAVAILABLE_MATE, ReadPlaces, SpanEdge

KEPT_TAGS = TAGS_BLIND_TO_BASES
"""Tags a rewritten record keeps untouched (``aux_tags.TAGS_BLIND_TO_BASES``). MD, NM and MC
are recomputed; every other tag (AS, XS, OQ, BQ, ...) could be stale or carry sequence and
is removed."""
TAGS_KEPT_AT_WINDOWS = KEPT_TAGS | {b"MD", b"NM", b"MC"}
"""Every tag a record over a germline window may still carry (but ``ALIGNMENT_LISTS`` passed on):
``KEPT_TAGS``, and MD, NM and MC, kept or recomputed. Records elsewhere keep every tag, so where
they carry others (AS, XS, OQ) a run of reads without them marks a site; the cohort workflow gives
this list to sam-scrub-rg ``--only-tags``, so that every record carries these alone, and to
genoscrub-audit ``--only-tags``, which finds any other."""

COPYING_TAGS = frozenset(b"R2 Q2 E2 U2 OA OC OP SA XA XB CS CQ cs ds YS nM ms vA vG vW jI jM".split())
"""Tags removed from every record, touched or not, because what they hold may carry a
germline allele that reverting the record's own bases does not reach:

- another record's sequence (R2, Q2, E2, U2, CS, CQ);
- an alignment (OA, OC, OP, SA, XA, and XB, bwa mem -u's XA with scores: a CIGAR or NM
  that may hold a germline indel);
- the read's bases where it differs from the reference (minimap2's ``cs`` and ``ds``;
  genoscrub-audit --germline cannot check them base by base and finds them anywhere);
- the mate's score, qualities or mismatches (Bowtie2's ``YS``, ``samtools fixmate -m``'s ``ms``,
  the sum of the mate's base qualities of 15 or more, STAR's ``nM`` for a pair): a mate
  reverted at a site (its qualities changed by a filled deletion, a removed insertion, the
  length rule) would show in them which allele it had;
- the germline variants an aligner was given (STAR's WASP tags: ``vG`` their positions,
  ``vA`` the read's allele at each, ``vW`` set only on reads that lie on one): a read
  with the reference allele there has nothing to revert, yet its tags show the site;
- the pair's junctions (STAR's ``jI``, ``jM``): they name the mate's skips too, so where a mate's
  germline deletion written as a skip, or any change of its CIGAR, cost them only the mates of
  carriers, the mate outside every window showed which allele the other had."""

ALIGNMENT_LISTS = frozenset([b"SA", b"XA", b"XB"])
"""The copying tags that list the read's other alignments. ``--keep-alignment-lists`` leaves
them on every record for sam-mask-regions ``--drop-alignment-lists`` after it (the cohort
workflow's chain): the masker judges a read by them (an ``XA`` hit in a region masks every base)
and then removes them all, as this command would have."""

MATE_CIGAR_CHANGES = re.compile(rb"\tMC:Z:[0-9MP=]*[IDXNSH]")
"""An MC value with an operation the rules may change (M, P and = never change): an indel, a
mismatch, a skip, and a clip (removed near a germline site with ``-v``, everywhere with ``--all``:
``revert.clips_aligned``)."""
MATE_CIGAR_LETTERS = b"IDXNSH"
MATE_CIGAR_VALUE_CHANGES = re.compile(rb"[0-9MP=]*[IDXNSH]")
"""``MATE_CIGAR_CHANGES`` of the value alone (``match``): a CIGAR whose operations the rules may change."""
MATE_CIGAR_LETTER = re.compile(b"[" + MATE_CIGAR_LETTERS + b"]")
LEFT_CLIPPED_MATE = re.compile(rb"[0-9]+[SH]")
"""An MC value that starts with a clip (``match``): where it is removed, the mate's POS moves
(``revert.clip_start``), and PNEXT with it."""
MATE_REMOVED = b""
"""What the mate's CIGAR becomes when the mate is removed."""
MATE_REMOVED_COUNT = "reads_removed_with_their_mate"
"""The report key of records removed because their mate was (the template goes whole)."""
DROPPED_ON_LISTED = "reads_dropped_listed_contig"
"""The report key of records removed because they lie on a contig of ``--drop-contigs``."""
SUPPLEMENTARY_REMOVED = "supplementary_records_removed"
"""The report key of supplementary records (FLAG 0x800) removed: where they touch a germline
window, and every one with ``--all``."""
UNMAPPED_MATE_AT_INSERTION = "reads_removed_unmapped_pair_at_insertion"
"""The report key of records removed because they are, or name, an unmapped mate near a germline
insertion (``GermlineWindows.unmapped_pair_at_insertion``)."""
MATE_UNKNOWN = b"?"
"""The mate's new CIGAR depends on bases this record cannot see (a keep-list allele): MC goes."""

ALL_BELOW_MAPQ = 30
"""``--all-below-mapq``'s default: with ``-v``, a placed read of a lower MAPQ (or 255, "not
available" in the SAM specification) has every difference from the reference reverted wherever it
lies (:meth:`GermlineWindows.for_read_elsewhere`). A listed germline allele that gives one copy of
a segmental duplication the other copy's bases (gene conversion: SMN1/SMN2, PMS2/PMS2CL,
CYP2D6/CYP2D7) sends a carrier's reads to the other copy, placed there with a low MAPQ (bwa mem
about 5, minimap2 11 to 60), where they carry the first copy's bases at the paralog's own
differences, which no caller lists (GATK's HaplotypeCaller and Mutect2 drop reads below MAPQ 20).
30 reaches past the callers' cut: the reads of MAPQ 20 to 29, which they use, lose their somatic
alleles too. 0 turns the rule off."""
ALTERNATIVE_HIT_LISTS = (b"XA", b"XB")
"""The tags listing a read's alternative hits (bwa's ``XA``, bwa mem -u's ``XB``): a read with a hit
on a germline window may be a read of that site placed on its paralog (:meth:`RecordReverter.placed_elsewhere`)."""
LOW_MAPQ_READS = "reads_reverted_whole_low_mapq"
"""The report key of placed reads of MAPQ below ``--all-below-mapq`` reverted whole."""
ALTERNATIVE_HIT_READS = "reads_reverted_whole_alternative_hit"
"""The report key of reads reverted whole for an ``XA``/``XB`` hit on a germline window."""


def low_mapping_quality(field: bytes, threshold: int) -> bool:
    """Whether a MAPQ (a record's, or its mate's from ``MQ``) is below ``threshold`` or 255, which the
    SAM specification makes "not available": no aligner vouches for where such a read lies (STAR
    writes 255 for its unique reads: give it ``--outSAMmapqUnique 60``). A value that is not a number
    counts as low (fail closed)."""
    if not field.isdigit():
        return True
    value = int(field)
    return value < threshold or value == 255


MATES_EVERYWHERE_LIMIT = 1 << 16
"""Distinct ``MC`` values ``RecordReverter.mates_everywhere`` holds before it starts again."""

REFERENCE_STRETCH = 1 << 16
"""Bases fetched at once by :class:`NearbyBases` (64 kb)."""


class NearbyBases:
    """The reference read a stretch at a time: in sorted input the next record that needs
    bases needs them a little further on, so one fetch serves the records of the next
    ``REFERENCE_STRETCH`` bases (slicing them costs less than a fetch each)."""

    def __init__(self, reference: ContigReference) -> None:
        self.reference = reference
        self.name = ""
        self.start = 0
        self.end = -1
        self.bases = b""

    def fetch(self, name: str, start: int, end: int) -> bytes:
        """``reference.fetch(name, start, end)``: the same bytes, clamped to the contig the same way."""
        if name == self.name and self.start <= start and end <= self.end:
            return self.bases[start - self.start : end - self.start]
        if start < 0 or end - start > REFERENCE_STRETCH:
            return self.reference.fetch(name, start, end)
        self.bases = self.reference.fetch(name, start, start + REFERENCE_STRETCH)
        self.name, self.start, self.end = name, start, start + REFERENCE_STRETCH
        return self.bases[: end - start]


@dataclass(frozen=True)
class RevertOptions:
    """What the user chose about records the windows do not decide."""

    keep_unmapped: bool = False
    """Keep the sequence of unmapped reads (default: masked to N)."""
    drop_unknown_contigs: bool = False
    """Drop reads on contigs the reference lacks (default: an error)."""
    drop_contigs: tuple[str, ...] = ()
    """Patterns of contigs whose reads go, their mates left unpaired (``--drop-contigs``, ``dropped_contigs``)."""
    keep_secondary_seq: bool = False
    """Keep SEQ and QUAL of secondary records (default: ``*``)."""
    clips: ClipRule = ClipRule.DIFFERING
    """Which soft clips are masked (``--keep-clips-off-sites``: ``ClipRule.NEAR_WINDOWS``)."""
    keep_alignment_lists: bool = False
    """Leave ``SA``/``XA``/``XB`` for sam-mask-regions ``--drop-alignment-lists`` (``ALIGNMENT_LISTS``)."""
    all_below_mapq: int = ALL_BELOW_MAPQ
    """With ``-v``: placed reads of a MAPQ below this (or 255) have every difference reverted (0: none)."""


@dataclass(slots=True)
class ReadWindows:
    """The windows one alignment touches, and those of them that are germline deletions."""

    windows: list[Window]
    deletions: list[Window]
    short_skip: int = 0
    """Skips shorter than this are filled like deletions (``--all``)."""
    clips_aligned: bool = False
    """Whether a clip touching ``windows`` is removed (``revert.clips_aligned``): always, but for
    the windows a record no window touches (``NO_READ_WINDOWS``); ``--all``'s window over the read
    touches every clip, so every clip goes."""
    changes: Sequence[LengthChange] = ()
    """The germline alleles that change the length just before a left-clipped read, at their exact
    spans, the nearest first: a removed left clip is aligned across them (``revert.clip_start``)."""
    clip_sites: list[Window] | None = None
    """Where a clip is removed, when not every window (a read reverted whole where it lies,
    :meth:`GermlineWindows.for_read_elsewhere`, has its clips removed at the germline windows only)."""

    @property
    def clip_windows(self) -> list[Window] | None:
        if not self.clips_aligned:
            return None
        return self.windows if self.clip_sites is None else self.clip_sites

    def __bool__(self) -> bool:
        return bool(self.windows)


NO_READ_WINDOWS = ReadWindows([], [])


class GermlineWindows:
    """The windows of the germline sites an alignment touches: its aligned span, soft and hard
    clips projected, and the reach of its insertions (:class:`~genoscrub.sam_columns.SpanEdge`)."""

    revert_all = False

    def __init__(self, tables: GermlineTables, shapes: ShapeCache) -> None:
        self.sites = tables.windows
        self.deletions = tables.deletions
        self.length_changes = tables.length_changes
        self.insertions = tables.insertions
        self.span_starts = SpanEdge(shapes, 0, CLIP_MARGIN, hard_clips=True)
        self.span_ends = SpanEdge(shapes, 1, CLIP_MARGIN, hard_clips=True)

    def for_read(self, name: str, position: int, shape: CigarShape, cigar: bytes) -> ReadWindows:
        """The windows an alignment at ``position`` with CIGAR ``cigar`` touches (a record's own,
        or its mate's from MC: the same question, so the same answer)."""
        start, end = position + self.span_starts[cigar], position + self.span_ends[cigar]
        windows = self.sites.windows(name, start, end)
        if not windows:
            return NO_READ_WINDOWS
        changes: Sequence[LengthChange] = ()
        if start < position and shape.operations[0][0] in (SOFT, HARD) and (spans := self.length_changes.get(name)) is not None:
            changes = spans.ending_before(position, position - start + MAX_SHIFT)
        deletions = self.deletions.windows(name, start, end) if shape.has_skip else []
        return ReadWindows(windows, deletions, clips_aligned=True, changes=changes)

    def for_span(self, name: str, start: int, end: int) -> list[Window]:
        return self.sites.windows(name, start, end)

    def over_chimeric_part(self, name: str, position: int, shape: CigarShape, cigar: bytes, own: ReadWindows) -> ReadWindows:
        """The windows of an unpaired primary (or secondary) part of a chimeric read whose other
        part, named in ``SA``, lies at a germline window (``RecordReverter._supplementary_touches``):
        ``own``, the record's, and one over its whole alignment, so it is reverted as a read at a
        window is, every difference and every clip (``revert.clips_aligned``; a left clip moves
        POS, across the alleles that change the length before it). A carrier's read split by a
        germline insertion of copied bases (a dispersed duplication, a retrocopy, a mobile element)
        has its inserted part aligned at their source, clipped where the copy starts or ends: only
        carriers have such clips there, and the copy's own differences from the source. A paired
        record is not given these windows: its mate, which cannot read this record's ``SA``, names
        its place and CIGAR (PNEXT, ``MC``) and could not follow."""
        merged = with_whole_alignment(own.windows, position, position + shape.reference_length)
        changes = own.changes
        if not own and shape.operations[0][0] in (SOFT, HARD) and (spans := self.length_changes.get(name)) is not None:
            changes = spans.ending_before(position, position - self.span_starts[cigar] + MAX_SHIFT)
        deletions = own.deletions
        return ReadWindows(merged, deletions, own.short_skip, clips_aligned=True, changes=changes)

    def for_read_elsewhere(self, name: str, position: int, shape: CigarShape, cigar: bytes) -> ReadWindows:
        """The windows of a read that may belong elsewhere (a low MAPQ, an alternative hit on a
        germline window: ``RecordReverter.placed_elsewhere``): :meth:`for_read`'s, and one over the
        whole alignment, as ``--all`` has, so every difference goes wherever it lies (a short skip
        filled as ``--all`` fills it). Its clips are masked (``ClipRule.ALL``), not removed, but
        where they touch a germline window: so POS moves only as it would for any read, and the
        mate's PNEXT, which cannot know why this read was judged so, stays right. Its mate's ``MC``
        follows where the mate's ``MQ`` tells the MAPQ (:meth:`RecordReverter.mate_update`)."""
        read = self.for_read(name, position, shape, cigar)
        merged = with_whole_alignment(read.windows, position, position + shape.reference_length)
        return ReadWindows(merged, read.deletions, SHORT_SKIP, read.clips_aligned, read.changes, read.windows)


    def unmapped_pair_at_insertion(self, fields: list[bytes]) -> bool:
        """Whether a record of a pair with an unmapped mate lies at a germline insertion: FLAG 0x4
        (unmapped) or 0x8 (mate unmapped), and its own place (RNAME, POS) or its mate's (RNEXT,
        PNEXT) within ``germline_sites.INSERTION_MATE_REACH`` of an insertion's REF span. A
        carrier's read of the inserted bases is unmapped, placed at its mate, and only carriers
        have a cluster of such pairs there (what insertion and MEI callers genotype from); each
        record is judged by its own fields, so the unmapped read (placed, or written with RNAME
        ``*`` and its mate's place), its mate, and the mate's supplementary and secondary records
        (which name the unmapped read's place) go wherever they lie in the file."""
        if not int(fields[1]) & 0xC:
            return False
        insertions = self.insertions
        own = fields[2]
        placed = own != b"*" and fields[3].isdigit() and (position := int(fields[3])) > 0
        if placed and insertions.windows(own.decode(errors="replace"), position - 1, position):
            return True
        mate = own if fields[6] == b"=" else fields[6]
        if mate != b"*" and fields[7].isdigit() and (position := int(fields[7])) > 0:
            return bool(insertions.windows(mate.decode(errors="replace"), position - 1, position))
        return False


def with_whole_alignment(windows: list[Window], start: int, end: int) -> list[Window]:
    """``windows`` and one over a whole alignment (``start`` to ``end``, a base beyond each side),
    merged where they touch: a read reverted whole where it lies."""
    merged: list[Window] = []
    for first, last in sorted([*windows, (start - 1, end + 1)]):
        if merged and first <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], last))
        else:
            merged.append((first, last))
    return merged


class EveryDifference:
    """``--all``: one window over the whole alignment, so every difference goes, every clip
    with it (a clip touches the window beside it: ``revert.clips_aligned`` removes it and the
    length rule gives the read as many reference bases), and every supplementary record."""

    revert_all = True

    def for_read(self, name: str, position: int, shape: CigarShape, cigar: bytes) -> ReadWindows:
        return ReadWindows([(position - 1, position + shape.reference_length + 1)], [], SHORT_SKIP, clips_aligned=True)

    def for_span(self, name: str, start: int, end: int) -> list[Window]:
        return [(start, end)]

    def unmapped_pair_at_insertion(self, fields: list[bytes]) -> bool:
        return False  # no germline list: no insertion is known


RevertWindows = GermlineWindows | EveryDifference


class RecordReverter:
    """Reverts one record at a time; built once the input's header is checked.

    ``reference`` is read by the input's contig names; ``known_contigs`` are the
    input's contigs the reference has; ``quality_key`` keys the draw of the qualities a
    reverted indel's added bases get (``revert.quality_draw_key``).
    """

    def __init__(
        self,
        reference: ContigReference,
        windows: RevertWindows,
        keep: KeepList | None,
        options: RevertOptions,
        shapes: ShapeCache,
        path: str,
        report: Report,
        declared: Iterable[str] | None = None,
        places: ReadPlaces | None = None,
        *,
        quality_key: bytes,
    ) -> None:
        self.reference = reference
        self.windows = windows
        self.keep = keep
        self.options = options
        self.shapes = shapes
        self.path = path
        self.report = report
        self.known_contigs = {name.encode() for name in reference.to_reference}
        self.dropped_contigs = listed_contigs(reference.to_reference if declared is None else declared, options.drop_contigs)
        """The header's contigs whose records go (``--drop-contigs``): where the read lies is the genotype."""
        self.passed_on = ALIGNMENT_LISTS if options.keep_alignment_lists else frozenset()
        """Copying tags left on every record for the masker after this command (``ALIGNMENT_LISTS``)."""
        self.copying = COPYING_TAGS - self.passed_on
        """The tags removed from every record (``COPYING_TAGS``, but those passed on)."""
        self.hit_contigs = HitContigs(name.encode() for name in (reference.to_reference if declared is None else declared))
        """The contigs of ``SA`` hits read as the header's (``declared``, its @SQ names)."""
        self.nearby = NearbyBases(reference)
        self.places = places if places is not None else ReadPlaces(())
        """The header's contigs and lengths, which PNEXT and ``CP`` are held to (none: held to nothing)."""
        self.quality_key = quality_key
        """The key of the draw of the qualities a reverted indel's added bases get (``revert.quality_draw_key``)."""
        self.moved = False
        """Whether the last record :meth:`rewrite` wrote has another POS than it had (a removed
        left clip moved it, or its mate, where it is an unmapped read placed at its mate)."""
        self.last_mate_windows: tuple[int, bytes, str, ReadWindows] | None = None
        """The mate's windows :meth:`mate_windows` found last, with its place and CIGAR."""
        self.mates_everywhere: dict[bytes, bytes | None] = {}
        """``--all``, no keep allele under the mate: ``MC`` -> what :meth:`mate_update` makes of it,
        the same at every PNEXT (the window over the mate and every rule are relative to its POS),
        so a CIGAR that recurs (``3S147M``) is worked out once."""

    def rewrite(self, line: bytes, line_number: int, touched: bool = True, far: bool = True) -> bytes | None:
        """One record that needs work: reverted, tags fixed; None when it must go.

        ``touched``: the record's span may touch a window (False: its tags, clips or
        secondary sequence may need work, its aligned bases do not). ``far``: it may hold a
        place no contig has (False where the block's check found none there).
        """
        new_line = self._rewritten(line, line_number, touched, far)
        if new_line is not None and self.moved and self.windows.unmapped_pair_at_insertion(new_line.split(b"\t", 9)):
            self.report.add(UNMAPPED_MATE_AT_INSERTION)  # a removed left clip moved it (or its mate) to an insertion
            return None
        return new_line

    def _rewritten(self, line: bytes, line_number: int, touched: bool, far: bool) -> bytes | None:
        """:meth:`rewrite`, but for a record of a pair with an unmapped mate that moved to an insertion."""
        fields = line.split(b"\t")
        options = self.options
        report = self.report
        self.moved = False
        if self.dropped_contigs and len(fields) > 2 and fields[2] in self.dropped_contigs:
            report.add(DROPPED_ON_LISTED)
            return None
        if options.drop_unknown_contigs and len(fields) > 2 and fields[2] != b"*" and fields[2] not in self.known_contigs:
            report.add("reads_dropped_unknown_contig")  # only reached with --drop-unknown-contigs
            return None
        if len(fields) < 11:
            raise InputError("not a SAM record (fewer than 11 tab-separated fields)", self.path, line_number)
        flag = int(fields[1])
        if flag & 0xC and self.windows.unmapped_pair_at_insertion(fields):
            report.add(UNMAPPED_MATE_AT_INSERTION)
            return None
        if flag & 0x800 and self.windows.revert_all:
            # --all: a split read's other part differs from the reference by where it lies (a
            # deletion's far side, an SV); its primary's clip goes too (clips_aligned).
            report.add(SUPPLEMENTARY_REMOVED)
            return None
        tags, repeated = without_repeats(fields[11:])
        if repeated:  # a second MC or MD would escape the rewrite of the first
            report.add("aux_repeats_removed", len(repeated))
            line = join(fields, tags)
        copying = self.copying
        kept_tags = [tag for tag in tags if tag[:2] not in copying]
        sa_windows = (
            self._supplementary_touches(tags) if (len(kept_tags) != len(tags) or self.passed_on) and b"\tSA:Z:" in line else False
        )  # no field of the line starts SA:Z:, so no tag does
        if far:
            kept_tags = self.without_far_places(fields, kept_tags)
        secondary_masked = False
        if flag & 0x100 and not options.keep_secondary_seq and (fields[9] != b"*" or fields[10] != b"*"):
            report.add("secondary_sequences_removed")  # its bases may hold an allele the alignment does not show
            fields[9] = fields[10] = b"*"
            kept_tags = [tag for tag in kept_tags if tag[:2] in KEPT_TAGS or tag[:2] == b"MC" or tag[:2] in self.passed_on]
            secondary_masked = True
        if self.dropped_contigs and fields[6] in self.dropped_contigs:
            report.add("mates_dropped_listed_contig")  # the mate went with its contig: this record stands alone
            make_single(fields)
            kept_tags = without_mate_tags(kept_tags)
        elif options.drop_unknown_contigs and fields[6] not in (b"=", b"*") and fields[6] not in self.known_contigs:
            report.add("mates_dropped_unknown_contig")  # the mate is dropped: this record stands alone
            make_single(fields)
            kept_tags = without_mate_tags(kept_tags)
        old_mate_cigar = mate_cigar_value(kept_tags)
        mate = None
        if old_mate_cigar is not None and MATE_CIGAR_VALUE_CHANGES.match(old_mate_cigar):  # as MATE_CIGAR_CHANGES in the line
            mate = self.mate_update_of(fields, kept_tags, old_mate_cigar)
        if mate == MATE_REMOVED:
            # The whole template goes: an unpaired mate would be left only where the read carried
            # the germline allele that removed it (a skip at a deletion, a read of an insertion).
            report.add(MATE_REMOVED_COUNT)
            return None
        if mate == MATE_UNKNOWN:
            report.add("mate_cigar_tags_removed")
            kept_tags = [tag for tag in kept_tags if tag[:3] not in (b"MC:", *PAIR_JUNCTION_TAGS)]
        elif mate is not None:
            kept_tags = with_mate_cigar(kept_tags, mate)
        mate_start = None
        # MATE_UNKNOWN too: its start needs only MC
        if mate is not None and old_mate_cigar is not None and LEFT_CLIPPED_MATE.match(old_mate_cigar):
            mate_start = self.mate_moved_start(fields, old_mate_cigar)
        if flag & 4:
            if mate_start is not None:
                self.follow_mate(fields, mate_start)
            self._mask_unplaced(fields)
            return join(fields, kept_tags)
        template = self.template(fields, old_mate_cigar, mate, mate_start)
        if mate_start is not None:
            self.follow_mate(fields, mate_start)
        name = fields[2].decode(errors="replace")
        shape = self.shapes[fields[5]]
        if shape is None:  # CIGAR '*': htslib reads it as unmapped, so is it treated here
            self._mask_unplaced(fields)
            return join(fields, kept_tags)
        if fields[9] != b"*" and len(fields[9]) != shape.query_length:
            raise InputError("CIGAR and SEQ lengths differ", self.path, line_number)
        if fields[10] != b"*" and len(fields[10]) != len(fields[9]):
            raise InputError("SEQ and QUAL lengths differ", self.path, line_number)
        position = int(fields[3]) - 1
        if fields[9] != b"*" and (b"=" in fields[9] or not fields[9].isupper()):
            fields[9] = self.plain_sequence(fields[9], name, position, shape.operations, line_number)
        elsewhere = touched and self.placed_elsewhere(fields, tags)
        if elsewhere:
            assert isinstance(self.windows, GermlineWindows)
            windows = self.windows.for_read_elsewhere(name, position, shape, fields[5])
        else:
            windows = self.windows.for_read(name, position, shape, fields[5]) if touched else NO_READ_WINDOWS
        if flag & 0x800 and (windows.clips_aligned or sa_windows):
            # A split read's other part at a germline site (a deletion's far side, an SV), or a
            # part elsewhere of a read split at one (an insertion's copied bases at their source):
            # a non-carrier has none there. Its primary's clip there is removed (clips_aligned).
            report.add(SUPPLEMENTARY_REMOVED)
            return None
        if sa_windows and not flag & 1 and isinstance(self.windows, GermlineWindows):
            # Unpaired: no mate names its place or CIGAR (PNEXT, MC), so it is reverted as a read
            # at the site is. A paired one keeps them, its clips masked (below): see the man page.
            windows = self.windows.over_chimeric_part(name, position, shape, fields[5], windows)
        clip_windows = windows.clip_windows
        windows = self.past_end_window(windows, name, position + shape.reference_length)
        clips_to_check = (
            options.clips is ClipRule.DIFFERING and fields[9] != b"*" and bool(shape.left_clip or shape.right_clip)
        )
        if not windows.windows and not sa_windows and not clips_to_check:
            end = position + shape.reference_length
            self.fit_template_length(fields, template, position, end, end, shape.query_length)
            return join(fields, kept_tags)
        if name not in self.reference:
            raise InputError(f"contig {name} is not in the reference", self.path, line_number)
        offset = max(0, position - shape.left_clip)
        if windows.clips_aligned and shape.operations[0][0] in (SOFT, HARD):  # a removed left clip moves POS
            offset = max(0, min(offset, moved_start(position, shape.operations, clip_windows, windows.changes)))
        inserted = shape.inserted if shape.has_indel else 0
        if windows.clips_aligned:  # the bases given back for clips removed (revert.clips_aligned)
            inserted += shape.clipped
        reference = self.nearby.fetch(name, offset, position + shape.reference_length + inserted + shape.right_clip)
        aligned_end = position + shape.reference_length - offset
        known = len(reference)
        if known < aligned_end:
            report.add("reads_past_contig_end")
        if known < aligned_end + inserted:  # no reference there: reverted to N (the length rule may add bases up to there)
            reference += b"N" * (aligned_end + inserted - known)
        clips = ClipRule.ALL if sa_windows or self.windows.revert_all or elsewhere else options.clips
        clips_only = not windows.windows and not sa_windows and not secondary_masked
        return self._revert(
            fields, kept_tags, shape, position, reference, offset, windows, clips, name, clips_only, template, known, clip_windows
        )

    def mate_moved_start(self, fields: list[bytes], mate_cigar: bytes | None) -> int | None:
        """Where the mate starts (0-based) once its removed left clip moved it (``revert.clip_start``,
        from PNEXT and ``mate_cigar``, its ``MC``, as its own record computes it); None where it stays."""
        mate_name = fields[6] if fields[6] != b"=" else fields[2]
        if mate_cigar is None or mate_name == b"*" or not fields[7].isdigit():
            return None
        shape = self.shapes[mate_cigar]
        if shape is None:
            return None
        mate_position = int(fields[7]) - 1
        windows = self.mate_windows(mate_name.decode(errors="replace"), mate_position, shape, mate_cigar)
        if not windows.clips_aligned:
            return None
        start = moved_start(mate_position, shape.operations, windows.clip_windows, windows.changes)
        return start if start != mate_position else None

    def mate_windows(self, name: str, position: int, shape: CigarShape, cigar: bytes) -> ReadWindows:
        """``windows.for_read`` of the mate (a pure function of its arguments), the last answer kept:
        :meth:`mate_moved_start` asks what :meth:`mate_update` asked just before it."""
        last = self.last_mate_windows
        if last is not None and last[0] == position and last[1] == cigar and last[2] == name:
            return last[3]
        windows = self.windows.for_read(name, position, shape, cigar)
        self.last_mate_windows = (position, cigar, name, windows)
        return windows

    def follow_mate(self, fields: list[bytes], mate_start: int) -> None:
        """PNEXT (and the POS of an unmapped read placed at its mate) moved to where the mate
        starts now: the mate's old place is the germline deletion's far edge."""
        old = fields[7]
        fields[7] = b"%d" % (mate_start + 1)
        if int(fields[1]) & 4 and fields[3] == old and fields[6] in (b"=", fields[2]):
            fields[3] = fields[7]
            self.moved = True
        self.report.add("mate_places_moved")

    def without_far_places(self, fields: list[bytes], tags: list[bytes]) -> list[bytes]:
        """The record's tags without a place no contig has, its fields changed in place, as
        sam-scrub-rg leaves them (``sam_columns.ReadPlaces``): a PNEXT past its contig makes the
        mate's place unavailable (RNEXT ``*``, PNEXT and TLEN 0, counted as ``mate_places_cleared``)
        and its ``MC`` goes (``mate_cigar_tags_removed``); a ``CP`` past RNAME's contig goes
        (``aux_values_removed``). ``RNEXT =``, ``PNEXT 19900101`` on a contig of 5000 holds a date."""
        if self.places.mate_past_contig(fields):
            fields[6:9] = UNAVAILABLE_MATE
            self.report.add("mate_places_cleared")
            kept = [tag for tag in tags if tag[:3] != b"MC:"]
            if len(kept) != len(tags):
                self.report.add("mate_cigar_tags_removed", len(tags) - len(kept))
            tags = kept
        tags, removed = self.places.places_kept(tags, fields[2], fields[9])
        if removed:
            self.report.add("aux_values_removed", removed)
        return tags

    def plain_sequence(self, sequence: bytes, name: str, position: int, operations: Sequence[tuple[int, int]], line_number: int) -> bytes:
        """SEQ in upper case, each ``=`` the reference's base it stands for (``N`` where it stands
        for none: in a clip or an insertion), for every read: where only the reads a window
        rewrites lost their lower case or ``=``, the reads that kept theirs would show where the
        windows lie and which reads carried the allele."""
        self.report.add("sequences_written_plain")
        sequence = sequence.upper()
        if b"=" not in sequence:
            return sequence
        if name not in self.reference:
            raise InputError(f"contig {name} is not in the reference", self.path, line_number)
        bases = bytearray(sequence)
        at, reference_at = 0, position
        for op, length in operations:
            if op in CONSUMES_QUERY and op in CONSUMES_REFERENCE:
                reference = self.nearby.fetch(name, reference_at, reference_at + length).ljust(length, b"N")
                for k in range(length):
                    if bases[at + k] == 0x3D:
                        bases[at + k] = reference[k]
            elif op in CONSUMES_QUERY:
                bases[at : at + length] = bases[at : at + length].replace(b"=", b"N")
            at += length if op in CONSUMES_QUERY else 0
            reference_at += length if op in CONSUMES_REFERENCE else 0
        return bytes(bases)

    def past_end_window(self, windows: ReadWindows, name: str, end: int) -> ReadWindows:
        """``windows`` with one more over the bases a read aligns past its contig's end: no
        reference is there to check them against (the reference is read as ``N`` past the end,
        so they are reverted to ``N``), and on a circular contig (chrM) they are the contig's
        first bases, germline alleles included."""
        length = self.reference.length(name) if name in self.reference else None
        if length is None or end <= length:
            return windows
        merged: list[Window] = []
        for start, stop in sorted([*windows.windows, (length, end)]):
            if merged and start <= merged[-1][1]:
                merged[-1] = (merged[-1][0], max(merged[-1][1], stop))
            else:
                merged.append((start, stop))
        return ReadWindows(merged, windows.deletions, windows.short_skip, windows.clips_aligned, clip_sites=windows.clip_sites)

    def _mask_unplaced(self, fields: list[bytes]) -> None:
        """An unmapped read (or one without a CIGAR): nothing places its bases, so they are masked;
        with ``keep_unmapped`` they are written plain as every other read's (``plain_sequence``):
        upper case, and each ``=`` an ``N``, as no reference base lies under an unplaced read."""
        if fields[9] == b"*":
            return
        if not self.options.keep_unmapped:
            if fields[9].strip(b"N"):
                self.report.add("unmapped_reads_masked")
                fields[9] = b"N" * len(fields[9])
        elif (plain := fields[9].upper().replace(b"=", b"N")) != fields[9]:
            self.report.add("sequences_written_plain")
            fields[9] = plain

    def _revert(
        self,
        fields: list[bytes],
        tags: list[bytes],
        shape: CigarShape,
        position: int,
        reference: bytes,
        offset: int,
        windows: ReadWindows,
        clips: ClipRule,
        name: str,
        clips_only: bool,
        template: Template | None,
        known: int,
        clip_windows: list[Window] | None = None,
    ) -> bytes | None:
        """``clips_only``: the record was looked at for its clips alone; unless one is
        masked it passes as it was. ``template``: its mate's place, for TLEN; ``known``: the
        bases of ``reference`` the contig has (the rest is ``N`` past its end); ``clip_windows``:
        the germline windows a clip is removed at (``revert.clips_aligned``)."""
        end = position + shape.reference_length
        if self.windows.revert_all and not shape.has_indel and not shape.left_clip and not shape.right_clip and b"H" not in fields[5]:
            sequence = fields[9]
            if sequence == b"*" or sequence.upper() == reference[position - offset : end - offset]:
                self.fit_template_length(fields, template, position, end, end, shape.query_length)
                kept = [tag for tag in tags if tag[:2] in TAGS_KEPT_AT_WINDOWS or tag[:2] in self.passed_on]
                return join(fields, kept)
        keep = self.keep.alleles_under(name, position, position + shape.reference_length) if self.keep is not None else None
        result = revert_alignment(
            position, shape.operations, fields[9], fields[10], reference, offset, windows.windows, clips, keep, windows.deletions,
            windows.short_skip, clip_windows if shape.has_clip else None, windows.changes, self.quality_key,
            match=shape.match_op, query_bases=shape.query_length,
        )
        if isinstance(result, Removed):
            self.report.add(result.reason)
            return None
        new_position = result.position if result.position >= 0 else position
        if result.changed:
            counts = self.report.counts
            counts["reads_changed"] += 1
            counts["bases_reverted"] += result.bases_reverted
            counts["indels_reverted"] += result.indels_reverted
            counts["clip_bases_masked"] += result.clip_bases_masked
            counts["clip_bases_aligned"] += result.clip_bases_aligned
            new_end = new_position + reference_length(result.operations)
            if result.bases_trimmed_to_length:
                counts["bases_trimmed_to_length"] += result.bases_trimmed_to_length
            if result.bases_added_to_length:
                counts["bases_added_to_length"] += result.bases_added_to_length
            if result.bases_added_to_length and new_end - offset > known >= end - offset:  # added past the end; not counted already
                counts["reads_past_contig_end"] += 1
        elif clips_only:
            self.fit_template_length(fields, template, position, end, end, shape.query_length)
            return join(fields, tags)  # its clips carry the reference
        else:
            new_end = new_position + reference_length(result.operations)
        if new_position != position:
            self.report.add("read_starts_moved")
            if int(fields[1]) & 8 and fields[7] == fields[3] and fields[6] in (b"=", fields[2]):
                fields[7] = b"%d" % (new_position + 1)  # the unmapped mate placed here moves with it
            fields[3] = b"%d" % (new_position + 1)
            self.moved = True
        self.fit_template_length(fields, template, position, end, new_end, shape.query_length, new_position)
        fields[5] = format_cigar(result.operations)
        fields[9] = result.sequence
        fields[10] = result.qualities
        passed_on = self.passed_on
        new_tags = []
        has_md = has_nm = False
        for tag in tags:
            tag_name = tag[:2]
            if tag_name in KEPT_TAGS or tag_name == b"MC" or tag_name in passed_on:
                new_tags.append(tag)
            if tag_name == b"MD":
                has_md = True
            elif tag_name == b"NM":
                has_nm = True
        if result.sequence != b"*" and (has_md or has_nm):
            md, distance = scan.md_and_nm(new_position, result.operations, result.sequence, reference, offset)
            if has_md:
                new_tags.append(b"MD:Z:" + md)
            if has_nm:
                new_tags.append(b"NM:i:%d" % distance)
        return join(fields, new_tags)

    def placed_elsewhere(self, fields: list[bytes], tags: list[bytes]) -> bool:
        """With ``-v``: whether a placed read may be a read of a germline site that its allele sent
        to a paralogous copy (a gene conversion's carrier's reads fit the other copy better), where
        no window lies and its bases at the paralog's own differences tell the carrier: its MAPQ is
        below ``--all-below-mapq`` or 255 (counted as ``reads_reverted_whole_low_mapq``), or its
        ``XA``/``XB`` names a hit touching a germline window (``reads_reverted_whole_alternative_hit``),
        the hit's contig read through the header's spellings and one that cannot be read or placed
        taken to touch one (fail closed). The read is then reverted whole where it lies
        (:meth:`GermlineWindows.for_read_elsewhere`)."""
        windows = self.windows
        if not isinstance(windows, GermlineWindows) or int(fields[1]) & 4:
            return False
        threshold = self.options.all_below_mapq
        if threshold and low_mapping_quality(fields[4], threshold):
            self.report.add(LOW_MAPQ_READS)
            return True
        for tag in tags:
            if tag[:2] in ALTERNATIVE_HIT_LISTS and self.alternative_hit_on_window(tag[5:], tag[:2]):
                self.report.add(ALTERNATIVE_HIT_READS)
                return True
        return False

    def alternative_hit_on_window(self, value: bytes, name: bytes) -> bool:
        """Whether an ``XA``/``XB`` value names a hit whose footprint (its span, clips projected as a
        read's are, ``GermlineWindows.span_starts``) touches a germline window."""
        windows = self.windows
        assert isinstance(windows, GermlineWindows)
        hits = alignment_hits(value, name)
        if hits is None:
            return True
        for contig, position, cigar in hits:
            places = self.hit_contigs.places(contig)
            if places is None or self.shapes[cigar] is None:
                return True
            start, end = position + windows.span_starts[cigar], position + windows.span_ends[cigar]
            if any(windows.for_span(place.decode(errors="replace"), start, end) for place in places):
                return True
        return False

    def _supplementary_touches(self, tags: list[bytes]) -> bool:
        """Whether another part of a chimeric read (SA tag) touches a window, as a read's own
        alignment does (``GermlineWindows.for_read``: its aligned span, its clips, soft and hard,
        projected beside it plus ``CLIP_MARGIN``, its indels' reach): then the read was split at a
        germline site, or by an allele there (an insertion of bases copied from elsewhere, whose
        part aligns at their source), and this record is judged as at the site: a supplementary
        record goes, any other is reverted over its whole alignment
        (``GermlineWindows.over_chimeric_part``). A part's contig is read through the header's
        spellings (``HitContigs``: ``1`` in a ``chr1`` header, after ``samtools reheader``); a part
        that cannot be read (no strand ``+``/``-``, a CIGAR that cannot be read), or on a contig
        the header cannot place, is taken to touch one (fail closed)."""
        for tag in tags:
            if not tag.startswith(b"SA:Z:"):
                continue
            if self.windows.revert_all:
                return True
            for segment in filter(None, tag[5:].split(b";")):
                parts = segment.split(b",")
                if len(parts) < 4 or not parts[1].isdigit() or parts[2] not in (b"+", b"-"):
                    return True
                places = self.hit_contigs.places(parts[0])
                shape = self.shapes[parts[3]]
                if places is None or shape is None or not isinstance(self.windows, GermlineWindows):
                    return True
                start = int(parts[1]) - 1 + self.windows.span_starts[parts[3]]
                end = int(parts[1]) - 1 + self.windows.span_ends[parts[3]]
                if any(self.windows.for_span(place.decode(errors="replace"), start, end) for place in places):
                    return True
        return False

    def template(
        self, fields: list[bytes], old_mate_cigar: bytes | None, mate: bytes | None, mate_start: int | None = None
    ) -> Template | None:
        """What TLEN needs of the mate: None when TLEN does not follow the ends (not a pair of
        records mapped on one contig, or TLEN 0). ``old_mate_cigar`` is MC as read, ``mate`` what
        :meth:`mate_update` made of it, ``mate_start`` where the mate starts once moved (None: it
        stays at PNEXT). ``fields`` needs FLAG, RNAME, RNEXT, PNEXT and TLEN."""
        flag = int(fields[1])
        if flag & 0xD != 0x1 or (fields[6] != b"=" and fields[6] != fields[2]) or not fields[7].isdigit():
            return None
        tlen = template_length(fields[8])
        if not tlen:
            return None
        mate_position = int(fields[7]) - 1
        if mate == MATE_UNKNOWN:
            return Template(tlen, mate_position, None, None, known=False)
        if old_mate_cigar is None:
            return Template(tlen, mate_position, None, None, without_mate_cigar=True)
        old_shape = self.shapes[old_mate_cigar]
        if old_shape is None:  # an MC that cannot be read: the mate is left as it is (mate_update)
            return Template(tlen, mate_position, None, None, mate_cigar_unreadable=True)
        new_shape = self.shapes[mate] if mate is not None else old_shape
        assert new_shape is not None
        old_end = mate_position + old_shape.reference_length
        new_start = mate_position if mate_start is None else mate_start
        return Template(tlen, mate_position, old_end, new_start + new_shape.reference_length, mate_new_position=new_start)

    def fit_template_length(
        self,
        fields: list[bytes],
        template: Template | None,
        position: int,
        old_end: int,
        new_end: int,
        query_length: int,
        new_position: int | None = None,
    ) -> None:
        """TLEN after the length rule moved this record's end or its mate's, or a removed left clip
        moved either's start (:func:`fitted_template_length`); 0 where the mate's end cannot be
        known and may have moved (counted as ``template_lengths_cleared``), and where its start
        may have moved too, the mate's place unavailable (:meth:`mate_may_move`)."""
        if template is None:
            return
        tlen = template.tlen
        new_position = position if new_position is None else new_position
        if template.mate_old_end is None or template.mate_new_end is None:
            if template.without_mate_cigar and self.mate_may_move(fields[2], template.mate_position, query_length):
                fields[6:9] = UNAVAILABLE_MATE
                self.report.add("mate_places_cleared")
                return
            if template.known and old_end == new_end and position == new_position and (
                template.mate_cigar_unreadable or not self.mate_may_change(fields[2], template.mate_position, tlen, query_length)
            ):
                return
            fields[8] = b"0"
            self.report.add("template_lengths_cleared")
            return
        mate_new_position = template.mate_position if template.mate_new_position is None else template.mate_new_position
        new_tlen = fitted_template_length(
            tlen, position, old_end, new_end, template.mate_position, template.mate_old_end, template.mate_new_end,
            new_position, mate_new_position,
        )
        if new_tlen != tlen:
            fields[8] = b"%d" % new_tlen

    def mate_may_move(self, contig: bytes, mate_position: int, query_length: int) -> bool:
        """Whether a mate known only by PNEXT (no MC) may have had a left clip removed, which moves
        its start (``revert.clip_start``): with ``--all`` always, else where a clip as long as this
        read, projected before PNEXT plus ``CLIP_MARGIN``, touches a window. PNEXT would then show
        the old place, the germline deletion's far edge."""
        if self.windows.revert_all:
            return True
        reach = query_length + CLIP_MARGIN
        return bool(self.windows.for_span(contig.decode(errors="replace"), mate_position - reach, mate_position))

    def mate_may_change(self, contig: bytes, mate_position: int, tlen: int, query_length: int) -> bool:
        """Whether a mate known only by PNEXT and TLEN (no MC) may have had its length rule move its
        end: its footprint, ``[PNEXT, PNEXT + |TLEN|)`` under the SAM outer-coordinate rule, widened
        each way by ``max(|TLEN|, this read's length)`` for the reach of an indel in it, touches a window."""
        reach = max(abs(tlen), query_length)
        name = contig.decode(errors="replace")
        return bool(self.windows.for_span(name, mate_position - reach, mate_position + abs(tlen) + reach))

    def mate_placed_elsewhere(self, fields: list[bytes], tags: list[bytes]) -> bool:
        """Whether the mate is reverted whole for its MAPQ (:meth:`placed_elsewhere`), as this
        record's ``MQ`` tag (the mate's MAPQ, which ``samtools fixmate`` writes beside ``MC``) tells:
        then its ``MC`` follows by the same rule. Without ``MQ`` it cannot be told, nor an ``XA`` hit
        of the mate: ``MC`` then keeps what the germline windows alone make of it (see the man page)."""
        threshold = self.options.all_below_mapq
        if not threshold or int(fields[1]) & 8:
            return False
        for tag in tags:
            if tag[:5] == b"MQ:i:":
                return low_mapping_quality(tag[5:], threshold)
        return False

    def mate_update(self, fields: list[bytes], tags: list[bytes]) -> bytes | None:
        """The mate's new CIGAR for MC (the rules of its own record, from MC alone):
        the new CIGAR, MATE_REMOVED, MATE_UNKNOWN, or None (no change).

        ``fields`` needs RNAME (2), RNEXT (6) and PNEXT (7) only.
        """
        mate_cigar = mate_cigar_value(tags)
        if mate_cigar is None or not MATE_CIGAR_LETTER.search(mate_cigar):
            return None
        return self.mate_update_of(fields, tags, mate_cigar)

    def mate_update_of(self, fields: list[bytes], tags: list[bytes], mate_cigar: bytes) -> bytes | None:
        """:meth:`mate_update` of ``mate_cigar``, the first ``MC`` of ``tags``, found by the caller."""
        mate_name = fields[6] if fields[6] != b"=" else fields[2]
        if mate_name == b"*" or not fields[7].isdigit():
            return None
        mate_position = int(fields[7]) - 1
        shape = self.shapes[mate_cigar]
        if shape is None:
            return None
        name = mate_name.decode(errors="replace")
        keep = self.keep.alleles_under(name, mate_position, mate_position + shape.reference_length) if self.keep is not None else None
        everywhere = self.windows.revert_all and keep is None
        if everywhere and mate_cigar in self.mates_everywhere:
            return self.mates_everywhere[mate_cigar]
        windows = self.mate_windows(name, mate_position, shape, mate_cigar)
        if isinstance(self.windows, GermlineWindows) and self.mate_placed_elsewhere(fields, tags):
            windows = self.windows.for_read_elsewhere(name, mate_position, shape, mate_cigar)
        if not windows.windows:
            return None
        new_cigar = rewrite_mate_cigar(
            mate_position, mate_cigar, windows.windows, shape, keep, windows.deletions, windows.short_skip,
            windows.clip_windows if shape.has_clip else None,
            windows.changes,
        )
        if isinstance(new_cigar, Removed):
            answer: bytes | None = MATE_REMOVED
        elif new_cigar is None:
            answer = MATE_UNKNOWN
        else:
            answer = None if new_cigar == mate_cigar else new_cigar
        if everywhere:
            if len(self.mates_everywhere) >= MATES_EVERYWHERE_LIMIT:
                self.mates_everywhere.clear()
            self.mates_everywhere[mate_cigar] = answer
        return answer


@dataclass(slots=True)
class Template:
    """A paired record's TLEN and its mate's place: the mate's alignment end as read and after the
    rules, from MC (None for both without MC)."""

    tlen: int
    mate_position: int
    mate_old_end: int | None
    mate_new_end: int | None
    known: bool = True
    """False: MC had to go (a keep-list allele), so the mate's new end cannot be told."""
    mate_cigar_unreadable: bool = False
    """MC is there but is no CIGAR: the mate is taken as unchanged, as ``MC`` is kept as it is."""
    mate_new_position: int | None = None
    """Where the mate starts once a removed left clip moved it (None: at ``mate_position``)."""
    without_mate_cigar: bool = False
    """No MC: where the mate's start may have moved, its place goes (``mate_may_move``)."""


def template_length(field: bytes) -> int:
    """TLEN as a number; 0 (left as it is) when it is not one."""
    try:
        return int(field)
    except ValueError:
        return 0


def fitted_template_length(
    tlen: int,
    position: int,
    old_end: int,
    new_end: int,
    mate_position: int,
    mate_old_end: int,
    mate_new_end: int,
    new_position: int | None = None,
    mate_new_position: int | None = None,
) -> int:
    """TLEN once the length rule moved alignment ends, and a removed left clip a start
    (``new_position``, ``mate_new_position``; None: it stays): the fragment's outer span
    (SAM v1 1.4: leftmost start to rightmost end of the two records) changes by what the ends
    moved it, and TLEN's magnitude by as much, its sign kept; both records compute the same from
    their own CIGAR and their mate's MC. A TLEN that would not stay positive (one not written by
    the outer rule) becomes the new outer span."""
    left = min(position, mate_position)
    new_left = min(position if new_position is None else new_position, mate_position if mate_new_position is None else mate_new_position)
    change = (max(new_end, mate_new_end) - new_left) - (max(old_end, mate_old_end) - left)
    if not change:
        return tlen
    magnitude = abs(tlen) + change
    if magnitude <= 0:
        magnitude = max(new_end, mate_new_end) - new_left
    return magnitude if tlen > 0 else -magnitude


def make_single(fields: list[bytes]) -> None:
    """The mate was removed: this record stands alone (SAM v1 1.4: flags 0x1, 0x2,
    0x8, 0x20, 0x40, 0x80 cleared; RNEXT, PNEXT, TLEN unset)."""
    fields[1] = b"%d" % (int(fields[1]) & ~(0x1 | 0x2 | 0x8 | 0x20 | 0x40 | 0x80))
    fields[6], fields[7], fields[8] = b"*", b"0", b"0"


PAIR_JUNCTION_TAGS = (b"jI:", b"jM:")
"""STAR's junctions of the pair, written in both mates' records: the mate's skips are among them,
so they go with the mate's CIGAR as read (``aux_values.agrees_with_alignment`` holds ``jI`` to
the record's CIGAR and its ``MC``; the audit too)."""


def without_mate_tags(tags: list[bytes]) -> list[bytes]:
    """Tags without MC and MQ, which describe a mate that is no longer in the output, and without
    the pair's junctions (``PAIR_JUNCTION_TAGS``)."""
    return [tag for tag in tags if tag[:3] not in (b"MC:", b"MQ:", *PAIR_JUNCTION_TAGS)]


def with_mate_cigar(tags: list[bytes], mate_cigar: bytes) -> list[bytes]:
    """Tags with ``MC`` rewritten to the mate's new CIGAR; where it changes, without the pair's
    junctions (``PAIR_JUNCTION_TAGS``): they would name the mate's skips as they were."""
    new_tag = b"MC:Z:" + mate_cigar
    for tag in tags:
        if tag[:3] == b"MC:" and tag[5:] != mate_cigar:  # changed: the junctions go
            return [new_tag if tag[:3] == b"MC:" else tag for tag in tags if tag[:3] not in PAIR_JUNCTION_TAGS]
    return [new_tag if tag[:3] == b"MC:" else tag for tag in tags]


def mate_cigar_value(tags: list[bytes]) -> bytes | None:
    """The value of the first ``MC:Z:`` of ``tags`` (None without one)."""
    for tag in tags:
        if tag[:5] == b"MC:Z:":
            return tag[5:]
    return None


def join(fields: list[bytes], tags: list[bytes]) -> bytes:
    return b"\t".join(fields[:11] + tags)
