"""FASTQ records audited: names, comments and ``+`` lines, and that the bases are bases.

A FASTQ file keeps its sequence (the guideline leaves it to consent), so only the
record's text is audited:

- metadata: a read name that is not a pseudonym as the scrubbers write it, a comment
  other than the Casava read number (``1:N:0``, no index sequences), a ``+`` line that
  repeats anything, a sequence line with a byte that is no base code (``FASTQ_BASES``:
  text such as ``S2301217N_19900101`` put where the bases belong);
- forbidden strings: in names, comments and ``+`` lines; in quality lines the list's strings of
  ``audit_forbid.QUALITY_LENGTH`` bytes or more, beyond chance; in the sequences holding a base code
  other than ``ACGTN``, the list's names of base codes (``FastqAudit.search_reads``).

Records are read as kseq reads them (a header line, sequence lines up to the ``+`` line,
quality lines until the quality is as long as the sequence), then checked one by one,
except the forbidden strings: the name and ``+`` lines of ``BATCH`` records are searched
at once (``ForbidList.search`` over the lines joined by newlines, which no list string
holds), on the one-record path as in a bulk block; the hits are placed by their offsets and
counted by key (``count_hits``). Keyed names are searched apart, for the list's hex strings
only, and their hits held until the file is read: what chance explains in 24 random hex digits
is no finding (``audit_findings.KeyedNameHits``). Germline alleles and regions need an
alignment: they are not checked in FASTQ.

Most files are four lines a record, and most names keyed hashes: a block of such
records is settled in bulk (``FourLineBlock``) when its shape leaves no doubt that kseq
reads it four lines at a time, and its names are checked as arrays (24 lower-case hex
digits, then a suffix of which only the few distinct ones are matched). A record the
bulk check does not settle goes through ``check`` as before; a block of another shape
sends the rest of the file down the one-record path (``GENOSCRUB_ONE_BY_ONE=1`` sends
all of it), which stays the reference.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Iterable, Iterator
from itertools import accumulate, chain
from typing import IO

import numpy as np
from genoscrub import scan
from genoscrub.audit_allowlist import FASTQ_BASES, FASTQ_COMMENT, FASTQ_QUALITIES, HASHED_NAME_DIGITS, HASHED_NAME_LENGTH, READ_NAME
from genoscrub.audit_findings import EXAMPLES_PER_KEY, Findings
from genoscrub.audit_forbid import ForbiddenString, ForbidList, beyond_chance
from genoscrub.one_by_one import one_by_one
from genoscrub.report import InputError
from genoscrub.streams import line_blocks

NAME_LINE = re.compile(rb"@(" + READ_NAME.encode() + rb")(?:/[1-4])?(?:[ \t](" + FASTQ_COMMENT.encode() + rb"))?")
BLANK = re.compile(rb"[ \t]")
"""What ends a read name: a hit after it lies in the comment."""
NAME_PARTS = re.compile(rb"@([^ \t]*)(?:[ \t](.*))?", re.DOTALL)
BATCH = 4096
"""Records whose name and ``+`` lines are searched for forbidden strings in one call."""
PLAIN_BASES = b"ACGTNacgtn"
"""The bases of almost every read: a sequence holding others is searched for the list's names."""


class FastqAudit:
    def __init__(self, path: str, forbid: ForbidList | None, findings: Findings) -> None:
        self.path = path
        self.forbid = forbid
        self.findings = findings

    def run(self, stream: IO[bytes]) -> None:
        blocks = line_blocks(stream, self.path)
        if one_by_one():
            self.one_by_one(blocks, 0)
            return
        carried: list[bytes] = []  # the lines of a record that the block ended inside
        carried_first = 1
        records = 0
        for first, block in blocks:
            lines = carried + block if carried else block
            first = carried_first if carried else first
            whole = len(lines) - len(lines) % 4
            four = FourLineBlock.read(lines, whole)
            if four is None:  # not four lines a record from here on, or not that kseq would read so
                self.one_by_one(chain([(first, lines)], blocks), records)
                return
            self.check_block(four, records)
            records += four.count
            carried, carried_first = lines[whole:], first + whole
        if carried:
            self.one_by_one([(carried_first, carried)], records)

    def check_block(self, block: FourLineBlock, before: int) -> None:
        """The metadata and forbidden strings of a block of four-line records numbered from
        ``before + 1``: the records the bulk check does not settle through ``check``, in order."""
        settled = block.settled()
        lines = block.lines
        sequences = lines[1 : 4 * block.count : 4]
        qualities = lines[3 : 4 * block.count : 4]
        coded = b"".join(sequences).translate(None, PLAIN_BASES)  # a block of plain bases has nothing left
        if coded.translate(None, FASTQ_BASES):
            settled &= np.asarray([not sequence.translate(None, FASTQ_BASES) for sequence in sequences], dtype=bool)
        quality_text = b"\n".join(qualities)
        if quality_text.translate(None, FASTQ_QUALITIES + b"\n"):
            settled &= np.asarray([not quality.translate(None, FASTQ_QUALITIES) for quality in qualities], dtype=bool)
        self.findings.records += int(settled.sum())
        for index in np.flatnonzero(~settled).tolist():
            bases = not lines[4 * index + 1].translate(None, FASTQ_BASES)
            quality = not qualities[index].translate(None, FASTQ_QUALITIES)
            self.check(before + index + 1, lines[4 * index], lines[4 * index + 2], bases, quality)
        if self.forbid is not None:
            self.search_fields(block.headers, block.pluses, before + 1)
            self.search_reads(sequences if coded else [], quality_text, before + 1)

    def one_by_one(self, blocks: Iterable[tuple[int, list[bytes]]], before: int) -> None:
        """Records one at a time, numbered from ``before + 1``; the forbidden strings by batch."""
        batch: list[tuple[int, bytes, bytes, bytes, bytes]] = []
        for number, header, plus, bases, qualities, sequence, quality in self.records(blocks, before):
            self.check(number, header, plus, bases, qualities)
            if self.forbid is not None:
                batch.append((number, header, plus, sequence, quality))
                if len(batch) == BATCH:
                    self.search_batch(batch)
                    batch = []
        if batch:
            self.search_batch(batch)

    def records(
        self, blocks: Iterable[tuple[int, list[bytes]]], before: int
    ) -> Iterator[tuple[int, bytes, bytes, bool, bool, bytes, bytes]]:
        """``(record number, header line, + line, whether the sequence is all bases, whether the
        quality is all quality bytes, the sequence, the quality)`` of every record."""
        lines = (numbered for first, block in blocks for numbered in enumerate(block, start=first))
        record = before
        for line_number, line in lines:
            if not line:
                continue  # blank lines between records, as kseq skips them
            if not line.startswith(b"@"):
                raise InputError("FASTQ record does not start with @", self.path, line_number)
            sequence = 0
            bases = True
            sequence_lines: list[bytes] = []
            quality_lines: list[bytes] = []
            plus: bytes | None = None
            for _, inner in lines:
                if inner.startswith(b"+"):
                    plus = inner
                    break
                stripped = inner.strip()
                sequence_lines.append(stripped)
                sequence += len(stripped)
                bases = bases and not stripped.translate(None, FASTQ_BASES)
            if plus is None:
                raise InputError("FASTQ record cut short (no + line)", self.path, line_number)
            quality = 0
            qualities = True
            while quality < sequence:
                nxt = next(lines, None)
                if nxt is None:
                    raise InputError("FASTQ record cut short (quality shorter than sequence)", self.path, line_number)
                stripped = nxt[1].strip()
                quality_lines.append(stripped)
                quality += len(stripped)
                qualities = qualities and not stripped.translate(None, FASTQ_QUALITIES)
            if quality != sequence:
                raise InputError("FASTQ quality and sequence lengths differ", self.path, line_number)
            record += 1
            yield record, line, plus, bases, qualities, b"".join(sequence_lines), b"".join(quality_lines)

    def check(self, number: int, header: bytes, plus: bytes, bases: bool = True, qualities: bool = True) -> None:
        """The metadata of one record (the forbidden strings are searched by batch); ``bases``:
        whether its sequence holds only base codes, ``qualities`` whether its quality only
        Phred+33 bytes."""
        self.findings.records += 1
        where = f"record {number}"
        named = NAME_LINE.fullmatch(header)
        if named is not None and named[1].startswith(b"READ"):
            self.findings.counted_read(int(named[1][4:]), where)  # held to the file's count of records
        if named is None:
            name, comment = NAME_PARTS.fullmatch(header).groups()  # type: ignore[union-attr]
            base = re.sub(rb"/[1-4]$", b"", name)
            if not re.fullmatch(READ_NAME.encode(), base):
                self.findings.metadata.add("read name", where)
            if comment is not None and not re.fullmatch(FASTQ_COMMENT.encode(), comment):
                self.findings.metadata.add("read comment", where)
        if plus != b"+":
            self.findings.metadata.add("+ line (not empty)", where)
        if not bases:
            self.findings.metadata.add("sequence (not bases)", where)
        if not qualities:
            self.findings.metadata.add("quality (a byte outside ! to ~)", where)

    def search_batch(self, batch: list[tuple[int, bytes, bytes, bytes, bytes]]) -> None:
        """The forbidden strings in the name and ``+`` lines, the sequences and qualities of ``batch``
        (records numbered one after another), searched as a bulk block's are."""
        self.search_fields([record[1] for record in batch], [record[2] for record in batch], batch[0][0])
        sequences = [record[3] for record in batch]
        coded = b"".join(sequences).translate(None, PLAIN_BASES)
        self.search_reads(sequences if coded else [], b"\n".join(record[4] for record in batch), batch[0][0])

    def search_reads(self, sequences: list[bytes], qualities: bytes, first: int) -> None:
        """The forbidden strings in the reads of records numbered from ``first``: in their quality
        lines (``qualities``, joined by newlines) the list's strings of ``audit_forbid.QUALITY_LENGTH``
        bytes or more, a hit a finding only beyond chance (``audit_forbid.beyond_chance``); in those
        of their ``sequences`` that hold a base code other than ``ACGTN`` (none are given when no
        sequence does), the list's strings of base codes (``ForbidList.in_sequences``)."""
        assert self.forbid is not None
        records: dict[str, list[int]] = {}
        in_qualities = self.forbid.in_qualities
        if in_qualities is not None:
            found = beyond_chance(qualities, list(in_qualities.search(qualities)))
            if found:
                ends = list(accumulate(len(line) + 1 for line in qualities.split(b"\n")))
                for entry, at in found:
                    records.setdefault(f"quality (list line {entry.line})", []).append(first + bisect_right(ends, at))
        in_sequences = self.forbid.in_sequences
        for index, sequence in enumerate(sequences if in_sequences is not None else []):
            if sequence.translate(None, PLAIN_BASES):
                for entry, _ in in_sequences.search(sequence):  # type: ignore[union-attr]
                    records.setdefault(f"sequence (list line {entry.line})", []).append(first + index)
        for key, numbers in records.items():
            numbers.sort()
            self.findings.forbidden.add_all(key, [f"record {number}" for number in numbers[:EXAMPLES_PER_KEY]], len(numbers))

    def search_fields(self, headers: list[bytes], pluses: list[bytes], first: int) -> None:
        """The forbidden strings in the header and ``+`` lines of records numbered from ``first``:
        one search over them all, the keyed names (``keyed_rows``) blanked out of it and searched
        apart for the strings that can occur in them, their hits held until the file is read
        (``audit_findings.KeyedNameHits``: what chance explains is no finding)."""
        assert self.forbid is not None
        lines = [line for pair in zip(headers, pluses, strict=True) for line in pair]
        joined = b"\n".join(lines)
        keyed = keyed_rows(headers)
        if len(keyed):
            starts = np.zeros(len(lines), dtype=np.int64)
            np.cumsum(np.fromiter(map(len, lines), dtype=np.int64, count=len(lines))[:-1] + 1, out=starts[1:])
            names = ((starts[2 * keyed] + 1)[:, None] + np.arange(HASHED)).ravel()
            text = np.frombuffer(joined, dtype=np.uint8).copy()
            self.search_keyed(text[names].tobytes(), keyed, first)
            text[names] = ord("\n")  # what no list string holds: no hit in a keyed name, none across it
            joined = text.tobytes()
        found = list(self.forbid.search(joined))
        if found:
            self.count_hits(lines, first, found)

    def search_keyed(self, names: bytes, keyed: np.ndarray, first: int) -> None:
        """The list's hex strings in keyed names (``names``: each of ``keyed``'s 24 digits, joined)."""
        assert self.forbid is not None
        hits = self.findings.keyed_names
        hits.names += len(keyed)
        hex_only = self.forbid.hex_only
        if hex_only is None:
            return
        numbers: dict[tuple[int, int], list[int]] = {}
        for entry, at in hex_only.search(names):
            if at % HASHED + len(entry.text) <= HASHED:
                numbers.setdefault((entry.line, len(entry.text)), []).append(first + int(keyed[at // HASHED]))
        for (line, length), found in sorted(numbers.items()):
            found.sort()
            hits.add_all(f"read name (list line {line})", length, [f"record {number}" for number in found[:EXAMPLES_PER_KEY]], len(found))

    def count_hits(self, lines: list[bytes], first: int, found: list[tuple[ForbiddenString, int]]) -> None:
        """The hits of one search over the header and ``+`` lines of records numbered from ``first``
        (``lines``: each record's header line, then its ``+`` line), counted by field and list line
        with each key's first records named: what ``search_record`` reports record by record, for a
        raw file with a hit in every record at the cost of a lookup a hit."""
        ends = list(accumulate(len(line) + 1 for line in lines))
        records: dict[str, list[int]] = {}
        for entry, at in found:
            index = bisect_right(ends, at)
            if index % 2:
                field = "+ line"
            else:
                header = lines[index]
                start = ends[index - 1] if index else 0
                field = "read comment" if BLANK.search(header, 0, at - start) else "read name"
            records.setdefault(f"{field} (list line {entry.line})", []).append(first + index // 2)
        for key, numbers in records.items():
            numbers.sort()
            self.findings.forbidden.add_all(key, [f"record {number}" for number in numbers[:EXAMPLES_PER_KEY]], len(numbers))


HASHED = HASHED_NAME_LENGTH
LONGEST_SUFFIX = 32
DISTINCT_SUFFIXES = 8
"""What may follow a hashed name to be matched in bulk (``/1 1:N:0`` and the like), and how
many different ones of a length; a longer one, or one more, is left to ``check``."""
LOWER_HEX = np.zeros(256, dtype=np.uint8)
LOWER_HEX[list(HASHED_NAME_DIGITS)] = 1
NAME_ENDS = np.zeros(256, dtype=bool)
NAME_ENDS[list(b" \t/")] = True
"""What may follow a keyed name in its header line (or nothing): a comment, or ``/1``."""


def keyed_rows(headers: list[bytes]) -> np.ndarray:
    """Which header lines name their read by a keyed hash: ``@``, 24 lower-case hex digits, then
    the line's end, a blank or ``/``. Their names are searched apart (``search_keyed``)."""
    count = len(headers)
    if not count:
        return np.zeros(0, dtype=np.int64)
    lengths = np.fromiter(map(len, headers), dtype=np.int64, count=count)
    starts = np.zeros(count, dtype=np.int64)
    np.cumsum(lengths[:-1] + 1, out=starts[1:])
    text = np.frombuffer(b"\n".join(headers) + b"\n", dtype=np.uint8)
    rows = np.flatnonzero(lengths > HASHED)
    rows = rows[text[starts[rows]] == ord("@")]
    rows = rows[scan.spans_within(text, starts[rows] + 1, starts[rows] + 1 + HASHED, LOWER_HEX)]
    ends = starts[rows] + 1 + HASHED
    return rows[(lengths[rows] == HASHED + 1) | NAME_ENDS[text[ends]]]


class FourLineBlock:
    """Whole records of four lines each (header, one sequence line, ``+`` line, one quality
    line), as kseq reads them: every header starts with ``@``, no sequence line with ``+``,
    every third line does, and each quality line is as long as its sequence line, neither
    with white space that kseq would strip. Anything else is not such a block."""

    def __init__(self, lines: list[bytes], count: int) -> None:
        self.lines = lines
        self.count = count
        self.headers = lines[0 : 4 * count : 4]
        self.pluses = lines[2 : 4 * count : 4]

    @classmethod
    def read(cls, lines: list[bytes], whole: int) -> FourLineBlock | None:
        """The first ``whole`` lines (a multiple of four) as a block, or None when they are not one
        (``scan.fastq_kseq_block``: the rule above, one pass in C over the lines)."""
        count = whole // 4
        return cls(lines, count) if scan.fastq_kseq_block(lines, count) else None

    def settled(self) -> np.ndarray:
        """For each record: whether ``check`` would find nothing in it, known in bulk. A record
        whose name is a keyed hash (``@`` and 24 lower-case hex digits) is settled when what
        follows its name matches as it would after any such name, and its ``+`` line is bare;
        any other record is not settled here (``check`` looks at it)."""
        headers = self.headers
        settled = np.zeros(self.count, dtype=bool)
        if not self.count:
            return settled
        lengths = np.fromiter(map(len, headers), dtype=np.int64, count=self.count)
        starts = np.zeros(self.count, dtype=np.int64)
        np.cumsum(lengths[:-1] + 1, out=starts[1:])
        text = np.frombuffer(b"\n".join(headers), dtype=np.uint8)
        hashed = np.flatnonzero(lengths > HASHED)
        hashed = hashed[scan.spans_within(text, starts[hashed] + 1, starts[hashed] + 1 + HASHED, LOWER_HEX)]
        suffix_lengths = lengths[hashed] - 1 - HASHED
        for length in np.unique(suffix_lengths[suffix_lengths <= LONGEST_SUFFIX]).tolist():
            rows = hashed[suffix_lengths == length]
            suffixes = text[(starts[rows] + 1 + HASHED)[:, None] + np.arange(length)]
            for _ in range(DISTINCT_SUFFIXES):  # the first suffix left, and every row that has it
                if not len(rows):
                    break
                same = (suffixes == suffixes[0]).all(axis=1)
                settled[rows[same]] = NAME_LINE.fullmatch(b"@" + b"0" * HASHED + suffixes[0].tobytes()) is not None
                rows, suffixes = rows[~same], suffixes[~same]
        if self.pluses.count(b"+") != self.count:
            settled &= np.asarray([plus == b"+" for plus in self.pluses], dtype=bool)
        return settled
