"""sam-revert-germline in bulk: a block of SAM records in, the same block out.

Most records are never parsed beyond FLAG, RNAME, POS and CIGAR: the block's
columns are located with numpy (filters/sam_columns.py), the reads whose spans
(soft clips projected) touch a revert window and those that carry a tag to fix
are found for the whole block at once, and every other record passes as a slice
of the block, the same bytes. The common record that does need work, one ``M``
run, is rewritten without being split into fields; with ``--all`` its bases are
compared with the reference and its line rebuilt by ``scan.sam_revert_matches``
(C, or a numpy twin where it is not built); with ``-v`` the windows of every such
read are listed for the block at once (``SiteTable.windows_of_spans``) and
``scan.sam_revert_windows`` reverts them and rebuilds its line (C, or a Python twin);
the block is spliced by ``scan.splice_lines``. FLAG, POS and the names of the
optional fields are read by C loops too (``sam_columns.ReadPlaces``, ``tag_lines``).
Anything else goes to the one-record path (filters/record_reverter.py), which
every bulk rule must agree with: ``GENOSCRUB_ONE_BY_ONE=1`` sends every record
there, and the tests compare the two.
"""

from __future__ import annotations

import re
import tempfile
from bisect import bisect_left, bisect_right, insort
from collections import Counter
from collections.abc import Iterable, Iterator
from typing import IO

import numpy as np
from genoscrub import scan
from genoscrub.cigar import CigarShape, CigarTable, M, ShapeCache
from genoscrub.dropped_contigs import naming_listed
from genoscrub.germline_sites import SiteTable
from genoscrub.record_reverter import (
    ALTERNATIVE_HIT_READS,
    COPYING_TAGS,
    KEPT_TAGS,
    LOW_MAPQ_READS,
    MATE_CIGAR_CHANGES,
    MATE_CIGAR_LETTERS,
    MATE_REMOVED,
    MATE_UNKNOWN,
    TAGS_KEPT_AT_WINDOWS,
    GermlineWindows,
    RecordReverter,
    template_length,
    with_mate_cigar,
)
from genoscrub.report import InputError
from genoscrub.revert import CLIP_MARGIN, MAX_SHIFT, ClipRule, clip_differs, revert_match_run
from genoscrub.sam_columns import (
    BlockFields,
    CigarColumn,
    MatchLength,
    ReadPlaces,
    block_fields,
    first_short_line,
    lines_with_repeated_tags,
    place_fields,
    rows_by_contig,
    tag_codes,
    tag_lines,
)

COPYING_CODES = tag_codes(COPYING_TAGS)
KEEP_UNCHANGED_CODES = tag_codes(TAGS_KEPT_AT_WINDOWS)
KEEP_CHANGED_CODES = tag_codes(KEPT_TAGS | {b"MC"})


def tag_fields(names: frozenset[bytes] | set[bytes]) -> re.Pattern[bytes]:
    """A pattern for the tags (each after its tab) whose first two bytes are one of
    ``names``: the test ``tag[:2] in names`` of the one-record path, without
    splitting the tags."""
    return re.compile(rb"\t((?:" + b"|".join(re.escape(name) for name in sorted(names)) + rb")[^\t]*)")


COPYING_TAG_FIELDS = tag_fields(COPYING_TAGS)
KEPT_UNCHANGED_TAG_FIELDS = tag_fields(TAGS_KEPT_AT_WINDOWS)
KEPT_CHANGED_TAG_FIELDS = tag_fields(KEPT_TAGS | {b"MC"})
UPPERCASE = np.frombuffer(bytes(range(256)).upper(), dtype=np.uint8)
PLAIN_SEQUENCE = np.zeros(256, dtype=np.uint8)
PLAIN_SEQUENCE[list(b"ABCDEFGHIJKLMNOPQRSTUVWXYZ*")] = 1
"""The bytes of a SEQ the bulk paths pass on: one with lower case or ``=`` goes to the one-record
path, which writes it in upper case with the reference's bases for ``=`` (``plain_sequence``)."""
"""``bytes.upper`` as a lookup table, for reads compared in bulk."""
REGION_LIMIT = 1 << 24
"""Widest reference stretch fetched at once for a block's reads (16 MiB)."""
REGION_PER_READ = 2048
"""...and at most this many bases per read in it: one fetch per read costs about
as much as slicing 2 kb more of a shared stretch (unsorted or sparse input)."""
NO_TAG_CODES = np.zeros(1 << 16, dtype=np.uint8)
EVERY_BYTE = np.ones(256, dtype=np.uint8)
"""With ``scan.sam_tag_lines``, width 1: the lines that carry an ``MC:Z`` field at all."""
MATE_CIGAR_WIDTH = 24
"""Bytes of an MC value looked at in bulk; a longer one is decided per record."""


def md_and_nm_of_match(sequence: bytes, reference: bytes) -> tuple[bytes, int]:
    """MD and NM of a CIGAR of one ``M`` run, ``reference`` the bases under it: a read
    equal to the reference (the common case) is settled by one comparison."""
    if sequence == reference and b"N" not in sequence:  # the reference is uppercase: so is the read
        return b"%d" % len(sequence), 0
    return scan.md_and_nm(0, ((M, len(sequence)),), sequence, reference, 0)


class BlockReverter:
    """Blocks of SAM records (whole lines, each ending in a newline) in, SAM text out."""

    def __init__(
        self, records: RecordReverter, places: ReadPlaces, one_by_one: bool = False, order: CoordinateOrder | None = None
    ) -> None:
        self.records = records
        self.order = order
        """The input's coordinate order, kept where a record's POS moves (None: the input is not
        sorted by coordinate, and every record stays where it was)."""
        self.places = places
        """FLAG, POS, PNEXT, RNAME and RNEXT of every block read as every SAM command reads them."""
        self.windows = records.windows
        self.reference = records.reference
        self.keep = records.keep
        self.options = records.options
        self.report = records.report
        self.path = records.path
        self.shapes: ShapeCache = records.shapes
        self.match_lengths = MatchLength(self.shapes)
        self.query_lengths = QueryLength(self.shapes)
        self.reference_lengths = ReferenceLength(self.shapes)
        self.clipped = Clipped(self.shapes)
        self.one_by_one = one_by_one
        self.known_contigs = records.known_contigs
        self.block_lines = 0
        """Lines of the last block, for the next block's line numbers."""
        self.block_places: tuple[list[bytes], np.ndarray] = ([], np.zeros(0, dtype=np.int64))
        """RNAME (one for all where the block has one) and POS (0-based) of the last block's records."""
        passed_on = records.passed_on  # --keep-alignment-lists: SA/XA/XB stay on every record
        self.keep_unchanged_codes = tag_codes(TAGS_KEPT_AT_WINDOWS | passed_on) if passed_on else KEEP_UNCHANGED_CODES
        self.keep_changed_codes = tag_codes(KEPT_TAGS | {b"MC"} | passed_on) if passed_on else KEEP_CHANGED_CODES
        self.kept_unchanged_fields = tag_fields(TAGS_KEPT_AT_WINDOWS | passed_on) if passed_on else KEPT_UNCHANGED_TAG_FIELDS
        self.kept_changed_fields = tag_fields(KEPT_TAGS | {b"MC"} | passed_on) if passed_on else KEPT_CHANGED_TAG_FIELDS
        self.copying_fields = tag_fields(records.copying) if passed_on else COPYING_TAG_FIELDS
        """The tag tables of the bulk paths, with the alignment lists kept where they are passed on.
        The rows to look at are still found by every copying tag (``COPYING_CODES``): an ``SA``
        decides the one-record path's clip rule."""

    def revert_block(self, text: bytes, first_line: int) -> bytes:
        """One block of whole records in, SAM text out: untouched records pass as slices of it
        (all of what :meth:`reverted` gives out for it)."""
        return b"".join(self.reverted(text, first_line))

    def reverted(self, text: bytes, first_line: int) -> Iterator[bytes]:
        """One block of whole records in, SAM text out, in pieces: with ``order``, the records
        no later one can land before once moved (:class:`CoordinateOrder`), else the block."""
        table = block_fields(text)
        if table is None:
            raise InputError("not a SAM record (fewer than 11 tab-separated fields)", self.path, first_line + first_short_line(text))
        self.block_lines = len(table)
        self.report.add("reads_in", self.block_lines)
        selected, touched, simple, far = self._select(table, first_line)
        order = self.order
        if order is not None and not order.follows(*self.block_places):
            yield from order.remaining()  # not sorted after all: nothing to keep sorted, and nothing held
            self.order = order = None
        if not selected:
            if order is None:
                yield text
            else:
                yield from order.passed(text, [])
            return
        starts, ends = table.line_starts.tolist(), table.line_ends.tolist()
        records = self.records
        rewrite = records.rewrite
        revert_all = self.windows.revert_all or self.one_by_one
        lines: list[bytes | None] = []
        moved: list[bytes] = []
        moved_size = 0 if order is None else order.moved_size
        for row in selected:
            new_line = simple.get(row)
            if new_line is None:
                new_line = rewrite(text[starts[row] : ends[row]], first_line + row, revert_all or row in touched, far is None or row in far)
                if records.moved and order is not None and new_line is not None:
                    moved.append(new_line)  # placed in order below
                    moved_size += len(new_line) + 1
                    new_line = None
                    if moved_size > HOLD_LIMIT:
                        raise InputError(MOVED_PAST_LIMIT % size_text(HOLD_LIMIT), self.path, first_line + row)
            lines.append(new_line)
        out = scan.splice_lines(text, table.line_starts, table.line_ends, np.array(selected, dtype=np.int64), lines)
        if order is None:
            yield out
        else:
            yield from order.passed(out, moved)

    def remaining(self) -> Iterator[bytes]:
        """The records held back for the order (:class:`CoordinateOrder`), once the input ends."""
        if self.order is not None:
            yield from self.order.remaining()

    def close(self) -> None:
        """However the run ends: the order's temporary file closed (it has no name to remove)."""
        if self.order is not None:
            self.order.close()

    def _select(self, table: BlockFields, first_line: int) -> tuple[list[int], set[int], dict[int, bytes], set[int] | None]:
        """The rows that need rewriting (sorted), those among them that touch a
        window, the new text of those the bulk paths settled, and those that may hold a
        place no contig has (None: any may, one record at a time); the rest pass as
        the same bytes.

        Only FLAG, RNAME, POS and CIGAR are looked at (RNEXT with
        ``--drop-unknown-contigs``); the overlap with the windows is computed
        for the whole block at once.
        """
        flags, positions, mate_positions, far_places = self.places.read_block(table.text, table.spans, self.path, first_line)
        positions -= 1
        count = len(flags)
        names = [table.value(0, 2)] if table.same_everywhere(2) else table.values(2)
        self.block_places = (names, positions)
        cigars = CigarColumn(table)
        query_lengths = cigars.each(self.query_lengths)
        unmapped = (flags & 4) != 0
        selected = np.zeros(count, dtype=bool)
        touched: set[int] = set()
        dropped = self.records.dropped_contigs
        if dropped:  # --drop-contigs: the one-record path removes these records and unpairs their mates
            if listed := set(names) & dropped:
                selected[[i for i, name in enumerate(names) if name in listed] if len(names) > 1 else slice(None)] = True
            selected |= naming_listed(table.text, *table.spans(6), dropped)
        if unknown := set(names) - self.known_contigs - dropped - {b"*"}:
            unknown_rows = [i for i, name in enumerate(names) if name in unknown] if len(names) > 1 else list(range(count))
            if not self.options.drop_unknown_contigs:
                message = "read on a contig the reference lacks (--drop-unknown-contigs drops such reads)"
                raise InputError(message, self.path, first_line + unknown_rows[0])
            selected[unknown_rows] = True
        if self.one_by_one:
            return list(range(count)), set(range(count)), {}, None
        if self.options.drop_unknown_contigs:  # the mate of a dropped read: RNEXT names a contig the reference lacks
            known = self.known_contigs | {b"=", b"*"}
            selected[[i for i, name in enumerate(table.values(6)) if name not in known]] = True
        if not self.options.keep_unmapped:
            selected |= unmapped
            selected[cigars.rows_with(b"*")] = True  # CIGAR '*' on a mapped record: htslib reads it as unmapped
            selected |= query_lengths < 0  # a CIGAR that cannot be read hides where the read lies: treated like '*' (fail closed)
        selected |= self._rows_to_look_at(table, flags, unmapped, cigars, positions, names)
        selected |= self._past_contig_end(positions + cigars.each(self.reference_lengths), names, unmapped)
        selected[lines_with_repeated_tags(table.text, table.located)] = True  # the one-record path leaves the copies out
        selected |= ~scan.spans_within(table.buffer, *table.spans(9), PLAIN_SEQUENCE)  # the one-record path writes them plain
        copying_rows, mate_rows, place_rows = tag_lines(table, COPYING_CODES, MATE_CIGAR_LETTERS, MATE_CIGAR_WIDTH)
        if len(place_rows):  # a CP past its contig: the one-record path removes it
            place_tabs, place_ends, owners = place_fields(table.located, place_rows, table.text)
            far_places[owners[self.places.places_past(table.text, place_tabs, place_ends, owners, table.spans)]] = True
        selected |= far_places  # and makes the mate's place unavailable where PNEXT lies past its contig
        mate_row_fields = mate_cigars = None  # their optional fields and MC fields, read by the three steps below
        if len(mate_rows):
            mate_row_fields = fields_of_rows(table, mate_rows)
            mate_cigars = mate_cigar_fields(table, mate_rows, mate_row_fields)
        if isinstance(self.windows, GermlineWindows) and len(mate_rows):
            away = self._mates_away_from_windows(table, mate_rows, names, mate_positions - 1, mate_cigars)
            if self.options.all_below_mapq:  # a mate reverted whole for its MAPQ (MQ) changes wherever it lies
                away &= ~self._mates_of_low_mapq(table, mate_rows, mate_row_fields)[mate_rows]
            mate_rows = mate_rows[~away]
        if len(mate_rows):  # a mate whose left clip goes moves: PNEXT follows on the one-record path
            moving = left_clipped_mates(table, mate_rows, mate_cigars)
            selected[mate_rows[moving]] = True
            mate_rows = mate_rows[~moving]
        at_insertion = self._unmapped_pairs_at_insertions(table, flags, positions, mate_positions, names)
        selected |= at_insertion  # the one-record path removes them (unmapped_pair_at_insertion)
        fast = ~selected & ~unmapped  # far_places among selected: the one-record path
        tags_only = np.zeros(count, dtype=bool)
        tags_only[copying_rows] = True
        tags_only[mate_rows] = True
        tags_only &= ~selected
        windows = self.windows
        unknown_mates = self._mates_unknown(table, flags, unmapped, names, query_lengths)
        fast &= ~unknown_mates  # TLEN 0 (fail closed): the one-record path
        tags_only &= ~unknown_mates
        selected |= unknown_mates
        if isinstance(windows, GermlineWindows):
            starts = positions + cigars.each(windows.span_starts)
            ends = positions + cigars.each(windows.span_ends)
            hits = np.zeros(count, dtype=bool)
            for name, rows in rows_by_contig(names, unmapped):
                contig = name.decode(errors="replace")
                if contig in windows.sites.starts:
                    hits[rows[windows.sites.touching(contig, starts[rows], ends[rows])]] = True
            candidates = fast & ((flags & 0x800) == 0)  # a supplementary record at a site goes: the one-record path removes it
            fast = candidates & hits
            tags_only &= ~hits
            selected |= hits
            low, hit, unsure = self._placed_elsewhere(table, unmapped, copying_rows)  # reverted whole where they lie
            elsewhere = low | hit
            fast |= candidates & elsewhere  # one M run: settled in bulk, a window over the whole read
            fast &= ~unsure
            fast[self._with_chimeric_parts(table, copying_rows[fast[copying_rows]])] = False
            tags_only &= ~(elsewhere | unsure)
            selected |= elsewhere | unsure
            touched = set(np.flatnonzero(hits | elsewhere | unsure).tolist())
        else:  # --all: every mapped record, and every supplementary one (the one-record path removes it)
            supplementary = (flags & 0x800) != 0
            fast &= ~supplementary
            selected |= ~unmapped | supplementary
            low = hit = np.zeros(count, dtype=bool)
        selected |= tags_only
        simple = self._revert_simple_rows(table, fast, positions, names, cigars, set(mate_rows.tolist()), low | hit)
        if low.any() or hit.any():  # counted as RecordReverter.placed_elsewhere counts them
            settled = np.zeros(count, dtype=bool)
            settled[list(simple)] = True
            for key, rows in ((LOW_MAPQ_READS, settled & low), (ALTERNATIVE_HIT_READS, settled & hit & ~low)):
                if found := int(rows.sum()):  # a key only where a read counts, as the one-record path adds them
                    self.report.add(key, found)
        if not windows.revert_all:
            simple.update(self._tags_only_rows(table, tags_only, query_lengths))
        return np.flatnonzero(selected).tolist(), touched, simple, set(np.flatnonzero(far_places).tolist())

    def _with_chimeric_parts(self, table: BlockFields, rows: np.ndarray) -> list[int]:
        """Of ``rows`` (records with a copying tag), those with an ``SA`` tag: the one-record path
        judges them by their other parts too (``RecordReverter._supplementary_touches``: a read
        split at a germline site is reverted over its whole alignment). Only records at a window
        with a copying tag are looked at, one ``bytes.find`` each."""
        if not len(rows):
            return []
        text, quality_ends, ends = table.text, table.quality_ends(), table.line_ends
        return [row for row in rows.tolist() if text.find(b"\tSA:Z:", int(quality_ends[row]), int(ends[row])) >= 0]

    def _mates_away_from_windows(
        self, table: BlockFields, rows: np.ndarray, names: list[bytes], mate_positions: np.ndarray,
        mate_cigars: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None,
    ) -> np.ndarray:
        """For each of ``rows`` (an ``MC`` the rules may change: an indel, a mismatch, a clip), whether
        its mate's footprint, from PNEXT and ``MC`` as ``GermlineWindows.for_read`` takes it (span,
        clips and hard clips projected, indels' reach), touches no window: ``mate_update`` then
        leaves ``MC`` as it is, so the read passes as it would (a clipped mate far from every site
        is common, and each would otherwise be looked at one by one). A row whose ``MC`` is
        given twice, or whose mate's contig is ``*``, stays (the one-record path decides).
        ``mate_cigars``: :func:`mate_cigar_fields` of ``rows``, where the caller has them."""
        windows = self.windows
        assert isinstance(windows, GermlineWindows)
        tabs, ends, owning = mate_cigar_fields(table, rows) if mate_cigars is None else mate_cigars
        if not len(owning):
            return np.zeros(len(rows), dtype=bool)
        once = np.bincount(owning, minlength=len(table)) == 1
        values = scan.span_list(table.text, tabs + 6, ends)
        span_starts, span_ends = windows.span_starts, windows.span_ends
        leads = np.array([span_starts[value] for value in values], dtype=np.int64)
        extents = np.array([span_ends[value] for value in values], dtype=np.int64)
        mate_contigs = scan.span_list(table.text, table.tabs[owning, 5] + 1, table.tabs[owning, 6])  # RNEXT of each
        own = names[0] if len(names) == 1 else None
        contigs = [
            (own if own is not None else names[row]) if mate_contig == b"=" else mate_contig
            for row, mate_contig in zip(owning.tolist(), mate_contigs, strict=True)
        ]
        starts = mate_positions[owning] + leads
        stops = mate_positions[owning] + extents
        clear = np.zeros(len(owning), dtype=bool)
        for name, group in rows_by_contig(contigs, np.zeros(len(owning), dtype=bool)):
            if name == b"*":
                continue
            contig = name.decode(errors="replace")
            if contig not in windows.sites.starts:
                clear[group] = True
            else:
                clear[group] = ~windows.sites.touching(contig, starts[group], stops[group])
        clear &= once[owning]
        settled = np.zeros(len(table), dtype=bool)
        settled[owning[clear]] = True
        return settled[rows]

    def _placed_elsewhere(
        self, table: BlockFields, unmapped: np.ndarray, listing_rows: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The placed reads ``RecordReverter.placed_elsewhere`` reverts whole: those of a MAPQ below
        ``--all-below-mapq`` or 255 (read in one C pass), those with an ``XA``/``XB`` whose hit
        touches a germline window (only those reads' lists are read, one by one, by its own
        ``alternative_hit_on_window``), and those the one-record path must judge (a MAPQ of more
        than 10 digits, which the C pass does not read; a tag given twice). ``listing_rows``: the
        lines holding a copying tag (``XA`` and ``XB`` among them), whose fields alone are looked at."""
        count = len(table)
        low, hit = np.zeros(count, dtype=bool), np.zeros(count, dtype=bool)
        threshold = self.options.all_below_mapq
        mapqs = scan.span_numbers(table.text, *table.spans(4))
        unsure = (mapqs < 0) & ~unmapped
        if threshold:
            low = ((mapqs >= 0) & (mapqs < threshold)) | (mapqs == 255)
        alternative = self.records.alternative_hit_on_window
        owners, starts, ends = tag_spans_of_rows(table, (b"XA", b"XB"), listing_rows, ~low & ~unsure & ~unmapped)
        text = table.text
        for row, start, end in zip(owners.tolist(), starts.tolist(), ends.tolist(), strict=True):
            if not hit[row] and alternative(text[start:end], text[start - 5 : start - 3]):
                hit[row] = True
        if len(owners) and (np.bincount(owners, minlength=count) > 1).any():  # the first copy decides: the one-record path
            unsure[np.flatnonzero(np.bincount(owners, minlength=count) > 1)] = True
        return low & ~unmapped, hit & ~unmapped & ~unsure, unsure

    def _mates_of_low_mapq(
        self, table: BlockFields, mate_rows: np.ndarray, fields: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None
    ) -> np.ndarray:
        """The records of ``mate_rows`` (sorted lines, each once) whose ``MQ`` tag gives a mate MAPQ
        below ``--all-below-mapq`` (or 255, or not a number), as a mask of the block's lines: the
        mate is reverted whole, so their ``MC`` may change wherever the mate lies
        (``RecordReverter.mate_placed_elsewhere``). Only those lines' fields are looked at
        (``fields``: :func:`fields_of_rows` of ``mate_rows``, where the caller has them)."""
        rows = np.zeros(len(table), dtype=bool)
        threshold = self.options.all_below_mapq
        owners, starts, ends = tag_spans_of_rows(table, (b"MQ",), mate_rows, fields=fields)
        if len(owners):
            mapqs = scan.span_numbers(table.text, starts, ends)
            rows[owners[(mapqs < threshold) | (mapqs == 255)]] = True
        return rows

    def _unmapped_pairs_at_insertions(
        self, table: BlockFields, flags: np.ndarray, positions: np.ndarray, mate_positions: np.ndarray, names: list[bytes]
    ) -> np.ndarray:
        """Records with FLAG 0x4 or 0x8 whose own place (``positions``, 0-based) or mate's place
        (RNEXT, ``mate_positions`` as PNEXT) lies at a germline insertion: the one-record path
        removes them (``GermlineWindows.unmapped_pair_at_insertion``). Few records have either flag:
        only theirs are looked at, a contig at a time."""
        found = np.zeros(len(flags), dtype=bool)
        windows = self.windows
        if not isinstance(windows, GermlineWindows) or not len(windows.insertions):
            return found
        rows = np.flatnonzero((flags & 0xC) != 0)
        if not len(rows):
            return found
        insertions = windows.insertions
        own = [names[0]] * len(rows) if len(names) == 1 else [names[row] for row in rows.tolist()]
        mates = [table.value(row, 6) for row in rows.tolist()]
        mates = [name if mate == b"=" else mate for name, mate in zip(own, mates, strict=True)]
        for contigs, places in ((own, positions[rows]), (mates, mate_positions[rows] - 1)):
            for name, group in rows_by_contig(contigs, places < 0):
                contig = name.decode(errors="replace")
                if name != b"*" and contig in insertions.starts:
                    at = places[group]
                    found[rows[group[insertions.touching(contig, at, at + 1)]]] = True
        return found

    def _past_contig_end(self, ends: np.ndarray, names: list[bytes], unmapped: np.ndarray) -> np.ndarray:
        """Mapped reads whose alignment runs past their contig's end (as on a circular chrM):
        the one-record path masks the bases there (``RecordReverter.past_end_window``)."""
        past = np.zeros(len(ends), dtype=bool)
        for name, rows in rows_by_contig(names, unmapped):
            length = self.reference.length(name.decode(errors="replace")) if name != b"*" else None
            if length is not None:
                past[rows[ends[rows] > length]] = True
        return past & ~unmapped

    def _mates_unknown(
        self, table: BlockFields, flags: np.ndarray, unmapped: np.ndarray, names: list[bytes], query_lengths: np.ndarray
    ) -> np.ndarray:
        """Paired records without ``MC`` whose TLEN the one-record path sets to 0: the mate,
        mapped on the same contig, may have had its end moved by the length rule
        (``RecordReverter.mate_may_change``: its footprint from PNEXT and TLEN touches a window).
        A superset is enough (the one-record path decides); TLEN is read for the candidates only."""
        count = len(flags)
        rows = np.zeros(count, dtype=bool)
        paired = ((flags & 0xD) == 0x1) & (query_lengths >= 0)
        if not paired.any():
            return rows
        located = table.located
        found = scan.sam_tag_lines(table.text, located.extra_starts, located.extra_counts, NO_TAG_CODES, EVERY_BYTE, 1)
        candidates = np.flatnonzero(paired & ((found & scan.TAG_LINE_MATE_CIGAR) == 0))
        if not len(candidates):
            return rows
        mate_names = table.values(6)
        sites = self.windows.sites if isinstance(self.windows, GermlineWindows) else None
        for row in candidates.tolist():
            name = names[0] if len(names) == 1 else names[row]
            if mate_names[row] != b"=" and mate_names[row] != name:
                continue
            tlen_field, mate_field = table.value(row, 8), table.value(row, 7)
            tlen = abs(template_length(tlen_field))
            if not tlen or not mate_field.isdigit():
                continue
            if sites is None:
                rows[row] = True
                continue
            mate_position = int(mate_field) - 1
            reach = max(tlen, int(query_lengths[row])) + CLIP_MARGIN  # a mate's left clip may move it (mate_may_move)
            if sites.windows(name.decode(errors="replace"), mate_position - reach, mate_position + tlen + reach):
                rows[row] = True
        return rows & ~unmapped

    def _rows_to_look_at(
        self, table: BlockFields, flags: np.ndarray, unmapped: np.ndarray, cigars: CigarColumn, positions: np.ndarray, names: list[bytes]
    ) -> np.ndarray:
        """Mapped rows the one-record path must see whatever the windows say: secondary
        records with a sequence (it goes, unless ``--keep-secondary-seq``) and, under the
        default clip rule, records with a soft clip that differs from the reference (with
        ``--all`` every clipped record goes there: its clips are removed)."""
        rows = np.zeros(len(flags), dtype=bool)
        buffer, tabs = table.buffer, table.tabs
        with_sequence = (tabs[:, 9] - tabs[:, 8] != 2) | (buffer[tabs[:, 8] + 1] != 42)
        secondary = (flags & 0x100) != 0
        if not self.options.keep_secondary_seq and secondary.any():
            with_quality = (table.quality_ends() - tabs[:, 9] != 2) | (buffer[tabs[:, 9] + 1] != 42)
            rows |= secondary & (with_sequence | with_quality)
        if self.options.clips is ClipRule.DIFFERING and not self.windows.revert_all:  # --all looks at every clipped read
            clipped = cigars.each(self.clipped) != 0
            if clipped.any():
                candidates = np.flatnonzero(clipped & with_sequence & ~unmapped & ~rows)
                rows[candidates[self._clips_differ(table, candidates, positions, names, cigars)]] = True
        return rows & ~unmapped

    def _clips_differ(
        self, table: BlockFields, rows: np.ndarray, positions: np.ndarray, names: list[bytes], cigars: CigarColumn
    ) -> np.ndarray:
        """For each row with a soft clip: whether a clip differs from the reference beside the
        alignment (``revert.clip_differs``, the one-record path's test); a record whose clips
        carry the reference passes as it is, one whose lengths do not add up goes to the
        one-record path."""
        differ = np.ones(len(rows), dtype=bool)
        text, tabs, reference, nearby = table.text, table.tabs, self.reference, self.records.nearby
        shapes, strings = self.shapes, cigars.strings
        contigs = {name: name.decode(errors="replace") for name in set(names)}  # decoded once a block
        single = contigs[names[0]] if len(names) == 1 else None
        for index, row, cigar_id, sequence_start, sequence_end, position in zip(
            range(len(rows)), rows.tolist(), cigars.ids[rows].tolist(), (tabs[rows, 8] + 1).tolist(), tabs[rows, 9].tolist(),
            positions[rows].tolist(), strict=True,
        ):
            shape = shapes[strings[cigar_id]]
            contig = single if single is not None else contigs[names[row]]
            if shape is None or contig not in reference:
                continue
            sequence = text[sequence_start:sequence_end]
            if len(sequence) != shape.query_length:
                continue
            pieces = []
            if shape.left_clip:
                pieces.append((sequence[: shape.left_clip], position - shape.left_clip))
            if shape.right_clip:
                pieces.append((sequence[len(sequence) - shape.right_clip :], position + shape.reference_length))
            differ[index] = any(
                clip_differs(clip, nearby.fetch(contig, max(0, start), start + len(clip)), start, max(0, start))
                for clip, start in pieces
            )
        return differ

    def _revert_simple_rows(
        self, table: BlockFields, fast: np.ndarray, positions: np.ndarray, names: list[bytes], cigars: CigarColumn,
        mate_rows: set[int], elsewhere: np.ndarray | None = None,
    ) -> dict[int, bytes]:
        """The common record, one ``M`` run with SEQ: its new
        text, by the same rules as the one-record path without building its
        fields (the tags it keeps are KEPT_TAGS and MC, so a tag that copies
        another record goes as it would there; a record with an SA tag is left to
        the one-record path, ``_with_chimeric_parts``); ``mate_rows`` may have an MC to rewrite, by
        ``RecordReverter.mate_update``, unless the mate goes). ``fast`` marks the candidates; anything unusual (a keep allele
        under the read, a read past the contig's end, a length that does not
        add up) is left to the one-record path."""
        lengths = cigars.each(self.match_lengths)
        tabs = table.tabs
        sequence_starts = tabs[:, 8] + 1
        sequence_ends = tabs[:, 9]
        quality_ends = table.quality_ends()
        quality_sizes = quality_ends - sequence_ends - 1
        fast &= (lengths > 0) & (sequence_ends - sequence_starts == lengths) & ((quality_sizes == lengths) | (quality_sizes == 1))
        if self.keep is not None and fast.any():
            for name, group in rows_by_contig(names, ~fast):
                contig = name.decode(errors="replace")
                if contig in self.keep.spans.starts:
                    fast[group[self.keep.spans.touching(contig, positions[group], positions[group] + lengths[group])]] = False
        rows = np.flatnonzero(fast)
        results: dict[int, bytes] = {}
        windows = self.windows
        revert_all = windows.revert_all
        if revert_all and len(rows):
            rows = self._revert_all_in_bulk(table, rows, positions, lengths, names, quality_ends, results)
            if mate_rows:
                rows = self._mate_cigars_fitted(table, results, mate_rows, positions, lengths, quality_ends, rows)
        elif isinstance(windows, GermlineWindows) and len(rows):
            rows = self._revert_on_windows_in_bulk(table, rows, positions, lengths, names, quality_ends, mate_rows, results, elsewhere)
            if elsewhere is not None and len(rows):
                rows = rows[~elsewhere[rows]]  # reverted whole: the one-record path, but in the C loop
        if not len(rows):
            return results
        indexes = np.zeros(len(rows), dtype=np.int64)
        sites = windows.sites if isinstance(windows, GermlineWindows) else None
        if sites is not None:
            row_names = [names[0]] if len(names) == 1 else [names[row] for row in rows.tolist()]
            for name, group in rows_by_contig(row_names, np.zeros(len(rows), dtype=bool)):
                window_starts = sites.starts.get(name.decode(errors="replace"))
                if window_starts is not None:
                    found = rows[group]
                    indexes[group] = np.searchsorted(window_starts, positions[found] + lengths[found])
        regions = self._reference_regions(names, rows, positions, lengths)
        text = table.text
        reference = self.reference
        counts = self.report.counts
        single_name = names[0] if len(names) == 1 else None
        decoded = {name: name.decode(errors="replace") for name in set(names)}
        contigs = {name: contig for name, contig in decoded.items() if contig in reference}
        """The block's contig names the reference has, decoded once."""
        for row, start, sequence_start, sequence_end, quality_end, end, position, length, index in zip(
            rows.tolist(), table.line_starts[rows].tolist(), sequence_starts[rows].tolist(), sequence_ends[rows].tolist(),
            quality_ends[rows].tolist(), table.line_ends[rows].tolist(), positions[rows].tolist(), lengths[rows].tolist(),
            indexes.tolist(), strict=True,
        ):
            sequence = text[sequence_start:sequence_end]
            if sequence == b"*" or (quality_end - sequence_end == 2 and text[sequence_end + 1] != 42 and length != 1):
                continue
            name = single_name if single_name is not None else names[row]
            if name not in contigs:
                continue
            contig = contigs[name]
            if sites is None:
                read_windows = [(position - 1, position + length + 1)]
            else:
                read_windows = sites.windows(contig, position, position + length, index)
                if not read_windows:  # never for a hit of _select (the same span): left to the one-record path
                    continue
            region = regions.get(name)
            if region is not None:
                bases = region[1][position - region[0] : position - region[0] + length]
            else:
                bases = self.records.nearby.fetch(contig, position, position + length)
            if len(bases) < length:
                continue
            if revert_all and row in mate_rows:
                continue  # its MD and NM kept in place, its MC rewritten: the one-record path
            if revert_all and sequence.upper() == bases:
                results[row] = b"\t".join([text[start:quality_end], *self.kept_unchanged_fields.findall(text, quality_end, end)])
                continue
            kept = self.kept_changed_fields.findall(text, quality_end, end)
            template_length = None
            if row in mate_rows and MATE_CIGAR_CHANGES.search(text, quality_end, end):
                mate_fields = table.mandatory(row)
                mate = self.records.mate_update(mate_fields, kept)
                if mate in (MATE_REMOVED, MATE_UNKNOWN):  # the record changes more: the one-record path, which counts it
                    continue
                if mate is not None:
                    template_length = self._template_length(mate_fields, kept, mate, position, length, length)
                    kept = with_mate_cigar(kept, mate)
            new_sequence, reverted = revert_match_run(position, sequence, bases, read_windows)
            if reverted:
                counts["reads_changed"] += 1
                counts["bases_reverted"] += reverted
            tag_text = text[quality_end:end]  # the tags, each after a tab
            with_md, with_nm = b"\tMD" in tag_text, b"\tNM" in tag_text
            if with_md or with_nm:
                md, distance = md_and_nm_of_match(new_sequence, bases)
                if with_md:
                    kept.append(b"MD:Z:" + md)
                if with_nm:
                    kept.append(b"NM:i:%d" % distance)
            fields = text[start:quality_end] if not reverted else text[start:sequence_start] + new_sequence + text[sequence_end:quality_end]
            if template_length is not None:
                fields = with_template_length(table, row, fields, template_length)
            results[row] = b"\t".join([fields, *kept])
        same_report_keys(counts)
        return results

    def _revert_all_in_bulk(
        self,
        table: BlockFields,
        rows: np.ndarray,
        positions: np.ndarray,
        lengths: np.ndarray,
        names: list[bytes],
        quality_ends: np.ndarray,
        results: dict[int, bytes],
    ) -> np.ndarray:
        """``--all`` for one-``M``-run records: every read base compared with the
        reference per contig by ``scan.sam_revert_matches`` (C, or its numpy twin), which
        also builds the lines, so a record only costs the
        rewriting of its tags. A read that differs becomes the reference
        (MD ``<length>``, NM 0). Returns the rows left to the per-record path
        (no reference region, an N in the reference, SEQ or QUAL ``*``)."""
        left: list[np.ndarray] = []
        regions = self._reference_regions(names, rows, positions, lengths)
        row_names = [names[0]] if len(names) == 1 else [names[row] for row in rows.tolist()]
        buffer, text = table.buffer, table.text
        counts = self.report.counts
        for name, group in rows_by_contig(row_names, np.zeros(len(rows), dtype=bool)):
            found = rows[group]
            region = regions.get(name)
            if region is None:
                left.append(found)
                continue
            region_start, bases = region
            sizes = lengths[found]
            offsets = positions[found] - region_start
            sequence_starts = table.tabs[found, 8] + 1
            sequence_ends = table.tabs[found, 9]
            usable = (offsets + sizes <= len(bases)) & ~((sizes == 1) & (buffer[sequence_starts] == 42))
            usable &= ~((quality_ends[found] - sequence_ends == 2) & (sizes != 1) & (buffer[sequence_ends + 1] != 42))
            if not usable.all():
                left.append(found[~usable])
                found, sizes, offsets = found[usable], sizes[usable], offsets[usable]
                sequence_starts, sequence_ends = sequence_starts[usable], sequence_ends[usable]
            if not len(found):
                continue
            lines, changed_reads, changed_bases = scan.sam_revert_matches(
                text, table.line_starts[found], sequence_starts, sequence_ends, quality_ends[found], table.line_ends[found],
                bases, offsets, self.keep_unchanged_codes, self.keep_changed_codes,
            )
            if changed_reads:
                counts["reads_changed"] += changed_reads
                counts["bases_reverted"] += changed_bases
            unknown_rows = []
            for row, line in zip(found.tolist(), lines, strict=True):
                if line is None:  # calmd counts an N as a mismatch: MD and NM need the general rule
                    unknown_rows.append(row)
                else:
                    results[row] = line
            if unknown_rows:
                left.append(np.array(unknown_rows, dtype=np.int64))
        same_report_keys(counts)
        return np.sort(np.concatenate(left)) if left else np.zeros(0, dtype=np.int64)

    def _mate_cigars_fitted(
        self, table: BlockFields, results: dict[int, bytes], mate_rows: set[int], positions: np.ndarray, lengths: np.ndarray,
        quality_ends: np.ndarray, rows: np.ndarray,
    ) -> np.ndarray:
        """``--all``: the lines ``_revert_all_in_bulk`` built for records whose ``MC`` the rules may
        change (a mate's indel or clip: ``3S147M`` becomes ``150M``) get the new ``MC`` in its place
        and TLEN from both new ends, as ``RecordReverter.rewrite`` writes them (``mate_update``,
        ``fit_template_length``); the line is otherwise the one-record path's. A record whose mate
        goes or whose ``MC`` must go is left to the one-record path: returned with ``rows``, the
        rows already left to it. The line's text up to QUAL's end is the record's (SEQ changed in
        place): its tags follow there."""
        left = []
        for row in sorted(mate_rows.intersection(results)):
            line = results[row]
            at = line.find(b"\tMC:Z:", int(quality_ends[row] - table.line_starts[row]))
            if at < 0:
                continue
            value_end = line.find(b"\t", at + 1)
            value_end = len(line) if value_end < 0 else value_end
            tag = line[at + 1 : value_end]
            if not MATE_CIGAR_CHANGES.search(line, at, value_end):
                continue
            mate_fields = table.mandatory(row)
            mate = self.records.mate_update(mate_fields, [tag])
            if mate is None:
                continue
            if mate in (MATE_REMOVED, MATE_UNKNOWN):  # the record changes more: the one-record path, which counts it
                del results[row]
                left.append(row)
                continue
            line = line[: at + 6] + mate + line[value_end:]
            template_length = self._template_length(mate_fields, [tag], mate, int(positions[row]), int(lengths[row]), int(lengths[row]))
            results[row] = with_template_length(table, row, line, template_length) if template_length is not None else line
        if not left:
            return rows
        return np.sort(np.concatenate([rows, np.array(left, dtype=np.int64)]))

    def _revert_on_windows_in_bulk(
        self,
        table: BlockFields,
        rows: np.ndarray,
        positions: np.ndarray,
        lengths: np.ndarray,
        names: list[bytes],
        quality_ends: np.ndarray,
        mate_rows: set[int],
        results: dict[int, bytes],
        elsewhere: np.ndarray | None = None,
    ) -> np.ndarray:
        """``-v`` for one-``M``-run records: their windows found for the block at once
        (``SiteTable.windows_of_spans``) and, per contig, every read reverted and its line
        built by ``scan.sam_revert_windows`` (C, or its Python twin) by the rules of the
        per-record loop in ``_revert_simple_rows``. Returns the rows left to that loop: a
        record whose MC may change, SEQ or QUAL ``*``, no reference region, no window."""
        assert isinstance(self.windows, GermlineWindows)
        sites = self.windows.sites
        left: list[np.ndarray] = []
        regions = self._reference_regions(names, rows, positions, lengths)
        row_names = [names[0]] if len(names) == 1 else [names[row] for row in rows.tolist()]
        buffer, tabs = table.buffer, table.tabs
        mates = np.zeros(len(table), dtype=bool)
        mates[list(mate_rows)] = True
        counts = self.report.counts
        for name, group in rows_by_contig(row_names, np.zeros(len(rows), dtype=bool)):
            found = rows[group]
            region = regions.get(name)
            contig = name.decode(errors="replace")
            if region is None or contig not in sites.starts:
                left.append(found)
                continue
            region_start, bases = region
            starts, sizes = positions[found], lengths[found]
            sequence_starts, sequence_ends = tabs[found, 8] + 1, tabs[found, 9]
            usable = ~mates[found] & (starts - region_start + sizes <= len(bases)) & ~((sizes == 1) & (buffer[sequence_starts] == 42))
            usable &= ~((quality_ends[found] - sequence_ends == 2) & (sizes != 1) & (buffer[sequence_ends + 1] != 42))
            window_rows, window_starts, window_ends = sites.windows_of_spans(contig, starts, starts + sizes)
            if elsewhere is not None and (whole := elsewhere[found]).any():  # one window over the read (for_read_elsewhere)
                kept = ~whole[window_rows]
                spans = np.flatnonzero(whole)
                window_rows = np.concatenate([window_rows[kept], spans])
                window_starts = np.concatenate([window_starts[kept], starts[spans] - 1])
                window_ends = np.concatenate([window_ends[kept], starts[spans] + sizes[spans] + 1])
                order = np.argsort(window_rows, kind="stable")
                window_rows, window_starts, window_ends = window_rows[order], window_starts[order], window_ends[order]
            window_counts = np.bincount(window_rows, minlength=len(found))
            usable &= window_counts > 0
            if not usable.all():
                left.append(found[~usable])
                chosen = usable[window_rows]
                window_starts, window_ends = window_starts[chosen], window_ends[chosen]
                found, starts, window_counts = found[usable], starts[usable], window_counts[usable]
                sequence_starts, sequence_ends = sequence_starts[usable], sequence_ends[usable]
            if not len(found):
                continue
            lines, changed_reads, changed_bases = scan.sam_revert_windows(
                table.text, table.line_starts[found], sequence_starts, sequence_ends, quality_ends[found], table.line_ends[found],
                starts, bases, starts - region_start, window_starts, window_ends, window_counts, self.keep_changed_codes,
            )
            if changed_reads:
                counts["reads_changed"] += changed_reads
                counts["bases_reverted"] += changed_bases
            for row, line in zip(found.tolist(), lines, strict=True):
                assert line is not None
                results[row] = line
        same_report_keys(counts)
        return np.sort(np.concatenate(left)) if left else np.zeros(0, dtype=np.int64)

    def _tags_only_rows(self, table: BlockFields, rows: np.ndarray, all_query_lengths: np.ndarray) -> dict[int, bytes]:
        """Records on no window that carry a tag to remove: their new text, by the
        rules of the one-record path (an SA tag, a mate that goes or whose CIGAR
        cannot be told, or lengths that do not add up, leave the record to it)."""
        results: dict[int, bytes] = {}
        selected = np.flatnonzero(rows)
        if not len(selected):
            return results
        text, buffer, tabs = table.text, table.buffer, table.tabs
        sequence_starts, sequence_ends = tabs[selected, 8] + 1, tabs[selected, 9]
        quality_ends = table.quality_ends()[selected]
        sequence_sizes = sequence_ends - sequence_starts
        quality_sizes = quality_ends - sequence_ends - 1
        query_lengths = all_query_lengths[selected]
        sizes_agree = (query_lengths < 0) | (sequence_sizes == query_lengths) | ((sequence_sizes == 1) & (buffer[sequence_starts] == 42))
        sizes_agree &= (quality_sizes == sequence_sizes) | ((quality_sizes == 1) & (buffer[sequence_ends + 1] == 42))
        selected = selected[sizes_agree]
        copying, mate_update_of, shapes = self.records.copying, self.records.mate_update_of, self.shapes
        for row, start, quality_end, end, tlen_tab, fields_end in zip(
            selected.tolist(), table.line_starts[selected].tolist(), quality_ends[sizes_agree].tolist(),
            table.line_ends[selected].tolist(), table.tabs[selected, 7].tolist(), table.tabs[selected, 8].tolist(), strict=True,
        ):
            tag_text = text[quality_end:end]  # the tags, each after a tab
            if b"\tSA" in tag_text:
                continue
            changing = MATE_CIGAR_CHANGES.search(text, quality_end, end) if b"\tMC" in tag_text else None
            if changing is None:
                results[row] = text[start:quality_end] + self.copying_fields.sub(b"", tag_text)
                continue
            kept = [tag for tag in text[quality_end + 1 : end].split(b"\t") if tag[:2] not in copying]
            # The line gives MC once (a tag given twice sends it to the one-record path), and this
            # is it: the value mate_update would read from ``kept``, with an operation that may change.
            value_end = text.find(b"\t", changing.end(), end)
            mate_cigar = text[changing.start() + 6 : value_end if value_end >= 0 else end]
            mate_fields = text[start:fields_end].split(b"\t")  # BlockFields.mandatory
            mate = mate_update_of(mate_fields, kept, mate_cigar)
            if mate in (MATE_REMOVED, MATE_UNKNOWN):
                continue
            head = text[start:quality_end]
            if mate is not None:
                shape = shapes[mate_fields[5]]
                if shape is not None and not int(mate_fields[1]) & 4:
                    position = int(mate_fields[3]) - 1
                    template_length = self._template_length(
                        mate_fields, kept, mate, position, shape.reference_length, shape.query_length, mate_cigar
                    )
                    if template_length is not None:  # with_template_length
                        head = text[start : tlen_tab + 1] + template_length + text[fields_end:quality_end]
                kept = with_mate_cigar(kept, mate)
            results[row] = b"\t".join([head, *kept])
        return results

    def _template_length(
        self, fields: list[bytes], tags: list[bytes], mate: bytes, position: int, reference_length: int, query_length: int,
        old_mate_cigar: bytes | None = None,
    ) -> bytes | None:
        """A record the bulk paths settle keeps its own alignment end; its mate's may move
        (``mate``, its new CIGAR): TLEN by ``RecordReverter.fit_template_length``, or None
        when it stays. ``old_mate_cigar``: the first ``MC`` of ``tags``, where the caller has it."""
        if old_mate_cigar is None:
            old_mate_cigar = next((tag[5:] for tag in tags if tag.startswith(b"MC:Z:")), None)
        template = self.records.template(fields, old_mate_cigar, mate)
        if template is None:
            return None
        before = fields[8]
        end = position + reference_length
        self.records.fit_template_length(fields, template, position, end, end, query_length)
        return None if fields[8] == before else fields[8]

    def _reference_regions(
        self, names: list[bytes], rows: np.ndarray, positions: np.ndarray, lengths: np.ndarray
    ) -> dict[bytes, tuple[int, bytes]]:
        """Per contig, the reference under all of these rows in one fetch
        (``(start, bases)``), when they lie close together (sorted input); one
        slice per read then replaces a fetch per read."""
        regions: dict[bytes, tuple[int, bytes]] = {}
        row_names = [names[0]] if len(names) == 1 else [names[row] for row in rows.tolist()]
        for name, group in rows_by_contig(row_names, np.zeros(len(rows), dtype=bool)):
            contig = name.decode(errors="replace")
            if contig not in self.reference:
                continue
            found = rows[group]
            start = int(positions[found].min())
            end = int((positions[found] + lengths[found]).max())
            if end - start <= min(REGION_LIMIT, REGION_PER_READ * len(found)):
                regions[name] = (start, self.reference.fetch(contig, start, end))
        return regions


MOVED_PAST_LIMIT = (
    "reads a removed left clip moved wait past %s at one place to keep the output sorted by coordinate "
    "(a header without SO:coordinate keeps the input's order; sort the output after)"
)
"""The error where moved reads pass ``HOLD_LIMIT`` (:class:`CoordinateOrder`)."""


def size_text(size: int) -> str:
    """``64 MiB``, or ``4096 bytes`` below one MiB."""
    return f"{size >> 20} MiB" if size >= 1 << 20 else f"{size} bytes"


HOLD_LIMIT = 64 << 20
"""Bytes of records :class:`CoordinateOrder` holds in memory (64 MiB): past it the held records a
removed left clip did not move go to a temporary file, and moved records past it end the run."""
SPILL_READ = 4 << 20
"""Bytes of held records read back from the temporary file at a time."""

Place = tuple[int, int]
"""A record's place in a coordinate-sorted file: its contig's rank in the header, and POS."""
Key = tuple[int, int, int]
"""...and its strand (1 reverse, FLAG 0x10), which samtools sort and Picard order a POS's reads
by: forward ones first. A moved read is placed by it among the reads of its new POS, so a moved
forward read never lands after a reverse one, which only a moved read would do."""


def one_chunk(pieces: Iterable[bytes]) -> Iterator[bytes]:
    """The pieces given out at once (the held ones, the block's, the moved records between them)
    as one chunk: the next stage of a chain takes each chunk as a block, and a block costs every
    stage a fixed price (its fields located, its columns checked), which twice the blocks paid
    twice (1 MiB input blocks came out as 273 chunks for 147 blocks, some of a few hundred bytes)."""
    chunks = [piece for piece in pieces if piece]
    if len(chunks) > 1:
        yield b"".join(chunks)
    elif chunks:
        yield chunks[0]


class CoordinateOrder:
    """Keeps a coordinate-sorted output sorted where a removed left clip moved a record's POS
    left (``revert.clip_start``, at most ``MAX_SHIFT`` bases), holding only what a later record
    could still move before.

    A later record (POS at or after the last one read, the frontier) moves only where its left
    clip, projected before POS with ``CLIP_MARGIN``, touches a window, and lands at most
    ``MAX_SHIFT`` bases before POS: so no later record lands before ``MAX_SHIFT`` bases before
    the frontier or the first window a later clip can reach, whichever is later
    (:meth:`earliest_landing`; with ``--all``, whose windows cover every read, the frontier),
    and every record before that goes out at once. The records the
    clip rule did not move are held in input order: past ``HOLD_LIMIT`` bytes they go to a
    temporary file without a name (``tempfile.TemporaryFile``: nothing is left behind however
    the run ends) and are read back as they go out. Moved records (only reads with a left clip
    at a window) wait in memory, sorted, and each goes out after the held records that sort
    before or with it: the output is the input's order with each moved record placed by a
    stable sort (by contig, POS and strand). Past ``HOLD_LIMIT`` bytes of them the run ends
    (``MOVED_PAST_LIMIT``).

    The decision whether and where a read moves never looks at what is held: its mate computes
    the same from ``MC``. Lines are found by bisection over the held text (a key parsed only
    where one is compared), so a block costs a few dozen keys, not one per record."""

    def __init__(self, contigs: list[bytes], windows: SiteTable | None) -> None:
        self.rank = {name: index for index, name in enumerate(contigs)}
        self.names = [name.decode(errors="replace") for name in contigs]
        self.unplaced = len(contigs)
        self.windows = windows
        """The revert windows a moved read's clip touches (None: ``--all``, every clip goes)."""
        self.held: list[bytes] = []
        """Held records the clip rule did not move, in input order, after those of ``spill``."""
        self.held_size = 0
        self.spill: IO[bytes] | None = None
        """Earlier held records, past ``HOLD_LIMIT``: written at ``spill_size``, read from ``spill_read``."""
        self.spill_read = self.spill_size = 0
        self.moved: list[tuple[Key, int, bytes]] = []
        """Moved records waiting, sorted by key and then by arrival (``serial``)."""
        self.moved_size = 0
        self.serial = 0
        self.frontier: Place = (-1, -1)
        """The place of the last record read (POS 0-based)."""
        self.released: Key = (-1, -1, 1)
        """Every record of this key or before it has gone out (POS 1-based)."""
        self.largest_hold = 0
        """The most bytes held at once (in memory and in the temporary file), for the bench."""

    def key(self, text: bytes, start: int) -> Key:
        """(contig's rank in the header, POS, strand) of the line at ``start``; ``*`` and unknown last."""
        first = text.find(b"\t", start)
        second = text.find(b"\t", first + 1)
        third = text.find(b"\t", second + 1)
        fourth = text.find(b"\t", third + 1)
        position, flag = text[third + 1 : fourth], text[first + 1 : second]
        return (
            self.rank.get(text[second + 1 : third], self.unplaced),
            int(position) if position.isdigit() else 0,
            (int(flag) >> 4) & 1 if flag.isdigit() else 0,
        )

    def after(self, text: bytes, key: Key, low: int = 0) -> int:
        """The start of the first line of ``text`` (sorted lines, each ending in a newline) whose
        key sorts after ``key`` (``len(text)`` when none does), looked for from ``low`` (a line start)."""
        high = len(text)
        while low < high:
            middle = (low + high) // 2
            start = text.rfind(b"\n", low, middle)
            start = low if start < 0 else start + 1
            if self.key(text, start) <= key:
                low = text.index(b"\n", start) + 1
            else:
                high = start
        return low

    def follows(self, names: list[bytes], positions: np.ndarray) -> bool:
        """Whether a block's records (RNAME of each, or one for all; POS 0-based) sort with or
        after the ones before them; the last becomes the frontier. One comparison per record,
        in numpy (a dictionary look-up per record only in a block that spans contigs)."""
        if not len(positions):
            return True
        if len(names) == 1:
            rank = self.rank.get(names[0], self.unplaced)
            sorted_here = bool((positions[1:] >= positions[:-1]).all())
            first, last = (rank, int(positions[0])), (rank, int(positions[-1]))
        else:
            ranks = np.array([self.rank.get(name, self.unplaced) for name in names], dtype=np.int64)
            rank_steps, position_steps = np.diff(ranks), np.diff(positions)
            sorted_here = bool((rank_steps >= 0).all() and (position_steps[rank_steps == 0] >= 0).all())
            first, last = (int(ranks[0]), int(positions[0])), (int(ranks[-1]), int(positions[-1]))
        if not sorted_here or first < self.frontier:
            return False
        self.frontier = last
        return True

    def earliest_landing(self) -> Place | None:
        """The key (POS 1-based) before which no record after the frontier can land once moved;
        None: none on the frontier's contig moves (nor any unplaced read).

        A read at ``p`` (0-based, at or after the frontier) whose clip of ``L`` bases touches a
        window ``[start, end)`` has ``start < p`` and ``end > p - L - CLIP_MARGIN``; it lands at
        ``p - MAX_SHIFT`` or after (else it is removed), and ``L`` is at most its shift but for
        the bases of the insertions it crosses, each inside a window of its own that ends after
        where the read lands. So a window ending at ``frontier - MAX_SHIFT - CLIP_MARGIN`` or
        before draws no later read, and the first one after it draws none before its start."""
        rank, frontier = self.frontier
        if rank < 0 or rank >= self.unplaced:
            return None if rank >= 0 else (-1, -1)
        if self.windows is None:  # --all: every left clip goes, MAX_SHIFT bases at most
            return rank, frontier - MAX_SHIFT + 1
        name = self.names[rank]
        reach = self.windows.reach.get(name)
        if reach is None:
            return None
        first = int(np.searchsorted(reach, frontier - MAX_SHIFT - CLIP_MARGIN - 1, side="right"))  # (a base to spare)
        if first == len(reach):
            return None
        start = max(frontier, int(self.windows.starts[name][first]) + 1)
        return rank, start - MAX_SHIFT + 1

    def passed(self, out: bytes, moved: list[bytes]) -> Iterator[bytes]:
        """``out`` (the block's records the clip rule did not move, in input order) and ``moved``
        taken in; the records no later record can land before given out, in order."""
        if out:
            if not out.endswith(b"\n"):
                out += b"\n"
            self.held.append(out)
            self.held_size += len(out)
        for line in moved:
            key = self.key(line, 0)
            if key <= self.released:
                raise RuntimeError("a moved read would land before records already written")
            insort(self.moved, (key, self.serial, line))
            self.serial += 1
            self.moved_size += len(line) + 1
        self.largest_hold = max(self.largest_hold, self.held_size + self.spill_size - self.spill_read + self.moved_size)
        landing = self.earliest_landing()
        yield from one_chunk(self.released_before(None if landing is None else (landing[0], landing[1] - 1, 1)))
        if self.held_size > HOLD_LIMIT:
            self.spilled()

    def spilled(self) -> None:
        """The held records in memory written to the temporary file, after those already there."""
        if self.spill is None:
            self.spill = tempfile.TemporaryFile(prefix="genoscrub-held-")  # noqa: SIM115 (held across blocks: close())
        self.spill.seek(self.spill_size)
        for piece in self.held:
            self.spill.write(piece)
        self.spill_size += self.held_size
        self.held, self.held_size = [], 0

    def released_before(self, bound: Key | None) -> Iterator[bytes]:
        """The held records of ``bound`` or before it (None: every one), moved ones among them."""
        moved = self.moved
        taken = 0
        for text in self.unmoved_before(bound):
            last = self.key(text, text.rfind(b"\n", 0, len(text) - 1) + 1)
            until = bisect_left(moved, (last, -1, b""))  # the moved records before its last line's key
            if until > taken:
                pieces: list[bytes] = []
                at = 0
                for key, _, line in moved[taken:until]:
                    place = self.after(text, key, at)
                    pieces += [text[at:place], line, b"\n"]
                    at = place
                pieces.append(text[at:])
                yield b"".join(pieces)
                taken = until
            else:
                yield text
        until = len(moved) if bound is None else bisect_right(moved, (bound, self.serial, b""))
        if until > taken:
            yield b"".join(line + b"\n" for _, _, line in moved[taken:until])
        if until:
            self.moved_size -= sum(len(line) + 1 for _, _, line in moved[:until])
            del moved[:until]
        if bound is not None:
            self.released = max(self.released, bound)

    def unmoved_before(self, bound: Key | None) -> Iterator[bytes]:
        """The held unmoved records of ``bound`` or before it, from the temporary file first."""
        spill = self.spill
        while spill is not None and self.spill_read < self.spill_size:
            spill.seek(self.spill_read)
            text = spill.read(min(SPILL_READ, self.spill_size - self.spill_read))
            while not text.endswith(b"\n"):  # a line cut by SPILL_READ (every held piece ends one)
                text += spill.readline()
            cut = len(text) if bound is None else self.after(text, bound)
            if cut:
                yield text[:cut]
            self.spill_read += cut
            if cut < len(text):
                return
        if spill is not None:
            spill.seek(0)
            spill.truncate()
            self.spill_read = self.spill_size = 0
        held = self.held
        while held:  # piece by piece: a piece that goes whole is not copied
            text = held[0]
            cut = len(text) if bound is None else self.after(text, bound)
            if cut:
                yield text if cut == len(text) else text[:cut]
                self.held_size -= cut
            if cut < len(text):
                held[0] = text[cut:]
                return
            del held[0]

    def remaining(self) -> Iterator[bytes]:
        """Every record still held, in order, once the input ends or is found not sorted."""
        yield from one_chunk(self.released_before(None))
        self.close()

    def close(self) -> None:
        if self.spill is not None:
            self.spill.close()
            self.spill = None
        self.spill_read = self.spill_size = 0


def fields_of_rows(table: BlockFields, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The optional fields of ``rows`` (sorted lines, each once), in text order: the tab before
    each, the tab or newline after it, and its line (as :func:`sam_columns.place_fields` indexes them).
    The lines whose ``MC`` the bulk paths judge are a few in a hundred of a block's: their fields
    alone are looked at, not every field of the block."""
    located = table.located
    counts = located.extra_counts[rows]
    firsts = table.first_fields()[rows]
    index = np.repeat(firsts - np.cumsum(counts) + counts, counts) + np.arange(int(counts.sum()))
    return located.extra_starts[index], located.extra_ends[index], np.repeat(rows, counts)


def tag_spans_of_rows(
    table: BlockFields, names: tuple[bytes, ...], rows: np.ndarray, chosen: np.ndarray | None = None,
    fields: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """:func:`tag_spans` of the lines ``chosen`` marks (None: every one), looking only at the
    fields of ``rows`` (sorted lines, each once, among them every chosen line that holds such a
    field: the lines ``sam_columns.tag_lines`` found holding one), not at every field of the block
    (``fields``: :func:`fields_of_rows` of ``rows``, where the caller has them)."""
    tabs, ends, owners = fields_of_rows(table, rows) if fields is None else fields
    buffer = table.buffer
    last = len(buffer) - 1
    first, second = buffer[np.minimum(tabs + 1, last)], buffer[np.minimum(tabs + 2, last)]
    named = np.zeros(len(tabs), dtype=bool)
    for name in names:
        named |= (first == name[0]) & (second == name[1])
    keep = named & (ends - tabs > 5)
    if chosen is not None:
        keep &= chosen[owners]
    return owners[keep], tabs[keep] + 6, ends[keep]


def mate_cigar_fields(
    table: BlockFields, rows: np.ndarray, fields: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The ``MC:Z:`` fields of ``rows`` (sorted lines, each once), in text order: the tab before
    each, the tab or newline after it, and its line (:func:`fields_of_rows`, or ``fields``, what
    it gives for ``rows``)."""
    buffer = table.buffer
    tabs, ends, owners = fields_of_rows(table, rows) if fields is None else fields
    last = len(buffer) - 1

    def at(shift: int) -> np.ndarray:
        return buffer[np.minimum(tabs + shift, last)]

    chosen = (at(1) == 77) & (at(2) == 67) & (at(3) == 58) & (at(4) == 90) & (at(5) == 58)  # MC:Z:
    return tabs[chosen], ends[chosen], owners[chosen]


def left_clipped_mates(
    table: BlockFields, rows: np.ndarray, mate_cigars: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None
) -> np.ndarray:
    """For each of ``rows``, whether its ``MC`` starts with a clip (``MC:Z:3S147M``), whose
    removal moves the mate's POS (``revert.clip_start``). ``mate_cigars``: :func:`mate_cigar_fields`
    of ``rows`` or of lines among which they are (each field is judged alone), where the caller has them."""
    buffer = table.buffer
    last = len(buffer) - 1

    def at(places: np.ndarray) -> np.ndarray:
        return buffer[np.minimum(places, last)]

    tabs, _, owning = mate_cigar_fields(table, rows) if mate_cigars is None else mate_cigars
    places = tabs + 6
    clipped = np.zeros(len(places), dtype=bool)
    digits = np.ones(len(places), dtype=bool)
    for shift in range(11):  # a CIGAR length has up to 10 digits
        value = at(places + shift)
        is_digit = (value >= 48) & (value <= 57)
        if shift:
            clipped |= digits & ((value == 83) | (value == 72))  # S, H after the first length
        digits &= is_digit
        if not digits.any():
            break
    left_clipped = np.zeros(len(table), dtype=bool)
    left_clipped[owning[clipped]] = True
    return left_clipped[rows]


def with_template_length(table: BlockFields, row: int, head: bytes, template_length: bytes) -> bytes:
    """``head``, a record's text from its line start, with TLEN replaced."""
    start = int(table.line_starts[row])
    return head[: int(table.tabs[row, 7]) + 1 - start] + template_length + head[int(table.tabs[row, 8]) - start :]


class QueryLength(CigarTable):
    """CIGAR string -> the SEQ length it implies, or -1 when it cannot be read."""

    def value(self, cigar: bytes, shape: CigarShape | None) -> int:
        return -1 if shape is None else shape.query_length


class ReferenceLength(CigarTable):
    """CIGAR string -> the reference bases it covers (0 when it cannot be read)."""

    def value(self, cigar: bytes, shape: CigarShape | None) -> int:
        return 0 if shape is None else shape.reference_length


class Clipped(CigarTable):
    """CIGAR string -> 1 when it has a soft clip, else 0."""

    def value(self, cigar: bytes, shape: CigarShape | None) -> int:
        return int(shape is not None and bool(shape.left_clip or shape.right_clip))


def tag_spans(table: BlockFields, names: tuple[bytes, ...], rows: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(rows, value starts, value ends)`` of the optional fields of ``rows`` named one of ``names``
    (two bytes each, whatever their type), found from the block's located tabs by array passes over
    every field: the reference :func:`tag_spans_of_rows` is held to (tests/test_revert_bulk_paths.py)."""
    located, buffer = table.located, table.buffer
    tabs, ends, counts = located.extra_starts, located.extra_ends, located.extra_counts
    if not len(tabs):
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty, empty
    last = len(buffer) - 1
    first, second = buffer[np.minimum(tabs + 1, last)], buffer[np.minimum(tabs + 2, last)]
    named = np.zeros(len(tabs), dtype=bool)
    for name in names:
        named |= (first == name[0]) & (second == name[1])
    chosen = np.flatnonzero(named)
    owners = np.searchsorted(np.cumsum(counts), chosen, side="right")  # the line of each tag found
    keep = rows[owners] & (ends[chosen] - tabs[chosen] > 5)
    chosen = chosen[keep]
    return owners[keep], tabs[chosen] + 6, ends[chosen]


def same_report_keys(counts: Counter[str]) -> None:
    """A changed read counts its indels and masked clips too, even at zero: the
    report lists the same keys, in the same order, whichever path changed it."""
    if "reads_changed" in counts:
        counts["indels_reverted"] += 0
        counts["clip_bases_masked"] += 0
        counts["clip_bases_aligned"] += 0
