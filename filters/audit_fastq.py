"""FASTQ records audited: names, comments and ``+`` lines; never the bases.

A FASTQ file keeps its sequence (the guideline leaves it to consent), so only the
record's text is audited:

- metadata: a read name that is not a pseudonym as the scrubbers write it, a comment
  other than the Casava read number (``1:N:0``, no index sequences), a ``+`` line that
  repeats anything;
- forbidden strings: in names, comments and ``+`` lines.

Records are read as kseq reads them (a header line, sequence lines up to the ``+`` line,
quality lines until the quality is as long as the sequence), then checked one by one,
except the forbidden strings: the name and ``+`` lines of ``BATCH`` records are searched
at once (``ForbidList.search`` over the lines joined by newlines, which no list string
holds), and only the records with a hit are searched again one by one, so that what is
reported, and in which order, is what a record-by-record search reports. Germline
alleles and regions need an alignment: they are not checked in FASTQ.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Iterator
from itertools import accumulate
from typing import IO

from genoscrub.audit_allowlist import FASTQ_COMMENT, READ_NAME
from genoscrub.audit_findings import Findings
from genoscrub.audit_forbid import ForbidList
from genoscrub.report import InputError
from genoscrub.streams import line_blocks

NAME_LINE = re.compile(rb"@(" + READ_NAME.encode() + rb")(?:/[1-4])?(?:[ \t](" + FASTQ_COMMENT.encode() + rb"))?")
NAME_PARTS = re.compile(rb"@([^ \t]*)(?:[ \t](.*))?", re.DOTALL)
BATCH = 4096
"""Records whose name and ``+`` lines are searched for forbidden strings in one call."""


class FastqAudit:
    def __init__(self, path: str, forbid: ForbidList | None, findings: Findings) -> None:
        self.path = path
        self.forbid = forbid
        self.findings = findings

    def run(self, stream: IO[bytes]) -> None:
        batch: list[tuple[int, bytes, bytes]] = []
        for record in self.records(stream):
            self.check(*record)
            if self.forbid is not None:
                batch.append(record)
                if len(batch) == BATCH:
                    self.search_batch(batch)
                    batch = []
        if batch:
            self.search_batch(batch)

    def records(self, stream: IO[bytes]) -> Iterator[tuple[int, bytes, bytes]]:
        """``(record number, header line, + line)`` of every record."""
        lines = self.lines(stream)
        record = 0
        for line_number, line in lines:
            if not line:
                continue  # blank lines between records, as kseq skips them
            if not line.startswith(b"@"):
                raise InputError("FASTQ record does not start with @", self.path, line_number)
            sequence = 0
            plus: bytes | None = None
            for _, inner in lines:
                if inner.startswith(b"+"):
                    plus = inner
                    break
                sequence += len(inner.strip())
            if plus is None:
                raise InputError("FASTQ record cut short (no + line)", self.path, line_number)
            quality = 0
            while quality < sequence:
                nxt = next(lines, None)
                if nxt is None:
                    raise InputError("FASTQ record cut short (quality shorter than sequence)", self.path, line_number)
                quality += len(nxt[1].strip())
            if quality != sequence:
                raise InputError("FASTQ quality and sequence lengths differ", self.path, line_number)
            record += 1
            yield record, line, plus

    def lines(self, stream: IO[bytes]) -> Iterator[tuple[int, bytes]]:
        for first, block in line_blocks(stream, self.path):
            yield from enumerate(block, start=first)

    def check(self, number: int, header: bytes, plus: bytes) -> None:
        """The metadata of one record (the forbidden strings are searched by batch)."""
        self.findings.records += 1
        where = f"record {number}"
        if NAME_LINE.fullmatch(header) is None:
            name, comment = NAME_PARTS.fullmatch(header).groups()  # type: ignore[union-attr]
            base = re.sub(rb"/[1-4]$", b"", name)
            if not re.fullmatch(READ_NAME.encode(), base):
                self.findings.metadata.add("read name", where)
            if comment is not None and not re.fullmatch(FASTQ_COMMENT.encode(), comment):
                self.findings.metadata.add("read comment", where)
        if plus != b"+":
            self.findings.metadata.add("+ line (not empty)", where)

    def search_batch(self, batch: list[tuple[int, bytes, bytes]]) -> None:
        """The forbidden strings in the name and ``+`` lines of ``batch``: one search over them
        all; the records with a hit (usually none) searched again, in order, one by one."""
        assert self.forbid is not None
        lines = [line for _, header, plus in batch for line in (header, plus)]
        found = list(self.forbid.search(b"\n".join(lines)))
        if not found:
            return
        ends = list(accumulate(len(line) + 1 for line in lines))
        hit = sorted({bisect_right(ends, at) // 2 for _, at in found})
        for index in hit:
            self.search_record(*batch[index])

    def search_record(self, number: int, header: bytes, plus: bytes) -> None:
        assert self.forbid is not None
        where = f"record {number}"
        for entry, at in self.forbid.search_text(header):
            field = "read comment" if re.search(rb"[ \t]", header[:at]) else "read name"
            self.findings.forbidden.add(f"{field} (list line {entry.line})", where)
        for entry, _ in self.forbid.search_text(plus):
            self.findings.forbidden.add(f"+ line (list line {entry.line})", where)
