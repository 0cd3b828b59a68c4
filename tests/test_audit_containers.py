"""genoscrub-audit reads what containers carry beside the content, which decoders skip.

Every place is planted in a file made by an independent tool (gzip, bgzip, bzip2 and xz
through Python's own modules, zstandard, samtools, bcftools) or by hand with ``struct`` and
``zlib``, and shown to be skipped by a decoder (the content still decodes the same) where a
decoder can read it; the audit must find it, on a path and on stdin, and never quote it. Clean
files from the same tools and from genoscrub's own writers pass.
"""

from __future__ import annotations

import bz2
import gzip
import json
import lzma
import random
import shutil
import struct
import subprocess
import zlib
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest
import zstandard
from genoscrub import audit_containers
from genoscrub.audit_containers import ByteSource, CheckedStream, ContainerWatch
from genoscrub.audit_cram import EMBEDDED_DIFFERS, EMBEDDED_UNCOMPARED, checked_cram, itf8, ltf8
from genoscrub.report import InputError
from genoscrub.streams import BGZF_MISSING_EOF

from tests.conftest import run_command

PLANTED = "KIMJIHOON"
CLEAN_FASTQ = b"".join(b"@%024x 1:N:0\nACGTACGTAC\n+\nIIIIIIIIII\n" % (0xB348ED1F0685D22E7C02BD4A + number) for number in range(50))
"""Records that pass the audit: keyed-hash names, a Casava read number, a bare + line."""


def audit(tmp_path: Path, target: Path | None, stdin: bytes | None = None, *options: str) -> tuple[int, dict[str, Any], str]:
    """Run the audit with ``PLANTED`` on the forbid list; the exit status, the file's findings
    (class -> key -> count) and everything it printed and reported."""
    forbid = tmp_path / "forbid.txt"
    forbid.write_text(f"{PLANTED}\n")
    report = tmp_path / "report.json"
    report.unlink(missing_ok=True)
    result = run_command(
        "genoscrub-audit", "--forbid", str(forbid), "--report", str(report), *options, str(target) if target else "-", input=stdin
    )
    assert result.returncode in (0, 1), result.stderr.decode()
    assert result.stderr == b"", result.stderr.decode()
    text = report.read_text()
    [file] = json.loads(text)["files"]
    found = {name: dict(found.get("by_key", {})) for name, found in file["findings"].items()}
    return result.returncode, found, result.stdout.decode() + text


def both_ways(tmp_path: Path, path: Path, *options: str) -> list[tuple[int, dict[str, Any], str]]:
    """The audit of ``path`` given as a path and on stdin."""
    return [audit(tmp_path, path, None, *options), audit(tmp_path, None, path.read_bytes(), *options)]


def assert_found(results: list[tuple[int, dict[str, Any], str]], metadata: dict[str, int], forbidden: dict[str, int] | None = None) -> None:
    """Exactly these metadata findings (and forbidden ones, when given), nothing quoted."""
    for status, found, printed in results:
        assert status == 1
        assert found["metadata"] == metadata
        if forbidden is not None:
            assert found["forbidden"] == forbidden
        assert PLANTED.lower() not in printed.lower()


def assert_passes(results: list[tuple[int, dict[str, Any], str]]) -> None:
    for status, found, _ in results:
        assert status == 0, found


def deflated(data: bytes) -> bytes:
    compressor = zlib.compressobj(6, zlib.DEFLATED, -15)
    return compressor.compress(data) + compressor.flush()


def member(
    data: bytes,
    flags: int = 0,
    mtime: int = 0,
    xfl: int = 0,
    os_byte: int = 3,
    extra: bytes | None = None,
    name: bytes | None = None,
    comment: bytes | None = None,
    header_crc: int | None = None,
) -> bytes:
    """A gzip member written by hand (RFC 1952): the fields given, their flags set."""
    flags |= (4 if extra is not None else 0) | (8 if name is not None else 0) | (16 if comment is not None else 0)
    flags |= 2 if header_crc is not None else 0
    header = b"\x1f\x8b\x08" + bytes([flags]) + struct.pack("<I", mtime) + bytes([xfl, os_byte])
    if extra is not None:
        header += struct.pack("<H", len(extra)) + extra
    if name is not None:
        header += name + b"\0"
    if comment is not None:
        header += comment + b"\0"
    if header_crc is not None:
        header += struct.pack("<H", header_crc if header_crc >= 0 else zlib.crc32(header) & 0xFFFF)
    return header + deflated(data) + struct.pack("<II", zlib.crc32(data), len(data))


def bgzf_block(data: bytes, more_extra: bytes = b"", mtime: int = 0) -> bytes:
    """A BGZF block (SAM 1.6, section 4.1) with ``more_extra`` subfields after ``BC``."""
    body = deflated(data)
    extra = b"BC\x02\x00" + b"\0\0" + more_extra
    size = 12 + len(extra) + len(body) + 8
    extra = b"BC\x02\x00" + struct.pack("<H", size - 1) + more_extra
    header = b"\x1f\x8b\x08\x04" + struct.pack("<I", mtime) + b"\x00\xff" + struct.pack("<H", len(extra)) + extra
    return header + body + struct.pack("<II", zlib.crc32(data), len(data))


EOF_BLOCK = bytes.fromhex("1f8b08040000000000ff0600424302001b0003000000000000000000")


def gunzip(data: bytes) -> bytes:
    """The content as Python's gzip module reads it: the decoder the planted bytes must pass."""
    return gzip.decompress(data)


# --- gzip and BGZF text ---------------------------------------------------------------------------


def test_a_file_gzip_compressed_by_name_has_its_name_and_time_found(tmp_path: Path) -> None:
    """``gzip NAME`` stores the input's name and time in the member header; the decoder skips both."""
    folder = tmp_path / "named"
    folder.mkdir()
    source = folder / f"S2301217T_{PLANTED}_R1.fastq"
    source.write_bytes(CLEAN_FASTQ)
    subprocess.run(["gzip", "-k", str(source)], check=True)
    delivered = tmp_path / "R1.fastq.gz"  # renamed: the name in the header is all that is left
    shutil.move(str(folder / f"{source.name}.gz"), delivered)
    assert gunzip(delivered.read_bytes()) == CLEAN_FASTQ
    where = {"gzip header file name": 1, "gzip header time (MTIME)": 1}
    assert_found(both_ways(tmp_path, delivered), where, {"gzip header file name (list line 1)": 1})
    subprocess.run(["gzip", "-k", "-n", "-f", str(source)], check=True)  # -n: no name, no time
    shutil.move(str(folder / f"{source.name}.gz"), delivered)
    assert_passes(both_ways(tmp_path, delivered))
    piped = subprocess.run(["gzip", "-c"], input=CLEAN_FASTQ, capture_output=True, check=True).stdout  # a pipe: neither
    (tmp_path / "piped.fastq.gz").write_bytes(piped)
    assert_passes(both_ways(tmp_path, tmp_path / "piped.fastq.gz"))


@pytest.mark.parametrize(
    ("fields", "key"),
    [
        ({"comment": PLANTED.encode()}, "gzip header comment"),
        ({"extra": b"KI\x07\x00" + PLANTED[2:].encode()}, "gzip header extra subfield (not BGZF's BC)"),
        ({"extra": b"BC\x02\x00\x00\x00" + b"KI\x07\x00" + PLANTED[2:].encode()}, "gzip header extra subfield (not BGZF's BC)"),
        ({"extra": b"KI\x40\x00" + PLANTED[2:].encode()}, "gzip header extra field (does not parse)"),
        ({"mtime": 1698537600}, "gzip header time (MTIME)"),
        ({"flags": 0x20}, "gzip header flags (reserved bits)"),
        ({"xfl": ord("K")}, "gzip header XFL or OS (off the specification)"),
        ({"os_byte": ord("K")}, "gzip header XFL or OS (off the specification)"),
        ({"header_crc": 0x4B49}, "gzip header CRC (does not match)"),
    ],
    ids=["comment", "extra", "extra-after-bc", "extra-unparsed", "mtime", "reserved-flag", "xfl", "os", "header-crc"],
)
def test_each_field_of_a_member_header_a_decoder_skips_is_found(tmp_path: Path, fields: dict[str, Any], key: str) -> None:
    data = member(CLEAN_FASTQ, **fields)
    if fields.get("extra", b"").startswith(b"BC"):
        data += EOF_BLOCK  # a member with BGZF's subfield: a BGZF file, which ends with its end-of-file block
    assert gunzip(data) == CLEAN_FASTQ  # Python's reader skips every field (zlib refuses a reserved flag and a wrong header CRC)
    target = tmp_path / "R1.fastq.gz"
    target.write_bytes(data)
    results = both_ways(tmp_path, target)
    assert_found(results, {key: 1})
    assert [found["metadata"] for _, found, _ in results] == [{key: 1}] * 2
    if key in ("gzip header comment", "gzip header extra subfield (not BGZF's BC)"):
        assert all(found["forbidden"] == {f"{key} (list line 1)": 1} for _, found, _ in results)


def test_a_header_crc_that_matches_and_the_text_flag_pass(tmp_path: Path) -> None:
    target = tmp_path / "R1.fastq.gz"
    target.write_bytes(member(CLEAN_FASTQ, flags=1, header_crc=-1))
    assert_passes(both_ways(tmp_path, target))


def test_every_member_is_read_the_second_one_located(tmp_path: Path) -> None:
    """Where a plain gzip member ends is known only once it is inflated: the second one is read too."""
    half = len(CLEAN_FASTQ) // 2
    data = member(CLEAN_FASTQ[:half]) + member(CLEAN_FASTQ[half:], name=f"{PLANTED}.fastq".encode())
    assert gunzip(data) == CLEAN_FASTQ
    target = tmp_path / "R1.fastq.gz"
    target.write_bytes(data)
    results = both_ways(tmp_path, target)
    assert_found(results, {"gzip header file name": 1}, {"gzip header file name (list line 1)": 1})
    assert all("gzip header file name 1 (gzip member 2)" in printed for _, _, printed in results)


@pytest.mark.parametrize("tail", [PLANTED.encode(), b"\0" * 16], ids=["text", "nul"])
def test_bytes_after_the_last_member_are_found(tmp_path: Path, tail: bytes) -> None:
    for data in (member(CLEAN_FASTQ) + tail, bgzf_block(CLEAN_FASTQ) + EOF_BLOCK + tail):
        assert zlib.decompressobj(31).decompress(data) == CLEAN_FASTQ  # a decoder stops at the member's end
        target = tmp_path / "R1.fastq.gz"
        target.write_bytes(data)
        forbidden = {"bytes after the last gzip member (list line 1)": 1} if tail.strip(b"\0") else {}
        assert_found(both_ways(tmp_path, target), {"bytes after the last gzip member": 1}, forbidden)


def test_bgzip_output_passes_and_a_planted_block_header_is_found(tmp_path: Path) -> None:
    clean = subprocess.run(["bgzip", "-c"], input=CLEAN_FASTQ * 2000, capture_output=True, check=True).stdout
    target = tmp_path / "R1.fastq.gz"
    target.write_bytes(clean)
    assert_passes(both_ways(tmp_path, target))
    blocks = [bgzf_block(CLEAN_FASTQ), bgzf_block(CLEAN_FASTQ, more_extra=b"KI\x07\x00" + PLANTED[2:].encode()), EOF_BLOCK]
    data = b"".join(blocks)
    assert gunzip(data) == CLEAN_FASTQ * 2
    target.write_bytes(data)
    results = both_ways(tmp_path, target)
    key = "gzip header extra subfield (not BGZF's BC)"
    assert_found(results, {key: 1}, {f"{key} (list line 1)": 1})
    assert all(f"{key} 1 (BGZF block 2)" in printed for _, _, printed in results)


def test_a_bgzf_block_with_bytes_between_its_data_and_its_trailer_is_bad_input(tmp_path: Path) -> None:
    """SAM 1.6, 4.1: the compressed data fills the block up to its trailer; a one-shot inflate stops at its end."""
    block = bgzf_block(CLEAN_FASTQ)
    body_end = len(block) - 8
    padded = block[:body_end] + PLANTED.encode() + block[body_end:]
    padded = padded[:16] + struct.pack("<H", len(padded) - 1) + padded[18:]
    assert zlib.decompress(padded[18:-8], -15) == CLEAN_FASTQ
    target = tmp_path / "R1.fastq.gz"
    target.write_bytes(bgzf_block(CLEAN_FASTQ) + padded + EOF_BLOCK)
    result = run_command("genoscrub-audit", str(target))
    assert result.returncode == 1 and b"bytes between its compressed data and its trailer" in result.stderr
    assert PLANTED.encode() not in result.stderr


# --- bzip2, xz, zstd ----------------------------------------------------------------------------------


def test_bzip2_streams_pass_and_bytes_after_the_last_are_found(tmp_path: Path) -> None:
    target = tmp_path / "R1.fastq.bz2"
    half = len(CLEAN_FASTQ) // 2
    target.write_bytes(bz2.compress(CLEAN_FASTQ[:half]) + bz2.compress(CLEAN_FASTQ[half:]))
    assert_passes(both_ways(tmp_path, target))
    target.write_bytes(bz2.compress(CLEAN_FASTQ) + PLANTED.encode())
    with bz2.BZ2File(target) as reader:
        assert reader.read() == CLEAN_FASTQ  # Python's reader drops what follows without a word
    key = "bytes after the last bzip2 stream"
    assert_found(both_ways(tmp_path, target), {key: 1}, {f"{key} (list line 1)": 1})


def test_an_xz_stream_after_padding_is_read_and_bytes_after_the_last_are_found(tmp_path: Path) -> None:
    """Python's xz reader stops at stream padding: what follows it was never audited."""
    target = tmp_path / "R1.fastq.xz"
    second = f"@{PLANTED}\nACGT\n+\nIIII\n".encode()
    target.write_bytes(lzma.compress(CLEAN_FASTQ) + b"\0" * 4 + lzma.compress(second))
    with lzma.LZMAFile(target) as reader:
        assert reader.read() == CLEAN_FASTQ  # the second stream unseen
    if shutil.which("xz"):
        assert subprocess.run(["xz", "-dc", str(target)], capture_output=True, check=True).stdout == CLEAN_FASTQ + second
    for status, found, printed in both_ways(tmp_path, target):
        assert status == 1 and found["metadata"] == {"read name": 1} and found["forbidden"] == {"read name (list line 1)": 1}
        assert PLANTED.lower() not in printed.lower()
    target.write_bytes(lzma.compress(CLEAN_FASTQ) + b"\0" * 8)
    assert_passes(both_ways(tmp_path, target))
    target.write_bytes(lzma.compress(CLEAN_FASTQ) + PLANTED.encode())
    assert_found(both_ways(tmp_path, target), {"bytes after the last xz stream": 1}, {"bytes after the last xz stream (list line 1)": 1})


@pytest.mark.parametrize("place", ["first", "between", "last"])
def test_a_zstd_skippable_frame_is_found(tmp_path: Path, place: str) -> None:
    frames = [zstandard.ZstdCompressor().compress(CLEAN_FASTQ[:100]), zstandard.ZstdCompressor().compress(CLEAN_FASTQ[100:])]
    skippable = struct.pack("<II", 0x184D2A53, len(PLANTED)) + PLANTED.encode()
    at = {"first": 0, "between": 1, "last": 2}[place]
    target = tmp_path / "R1.fastq.zst"
    target.write_bytes(b"".join(frames))
    assert_passes(both_ways(tmp_path, target))
    data = b"".join([*frames[:at], skippable, *frames[at:]])
    assert zstandard.ZstdDecompressor().stream_reader(data, read_across_frames=True).read() == CLEAN_FASTQ
    target.write_bytes(data)
    results = both_ways(tmp_path, target)
    assert_found(results, {"zstd skippable frame": 1}, {"zstd skippable frame (list line 1)": 1})
    assert all(f"(zstd frame {at + 1})" in printed for _, _, printed in results)


def test_bytes_after_the_last_zstd_frame_are_found_not_an_internal_error(tmp_path: Path) -> None:
    target = tmp_path / "R1.fastq.zst"
    target.write_bytes(zstandard.ZstdCompressor().compress(CLEAN_FASTQ) + PLANTED.encode())
    assert_found(both_ways(tmp_path, target), {"bytes after the last zstd frame": 1}, {"bytes after the last zstd frame (list line 1)": 1})


def test_the_checked_reader_hands_on_what_the_decoders_do(tmp_path: Path) -> None:
    """Content from the audit's reader equals Python's gzip, bz2, lzma and zstandard on clean files."""
    text = CLEAN_FASTQ * 3000
    files = {
        "gzip": gzip.compress(text, mtime=0),
        "bgzip": subprocess.run(["bgzip", "-c"], input=text, capture_output=True, check=True).stdout,
        "bzip2": bz2.compress(text),
        "xz": lzma.compress(text),
        "zstd": zstandard.ZstdCompressor().compress(text),
        "plain": text,
    }
    for name, data in files.items():
        path = tmp_path / name
        path.write_bytes(data)
        watch = ContainerWatch(None)
        stream = CheckedStream(str(path), watch)
        pieces = []
        while piece := stream.read(1 << 16):
            pieces.append(piece)
        stream.close()
        assert b"".join(pieces) == text, name
        assert watch.findings.total == 0, name


def test_a_cut_or_corrupt_stream_is_bad_input(tmp_path: Path) -> None:
    generator = random.Random(5)
    text = b"".join(b"@%024x\n%s\n+\n%s\n" % (number, bytes(generator.choices(b"ACGT", k=100)), b"I" * 100) for number in range(5000))
    data = member(text)
    middle = len(data) // 2
    for broken in (data[:-3], data[:middle], data[:middle] + bytes(64) + data[middle + 64 :]):
        target = tmp_path / "cut.fastq.gz"
        target.write_bytes(broken)
        for args, stdin in (([str(target)], None), (["-"], broken)):
            result = run_command("genoscrub-audit", *args, input=stdin)
            assert result.returncode == 1 and len(result.stderr.splitlines()) == 1, result.stderr
            # cut: the reader says so; zeroed: the inflated bytes may break a record first
            assert b"truncated or corrupt compressed input" in result.stderr or b"FASTQ" in result.stderr, result.stderr


# --- BAM ---------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def alignments(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A reference, a SAM file, and clean BAM and CRAM files made of it by genoscrub's own writers."""
    folder = tmp_path_factory.mktemp("alignments")
    generator = random.Random(3)
    reference = "".join(generator.choice("ACGT") for _ in range(2000))
    (folder / "ref.fa").write_text(">chr1\n" + "\n".join(reference[at : at + 60] for at in range(0, 2000, 60)) + "\n")
    subprocess.run(["samtools", "faidx", str(folder / "ref.fa")], check=True)
    lines = ["@HD\tVN:1.6\tSO:coordinate", "@SQ\tSN:chr1\tLN:2000", "@RG\tID:S2301217T.L1\tSM:S2301217T\tLB:LIB1\tPL:ILLUMINA"]
    for number in range(600):
        at = 1 + (number * 3) % 1900
        lines.append(f"HWI-ST1:{number}\t0\tchr1\t{at}\t60\t50M\t*\t0\t0\t{reference[at - 1 : at + 49]}\t{'I' * 50}\tRG:Z:S2301217T.L1")
    (folder / "in.sam").write_text("\n".join(lines) + "\n")
    scrub = ["sam-scrub-rg", "-q", "--names", "-T", str(folder / "ref.fa"), str(folder / "in.sam")]
    assert run_command(*scrub[:1], *scrub[1:], "-O", "cram", "-o", str(folder / "clean.cram")).returncode == 0
    assert run_command(*scrub[:1], *scrub[1:], "-O", "bam", "-o", str(folder / "clean.bam")).returncode == 0
    sam = run_command(*scrub[:1], *scrub[1:]).stdout
    (folder / "clean.sam").write_bytes(sam)
    return folder


def bgzf_blocks(data: bytes) -> list[bytes]:
    blocks = []
    at = 0
    while at < len(data):
        size = int.from_bytes(data[at + 16 : at + 18], "little") + 1
        blocks.append(data[at : at + size])
        at += size
    return blocks


def records_of(path: Path, *options: str) -> bytes:
    """What samtools decodes of a file: the planted bytes must change none of it."""
    return subprocess.run(["samtools", "view", "--no-PG", *options, str(path)], capture_output=True, check=True).stdout


def test_genoscrub_bam_passes_and_a_block_header_planted_in_any_block_is_found(alignments: Path, tmp_path: Path) -> None:
    clean = (alignments / "clean.bam").read_bytes()
    assert_passes(both_ways(tmp_path, alignments / "clean.bam"))
    blocks = bgzf_blocks(clean)
    assert blocks[-1] == EOF_BLOCK and len(blocks) >= 3
    for index in range(len(blocks) - 1):  # the header's block (read first) and the records' (read by workers' chunks on a path)
        for planted, key in (
            (blocks[index][:4] + struct.pack("<I", 1698537600) + blocks[index][8:], "gzip header time (MTIME)"),
            (blocks[index][:9] + b"K" + blocks[index][10:], "gzip header XFL or OS (off the specification)"),
        ):
            target = tmp_path / "planted.bam"
            target.write_bytes(b"".join([*blocks[:index], planted, *blocks[index + 1 :]]))
            assert records_of(target, "-h") == records_of(alignments / "clean.bam", "-h")
            for jobs in ("1", "2"):
                results = [audit(tmp_path, target, None, "-j", jobs), audit(tmp_path, None, target.read_bytes(), "-j", jobs)]
                assert_found(results, {key: 1})
                assert all(f"{key} 1 (BGZF block {index + 1})" in printed for _, _, printed in results)


def test_a_bam_block_with_another_extra_subfield_is_found(alignments: Path, tmp_path: Path) -> None:
    blocks = bgzf_blocks((alignments / "clean.bam").read_bytes())
    inflated = [gzip.decompress(block) for block in blocks[:-1]]
    planted = b"KI\x07\x00" + PLANTED[2:].encode()
    rebuilt = [bgzf_block(data, more_extra=planted if index == 1 else b"") for index, data in enumerate(inflated)]
    target = tmp_path / "planted.bam"
    target.write_bytes(b"".join(rebuilt) + EOF_BLOCK)
    assert gunzip(target.read_bytes()) == gunzip((alignments / "clean.bam").read_bytes())
    key = "gzip header extra subfield (not BGZF's BC)"
    assert_found(both_ways(tmp_path, target), {key: 1}, {f"{key} (list line 1)": 1})


def rebuilt_bam(clean: Path, target: Path, change: Any) -> None:
    """``clean``'s uncompressed BAM bytes changed by ``change(header text field, references)`` and
    compressed again by bgzip: (new text field, new binary reference list)."""
    data = gunzip(clean.read_bytes())
    text_length = int.from_bytes(data[4:8], "little")
    text = data[8 : 8 + text_length]
    at = 8 + text_length
    count = int.from_bytes(data[at : at + 4], "little")
    at += 4
    references = []
    for _ in range(count):
        size = int.from_bytes(data[at : at + 4], "little")
        references.append((data[at + 4 : at + 3 + size], int.from_bytes(data[at + 4 + size : at + 8 + size], "little")))
        at += 8 + size
    text, references = change(text, references)
    binary = b"".join(struct.pack("<I", len(name) + 1) + name + b"\0" + struct.pack("<I", length) for name, length in references)
    raw = b"BAM\x01" + struct.pack("<I", len(text)) + text + struct.pack("<I", len(references)) + binary + data[at:]
    target.write_bytes(subprocess.run(["bgzip", "-c"], input=raw, capture_output=True, check=True).stdout)


def test_bam_header_text_after_its_nul_is_found(alignments: Path, tmp_path: Path) -> None:
    target = tmp_path / "planted.bam"
    rebuilt_bam(alignments / "clean.bam", target, lambda text, refs: (text.rstrip(b"\0") + b"\0@CO\t" + PLANTED.encode() + b"\0", refs))
    assert PLANTED.encode() in records_of(target, "-H")  # samtools prints all l_text bytes; the audit stopped at the NUL
    assert records_of(target) == records_of(alignments / "clean.bam")
    assert_found(both_ways(tmp_path, target), {"header text after its NUL": 1}, {"header text after its NUL (list line 1)": 1})
    rebuilt_bam(alignments / "clean.bam", target, lambda text, refs: (text + bytes(64), refs))  # NUL padding is safe
    assert_passes(both_ways(tmp_path, target))


@pytest.mark.parametrize(
    "change",
    [
        lambda refs: [(b"chrK", refs[0][1])],
        lambda refs: [(refs[0][0], refs[0][1] + 1)],
        lambda refs: [*refs, (b"KIMJI", 100)],
    ],
    ids=["name", "length", "extra"],
)
def test_a_binary_reference_list_other_than_the_sq_lines_is_found(alignments: Path, tmp_path: Path, change: Any) -> None:
    target = tmp_path / "planted.bam"
    rebuilt_bam(alignments / "clean.bam", target, lambda text, refs: (text, change(refs)))
    for status, found, _ in both_ways(tmp_path, target):
        assert status == 1 and found["metadata"] == {"reference list (not the @SQ lines)": 1}


# --- BCF -----------------------------------------------------------------------------------------------

VCF_TEXT = (
    "##fileformat=VCFv4.2\n##contig=<ID=chr1,length=2000>\n"
    '##INFO=<ID=DP,Number=1,Type=Integer,Description="Depth">\n'
    "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\n" + "".join(f"chr1\t{100 + at}\t.\tA\tC\t50\tPASS\tDP=10\n" for at in range(20))
)


def test_bcf_from_bcftools_passes_and_text_after_its_header_nul_is_found(tmp_path: Path) -> None:
    vcf = tmp_path / "in.vcf"
    vcf.write_text(VCF_TEXT)
    for mode in ("b", "u"):
        target = tmp_path / f"clean.{mode}.bcf"
        subprocess.run(["bcftools", "view", "--no-version", f"-O{mode}", "-o", str(target), str(vcf)], check=True)
        assert_passes(both_ways(tmp_path, target))
    raw = gunzip((tmp_path / "clean.b.bcf").read_bytes())
    text_length = int.from_bytes(raw[5:9], "little")
    text = raw[9 : 9 + text_length] + f"##{PLANTED}\0".encode()
    planted = raw[:5] + struct.pack("<I", len(text)) + text + raw[9 + text_length :]
    target = tmp_path / "planted.bcf"
    target.write_bytes(subprocess.run(["bgzip", "-c"], input=planted, capture_output=True, check=True).stdout)
    shown = subprocess.run(["bcftools", "view", "--no-version", str(target)], capture_output=True, check=True).stdout
    assert PLANTED.encode() not in shown and shown == subprocess.run(["bcftools", "view", "--no-version", str(tmp_path / "clean.b.bcf")],
                                                                     capture_output=True, check=True).stdout  # fmt: skip
    assert_found(both_ways(tmp_path, target), {"header text after its NUL": 1}, {"header text after its NUL (list line 1)": 1})
    target.write_bytes(member(raw, name=f"{PLANTED}.bcf".encode()))  # a BCF gzipped by name: read like text
    assert_found(both_ways(tmp_path, target), {"gzip header file name": 1}, {"gzip header file name (list line 1)": 1})


# --- CRAM ------------------------------------------------------------------------------------------------


def itf8_bytes(value: int) -> bytes:
    value &= 0xFFFFFFFF
    if value < 0x80:
        return bytes([value])
    if value < 0x4000:
        return bytes([0x80 | value >> 8, value & 0xFF])
    if value < 0x200000:
        return bytes([0xC0 | value >> 16, value >> 8 & 0xFF, value & 0xFF])
    if value < 0x10000000:
        return bytes([0xE0 | value >> 24, value >> 16 & 0xFF, value >> 8 & 0xFF, value & 0xFF])
    return bytes([0xF0 | value >> 28, value >> 20 & 0xFF, value >> 12 & 0xFF, value >> 4 & 0xFF, value & 0x0F])


def ltf8_bytes(value: int) -> bytes:
    value &= (1 << 64) - 1
    for following in range(8):
        if value < 1 << (7 * (following + 1)):
            prefix = (0xFF << (8 - following)) & 0xFF
            return bytes([prefix | value >> (8 * following)]) + (value & ((1 << (8 * following)) - 1)).to_bytes(following, "big")
    return b"\xff" + value.to_bytes(8, "big")


class Cram:
    """A CRAM 3 file taken apart into containers and blocks, to change and put together again."""

    def __init__(self, data: bytes) -> None:
        self.definition = data[:26]
        self.containers: list[dict[str, Any]] = []
        at = 26
        while at < len(data):
            fields: dict[str, Any] = {"length": int.from_bytes(data[at : at + 4], "little")}
            position = at + 4
            for name, reader in (("ref", itf8), ("start", itf8), ("span", itf8), ("records", itf8), ("counter", ltf8),
                                 ("bases", ltf8), ("count", itf8), ("landmarks", itf8)):  # fmt: skip
                fields[name], position = reader(data, position)
            fields["marks"] = []
            for _ in range(fields["landmarks"]):
                mark, position = itf8(data, position)
                fields["marks"].append(mark)
            position += 4
            blocks, end = [], position + fields["length"]
            while position < end:
                method, kind = data[position], data[position + 1]
                content_id, cursor = itf8(data, position + 2)
                compressed, cursor = itf8(data, cursor)
                raw, cursor = itf8(data, cursor)
                blocks.append({"method": method, "type": kind, "id": content_id, "raw": raw, "data": data[cursor : cursor + compressed]})
                position = cursor + compressed + 4
            fields["blocks"] = blocks
            fields["tail"] = b""
            self.containers.append(fields)
            at = end

    def bytes(self) -> bytes:
        out = [self.definition]
        for container in self.containers:
            blocks = []
            landmarks = []
            used = 0
            for block in container["blocks"]:
                if block["type"] == 2:
                    landmarks.append(used)
                encoded = bytes([block["method"], block["type"]]) + itf8_bytes(block["id"]) + itf8_bytes(len(block["data"]))
                encoded += itf8_bytes(block["raw"]) + block["data"]
                encoded += struct.pack("<I", zlib.crc32(encoded))
                blocks.append(encoded)
                used += len(encoded)
            if not any(block["type"] == 2 for block in container["blocks"]):  # the header's or the end-of-file container
                landmarks = container["marks"]
            body = b"".join(blocks) + container["tail"]
            header = struct.pack("<i", len(body)) + itf8_bytes(container["ref"]) + itf8_bytes(container["start"])
            header += itf8_bytes(container["span"]) + itf8_bytes(container["records"]) + ltf8_bytes(container["counter"])
            header += ltf8_bytes(container["bases"]) + itf8_bytes(len(container["blocks"])) + itf8_bytes(len(landmarks))
            header += b"".join(itf8_bytes(mark) for mark in landmarks)
            out.append(header + struct.pack("<I", zlib.crc32(header)) + body)
        return b"".join(out)


def slice_header(data: bytes) -> dict[str, Any]:
    fields: dict[str, Any] = {}
    at = 0
    for name, reader in (("ref", itf8), ("start", itf8), ("span", itf8), ("records", itf8), ("counter", ltf8), ("blocks", itf8)):
        fields[name], at = reader(data, at)
    count, at = itf8(data, at)
    fields["ids"] = []
    for _ in range(count):
        value, at = itf8(data, at)
        fields["ids"].append(value)
    fields["embedded"], at = itf8(data, at)
    fields["md5"], fields["tail"] = data[at : at + 16], data[at + 16 :]
    return fields


def slice_header_bytes(fields: dict[str, Any]) -> bytes:
    out = b"".join(itf8_bytes(fields[name]) for name in ("ref", "start", "span", "records")) + ltf8_bytes(fields["counter"])
    out += itf8_bytes(fields["blocks"]) + itf8_bytes(len(fields["ids"])) + b"".join(itf8_bytes(value) for value in fields["ids"])
    return out + itf8_bytes(fields["embedded"]) + fields["md5"] + fields["tail"]


def samtools_cram(alignments: Path, folder: Path, output: str, reference: Path | None = None, options: Sequence[str] = ()) -> Path:
    """A CRAM written by samtools from the clean BAM against ``reference`` (the clean one's by
    default) with ``options``, ``-o output`` as given (in ``folder``), its @SQ UR (the reference's
    path, which samtools adds and the audit finds) taken out in place."""
    fasta = str(reference or alignments / "ref.fa")
    command = ["samtools", "view", "--no-PG", "-C", "-T", fasta, *options, "-o", output, str(alignments / "clean.bam")]
    subprocess.run(command, cwd=folder, check=True)
    header = subprocess.run(["samtools", "view", "-H", "--no-PG", str(alignments / "clean.bam")], capture_output=True, check=True).stdout
    (folder / "header.sam").write_bytes(header)
    reheader = ["samtools", "reheader", "--no-PG", "-i", str(folder / "header.sam"), output]
    subprocess.run(reheader, cwd=folder, check=True, capture_output=True)
    return folder / output


def test_a_cram_file_id_holding_the_output_path_is_found_its_own_name_or_stdout_pass(alignments: Path, tmp_path: Path) -> None:
    reference = ["-r", str(alignments / "ref.fa")]
    assert_passes(both_ways(tmp_path, alignments / "clean.cram", *reference))  # genoscrub's writer: "-"
    assert (alignments / "clean.cram").read_bytes()[6:26] == b"-" + bytes(19)
    bare = samtools_cram(alignments, tmp_path, "S2301217T_R1.cram")
    assert bare.read_bytes()[6:26] == b"S2301217T_R1.cram".ljust(20, b"\0")
    assert audit(tmp_path, bare, None, *reference)[0] == 0  # its own name, as a path
    status, found, _ = audit(tmp_path, None, bare.read_bytes(), *reference)  # on stdin there is no name to be
    assert status == 1 and found["metadata"] == {"CRAM file ID": 1}
    (tmp_path / "crt" / "home" / "kimjihoon").mkdir(parents=True)
    written = samtools_cram(alignments, tmp_path, f"crt/home/{PLANTED.lower()}/S2301.cram")
    assert written.read_bytes()[6:26] == f"crt/home/{PLANTED.lower()}/S"[:20].encode()
    pathed = tmp_path / "delivered.cram"  # the folders the audit is given are the auditor's: not in the file
    shutil.move(str(written), pathed)
    assert records_of(pathed, "-T", str(alignments / "ref.fa")) == records_of(bare, "-T", str(alignments / "ref.fa"))
    assert_found(both_ways(tmp_path, pathed, *reference), {"CRAM file ID": 1}, {"CRAM file ID (list line 1)": 1})


def planted_cram(alignments: Path, tmp_path: Path, change: Any) -> Path:
    """genoscrub's clean CRAM with ``change(Cram)`` made; htslib must decode the same records from it."""
    cram = Cram((alignments / "clean.cram").read_bytes())
    assert cram.bytes() == (alignments / "clean.cram").read_bytes()  # taken apart and put together byte for byte
    change(cram)
    target = tmp_path / "planted.cram"
    target.write_bytes(cram.bytes())
    reference = str(alignments / "ref.fa")
    assert records_of(target, "-h", "-T", reference) == records_of(alignments / "clean.cram", "-h", "-T", reference)
    return target


def first_slice(cram: Cram) -> tuple[dict[str, Any], dict[str, Any]]:
    container = cram.containers[1]
    return container, next(block for block in container["blocks"] if block["type"] == 2)


def add_unread_block(cram: Cram) -> None:
    container, header_block = first_slice(cram)
    fields = slice_header(header_block["data"])
    fields["blocks"] += 1
    fields["ids"].append(4242)
    header_block["data"] = slice_header_bytes(fields)
    header_block["raw"] = len(header_block["data"])
    container["blocks"].append({"method": 0, "type": 4, "id": 4242, "raw": len(PLANTED), "data": PLANTED.encode()})


def tag_encoding_no_record_uses(cram: Cram) -> None:
    """A tag encoding for a tag the tag dictionary does not name (no record has it), reading a block of its own."""
    add_unread_block(cram)
    block = cram.containers[1]["blocks"][0]
    content = block["data"]
    at = 0
    for _ in range(2):  # the preservation map, the data series map
        size, at = itf8(content, at)
        at += size
    size, start = itf8(content, at)
    count, entries = itf8(content, start)
    entry = itf8_bytes(int.from_bytes(b"XXZ", "big")) + itf8_bytes(1) + itf8_bytes(len(itf8_bytes(4242))) + itf8_bytes(4242)
    body = itf8_bytes(count + 1) + content[entries : start + size] + entry
    block["data"] = content[:at] + itf8_bytes(len(body)) + body + content[start + size :]
    block["raw"] = len(block["data"])


def slice_tail(cram: Cram) -> None:
    _, header_block = first_slice(cram)
    header_block["data"] += b"XXZ" + PLANTED.encode() + b"\0"
    header_block["raw"] = len(header_block["data"])


def compression_tail(cram: Cram) -> None:
    block = cram.containers[1]["blocks"][0]
    assert block["type"] == 1 and block["method"] == 0
    block["data"] += PLANTED.encode()
    block["raw"] = len(block["data"])


def header_padding(cram: Cram) -> None:
    blocks = cram.containers[0]["blocks"]
    padding = blocks[-1] if len(blocks) > 1 else blocks[0]
    assert padding["method"] == 0 and padding["data"].endswith(bytes(len(PLANTED)))
    padding["data"] = padding["data"][: -len(PLANTED)] + PLANTED.encode()


@pytest.mark.parametrize(
    ("change", "key"),
    [
        (add_unread_block, "CRAM block no data series reads"),
        (tag_encoding_no_record_uses, "CRAM block no data series reads"),
        (slice_tail, "CRAM slice header bytes after its MD5"),
        (compression_tail, "CRAM compression header bytes after its maps"),
        (header_padding, "CRAM header padding (not NUL)"),
    ],
    ids=["unread-block", "unread-tag-block", "slice-tail", "compression-tail", "header-padding"],
)
def test_cram_bytes_htslib_reads_past_are_found(alignments: Path, tmp_path: Path, change: Any, key: str) -> None:
    target = planted_cram(alignments, tmp_path, change)
    results = both_ways(tmp_path, target, "-r", str(alignments / "ref.fa"))
    forbidden = {} if key == "CRAM block no data series reads" else {f"{key} (list line 1)": 1}
    assert_found(results, {key: 1}, forbidden)


def test_containers_after_the_end_of_file_container_are_read_and_other_bytes_are_not_passed(alignments: Path, tmp_path: Path) -> None:
    """htslib reads on past an end-of-file container: a second one passes (the walk reads it as
    htslib does); bytes that are no container make htslib stop, or are a finding, never a pass."""
    reference = ["-r", str(alignments / "ref.fa")]
    clean = (alignments / "clean.cram").read_bytes()
    end_of_file = clean[-38:]
    assert end_of_file[8:12] == bytes.fromhex("0fe0454f")  # start 4542278 ("EOF"), as CRAM 3.1 section 9 writes it
    target = tmp_path / "twice.cram"
    target.write_bytes(clean + end_of_file)
    assert_passes(both_ways(tmp_path, target, *reference))
    target.write_bytes(clean + PLANTED.encode())
    (tmp_path / "forbid.txt").write_text(f"{PLANTED}\n")
    for args, stdin in (([*reference, str(target)], None), ([*reference, "-"], target.read_bytes())):
        result = run_command("genoscrub-audit", "--forbid", str(tmp_path / "forbid.txt"), *args, input=stdin)
        assert result.returncode == 1
        assert PLANTED.lower().encode() not in (result.stdout + result.stderr).lower()


def test_a_slice_md5_no_reader_checks_is_found(alignments: Path, tmp_path: Path) -> None:
    """An unmapped slice's MD5 is not compared with anything: all NUL is known safe."""
    unmapped = tmp_path / "unmapped.sam"
    lines = (alignments / "clean.sam").read_text().splitlines()
    records = [line.split("\t") for line in lines if not line.startswith("@")]
    unplaced = ["\t".join([fields[0], "4", "*", "0", "0", "*", "*", "0", "0", *fields[9:]]) for fields in records]
    unmapped.write_text("\n".join([*(line for line in lines if line.startswith("@")), *unplaced]) + "\n")
    clean = tmp_path / "unmapped.cram"
    subprocess.run(["samtools", "view", "--no-PG", "-C", "-o", str(clean), str(unmapped)], check=True)
    cram = Cram(clean.read_bytes())
    _, header_block = first_slice(cram)
    fields = slice_header(header_block["data"])
    assert fields["ref"] == -1 and fields["md5"] == bytes(16)
    fields["md5"] = PLANTED.encode().ljust(16, b"\0")
    header_block["data"] = slice_header_bytes(fields)
    target = tmp_path / "planted.cram"
    target.write_bytes(cram.bytes())
    assert records_of(target) == records_of(clean)
    for status, found, printed in both_ways(tmp_path, target):
        assert status == 1 and "CRAM slice MD5 (not checked by readers)" in found["metadata"]
        assert found["forbidden"].get("CRAM slice MD5 (not checked by readers) (list line 1)") == 1
        assert PLANTED.lower() not in printed.lower()


def embedded_cram(alignments: Path, folder: Path, reference: Path, output: str) -> Path:
    """The clean BAM as a CRAM written by samtools against ``reference``, embedded in its slices, in
    gzip blocks (those the audit reads), its @SQ UR taken out."""
    settings = ("embed_ref=1", "use_rans=0", "use_lzma=0", "use_bzip2=0")
    options = [option for setting in settings for option in ("--output-fmt-option", setting)]
    return samtools_cram(alignments, folder, output, reference, options)


def test_an_embedded_reference_holding_other_bases_than_the_reference_is_found(alignments: Path, tmp_path: Path) -> None:
    """Reads are stored against their slice's embedded reference: one holding the patient's allele
    decodes every read to the same bases, yet carries the allele. With -r it is compared (either
    contig spelling); without, it is a finding too."""
    reference = alignments / "ref.fa"
    clean = embedded_cram(alignments, tmp_path, reference, "embedded.cram")
    assert_passes([audit(tmp_path, clean, None, "-r", str(reference))])
    status, found, _ = audit(tmp_path, clean, None)
    assert status == 1 and found["metadata"] == {EMBEDDED_UNCOMPARED: 1}
    renamed = tmp_path / "renamed.fa"
    renamed.write_text(reference.read_text().replace(">chr1", ">1"))
    assert_passes([audit(tmp_path, clean, None, "-r", str(renamed))])
    bases = reference.read_text().split("\n")
    row = bases[9]  # chr1:541-600, covered by reads
    bases[9] = row[:10] + ("A" if row[10] != "A" else "C") + row[11:]
    patient = tmp_path / "patient.fa"
    patient.write_text("\n".join(bases))
    planted = embedded_cram(alignments, tmp_path, patient, "planted.cram")
    columns = [[line.split(b"\t")[:11] for line in records_of(cram).splitlines()] for cram in (planted, clean)]
    assert columns[0] == columns[1]  # the same reads (their decoded MD and NM show the planted base)
    for status, found, _ in both_ways(tmp_path, planted, "-r", str(reference)):  # on stdin its file ID names no file
        assert status == 1 and found["metadata"].get(EMBEDDED_DIFFERS) == 1 and set(found["metadata"]) <= {EMBEDDED_DIFFERS, "CRAM file ID"}


def test_the_cram_walk_hands_on_every_byte(alignments: Path, tmp_path: Path) -> None:
    for path in (alignments / "clean.cram", samtools_cram(alignments, tmp_path, "x.cram")):
        watch = ContainerWatch(None)
        with path.open("rb") as raw:
            handed = b"".join(checked_cram(ByteSource(raw, str(path)), watch, path.name.encode()))
        assert handed == path.read_bytes() and watch.findings.total == 0


# --- the file's own name -----------------------------------------------------------------------------------


def test_the_file_name_is_searched_not_the_folders_above_it(tmp_path: Path) -> None:
    folder = tmp_path / f"home_{PLANTED}"
    folder.mkdir()
    inside = folder / "R1.fastq"
    inside.write_bytes(CLEAN_FASTQ)
    assert audit(tmp_path, inside)[0] == 0  # the auditor's folders are not the delivery's
    named = tmp_path / f"S2301217T_{PLANTED.lower()}_R1.fastq"
    named.write_bytes(CLEAN_FASTQ)
    status, found, printed = audit(tmp_path, named)
    assert status == 1 and found["forbidden"] == {"file name (list line 1)": 1} and found["metadata"] == {}
    assert "file name (list line 1) 1 (file name)" in printed


# --- the corpus ---------------------------------------------------------------------------------------------


def test_corpus_containers_walk_to_the_decoders_bytes(corpus: Path) -> None:
    """Every compressed corpus file decompresses through the audit's reader as Python's own decoders
    read it, and every CRAM is handed on byte for byte, whatever the walk finds."""
    walked = 0
    for path in sorted(corpus.rglob("*")):
        if not path.is_file() or path.parent.name == "ref":
            continue
        head = path.read_bytes()[:8]
        watch = ContainerWatch(None)
        if head.startswith(b"CRAM"):
            with path.open("rb") as raw:
                handed = b"".join(checked_cram(ByteSource(raw, str(path)), watch, path.name.encode()))
            assert handed == path.read_bytes(), path.name
            walked += 1
            continue
        kind = audit_containers.compression(head)
        if kind not in ("gzip", "bzip2", "xz"):
            continue
        try:
            expected = {"gzip": gzip.decompress, "bzip2": bz2.decompress, "xz": lzma.decompress}[kind](path.read_bytes())
        except (OSError, EOFError, lzma.LZMAError):
            continue  # a corrupt file of the corpus: the reader's error is tested on its own
        stream = CheckedStream(str(path), watch)
        try:
            assert stream.read(-1) == expected, path.name
        except InputError as error:  # a BGZF file cut after a block, as the audit always refused it: checked by hand
            assert error.message == BGZF_MISSING_EOF and path.read_bytes()[-28:] != EOF_BLOCK, path.name
            assert path.read_bytes()[12:14] == b"BC", path.name
        finally:
            stream.close()
        walked += 1
    assert walked > 40


def first_record_offset(raw: bytes) -> int:
    """Where the first record of an uncompressed BAM starts."""
    at = 8 + int.from_bytes(raw[4:8], "little")
    count = int.from_bytes(raw[at : at + 4], "little")
    at += 4
    for _ in range(count):
        at += 8 + int.from_bytes(raw[at : at + 4], "little")
    return at


def one_record_bam(tmp_path: Path, qualities: str) -> tuple[Path, bytearray, int, int]:
    """A one-record BAM (9 bases, these qualities) the audit passes: its path, its bytes
    uncompressed, where its record starts and where its SEQ starts in them."""
    sam = tmp_path / "in.sam"
    sam.write_text(f"@SQ\tSN:chr1\tLN:100\nb348ed1f0685d22e7c02bd4a\t0\tchr1\t1\t60\t9M\t*\t0\t0\tACGTACGTA\t{qualities}\n")
    clean = tmp_path / "clean.bam"
    subprocess.run(["samtools", "view", "-b", "--no-PG", "-o", str(clean), str(sam)], check=True)
    assert audit(tmp_path, clean)[0] == 0
    raw = bytearray(gunzip(clean.read_bytes()))
    record = first_record_offset(bytes(raw))
    return clean, raw, record, record + 36 + raw[record + 12] + 4 * int.from_bytes(raw[record + 16 : record + 18], "little")


@pytest.mark.parametrize("field", ["bin", "qual", "seq-padding"])
def test_bam_record_bytes_readers_skip_are_found(tmp_path: Path, field: str) -> None:
    """``bin`` (htslib computes it again on reading), QUAL after a first 0xFF (printed ``*``) and the
    half byte after an odd SEQ: samtools prints the same record whatever they hold."""
    clean, raw, record, sequence = one_record_bam(tmp_path, "*")
    if field == "bin":
        raw[record + 14 : record + 16] = b"KI"
        key = "bin (not the one of its position)"
    elif field == "qual":
        raw[sequence + 5 + 1 : sequence + 5 + 9] = PLANTED[:8].encode()  # 9 bases: 5 bytes of SEQ, then QUAL
        key = "QUAL after its missing mark (not 0xFF)"
    else:
        raw[sequence + 4] |= 0x0B
        key = "SEQ padding (not 0)"
    target = tmp_path / "planted.bam"
    target.write_bytes(subprocess.run(["bgzip", "-c"], input=bytes(raw), capture_output=True, check=True).stdout)
    assert records_of(target) == records_of(clean)
    for status, found, _ in both_ways(tmp_path, target):
        assert status == 1 and found["metadata"] == {key: 1}


def test_bam_qualities_over_93_are_found(tmp_path: Path) -> None:
    """Red team 7 F8: quality values over 93 print as bytes outside ASCII, and spelled a name in
    UTF-8 (``김지현``) that the forbid search never reads (it reads no QUAL); 93 (``~``) passes."""
    _, raw, record, sequence = one_record_bam(tmp_path, "IIIIIIII~")
    raw[sequence + 5 : sequence + 14] = bytes(byte - 33 for byte in "김지현".encode())  # 9 bytes: QUAL after 5 of SEQ
    target = tmp_path / "planted.bam"
    target.write_bytes(subprocess.run(["bgzip", "-c"], input=bytes(raw), capture_output=True, check=True).stdout)
    for status, found, _ in both_ways(tmp_path, target):
        assert status == 1 and found["metadata"] == {"QUAL (a value over 93, no Phred+33 byte)": 1}


@pytest.mark.parametrize("one_by_one", ["", "1"])
@pytest.mark.parametrize("quality", ["김지현".encode(), b"II\x01\x02\x1fII\x7fI", b"IIII IIII"], ids=["utf-8", "control", "blank"])
def test_fastq_qualities_outside_phred_33_are_found(
    tmp_path: Path, one_by_one: str, quality: bytes, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The same in a FASTQ quality line (bytes outside ``!`` to ``~``: text outside ASCII, control
    bytes, a blank), in bulk and record by record."""
    monkeypatch.setenv("GENOSCRUB_ONE_BY_ONE", one_by_one)
    name = b"@0123456789abcdef01234567 1:N:0\n"
    data = name + b"ACGTACGTA\n+\n" + quality + b"\n" + name + b"ACGT\n+\nII~!\n"
    (tmp_path / "R1.fastq").write_bytes(data)
    for status, found, _ in both_ways(tmp_path, tmp_path / "R1.fastq"):
        assert status == 1 and found["metadata"] == {"quality (a byte outside ! to ~)": 1}


def test_every_prefix_of_a_compressed_file_is_content_or_a_clean_error(tmp_path: Path) -> None:
    """A stream cut anywhere is read whole or refused as bad input (InputError), never another error."""
    text = CLEAN_FASTQ * 4
    for data in (
        member(text, name=b"R1.fastq"),
        bgzf_block(text) + EOF_BLOCK,
        zstandard.ZstdCompressor().compress(text),
        bz2.compress(text),
        lzma.compress(text),
    ):
        path = tmp_path / "cut"
        for cut in range(len(data) + 1):
            path.write_bytes(data[:cut])
            stream = CheckedStream(str(path), ContainerWatch(None))
            try:
                stream.read(-1)
            except InputError:
                pass
            finally:
                stream.close()


def test_every_prefix_of_a_cram_is_handed_on_whole(alignments: Path, tmp_path: Path) -> None:
    """The walk never raises and never holds a byte back: htslib, reading what it hands on, judges a cut file."""
    data = (alignments / "clean.cram").read_bytes()
    path = tmp_path / "cut.cram"
    for cut in sorted({*range(0, 400), *range(0, len(data), 97), len(data) - 1}):
        path.write_bytes(data[:cut])
        with path.open("rb") as raw:
            assert b"".join(checked_cram(ByteSource(raw, str(path)), ContainerWatch(None), None)) == data[:cut]


def test_a_bin_past_two_to_the_29_is_its_low_16_bits(tmp_path: Path) -> None:
    """The BAM bin field holds 16 bits: a read placed past 2^29 keeps the low bits of its bin, as htslib writes it."""
    sam = tmp_path / "far.sam"
    sam.write_text("@SQ\tSN:long\tLN:2147483647\nb348ed1f0685d22e7c02bd4a\t0\tlong\t2147483647\t1\t1M\t*\t0\t0\tA\tI\n")
    target = tmp_path / "far.bam"
    subprocess.run(["samtools", "view", "-b", "--no-PG", "-o", str(target), str(sam)], check=True)
    raw = gunzip(target.read_bytes())
    at = first_record_offset(raw) + 14
    assert int.from_bytes(raw[at : at + 2], "little") == (4681 + (2147483646 >> 14)) & 0xFFFF
    for status, found, _ in both_ways(tmp_path, target):
        assert status == 0, found
