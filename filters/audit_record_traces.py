"""What a delivered VCF's records say of records that are not there, by the audit's own reading.

vcf-drop-rare and vcf-drop-regions drop records; the records they keep must not point at the
ones they dropped (the scrubbers' rules are in ``record_traces``; none is shared). Such
pointers can be seen from the delivered file alone, in every run (with or without a population,
regions or a germline list), each found by the site of the record that points, never by an
allele:

- **``*`` with no deletion over it.** A ``*`` allele (VCF 4.3, 1.6.1) says a deletion upstream
  spans POS. Some delivered record earlier on the contig (at a smaller POS) must have an ALT of
  bases shorter than its REF, which spans its ``POS + 1`` to ``POS + len(REF) - 1``, over POS.
- **a phase set named after no delivered record.** FORMAT/PS names the POS of the set's first
  variant (GATK, WhatsHap), which carries the set itself: a sample's PS value must be the POS
  of a delivered record of the contig at or before this one whose PS in that sample is its own
  POS. Only those (sample, position) pairs are remembered, per contig.
- **a gap in a gVCF.** In a gVCF every record carries ``<NON_REF>`` or ``<*>`` (blocks and
  variants alike), and the records cover the contig base by base: a gap between two records
  of a contig (the next POS past the previous records' last base, INFO/END or REF's) is where a
  dropped call was. Gaps are counted as met and reported at the end of the file, only when every
  record of it carried a placeholder (an ordinary VCF has gaps everywhere). Only gaps of at most
  ``LONGEST_HOLE`` bases count: what a dropped SNV or indel leaves. A gVCF cut to padded intervals
  (``-L``, an exome) has a longer gap at each interval's edge, nearly always; a shorter one is
  reported too. A gap every person's scrubbed gVCF has there (``GapExcuse``, given by
  ``audit_vcf`` from its regions and population) says nothing of this one and is no finding.
- **a gap beside a reference call.** An all-sites VCF (``bcftools call -m`` without ``-v``, GATK's
  ``--include-non-variant-sites``, Strelka2's genome.vcf) writes a record at every base it called,
  ALT ``.`` where it found no variant, and variants beside them: a gap of at most ``LONGEST_HOLE``
  bases next to a run of such records is where a dropped call was, whatever the record on its other
  side carries. A run is a block (a record with ALT ``.`` and an INFO/END past its REF: Strelka2's
  ``900 . END=999``), or a record with ALT ``.`` that the record before it (before the gap) or the
  one after it (after the gap) touches, no base between them: ``9316 .``, ``9317 .``, a gap,
  ``9319``; or a gap, ``9319 .``, ``9320``. A variant-only VCF holds no such record, and one with a
  few (a cohort's file cut to one sample, ``bcftools view -a``: ALT ``.`` where the sample has no
  ALT) has them between calls, not in runs: its gaps are no finding.
- **a breakend whose mate is not delivered.** A paired breakend (VCF 4.3, 5.4) names its mate's
  place in ALT (``G[chr2:321682[``, ``]chr13:123456]T``) and often its ID in INFO/MATEID: a
  delivered record must be a breakend at that place (one naming a mate by ALT or MATEID), and one
  with that ID. A mate on a contig of an assembly file (``N[<ctg1>:5[``) is no record of this
  file. Mates later in the file are resolved at its end; only the breakend records are
  remembered (their places, IDs, and where the ones naming a mate are).
- **a haplotype block named after no delivered record.** WhatsHap's FORMAT/HP (``--tag=HP``:
  ``1000-1,1000-2``) names its block by the POS of the block's first record, as PS does, and is
  held to the same rule.

The places a record names for a breakpoint of its own elsewhere (``NamedPlaces``: a breakend's
mate in ALT, an SV's other end in INFO ``CHR2`` with ``POS2``, ``END2`` or Delly's ``END``, and
``MATEPOS``, a POS or ``chr:pos``, each key only where the header declares it) are read here too,
for the regions check of ``audit_vcf``: such a place in a region shows a breakpoint there, as the
record's own span would.

What cannot be seen: a dropped record of a split multi-allelic site leaves its kept half with the
site's GT, AD and PL (GT ``1/0`` with AD ``0,15``), which a true het with few REF reads can show too;
a finding there would fire on ordinary data, so none is made.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from genoscrub.audit_findings import FindingClass

STAR_FINDING = "ALT * (no delivered deletion spans it)"
PHASE_SET_FINDING = "FORMAT/PS (names no delivered record of its set)"
GAP_FINDING = "gVCF gap (no record covers the bases before it)"
CALL_GAP_FINDING = "all-sites gap (no record covers the bases beside a record with ALT .)"
MATE_FINDING = "breakend (its mate names no delivered record)"
HAPLOTYPE_FINDING = "FORMAT/HP (names no delivered record of its block)"
MATE_PLACE = re.compile(rb"[\[\]]([^\[\]]+):([0-9]{1,12})[\[\]]")
HAPLOTYPE_ITEM = re.compile(rb"([0-9]{1,12})-[0-9]+")
LONGEST_HOLE = 100
"""The longest gap a gVCF's dropped call leaves (a variant caller's REF: an SNV's 1 base, an
indel's span); the gaps between an exome's padded intervals are longer."""
PLACEHOLDERS = frozenset({b"<NON_REF>", b"<*>"})
BASES = re.compile(rb"[ACGTNacgtn]+")
END_ITEM = re.compile(rb"(?:^|;)END=(\d{1,12})(?=;|$)")


INFO_PLACE_KEYS = (b"POS2", b"END2", b"MATEPOS")
"""INFO keys naming an SV's other breakpoint: a POS on the contig of ``CHR2`` (the record's own
without one), or ``chr:pos``."""
OTHER_CONTIG = b"CHR2"


def alt_places(alts: list[bytes]) -> list[tuple[bytes, int]]:
    """The mate places a breakend's ALT names (``G[chr2:321682[``: chr2 and 321682), but those on a
    contig of an assembly file (``N[<ctg1>:5[``), which is no place of this genome."""
    return [(contig, int(number)) for alt in alts for contig, number in MATE_PLACE.findall(alt) if contig[:1] != b"<"]


def info_places(chrom: bytes, info: bytes, keys: frozenset[bytes]) -> list[tuple[bytes, int]]:
    """The places INFO names for an SV's other breakpoint, by the keys of ``keys`` (the header's
    among ``CHR2`` and ``INFO_PLACE_KEYS``): each number of a place key, on CHR2's contig (each,
    where it is written twice) or the record's own, and ``END`` too where CHR2 is given (Delly's
    translocations: ``CHR2=chr13;END=5000``); a value ``chr:pos`` on its own contig."""
    seconds: list[bytes] = []
    values: list[tuple[bytes, bytes]] = []
    for item in info.split(b";"):
        key, _, value = item.partition(b"=")
        if key == OTHER_CONTIG and key in keys:
            seconds.append(value or chrom)
        elif key in keys or key == b"END":
            values.append((key, value))
    places = []
    for key, value in values:
        if key == b"END" and not seconds:
            continue
        for one in value.split(b","):
            contig, _, number = one.rpartition(b":")
            if number.isdigit() and len(number) <= 12 and contig[:1] != b"<":
                places += [(contig, int(number))] if contig else [(second, int(number)) for second in seconds or [chrom]]
    return places


class NamedPlaces:
    """The places a file's records name for a breakpoint elsewhere (``alt_places``, ``info_places``),
    read only in the records that may hold one: in a block holding a bracket or a declared key's
    name, a record holding one (every record with ``GENOSCRUB_ONE_BY_ONE=1``). A file without SVs
    pays the block searches alone."""

    def __init__(self, info_declared: set[bytes]) -> None:
        self.keys = frozenset(key for key in (OTHER_CONTIG, *INFO_PLACE_KEYS) if key in info_declared)
        self.marks = tuple(key + b"=" for key in sorted(self.keys))
        self.in_block = True

    def look(self, block: bytes, every_record: bool) -> None:
        """Whether a block's records (its lines joined) may name a place."""
        self.in_block = every_record or b"[" in block or b"]" in block or any(mark in block for mark in self.marks)

    def of(self, chrom: bytes, alt: bytes, info: bytes) -> list[tuple[bytes, int]]:
        """The places one record names (its contig as written, its 1-based position)."""
        places = alt_places(alt.split(b",")) if b"[" in alt or b"]" in alt else []
        if self.marks and any(mark in info for mark in self.marks):
            places += info_places(chrom, info, self.keys)
        return places


GapExcuse = Callable[[bytes, int, int], bool]
"""Whether a gap (its contig as written, first and last base, 1-based) is one the scrubbers leave in
every person's gVCF there: beside a region they dropped, or at a population site whose REF is rare."""


def phase_set_starts(value: bytes) -> set[int]:
    """The POS a sample's PS names (-1, which no record has, for a value that is no such number)."""
    if value in (b".", b""):
        return set()
    return {int(value) if value.isdigit() and len(value) <= 12 else -1}


def haplotype_block_starts(value: bytes) -> set[int]:
    """The POS each item of WhatsHap's HP names (``1000-1,1000-2``: 1000)."""
    return {int(block) for block in HAPLOTYPE_ITEM.findall(value)}


class DeliveredTraces:
    """The checks above over one VCF's records, in order."""

    def __init__(self, findings: FindingClass, common_gap: GapExcuse | None = None) -> None:
        self.findings = findings
        self.common_gap = common_gap
        self.contig: bytes | None = None
        self.reach = 0  # the last base a deletion at a smaller POS spans
        self.site_pos = -1
        self.site_reach = 0  # the same, of deletions at ``site_pos`` (they span only later bases)
        self.phase_starts: set[tuple[int, int]] = set()
        self.covered = 0  # the last base the contig's records cover so far
        self.gvcf = True
        self.gaps = 0
        self.gap_places: list[str] = []
        self.breakend_places: set[tuple[bytes, int]] = set()
        self.breakend_ids: set[bytes] = set()
        self.naming_mates: list[tuple[str, list[tuple[bytes, int]], list[bytes]]] = []
        self.haplotype_starts: set[tuple[int, int]] = set()
        self.brackets = self.mate_ids = self.haplotypes = True
        self.call_contig: bytes | None = None
        self.call_covered = 0  # the last base the contig's records cover so far, whatever they carry
        self.after_reference_call = False  # whether the record before was one with ALT . touching the one before it
        self.gap_before_call: str | None = None  # where a gap before the record before lies, if that one has ALT .

    def look(self, block: bytes, every_record: bool, mate_ids: bool, haplotypes: bool) -> None:
        """What the records of a block (its lines joined) are read for: breakends where it holds a
        bracket (every record where ``every_record``), MATEID and HP where the header declares them
        (an undeclared key is a finding of its own)."""
        self.brackets = every_record or b"[" in block or b"]" in block
        self.mate_ids, self.haplotypes = mate_ids, haplotypes

    def record(self, chrom: bytes, pos: int, ref: bytes, alts: list[bytes], info: bytes, fields: list[bytes], where: str) -> None:
        if chrom != self.contig:
            self.contig, self.reach, self.site_pos, self.site_reach, self.covered = chrom, 0, -1, 0, 0
            self.phase_starts.clear()
            self.haplotype_starts.clear()
        if pos != self.site_pos:
            self.reach, self.site_pos, self.site_reach = max(self.reach, self.site_reach), pos, 0
        if b"*" in alts and self.reach < pos:
            self.findings.add(STAR_FINDING, where)
        if any(len(alt) < len(ref) and BASES.fullmatch(alt) for alt in alts):
            self.site_reach = max(self.site_reach, pos + len(ref) - 1)
        if len(fields) > 9 and b"PS" in fields[8]:
            self.phase_sets(pos, fields, where)
        if self.haplotypes and len(fields) > 9 and b"HP" in fields[8]:
            self.haplotype_blocks(pos, fields, where)
        if (self.brackets and (b"[" in fields[4] or b"]" in fields[4])) or (self.mate_ids and b"MATEID=" in info):
            self.breakend(chrom, pos, fields[2], alts, info, where)
        was_gvcf = self.gvcf
        if self.gvcf:
            self.gap(pos, ref, alts, info, where)
        if self.gvcf:  # no record with ALT . yet, and the gVCF rule reads every gap
            return
        if was_gvcf:  # the first record of no gVCF: the gap rule below takes over what the records before cover
            self.call_contig, self.call_covered = chrom, self.covered
        beside_call = fields[4] == b"." or self.after_reference_call or self.gap_before_call is not None
        if beside_call or chrom != self.call_contig or b"END=" in info:
            self.reference_call_gap(chrom, pos, ref, fields[4], info, where)
        elif pos + len(ref) > self.call_covered:  # beside no record with ALT .: only what it covers counts
            self.call_covered = pos + len(ref) - 1

    def phase_sets(self, pos: int, fields: list[bytes], where: str) -> None:
        self.blocks_named(pos, fields, where, b"PS", phase_set_starts, self.phase_starts, PHASE_SET_FINDING)

    def haplotype_blocks(self, pos: int, fields: list[bytes], where: str) -> None:
        self.blocks_named(pos, fields, where, b"HP", haplotype_block_starts, self.haplotype_starts, HAPLOTYPE_FINDING)

    def blocks_named(
        self, pos: int, fields: list[bytes], where: str, key: bytes, starts: Callable[[bytes], set[int]],
        started: set[tuple[int, int]], finding: str,
    ) -> None:
        """A FORMAT key naming the POS of its block's first record (PS, HP): a sample's value naming
        its own POS starts a block; one naming a POS no earlier record of the sample started is ``finding``."""
        keys = fields[8].split(b":")
        if key not in keys:
            return
        at = keys.index(key)
        named_elsewhere = False
        for sample, column in enumerate(fields[9:]):
            values = column.split(b":")
            for start in starts(values[at] if at < len(values) else b"."):
                if start == pos:
                    started.add((sample, pos))
                elif (sample, start) not in started:
                    named_elsewhere = True
        if named_elsewhere:
            self.findings.add(finding, where)

    def breakend(self, chrom: bytes, pos: int, record_id: bytes, alts: list[bytes], info: bytes, where: str) -> None:
        """Remember a breakend record, and what it names of its mate."""
        self.breakend_places.add((chrom, pos))
        if record_id != b".":
            self.breakend_ids.update(record_id.split(b";"))
        places = alt_places(alts)  # a mate on an assembly file's contig (``<ctg1>``) is no record of this file
        ids = [
            one
            for item in info.split(b";")
            if item.startswith(b"MATEID=")
            for one in item[7:].split(b",")
            if one not in (b"", b".")
        ]
        if places or ids:
            self.naming_mates.append((where, places, ids))

    def gap(self, pos: int, ref: bytes, alts: list[bytes], info: bytes, where: str) -> None:
        if PLACEHOLDERS.isdisjoint(alts):
            self.gvcf = False
            self.gap_places.clear()
            return
        if (
            self.covered
            and self.covered + 1 < pos <= self.covered + 1 + LONGEST_HOLE
            and (self.common_gap is None or self.contig is None or not self.common_gap(self.contig, self.covered + 1, pos - 1))
        ):
            self.gaps += 1
            if len(self.gap_places) < 3:
                self.gap_places.append(where)
        ends = [int(end) for end in END_ITEM.findall(info)]
        self.covered = max(self.covered, pos + len(ref) - 1, *ends)

    def reference_call_gap(self, chrom: bytes, pos: int, ref: bytes, alt: bytes, info: bytes, where: str) -> None:
        """A gap of 1 to ``LONGEST_HOLE`` bases beside a run of records with ALT ``.``: after one in a
        run, or before one in a run (a block, or one the next record touches: known at that one)."""
        if chrom != self.call_contig:
            self.call_contig, self.call_covered, self.after_reference_call, self.gap_before_call = chrom, 0, False, None
        reference_call = alt == b"."
        covered = self.call_covered
        touching = covered > 0 and pos <= covered + 1
        end = pos + len(ref) - 1
        block = False
        if b"END=" in info:
            ends = [int(found) for found in END_ITEM.findall(info)]
            block = reference_call and max(ends, default=0) > end
            end = max([end, *ends])
        if self.gap_before_call is not None and touching:
            self.findings.add(CALL_GAP_FINDING, self.gap_before_call)
        self.gap_before_call = None
        if covered and covered + 1 < pos <= covered + 1 + LONGEST_HOLE:
            if self.after_reference_call or block:
                self.findings.add(CALL_GAP_FINDING, where)
            elif reference_call:
                self.gap_before_call = where
        self.after_reference_call = reference_call and (touching or block)
        self.call_covered = max(covered, end)

    def finish(self) -> None:
        """Report the gaps of a file that was a gVCF throughout, and the breakends whose mate is not there."""
        for where, places, ids in self.naming_mates:
            if not (self.breakend_places.issuperset(places) and self.breakend_ids.issuperset(ids)):
                self.findings.add(MATE_FINDING, where)
        self.naming_mates.clear()
        if self.gvcf and self.gaps:
            self.findings.add_all(GAP_FINDING, self.gap_places, self.gaps)
