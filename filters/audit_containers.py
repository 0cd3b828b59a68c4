"""The bytes a container carries beside its content, which decoders skip: read by the audit.

A decoder hands on the content of a compressed file and nothing else, so an identifier in the
container itself would pass an audit that reads only what decoders hand it. ``gzip file``
stores the file's name and time in the member header; bytes after the last member or stream
are ignored by most readers (Python's bz2 and xz readers drop them without a word, and its
xz reader stops at stream padding, a second stream after it unread); a zstd skippable frame
holds any bytes. This module reads the
compressed bytes itself, decompresses them (one pass: the text the audits read comes from
here) and holds every such place to what is known safe; the rest is a metadata finding,
located by member, frame or stream and never quoted, and searched for the forbid list's
strings too. Known safe (RFC 1952; SAM 1.6, section 4.1; RFC 8878; the xz file format):

- gzip and BGZF, every member: no file name (FNAME), no comment (FCOMMENT), no extra
  subfield but BGZF's ``BC``, MTIME 0, XFL and OS values the specification defines, no
  reserved flag, a header CRC (FHCRC) that matches; nothing after the last member. MTIME is
  a date, the input file's time when ``gzip`` compresses a file, by name or redirected to
  its stdin (``gzip -n``, gzip on a pipe, bgzip, htslib and zlib write 0); a date of the data
  holder's is metadata the scrubbers remove elsewhere (``fileDate``, ``@RG DT``), so it is a
  finding here too;
- zstd: zstd frames only (a skippable frame is a finding), nothing after the last;
- bzip2: bzip2 streams only, nothing after the last (the format has no field a decoder skips
  but the up to seven padding bits of a stream's last byte, which are not read);
- xz: xz streams and the stream padding between them (NUL bytes, a multiple of four),
  nothing after the last.

Also here: the bytes after the NUL that ends a BAM or BCF header's text (``check_after_nul``).
A BCF's records are walked by ``audit_bcf``, the CRAM container by ``audit_cram``.
"""

from __future__ import annotations

import bz2
import lzma
import os
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import BinaryIO, cast

from genoscrub.audit_findings import Findings
from genoscrub.audit_forbid import ForbidList
from genoscrub.report import InputError, UsageError
from genoscrub.streams import BGZF_EOF_BLOCK, BGZF_MISSING_EOF
from isal import igzip_lib, isal_zlib

PIECE = 1 << 20
"""Compressed bytes read at a time."""
OUTPUT = 4 << 20
"""Decompressed bytes made at a time: memory stays flat whatever the ratio."""
LONGEST_HEADER = 16 << 20
"""A gzip header (name, comment, extra field) longer than this is not read: corrupt input."""
TRAILING_SEARCHED = 1 << 20
"""Bytes after the last member searched for the forbid list's strings (the finding stands for all)."""
CORRUPT = "truncated or corrupt compressed input"
ZSTD_PIECE = 128 << 10
"""zstd bytes decompressed at a time (its decompressor has no output limit)."""

GZIP_MAGIC = b"\x1f\x8b"
ZSTD_MAGIC = b"\x28\xb5\x2f\xfd"
BZIP2_MAGIC = b"BZh"
XZ_MAGIC = b"\xfd7zXZ\x00"
ZSTD_SKIPPABLE_LOW, ZSTD_SKIPPABLE_HIGH = 0x184D2A50, 0x184D2A5F

SAFE_BGZF_HEAD = bytes.fromhex("1f8b0804" "00000000" "00ff" "0600" "4243" "0200")
"""The first 16 bytes of a BGZF block as htslib, bgzip, htsjdk and Biopython write it: FEXTRA
only, MTIME 0, XFL 0, OS 255, one ``BC`` subfield. A block starting so is known safe at once."""
FTEXT, FHCRC, FEXTRA, FNAME, FCOMMENT = 0x01, 0x02, 0x04, 0x08, 0x10
RESERVED_FLAGS = 0xE0
GZIP_XFL = frozenset({0, 2, 4})
GZIP_OS = frozenset(range(14)) | {255}

# Finding keys (metadata), in the audit's words: what the bytes are, never what they hold.
GZIP_NAME = "gzip header file name"
GZIP_COMMENT = "gzip header comment"
GZIP_EXTRA = "gzip header extra subfield (not BGZF's BC)"
GZIP_EXTRA_UNPARSED = "gzip header extra field (does not parse)"
GZIP_TIME = "gzip header time (MTIME)"
GZIP_FLAGS = "gzip header flags (reserved bits)"
GZIP_SYSTEM = "gzip header XFL or OS (off the specification)"
GZIP_HEADER_CRC = "gzip header CRC (does not match)"
BGZF_SLACK = "corrupt BGZF block (bytes between its compressed data and its trailer)"
"""SAM 1.6, section 4.1: CDATA is BSIZE-XLEN-19 bytes; bytes after the deflate data and before
the trailer would be read by no decoder (a one-shot inflate stops at the end of the data)."""
AFTER_GZIP = "bytes after the last gzip member"
ZSTD_SKIPPABLE = "zstd skippable frame"
AFTER_ZSTD = "bytes after the last zstd frame"
AFTER_BZIP2 = "bytes after the last bzip2 stream"
AFTER_XZ = "bytes after the last xz stream"
TEXT_AFTER_NUL = "header text after its NUL"


@dataclass
class ContainerWatch:
    """Findings in the bytes decoders skip, for one file. Kept apart from the file's own
    findings (a reader thread adds to them) and merged when its stream has ended."""

    forbid: ForbidList | None
    findings: Findings = field(default_factory=Findings)

    def found(self, key: str, where: str, text: bytes = b"") -> None:
        """A metadata finding ``key`` at ``where``; ``text`` (the bytes themselves, never printed)
        is searched for the forbid list's strings, each entry found counted once."""
        self.findings.metadata.add(key, where)
        if text and self.forbid is not None:
            for line in sorted({entry.line for entry, _ in self.forbid.search_text(text)}):
                self.findings.forbidden.add(f"{key} (list line {line})", where)


# --- reading ahead ----------------------------------------------------------------------------


class ByteSource:
    """A raw byte stream read ahead in pieces, for parsers that look before they take."""

    def __init__(self, stream: BinaryIO, path: str) -> None:
        self.stream = stream
        self.path = path
        self.buffer = b""
        self.at = 0
        self.ended = False
        read1 = getattr(stream, "read1", None)
        self._read = read1 if read1 is not None else stream.read

    def available(self) -> int:
        return len(self.buffer) - self.at

    def need(self, size: int) -> bool:
        """At least ``size`` bytes are buffered (reading more if it must); False at the end."""
        while len(self.buffer) - self.at < size:
            if self.ended:
                return False
            try:
                more = self._read(max(PIECE, size - (len(self.buffer) - self.at)))
            except OSError as error:
                raise InputError(f"cannot read: {error.strerror}", self.path) from None
            if not more:
                self.ended = True
                return False
            self.buffer = self.buffer[self.at :] + more
            self.at = 0
        return True

    def peek(self, size: int) -> bytes:
        """Up to ``size`` bytes, left in place."""
        self.need(size)
        return self.buffer[self.at : self.at + size]

    def take(self, size: int) -> bytes:
        """Exactly ``size`` bytes, or ``CORRUPT`` (the input ends inside a unit)."""
        if not self.need(size):
            raise InputError(CORRUPT, self.path)
        data = self.buffer[self.at : self.at + size]
        self.at += size
        return data

    def take_some(self, limit: int = 0) -> bytes:
        """What is buffered (at most ``limit`` bytes, when given), or the next piece read;
        ``b""`` at the end."""
        if not self.need(1):
            return b""
        if limit and self.available() > limit:
            self.at += limit
            return self.buffer[self.at - limit : self.at]
        data = self.buffer[self.at :] if self.at else self.buffer
        self.buffer, self.at = b"", 0
        return data

    def skip(self, size: int) -> bytes:
        """Read past ``size`` bytes (``CORRUPT`` if fewer are left); the first MiB of them returned."""
        kept = b""
        while size:
            piece = self.take_some(min(size, PIECE))
            if not piece:
                raise InputError(CORRUPT, self.path)
            size -= len(piece)
            if len(kept) < TRAILING_SEARCHED:
                kept += piece[: TRAILING_SEARCHED - len(kept)]
        return kept

    def give_back(self, data: bytes) -> None:
        """Bytes taken but not used (what a decompressor left after its unit) go first again."""
        if data:
            self.buffer = data + self.buffer[self.at :]
            self.at = 0

    def at_end(self) -> bool:
        return not self.need(1)

    def until_nul(self, start: int) -> int:
        """The offset (from the unread start) of the first NUL at or after ``start``."""
        while True:
            found = self.buffer.find(b"\0", self.at + start)
            if found >= 0:
                return found - self.at
            if self.available() > LONGEST_HEADER or not self.need(self.available() + 1):
                raise InputError(CORRUPT, self.path)

    def rest(self) -> Iterator[bytes]:
        """Every byte left, piece by piece."""
        while piece := self.take_some():
            yield piece


def trailing(source: ByteSource, key: str, where: str, watch: ContainerWatch) -> None:
    """Bytes after the last unit: one finding, the first MiB searched for the forbid list."""
    searched = b""
    for piece in source.rest():
        if len(searched) < TRAILING_SEARCHED:
            searched += piece[: TRAILING_SEARCHED - len(searched)]
    watch.found(key, where, searched)


# --- gzip and BGZF ------------------------------------------------------------------------------


@dataclass
class GzipHeader:
    """A gzip member header as read (RFC 1952, section 2.3)."""

    length: int
    flags: int
    mtime: int
    xfl: int
    os: int
    extra: bytes | None
    name: bytes | None
    comment: bytes | None
    crc_matches: bool = True

    @property
    def block_size(self) -> int | None:
        """BGZF's BSIZE + 1 (the whole member's length) from its ``BC`` subfield, or None."""
        for key, data in extra_subfields(self.extra or b"") or []:
            if key == b"BC" and len(data) == 2:
                return int.from_bytes(data, "little") + 1
        return None


def read_gzip_header(source: ByteSource) -> GzipHeader:
    """The header of the member at the source's start, left in place (``length`` bytes)."""
    fixed = source.peek(10)
    if len(fixed) < 10:
        raise InputError(CORRUPT, source.path)
    if fixed[2] != 8:
        raise InputError(CORRUPT, source.path)  # no compression method but deflate is defined
    flags = fixed[3]
    at = 10
    extra = name = comment = None
    if flags & FEXTRA:
        if not source.need(at + 2):
            raise InputError(CORRUPT, source.path)
        size = int.from_bytes(source.buffer[source.at + at : source.at + at + 2], "little")
        if not source.need(at + 2 + size):
            raise InputError(CORRUPT, source.path)
        extra = source.buffer[source.at + at + 2 : source.at + at + 2 + size]
        at += 2 + size
    if flags & FNAME:
        end = source.until_nul(at)
        name = source.buffer[source.at + at : source.at + end]
        at = end + 1
    if flags & FCOMMENT:
        end = source.until_nul(at)
        comment = source.buffer[source.at + at : source.at + end]
        at = end + 1
    crc_matches = True
    if flags & FHCRC:
        if not source.need(at + 2):
            raise InputError(CORRUPT, source.path)
        stored = int.from_bytes(source.buffer[source.at + at : source.at + at + 2], "little")
        crc_matches = stored == isal_zlib.crc32(source.buffer[source.at : source.at + at]) & 0xFFFF
        at += 2
    return GzipHeader(
        at, flags, int.from_bytes(fixed[4:8], "little"), fixed[8], fixed[9], extra, name, comment, crc_matches
    )  # fmt: skip


def extra_subfields(extra: bytes) -> list[tuple[bytes, bytes]] | None:
    """The subfields of a gzip extra field (SI1 SI2, LEN, data); None if it does not parse."""
    fields = []
    at = 0
    while at < len(extra):
        if at + 4 > len(extra):
            return None
        size = int.from_bytes(extra[at + 2 : at + 4], "little")
        if at + 4 + size > len(extra):
            return None
        fields.append((extra[at : at + 2], extra[at + 4 : at + 4 + size]))
        at += 4 + size
    return fields


def check_gzip_header(header: GzipHeader, where: str, watch: ContainerWatch) -> None:
    """Every field of a member header a decoder skips, held to what is known safe."""
    if header.flags & RESERVED_FLAGS:
        watch.found(GZIP_FLAGS, where)
    if header.name is not None:
        watch.found(GZIP_NAME, where, header.name)
    if header.comment is not None:
        watch.found(GZIP_COMMENT, where, header.comment)
    if header.extra is not None:
        subfields = extra_subfields(header.extra)
        if subfields is None:
            watch.found(GZIP_EXTRA_UNPARSED, where, header.extra)
        else:
            others = [key + data for key, data in subfields if key != b"BC" or len(data) != 2]
            if others or sum(key == b"BC" for key, _ in subfields) > 1:
                watch.found(GZIP_EXTRA, where, b"\0".join(others))
    if header.mtime:
        watch.found(GZIP_TIME, where)
    if header.xfl not in GZIP_XFL or header.os not in GZIP_OS:
        watch.found(GZIP_SYSTEM, where)
    if not header.crc_matches:
        watch.found(GZIP_HEADER_CRC, where)


def check_bgzf_block_header(block: bytes, number: int, watch: ContainerWatch) -> None:
    """A BAM's BGZF block (its first bytes at least, ``number`` from 1), known safe at once
    when it starts as htslib writes it; else read field by field."""
    if block.startswith(SAFE_BGZF_HEAD):
        return
    extra_length = int.from_bytes(block[10:12], "little")
    header = GzipHeader(12 + extra_length, block[3], int.from_bytes(block[4:8], "little"), block[8], block[9],
                        block[12 : 12 + extra_length], None, None)  # fmt: skip
    check_gzip_header(header, f"BGZF block {number}", watch)


def inflate_member(data: bytes, path: str) -> bytes:
    """A whole BGZF member's deflate data and trailer (CRC32, ISIZE), checked; bytes between the
    end of the deflate data and the trailer make it corrupt (``BGZF_SLACK``)."""
    inflater = igzip_lib.IgzipDecompressor(flag=igzip_lib.DECOMP_DEFLATE)
    try:
        inflated = inflater.decompress(data[:-8])
    except Exception:  # isal's error type is not an OSError
        raise InputError(CORRUPT, path) from None
    if not inflater.eof:
        raise InputError(CORRUPT, path)
    if inflater.unused_data:
        raise InputError(BGZF_SLACK, path)
    if len(inflated) & 0xFFFFFFFF != int.from_bytes(data[-4:], "little") or isal_zlib.crc32(inflated) != int.from_bytes(
        data[-8:-4], "little"
    ):
        raise InputError(CORRUPT, path)
    return inflated


def gzip_chunks(source: ByteSource, watch: ContainerWatch) -> Iterator[bytes]:
    """The content of a gzip or BGZF file, member by member, every header checked. A BGZF
    member is inflated at once (its length is in its header); another is inflated as it
    comes, and where it ends is known only then (the inflater leaves the next member's bytes over)."""
    path = source.path
    number = 0
    bgzf = False
    last_block = b""
    while not source.at_end():
        if source.peek(2) != GZIP_MAGIC:
            trailing(source, AFTER_GZIP, f"after {'BGZF block' if bgzf else 'gzip member'} {number}", watch)
            break
        number += 1
        safe = source.peek(16) == SAFE_BGZF_HEAD
        header = None if safe else read_gzip_header(source)
        size = int.from_bytes(source.peek(18)[16:18], "little") + 1 if header is None else header.block_size
        if number == 1:
            bgzf = size is not None
        where = f"{'BGZF block' if bgzf else 'gzip member'} {number}"
        if header is not None:
            check_gzip_header(header, where, watch)
        start = 18 if header is None else header.length
        if size is not None and (header is None or header.length == 12 + len(header.extra or b"")) and size >= start + 8:
            block = source.take(size)
            last_block = block
            data = inflate_member(block[start:], path)
            if data:
                yield data
            continue
        last_block = b""
        source.take(start)
        yield from _inflate_stream(source)
    if bgzf and last_block != BGZF_EOF_BLOCK:
        raise InputError(BGZF_MISSING_EOF, path)


def _inflate_stream(source: ByteSource) -> Iterator[bytes]:
    """One member's deflate data from the source, then its trailer, checked."""
    path = source.path
    inflater = igzip_lib.IgzipDecompressor(flag=igzip_lib.DECOMP_DEFLATE)
    crc = 0
    length = 0
    while not inflater.eof:
        piece = source.take_some() if inflater.needs_input else b""
        if inflater.needs_input and not piece:
            raise InputError(CORRUPT, path)
        try:
            data = inflater.decompress(piece, OUTPUT)
        except Exception:  # isal's error type is not an OSError
            raise InputError(CORRUPT, path) from None
        if data:
            crc = isal_zlib.crc32(data, crc)
            length += len(data)
            yield data
    source.give_back(inflater.unused_data)
    trailer = source.take(8)
    if int.from_bytes(trailer[:4], "little") != crc or int.from_bytes(trailer[4:], "little") != length & 0xFFFFFFFF:
        raise InputError(CORRUPT, path)


# --- zstd, bzip2, xz ------------------------------------------------------------------------------


def zstd_chunks(source: ByteSource, watch: ContainerWatch) -> Iterator[bytes]:
    """The content of zstd frames; a skippable frame is read past and is a finding."""
    import zstandard

    number = 0
    while not source.at_end():
        magic = source.peek(4)
        number += 1
        where = f"zstd frame {number}"
        if len(magic) == 4 and ZSTD_SKIPPABLE_LOW <= int.from_bytes(magic, "little") <= ZSTD_SKIPPABLE_HIGH:
            size = int.from_bytes(source.take(8)[4:], "little")
            watch.found(ZSTD_SKIPPABLE, where, source.skip(size))
            continue
        if magic != ZSTD_MAGIC:
            trailing(source, AFTER_ZSTD, f"after zstd frame {number - 1}", watch)
            return
        inflater = zstandard.ZstdDecompressor().decompressobj()
        while not inflater.eof:
            piece = source.take_some(ZSTD_PIECE)  # its output is made at once: a small piece at a time
            if not piece:
                raise InputError(CORRUPT, source.path)
            try:
                data = inflater.decompress(piece)
            except zstandard.ZstdError:
                raise InputError(CORRUPT, source.path) from None
            if data:
                yield data
        source.give_back(inflater.unused_data)


def stream_chunks(source: ByteSource, watch: ContainerWatch, kind: str) -> Iterator[bytes]:
    """The content of bzip2 or xz streams, one decompressor a stream; xz's stream padding
    (NUL bytes, a multiple of four) between and after them is part of the format."""
    magic, after = (BZIP2_MAGIC, AFTER_BZIP2) if kind == "bzip2" else (XZ_MAGIC, AFTER_XZ)
    errors: tuple[type[BaseException], ...] = (OSError, EOFError, ValueError, lzma.LZMAError)
    number = 0
    while not source.at_end():
        if kind == "xz" and source.peek(4) == b"\0\0\0\0":
            source.take(4)
            continue
        if source.peek(len(magic)) != magic:
            trailing(source, after, f"after {kind} stream {number}", watch)
            return
        number += 1
        inflater = bz2.BZ2Decompressor() if kind == "bzip2" else lzma.LZMADecompressor(lzma.FORMAT_XZ)
        while not inflater.eof:
            piece = source.take_some() if inflater.needs_input else b""
            if inflater.needs_input and not piece:
                raise InputError(CORRUPT, source.path)
            try:
                data = inflater.decompress(piece, OUTPUT)
            except errors:
                raise InputError(CORRUPT, source.path) from None
            if data:
                yield data
        source.give_back(inflater.unused_data)


# --- one reader for every compression ------------------------------------------------------------


def compression(head: bytes) -> str:
    """The compression told by a stream's first bytes: gzip (BGZF too), zstd, bzip2, xz, or none."""
    if head.startswith(GZIP_MAGIC):
        return "gzip"
    if head.startswith(ZSTD_MAGIC) or (len(head) >= 4 and ZSTD_SKIPPABLE_LOW <= int.from_bytes(head[:4], "little") <= ZSTD_SKIPPABLE_HIGH):
        return "zstd"
    if head.startswith(BZIP2_MAGIC):
        return "bzip2"
    if head.startswith(XZ_MAGIC):
        return "xz"
    return ""


class CheckedStream:
    """The decompressed content of a path or stdin, read by ``read(size)``, while the
    container's skipped bytes are checked into ``watch``."""

    def __init__(self, path: str, watch: ContainerWatch) -> None:
        self.path = path
        self.watch = watch
        self.raw = _open_raw(path)
        self.source = ByteSource(self.raw, path)
        kind = compression(self.source.peek(8))
        if kind == "gzip":
            self.chunks = gzip_chunks(self.source, watch)
        elif kind == "zstd":
            self.chunks = zstd_chunks(self.source, watch)
        elif kind:
            self.chunks = stream_chunks(self.source, watch, kind)
        else:
            self.chunks = self.source.rest()
        self.pending = b""

    def read(self, size: int = -1) -> bytes:
        """``size`` bytes, fewer only at the end (all that is left for -1); ``b""`` only at the end.
        A BGZF member holds 64 KiB: the readers' blocks of whole lines are made of many."""
        if size < 0:
            return self.pending + b"".join(self.chunks)
        pieces = [self.pending] if self.pending else []
        held = len(self.pending)
        while held < size:
            chunk = next(self.chunks, None)
            if chunk is None:
                break
            pieces.append(chunk)
            held += len(chunk)
        data = pieces[0] if len(pieces) == 1 else b"".join(pieces)
        data, self.pending = (data[:size], data[size:]) if len(data) > size else (data, b"")
        return data

    def close(self) -> None:
        if self.raw is not sys.stdin.buffer:
            self.raw.close()


def _open_raw(path: str) -> BinaryIO:
    if path == "-":
        if sys.stdin is None:
            raise UsageError("no input: give a file or pipe data to stdin")
        return cast(BinaryIO, sys.stdin.buffer)
    try:
        return open(path, "rb", buffering=0)  # noqa: SIM115 - closed by CheckedStream.close
    except OSError as error:
        raise InputError(f"cannot open: {error.strerror}", path) from None


# --- header text ----------------------------------------------------------------------------------


def check_after_nul(after: bytes, where: str, watch: ContainerWatch) -> None:
    """The bytes of a BAM or BCF header's text field (``l_text`` bytes) after the NUL that ends
    the text, which every reader skips: NUL padding is known safe, any other byte a finding."""
    if after.strip(b"\0"):
        watch.found(TEXT_AFTER_NUL, where, after.replace(b"\0", b"\n"))


def file_name(path: str) -> bytes:
    """A delivered file's own name (never the folders above it: they are the auditor's)."""
    return os.fsencode(os.path.basename(path))
