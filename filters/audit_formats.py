"""Which format a file holds, told by its content, and the stream each audit reads.

FASTQ, SAM, BAM, CRAM, VCF and BCF are told apart by their first bytes, compressed or
not (gzip/BGZF, zstd, bzip2, xz; the name does not count). Each reaches one of three
readers:

- BAM as its BGZF blocks (``audit_bam``);
- SAM and CRAM as BAM: a child process converts them with htslib (pysam), so alignments
  are checked by one code path. The child is told never to fetch a CRAM reference over
  the network (``REF_PATH``/``REF_CACHE``), and ``-r`` gives it the reference. SAM text
  reaches the child through this process, which reads the fields htslib does not keep as
  text on the way (``audit_sam_text``);
- VCF and FASTQ as text; BCF as VCF text from an htslib child.

Text and BCF are decompressed here (``audit_containers.CheckedStream``), not by xopen or htslib,
so the bytes a container carries beside its content are read on the way; BCF reaches its
child uncompressed. CRAM reaches its child through this process too, walked container by
container on the way (``audit_cram``). For ``-`` the format is sniffed by peeking at stdin's
buffer without consuming it, so the reader (or the child, fed by a thread) sees every byte.
"""

from __future__ import annotations

import bz2
import contextlib
import io
import lzma
import os
import re
import subprocess
import sys
import threading
import zlib
from collections.abc import Iterator
from typing import IO, BinaryIO, cast

from genoscrub.audit_bcf import checked_bcf
from genoscrub.audit_containers import (
    ZSTD_MAGIC,
    ByteSource,
    CheckedStream,
    ContainerWatch,
    compression,
    file_name,
    read_gzip_header,
)
from genoscrub.audit_cram import checked_cram
from genoscrub.audit_index import sniff_index
from genoscrub.audit_sites import Reference
from genoscrub.report import InputError, UsageError
from genoscrub.streams import enlarge_pipe

PEEK = 1 << 16
SAM_HEADER_START = re.compile(rb"@(?:HD|SQ|RG|PG|CO)\t")


def text_head(raw: bytes) -> bytes:
    """The first decompressed bytes of a stream's first bytes (as much as they hold)."""
    raw = after_skippable_frames(raw)
    try:
        if raw.startswith(b"\x1f\x8b"):  # the header read as the audit reads it: zlib refuses some it need not
            header = read_gzip_header(ByteSource(io.BytesIO(raw), "-"))
            return zlib.decompressobj(-15).decompress(raw[header.length :], PEEK)
        if raw.startswith(b"\x28\xb5\x2f\xfd"):
            import zstandard

            return zstandard.ZstdDecompressor().decompressobj().decompress(raw)[:PEEK]
        if raw.startswith(b"BZh"):
            return bz2.BZ2Decompressor().decompress(raw, PEEK)
        if raw.startswith(b"\xfd7zXZ\x00"):
            return lzma.LZMADecompressor().decompress(raw, PEEK)
    except (OSError, EOFError, ValueError, zlib.error, lzma.LZMAError, InputError):
        return b""
    except Exception:  # zstandard's own error type
        return b""
    return raw


def after_skippable_frames(raw: bytes) -> bytes:
    """A zstd stream's first bytes after the skippable frames that start it (``audit_containers``
    finds them): the format is told by the content."""
    while len(raw) >= 8 and compression(raw) == "zstd" and not raw.startswith(ZSTD_MAGIC):
        raw = raw[8 + int.from_bytes(raw[4:8], "little") :]
    return raw


def sniff(raw: bytes) -> str:
    """``bam``, ``cram``, ``bcf``, ``vcf``, ``sam`` or ``fastq``, or an index (``bai``, ``csi``,
    ``tbi``, ``crai``: ``audit_index``); ``""`` when none fits."""
    if raw.startswith(b"CRAM"):
        return "cram"
    head = text_head(raw)
    index = sniff_index(raw, head)
    if index:
        return index
    if head.startswith(b"BAM\x01"):
        return "bam"
    if head.startswith(b"BCF\x02"):
        return "bcf"
    if head.startswith((b"##fileformat=VCF", b"#CHROM\t")):
        return "vcf"
    if SAM_HEADER_START.match(head):
        return "sam"
    if head.startswith(b"@"):
        return "fastq"
    first = head.split(b"\n", 1)[0]
    if first.count(b"\t") >= 10:
        return "sam"  # a SAM file without a header
    return ""


FORMAT_NAMES = {
    "bam": "BAM", "cram": "CRAM", "bcf": "BCF", "vcf": "VCF", "sam": "SAM", "fastq": "FASTQ",
    "bai": "BAI", "csi": "CSI", "tbi": "TBI", "crai": "CRAI",
}  # fmt: skip


def peek(path: str) -> bytes:
    """The first bytes of a path, or of stdin without consuming them."""
    if path == "-":
        if sys.stdin is None or sys.stdin.isatty():
            raise UsageError("no input file given and stdin is a terminal")
        buffer = sys.stdin.buffer
        try:
            return buffer.peek(PEEK)[:PEEK]  # type: ignore[union-attr,attr-defined]
        except OSError as error:
            raise InputError(f"cannot read: {error.strerror}", path) from None
    try:
        with open(path, "rb") as handle:
            return handle.read(PEEK)
    except OSError as error:
        raise InputError(f"cannot open: {error.strerror}", path) from None


def raw_stream(path: str) -> BinaryIO:
    if path == "-":
        return cast(BinaryIO, sys.stdin.buffer)
    try:
        return open(path, "rb")  # noqa: SIM115 - the caller closes it
    except OSError as error:
        raise InputError(f"cannot open: {error.strerror}", path) from None


def text_stream(path: str, watch: ContainerWatch) -> IO[bytes]:
    """VCF, FASTQ or SAM text, decompressed by content; the container's skipped bytes checked into
    ``watch``. A ``CheckedStream``: ``read(size)`` and ``close()``, all the text readers ask of it."""
    return cast(IO[bytes], CheckedStream(path, watch))


def bcf_feed(path: str, watch: ContainerWatch) -> Iterator[bytes]:
    """A BCF file for htslib, uncompressed: decompressed here like text, whatever the compression,
    its container and its header's bytes after the NUL checked (``audit_containers``), its records
    walked (``audit_bcf``)."""
    stream = CheckedStream(path, watch)
    try:
        yield from checked_bcf(stream, watch)
    finally:
        stream.close()


def cram_feed(path: str, watch: ContainerWatch, reference: Reference | None = None) -> Iterator[bytes]:
    """A CRAM file for htslib, byte for byte, its containers walked on the way (``audit_cram``),
    an embedded reference compared with ``reference``."""
    raw = raw_stream(path)
    try:
        yield from checked_cram(ByteSource(raw, path), watch, None if path == "-" else file_name(path), reference)
    finally:
        if path != "-":
            raw.close()


# A child process that converts with htslib: SAM/CRAM -> uncompressed BAM, BCF -> VCF text.
# It imports only pysam, so it runs from a checkout as well as from an install.
_CONVERT = """
import os, sys
import pysam
pysam.set_verbosity(0)
kind, path, reference = sys.argv[1], sys.argv[2], sys.argv[3] or None
try:
    if kind == "bcf":
        source = pysam.VariantFile(path)
        header = source.header
        if "END" not in header.info:  # htslib 1.22+ prints END for a symbolic allele's span, and needs it declared
            header = header.copy()
            header.add_line('##INFO=<ID=END,Number=1,Type=Integer,Description="End position of the variant">')
        sink = pysam.VariantFile("-", "w", header=header)
        for record in source:
            sink.write(record)
    else:
        source = pysam.AlignmentFile(path, "r", reference_filename=reference, check_sq=False)
        sink = pysam.AlignmentFile("-", "wbu", template=source)
        # SAM by __next__: "for record in source" refuses SAM without @SQ lines (unaligned reads, or names
        # no @SQ declares, which the parent found and handed on as "*")
        for record in iter(source.__next__, None) if kind == "sam" else source:
            sink.write(record)
    sink.close()
    source.close()
except BrokenPipeError:
    os._exit(0)
except (OSError, ValueError, NotImplementedError):
    os._exit(3)
"""


def _htslib_environment() -> dict[str, str]:
    """Never fetch a CRAM reference over the network: that would send its checksum to a server."""
    environment = dict(os.environ)
    for name in ("REF_PATH", "REF_CACHE"):
        value = environment.get(name, "")
        if not value or "://" in value or value.startswith(("http", "ftp")):
            environment[name] = os.devnull
    return environment


class ConvertedStream:
    """The output of an htslib child converting ``path`` (a file or stdin); ``read`` returns
    ``b""`` only after the child ended well, so a broken input is an error, not a short audit.

    ``feed``, when given, is the input as the child must read it, handed to its stdin by a
    thread (SAM text checked on its way, ``audit_sam_text.SamTextAudit``); an error raised
    by ``feed`` is raised by ``read`` at the end. Without it the child reads ``path``, or
    stdin's bytes as they come."""

    def __init__(self, kind: str, path: str, reference: str | None, feed: Iterator[bytes] | None = None) -> None:
        self.path = path
        self.kind = kind
        self.feed = feed
        self.feed_error: BaseException | None = None
        piped = path == "-" or feed is not None
        self.child = subprocess.Popen(
            [sys.executable, "-c", _CONVERT, kind, "-" if piped else path, reference or ""],
            stdin=subprocess.PIPE if piped else subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            env=_htslib_environment(),
        )
        self.feeder: threading.Thread | None = None
        if piped:
            assert self.child.stdin is not None
            enlarge_pipe(self.child.stdin.fileno())
            self.feeder = threading.Thread(target=self._feed, daemon=True, name="genoscrub-audit-feed")
            self.feeder.start()
        assert self.child.stdout is not None
        self.out = self.child.stdout

    def private_descriptors(self) -> list[int]:
        """The write end of the child's input: a process forked from this one must close it."""
        if self.child.stdin is None or self.child.stdin.closed:
            return []
        return [self.child.stdin.fileno()]

    def _feed(self) -> None:
        child_in = self.child.stdin
        assert child_in is not None
        try:
            if self.feed is None:
                self._feed_stdin(child_in)
            else:
                self._feed_checked(child_in, self.feed)
        finally:
            with contextlib.suppress(OSError):
                child_in.close()

    @staticmethod
    def _feed_stdin(child_in: IO[bytes]) -> None:
        source = sys.stdin.buffer
        try:
            while chunk := source.read1(1 << 20):  # type: ignore[union-attr,attr-defined]
                child_in.write(chunk)
        except (BrokenPipeError, OSError, ValueError):
            pass

    def _feed_checked(self, child_in: IO[bytes], feed: Iterator[bytes]) -> None:
        try:
            for chunk in feed:
                try:
                    child_in.write(chunk)
                except (BrokenPipeError, OSError, ValueError):
                    return  # the child ended (its status says why) or was stopped by close()
        except BaseException as error:  # noqa: BLE001 - reading or checking the input: raised by read()
            self.feed_error = error

    def read(self, size: int = -1) -> bytes:
        data = self.out.read(size)
        if not data:
            status = self.child.wait()
            if self.feeder is not None:
                self.feeder.join()
            if self.feed_error is not None:
                raise self.feed_error
            if status != 0:
                what = {"bcf": "BCF", "cram": "CRAM", "sam": "SAM"}[self.kind]
                raise InputError(
                    f"htslib cannot read this {what} input (truncated, corrupt, or a CRAM without its reference: give -r)", self.path
                )
        return data

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self.out.close()
        if self.child.poll() is None:
            self.child.kill()
        self.child.wait()
        if self.feeder is not None:
            self.feeder.join(timeout=2.0)

    def __enter__(self) -> ConvertedStream:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()
