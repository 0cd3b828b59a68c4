"""Rewriting one alignment so it carries no germline allele (sam-revert-germline's per-read rules).

Everything here is a pure function over a record's fields, a slice of the
reference and the revert windows that overlap the record, so it can be tested
without files and reused by the tumour-only mode (``--all --keep``), which only
adds a keep list to :func:`revert_alignment`. CIGAR shapes and MD/NM are in
filters/cigar.py, the windows in filters/germline_sites.py.

Coordinates are 0-based, half-open. A *window* ``(start, end)`` is a stretch of
reference where every difference from the reference is reverted: a germline
SNV/MNP's REF span, an indel's REF span widened over the repeat in which the
aligner may have placed it, or the whole read for ``--all``.

Rules (SAM v1 section 1.4 and 1.5 for CIGAR, MD and NM), whatever spelling the
aligner chose for an allele:

- aligned bases (``M``/``=``/``X``) in a window become the reference base; an
  ``X`` there becomes ``=``, or ``M`` in a record that spells its matches ``M``
  (``cigar.match_op``), ``M`` and ``=`` stay as they were spelled;
- a deletion (``D``) of ``L`` bases is filled with reference bases when it or the
  ``L`` bases each side of it touch a window, and becomes ``M`` (``=`` in a record
  that spells its matches ``=``); the filled bases get qualities borrowed from the
  read's own bases beside the deletion (:func:`borrowed_qualities`, drawn by a keyed hash), so
  a filled deletion does not stand out by its quality: no run of one value, no pattern;
- an insertion (``I``) of ``L`` bases at a point of the reference is removed,
  bases and qualities, when the ``L`` bases each side of that point touch a
  window: an aligner may write an SNV as an insertion beside a deletion (``1I1D``
  as well as ``1D1I``), or put the insertion at a read's first or last base;
- a skip (``N``) lying wholly in the window of a germline *deletion* is that
  deletion written as an intron (an RNA aligner's long gap) and is filled like
  one; a skip with only one edge in such a window may hide the deletion beside
  an intron: the record is removed, and so is its mate (which learns it from
  ``MC``), so that no unpaired mate marks the carriers; a skip that merely
  spans a window stays, as the read has no bases there. With ``--all`` (no
  windows of deletions) a skip shorter than ``SHORT_SKIP``, too short for an
  intron, is a deletion and filled like one; a longer one stays;
- a clip at a read's end (its soft and hard clips together) whose projection onto the
  reference (plus ``CLIP_MARGIN``) touches a germline window is removed, bases and
  qualities (:func:`clips_aligned`): an aligner clips an allele near a read's end (bwa
  mem a deletion a few bases from it, a split read an SV), and a clip's edge left there
  marks the carriers (``147M3S`` ending where the deletion starts, ``3S147M`` starting
  where it ends, where a non-carrier's reads are ``150M``); a right clip's bases are given
  back as the reference after the alignment's end by the length rule below, a left clip's
  before POS, which moves left across the germline alleles that change the length the
  clip reaches (:func:`clip_start`: ``3S147M`` at 1001 after a deletion of 991-1000 becomes
  ``150M`` at 988, where a non-carrier's read of the fragment starts); a hard clip's too:
  the read has the length a non-carrier's would have. With ``--all`` the window over the
  read touches every clip, so every clip goes, and a left clip moves POS by its length;
- other soft-clipped bases (``S``) are masked (base ``N``, quality ``MASKED_QUALITY``)
  by :class:`ClipRule`: by default when their projection onto the reference
  (plus ``CLIP_MARGIN``) touches a window or when they differ from the reference at that
  projection, since a clip's bases may belong anywhere; the CIGAR keeps the clip;
- ``H`` and ``P`` are kept (``P`` goes once an insertion is removed);
- then the read keeps its number of bases (:func:`length_kept`): what a filled
  deletion added is taken from the right end of the aligned part, what a removed
  insertion or clip took is given back there as the reference bases after the
  alignment's end, with qualities borrowed from the bases before them. Otherwise a
  read's length would tell its germline indel.

A base equal to the reference but for its case is not a difference. Only a
removed left clip moves POS, and the mate computes the same from PNEXT and ``MC``
(:func:`moved_start`); the length rule moves the end of the alignment, and TLEN
follows both (filters/record_reverter.py: ``fitted_template_length``). The new CIGAR depends
on POS, the CIGAR and the windows only, never on the bases (except where the
keep list spares an allele), so a record computes its mate's new CIGAR for ``MC``
from ``MC`` alone (:func:`rewrite_mate_cigar`), the same as the mate computes it.
"""

from __future__ import annotations

import enum
import hashlib
import hmac
import os
from bisect import bisect_left
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from itertools import accumulate

from genoscrub.cigar import (
    ALIGNED,
    CONSUMES_QUERY,
    CONSUMES_REFERENCE,
    DEL,
    DIFF,
    HARD,
    INS,
    PAD,
    SKIP,
    SOFT,
    CigarShape,
    M,
    Operations,
    append_operation,
    differences,
    format_cigar,
    match_op,
    parse_cigar,
    query_length,
    without_padding,
)
from genoscrub.keyed_hash import KeyedHash

CLIP_MARGIN = 10
"""Bases beyond a soft clip's projection that still count as touching a window:
an indel inside the clip would shift where its bases really belong."""
SHORT_SKIP = 50
"""``--all``: a skip shorter than this is too short for an intron (the shortest human
introns are about 60 bases) and is filled like the deletion it is."""
MASKED_QUALITY = ord("#")
"""Quality 2 (``#``), Illumina's "do not trust" mark, for masked clip bases."""
BORROWED_REACH = 32
"""Bases each side of a filled deletion (before a read end given bases back) whose qualities
the added bases borrow theirs from (:func:`borrowed_qualities`). On the corpus's reads with
unbinned qualities, a quality drawn from 32 each side is found among the 8 each side of its
place, and equals the one before it, about as often as a read's own quality there is (0.71
to 0.86 against 0.69 to 0.80, and 0.12 to 0.17 against 0.11 to 0.19); drawn from 8 each
side, it is always among them, which tells it."""
QUALITY_DRAW_PURPOSE = b"sam-revert-germline: borrowed qualities"
"""What the site key is hashed with (HMAC-SHA-256) to give the key of :func:`borrowed_qualities`'
draw (:func:`quality_draw_key`): a key for this use alone. The pseudonyms hash messages that start
``id:`` or ``read:`` (filters/pseudonyms.py), which this one does not, so the draw's key is no
pseudonym, and what the draw writes says nothing of one."""
PROCESS_QUALITY_KEY = os.urandom(32)
"""The draw's key where :func:`revert_alignment`'s caller gives none: a secret of this process.
sam-revert-germline always gives one (:func:`quality_draw_key`)."""

Window = tuple[int, int]
KeepAllele = Callable[[int, bytes, bytes], bool]
"""The keep list of ``--all --keep``: ``keep(reference position, reference allele, read allele)``."""


class ClipRule(enum.Enum):
    """Which soft clips are masked."""

    NEAR_WINDOWS = "near windows"
    """A clip whose projection, plus ``CLIP_MARGIN``, touches a window
    (``--keep-clips-off-sites``: clips away from every germline site stay)."""
    DIFFERING = "differing"
    """...and any clip that differs from the reference at its projection (the
    default): where an aligner clipped, the alignment cannot tell which alleles
    the bases carry, so a clip is kept only when it carries the reference."""
    ALL = "all"
    """Every clip (``--all``, and the clips of a chimeric read whose other part
    lies on a window)."""


@dataclass(frozen=True)
class Removed:
    """Why a record cannot stay: the report key that counts it."""

    reason: str


NO_ALIGNED_BASE = Removed("reads_removed_no_aligned_base")
SKIP_AT_DELETION = Removed("reads_removed_skip_at_germline_deletion")
MOVED_TOO_FAR = Removed("reads_removed_moved_too_far")

MAX_SHIFT = 1000
"""The furthest a removed left clip moves POS (:func:`clip_start`): the output stays sorted by
holding back the records of a block's last ``MAX_SHIFT`` bases; a record that would move
further is removed (``MOVED_TOO_FAR``), and so is its mate, which learns it from ``MC``."""

LengthChange = tuple[int, int, int]
"""A germline allele that changes the length at its exact span: ``(start, end, ALT bases)``
(``germline_sites.length_change``)."""


class KeepAlleles:
    """The keep list for one contig: exact alleles that ``--all`` spares.

    Alleles are keyed as ``population.normalised`` leaves them, 0-based:
    ``(position, REF, ALT)`` with shared bases trimmed, so an insertion is
    ``(base after its anchor, b"", inserted)`` and a deletion ``(first deleted
    base, deleted, b"")``. Anything else a read carries at a keep site is not
    an exact match and is reverted (fail closed). ``kept`` counts spared
    observations for ``--report``.
    """

    def __init__(self, alleles: set[tuple[int, bytes, bytes]]) -> None:
        self.alleles = alleles
        self.mnp_lengths = sorted({len(ref) for _, ref, alt in alleles if len(ref) == len(alt) > 1})
        self.deletions = {(position, len(ref)) for position, ref, alt in alleles if ref and not alt}
        self.insertions = {(position, len(alt)) for position, ref, alt in alleles if alt and not ref}
        self.substituted = {position + offset for position, ref, alt in alleles if len(ref) == len(alt) for offset in range(len(ref))}
        self.kept = 0

    def __call__(self, position: int, reference_allele: bytes, read_allele: bytes) -> bool:
        """Whether a read's allele is on the list (an insertion comes with its anchor's position)."""
        if not reference_allele:
            position += 1
        if (position, reference_allele, read_allele.upper()) in self.alleles:
            self.kept += 1
            return True
        return False

    def spares_base(self, read: bytearray | bytes, reference: bytes, reference_start: int, offset: int) -> bool:
        """Whether the mismatch at ``offset`` of an aligned run is a kept SNV or part of a kept MNP
        the read carries whole."""
        if (reference_start + offset, reference[offset : offset + 1], bytes(read[offset : offset + 1]).upper()) in self.alleles:
            self.kept += 1
            return True
        for length in self.mnp_lengths:
            for start in range(max(0, offset - length + 1), min(offset, len(read) - length) + 1):
                key = (reference_start + start, reference[start : start + length], bytes(read[start : start + length]).upper())
                if key in self.alleles:
                    self.kept += 1
                    return True
        return False

    def keeps_deletion(self, position: int, length: int) -> bool:
        """Whether a deletion of ``length`` bases at ``position`` is listed (its bases are
        the reference's, so the CIGAR alone decides)."""
        return (position, length) in self.deletions

    def may_keep_insertion(self, point: int, length: int) -> bool:
        """Whether an insertion of ``length`` bases before ``point`` could be listed (its bases decide)."""
        return (point, length) in self.insertions

    def may_keep_base(self, position: int) -> bool:
        """Whether a base at ``position`` could be a listed SNV or part of a listed MNP (its base decides)."""
        return position in self.substituted


@dataclass
class Reverted:
    """A record's new alignment fields and what was done to them."""

    operations: Operations
    sequence: bytes
    qualities: bytes
    bases_reverted: int = 0
    indels_reverted: int = 0
    clip_bases_masked: int = 0
    clip_bases_aligned: int = 0
    """Clipped bases (soft and hard) removed where their projection touches a germline window
    (:func:`clips_aligned`); the length rule gives as many reference bases back."""
    bases_trimmed_to_length: int = 0
    """Bases taken from the right end of the aligned part so the read keeps its length (filled deletions)."""
    bases_added_to_length: int = 0
    """Reference bases added at the right end of the aligned part so the read keeps its length (removed insertions)."""
    past_contig_end: bool = False
    """Bases added past the contig's end, which has no reference there: they are ``N``."""
    position: int = -1
    """POS (0-based) once a removed left clip moved it (:func:`clip_start`); -1: where it was."""

    @property
    def changed(self) -> bool:
        return bool(self.bases_reverted or self.indels_reverted or self.clip_bases_masked or self.clip_bases_aligned)


class Windows:
    """Sorted windows with the running maximum of their ends, so a read with
    thousands of CIGAR operations over thousands of windows (a long read) asks
    each question with one bisection."""

    def __init__(self, windows: Sequence[Window]) -> None:
        self.windows = sorted(windows)
        self.starts = [start for start, _ in self.windows]
        self.reach = list(accumulate((end for _, end in self.windows), max))

    def overlapping(self, start: int, end: int) -> list[Window]:
        index = bisect_left(self.starts, end) - 1
        found = []
        while index >= 0 and self.reach[index] > start:
            if self.windows[index][1] > start:
                found.append(self.windows[index])
            index -= 1
        return found

    def touches(self, start: int, end: int) -> bool:
        index = bisect_left(self.starts, end) - 1
        return index >= 0 and self.reach[index] > start

    def covers(self, start: int, end: int) -> bool:
        """Whether one window holds all of ``[start, end)``."""
        return any(window_start <= start and end <= window_end for window_start, window_end in self.overlapping(start, end))


NO_WINDOWS = Windows(())


WINDOWS_CACHE_LIMIT = 4096
_windows_seen: dict[tuple[Window, ...], Windows] = {}
"""The indexed form of windows recently asked for: the reads over one germline site
(and their mates' MC) ask with the same windows, one after another in sorted input."""


def as_windows(windows: Sequence[Window] | Windows | None) -> Windows:
    if not windows:
        return NO_WINDOWS
    if isinstance(windows, Windows):
        return windows
    key = tuple(windows)
    found = _windows_seen.get(key)
    if found is None:
        if len(_windows_seen) >= WINDOWS_CACHE_LIMIT:
            _windows_seen.clear()
        found = _windows_seen[key] = Windows(key)
    return found


# --- what a CIGAR operation becomes: the same for a record and for its mate's MC ---------------


def insertion_reverted(windows: Windows, point: int, length: int) -> bool:
    """Whether an insertion of ``length`` bases at ``point`` goes: the ``length``
    bases each side of it touch a window."""
    return windows.touches(point - length, point + length)


def deletion_reverted(windows: Windows, position: int, length: int) -> bool:
    """Whether a deletion of ``[position, position + length)`` is filled: it, or the ``length``
    bases each side of it, touch a window (an aligner may shift a read's first or last bases
    past the allele with a deletion beside it)."""
    return windows.touches(position - length, position + 2 * length)


def skip_hides_deletion(deletions: Windows, position: int, length: int) -> bool:
    """Whether either edge of a skip ``[position, position + length)`` lies in a germline deletion's window."""
    return deletions.touches(position - 1, position + 1) or deletions.touches(position + length - 1, position + length + 1)


def skip_is_deletion(deletions: Windows, position: int, length: int, short_skip: int) -> bool:
    """Whether a skip ``[position, position + length)`` is filled like a deletion: shorter than
    ``short_skip`` (``--all``: too short for an intron), or lying wholly in one germline
    deletion's window, where it is that deletion written as an intron (an RNA aligner writes a
    gap of 21 bases or more so). Removing such a read instead would leave its mate, or a dip in
    depth, only where the person carries the deletion."""
    return length < short_skip or deletions.covers(position, position + length)


# --- one record ---------------------------------------------------------------------------------


def _revert_aligned(read: bytearray, reference: bytes, reference_start: int, windows: Windows, keep: KeepAllele | None) -> int:
    """Set the bases of an aligned run that lie in a window to the reference; count the bases changed.

    ``read`` holds the run's bases and starts at reference position ``reference_start``.
    A stretch equal to the reference but for case is left as it is.
    """
    changed = 0
    run_end = reference_start + len(read)
    for window_start, window_end in windows.overlapping(reference_start, run_end):
        start = max(window_start, reference_start) - reference_start
        end = min(window_end, run_end) - reference_start
        if start >= end:
            continue
        expected = reference[start:end]
        if read[start:end].upper() == expected:
            continue
        for offset in differences(bytes(read[start:end]), expected):
            offset += start
            base = read[offset]
            target = expected[offset - start]
            if keep is not None and _spared(keep, read, reference, reference_start, offset, target, base):
                continue
            read[offset] = target
            changed += 1
    return changed


def _spared(keep: KeepAllele, read: bytearray, reference: bytes, reference_start: int, offset: int, target: int, base: int) -> bool:
    """A keep-list decision for one mismatching base (MNPs need the whole run)."""
    if isinstance(keep, KeepAlleles):
        return keep.spares_base(read, reference, reference_start, offset)
    return keep(reference_start + offset, bytes((target,)), bytes((base,)))


def _append_mismatches(operations: Operations, read: bytes | None, reference: bytes, position: int, windows: Windows, match: int) -> None:
    """An ``X`` run: a base in a window that now equals the reference is spelled ``match``
    (``cigar.match_op``; every such base when the record has no sequence); the others stay ``X``."""
    for offset in range(len(reference)):
        in_window = windows.touches(position + offset, position + offset + 1)
        same = in_window and (read is None or (read[offset : offset + 1].upper() == reference[offset : offset + 1]))
        append_operation(operations, match if same else DIFF, 1)


def clip_differs(clip: bytes, reference: bytes, start: int, reference_offset: int) -> bool:
    """Whether a clip's bases differ from the reference at its projection ``[start, start + len)``
    (an ``N`` in the clip says nothing; no reference there counts as a difference).
    ``reference`` holds the bases from ``reference_offset`` on."""
    first = start - reference_offset
    if first >= 0 and clip.upper() == reference[first : first + len(clip)]:
        return False
    for index, base in enumerate(clip.upper()):
        if base == 78:
            continue
        at = first + index
        if at < 0 or at >= len(reference) or reference[at] != base:
            return True
    return False


def quality_draw_key(site_key: bytes | None) -> bytes:
    """The key of :func:`borrowed_qualities`' draw: HMAC-SHA-256 of ``QUALITY_DRAW_PURPOSE`` with
    the site key (``--key-file``), so a run with the key draws what every other run with it draws
    (the same bytes out); without one, a secret of this run (``os.urandom``): nobody can redo the
    draw, and nothing repeats it."""
    if site_key is None:
        return os.urandom(32)
    return hmac.digest(site_key, QUALITY_DRAW_PURPOSE, "sha256")


def revert_alignment(
    position: int,
    operations: Sequence[tuple[int, int]],
    sequence: bytes,
    qualities: bytes,
    reference: bytes,
    reference_offset: int,
    windows: Sequence[Window] | Windows,
    clips: ClipRule = ClipRule.NEAR_WINDOWS,
    keep: KeepAllele | None = None,
    deletions: Sequence[Window] | Windows | None = None,
    short_skip: int = 0,
    clip_windows: Sequence[Window] | Windows | None = None,
    changes: Sequence[LengthChange] = (),
    quality_key: bytes | None = None,
    *,
    match: int | None = None,
    query_bases: int | None = None,
) -> Reverted | Removed:
    """Revert every difference from the reference that lies in a window, keeping the read's length.

    First the clips whose projection touches one of ``clip_windows`` (the germline windows;
    None: no clip is removed) go, bases and qualities (:func:`clips_aligned`). The rules
    (:func:`revert_until_settled`) fill deletions and remove insertions, so they change
    how many bases a read has: in a file of 150-base reads, a read of 160 at a germline site would
    say "10-base deletion here". So the read then keeps its number of bases (:func:`length_kept`),
    its hard clips removed counted among them:
    the bases a filled deletion added are taken from the right end of the aligned part (POS stays;
    the end of the alignment moves left), and the bases a removed insertion or clip took are
    given back there as the reference bases that follow the alignment's end, with qualities borrowed
    from the bases before them (:func:`borrowed_qualities`, as a filled deletion's), ``N`` past the
    contig's end (``147M3S`` ending at a deletion becomes ``150M``); a removed left clip's bases are
    given back before POS instead, which moves (:func:`clip_start`, ``3S147M`` starting after a
    deletion becomes ``150M`` starting before it; ``position`` of the result). Kept soft clips keep
    their lengths; a right clip, now beside another stretch of reference, is judged again there
    (removed in turn when it touches a window there). ``reference`` must then reach the insertions'
    and clips' bases further, and from where a moved read starts (the caller fetches them).
    :func:`rewrite_mate_cigar` applies the same rules from the CIGAR alone, so ``MC`` still equals
    the mate's CIGAR. ``quality_key`` keys the draw of the qualities the added bases get
    (:func:`quality_draw_key`; None: ``PROCESS_QUALITY_KEY``). ``match`` and ``query_bases``, where
    the caller knows them (a ``CigarShape``'s ``match_op`` and ``query_length``), are
    ``match_op(operations)`` and ``query_length(operations)``, not counted again.
    """
    if quality_key is None:
        quality_key = PROCESS_QUALITY_KEY
    target_length = query_length(operations) if query_bases is None else query_bases
    if match is None:
        match = match_op(operations)
    aligned_clips = 0
    lone_star = False  # the one quality left of a clipped read is "*" (Phred 9), not an absent QUAL
    start = original_position = position
    if clip_windows is not None:
        clip_windows = as_windows(clip_windows)
        unclipped, left_soft, right_soft, hard = clips_aligned(position, operations, clip_windows)
        aligned_clips = left_soft + right_soft + hard
        if aligned_clips:
            leading = left_clip_removed(operations, unclipped)
            operations, target_length = unclipped, target_length + hard
            # QUAL is absent when it is "*" as given: one quality left of a clipped read can be "*" (Phred 9) too
            has_sequence, has_qualities = sequence != b"*", qualities != b"*"
            clip_qualities = qualities[:left_soft] if has_qualities else b""
            if has_sequence:
                sequence = sequence[left_soft : len(sequence) - right_soft]
            if has_qualities:
                qualities = qualities[left_soft : len(qualities) - right_soft]
            if has_qualities and qualities == b"*" and not leading:  # "+" stands in for it until the end
                lone_star, qualities = True, b"+"
            if leading:
                start = clip_start(position, leading, changes)
                if position - start > MAX_SHIFT:
                    return MOVED_TOO_FAR
                operations = with_leading_match(operations, match, position - start)
                if has_sequence:
                    sequence = reference[start - reference_offset : position - reference_offset] + sequence
                if has_qualities:
                    qualities = prefix_qualities(clip_qualities, qualities, position - start, quality_key) + qualities
                position = start
    result = revert_until_settled(
        position, operations, sequence, qualities, reference, reference_offset, windows, clips, keep, deletions, short_skip,
        quality_key, match=match,
    )  # removing clips, or adding a leading run of ``match``, leaves ``match_op`` as it was
    if not isinstance(result, Reverted):
        return result
    result.clip_bases_aligned = aligned_clips
    if not result.indels_reverted and not aligned_clips:
        return result
    delta = query_length(result.operations) - target_length
    if delta:
        fitted = _with_length_kept(result, position, delta, match, reference, reference_offset, quality_key)
        if fitted is None:
            return NO_ALIGNED_BASE
        reference = fitted
    if isinstance(clip_windows, Windows):  # the right clip lies beside another stretch of reference now
        unclipped, left_soft, right_soft, hard = clips_aligned(position, result.operations, clip_windows)
        if right_soft or hard:
            if result.sequence != b"*":
                result.sequence = result.sequence[: len(result.sequence) - right_soft]
            if result.qualities != b"*":
                result.qualities = result.qualities[: len(result.qualities) - right_soft]
            result.operations = unclipped
            result.clip_bases_aligned += right_soft + hard
            fitted = _with_length_kept(result, position, -(right_soft + hard), match, reference, reference_offset, quality_key)
            if fitted is None:
                return NO_ALIGNED_BASE
            reference = fitted
    if result.sequence != b"*" and _right_clip(result.operations):
        again = revert_until_settled(
            position, result.operations, result.sequence, result.qualities, reference, reference_offset, windows, clips, keep,
            deletions, short_skip, quality_key,
        )  # the right clip lies beside another stretch of reference now: judged there
        if not isinstance(again, Reverted):
            return again
        result.sequence, result.qualities = again.sequence, again.qualities
        result.bases_reverted += again.bases_reverted
        result.clip_bases_masked += again.clip_bases_masked
    if start != original_position:
        result.position = start
    if lone_star and result.qualities != b"*":  # every quality came from that one, borrowed or its own
        result.qualities = result.qualities.replace(b"+", b"*")
    return result


def prefix_qualities(clip_qualities: bytes, qualities: bytes, count: int, quality_key: bytes) -> bytes:
    """Qualities of the ``count`` reference bases a moved read starts with (:func:`clip_start`):
    the removed left clip's own, the last ``count`` of them, and where the read crossed a
    deletion more than it had, some borrowed from its first bases (:func:`borrowed_qualities`)."""
    if count <= len(clip_qualities):
        return clip_qualities[len(clip_qualities) - count :]
    return clip_qualities + borrowed_qualities(qualities, 0, BORROWED_REACH, count - len(clip_qualities), quality_key)


def with_leading_match(operations: Sequence[tuple[int, int]], match: int, count: int) -> Operations:
    """``operations`` after ``count`` aligned bases of ``match`` (merged with a first one like it)."""
    merged: Operations = []
    append_operation(merged, match, count)
    for op, length in operations:
        append_operation(merged, op, length)
    return merged


def left_clip_removed(operations: Sequence[tuple[int, int]], unclipped: Sequence[tuple[int, int]]) -> int:
    """The bases of the left clip (soft and hard) :func:`clips_aligned` removed from ``operations``."""
    if not operations or operations[0][0] not in (SOFT, HARD) or (unclipped and unclipped[0][0] in (SOFT, HARD)):
        return 0
    leading = 0
    for op, length in operations:
        if op not in (SOFT, HARD):
            break
        leading += length
    return leading


def clip_start(position: int, leading: int, changes: Sequence[LengthChange]) -> int:
    """Where a read starts once its removed left clip of ``leading`` bases (soft and hard) is
    aligned before POS, as the bases of the carrier's haplotype: across every germline allele
    that changes the length it reaches (``changes``, the nearest end first), so a carrier's
    ``3S147M`` at 1001 after a deletion of 991-1000 starts at 988, where a non-carrier's read of
    the fragment starts, and one of an SNV or with no germline list (``--all``) ``leading`` bases
    before POS. A clip that starts inside an allele's bases (a read that begins in an inserted
    sequence, ``16S84M`` at the point of a 60-base insertion) has no place in a non-carrier's
    genome: it is placed as many bases before the allele's end as are left of it, as at an SNV,
    so such reads spread over the bases before the point instead of all starting at it. The
    same from POS and the CIGAR alone: a record and its mate's ``MC`` agree."""
    cursor, remaining = position, leading
    for span_start, span_end, bases in changes:
        if span_end > cursor:
            continue  # another allele of a site already crossed
        if cursor - span_end >= remaining:
            break
        remaining -= cursor - span_end
        if bases >= remaining:  # the clip starts in the allele's bases (an insertion): spread, not piled at the point
            return max(0, span_end - remaining)
        remaining -= bases
        cursor = span_start
    return max(0, cursor - remaining)


def _with_length_kept(
    result: Reverted, position: int, delta: int, match: int, reference: bytes, reference_offset: int, quality_key: bytes
) -> bytes | None:
    """The length rule on ``result`` (``delta`` query bases longer than the read was): its CIGAR,
    SEQ and QUAL fitted in place. Returns ``reference``, with ``N`` added past the contig's end
    where the bases given back lie there, or None when no aligned base is left."""
    fitted = length_kept(result.operations, delta, match)
    if fitted is None:
        return None
    result.operations, point = fitted
    has_sequence = result.sequence != b"*"
    if delta > 0:
        if has_sequence:
            result.sequence = result.sequence[:point] + result.sequence[point + delta :]
            result.bases_trimmed_to_length += delta
            if result.qualities != b"*":
                result.qualities = result.qualities[:point] + result.qualities[point + delta :]
    else:
        added = -delta
        start = position + sum(length for op, length in result.operations if op in CONSUMES_REFERENCE) - added - reference_offset
        missing = start + added - len(reference)
        if missing > 0:
            reference += b"N" * missing  # no reference past the contig's end: N, as a read that runs past it
            result.past_contig_end = True
        if has_sequence:
            result.sequence = result.sequence[:point] + reference[start : start + added] + result.sequence[point:]
            result.bases_added_to_length += added
            if result.qualities != b"*":
                padding = borrowed_qualities(result.qualities, point - BORROWED_REACH, point, added, quality_key)
                result.qualities = result.qualities[:point] + padding + result.qualities[point:]
    return reference


def clips_aligned(position: int, operations: Sequence[tuple[int, int]], clip_windows: Windows) -> tuple[Operations, int, int, int]:
    """``operations`` without the clips whose projection onto the reference, plus ``CLIP_MARGIN``,
    touches a window: the clip at each end of the read (its soft and hard clips together,
    ``5H3S``, projected beside the alignment as if the aligner had not cut them) goes whole.
    Returns the new operations, the soft-clipped bases removed at the left and at the right, and
    the hard-clipped ones removed (the read lost them: the length rule gives them back as
    reference bases). The same where POS and the CIGAR are the same: a record and its mate's
    ``MC`` agree."""
    if not operations or (operations[0][0] not in (SOFT, HARD) and operations[-1][0] not in (SOFT, HARD)):
        return list(operations), 0, 0, 0  # no clip: the common read
    first, last = 0, len(operations)
    while first < last and operations[first][0] in (SOFT, HARD):
        first += 1
    while last > first and operations[last - 1][0] in (SOFT, HARD):
        last -= 1
    if first == last or (not first and last == len(operations)):
        return list(operations), 0, 0, 0
    kept: Operations = []
    left_soft = right_soft = hard = 0
    leading = sum(length for _, length in operations[:first])
    if leading and clip_windows.touches(position - leading - CLIP_MARGIN, position):
        left_soft = sum(length for op, length in operations[:first] if op == SOFT)
        hard += leading - left_soft
    else:
        kept.extend(operations[:first])
    kept.extend(operations[first:last])
    end = position + sum(length for op, length in operations[first:last] if op in CONSUMES_REFERENCE)
    trailing = sum(length for _, length in operations[last:])
    if trailing and clip_windows.touches(end, end + trailing + CLIP_MARGIN):
        right_soft = sum(length for op, length in operations[last:] if op == SOFT)
        hard += trailing - right_soft
    else:
        kept.extend(operations[last:])
    return kept, left_soft, right_soft, hard




def _right_clip(operations: Sequence[tuple[int, int]]) -> bool:
    """Whether an alignment ends in a soft clip (hard clips aside)."""
    for op, _ in reversed(operations):
        if op != HARD:
            return op == SOFT
    return False


def length_kept(operations: Sequence[tuple[int, int]], delta: int, fill: int) -> tuple[Operations, int] | None:
    """The length rule on a reverted CIGAR ``delta`` query bases longer than the record's was:
    ``delta`` bases taken from the right end of the aligned part (a trailing ``D``, ``N`` or ``P``
    left with no base after it goes, so does an ``I`` emptied), or ``-delta`` bases of ``fill``
    (``M``, or ``=`` in a record spelled with ``=``/``X``) added there; soft and hard clips stay.
    Returns the new operations and the query offset where the bases were taken or go, or None
    when no aligned base is left."""
    tail_start = len(operations)
    while tail_start and operations[tail_start - 1][0] in (SOFT, HARD):
        tail_start -= 1
    if tail_start == 0:
        return None
    body: Operations = list(operations[:tail_start])
    if delta > 0:
        remaining = delta
        while remaining:
            if not body:
                return None
            op, length = body.pop()
            if op in CONSUMES_QUERY:
                if length > remaining:
                    body.append((op, length - remaining))
                    remaining = 0
                else:
                    remaining -= length
        while body and body[-1][0] in (DEL, SKIP, PAD):
            body.pop()
        if not _has_aligned(body):
            return None
        return body + list(operations[tail_start:]), query_length(body)
    point = query_length(body)
    append_operation(body, fill, -delta)
    return body + list(operations[tail_start:]), point


def revert_until_settled(
    position: int,
    operations: Sequence[tuple[int, int]],
    sequence: bytes,
    qualities: bytes,
    reference: bytes,
    reference_offset: int,
    windows: Sequence[Window] | Windows,
    clips: ClipRule = ClipRule.NEAR_WINDOWS,
    keep: KeepAllele | None = None,
    deletions: Sequence[Window] | Windows | None = None,
    short_skip: int = 0,
    quality_key: bytes | None = None,
    *,
    match: int | None = None,
) -> Reverted | Removed:
    """Revert every difference from the reference that lies in a window.

    ``reference`` is the uppercase reference from ``reference_offset`` on and
    covers at least the aligned span (and the clips' projections, for
    ``ClipRule.DIFFERING``; what it lacks there counts as different).
    ``sequence``/``qualities`` may be ``*`` (secondary records): then only the
    CIGAR is rewritten. ``keep`` (tumour-only mode) spares exact alleles;
    ``deletions`` are the windows of germline deletions, for the skip rule;
    a skip shorter than ``short_skip`` is filled like a deletion (``--all``).
    Returns :data:`NO_ALIGNED_BASE` or :data:`SKIP_AT_DELETION` when the record must go.
    The read's length is not kept here (:func:`revert_alignment` does that). ``quality_key`` as
    :func:`revert_alignment` takes it.

    An indel reverted can join the deletions beside it into a longer one (``1D3I1D`` becomes
    ``2D``), whose reach under ``deletion_reverted`` is longer than either part's. So the rules
    are applied again to what they wrote until nothing changes: the result holds no indel the
    rules would revert, and reverting it again changes nothing (``rewrite_mate_cigar`` does
    the same from the CIGAR alone). ``match``, where the caller knows it, is ``match_op(operations)``.
    """
    if (
        len(operations) == 1 and operations[0][0] == M and keep is None and sequence != b"*"
        and not isinstance(windows, Windows) and reference_offset <= position
    ):
        return revert_single_match(position, operations[0][1], sequence, qualities, reference, reference_offset, windows)
    if quality_key is None:
        quality_key = PROCESS_QUALITY_KEY
    windows = as_windows(windows)
    deletion_windows = as_windows(deletions)
    has_sequence = sequence != b"*"
    has_qualities = qualities != b"*" and has_sequence
    new_sequence = bytearray()
    new_qualities = bytearray()
    new_operations: Operations = []
    if match is None:
        match = match_op(operations)
    result = Reverted(new_operations, b"", b"")
    reference_position = position
    query_position = 0
    padded = False
    for index, (op, length) in enumerate(operations):
        if op in ALIGNED and op != DIFF and not windows.touches(reference_position, reference_position + length):
            if has_sequence:  # no window over the run: its bases stay (the common run of an indel read)
                new_sequence += sequence[query_position : query_position + length]
                if has_qualities:
                    new_qualities += qualities[query_position : query_position + length]
            append_operation(new_operations, op, length)
            reference_position += length
            query_position += length
        elif op in ALIGNED:
            start = reference_position - reference_offset
            run_reference = reference[start : start + length]
            run: bytearray | None = None
            if has_sequence:
                run = bytearray(sequence[query_position : query_position + length])
                result.bases_reverted += _revert_aligned(run, run_reference, reference_position, windows, keep)
                new_sequence += run
                if has_qualities:
                    new_qualities += qualities[query_position : query_position + length]
            if op == DIFF:
                read = bytes(run) if run is not None else None
                _append_mismatches(new_operations, read, run_reference, reference_position, windows, match)
            else:
                append_operation(new_operations, op, length)
            reference_position += length
            query_position += length
        elif op == INS:
            inserted = sequence[query_position : query_position + length] if has_sequence else b""
            reverted = insertion_reverted(windows, reference_position, length)
            if reverted and not (keep is not None and keep(reference_position - 1, b"", inserted)):
                result.indels_reverted += 1
            else:
                if has_sequence:
                    new_sequence += inserted
                    if has_qualities:
                        new_qualities += qualities[query_position : query_position + length]
                append_operation(new_operations, INS, length)
            query_position += length
        elif op == DEL or (op == SKIP and skip_is_deletion(deletion_windows, reference_position, length, short_skip)):
            start = reference_position - reference_offset
            deleted = reference[start : start + length]
            reverted = op == SKIP or deletion_reverted(windows, reference_position, length)
            if reverted and not (keep is not None and keep(reference_position, deleted, b"")):
                result.indels_reverted += 1
                if has_sequence:
                    new_sequence += deleted
                    if has_qualities:
                        near = query_position - BORROWED_REACH, query_position + BORROWED_REACH
                        new_qualities += borrowed_qualities(qualities, *near, length, quality_key)
                append_operation(new_operations, match, length)
            else:
                append_operation(new_operations, DEL, length)
            reference_position += length
        elif op == SKIP:
            if skip_hides_deletion(deletion_windows, reference_position, length):
                return SKIP_AT_DELETION
            append_operation(new_operations, SKIP, length)
            reference_position += length
        elif op == SOFT:
            if has_sequence:
                clip = sequence[query_position : query_position + length]
                leading = all(kind == HARD for kind, _ in operations[:index])  # the first operation but hard clips
                start = reference_position - length if leading else reference_position
                if leading:
                    projection = (reference_position - length - CLIP_MARGIN, reference_position)
                else:
                    projection = (reference_position, reference_position + length + CLIP_MARGIN)
                mask = (
                    clips is ClipRule.ALL
                    or windows.touches(*projection)
                    or (clips is ClipRule.DIFFERING and clip_differs(clip, reference, start, reference_offset))
                )
                if mask and clip.strip(b"N"):
                    result.clip_bases_masked += length - clip.count(b"N")
                    new_sequence += b"N" * length
                    if has_qualities:
                        new_qualities += bytes((MASKED_QUALITY,)) * length
                else:
                    new_sequence += clip
                    if has_qualities:
                        new_qualities += qualities[query_position : query_position + length]
            append_operation(new_operations, SOFT, length)
            query_position += length
        else:  # H, P
            padded = padded or op == PAD
            append_operation(new_operations, op, length)
    if not _has_aligned(new_operations):
        return NO_ALIGNED_BASE
    if result.indels_reverted and padded:  # without a P, every run was merged as it was appended
        new_operations[:] = without_padding(new_operations)
    result.sequence = bytes(new_sequence) if has_sequence else b"*"
    result.qualities = bytes(new_qualities) if has_qualities else b"*"
    if result.indels_reverted and _may_revert_again(new_operations, short_skip):  # until nothing changes (above)
        again = revert_until_settled(
            position, new_operations, result.sequence, result.qualities, reference, reference_offset, windows, clips, keep,
            deletion_windows, short_skip, quality_key,
        )  # fmt: skip
        if not isinstance(again, Reverted):
            return again
        if again.changed:
            again.bases_reverted += result.bases_reverted
            again.indels_reverted += result.indels_reverted
            again.clip_bases_masked += result.clip_bases_masked
            return again
    return result


def _may_revert_again(operations: Operations, short_skip: int) -> bool:
    """Whether an alignment the rules wrote still holds an indel (or a short skip) they may revert."""
    for op, length in operations:  # noqa: SIM110 - a loop: any() of a generator costs more over a few operations
        if op in (INS, DEL) or (op == SKIP and length < short_skip):
            return True
    return False


def _has_aligned(operations: Sequence[tuple[int, int]]) -> bool:
    """Whether an alignment holds an aligned base (``M``, ``=`` or ``X``)."""
    for op, _ in operations:  # noqa: SIM110 - a loop, as _may_revert_again
        if op in ALIGNED:
            return True
    return False


def revert_single_match(
    position: int, length: int, sequence: bytes, qualities: bytes, reference: bytes, reference_offset: int, windows: Sequence[Window]
) -> Reverted:
    """The common case, a CIGAR of one ``M`` run: the same rules as the general
    walk (the property tests check they agree), without building it."""
    start = position - reference_offset
    new_sequence, reverted = revert_match_run(position, sequence, reference[start : start + length], windows)
    return Reverted([(M, length)], new_sequence, qualities, bases_reverted=reverted)


def revert_match_run(position: int, sequence: bytes, expected: bytes, windows: Sequence[Window]) -> tuple[bytes, int]:
    """One ``M`` run at ``position`` (its bases ``sequence``, the reference under it
    ``expected``) with every base in a window set to the reference: the new bases and
    how many changed. A stretch equal to the reference but for case stays as it is."""
    reverted = 0
    length = len(sequence)
    for window_start, window_end in windows:
        first = max(window_start, position) - position
        last = min(window_end, position + length) - position
        if first >= last:
            continue
        piece, target = sequence[first:last], expected[first:last]
        if piece == target or piece.upper() == target:
            continue
        reverted += 1 if last - first == 1 else len(differences(piece, target))
        sequence = sequence[:first] + target + sequence[last:]
    return sequence, reverted


def borrowed_qualities(qualities: bytes, start: int, end: int, count: int, key: bytes) -> bytes:
    """Qualities for ``count`` bases a reverted indel adds to a read (a filled deletion's, or those
    given back at the read's end for a removed insertion): each is one of the read's own
    ``qualities[start:end]`` (bases beside where they go), drawn by HMAC-SHA-256 with ``key``
    (:func:`quality_draw_key`) of the place and the read's qualities, so the same read gets the
    same ones on every path, and on every run with the same key.

    One value for all of them (the lower neighbour, before) made a run of equal qualities that
    only the carriers of the indel had: with unbinned qualities (HiFi, ONT, HiSeq 2000/2500, MGI)
    they could be read off QUAL. Values drawn from the bases around repeat no more than the
    read's own do (``BORROWED_REACH``), and follow its quality where it is (its cycle, its context).
    Every other base keeps its own quality: QUAL kept in cycle order instead would move every
    quality after the indel off its base, which data whose quality follows the bases (a
    long read's homopolymers) shows over the whole rest of the read.

    The draw is keyed because its input is in the output: drawn by an unkeyed function (a CRC-32 of
    QUAL, before), a recipient dropped a read's last qualities, drew again from the rest and found
    the same values exactly where a removed insertion had given bases back, a carrier's read.
    Each draw is the next byte of the HMAC (then of SHAKE-256 of it, where a long deletion needs
    more), its low bits as many as the pool's size has, kept when below the size: a uniform
    choice, as ``randrange`` makes it (a pool of more than 255 takes two bytes a draw)."""
    pool = qualities[max(0, start) : max(0, end)]
    if not pool:
        return bytes((MASKED_QUALITY,)) * count
    seed = keyed_sha256(key).digest(max(0, start).to_bytes(8, "little") + qualities)
    size = len(pool)
    mask = (1 << size.bit_length()) - 1
    step = (size.bit_length() + 7) // 8  # bytes a draw: 1 for every pool of BORROWED_REACH each side
    stream = seed
    if 2 * count * step > len(seed):  # the draws may need more: SHAKE-256 of the HMAC, after it
        stream += hashlib.shake_256(seed).digest(2 * count * step)
    while True:
        if step == 1:  # pool[byte & mask] of each byte whose draw is below the size, by one translate
            chosen = stream.translate((pool + bytes(mask + 1 - size)) * (256 // (mask + 1)), _draws_past(size))
        else:
            draws = [int.from_bytes(stream[at : at + step], "little") & mask for at in range(0, len(stream) - step + 1, step)]
            chosen = bytes([pool[draw] for draw in draws if draw < size])
        if len(chosen) >= count:
            return chosen[:count]
        stream = seed + hashlib.shake_256(seed).digest(2 * (len(stream) - len(seed)) + 2 * count * step)


@lru_cache(maxsize=8)
def keyed_sha256(key: bytes) -> KeyedHash:
    """HMAC-SHA-256 under ``key`` (``hmac.digest``'s 32 bytes), its key schedule done once a key."""
    return KeyedHash(key, b"")


@lru_cache(maxsize=256)
def _draws_past(size: int) -> bytes:
    """The bytes whose draw (the byte's low bits, as many as ``size`` has) is ``size`` or more:
    :func:`borrowed_qualities` drops them."""
    mask = (1 << size.bit_length()) - 1
    return bytes(byte for byte in range(256) if byte & mask >= size)


# --- the mate, from its MC tag ------------------------------------------------------------------


def rewrite_mate_cigar(
    position: int,
    mate_cigar: bytes,
    windows: Sequence[Window] | Windows,
    shape: CigarShape | None = None,
    keep: KeepAlleles | None = None,
    deletions: Sequence[Window] | Windows | None = None,
    short_skip: int = 0,
    clip_windows: Sequence[Window] | Windows | None = None,
    changes: Sequence[LengthChange] = (),
) -> bytes | Removed | None:
    """What the mate's CIGAR becomes under the same rules, from its MC tag alone: its clips
    near ``clip_windows`` removed (:func:`clips_aligned`; a left clip's bases aligned before POS,
    which moves as :func:`moved_start` says), its length kept as
    :func:`revert_alignment` keeps it (:func:`length_kept`, from the CIGAR alone too), and its
    right clip judged again where the length rule moved it. Returns what
    :func:`mate_cigar_settled` returns."""
    shape = shape or parse_cigar(mate_cigar)
    if shape is None:
        return mate_cigar
    target_length = shape.query_length
    unclipped_cigar, unclipped_shape = mate_cigar, shape
    if clip_windows is not None:
        clip_windows = as_windows(clip_windows)
        unclipped, left_soft, right_soft, hard = clips_aligned(position, shape.operations, clip_windows)
        if left_soft or right_soft or hard:
            target_length += hard
            if leading := left_clip_removed(shape.operations, unclipped):
                start = clip_start(position, leading, changes)
                if position - start > MAX_SHIFT:
                    return MOVED_TOO_FAR
                unclipped = with_leading_match(unclipped, shape.match_op, position - start)
                position = start
            unclipped_cigar = format_cigar(unclipped)
            unclipped_shape = _cached_shape(unclipped_cigar) or shape
    new_cigar = mate_cigar_settled(position, unclipped_cigar, windows, unclipped_shape, keep, deletions, short_skip)
    if not isinstance(new_cigar, bytes) or new_cigar == mate_cigar:
        return new_cigar
    fitted = cigar_of_length(new_cigar, target_length, shape.match_op)
    if fitted is None:
        return NO_ALIGNED_BASE
    if isinstance(clip_windows, Windows) and fitted != mate_cigar:
        fitted_shape = _cached_shape(fitted)
        assert fitted_shape is not None
        unclipped, _, right_soft, hard = clips_aligned(position, fitted_shape.operations, clip_windows)
        if right_soft or hard:
            again = length_kept(unclipped, -(right_soft + hard), shape.match_op)
            if again is None:
                return NO_ALIGNED_BASE
            fitted = format_cigar(again[0])
    return fitted


def moved_start(
    position: int,
    operations: Sequence[tuple[int, int]],
    clip_windows: Sequence[Window] | Windows | None,
    changes: Sequence[LengthChange] = (),
) -> int:
    """Where the mate at ``position`` with CIGAR ``operations`` (its ``MC``) starts once its left
    clip is removed (:func:`clip_start`; ``position`` where none is), as its own record computes it."""
    if clip_windows is None or not operations or operations[0][0] not in (SOFT, HARD):
        return position
    unclipped, _, _, _ = clips_aligned(position, operations, as_windows(clip_windows))
    leading = left_clip_removed(operations, unclipped)
    return clip_start(position, leading, changes) if leading else position


_cached_shape = lru_cache(maxsize=4096)(parse_cigar)
"""``parse_cigar`` of the CIGARs a mate's ``MC`` becomes, which recur across a file's reads."""


@lru_cache(maxsize=4096)
def cigar_of_length(cigar: bytes, query_length: int, match: int) -> bytes | None:
    """``cigar`` (a reverted mate CIGAR) brought to ``query_length`` bases by :func:`length_kept`;
    None when no aligned base is left. A pure function of its arguments, cached: a mate CIGAR
    and its reverted form recur across a file's reads (parsing and formatting them again was
    most of the mate's cost)."""
    shape = parse_cigar(cigar)
    assert shape is not None
    delta = shape.query_length - query_length
    if not delta:
        return cigar
    fitted = length_kept(shape.operations, delta, match)
    return None if fitted is None else format_cigar(fitted[0])


def mate_cigar_settled(
    position: int,
    mate_cigar: bytes,
    windows: Sequence[Window] | Windows,
    shape: CigarShape | None = None,
    keep: KeepAlleles | None = None,
    deletions: Sequence[Window] | Windows | None = None,
    short_skip: int = 0,
) -> bytes | Removed | None:
    """What the mate's CIGAR becomes under the rules (its length not yet kept), from its MC tag alone.

    Which operations change depends only on the CIGAR, POS and the windows, never
    on the bases, so a record can update ``MC`` without seeing its mate (no second
    pass). Returns the new CIGAR, a :class:`Removed` when the mate will be
    removed, or None when it cannot be told: a keep-list allele the mate's bases
    may carry (an insertion of a listed length at a listed point, an ``X`` at a
    listed SNV or MNP).
    """
    shape = shape or parse_cigar(mate_cigar)
    if shape is None:
        return mate_cigar
    windows = as_windows(windows)
    deletion_windows = as_windows(deletions)
    operations: Operations = []
    reference_position = position
    reverted = padded = False
    for op, length in shape.operations:
        if op == INS:
            if insertion_reverted(windows, reference_position, length):
                if keep is not None and keep.may_keep_insertion(reference_position, length):
                    return None
                reverted = True
            else:
                append_operation(operations, INS, length)
        elif op == DEL or (op == SKIP and skip_is_deletion(deletion_windows, reference_position, length, short_skip)):
            filled = op == SKIP or deletion_reverted(windows, reference_position, length)
            if filled and keep is not None and keep.keeps_deletion(reference_position, length):
                filled = False
            reverted = reverted or filled
            append_operation(operations, shape.match_op if filled else DEL, length)
            reference_position += length
        elif op == SKIP:
            if skip_hides_deletion(deletion_windows, reference_position, length):
                return SKIP_AT_DELETION
            append_operation(operations, SKIP, length)
            reference_position += length
        elif op == DIFF:
            for offset in range(length):
                base = reference_position + offset
                in_window = windows.touches(base, base + 1)
                if in_window and keep is not None and keep.may_keep_base(base):
                    return None
                append_operation(operations, shape.match_op if in_window else DIFF, 1)
            reference_position += length
        else:
            padded = padded or op == PAD
            append_operation(operations, op, length)
            if op in CONSUMES_REFERENCE:
                reference_position += length
    if not _has_aligned(operations):
        return NO_ALIGNED_BASE
    if reverted:
        if padded:  # without a P, every run was merged as it was appended
            operations = without_padding(operations)
        new_cigar = format_cigar(operations)
        if new_cigar != mate_cigar and _may_revert_again(operations, short_skip):  # as revert_alignment: until nothing changes
            return mate_cigar_settled(position, new_cigar, windows, None, keep, deletion_windows, short_skip)
        return new_cigar
    return format_cigar(operations)
