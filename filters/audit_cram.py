"""A CRAM file walked container by container: the bytes htslib reads past without handing them on.

The audit reads a CRAM's records as htslib decodes them (``audit_formats``: a child makes BAM
of it). What htslib does not hand on is read here, on the bytes' way to that child (CRAM 3.1
specification, sections 6 to 9), and held to what htslib writes; the rest is a metadata
finding, never quoted, and searched for the forbid list's strings:

- the file definition's 20-byte file ID: htslib fills it with the output path as it was given
  (``-o crt/home/kim/S2301.cram`` writes ``crt/home/kim/S2301.c``). Known safe: all NUL, ``-``
  (stdout; genoscrub's own CRAM writer) or the file's own base name (a bare output name), which
  is checked against the forbid list with the file's name;
- the header container: after the SAM header text, its block and the blocks and bytes after
  it are padding, NUL bytes only; the text holds no NUL (a reader stops there);
- each data container's compression header: its preservation map, data series and tag
  encodings, read whole; a key htslib does not know, a tag dictionary entry of no aux type,
  or bytes after the tag encoding map are findings; the tag dictionary is searched for the
  forbid list's strings (a tag name is two characters, a dictionary line is their run);
- each slice header: bytes after its MD5 other than the specification's digest tags (htsjdk
  writes them, htslib none), and an MD5 that is not all NUL where htslib does not check it (a
  multi-reference or unmapped slice, or a container that needs no reference);
- each block: an external block no data series and no tag of the tag dictionary reads (htslib
  skips it; a tag encoding of a tag no dictionary line names is read by no record), a CORE
  block holding data when no encoding reads it, an embedded reference that is not bases, not
  the MD5 its slice gives, or not the bases of ``-r`` over its slice's span (read where its
  compression is raw, gzip, bzip2 or lzma; a finding otherwise, and without ``-r``): the reads
  of a slice are stored against its embedded reference, so a reference holding the patient's
  alleles (a consensus, or one planted) carries them while every read decodes to REF; a
  block of a content type no reader knows, a gzip-compressed block
  whose gzip header holds a name, comment, extra field or time, or whose last four bytes are
  not its raw size (bytes after the gzip data);
- the containers: blocks that do not fill their container exactly, and bytes that do not parse
  as containers (after the end-of-file container too: htslib reads on past it).

Not checked: bytes a data series leaves unread at the end of a CORE or external block it
does read, a block read by a data series no record asks for (a feature code no read has), and
what the rANS, arithmetic, fqzcomp and name-tokeniser codecs (methods 4 to 8) could carry
inside their own streams: finding those means decoding every record's data series, htslib's
whole work, a second time. Only CRAM 2.1 and 3.x are walked; another version is a finding
(fail closed).
"""

from __future__ import annotations

import bz2
import contextlib
import hashlib
import io
import lzma
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field

from genoscrub.audit_containers import (
    FCOMMENT,
    FEXTRA,
    FHCRC,
    FNAME,
    RESERVED_FLAGS,
    TRAILING_SEARCHED,
    ByteSource,
    ContainerWatch,
    check_gzip_header,
    read_gzip_header,
)
from genoscrub.audit_sites import Reference
from genoscrub.contigs import ContigMap
from genoscrub.report import InputError

FILE_DEFINITION = 26
FILE_HEADER, COMPRESSION_HEADER, SLICE_HEADER, EXTERNAL, CORE = 0, 1, 2, 4, 5
RAW, GZIP, BZIP2, LZMA = 0, 1, 2, 3
PASSED = 1 << 20
"""Block bytes handed on at a time when they are not read here."""

DATA_SERIES = frozenset(
    ["BF", "CF", "RI", "RL", "AP", "RG", "MF", "NS", "NP", "TS", "NF", "TC", "TN", "FN", "FC", "FP",
     "BS", "IN", "SC", "DL", "BA", "BB", "RS", "PD", "HC", "MQ", "RN", "QS", "QQ", "TL", "TM", "TV"]
)  # fmt: skip
"""The data series keys of a compression header's encoding map (CRAM 3.1, section 8.4; TM and TV
are legacy keys htslib still writes and does not read)."""
UNREAD_SERIES = frozenset({"TM", "TV"})
PRESERVATION_KEYS = {"RN": 1, "AP": 1, "RR": 1, "QO": 1, "SM": 5}
"""Preservation map keys and their value sizes (TD, the tag dictionary, is read apart); CRAM 1's
MI, UI and PI, which htslib reads past, are not known safe."""
AUX_TYPES = frozenset(b"AcCsSiIfZHB")
EXTERNAL_ENCODING, HUFFMAN, BYTE_ARRAY_LEN, BYTE_ARRAY_STOP = 1, 3, 4, 5
CORE_ENCODINGS = frozenset({2, 3, 6, 7, 8, 9})
"""GOLOMB, HUFFMAN, BETA, SUBEXP, GOLOMB_RICE, GAMMA: codes read from the CORE block only."""
BASES = frozenset(b"ACGTNRYSWKMBDHVacgtnryswkmbdhv")
DIGEST_TAGS = {b"BD": {4}, b"SD": {4}, b"B5": {16, 64}, b"S5": {16, 64}, b"B1": {20}, b"S1": {20}}
"""The slice header's optional tags CRAM 3 defines (section 8.5): digests of the slice's bases and
quality scores (CRC32, MD5, SHA-1) as ``B:c`` or ``B:C`` arrays of their size (htsjdk writes all
six, B5 and S5 of 64 bytes). Accepted by name and shape; their values, which readers do not
check, are not recomputed."""

FILE_ID = "CRAM file ID"
VERSION = "CRAM version the audit does not walk"
HEADER_PADDING = "CRAM header padding (not NUL)"
HEADER_TEXT_NUL = "CRAM header text (holds a NUL)"
CONTAINER_FILL = "CRAM container (blocks do not fill it)"
UNPARSED = "CRAM structure (does not parse)"
COMPRESSION_KEY = "CRAM compression header key (not known)"
COMPRESSION_TAIL = "CRAM compression header bytes after its maps"
TAG_DICTIONARY = "CRAM tag dictionary entry (no aux type)"
TAG_DICTIONARY_TEXT = "CRAM tag dictionary"
ENCODING = "CRAM encoding (not known)"
SLICE_TAIL = "CRAM slice header bytes after its MD5"
SLICE_MD5 = "CRAM slice MD5 (not checked by readers)"
UNREAD_BLOCK = "CRAM block no data series reads"
BLOCK_TYPE = "CRAM block of no known content type"
EMBEDDED_REFERENCE = "CRAM embedded reference (not bases)"
EMBEDDED_DIFFERS = "CRAM embedded reference (differs from the reference)"
EMBEDDED_UNCOMPARED = "CRAM embedded reference (not compared: no -r, or not its contig)"
UNREADABLE = "CRAM block (compressed by a method the audit does not read)"
BLOCK_GZIP_HEADER = "CRAM block gzip header (name, comment, extra field or time)"
BLOCK_GZIP_TAIL = "CRAM block bytes after its gzip data"


class Unparsed(Exception):
    """A structure that does not parse as CRAM: a finding, and the rest is handed on unread."""


def itf8(data: bytes, at: int) -> tuple[int, int]:
    """An ITF8 integer (CRAM 3.1, section 2.3: 32 bits, two's complement) and the offset after it."""
    first = data[at]
    if first < 0x80:
        value, size = first, 1
    elif first < 0xC0:
        value, size = ((first & 0x3F) << 8) | data[at + 1], 2
    elif first < 0xE0:
        value, size = ((first & 0x1F) << 16) | (data[at + 1] << 8) | data[at + 2], 3
    elif first < 0xF0:
        value, size = ((first & 0x0F) << 24) | (data[at + 1] << 16) | (data[at + 2] << 8) | data[at + 3], 4
    else:
        value = ((first & 0x0F) << 28) | (data[at + 1] << 20) | (data[at + 2] << 12) | (data[at + 3] << 4) | (data[at + 4] & 0x0F)
        size = 5
    if at + size > len(data):
        raise IndexError(at)
    return (value - (1 << 32) if value >= 1 << 31 else value), at + size


def ltf8(data: bytes, at: int) -> tuple[int, int]:
    """An LTF8 integer (64 bits: leading one bits count the bytes that follow) and the offset after it."""
    first = data[at]
    following = 0
    while following < 8 and first & (0x80 >> following):
        following += 1
    value = first & (0xFF >> (following + 1)) if following < 8 else 0
    if at + 1 + following > len(data):
        raise IndexError(at)
    for byte in data[at + 1 : at + 1 + following]:
        value = (value << 8) | byte
    return (value - (1 << 64) if value >= 1 << 63 else value), at + 1 + following


@dataclass
class Container:
    header: bytes
    length: int
    ref_id: int
    start: int
    records: int
    blocks: int


@dataclass
class Block:
    method: int
    content_type: int
    content_id: int
    compressed: int
    raw: int
    header_length: int  # method to raw size
    trailer: int  # the CRC32 of CRAM 3


@dataclass
class CompressionHeader:
    """What a data container's compression header says about its blocks."""

    read_ids: set[int] = field(default_factory=set)
    needs_reference: bool = True
    uses_core: bool = False
    """Whether any encoding reads the CORE block (a CORE block of data none reads is a finding)."""
    dictionary: set[int] = field(default_factory=set)
    """The tags of the tag dictionary, as the tag encoding map keys them (tag and type, 24 bits):
    only their encodings are read by a record."""


def _parse_growing(source: ByteSource, parse, limit: int = 1 << 16):  # type: ignore[no-untyped-def]
    """``parse(bytes)`` on the source's next bytes, more of them until it needs no more."""
    size = 64
    while True:
        data = source.peek(size)
        try:
            return parse(data)
        except IndexError:
            if len(data) < size or size >= limit:
                raise Unparsed from None
            size *= 4


def _container_header(data: bytes, major: int) -> Container:
    if len(data) < 4:
        raise IndexError(0)
    length = int.from_bytes(data[0:4], "little", signed=True)
    ref_id, at = itf8(data, 4)
    start, at = itf8(data, at)
    _, at = itf8(data, at)  # span
    records, at = itf8(data, at)
    _, at = ltf8(data, at) if major >= 3 else itf8(data, at)  # record counter
    _, at = ltf8(data, at)  # bases
    blocks, at = itf8(data, at)
    landmarks, at = itf8(data, at)
    if landmarks < 0 or landmarks > 1 << 20:
        raise Unparsed
    for _ in range(landmarks):
        _, at = itf8(data, at)
    at += 4 if major >= 3 else 0
    if at > len(data):
        raise IndexError(at)
    if length < 0:
        raise Unparsed
    return Container(data[:at], length, ref_id, start, records, blocks)


def _block_header(data: bytes, major: int) -> Block:
    if len(data) < 2:
        raise IndexError(0)
    content_id, at = itf8(data, 2)
    compressed, at = itf8(data, at)
    raw, at = itf8(data, at)
    if compressed < 0 or raw < 0:
        raise Unparsed
    return Block(data[0], data[1], content_id, compressed, raw, at, 4 if major >= 3 else 0)


def decompressed(block: Block, data: bytes) -> bytes | None:
    """A block's raw content; None for a method the audit does not read (rANS and the CRAM 3.1 codecs)."""
    try:
        if block.method == RAW:
            return data
        if block.method == GZIP:
            return zlib.decompress(data, 31)
        if block.method == BZIP2:
            return bz2.decompress(data)
        if block.method == LZMA:
            return lzma.decompress(data)
    except (OSError, ValueError, EOFError, zlib.error, lzma.LZMAError):
        raise Unparsed from None
    return None


class CramWalk:
    """The walk of one CRAM stream: ``walk`` hands on every byte, in order, after checking it."""

    def __init__(self, source: ByteSource, watch: ContainerWatch, name: bytes | None, reference: Reference | None = None) -> None:
        self.source = source
        self.watch = watch
        self.name = name
        self.reference = reference
        self.contigs: list[tuple[str, int]] = []
        """The header's @SQ names and lengths, in order: what a slice's reference ID names."""
        self.reference_names: dict[str, str] | None = None
        self.embedded_span = (-1, 0, 0)
        """The contig, first position (1-based) and span of the last slice with an embedded reference."""
        self.major = 0
        self.number = 0
        """The container being read (from 1)."""
        self.embedded_md5 = b""
        """The MD5 the last slice header gave for its embedded reference, not yet compared."""

    def walk(self) -> Iterator[bytes]:
        source = self.source
        definition = source.take(FILE_DEFINITION) if source.need(FILE_DEFINITION) else source.take_some()
        yield definition
        if len(definition) < FILE_DEFINITION or definition[:4] != b"CRAM":
            yield from source.rest()  # htslib says what is wrong with it
            return
        self.major = definition[4]
        self.check_file_id(definition[6:26])
        if self.major not in (2, 3):
            self.watch.found(VERSION, "file definition")
            yield from source.rest()
            return
        try:
            yield from self.containers()
        except (Unparsed, InputError):  # cut short or corrupt: htslib, reading the rest, says so, or it is a finding
            searched = b""
            for piece in source.rest():
                searched += piece[: max(0, TRAILING_SEARCHED - len(searched))]
                yield piece
            self.watch.found(UNPARSED, f"CRAM container {self.number}", searched)

    def check_file_id(self, file_id: bytes) -> None:
        if file_id in (bytes(20), b"-" + bytes(19)):
            return
        if self.name is not None and file_id == self.name[:20].ljust(20, b"\0"):
            return
        self.watch.found(FILE_ID, "file definition", file_id.replace(b"\0", b"\n"))

    def containers(self) -> Iterator[bytes]:
        """Every container to the end of the stream: htslib reads on past an end-of-file container
        (a second one, or records after it), so the walk does too; what does not parse as a
        container is a finding (htslib, reading it, may stop with an error first)."""
        source = self.source
        while not source.at_end():
            self.number += 1
            container = _parse_growing(source, lambda data: _container_header(data, self.major))
            yield source.take(len(container.header))
            where = f"CRAM container {self.number}"
            if self.number == 1:
                yield from self.header_container(container, where)
            else:
                yield from self.data_container(container, where)

    def read_block(self) -> tuple[Block, bytes]:
        """The next block's header and its (compressed) data, taken whole."""
        block = _parse_growing(self.source, lambda data: _block_header(data, self.major))
        whole = self.source.take(block.header_length + block.compressed + block.trailer)
        return block, whole

    def header_container(self, container: Container, where: str) -> Iterator[bytes]:
        """The SAM header block, then padding: blocks of NUL bytes and NUL bytes after them."""
        used = 0
        for index in range(container.blocks):
            block, whole = self.read_block()
            yield whole
            used += len(whole)
            content = decompressed(block, whole[block.header_length : block.header_length + block.compressed])
            if content is None:
                self.watch.found(UNREADABLE, where)
                continue
            if index == 0:
                length = int.from_bytes(content[:4], "little")
                text, padding = content[4 : 4 + length], content[4 + length :]
                self.contigs = sequence_lines(text)
                if b"\0" in text:
                    self.watch.found(HEADER_TEXT_NUL, where, text[text.index(b"\0") :].replace(b"\0", b"\n"))
            else:
                padding = content
            if padding.strip(b"\0"):
                self.watch.found(HEADER_PADDING, where, padding.replace(b"\0", b"\n"))
        if used > container.length:
            raise Unparsed
        rest = self.source.take(container.length - used)
        yield rest
        if rest.strip(b"\0"):
            self.watch.found(HEADER_PADDING, where, rest.replace(b"\0", b"\n"))

    def data_container(self, container: Container, where: str) -> Iterator[bytes]:
        used = 0
        compression: CompressionHeader | None = None
        embedded = -1
        for index in range(container.blocks):
            block = _parse_growing(self.source, lambda data: _block_header(data, self.major))
            size = block.header_length + block.compressed + block.trailer
            used += size
            if used > container.length:
                raise Unparsed
            if index == 0 and block.content_type != COMPRESSION_HEADER:
                raise Unparsed
            if block.content_type in (COMPRESSION_HEADER, SLICE_HEADER):
                whole = self.source.take(size)
                yield whole
                content = decompressed(block, whole[block.header_length : block.header_length + block.compressed])
                if content is None:
                    self.watch.found(UNREADABLE, where)
                    continue
                if block.content_type == COMPRESSION_HEADER:
                    compression = self.compression_header(content, where)
                else:
                    embedded = self.slice_header(content, compression, where)
                continue
            if block.content_type == EXTERNAL and block.content_id == embedded and embedded >= 0:
                whole = self.source.take(size)
                yield whole
                self.embedded_reference(block, whole, where)
                continue
            read = compression is not None and (
                block.content_id in compression.read_ids if block.content_type == EXTERNAL else compression.uses_core or not block.raw
            )
            if block.content_type in (EXTERNAL, CORE) and not read:
                self.watch.found(UNREAD_BLOCK, where)
            elif block.content_type not in (EXTERNAL, CORE):
                self.watch.found(BLOCK_TYPE, where)
            if block.method == GZIP:
                whole = self.source.take(size)
                yield whole
                self.gzip_block(block, whole, where)
            else:
                yield from self.passed(size)
        if used != container.length:
            rest = self.source.take(container.length - used) if used < container.length else b""
            yield rest
            self.watch.found(CONTAINER_FILL, where, rest.replace(b"\0", b"\n"))

    def passed(self, size: int) -> Iterator[bytes]:
        while size:
            piece = self.source.take_some(min(size, PASSED))
            if not piece:
                raise Unparsed
            size -= len(piece)
            yield piece

    def gzip_block(self, block: Block, whole: bytes, where: str) -> None:
        """A gzip-compressed block: its member header as htslib writes it (no name, comment, extra
        field or time) and its last four bytes its raw size (nothing after the gzip data)."""
        data = whole[block.header_length : block.header_length + block.compressed]
        if len(data) >= 10 and (data[3] & (FEXTRA | FNAME | FCOMMENT | FHCRC | RESERVED_FLAGS) or data[4:8] != bytes(4)):
            with contextlib.suppress(InputError):  # not a gzip header: htslib says so when it decodes the block
                check_gzip_header(read_gzip_header(ByteSource(io.BytesIO(data), self.source.path)), where, self.watch)
        if len(data) >= 18 and int.from_bytes(data[-4:], "little") != block.raw & 0xFFFFFFFF:
            self.watch.found(BLOCK_GZIP_TAIL, where)

    def embedded_reference(self, block: Block, whole: bytes, where: str) -> None:
        """A reference embedded in a slice: bases only, and the MD5 its slice header gives for it."""
        content = decompressed(block, whole[block.header_length : block.header_length + block.compressed])
        if content is None:
            self.watch.found(UNREADABLE, where)
            return
        if content.translate(None, bytes(BASES)):
            self.watch.found(EMBEDDED_REFERENCE, where, content.translate(None, bytes(BASES)))
        if self.embedded_md5 and hashlib.md5(content).digest() != self.embedded_md5:
            self.watch.found(SLICE_MD5, where, self.embedded_md5)
        self.embedded_md5 = b""
        expected = self.reference_bases()
        if expected is None:
            self.watch.found(EMBEDDED_UNCOMPARED, where)
        elif content.upper() != expected:
            self.watch.found(EMBEDDED_DIFFERS, where)

    def reference_bases(self) -> bytes | None:
        """The bases of ``-r`` over the span of the slice whose embedded reference is read (upper
        case); None without ``-r`` or where its contig is not one of ``-r`` (in either spelling)."""
        ref_id, start, span = self.embedded_span
        if self.reference is None or not 0 <= ref_id < len(self.contigs) or start < 1 or span < 0:
            return None
        if self.reference_names is None:
            try:
                contigs = ContigMap(dict(self.contigs), dict(self.reference.lengths), "reference", self.reference.path, False)
                self.reference_names = dict(contigs.to_other)
            except InputError:  # another build: no contig compares
                self.reference_names = {}
        name = self.reference_names.get(self.contigs[ref_id][0])
        if name is None or start - 1 + span > self.reference.lengths[name]:
            return None
        return self.reference.fetch(name, start - 1, start - 1 + span)

    def compression_header(self, content: bytes, where: str) -> CompressionHeader:
        """The maps of a compression header (CRAM 3.1, section 8.4): which external blocks its data
        series and tags read, and whether decoding needs the reference."""
        found = CompressionHeader()
        try:
            at = self.preservation_map(content, where, found)
            size, at = itf8(content, at)
            end = at + size
            count, at = itf8(content, at)
            for _ in range(count):
                key = content[at : at + 2].decode("latin-1")
                codec, at = itf8(content, at + 2)
                length, at = itf8(content, at)
                if key not in DATA_SERIES:
                    self.watch.found(COMPRESSION_KEY, where, key.encode("latin-1"))
                ids = self.encoding_ids(codec, content[at : at + length], where, found)
                if key not in UNREAD_SERIES:
                    found.read_ids |= ids
                at += length
            if at != end:
                raise Unparsed
            size, at = itf8(content, at)
            end = at + size
            count, at = itf8(content, at)
            for _ in range(count):
                tag, at = itf8(content, at)  # the tag and its type
                codec, at = itf8(content, at)
                length, at = itf8(content, at)
                ids = self.encoding_ids(codec, content[at : at + length], where, found)
                if tag in found.dictionary:  # a tag no dictionary line names is read by no record
                    found.read_ids |= ids
                at += length
            if at != end:
                raise Unparsed
        except IndexError:
            raise Unparsed from None
        if at < len(content):
            self.watch.found(COMPRESSION_TAIL, where, content[at:])
        return found

    def preservation_map(self, content: bytes, where: str, found: CompressionHeader) -> int:
        size, at = itf8(content, 0)
        end = at + size
        count, at = itf8(content, at)
        for _ in range(count):
            key = content[at : at + 2].decode("latin-1")
            at += 2
            if key == "TD":
                length, at = itf8(content, at)
                found.dictionary = self.tag_dictionary(content[at : at + length], where)
                at += length
            elif key in PRESERVATION_KEYS:
                if key == "RR":
                    found.needs_reference = content[at] != 0
                at += PRESERVATION_KEYS[key]
            else:
                self.watch.found(COMPRESSION_KEY, where, key.encode("latin-1"))
                at += 1  # as htslib reads an unknown key: one byte
        if at != end:
            raise Unparsed
        return at

    def tag_dictionary(self, dictionary: bytes, where: str) -> set[int]:
        """Lines of three-byte entries (two for the tag, one for its type), each line ending in NUL;
        the tags it names, keyed as the tag encoding map keys them."""
        tags = set()
        for line in dictionary.split(b"\0"):
            if len(line) % 3 or any(type_ not in AUX_TYPES for type_ in line[2::3]):
                self.watch.found(TAG_DICTIONARY, where, line)
            tags |= {int.from_bytes(line[at : at + 3], "big") for at in range(0, len(line) - 2, 3)}
        if self.watch.forbid is not None:
            for entry in sorted({entry.line for entry, _ in self.watch.forbid.search_text(dictionary.replace(b"\0", b"\n"))}):
                self.watch.findings.forbidden.add(f"{TAG_DICTIONARY_TEXT} (list line {entry})", where)
        return tags

    def encoding_ids(self, codec: int, parameters: bytes, where: str, found: CompressionHeader) -> set[int]:
        """The external blocks an encoding reads (CRAM 3.1, section 13); one that reads the CORE
        block marks it read in ``found``."""
        if codec == EXTERNAL_ENCODING:
            return {itf8(parameters, 0)[0]}
        if codec == BYTE_ARRAY_STOP:
            return {itf8(parameters, 1)[0]}
        if codec == BYTE_ARRAY_LEN:
            lengths, at = itf8(parameters, 0)
            size, at = itf8(parameters, at)
            ids = self.encoding_ids(lengths, parameters[at : at + size], where, found)
            values, at = itf8(parameters, at + size)
            size, at = itf8(parameters, at)
            return ids | self.encoding_ids(values, parameters[at : at + size], where, found)
        if codec in CORE_ENCODINGS:
            found.uses_core = True
        elif codec != 0:
            self.watch.found(ENCODING, where)
        return set()

    def slice_header(self, content: bytes, compression: CompressionHeader | None, where: str) -> int:
        """A slice header (CRAM 3.1, section 8.5); its embedded reference's content ID (-1: none)."""
        try:
            ref_id, at = itf8(content, 0)
            start, at = itf8(content, at)
            span, at = itf8(content, at)
            _, at = itf8(content, at)  # records
            _, at = ltf8(content, at) if self.major >= 3 else itf8(content, at)  # record counter
            _, at = itf8(content, at)  # blocks
            count, at = itf8(content, at)
            for _ in range(count):
                _, at = itf8(content, at)
            embedded, at = itf8(content, at)
            md5 = content[at : at + 16]
            if len(md5) < 16:
                raise Unparsed
            at += 16
        except IndexError:
            raise Unparsed from None
        checked = ref_id >= 0 and (compression is None or compression.needs_reference)  # as htslib decides to compare it
        self.embedded_span = (ref_id, start, span)
        self.embedded_md5 = b""
        if md5 != bytes(16) and not checked:
            if embedded >= 0 and ref_id >= 0:
                self.embedded_md5 = md5  # the MD5 of the embedded reference: compared when its block is read
            else:
                self.watch.found(SLICE_MD5, where, md5)
        if at < len(content) and not digest_tags(content[at:]):
            self.watch.found(SLICE_TAIL, where, content[at:])
        return embedded


def digest_tags(tags: bytes) -> bool:
    """Whether a slice header's optional tags are digest tags only (``DIGEST_TAGS``), each once."""
    at = 0
    seen = set()
    while at < len(tags):
        tag, kind, subtype = tags[at : at + 2], tags[at + 2 : at + 3], tags[at + 3 : at + 4]
        sizes = DIGEST_TAGS.get(tag)
        if sizes is None or tag in seen or kind != b"B" or subtype not in (b"c", b"C"):
            return False
        size = int.from_bytes(tags[at + 4 : at + 8], "little")
        if size not in sizes or at + 8 + size > len(tags):
            return False
        seen.add(tag)
        at += 8 + size
    return True


def sequence_lines(text: bytes) -> list[tuple[str, int]]:
    """The ``SN`` and ``LN`` of each ``@SQ`` line of a SAM header text, in order (a line without
    them, which htslib refuses, counts with an empty name)."""
    contigs = []
    for line in text.split(b"\n"):
        if line.startswith(b"@SQ\t"):
            fields = dict((field[:2], field[3:]) for field in line.split(b"\t")[1:] if field[2:3] == b":")
            length = fields.get(b"LN", b"")
            contigs.append((fields.get(b"SN", b"").decode("latin-1"), int(length) if length.isdigit() else 0))
    return contigs


def checked_cram(source: ByteSource, watch: ContainerWatch, name: bytes | None, reference: Reference | None = None) -> Iterator[bytes]:
    """Every byte of a CRAM stream, in order, for htslib to decode, walked on the way; an embedded
    reference compared with ``reference`` (``-r``)."""
    return CramWalk(source, watch, name, reference).walk()
