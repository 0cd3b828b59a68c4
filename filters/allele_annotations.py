"""Strings in a kept VCF record that name another record's alleles: per-allele annotations
and GATK's physical phasing ID.

A record dropped as rare must leave no trace in the records kept (``vcf-drop-rare``). Two
kinds of String field carry one:

- **per-allele annotations.** SnpEff's ``ANN`` (and its older ``EFF``), VEP's ``CSQ`` and
  bcftools csq's ``BCSQ`` hold one entry per allele and transcript, each naming its allele:
  ANN's first ``|`` field is the ALT as written (SnpEff's ANN format, 1.0); EFF's eleventh
  field inside the parentheses is the genotype (the ALT, or in old versions its number); CSQ's
  ``Allele`` is the field the header's ``Format:`` list places it at, written as VEP trims it
  (the first base dropped when every allele shares it, ``-`` when nothing is left); BCSQ's
  seventh field is the DNA change, ``POS REF>ALT`` (``@POS`` points at another record).
  ``bcftools norm -m -`` copies the whole field to each record it splits a multi-allelic one
  into, so the common half keeps the rare half's entries, consequence and HGVS included.
  SnpEff's ``LOF`` and ``NMD`` name a gene, not an allele: they may come from any allele the
  annotation saw.
- **physical phasing.** GATK HaplotypeCaller's ``FORMAT/PID`` is ``POS_REF_ALT`` of the first
  variant of the phase group, another record; ``PGT`` phases the record against that group.
  ``PS`` says which records are phased together (a position), so PID adds only that
  variant's alleles.

The rule, fail closed (an entry that cannot be tied to one of the record's own ALTs goes):

- an entry stays only when its allele is one of the record's ALTs as written (BCSQ: its DNA
  change is the record's ``POS REF>ALT``);
- when the field also names other alleles (the record was split from a larger one), the
  record's REF and ALT may have been rewritten after annotation (``bcftools norm -f`` trims
  and left-aligns what it splits, so ``CTAA C,CA`` gives ``CTA C``, whose ALT is the other
  half's ALT as written): the whole field goes if an ALT is an indel, or if another entry's
  allele holds an ALT as a part; BCSQ, which writes POS and REF, needs neither guard;
- CSQ goes whole in a record whose alleles all share their first base (VEP then trims
  alleles, and a trimmed allele cannot be told from another allele as written), or when the
  header gives no ``Format:`` with ``Allele``;
- LOF and NMD stay only beside an ANN or EFF that lost nothing;
- PID and PGT are removed from every record (from FORMAT and every sample): whether the
  variant PID names is kept is not known here, and PS keeps the phase set.

Most records hold none of these: a block is searched for the keys once, and only the kept
records it finds are split (every kept record with ``GENOSCRUB_ONE_BY_ONE=1``). In an annotated
file most records hold one ALT and an ANN whose every entry names it, which the rule leaves as
they are (``unchanged_at_a_glance``, one record); those are settled for the whole block with
numpy (``settled_at_a_glance``) and only the rest are split.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass

import numpy as np
from genoscrub import scan
from genoscrub.alleles import SEQUENCE_BYTES
from genoscrub.fields import spans_within
from genoscrub.one_by_one import one_by_one
from genoscrub.vcf import RecordBlock
from genoscrub.vcf_header import VcfHeader

ALLELE_KEYS = (b"ANN", b"EFF", b"CSQ", b"BCSQ")
GENE_KEYS = (b"LOF", b"NMD")
PHASING_KEYS = (b"PID", b"PGT")
# A superset of the records that hold one of the keys: what the block search looks for. LOF
# and NMD without ``=``: the rule removes them as flags too. ``CSQ=`` finds ``BCSQ=``.
NEEDLES = [b"ANN=", b"EFF=", b"CSQ=", b"LOF", b"NMD", b"PID", b"PGT"]
DOUBTS = NEEDLES[1:]
"""The keys of the rule other than ANN: a record holding any of them anywhere is never settled
at a glance."""
GLANCE_WIDTH = 32  # the longest ALT settled in bulk; a longer one goes to the one-record path
EFF_ALLELE = 10  # Effect(Impact|Class|Codon|AA|Length|Gene|Biotype|Coding|Transcript|Rank|Genotype|...)
BCSQ_CHANGE = 6  # Consequence|gene|transcript|biotype|strand|amino_acid_change|dna_change

# Report counts (never values).
ENTRIES_REMOVED = "removed_annotation_entries"
FIELDS_REMOVED = "removed_annotation_fields"
PHASING_REMOVED = "removed_phasing_ids"


def csq_allele_index(description: bytes | None) -> int | None:
    """Where ``Allele`` is in VEP's ``Format: Allele|Consequence|...`` (None: not given)."""
    if description is None or b"Format:" not in description:
        return None
    names = [name.strip() for name in description.split(b"Format:", 1)[1].split(b"|")]
    return names.index(b"Allele") if b"Allele" in names else None


@dataclass(frozen=True)
class AlleleAnnotations:
    """The rule above for one record at a time; ``csq_allele`` from the header."""

    csq_allele: int | None

    @classmethod
    def of_header(cls, header: VcfHeader) -> AlleleAnnotations:
        return cls(csq_allele_index(header.info_descriptions.get(b"CSQ")))

    def record(self, line: bytes, counts: Counter[str]) -> bytes | None:
        """The record without what names another allele, or None when nothing changes."""
        if unchanged_at_a_glance(line):
            return None
        columns = line.split(b"\t")
        if len(columns) < 8:
            return None
        changed = False
        info = self._info(columns[1], columns[3], columns[4].split(b","), columns[7], counts)
        if info is not None:
            columns[7], changed = info, True
        if len(columns) > 9 and self._without_phasing(columns):
            counts[PHASING_REMOVED] += 1
            changed = True
        return b"\t".join(columns) if changed else None

    def _info(self, pos: bytes, ref: bytes, alts: list[bytes], info: bytes, counts: Counter[str]) -> bytes | None:
        items = info.split(b";")
        keys = [item.split(b"=", 1)[0] for item in items]
        if not any(key in ALLELE_KEYS or key in GENE_KEYS for key in keys):
            return None
        kept: list[bytes | None] = list(items)
        intact = False  # an ANN or EFF that lost nothing: it vouches for LOF and NMD
        for index, (key, item) in enumerate(zip(keys, items, strict=True)):
            if key not in ALLELE_KEYS or b"=" not in item:
                continue
            value = item.split(b"=", 1)[1]
            new = self._annotation(key, value, pos, ref, alts, counts)
            if new == value:
                intact |= key in (b"ANN", b"EFF")
                continue
            kept[index] = None if new is None else key + b"=" + new
            if new is None:
                counts[FIELDS_REMOVED] += 1
        for index, key in enumerate(keys):
            if key in GENE_KEYS and not intact:
                kept[index] = None
                counts[FIELDS_REMOVED] += 1
        if kept == items:
            return None
        remaining = [item for item in kept if item is not None]
        return b";".join(remaining) if remaining else b"."

    def _annotation(self, key: bytes, value: bytes, pos: bytes, ref: bytes, alts: list[bytes], counts: Counter[str]) -> bytes | None:
        """``value`` with only the entries of the record's own ALTs, or None for the whole field."""
        upper_ref = ref.upper()
        own_alts = [alt.upper() for alt in alts]
        trimmed_by_vep = len({allele[:1] for allele in [upper_ref, *own_alts]}) == 1
        if key == b"CSQ" and (self.csq_allele is None or trimmed_by_vep):
            return None
        if key == b"BCSQ":
            own = {pos + upper_ref + b">" + alt for alt in own_alts}
        else:
            own = set(own_alts)
        entries = value.split(b",")
        alleles = [self._allele(key, entry) for entry in entries]
        tied = [allele is not None and allele in own for allele in alleles]
        if all(tied):
            return value
        if key != b"BCSQ":
            if any(len(alt) != len(upper_ref) for alt in own_alts):
                return None
            others = [allele for allele, one in zip(alleles, tied, strict=True) if not one and allele is not None]
            if any(alt in other for other in others for alt in own_alts):
                return None
        kept = [entry for entry, one in zip(entries, tied, strict=True) if one]
        counts[ENTRIES_REMOVED] += len(entries) - len(kept)
        return b",".join(kept) if kept else None

    def _allele(self, key: bytes, entry: bytes) -> bytes | None:
        """The allele an entry names, upper case (BCSQ: its DNA change), or None."""
        if key == b"ANN":
            return entry.split(b"|", 1)[0].upper()
        if key == b"CSQ":
            fields = entry.split(b"|")
            assert self.csq_allele is not None
            return fields[self.csq_allele].upper() if self.csq_allele < len(fields) else None
        if key == b"EFF":
            opening = entry.find(b"(")
            fields = entry[opening + 1 :].rstrip(b")").split(b"|") if opening >= 0 else []
            return fields[EFF_ALLELE].upper() if len(fields) > EFF_ALLELE else None
        fields = entry.split(b"|")
        return fields[BCSQ_CHANGE].upper() if len(fields) > BCSQ_CHANGE else None

    @staticmethod
    def _without_phasing(columns: list[bytes]) -> bool:
        """Remove PID and PGT from FORMAT and every sample (in place); whether any was there."""
        names = columns[8].split(b":")
        gone = [index for index, name in enumerate(names) if name in PHASING_KEYS]
        if not gone:
            return False
        left = [name for index, name in enumerate(names) if index not in gone]
        columns[8] = b":".join(left) if left else b"."
        for sample in range(9, len(columns)):
            values = columns[sample].split(b":")
            values = [value for index, value in enumerate(values) if index not in gone]
            columns[sample] = b":".join(values) if left and values else b"."
        return True


GLANCE_DOUBTS = re.compile(b"|".join(DOUBTS))
"""``DOUBTS`` as one expression, for the one-record glance."""


def unchanged_at_a_glance(line: bytes) -> bool:
    """Whether the rule leaves a record as it is, told without splitting it into columns and
    items: one ALT, one ``ANN=`` in the line and it the INFO key, every entry of it naming that
    ALT as written, and no other key of the rule anywhere. The common annotated record (an SNV
    annotated by snpEff) is settled here; any doubt is False and the whole rule decides."""
    if line.count(b"ANN=") != 1 or GLANCE_DOUBTS.search(line):
        return False
    columns = line.split(b"\t", 8)
    if len(columns) < 8 or not columns[4] or b"," in columns[4]:
        return False
    info = columns[7]
    if info.startswith(b"ANN="):
        start = 4
    else:
        found = info.find(b";ANN=")
        if found < 0:
            return False
        start = found + 5
    end = info.find(b";", start)
    value = info[start : end if end >= 0 else len(info)]
    head = columns[4] + b"|"
    return value.startswith(head) and value.count(b",") == value.count(b"," + head)


@dataclass(frozen=True)
class Candidates:
    """The rows of a block that may hold one of the keys (a superset, in order), and for each
    whether it may be settled at a glance (``glanceable``: its line's one ``ANN=`` is an INFO
    key, at ``value_starts:value_ends``, and no other needle is in it)."""

    rows: np.ndarray
    glanceable: np.ndarray
    value_starts: np.ndarray
    value_ends: np.ndarray

    @classmethod
    def of(cls, rows: np.ndarray) -> Candidates:
        """Rows none of which is settled at a glance."""
        zeros = np.zeros(len(rows), dtype=np.int64)
        return cls(rows, np.zeros(len(rows), dtype=bool), zeros, zeros)

    def __getitem__(self, chosen: np.ndarray) -> Candidates:
        return Candidates(self.rows[chosen], self.glanceable[chosen], self.value_starts[chosen], self.value_ends[chosen])


def candidate_rows(block: RecordBlock) -> Candidates:
    """The rows of a block that may hold one of the keys, found by searching the whole block;
    every row, none glanceable, with ``GENOSCRUB_ONE_BY_ONE=1``.

    The other keys are searched in either case (``scan.find_strings``: a superset), ``ANN=`` as
    an INFO key by ``scan.info_values``; one count of ``ANN=`` in the block says whether any
    line holds it elsewhere or twice, and only then is each occurrence placed."""
    text, count = block.text, block.count
    if one_by_one():
        return Candidates.of(np.arange(count))
    if scan.first_of_strings(text, NEEDLES) < 0:  # one pass in C: most blocks end here
        return Candidates.of(np.zeros(0, dtype=np.int64))
    doubtful = np.zeros(count, dtype=bool)
    if scan.first_of_strings(text, DOUBTS) >= 0:
        doubtful[rows_of(block.starts, scan.find_strings(text, DOUBTS)[1])] = True
    info_start, info_end = block.column(7)
    found, value_starts, value_ends = scan.info_values(text, info_start, info_end, b"ANN")
    annotated = found
    if text.count(b"ANN=") != np.count_nonzero(found):  # a line with ANN= elsewhere, or twice
        per_row = np.bincount(rows_of(block.starts, string_offsets(text, b"ANN=")), minlength=count)
        annotated, found = per_row > 0, found & (per_row == 1)
    rows = np.flatnonzero(annotated | doubtful)
    return Candidates(rows, (found & ~doubtful)[rows], value_starts[rows], value_ends[rows])


def rows_of(starts: np.ndarray, offsets: np.ndarray) -> np.ndarray:
    """The row (line starting at ``starts``) of each offset."""
    return np.searchsorted(starts, offsets, side="right") - 1


def string_offsets(text: bytes, needle: bytes) -> np.ndarray:
    """Where ``needle`` (which cannot overlap itself) occurs in ``text``: one ``bytes.split``
    in C, its pieces' lengths summed by numpy (a loop of ``bytes.find`` costs ~2 us a hit)."""
    pieces = text.split(needle)
    lengths = np.fromiter(map(len, pieces), dtype=np.int64, count=len(pieces))[:-1]
    return np.cumsum(lengths + len(needle)) - len(needle)


def settled_at_a_glance(block: RecordBlock, candidates: Candidates) -> np.ndarray:
    """Which glanceable candidates ``unchanged_at_a_glance`` settles, for the whole block at
    once: one ALT of 1 to ``GLANCE_WIDTH`` bases, and every entry of the ANN value (at its
    start and after each of its commas) that ALT as written and a bar, inside the value. The
    values are joined into one buffer (``scan.join_spans``) and compared with numpy, one byte
    of the entries' heads at a time. A subset of what the glance settles: anything else is
    False and goes one by one."""
    data, rows = block.data, candidates.rows
    settled = candidates.glanceable.copy()
    alt_start, alt_end = (column[rows] for column in block.column(4))
    lengths = alt_end - alt_start
    settled &= (lengths >= 1) & (lengths <= GLANCE_WIDTH) & (candidates.value_ends - candidates.value_starts > lengths)
    settled[settled] = spans_within(data, block.text, alt_start[settled], alt_end[settled], SEQUENCE_BYTES)
    at = np.flatnonzero(settled)
    if not len(at):
        return settled
    alt_start, lengths = alt_start[at], lengths[at]
    starts, ends = candidates.value_starts[at], candidates.value_ends[at]
    values = np.frombuffer(scan.join_spans(block.text, starts, ends), dtype=np.uint8)
    bounds = np.concatenate(([0], np.cumsum(ends - starts)))  # value k is values[bounds[k]:bounds[k + 1]]
    commas = np.flatnonzero(values == ord(","))
    entries = np.concatenate((bounds[:-1], commas + 1))
    owners = np.concatenate((np.arange(len(at)), np.searchsorted(bounds, commas, side="right") - 1))
    entry_lengths = lengths[owners]
    named = entries + entry_lengths < bounds[owners + 1]  # the head, bar included, lies inside the value
    last = len(values) - 1
    for offset in range(int(lengths.max()) + 1):
        head = np.where(offset < lengths, data[np.minimum(alt_start + offset, len(data) - 1)], ord("|"))
        named &= (values[np.minimum(entries + offset, last)] == head[owners]) | (offset > entry_lengths)
    settled[at[np.bincount(owners[~named], minlength=len(at)) > 0]] = False
    return settled


def changed_lines(rule: AlleleAnnotations, block: RecordBlock, keep: np.ndarray, counts: Counter[str]) -> dict[int, bytes]:
    """The kept records (``keep``) of a block that hold another allele's strings, by row, rewritten
    without them (``record_traces.RecordTraces.kept_text`` splices them into the block)."""
    candidates = candidate_rows(block)
    candidates = candidates[keep[candidates.rows]]
    rows = candidates.rows
    if candidates.glanceable.any():
        rows = rows[~settled_at_a_glance(block, candidates)]
    text, starts, ends = block.text, block.starts, block.ends
    changed: dict[int, bytes] = {}
    for row in rows.tolist():
        line = rule.record(text[int(starts[row]) : int(ends[row])], counts)
        if line is not None:
            changed[row] = line
    return changed


def kept_text(rule: AlleleAnnotations, block: RecordBlock, keep: np.ndarray, counts: Counter[str]) -> bytes | None:
    """A block's kept records (``keep``), those holding another allele's strings rewritten;
    None when none is rewritten (the caller writes its kept lines as they are)."""
    changed = changed_lines(rule, block, keep, counts)
    if not changed:
        return None
    spliced = np.union1d(np.flatnonzero(~keep), np.fromiter(changed, dtype=np.int64, count=len(changed)))
    lines: list[bytes | None] = [changed.get(row) for row in spliced.tolist()]
    return scan.splice_lines(block.text, block.starts, block.ends, spliced.astype(np.int64), lines)
