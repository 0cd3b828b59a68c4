"""What a dropped record leaves in the records kept beside it (vcf-drop-rare, vcf-drop-regions).

A record dropped as rare, germline or in a region must leave no trace in the records kept. Four
kinds of kept record point at a dropped one without naming its allele:

- **its site's other records.** ``bcftools norm -m -`` splits a multi-allelic call into one record
  per ALT, each with the site's genotype, depths and likelihoods: the kept half of ``1000 T A,C``
  (GT 1/2) is ``1000 T A`` with GT ``1/0`` and AD ``0,15``, no read of REF, the dropped ALT's
  carrier status in plain sight. Records next to each other at one CHROM and POS are one site
  (``vcf.whole_sites`` keeps them in one block): when one goes, all go
  (``records_dropped_with_their_site``).
- **a ``*`` allele** (VCF 4.3, 1.6.1: the allele missing because of an upstream deletion) says the
  person carries a deletion over POS. A record with one stays only while a kept record earlier on
  the contig has a deletion allele (an ALT of bases shorter than REF) over POS, that record's
  ``POS + 1`` to ``POS + len(REF) - 1``; otherwise it goes, and its site with it
  (``dropped_spanning_deletion_gone``).
- **a phase set.** FORMAT/PS names the POS of the set's first variant (GATK, WhatsHap), perhaps
  the record dropped. A kept record's PS in a sample that names no kept record of its set is
  written as the POS of the set's first kept record in that sample, so the set still groups the
  same kept records; the map from old to new values is per sample and forgotten when the contig
  changes (``rewritten_phase_sets``, records).
- **a haplotype block** (WhatsHap's FORMAT/HP, ``1000-1,1000-2``) is named as a phase set is, and
  renamed the same way; an HP of another shape is written ``.``.
- **a breakend's mate** (vcf-drop-rare). A paired breakend names its mate's place (ALT) and ID
  (MATEID): the two need one verdict, and the mate's is not known when the first is written, so
  every record naming a mate so goes, and a one-record SV naming in INFO the place of a breakend
  dropped before it (``_mate_drops``; vcf-drop-regions judges the mate's place statelessly).
- **a hole between reference records** (vcf-drop-rare). A gVCF's blocks (ALT ``<NON_REF>`` or
  ``<*>`` alone, with INFO/END) and an all-sites VCF's records (ALT ``.``) cover every base but the
  variants', so a dropped variant leaves a hole exactly where it was. The dropped records between
  two kept ones (a *gap*) are covered: the reference record before them gets INFO/END up to the
  next kept record's POS - 1 (the dropped records' end where the contig ends); where a variant
  precedes, the reference record after them is moved back to the first dropped POS, its REF that
  record's first base, its END kept (or written: its old POS). Never over a dropped reference
  record, nor, with ``--population``, a site whose REF is rare (``coverable``: the longer block
  would be judged rare, and claims the person carries that REF); and no record gets an END the
  header does not define. A gap beside a reference record left open is counted (``holes_left``),
  a record extended or moved too (``reference_blocks_extended``). The record before a gap may be
  the last kept record of the block before: a block's last kept record, when it is a reference
  record, is held back until the next kept record (or the contig's end) is seen. In a file whose
  header defines no END (``bcftools call -m`` without ``-v``), where nothing can be covered, every
  record with ALT ``.`` goes (``reference_calls_dropped``), whatever was dropped: the output is a
  variant-only VCF, in which a base without a record reads as not called.

Only the records that need it are split: the records of a split site and the deletions beside a
``*`` are found by numpy (POS compared where its length and last digits agree; ALT shorter than REF),
the records holding ``PS`` by comparing the block's FORMAT columns with the few distinct ones it
holds (``phase_set_formats``), the reference records by numpy, and a block with none (an ordinary
VCF) reads only the dropped records after its last kept one. With ``GENOSCRUB_ONE_BY_ONE=1`` every
record is read one by one; the tests hold the two paths, and any cut into blocks, to one output.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from operator import eq

import numpy as np
from genoscrub import scan
from genoscrub.alleles import SEQUENCE_ALLELE, SEQUENCE_BYTES
from genoscrub.breakend_mates import MateReader, Mates
from genoscrub.fields import gathered_spans, span_integers, spans_within
from genoscrub.one_by_one import one_by_one
from genoscrub.report import Report
from genoscrub.vcf import RecordBlock, VcfHeader
from genoscrub.vcf_header import meta_key, meta_value

REFERENCE_ALTS = frozenset({b".", b"<NON_REF>", b"<*>"})
"""ALT columns of a record that names no allele: a gVCF block, an all-sites VCF's reference call."""

PHASE_KEYS = (b"HP", b"PS")
"""FORMAT keys naming a record of the sample's phase set by its POS: PS, and WhatsHap's HP
(``--tag=HP``: ``HP=1000-1,1000-2``, the block's first POS, then each allele's haplotype)."""
HAPLOTYPE_IDS = re.compile(rb"([0-9]{1,12})-[0-9]{1,3}(?:,[0-9]{1,12}-[0-9]{1,3})*")
HAPLOTYPE_BLOCK = re.compile(rb"([0-9]+)-")

# Report counts (never values).
SITE_DROPS = "records_dropped_with_their_site"
STAR_DROPS = "dropped_spanning_deletion_gone"
PHASE_SETS = "rewritten_phase_sets"
EXTENDED = "reference_blocks_extended"
HOLES = "holes_left"
REFERENCE_CALLS = "reference_calls_dropped"
MATE_DROPS = "breakends_dropped_with_their_mate"


def same_site_as_next(block: RecordBlock) -> np.ndarray:
    """For each record but the last: whether the next one has the same CHROM and POS. The last 8
    bytes of each CHROM-tab-POS (read as one number, by numpy, the bytes of the line before masked
    off) and its length say which pairs may (the true ones and a few more), which are compared whole;
    every pair with ``GENOSCRUB_ONE_BY_ONE=1``."""
    count = block.count
    if count < 2:
        return np.zeros(0, dtype=bool)
    chrom_start, _ = block.column(0)
    _, pos_end = block.column(1)
    text = block.text
    if one_by_one():
        sites = block.spans(chrom_start, pos_end)
        return np.fromiter(map(eq, sites[1:], sites[:-1]), dtype=bool, count=count - 1)
    data = block.data
    words = np.ndarray(shape=(max(len(data) - 7, 0),), dtype="<u8", buffer=data, strides=(1,))  # words[i]: bytes i to i + 7
    lengths = pos_end - chrom_start  # CHROM, its tab and POS
    shown = np.minimum(lengths, 8).astype(np.uint64)  # bytes of the word that are the site's, not the line before's
    tails = words[np.maximum(pos_end - 8, 0)] >> (np.uint64(8) * (np.uint64(8) - shown))
    may = (tails[1:] == tails[:-1]) & (lengths[1:] == lengths[:-1])
    may |= (pos_end[:-1] < 8) | (pos_end[1:] < 8)  # a POS within a block's first 8 bytes: no word ends there
    same = np.zeros(count - 1, dtype=bool)
    rows = np.flatnonzero(may)
    firsts, stops = chrom_start[rows].tolist(), pos_end[rows].tolist()
    afters, after_stops = chrom_start[rows + 1].tolist(), pos_end[rows + 1].tolist()
    for row, first, stop, after, after_stop in zip(rows.tolist(), firsts, stops, afters, after_stops, strict=True):
        same[row] = text[first:stop] == text[after:after_stop]
    return same


def reference_records(block: RecordBlock) -> np.ndarray:
    """Which records of a block name no allele (ALT ``.``, ``<NON_REF>`` or ``<*>``), told by numpy."""
    alt_start, alt_end = block.column(4)
    data, lengths = block.data, alt_end - alt_start
    found = np.zeros(block.count, dtype=bool)
    for alt in REFERENCE_ALTS:
        rows = np.flatnonzero(lengths == len(alt))
        same = np.ones(len(rows), dtype=bool)
        for at, byte in enumerate(alt):
            same &= data[alt_start[rows] + at] == byte
        found[rows[same]] = True
    return found


FORMATS_COMPARED = 4
"""A block's FORMAT columns compared by numpy with its first few distinct ones; the rest read one by one."""


def phase_set_formats(block: RecordBlock, keys: frozenset[bytes] = frozenset({b"PS"})) -> np.ndarray:
    """Which records of a block (of 10 columns or more) have a FORMAT column holding ``PS`` (one of ``keys``): the
    column is compared, by numpy, with a few FORMAT columns met in the block (most files write one
    or two), each read once; a record matching none is read alone."""
    text, data, count = block.text, block.data, block.count
    starts, ends = block.tabs[:, 7] + 1, block.ends
    found = np.zeros(count, dtype=bool)
    left = np.ones(count, dtype=bool)
    for _ in range(FORMATS_COMPARED):
        waiting = np.flatnonzero(left)
        if not len(waiting):
            return found
        row = int(waiting[0])
        stop = text.find(b"\t", int(starts[row]), int(ends[row]))
        if stop < 0:  # a FORMAT with no sample after it
            left[row] = False
            continue
        column = text[int(starts[row]) : stop + 1]  # with its tab
        same = starts[waiting] + len(column) <= ends[waiting]
        for at, byte in enumerate(column):
            same &= data[np.minimum(starts[waiting] + at, len(data) - 1)] == byte
        matched = waiting[same]
        left[matched] = False
        found[matched] = not keys.isdisjoint(column[:-1].split(b":"))
    for row in np.flatnonzero(left).tolist():
        stop = text.find(b"\t", int(starts[row]), int(ends[row]))
        found[row] = stop >= 0 and not keys.isdisjoint(text[int(starts[row]) : stop].split(b":"))
    return found


def is_deletion(ref_length: int, alt_field: bytes) -> bool:
    """Whether a record's ALT column holds an allele of bases shorter than its REF."""
    return any(len(allele) < ref_length and SEQUENCE_ALLELE.fullmatch(allele) is not None for allele in alt_field.split(b","))


def has_star(alt_field: bytes) -> bool:
    return b"*" in alt_field.split(b",")


def info_end(info: bytes) -> int:
    """The largest INFO/END of a record (0 without one)."""
    ends = [int(item[4:]) for item in info.split(b";") if item[:4] == b"END=" and item[4:].isdigit() and len(item) <= 14]
    return max(ends, default=0)


def with_info_end(info: bytes, end: int) -> bytes:
    """INFO with every END item set to ``end``, or one added."""
    items = [] if info == b"." else info.split(b";")
    written = b"END=%d" % end
    found = [index for index, item in enumerate(items) if item[:4] == b"END="]
    for index in found:
        items[index] = written
    if not found:
        items.append(written)
    return b";".join(items)


@dataclass
class KeptRecord:
    """The last kept record seen: where it is, whether it names no allele, and its text when it
    was held back from its block (``row`` None) or the row of the block being settled."""

    chrom: bytes
    pos: int
    end: int
    reference: bool
    row: int | None
    line: bytes


@dataclass
class Gap:
    """Dropped records after the last kept record, on one contig, not yet followed by a kept one."""

    chrom: bytes
    first_pos: int
    first_base: bytes
    end: int
    coverable: bool


class RecordTraces:
    """The rules above over a command's blocks, in order; ``reference_blocks``: cover the holes
    (vcf-drop-rare)."""

    def __init__(self, header: VcfHeader, report: Report, reference_blocks: bool, mate_verdicts: bool = False) -> None:
        self.report = report
        self.reference_blocks = reference_blocks
        self.mate_verdicts = mate_verdicts
        self.mate_reader = MateReader(header)
        self.mate_places: set[tuple[bytes, int]] = set()
        """The places of the paired breakends dropped (vcf-drop-rare), over the file."""
        self.end_declared = b"END" in header.info_numbers
        self.phase_keys = frozenset(
            key for key in PHASE_KEYS if any(meta_key(line) == b"FORMAT" and b"ID=%s," % key in meta_value(line) for line in header.meta)
        )
        """A PS (or HP) the header does not define is no phase set a reader takes (vcf-scrub-header
        removes it, the audit finds it): only a file defining FORMAT/PS or HP is read for it."""
        self.reach_contig: bytes | None = None
        self.reach = 0  # the last base a kept deletion covers on ``reach_contig``
        self.phase_contig: bytes | None = None
        self.phase_sets: dict[tuple[int, bytes, bytes], bytes] = {}
        self.last: KeptRecord | None = None
        self.gap: Gap | None = None

    # --- which records go ------------------------------------------------------------------

    def complete_drops(self, block: RecordBlock, keep: np.ndarray) -> int:
        """Drop (in ``keep``) the records of a site one of whose records goes, and the ``*``
        records no kept deletion spans, and (``mate_verdicts``) the breakends whose mate goes; how
        many records were dropped here."""
        named = self._named_mates(block) if self.mate_verdicts else {}
        dropped = self._mate_drops(keep, named) if named else 0
        stars = self._star_rows(block)
        if keep.all() and not len(stars):
            self._carry_reach(block, keep, stars)
            return dropped + self._drop_reference_calls(block, keep)
        same = same_site_as_next(block)
        if same.any() and not keep.all():
            site = np.concatenate(([0], np.cumsum(~same)))  # the site of each record
            extra = np.isin(site, np.unique(site[~keep])) & keep
            keep[extra] = False
            count = int(np.count_nonzero(extra))
            if count:
                self.report.add(SITE_DROPS, count)
                dropped += count
        dropped += self._carry_reach(block, keep, stars, same)
        return dropped + self._drop_reference_calls(block, keep)

    def _drop_reference_calls(self, block: RecordBlock, keep: np.ndarray) -> int:
        """(vcf-drop-rare) In a file whose header defines no INFO/END, every record with ALT ``.`` goes
        (``reference_calls_dropped``), whatever the others' verdicts; how many went. Such a file (an
        all-sites VCF) has a record at every base, and no END can cover a dropped call's base: the
        hole would be its place. Extending nothing there, only a file without them shows no hole (a
        base without a record reads as not called). Decided after the site rule, so a call sharing
        its POS with one stays."""
        if not self.reference_blocks or self.end_declared or not block.count:
            return 0
        alt_start, alt_end = block.column(4)
        calls = (alt_end - alt_start == 1) & (block.data[alt_start] == ord(".")) & keep
        count = int(np.count_nonzero(calls))
        if count:
            keep[calls] = False
            self.report.add(REFERENCE_CALLS, count)
        return count

    def _carry_reach(self, block: RecordBlock, keep: np.ndarray, stars: np.ndarray, same: np.ndarray | None = None) -> int:
        """Drop the ``*`` records (``stars``) no kept deletion spans, with their sites (``same``:
        ``same_site_as_next``), and carry the reach of the kept deletions on to the next block;
        how many records were dropped."""
        if not block.count:
            return 0
        text, data = block.text, block.data
        chroms = gathered_spans(text, data, *block.column(0))
        contig = np.concatenate(([0], np.cumsum(chroms[1:] != chroms[:-1])))  # the contig run of each record
        carried = self.reach if self.reach_contig == bytes(chroms[0]) else 0  # run 0 goes on from the block before
        pos_start, pos_end = block.column(1)
        ref_start, ref_end = block.column(3)
        alt_start, alt_end = block.column(4)
        ref_lengths = ref_end - ref_start
        rows = np.arange(block.count) if one_by_one() else np.flatnonzero(ref_lengths > 1)
        if not one_by_one() and not len(stars):  # only a deletion reaching the block's last POS can span a later `*`
            last_pos = int(text[pos_start[-1] : pos_end[-1]])
            reaching = span_integers(data, text, pos_start[rows], pos_end[rows]) + ref_lengths[rows] - 1 >= last_pos
            rows = rows[reaching & (contig[rows] == contig[-1])]
        if not one_by_one():  # one ALT of bases shorter than REF: a deletion, told by numpy; the rest one by one
            simple = alt_end[rows] - alt_start[rows] < ref_lengths[rows]
            simple &= spans_within(data, text, alt_start[rows], alt_end[rows], SEQUENCE_BYTES)
            others = rows[~simple]
            rows = rows[simple]
        else:
            others, rows = rows, rows[:0]
        found = [row for row in others.tolist() if is_deletion(int(ref_lengths[row]), text[alt_start[row] : alt_end[row]])]
        deletions = np.sort(np.concatenate((rows, np.array(found, dtype=np.int64))))
        positions = span_integers(data, text, pos_start[deletions], pos_end[deletions]) if len(deletions) else np.zeros(0, dtype=np.int64)
        ends = positions + ref_lengths[deletions] - 1
        dropped = 0
        for row in stars.tolist():
            pos = int(text[pos_start[row] : pos_end[row]])
            before = (deletions < row) & (contig[deletions] == contig[row]) & keep[deletions] & (positions < pos)
            reach = max(int(ends[before].max(initial=0)), carried if contig[row] == 0 else 0)
            if reach >= pos or not keep[row]:
                continue
            keep[row] = False
            dropped += 1
            self.report.add(STAR_DROPS)
            assert same is not None
            for step in (-1, 1):  # its site's other records go with it
                at = row
                while 0 <= at + min(step, 0) < len(same) and same[at + min(step, 0)]:
                    at += step
                    if keep[at]:
                        keep[at] = False
                        dropped += 1
                        self.report.add(SITE_DROPS)
        last = contig[-1]
        on_last = (contig[deletions] == last) & keep[deletions]
        self.reach = max(int(ends[on_last].max(initial=0)), carried if last == 0 else 0)
        self.reach_contig = bytes(chroms[-1])
        return dropped

    @staticmethod
    def _star_rows(block: RecordBlock) -> np.ndarray:
        """The records with a ``*`` allele, in order."""
        alt_start, alt_end = block.column(4)
        text = block.text
        if one_by_one():
            rows = np.arange(block.count)
        elif b"*" not in text:
            return np.zeros(0, dtype=np.int64)
        else:
            offsets = np.flatnonzero(block.data == ord("*"))
            rows = np.searchsorted(block.starts, offsets, side="right") - 1
            rows = np.unique(rows[(offsets >= alt_start[rows]) & (offsets < alt_end[rows])])
        return np.array([row for row in rows.tolist() if has_star(text[alt_start[row] : alt_end[row]])], dtype=np.int64)

    # --- a breakend's mate (vcf-drop-rare) -----------------------------------------------------

    def _named_mates(self, block: RecordBlock) -> dict[int, tuple[bytes, int, Mates]]:
        """The block's records naming a mate, by row: CHROM, POS and what they name."""
        found: dict[int, tuple[bytes, int, Mates]] = {}
        for row in self.mate_reader.rows(block).tolist():
            line = block.line(row)
            named = self.mate_reader.mates(line)
            if named:
                columns = line.split(b"\t", 2)
                found[row] = (columns[0], int(columns[1]), named)
        return found

    def _mate_drops(self, keep: np.ndarray, named: dict[int, tuple[bytes, int, Mates]]) -> int:
        """A paired breakend (naming its mate by ALT or MATEID) goes with its event: its own verdict
        and its mate's must both keep it, and the mate's is not known when the first of the two is
        written (the second then names a dropped record), so every one goes. A record naming the
        other end of its SV in INFO (one record for the event) goes when a breakend record dropped
        earlier in the file stands at that place. The places of the dropped breakends are remembered
        over the file, only theirs; how many records were dropped here."""
        dropped = 0
        for row, (chrom, pos, named_mates) in named.items():
            if named_mates.alt_places or named_mates.ids:
                self.mate_places.add((chrom, pos))
            elif not any(place in self.mate_places for place in named_mates.info_places):
                continue
            if keep[row]:
                keep[row] = False
                dropped += 1
        if dropped:
            self.report.add(MATE_DROPS, dropped)
        return dropped

    # --- what the kept records say ---------------------------------------------------------

    def kept_text(self, block: RecordBlock, keep: np.ndarray, changed: dict[int, bytes], reference_rare: np.ndarray | None = None) -> bytes:
        """The block's kept records with their phase sets renamed and the holes covered (``changed``:
        lines the command rewrote already, by row); a reference record held back from the block
        before comes first, and this block's last kept one may be held back in turn.
        ``reference_rare``: the records whose REF is known rare (never covered)."""
        self._rename_phase_sets(block, keep, changed)
        out = b""
        held: int | None = None
        if self.reference_blocks:
            out, held = self._cover_holes(block, keep, changed, reference_rare)
        if not changed and held is None:
            return out + block.kept_text(keep)
        rows = np.union1d(np.flatnonzero(~keep), np.fromiter(changed, dtype=np.int64, count=len(changed)))
        if held is not None:
            rows = np.union1d(rows, [held])
        lines: list[bytes | None] = [None if row == held or not keep[row] else changed[row] for row in rows.tolist()]
        return out + scan.splice_lines(block.text, block.starts, block.ends, rows.astype(np.int64), lines)

    def finish(self) -> bytes:
        """What is held back at the end of the input, its gap covered."""
        if self.gap is not None:
            self._close_gap(None)
        last, self.last = self.last, None
        return last.line + b"\n" if last is not None and last.row is None else b""

    def _rename_phase_sets(self, block: RecordBlock, keep: np.ndarray, changed: dict[int, bytes]) -> None:
        if block.tabs.shape[1] < 8 or not self.phase_keys:  # no FORMAT column, or no PS or HP to read
            return
        if one_by_one():
            rows = np.flatnonzero(keep)
        else:
            rows = np.flatnonzero(phase_set_formats(block, self.phase_keys) & keep)
        for row in rows.tolist():
            line = changed.get(row)
            renamed = self._renamed(block.line(row) if line is None else line)
            if renamed is not None:
                changed[row] = renamed
                self.report.add(PHASE_SETS)

    def _renamed(self, line: bytes) -> bytes | None:
        """A record with each sample's PS (and HP's block) that names no kept record of its set
        renamed, an HP of another shape written ``.``; or None."""
        columns = line.split(b"\t")
        if len(columns) < 10:
            return None
        keys = columns[8].split(b":")
        held = [(key, keys.index(key)) for key in sorted(self.phase_keys) if key in keys]
        if not held:
            return None
        if columns[0] != self.phase_contig:
            self.phase_contig = columns[0]
            self.phase_sets.clear()
        pos = b"%d" % int(columns[1])
        renamed = False
        for sample in range(9, len(columns)):
            values = columns[sample].split(b":")
            for key, at in held:
                if at >= len(values) or values[at] in (b".", b""):
                    continue
                value = values[at]
                if key == b"HP":  # one block's haplotypes, renamed as PS; any other shape goes
                    found = HAPLOTYPE_IDS.fullmatch(value)
                    if found is None or len(set(HAPLOTYPE_BLOCK.findall(value))) != 1:
                        new = b"."
                    else:
                        block_id = found.group(1)
                        named = self._phase_set(sample, key, block_id, pos)
                        new = b",".join(named + item[len(block_id) :] for item in value.split(b","))
                else:
                    new = self._phase_set(sample, key, value, pos)
                if new != value:
                    values[at] = new
                    columns[sample] = b":".join(values)
                    renamed = True
        return b"\t".join(columns) if renamed else None

    def _phase_set(self, sample: int, key: bytes, value: bytes, pos: bytes) -> bytes:
        """What a sample's phase set ``value`` is written as: the POS of its first kept record."""
        new = self.phase_sets.get((sample, key, value))
        if new is None:  # the set's first kept record: it names itself, or the set is named after it
            new = value if value.isdigit() and int(value) == int(pos) else pos
            self.phase_sets[sample, key, value] = new
        return new

    def _cover_holes(
        self, block: RecordBlock, keep: np.ndarray, changed: dict[int, bytes], reference_rare: np.ndarray | None
    ) -> tuple[bytes, int | None]:
        """Walk the dropped records and the kept ones beside them (``Gap``); what was held back from
        the block before (once settled), and the row held back from this one."""
        held_before = self.last if self.last is not None and self.last.row is None else None
        count = block.count
        if not count:
            return b"", None
        dropped = np.flatnonzero(~keep)
        kept_rows = np.flatnonzero(keep)
        if held_before is None and not one_by_one() and not (reference_records(block) & keep).any():
            # no reference record held or kept in the block: a gap before its last kept record lies between
            # calls (beside no reference record: left as it is, not counted), so only the dropped
            # records after it, which may lie beside the next block's first, are read
            first = int(kept_rows[-1]) if len(kept_rows) else 0
            rows = {first, *dropped[dropped > first].tolist()}
        else:
            rows = set(dropped.tolist())
            rows.update((dropped[(dropped > 0)] - 1).tolist())
            rows.update((dropped[dropped < count - 1] + 1).tolist())
            rows.add(0)
            if len(kept_rows):
                rows.add(int(kept_rows[-1]))
        for row in sorted(rows):
            line = changed.get(row, block.line(row)) if keep[row] else block.line(row)
            columns = line.split(b"\t", 8)
            pos = int(columns[1])
            end = max(pos + len(columns[3]) - 1, info_end(columns[7]))
            reference = columns[4] in REFERENCE_ALTS
            if keep[row]:
                record = KeptRecord(columns[0], pos, end, reference, row, line)
                if self.gap is not None:
                    self._close_gap(record, changed)
                self.last = record
            else:
                coverable = not reference and (reference_rare is None or not bool(reference_rare[row]))
                if self.gap is not None and self.gap.chrom != columns[0]:
                    self._close_gap(None, changed)
                if self.gap is None:
                    self.gap = Gap(columns[0], pos, columns[3][:1], end, coverable)
                else:
                    self.gap.end = max(self.gap.end, end)
                    self.gap.coverable &= coverable
        out = b""
        if held_before is not None and self.last is not held_before:
            out = held_before.line + b"\n"
        held = None
        last = self.last
        if last is not None and last.row is not None and last.reference and len(kept_rows) and last.row == int(kept_rows[-1]):
            held = last.row
            last.line = changed.pop(held, last.line)
            last.row = None
        return out, held

    def _close_gap(self, following: KeptRecord | None, changed: dict[int, bytes] | None = None) -> None:
        """Cover the gap between ``self.last`` and ``following`` (None: the contig ended), or count it."""
        gap, self.gap = self.gap, None
        assert gap is not None
        before = self.last if self.last is not None and self.last.chrom == gap.chrom else None
        after = following if following is not None and following.chrom == gap.chrom else None
        beside = (before is not None and before.reference) or (after is not None and after.reference)
        if not beside:
            return
        if gap.coverable and self.end_declared and before is not None and before.reference:
            target = after.pos - 1 if after is not None else gap.end
            if target > before.end:
                columns = before.line.split(b"\t", 8)
                columns[7] = with_info_end(columns[7], target)
                self._rewrite(before, b"\t".join(columns), changed)
                before.end = target
                self.report.add(EXTENDED)
            return
        sorted_after = before is None or gap.first_pos >= before.pos
        if gap.coverable and self.end_declared and after is not None and after.reference and sorted_after:
            columns = after.line.split(b"\t", 8)
            columns[1], columns[3] = b"%d" % gap.first_pos, gap.first_base
            columns[7] = with_info_end(columns[7], after.end)
            self._rewrite(after, b"\t".join(columns), changed)
            after.pos = gap.first_pos
            self.report.add(EXTENDED)
            return
        self.report.add(HOLES)

    @staticmethod
    def _rewrite(record: KeptRecord, line: bytes, changed: dict[int, bytes] | None) -> None:
        record.line = line
        if record.row is not None:
            assert changed is not None
            changed[record.row] = line
