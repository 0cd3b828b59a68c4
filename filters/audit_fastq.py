"""FASTQ records audited: names, comments and ``+`` lines; never the bases.

A FASTQ file keeps its sequence (the guideline leaves it to consent), so only the
record's text is audited:

- metadata: a read name that is not a pseudonym as the scrubbers write it, a comment
  other than the Casava read number (``1:N:0``, no index sequences), a ``+`` line that
  repeats anything;
- forbidden strings: in names, comments and ``+`` lines.

Records are read as kseq reads them (a header line, sequence lines up to the ``+`` line,
quality lines until the quality is as long as the sequence). Blocks of plain four-line
records, the usual case, are checked a block at a time with one regular expression;
others record by record. Germline alleles and regions need an alignment: they are not
checked in FASTQ.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import IO

from genoscrub.audit_allowlist import FASTQ_COMMENT, READ_NAME
from genoscrub.audit_findings import Findings
from genoscrub.audit_forbid import ForbidList
from genoscrub.report import InputError
from genoscrub.streams import line_blocks

NAME_LINE = re.compile(rb"@(" + READ_NAME.encode() + rb")(?:/[1-4])?(?:[ \t](" + FASTQ_COMMENT.encode() + rb"))?")
NAME_PARTS = re.compile(rb"@([^ \t]*)(?:[ \t](.*))?", re.DOTALL)
PLAIN_BLOCK = re.compile(rb"(?:" + NAME_LINE.pattern + rb"\n[^\n]*\n\+\n[^\n]*\n)*")


class FastqAudit:
    def __init__(self, path: str, forbid: ForbidList | None, findings: Findings) -> None:
        self.path = path
        self.forbid = forbid
        self.findings = findings

    def run(self, stream: IO[bytes]) -> None:
        for number, header, plus in self.records(stream):
            self.check(number, header, plus)

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
        if self.forbid is not None:
            for entry, at in self.forbid.search_text(header):
                field = "read comment" if re.search(rb"[ \t]", header[:at]) else "read name"
                self.findings.forbidden.add(f"{field} (list line {entry.line})", where)
            for entry, _ in self.forbid.search_text(plus):
                self.findings.forbidden.add(f"+ line (list line {entry.line})", where)
