"""fastq-scrub-names: replace FASTQ read names by pseudonyms.

A read name carries the instrument, run, flowcell, lane, tile and cluster
coordinates (``M04123:123:000000000-ABCDE:1:1101:15589:1331``) and often the
sample's index sequences: enough to tie a file to a machine, a date and a
patient. Each name becomes a counter or keyed-hash pseudonym; only the
read-number part (``/1``, ``/2`` or Casava's ``1:N:0``) is kept so R1 and R2
stay in sync even when scrubbed separately. Sequence and qualities pass
byte-identical (the guideline leaves FASTQ sequence to consent).

Records are handled in blocks of text, not as objects: ``scan.fastq_scan``
finds a 1 MiB block's plain 4-line records and copies out their name lines, and
``scan.fastq_rebuild`` writes the block again with new names and ``+`` lines;
in C, never splitting the block into lines (0.7x mawk's time; their pure-Python
twins split it and replace by slice assignment). The name lines are renamed in
a forked child process meanwhile (two with ``--key-file``), so the command uses
both cores. Multi-line (wrapped) records are read as kseq reads them, by a
slower parser that only sees the blocks that hold them, and are written as
4-line records.
"""

from __future__ import annotations

import contextlib
import errno
import os
import queue
import re
import threading
from collections import deque
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from itertools import accumulate, chain, compress, islice, repeat
from operator import eq, ne
from pathlib import Path
from typing import BinaryIO, Union

import numpy as np
from genoscrub import scan, signals
from genoscrub.cli import (
    InputArgument,
    KeyFileOption,
    MapOption,
    MapOutOption,
    OutputOption,
    QuietOption,
    ReportOption,
    make_app,
    open_pseudonyms,
    run,
)
from genoscrub.outputs import output_stream
from genoscrub.pseudonyms import Pseudonyms
from genoscrub.report import InputError, Report, WorkerFailed
from genoscrub.scan_python import first_irregular_record
from genoscrub.streams import background_reads, enlarge_pipe, open_input, reading, whole_line_blocks, workers

COMMAND = "fastq-scrub-names"

# One header line: name (group 1), a /1../4 read number ending it (group 2), a
# Casava 1.8 "1:N:0" read number opening the comment (group 3, with its blank). Its control
# number is 0 or a small even number; a longer one (1:N:19900101) could carry anything, so
# such a comment is not kept (``CONTROL_NUMBER``).
CONTROL_NUMBER = rb"[0-9]{1,2}"
HEADER = re.compile(
    rb"@([^ \t\n]*(?=/[1-4](?:[ \t]|$))|[^ \t\n]*)(/[1-4])?(?:([ \t][1-4]:[YN]:" + CONTROL_NUMBER + rb")(?=[: \t]|$))?[^\n]*"
)
CASAVA = re.compile(rb"[1-4]:[YN]:" + CONTROL_NUMBER + rb"(?=:|$)")
SLASH_AT_END = re.compile(rb"/[1-4]$", re.M)
SUFFIX_CACHE_LIMIT = 100_000
RENAMING_AHEAD = 4  # blocks sent for renaming and not yet written: each child of a pool of two always has the next one
FASTQ_BLOCK_SIZE = 1 << 20
PRINTABLE_BYTES = bytes(range(ord(" "), ord("~") + 1))
"""What a sequence or quality line holds at most: printable ASCII (``refuse_other_bytes``)."""
TEXT_LINE_BYTES = np.zeros(256, dtype=np.uint8)
TEXT_LINE_BYTES[list(PRINTABLE_BYTES + b"\n")] = 1
"""A block of such lines: any other byte (a control byte, a tab, a byte outside ASCII) sends it to ``refuse_other_bytes``."""
NO_OFFSET = np.zeros(1, dtype=np.int64)
"""A quarter of the other commands' blocks: the ~10 blocks alive at once (read ahead, being
renamed, being written) are most of the memory this process touches, and each new page of it
costs a page fault. On a 151,657-read FASTQ: 16k page faults instead of 29.5k, 0.91x the CPU;
512 and 256 KiB blocks gave no more."""

app = make_app()


def split_name(header: bytes) -> tuple[bytes, bytes]:
    """``(template name, read-number suffix)`` of one header line.

    The template name is what mates share (and what a BAM's QNAME holds), so it
    is what gets the pseudonym; the suffix is what tells mates apart.
    """
    match = HEADER.fullmatch(header)
    if match is None:
        raise ValueError("not a FASTQ header line")
    return match.group(1), (match.group(2) or b"") + (match.group(3) or b"")


class HeaderSplitter:
    """Split a block of header lines into names and read-number suffixes.

    Real files are uniform: every header has one blank and a Casava comment, or
    none, and a /1 on every name or on none. Such blocks are split with bytes
    methods over the whole block, and each distinct comment is parsed once (a
    file has few: read number and index); anything else takes the per-record
    regex. Building an object per record costs more than the renaming itself.
    """

    def __init__(self) -> None:
        self.comment_suffixes: dict[bytes, bytes] = {}

    def split(self, joined: bytes) -> tuple[list[bytes], list[bytes] | bytes] | None:
        """``(names, suffixes)`` of header lines joined by newlines, or None when one is not a FASTQ header.

        ``suffixes`` is one bytes object when every record has the same one.
        """
        same_tail = self._split_same_tail(joined)
        if same_tail is not None:
            return same_tail
        heads = joined.split(b"\n")
        text = joined[1:].replace(b"\n@", b"\n")
        uniform = None if b"\t" in text else self._split_uniform(text, heads)
        if uniform is not None:
            return uniform
        matches = list(map(HEADER.fullmatch, heads))
        if None in matches:
            return None
        names = [match.group(1) for match in matches if match]
        suffixes = [(match.group(2) or b"") + (match.group(3) or b"") for match in matches if match]
        return names, suffixes

    @staticmethod
    def _split_same_tail(joined: bytes) -> tuple[list[bytes], bytes] | None:
        """The commonest block: every header is a name and the same tail (`` 1:N:0:ACGT``, ``/1`` or none).

        One split of the joined headers, where the tail meets the next ``@``,
        then gives the names. The tail is the first header's; the counts prove
        every header has it, and names without blank, tab or ``/`` split as the
        first one did.
        """
        count = joined.count(b"\n") + 1
        first = joined.split(b"\n", 1)[0]
        match = HEADER.fullmatch(first)
        if match is None or b"\t" in joined:
            return None
        tail = first[match.end(1) :]
        if joined.count(b" ") != count * tail.count(b" ") or joined.count(b"/") != count * tail.count(b"/"):
            return None
        names = (joined + b"\n@")[1:].split(tail + b"\n@")
        if len(names) != count + 1:
            return None
        names.pop()
        return names, (match.group(2) or b"") + (match.group(3) or b"")

    def _split_uniform(self, text: bytes, heads: list[bytes]) -> tuple[list[bytes], list[bytes]] | None:
        blanks = set(map(bytes.count, heads, repeat(b" ")))
        if blanks == {0}:
            tokens, comment_suffixes = text.split(b"\n"), [b""] * len(heads)
        elif blanks == {1}:
            parts = text.replace(b"\n", b" ").split(b" ")
            tokens, comment_suffixes = parts[0::2], self._comment_suffixes(parts[1::2])
        else:
            return None
        slashes = len(SLASH_AT_END.findall(b"\n".join(tokens)))
        if slashes == 0:
            return tokens, comment_suffixes
        if slashes == len(tokens):
            names = [token[:-2] for token in tokens]
            return names, list(map(bytes.__add__, [token[-2:] for token in tokens], comment_suffixes))
        return None

    def _comment_suffixes(self, comments: list[bytes]) -> list[bytes]:
        cache = self.comment_suffixes
        if len(cache) > SUFFIX_CACHE_LIMIT:
            cache.clear()
        for comment in set(comments).difference(cache):
            casava = CASAVA.match(comment)
            cache[comment] = b" " + casava.group(0) if casava else b""
        return list(map(cache.__getitem__, comments))


class NameReplacer:
    """Header lines -> pseudonymized header lines, a block at a time.

    Records in a row with the same template name (interleaved mates) share one
    pseudonym, also across blocks; that is what keeps counter names in sync.
    """

    def __init__(self, pseudonyms: Pseudonyms, path: str) -> None:
        self.pseudonyms = pseudonyms
        self.path = path
        self.splitter = HeaderSplitter()
        self.previous_name: bytes | None = None
        self.previous_pseudonym = b""

    def replace(self, joined: bytes, header_lines: Sequence[int]) -> bytes:
        """New header lines for header lines, both joined by newlines.

        ``header_lines`` are the input line numbers, for errors.
        """
        split = self.splitter.split(joined)
        if split is None:
            bad = next(i for i, head in enumerate(joined.split(b"\n")) if HEADER.fullmatch(head) is None)
            raise InputError("malformed read name line", self.path, header_lines[bad])
        names, suffixes = split
        if names[0] != self.previous_name and not any(map(eq, names, islice(names, 1, None))):
            per_record = self._read_names(names, names, header_lines)  # no mates in a row: the usual case
        else:
            starts = list(map(ne, names, chain((self.previous_name,), names)))
            pseudonyms = self._read_names(list(compress(names, starts)), names, header_lines)
            per_record = list(map([self.previous_pseudonym, *pseudonyms].__getitem__, accumulate(starts)))
        self.previous_name = names[-1]
        self.previous_pseudonym = per_record[-1]
        if isinstance(suffixes, bytes):
            return b"@" + (suffixes + b"\n@").join(per_record) + suffixes
        return b"\n".join(map(b"@%s%s".__mod__, zip(per_record, suffixes, strict=True)))

    def _read_names(self, templates: list[bytes], names: list[bytes], header_lines: Sequence[int]) -> list[bytes]:
        """Pseudonyms of ``templates``; a name missing from the map is an InputError at its line."""
        try:
            return self.pseudonyms.read_names(templates)
        except KeyError:
            table = self.pseudonyms.table or {}
            missing = next(i for i, name in enumerate(names) if name.decode(errors="replace") not in table)
            message = "read name not in the map (give --key-file to hash names the map lacks)"
            raise InputError(message, self.path, header_lines[missing]) from None


class WrappedRecords:
    """Parser for records whose sequence and quality span several lines.

    As kseq (htslib, seqtk) reads them: the sequence is every line up to the
    ``+`` line (a line starting with ``@`` there is an error: a record lacks
    its quality); the quality is complete when it is as long as the sequence,
    so a quality line may start with ``@`` or ``+``. Blank lines between
    records, or inside a sequence or quality, add nothing and are dropped
    (picard's "permissive" FASTQ). Records come out as 4-line records,
    sequence and quality unwrapped. Slow (a loop over lines), so it only
    reads blocks that fail the 4-line check.
    """

    def __init__(self, path: str) -> None:
        self.path = path
        self.head: bytes | None = None  # the record being read, if any
        self.head_line = 0
        self.sequence: list[bytes] = []  # its lines; once the '+' line is read, joined
        self.plus: bytes | None = None
        self.quality: list[bytes] = []
        self.quality_length = 0
        self.quality_line = 0

    @property
    def inside_record(self) -> bool:
        return self.head is not None

    def feed(self, lines: list[bytes], first_line: int, until_record_ends: bool = False) -> tuple[list[int], list[bytes], int]:
        """``(header line numbers, 4-line records, lines used)`` for the records these lines complete.

        With ``until_record_ends``, stops after the record under way, so the
        rest of the block can take the 4-line path again.
        """
        header_lines: list[int] = []
        records: list[bytes] = []
        for number, line in enumerate(lines, first_line):
            if self.head is None:
                if until_record_ends:
                    return header_lines, records, number - first_line
                if not line:  # a blank line between records: kseq skips it
                    continue
                if not line.startswith(b"@"):
                    raise InputError("expected a record starting with '@'", self.path, number)
                self.head, self.head_line = line, number
            elif self.plus is None:
                if line.startswith(b"+"):
                    self.plus, self.quality_line = line, number + 1
                    self.sequence = [b"".join(self.sequence)]
                elif line.startswith(b"@"):  # no sequence letter; kseq takes it for the next record
                    raise InputError("expected a '+' line", self.path, number)
                else:
                    self.sequence.append(line)
            else:
                self.quality.append(line)
                self.quality_length += len(line)
                sequence = self.sequence[0]
                if self.quality_length < len(sequence):
                    continue
                if self.quality_length > len(sequence):
                    raise InputError("sequence and quality lengths differ", self.path, self.quality_line)
                header_lines.append(self.head_line)
                records += (self.head, sequence, self.plus, b"".join(self.quality))
                self.head, self.plus, self.sequence, self.quality, self.quality_length = None, None, [], [], 0
        return header_lines, records, len(lines)

    def finish(self, last_line: int) -> None:
        """Raise InputError if the input ended inside a record."""
        if self.head is None:
            return
        if self.quality:
            raise InputError("sequence and quality lengths differ", self.path, self.quality_line)
        raise InputError("file ends inside a FASTQ record", self.path, last_line)


@dataclass
class PlainRecords:
    """A run of plain 4-line records kept as the text they were read as.

    ``scan.fastq_scan`` found them and copied out their name lines (``heads``);
    ``scan.fastq_rebuild`` writes them with new names (in C where built, never
    splitting the text into lines).
    """

    text: bytes | memoryview
    count: int
    heads: bytes
    plus_named: int


RecordPart = Union[list[bytes], PlainRecords]
"""Records as 4-line lists of lines (irregular ones, ``from_lines``) or as text (plain ones)."""


class RecordReader:
    """Cuts blocks of whole lines into runs of 4-line records (see ``record_blocks``)."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.pending: list[bytes] = []  # fewer than 4 lines left over by the last block
        self.pending_line = 1
        self.wrapped = WrappedRecords(path)

    def from_text(self, first_line: int, count: int, text: bytes) -> list[tuple[Sequence[int], RecordPart]]:
        """The records a block completes. Plain 4-line records are found by ``scan.fastq_scan``
        (in C where built) and kept as text; any record that is not (wrapped, blank lines,
        bad) and what follows it in the block take the path of ``from_lines``, with the
        same results."""
        if self.wrapped.inside_record:
            return self.from_lines(first_line, split_lines(text))
        parts: list[tuple[Sequence[int], RecordPart]] = []
        offset = 0
        if self.pending:  # the record the last block began: when plain, completed line by line
            needed = 4 - len(self.pending)
            if count < needed:
                return self.from_lines(first_line, split_lines(text))
            for _ in range(needed):
                offset = text.index(b"\n", offset) + 1
            completed = split_lines(text[:offset])
            if first_irregular_record(self.pending + completed) is not None:
                return self.from_lines(first_line, split_lines(text))
            parts += self.from_lines(first_line, completed)
            first_line, count = first_line + needed, count - needed
        view = memoryview(text)[offset:]
        records, end, heads, plus_named = scan.fastq_scan(view)
        if records:
            parts.append((range(first_line, first_line + 4 * records, 4), PlainRecords(view[:end], records, heads, plus_named)))
        rest = view[end:]
        first_line, count = first_line + 4 * records, count - 4 * records
        if count >= 4:  # a record that is not a plain one: the rest of the block goes line by line
            return parts + self.from_lines(first_line, split_lines(bytes(rest)))
        self.pending, self.pending_line = split_lines(bytes(rest)), first_line
        return parts

    def from_lines(self, first_line: int, lines: list[bytes]) -> list[tuple[Sequence[int], RecordPart]]:
        """The records these lines complete, as lists of 4-line records."""
        wrapped = self.wrapped
        header_parts: list[Sequence[int]] = []
        line_parts: list[list[bytes]] = []
        if wrapped.inside_record:
            header_lines, records, used = wrapped.feed(lines, first_line, until_record_ends=True)
            header_parts.append(header_lines)
            line_parts.append(records)
            lines = lines[used:]
            first_line += used
        if not wrapped.inside_record:
            if self.pending:
                lines = self.pending + lines
                first_line = self.pending_line
            whole = len(lines) - len(lines) % 4
            lines, self.pending = lines[:whole], lines[whole:]
            self.pending_line = first_line + whole
            irregular = first_irregular_record(lines) if whole else None
            start = whole if irregular is None else 4 * irregular
            header_parts.append(range(first_line, first_line + start, 4))
            line_parts.append(lines if irregular is None else lines[:start])
            if irregular is not None:
                header_lines, records, _ = wrapped.feed(lines[start:] + self.pending, first_line + start)
                header_parts.append(header_lines)
                line_parts.append(records)
                self.pending = []
        if len(line_parts) == 1:
            return [(header_parts[0], line_parts[0])] if line_parts[0] else []
        joined_lines = list(chain.from_iterable(line_parts))
        return [(list(chain.from_iterable(header_parts)), joined_lines)] if joined_lines else []

    def from_pending(self) -> list[tuple[Sequence[int], RecordPart]]:
        """The records the lines left at the end complete: fewer than 4 lines after the
        last whole record (blank lines, a 3-line record, or a cut one)."""
        if not self.pending:
            return []
        header_lines, records, _ = self.wrapped.feed(self.pending, self.pending_line)
        self.pending = []
        return [(header_lines, records)] if records else []


def split_lines(text: bytes) -> list[bytes]:
    """The lines of whole-line text (each ending in a newline), without their newlines."""
    lines = text.split(b"\n")
    lines.pop()
    return lines


def fastq_blocks(stream: BinaryIO, path: str, size: int = FASTQ_BLOCK_SIZE) -> Iterator[tuple[int, int, bytes]]:
    """``(number of the first line, number of lines, text)``: blocks of whole lines, read ahead."""
    return whole_line_blocks(background_reads(stream, size, depth=2), path)


def record_blocks(blocks: Iterable[tuple[int, int, bytes]], path: str) -> Iterator[tuple[Sequence[int], RecordPart]]:
    """``(header line numbers, records)``: runs of 4-line records.

    Plain 4-line records pass as they are. From the first record that is not,
    the rest of the block goes through WrappedRecords, and the next block only
    until that parser is done with the record under way: blocks without
    wrapped records never take the slow path. A block's records are yielded
    once the next block is read: a wrapped record cut by the end of the input
    began in it, and as for any bad record, the block holding it is not written.
    """
    reader = RecordReader(path)
    last_line = 0
    held: list[tuple[Sequence[int], RecordPart]] = []
    other_bytes = False  # from the first block holding such a byte on (a record may end blocks later)
    for first_line, count, text in blocks:
        last_line = first_line + count - 1
        parts = reader.from_text(first_line, count, text)
        other_bytes = other_bytes or holds_other_bytes(text)
        if other_bytes:
            refuse_other_bytes(parts, path)
        yield from held
        held = parts
    had_pending = bool(reader.pending)
    parts = reader.from_pending()
    refuse_other_bytes(parts, path)
    if had_pending and (parts or reader.wrapped.inside_record):  # what came before is whole records: written before the error
        yield from held
        held = parts
    reader.wrapped.finish(last_line)
    yield from held


def holds_other_bytes(text: bytes) -> bool:
    """Whether ``text`` holds a byte that is not a newline or printable ASCII (a blank
    included): one C pass over the block (``scan.spans_within``)."""
    whole = np.array([len(text)], dtype=np.int64)
    return not bool(scan.spans_within(np.frombuffer(text, dtype=np.uint8), NO_OFFSET, whole, TEXT_LINE_BYTES)[0])


def refuse_other_bytes(parts: list[tuple[Sequence[int], RecordPart]], path: str) -> None:
    """Stop at a sequence or quality holding a control byte or a byte outside ASCII: no base
    code or Phred+33 quality (``!`` to ``~``) is one, and such bytes pass through a FASTQ
    unread: bytes outside ASCII spell text (a name in UTF-8), control bytes text that tools
    cannot read again. Looked at only from the first block that holds such a byte on."""
    for header_lines, part in parts:
        lines = split_lines(bytes(part.text)) if isinstance(part, PlainRecords) else part
        for index, header_line in enumerate(header_lines):
            if lines[4 * index + 1].translate(None, PRINTABLE_BYTES):
                raise InputError("the record's sequence holds a control byte or a byte outside ASCII (no base code)", path, header_line)
            if lines[4 * index + 3].translate(None, PRINTABLE_BYTES):
                raise InputError(
                    "the record's quality holds a control byte or a byte outside ASCII (Phred+33 is ! to ~)", path, header_line
                )


class RenamingWorker:
    """A NameReplacer in a forked child process: renaming runs on a second core.

    The parent sends a block's header lines; while the child renames them, the
    parent reads, splits and checks the next blocks. One NameReplacer renames
    every block in order, so the names (counters too) are a single process's.
    The child also writes --map-out. A bad name comes back as its index in the
    block and the message, and is raised here with its line number. Requests
    are written by a thread, so the parent never waits on a full pipe while
    the child waits for the parent to take a reply.
    """

    def __init__(self, names: NameReplacer, siblings: Sequence[RenamingWorker] = (), start: bool = True) -> None:
        """Fork the child; ``siblings``: the workers forked before, whose pipe ends it must not hold
        (a child holding another's request pipe open would keep that one waiting at the end)."""
        self.path = names.path
        request_out, request_in = os.pipe()
        reply_out, reply_in = os.pipe()
        self.pid = os.fork()
        if self.pid == 0:  # the child: serve until the parent closes its end
            os.close(request_in)
            os.close(reply_out)
            for sibling in siblings:
                sibling.close_pipes()
            status = 1
            try:
                status = serve_renames(names, os.fdopen(request_out, "rb"), os.fdopen(reply_in, "wb"))
            finally:
                os._exit(status)
        os.close(request_out)
        os.close(reply_in)
        enlarge_pipe(request_in)
        enlarge_pipe(reply_out)
        self.requests = os.fdopen(request_in, "wb")
        self.replies = os.fdopen(reply_out, "rb")
        self.header_lines: deque[Sequence[int]] = deque()  # of the blocks sent, for errors
        self.outbox: queue.SimpleQueue[bytes | None] = queue.SimpleQueue()
        self.writer: threading.Thread | None = None
        self.status: int | None = None  # the child's wait status, once reaped
        if start:
            self.start()

    def close_pipes(self) -> None:
        """In a sibling child: let go of this worker's pipe ends."""
        with contextlib.suppress(OSError):
            self.requests.close()
            self.replies.close()

    def start(self) -> None:
        """Start the thread that sends requests (after every fork: a child gets no thread)."""
        self.writer = workers.start(self._send_requests, lambda: self.outbox.put(None))

    def _send_requests(self) -> None:
        try:
            while (joined := self.outbox.get()) is not None:
                self.requests.write(len(joined).to_bytes(8, "little"))
                self.requests.write(joined)
                self.requests.flush()
        except OSError:  # the child is gone: receive() says so
            pass
        finally:
            with contextlib.suppress(OSError):
                self.requests.close()

    def submit(self, joined: bytes, header_lines: Sequence[int]) -> None:
        """Queue header lines, joined by newlines, to be renamed."""
        self.outbox.put(joined)
        self.header_lines.append(header_lines)

    def receive(self) -> bytes:
        """The new header lines of the oldest block not yet received, joined."""
        header_lines = self.header_lines.popleft()
        header = self.replies.read(9)
        if len(header) != 9:
            raise WorkerFailed(f"the renaming process {self._ended()}: the output is incomplete")
        kind, size = header[:1], int.from_bytes(header[1:], "little")
        payload = self.replies.read(size)
        if len(payload) != size:  # killed while it wrote its reply
            raise WorkerFailed(f"the renaming process {self._ended()}: the output is incomplete")
        if kind == b"n":
            return payload
        index = int.from_bytes(payload[:8], "little")
        if kind == b"e":
            raise InputError(payload[8:].decode(), self.path, header_lines[index])
        raise OSError(index, payload[8:].decode())

    def close(self) -> None:
        """End the child and wait for it: --map-out is complete once this returns."""
        self.outbox.put(None)
        self.replies.close()
        if self.writer is not None:
            self.writer.join()
        if self.status is None:
            _, self.status = os.waitpid(self.pid, 0)
        if self.status != 0:
            raise WorkerFailed(f"the renaming process {self._ended()}: the output is incomplete")

    def _ended(self) -> str:
        """How the child ended, for the error (its replies stopped: it has exited or is exiting).
        Not a BrokenPipeError: that is the quiet status of a closed downstream pipe (141)."""
        if self.status is None:
            _, self.status = os.waitpid(self.pid, 0)
        if os.WIFSIGNALED(self.status):
            return f"was killed by {signals.name(os.WTERMSIG(self.status))}"
        return f"ended early (exit status {os.waitstatus_to_exitcode(self.status)})"


def serve_renames(names: NameReplacer, requests: BinaryIO, replies: BinaryIO) -> int:
    """The child's loop: joined header lines in, joined new ones (or an error) out; its exit status."""
    try:
        while header := requests.read(8):
            joined = requests.read(int.from_bytes(header, "little"))
            try:
                reply = b"n" + names.replace(joined, range(joined.count(b"\n") + 1))
            except InputError as error:
                reply = b"e" + (error.line or 0).to_bytes(8, "little") + error.message.encode()
            except OSError as error:  # --map-out could not be written
                reply = b"o" + (error.errno or errno.EIO).to_bytes(8, "little") + (error.strerror or "").encode()
            replies.write(reply[:1] + (len(reply) - 1).to_bytes(8, "little"))
            replies.write(memoryview(reply)[1:])
            replies.flush()
        names.pseudonyms.close()
    except (BrokenPipeError, KeyboardInterrupt):  # the parent is gone or going
        return 1
    return 0


class RenamingPool:
    """RenamingWorkers, each in its own child process, sharing the blocks by load.

    Only for names that depend on nothing but the read's own name (``--key-file``
    without ``--map-out``): counters follow the order of the whole file and the
    linkage table is one file, so those take one worker. Keyed hashing is the
    costly part (about 0.2 us a name in C, 0.7 with hashlib: ``keyed_hash``), and
    two children do it on both cores. A
    block goes to the child with the fewest names still to rename (a block's
    end gives a run of one record, so taking turns would leave one child all
    the long runs); replies are taken in the order the blocks were sent.
    """

    def __init__(self, names: NameReplacer, size: int) -> None:
        self.workers: list[RenamingWorker] = []
        for _ in range(size):
            self.workers.append(RenamingWorker(names, self.workers, start=False))
        for worker in self.workers:
            worker.start()
        self.queued = [0] * size  # names sent to each worker and not yet received
        self.order: deque[tuple[int, int]] = deque()  # (worker, names) of each block sent, in order

    def submit(self, joined: bytes, header_lines: Sequence[int]) -> None:
        index = self.queued.index(min(self.queued))
        count = len(header_lines)
        self.workers[index].submit(joined, header_lines)
        self.queued[index] += count
        self.order.append((index, count))

    def receive(self) -> bytes:
        index, count = self.order.popleft()
        self.queued[index] -= count
        return self.workers[index].receive()

    def close(self) -> None:
        """End every child; the first failure is raised once all are waited for."""
        failure: OSError | WorkerFailed | None = None
        for worker in self.workers:
            try:
                worker.close()
            except (OSError, WorkerFailed) as error:
                failure = failure or error
        if failure is not None:
            raise failure


class InProcessRenamer:
    """RenamingWorker's interface for a NameReplacer called directly (tests, no fork)."""

    def __init__(self, names: NameReplacer) -> None:
        self.names = names
        self.renamed: deque[bytes] = deque()

    def submit(self, joined: bytes, header_lines: Sequence[int]) -> None:
        self.renamed.append(self.names.replace(joined, header_lines))

    def receive(self) -> bytes:
        return self.renamed.popleft()


def scrub_records(
    blocks: Iterable[tuple[int, int, bytes]], names: NameReplacer | RenamingWorker | RenamingPool, path: str, report: Report
) -> Iterable[bytes]:
    """Yield output chunks: names replaced, ``+`` lines emptied, all else as read.

    A run's header lines are submitted for renaming and its new ones taken
    RENAMING_AHEAD runs later: in child processes, renaming overlaps the reading.
    """
    renamer = InProcessRenamer(names) if isinstance(names, NameReplacer) else names
    waiting: deque[RecordPart] = deque()  # the runs being renamed
    records = record_blocks(blocks, path)
    while True:
        try:
            header_lines, part = next(records)
        except StopIteration:
            break
        except InputError:  # records before the bad one are written, as ever
            while waiting:
                yield with_heads(waiting.popleft(), renamer.receive())
            raise
        if isinstance(part, PlainRecords):
            report.add("records", part.count)
            report.add("plus_lines_cleared", part.plus_named)
            renamer.submit(part.heads, header_lines)
        else:
            count = len(part) // 4
            report.add("records", count)
            plus_lines = part[2::4]
            report.add("plus_lines_cleared", count - plus_lines.count(b"+"))
            part[2::4] = [b"+"] * count
            part.append(b"")
            renamer.submit(b"\n".join(part[0:-1:4]), header_lines)
        waiting.append(part)
        if len(waiting) > RENAMING_AHEAD:
            yield with_heads(waiting.popleft(), renamer.receive())
    while waiting:
        yield with_heads(waiting.popleft(), renamer.receive())


def with_heads(part: RecordPart, heads: bytes) -> bytes:
    """The run's text with the new header lines (joined; a list of lines ends with an empty line)."""
    if isinstance(part, PlainRecords):
        return scan.fastq_rebuild(part.text, part.count, heads)
    part[0:-1:4] = heads.split(b"\n")
    return b"\n".join(part)


@app.command(
    help="Replace FASTQ read names by pseudonyms, keeping /1 /2 or 1:N:0 read numbers; sequence and qualities pass unchanged."
)
def main(
    input: InputArgument = "-",
    output: OutputOption = None,
    map_path: MapOption = None,
    key_file: KeyFileOption = None,
    map_out: MapOutOption = None,
    report_path: ReportOption = None,
    quiet: QuietOption = False,
) -> None:
    def job(report: Report) -> None:
        pseudonyms = open_pseudonyms(map_path, key_file, map_out)
        report.notes["scheme"] = pseudonyms.scheme
        independent = pseudonyms.scheme == "key" and map_out is None  # a name's pseudonym depends on it alone
        renamer = RenamingPool(NameReplacer(pseudonyms, input), 2 if independent else 1)
        try:
            with reading(open_input(input)) as source, output_stream(output) as sink:
                for chunk in scrub_records(fastq_blocks(source, input), renamer, input, report):
                    sink.write(chunk)
                renamer.close()
        finally:
            with contextlib.suppress(OSError, WorkerFailed):  # the error on its way out says more
                renamer.close()
            pseudonyms.close()

    run(COMMAND, job, Path(report_path) if report_path else None, quiet)


if __name__ == "__main__":
    app()
