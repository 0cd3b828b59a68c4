"""genoscrub-audit walks a BCF's records: the bytes within a record that htslib does not print.

Each case plants bytes in a BCF that bcftools made, with a byte-level editor written here (its
own reading of BCF 2.2, VCF 4.3 section 6.3, apart from the audit's walk), shows that
``bcftools view`` does not print them, and expects the audit to find them, on a path and on
stdin, located by record and field and never quoted, and the forbid list's string in them. A
clean BCF from bcftools passes, and so does every corpus VCF bcftools turns into BCF. The C walk
and its Python twin are held to one answer on random and corrupted records.
"""

from __future__ import annotations

import gzip
import re
import struct
import subprocess
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pysam
import pysam.bcftools
import pytest
from genoscrub import scan
from genoscrub.audit_bcf import BcfRecordWalk, Dictionary
from genoscrub.audit_containers import ContainerWatch
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.conftest import run_command
from tests.test_audit_containers import PLANTED, both_ways
from tests.test_scan import both_walks, needs_compiled

SIZES = {0: 0, 1: 1, 2: 2, 3: 4, 5: 4, 7: 1}
VECTOR_END = {1: b"\x81", 2: b"\x01\x80", 3: b"\x01\x00\x00\x80", 5: b"\x02\x00\x80\x7f"}

VCF = """##fileformat=VCFv4.2
##FILTER=<ID=PASS,Description="All filters passed">
##FILTER=<ID=q10,Description="Quality below 10">
##contig=<ID=chr1,length=2000>
##INFO=<ID=DP,Number=1,Type=Integer,Description="Depth">
##INFO=<ID=NOTE,Number=1,Type=String,Description="A note">
##INFO=<ID=AFS,Number=A,Type=Float,Description="Frequencies">
##FORMAT=<ID=GT,Number=1,Type=String,Description="Genotype">
##FORMAT=<ID=AD,Number=R,Type=Integer,Description="Depths">
##FORMAT=<ID=TX,Number=1,Type=String,Description="Text">
##FORMAT=<ID=XV,Number=.,Type=Integer,Description="Counts">
##FORMAT=<ID=XF,Number=.,Type=Float,Description="Fractions">
##FORMAT=<ID=CH,Number=1,Type=Character,Description="A letter">
#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT\tS1\tS2
chr1\t100\tCOSV123456789\tA\tC\t50\tPASS\tDP=100000;NOTE=abcdefghijk;AFS=0.5\tGT:AD:TX:XV:XF\t0/1:1,2:ab:1,2,3,4,5,6,7,8,9,10,11:0.5,0.5,0.5\t0/1:3,4:abcdefghijkl:1:0.5
chr1\t200\t.\tAAAAAAAAAAA\tC,G\t.\tq10\tDP=12;AFS=0.25,0.5\tGT:AD:TX:CH\t0/1:1,2,3:x:a\t1/2:3,4,5:y:b
"""
"""Two records with every kind of value: an ID, a long REF, FILTER, INFO Integer (one of 32
bits), String and Float, FORMAT GT, a String padded to the longer sample's, Integer and Float
vectors of different lengths (the shorter padded with END_OF_VECTOR), a one-letter Character."""

SPANS = """##fileformat=VCFv4.2
##FILTER=<ID=PASS,Description="All filters passed">
##contig=<ID=chr1,length=50000000>
##ALT=<ID=DEL,Description="Deletion">
##ALT=<ID=*,Description="Any other allele">
##INFO=<ID=END,Number=1,Type=Integer,Description="End">
##INFO=<ID=SVLEN,Number=A,Type=Integer,Description="Length">
##FORMAT=<ID=GT,Number=1,Type=String,Description="Genotype">
##FORMAT=<ID=LEN,Number=1,Type=Integer,Description="Block length">
#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT\tS1\tS2
chr1\t100\t.\tACGT\tA\t.\t.\t.\tGT\t0|1\t1/1
chr1\t20000000\t.\tA\t<DEL>\t.\t.\tSVLEN=-500;END=20000500\tGT\t0/1\t0/0
chr1\t20001000\t.\tA\t<*>\t.\t.\tEND=20001050\tGT:LEN\t0/0:51\t0/0:51
chr1\t20002000\t.\tACGT\tC\t.\t.\tEND=20002003\tGT\t0\t1
"""
"""Records whose span on the reference is more than REF: a deletion of 500 bases (SVLEN and
END), a reference block (END and FORMAT/LEN), END given where REF says the same; and every
phase of GT, haploid ones too (their first phase bit is what tells htslib's versions apart)."""


def typed(part: bytes | bytearray, at: int) -> tuple[int, int, int]:
    """(type, count, where the values start) of the type descriptor at ``at``."""
    kind, count = part[at] & 15, part[at] >> 4
    at += 1
    if count == 15:
        size = SIZES[part[at] & 15]
        count = int.from_bytes(part[at + 1 : at + 1 + size], "little", signed=True)
        at += 1 + size
    return kind, count, at


@dataclass
class Record:
    """One record's two parts, and where each of its typed values lies in them: a name (``ID``,
    ``REF``, ``ALT1``, ``FILTER``, ``INFO/DP``, ``FORMAT/AD``) to (part, key or descriptor offset,
    values start, values end, bytes a sample's value takes)."""

    shared: bytearray
    indiv: bytearray
    values: dict[str, tuple[str, int, int, int, int]] = field(default_factory=dict)

    def locate(self, names: dict[int, str]) -> None:
        part = self.shared
        n_info, n_allele = struct.unpack_from("<HH", part, 16)
        n_sample = int.from_bytes(part[20:23], "little")
        n_fmt = part[23]
        at = 24
        for name in ["ID", "REF"] + [f"ALT{number}" for number in range(1, n_allele)] + ["FILTER"]:
            kind, count, start = typed(part, at)
            self.values[name] = ("shared", at, start, start + count * SIZES[kind], count * SIZES[kind])
            at = start + count * SIZES[kind]
        for _ in range(n_info):
            key_at = at
            key = part[at + 1]
            at += 1 + SIZES[part[at] & 15]
            kind, count, start = typed(part, at)
            self.values[f"INFO/{names[key]}"] = ("shared", key_at, start, start + count * SIZES[kind], count * SIZES[kind])
            at = start + count * SIZES[kind]
        at = 0
        for _ in range(n_fmt):
            key_at = at
            key = self.indiv[at + 1]
            at += 1 + SIZES[self.indiv[at] & 15]
            kind, count, start = typed(self.indiv, at)
            width = count * SIZES[kind]
            self.values[f"FORMAT/{names[key]}"] = ("indiv", key_at, start, start + n_sample * width, width)
            at = start + n_sample * width

    def value(self, name: str) -> bytearray:
        part, _, start, end, _ = self.values[name]
        return getattr(self, part)[start:end]

    def replace(self, name: str, data: bytes, offset: int = 0) -> None:
        """Bytes of a value overwritten in place, from ``offset`` within it: the layout stays."""
        part, _, start, end, _ = self.values[name]
        assert start + offset + len(data) <= end
        getattr(self, part)[start + offset : start + offset + len(data)] = data


@dataclass
class Bcf:
    """An uncompressed BCF taken apart: its header (magic to the text's end) and its records."""

    header: bytes
    records: list[Record]
    names: dict[int, str]

    @classmethod
    def read(cls, raw: bytes) -> Bcf:
        text_end = 9 + int.from_bytes(raw[5:9], "little")
        lines = re.findall(rb"##(?:FILTER|INFO|FORMAT)=<ID=([^,]+),.*IDX=(\d+)>", raw[:text_end])
        names = {int(index): name.decode() for name, index in lines}
        records = []
        at = text_end
        while at < len(raw):
            shared_length, indiv_length = struct.unpack_from("<II", raw, at)
            shared = bytearray(raw[at + 8 : at + 8 + shared_length])
            indiv = bytearray(raw[at + 8 + shared_length : at + 8 + shared_length + indiv_length])
            record = Record(shared, indiv)
            record.locate(names)
            records.append(record)
            at += 8 + shared_length + indiv_length
        return cls(raw[:text_end], records, names)

    def index(self, name: str) -> int:
        return next(index for index, known in self.names.items() if known == name)

    def bytes(self) -> bytes:
        return self.header + b"".join(struct.pack("<II", len(r.shared), len(r.indiv)) + r.shared + r.indiv for r in self.records)


def made_bcf(folder: Path, vcf: str, writer: str = "bcftools") -> bytes:
    """``vcf`` made an uncompressed BCF by the bcftools on PATH or by pysam's (``writer="pysam"``):
    two htslib versions, which write ``rlen`` and GT's first phase bit by different rules."""
    source = folder / "in.vcf"
    source.write_text(vcf)
    if writer == "bcftools":
        return subprocess.run(["bcftools", "view", "--no-version", "-Ou", str(source)], capture_output=True, check=True).stdout
    target = folder / "out.bcf"
    pysam.bcftools.view("--no-version", "-Ou", "-o", str(target), str(source), catch_stdout=False)
    data = target.read_bytes()
    return gzip.decompress(data) if data.startswith(b"\x1f\x8b") else data


@pytest.fixture(scope="module")
def clean(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    """The records of ``VCF`` as bcftools writes them, uncompressed."""
    return made_bcf(tmp_path_factory.mktemp("bcf"), VCF)


@pytest.fixture(scope="module", params=["bcftools", "pysam"])
def spans(tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest) -> bytes:
    """The records of ``SPANS`` as each of the two bcftools writes them, uncompressed."""
    return made_bcf(tmp_path_factory.mktemp("spans"), SPANS, request.param)


def bgzip(data: bytes) -> bytes:
    return subprocess.run(["bgzip", "-c"], input=data, capture_output=True, check=True).stdout


def shown(path: Path) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(["bcftools", "view", "--no-version", str(path)], capture_output=True)


# --- planted cases --------------------------------------------------------------------------------
# Each edits the clean BCF in place and returns the finding it must give. The hidden bytes hold
# PLANTED where they can (a NaN's payload, a count, an index cannot hold nine letters).

HIDDEN = PLANTED.encode()


def id_after_nul(bcf: Bcf) -> str:
    bcf.records[0].replace("ID", b"rs1\0" + HIDDEN)
    return "BCF ID (bytes after its NUL)"


def allele_after_nul(bcf: Bcf) -> str:
    bcf.records[1].replace("REF", b"A\0" + HIDDEN)
    return "BCF REF (bytes after its NUL)"


def info_string_after_nul(bcf: Bcf) -> str:
    bcf.records[0].replace("INFO/NOTE", b"a\0" + HIDDEN)
    return "BCF INFO/NOTE (bytes after its NUL)"


def format_string_padding(bcf: Bcf) -> str:
    """The first sample's ``ab`` is padded with NULs to the second's 12 bytes."""
    bcf.records[0].replace("FORMAT/TX", b"ab\0" + HIDDEN)
    return "BCF FORMAT/TX (bytes after its NUL)"


def integer_after_vector_end(bcf: Bcf) -> str:
    """The second sample's one value is followed by ten END_OF_VECTOR int8 values."""
    record = bcf.records[0]
    width = record.values["FORMAT/XV"][4]
    assert record.value("FORMAT/XV")[width + 1 :] == VECTOR_END[1] * 10
    record.replace("FORMAT/XV", HIDDEN, width + 2)
    return "BCF FORMAT/XV (values after its vector end)"


def float_after_vector_end(bcf: Bcf) -> str:
    record = bcf.records[0]
    width = record.values["FORMAT/XF"][4]
    assert record.value("FORMAT/XF")[width + 4 :] == VECTOR_END[5] * 2
    record.replace("FORMAT/XF", HIDDEN[:4], width + 8)
    return "BCF FORMAT/XF (values after its vector end)"


def bytes_after_info(bcf: Bcf) -> str:
    bcf.records[0].shared += HIDDEN
    return "BCF record (bytes after its INFO fields)"


def bytes_after_samples(bcf: Bcf) -> str:
    bcf.records[1].indiv += HIDDEN
    return "BCF record (bytes after its sample fields)"


def nan_payload(bcf: Bcf) -> str:
    bcf.records[0].shared[12:16] = struct.pack("<I", 0x7FC04B49)
    return "BCF QUAL (a NaN carrying other bits)"


def key_count_bits(bcf: Bcf) -> str:
    """htslib reads a key's type alone: the count nibble of ``0x11`` may be anything."""
    record = bcf.records[0]
    record.shared[record.values["INFO/DP"][1]] = 0x91
    return "BCF INFO key (type descriptor off the specification)"


def filter_of_an_info_key(bcf: Bcf) -> str:
    """FILTER holds the index of INFO/DP: htslib prints ``DP`` as the FILTER."""
    record = bcf.records[1]
    record.replace("FILTER", bytes([bcf.index("DP")]))
    return "BCF FILTER (not a ##FILTER index)"


def info_key_undeclared(bcf: Bcf) -> str:
    """An INFO key no header line has: htslib refuses the record, after the audit read it."""
    record = bcf.records[0]
    record.shared[record.values["INFO/DP"][1] + 1] = 60
    return "BCF INFO key (not an ##INFO index)"


def format_key_undeclared(bcf: Bcf) -> str:
    record = bcf.records[1]
    record.indiv[record.values["FORMAT/TX"][1] + 1] = bcf.index("q10")
    return "BCF FORMAT key (not a ##FORMAT index)"


def reserved_type_code(bcf: Bcf) -> str:
    """Type 6 is reserved (VCF 4.3, section 6.3.3): the walk cannot tell how long the value is."""
    record = bcf.records[0]
    record.shared[record.values["INFO/DP"][2] - 1] = 0x16
    return "BCF INFO/DP (type descriptor off the specification)"


def sample_count(bcf: Bcf) -> str:
    """One sample where the header has two: htslib prints one column, the second sample's bytes unread."""
    bcf.records[1].shared[20:23] = (1).to_bytes(3, "little")
    return "BCF record (sample count not the header's)"


def one_letter_missing(bcf: Bcf) -> str:
    """htslib prints a one-byte FORMAT string 0x07 (its ``bcf_str_missing``) as ``.``, which a VCF
    reader stores as ``.``: what the byte stood for is not printed."""
    bcf.records[1].replace("FORMAT/CH", b"\x07")
    return "BCF FORMAT/CH (a 0x07 byte htslib may print as '.')"


def string_missing_byte(bcf: Bcf) -> str:
    """0x07 at a string's start and in its middle: htslib before 1.19 prints each ``.``."""
    bcf.records[0].replace("INFO/NOTE", b"\x07bcde\x07ghijk")
    return "BCF INFO/NOTE (a 0x07 byte htslib may print as '.')"


def string_as_integers(bcf: Bcf) -> str:
    """A String key's value stored as 8-bit integers: printed ``75,73,77,...``, the letters gone."""
    record = bcf.records[0]
    record.shared[record.values["INFO/NOTE"][2] - 1] = 0xB1
    record.replace("INFO/NOTE", HIDDEN + b"xy")
    return "BCF INFO/NOTE (a type its header line does not declare)"


def integer_as_float(bcf: Bcf) -> str:
    """An Integer key's value stored as a float: printed ``1.99001e+07``, its last digits gone."""
    record = bcf.records[0]
    assert record.shared[record.values["INFO/DP"][2] - 1] == 0x13
    record.shared[record.values["INFO/DP"][2] - 1] = 0x15
    record.replace("INFO/DP", struct.pack("<f", 19900101.0))
    return "BCF INFO/DP (a type its header line does not declare)"


CASES: dict[str, Callable[[Bcf], str]] = {
    case.__name__.replace("_", "-"): case
    for case in (id_after_nul, allele_after_nul, info_string_after_nul, format_string_padding, integer_after_vector_end,
                 float_after_vector_end, bytes_after_info, bytes_after_samples, nan_payload, key_count_bits, filter_of_an_info_key,
                 info_key_undeclared, format_key_undeclared, reserved_type_code, sample_count, one_letter_missing, string_missing_byte,
                 string_as_integers, integer_as_float)
}  # fmt: skip
SEARCHED = {"id-after-nul", "allele-after-nul", "info-string-after-nul", "format-string-padding", "integer-after-vector-end",
            "bytes-after-info", "bytes-after-samples", "string-as-integers"}  # fmt: skip
"""The cases whose hidden bytes hold the whole planted string."""


def repeated_item(record: Record, name: str, text: bytes) -> bytes:
    """The bytes of ``name``'s key and value again, its value's bytes (each sample's) ``text`` padded with NULs."""
    part, key_at, start, end, width = record.values[name]
    item = bytearray(getattr(record, part)[key_at:end])
    slots = (end - start) // width
    values = b"".join((text + b"%d" % slot)[:width].ljust(width, b"\0") for slot in range(slots))
    item[len(item) - len(values) :] = values
    return bytes(item)


def info_key_twice(bcf: Bcf) -> str:
    """INFO/NOTE given again after the record's INFO fields: a reader's ``info["NOTE"]`` is the first."""
    record = bcf.records[0]
    record.shared += repeated_item(record, "INFO/NOTE", HIDDEN)
    struct.pack_into("<H", record.shared, 16, struct.unpack_from("<H", record.shared, 16)[0] + 1)
    return "BCF INFO/NOTE (given twice in the record)"


def format_key_twice(bcf: Bcf) -> str:
    """FORMAT/TX given again after the record's FORMAT fields, a value for each sample."""
    record = bcf.records[0]
    record.indiv += repeated_item(record, "FORMAT/TX", HIDDEN)
    record.shared[23] += 1
    return "BCF FORMAT/TX (given twice in the record)"


REPEATED_CASES: dict[str, Callable[[Bcf], str]] = {case.__name__.replace("_", "-"): case for case in (info_key_twice, format_key_twice)}
"""Keys given twice: htslib prints both values (1.16 and 1.24), but no writer of it makes such a record."""


def planted(clean: bytes, case: str) -> tuple[bytes, str]:
    bcf = Bcf.read(clean)
    key = {**CASES, **REPEATED_CASES}[case](bcf)
    return bcf.bytes(), key


@pytest.mark.parametrize("case", sorted(CASES))
def test_bytes_htslib_does_not_print_are_found(clean: bytes, tmp_path: Path, case: str) -> None:
    data, key = planted(clean, case)
    target = tmp_path / "planted.bcf"
    target.write_bytes(bgzip(data))
    view = shown(target)
    assert HIDDEN not in view.stdout
    for status, found, printed in both_ways(tmp_path, target):
        assert status == 1
        assert found["metadata"].get(key) == 1, found["metadata"]
        if case in SEARCHED:
            assert found["forbidden"] == {f"{key} (list line 1)": 1}
        assert PLANTED.lower() not in printed.lower()
        assert "record 1" in printed or "record 2" in printed


@pytest.mark.parametrize("case", sorted(REPEATED_CASES))
def test_a_key_given_twice_in_a_record_is_found(clean: bytes, tmp_path: Path, case: str) -> None:
    """A record no htslib writer makes (VCF 4.3, 6.3: one value a key): a finding, its second value
    searched for the forbid list's strings; bcftools and pysam still read the file (both print the
    two values, an API reader gets the first)."""
    data, key = planted(clean, case)
    target = tmp_path / "twice.bcf"
    target.write_bytes(bgzip(data))
    view = shown(target)
    assert view.returncode == 0 and view.stdout.count(HIDDEN) >= 1
    first = next(iter(pysam.VariantFile(str(target))))
    if case == "info-key-twice":
        assert first.info["NOTE"] == "abcdefghijk"
    else:
        assert [sample["TX"] for sample in first.samples.values()] == ["ab", "abcdefghijkl"]
    for status, found, printed in both_ways(tmp_path, target):
        assert status == 1
        # a FORMAT key twice is also the text rule's finding (the record as bcftools prints it)
        expected = {key: 1, **({"FORMAT (a key given twice)": 1} if case == "format-key-twice" else {})}
        assert found["metadata"] == expected, found["metadata"]
        assert found["forbidden"].get(f"{key} (list line 1)") == 1
        assert PLANTED.lower() not in printed.lower()
        assert "record 1" in printed


def test_a_bcf_from_bcftools_passes_compressed_or_not(clean: bytes, tmp_path: Path) -> None:
    for name, data in (("plain.bcf", clean), ("bgzf.bcf", bgzip(clean))):
        target = tmp_path / name
        target.write_bytes(data)
        for status, found, _ in both_ways(tmp_path, target):
            assert status == 0, found


def test_a_record_after_the_end_of_file_block_is_read(clean: bytes, tmp_path: Path) -> None:
    """htslib's BGZF reader stops at an empty block, but the audit hands its child the whole
    decompressed stream: a record after the end-of-file block is printed and read like the others."""
    bcf = Bcf.read(clean)
    bcf.records[0].replace("ID", b"rs1" + HIDDEN + b"0")
    target = tmp_path / "after.bcf"
    target.write_bytes(bgzip(clean) + bgzip(Bcf(b"", bcf.records[:1], bcf.names).bytes()))
    for status, found, printed in both_ways(tmp_path, target):
        assert status == 1 and found["forbidden"] == {"ID (list line 1)": 1}
        assert PLANTED.lower() not in printed.lower()


def walked(data: bytes, dictionary: Dictionary, pieces: list[int]) -> tuple[dict[str, int], dict[str, list[str]]]:
    """The findings of the walk of ``data`` (records only) fed in pieces cut at ``pieces``."""
    watch = ContainerWatch(None)
    walk = BcfRecordWalk(dictionary, watch)
    cuts = [0, *sorted(pieces), len(data)]
    for start, end in zip(cuts, cuts[1:], strict=False):
        walk.feed(data[start:end])
    walk.finish()
    return dict(watch.findings.metadata.counts), watch.findings.metadata.examples


def test_a_record_cut_between_pieces_is_walked_whole(clean: bytes) -> None:
    data, _ = planted(clean, "format-string-padding")
    text_end = 9 + int.from_bytes(data[5:9], "little")
    dictionary = Dictionary.read(data[9:text_end].partition(b"\0")[0])
    records = data[text_end:]
    whole = walked(records, dictionary, [])
    assert whole[0] == {"BCF FORMAT/TX (bytes after its NUL)": 1}
    for cut in range(len(records)):
        assert walked(records, dictionary, [cut]) == whole
    assert walked(records[:-3], dictionary, [])[0] == {**whole[0], "BCF record (cut short)": 1}


def test_the_dictionary_is_numbered_as_htslib_numbers_it() -> None:
    """PASS first; an ID given again (INFO and FORMAT DP) at its first index, the Type of its
    first line of each kind; IDX where given; Character and a Type htslib does not know are
    String; GT, END, SVLEN and LEN found wherever they are declared."""
    text = (b'##fileformat=VCFv4.2\n##INFO=<ID=DP,Number=1,Type=Integer,Description="x">\n'
            b'##FORMAT=<ID=DP,Number=1,Type=Float,Description="x">\n##FILTER=<ID=low,Description="x",IDX=7>\n'
            b'##FORMAT=<ID=GT,Number=1,Type=String,Description="x">\n##INFO=<ID=DP,Number=1,Type=Flag,Description="x">\n'
            b'##INFO=<ID=END,Number=1,Type=Character,Description="x">\n##FORMAT=<ID=LEN,Number=1,Type=Long,Description="x">\n'
            b"#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT\tA\tB\tC")  # fmt: skip
    dictionary = Dictionary.read(text)
    assert dictionary.samples == 3
    assert dictionary.names == {0: "PASS", 1: "DP", 7: "low", 8: "GT", 9: "END", 10: "LEN"}
    string, as_info, as_format = scan.BCF_DECLARED_STRING, scan.BCF_DECLARED_INFO_SHIFT, scan.BCF_DECLARED_FORMAT_SHIFT
    assert dictionary.kinds == bytes([1, 2 | 4 | scan.BCF_DECLARED_FLOAT << as_format, 0, 0, 0, 0, 0, 1, 4 | string << as_format,
                                      2 | string << as_info, 4 | string << as_format])  # fmt: skip
    assert dictionary.keys == (8, 9, -1, 10)
    assert dictionary.version == 4_002_000 and not dictionary.phase_printed


@pytest.mark.parametrize(
    ("line", "version"),
    [(b"VCFv4.4", 4_004_000), (b"VCFv4.5", 4_005_000), (b"VCFv4.3", 4_003_000), (b"VCFv5.0", 5_000_000), (b"VCFv4", 4_002_000),
     (b"VCF4.4", 4_002_000), (b"xVCFv 4.4x", 4_004_000), (b"VCFv4.x", 4_000_000)],
)  # fmt: skip
def test_the_vcf_version_is_read_as_htslib_reads_it(line: bytes, version: int) -> None:
    """``bcf_get_version``: the numbers after ``VCFv`` and after the next dot as strtol reads
    them, VCF 4.2 where there is no ``VCFv`` or no dot."""
    assert Dictionary.read(b"##fileformat=" + line + b"\n#CHROM\tPOS").version == version


# --- what htslib prints of a record but not as stored: GT's first phase, rlen, END -----------------


def spans_planted(spans: bytes, edit: Callable[[Bcf], None], version: str = "VCFv4.2") -> bytes:
    bcf = Bcf.read(spans.replace(b"##fileformat=VCFv4.2", b"##fileformat=" + version.encode()))
    edit(bcf)
    return bcf.bytes()


def first_phase(bcf: Bcf) -> None:
    """S2's ``1/1`` given its first allele's phase bit: htslib prints ``1/1`` for VCF before 4.4."""
    bcf.records[0].replace("FORMAT/GT", bytes([bcf.records[0].value("FORMAT/GT")[2] | 1]), 2)


def missing_haploid_phase(bcf: Bcf) -> None:
    """S1's haploid ``0`` as ``.`` with a phase bit (a VCF reader stores ``.`` without one)."""
    bcf.records[3].replace("FORMAT/GT", b"\x01")


def no_alleles(bcf: Bcf) -> None:
    """S2's GT with no allele (END_OF_VECTOR first): printed ``.``, stored by a VCF reader as MISSING, END_OF_VECTOR."""
    bcf.records[0].replace("FORMAT/GT", b"\x81\x81", 2)


def rlen_number(bcf: Bcf) -> None:
    """The SNV's span set to a number (htslib prints END = POS + rlen then, or nothing)."""
    struct.pack_into("<i", bcf.records[0].shared, 8, 19900101)


def deletion_as_its_ref(bcf: Bcf) -> None:
    """The deletion's span as if SVLEN and END said nothing: REF's length."""
    struct.pack_into("<i", bcf.records[1].shared, 8, 1)


def block_as_its_ref(bcf: Bcf) -> None:
    struct.pack_into("<i", bcf.records[2].shared, 8, 1)


def end_number(bcf: Bcf) -> None:
    """END, which REF's length repeats there, set to a number: pysam, which the child writes
    with, prints END as POS + rlen or not at all, so the stored value passes unseen."""
    bcf.records[3].replace("INFO/END", struct.pack("<i", 19900101))


PHASE = "BCF FORMAT/GT (a first allele's phase htslib does not print)"
RLEN = "BCF rlen (not what REF, END, SVLEN and LEN give)"
END = "BCF INFO/END (not the end rlen gives, which htslib prints instead)"
SPAN_CASES = {
    "first-phase": (first_phase, [PHASE]),
    "missing-haploid-phase": (missing_haploid_phase, [PHASE]),
    "no-alleles": (no_alleles, [PHASE]),
    "rlen-number": (rlen_number, [RLEN]),
    "deletion-as-its-ref": (deletion_as_its_ref, [RLEN, END]),  # END is no longer POS + rlen either
    "block-as-its-ref": (block_as_its_ref, [RLEN, END]),
    "end-number": (end_number, [END]),
}


CANONICAL: dict[str, Callable[[Bcf], None]] = {
    "first-phase": lambda bcf: None,
    "missing-haploid-phase": lambda bcf: bcf.records[3].replace("FORMAT/GT", b"\x00"),
    "no-alleles": lambda bcf: bcf.records[0].replace("FORMAT/GT", b"\x00\x81", 2),
    "end-number": lambda bcf: None,
}
"""What a VCF reader stores for the text the child prints of a case, where that is the clean
record's text or one edit from it."""


def printed_by_the_child(path: Path) -> bytes:
    """The VCF text the audit's htslib child makes of a BCF (pysam reads it and writes each record)."""
    source = pysam.VariantFile(str(path))
    out = path.with_suffix(".vcf")
    sink = pysam.VariantFile(str(out), "w", header=source.header)
    for record in source:
        sink.write(record)
    sink.close()
    source.close()
    return out.read_bytes()


@pytest.mark.parametrize("case", sorted(SPAN_CASES))
def test_what_htslib_prints_otherwise_than_stored_is_found(spans: bytes, tmp_path: Path, case: str) -> None:
    """Each planted where the child prints the record the same as the clean one (GT, the END the
    clean record had) or prints a number the audit cannot tell from data (END = POS + rlen): one
    finding, by record and field, whichever htslib version wrote the clean file."""
    edit, keys = SPAN_CASES[case]
    target = tmp_path / "planted.bcf"
    target.write_bytes(bgzip(spans_planted(spans, edit)))
    (tmp_path / "clean.bcf").write_bytes(bgzip(spans))
    assert b"19900101" not in printed_by_the_child(target)
    if case in CANONICAL:  # printed as the canonical encoding is: nothing in the text tells them apart
        (tmp_path / "canonical.bcf").write_bytes(bgzip(spans_planted(spans, CANONICAL[case])))
        assert printed_by_the_child(target) == printed_by_the_child(tmp_path / "canonical.bcf")
    for status, found, printed in both_ways(tmp_path, target):
        assert status == 1, found
        assert found["metadata"] == dict.fromkeys(keys, 1)
        assert "19900101" not in printed and re.search(r"record [1-4]\b", printed)


def test_a_first_phase_htslib_prints_is_not_a_finding(spans: bytes, tmp_path: Path) -> None:
    """For VCF 4.4, htslib 1.22 and later print the first allele's phase where it is not what the
    others imply (``|1/1``): the bit is in the text, as any allele is."""
    target = tmp_path / "v44.bcf"
    target.write_bytes(bgzip(spans_planted(spans, first_phase, "VCFv4.4")))
    assert b"\t|1/1" in printed_by_the_child(target)
    for status, found, _ in both_ways(tmp_path, target):
        assert status == 0, found


def test_htslib_prints_0x07_as_a_dot_or_as_itself(clean: bytes, tmp_path: Path) -> None:
    """What htslib prints of 0x07 (``bcf_str_missing``), at a string's start, in its middle, as a
    one-byte FORMAT value: ``.`` before 1.19 (the bcftools on PATH here), the byte itself in the
    htslib pysam bundles here; either way a VCF reader would not store the byte again, or would
    store ``.`` for it, so the walk finds every 0x07."""
    bcf = Bcf.read(clean)
    bcf.records[1].replace("FORMAT/CH", b"\x07")
    bcf.records[0].replace("INFO/NOTE", b"\x07bcde\x07ghijk")
    target = tmp_path / "missing.bcf"
    target.write_bytes(bgzip(bcf.bytes()))
    shapes = set()
    for text in (printed_by_the_child(target), shown(target).stdout):
        lines = text.splitlines()
        note = re.search(rb"NOTE=(\x07|\.)bcde(\x07|\.)ghijk;", lines[-2])
        letter = lines[-1].split(b"\t")[9].rpartition(b":")[2]
        assert note is not None and letter in (b".", b"\x07")
        shapes.add((note[1], note[2], letter))
    assert (b".", b".", b".") in shapes


def test_bcfs_pysam_writes_pass(tmp_path: Path) -> None:
    """Both test VCFs as pysam's bcftools writes them (BGZF, another htslib than the bcftools on PATH)."""
    for name, vcf in (("records", VCF), ("spans", SPANS)):
        (tmp_path / "in.vcf").write_text(vcf)
        target = tmp_path / f"{name}.bcf"
        pysam.bcftools.view("--no-version", "-Ob", "-o", str(target), str(tmp_path / "in.vcf"), catch_stdout=False)
        for status, found, _ in both_ways(tmp_path, target):
            assert status == 0, (name, found)


# --- the C walk and its twin (the random records: tests/test_scan.py) -------------------------------


@needs_compiled
@settings(max_examples=400, deadline=None)
@given(st.integers(0, 1 << 30), st.binary(min_size=1, max_size=4), st.sampled_from(sorted(CASES | REPEATED_CASES)))
def test_the_two_walks_agree_on_corrupted_bcftools_records(clean: bytes, at: int, noise: bytes, case: str) -> None:
    """Each planted case with a few bytes of its records overwritten anywhere."""
    data, _ = planted(clean, case)
    text_end = 9 + int.from_bytes(data[5:9], "little")
    where = text_end + at % (len(data) - text_end)
    data = data[:where] + noise + data[where + len(noise) :]
    dictionary = Dictionary.read(data[9:text_end].partition(b"\0")[0])
    first, second = both_walks(data, text_end, dictionary.samples, dictionary.kinds, dictionary.keys, dictionary.phase_printed)
    assert first == second


# --- the corpus ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("writer", ["bcftools", "pysam"])
def test_corpus_vcfs_made_bcf_by_bcftools_walk_clean(corpus: Path, tmp_path: Path, writer: str) -> None:
    """The corpus holds no BCF: every VCF bcftools reads (of vcf/ and vcf-bad/) is made one, by the
    bcftools on PATH and by pysam's (two htslib versions, two rules for rlen and GT's phase),
    and its records walk without a finding (bcftools writes nothing the walk refuses), but a key given
    twice in a record where the VCF gives it twice (htslib 1.16 writes it so; the finding is the VCF's fault)."""
    walked_files = 0
    for path in sorted([*(corpus / "vcf").glob("*"), *(corpus / "vcf-bad").glob("*")]):
        if writer == "bcftools":
            made = subprocess.run(["bcftools", "view", "--no-version", "-Ou", str(path)], capture_output=True)
            if made.returncode != 0 or not made.stdout.startswith(b"BCF\2"):
                continue
            data = made.stdout
        else:
            try:
                pysam.bcftools.view("--no-version", "-Ou", "-o", str(tmp_path / "made.bcf"), str(path), catch_stdout=False)
            except pysam.utils.SamtoolsError:
                continue
            data = (tmp_path / "made.bcf").read_bytes()
            data = gzip.decompress(data) if data.startswith(b"\x1f\x8b") else data
            if not data.startswith(b"BCF\2"):
                continue
        text_end = 9 + int.from_bytes(data[5:9], "little")
        dictionary = Dictionary.read(data[9:text_end].partition(b"\0")[0])
        counts, _ = walked(data[text_end:], dictionary, [])
        repeated = {key for key in counts if key.endswith("(given twice in the record)")}
        assert counts.keys() == repeated, path.name
        assert not repeated or repeated_keys_in(path) >= {key.split()[1] for key in repeated}, path.name
        walked_files += 1
    assert walked_files > 50


def repeated_keys_in(path: Path) -> set[str]:
    """``INFO/KEY`` and ``FORMAT/KEY`` that some record of a VCF gives twice."""
    found = set()
    for line in path.read_bytes().decode("latin-1").splitlines():
        fields = line.split("\t")
        if line.startswith("#") or len(fields) < 8:
            continue
        info_keys = [item.split("=")[0] for item in fields[7].split(";")]
        format_keys = fields[8].split(":") if len(fields) > 8 else []
        found |= {f"INFO/{key}" for key in info_keys if info_keys.count(key) > 1}
        found |= {f"FORMAT/{key}" for key in format_keys if format_keys.count(key) > 1}
    return found


@pytest.mark.parametrize("writer", ["bcftools", "pysam"])
def test_a_symbolic_allele_without_an_end_line_passes_as_its_vcf_does(tmp_path: Path, writer: str) -> None:
    """A BCF whose header declares no INFO/END, with a ``<DEL>`` of SVLEN 50: htslib 1.22 and
    later print END for a symbolic allele's span and refuse a header without it, so the audit's
    child declares it; the file passes as its VCF does (it was refused as unreadable)."""
    vcf = (
        "##fileformat=VCFv4.2\n##contig=<ID=chr1,length=100000>\n"
        '##INFO=<ID=SVLEN,Number=A,Type=Integer,Description="Length">\n##ALT=<ID=DEL,Description="Deletion">\n'
        "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\nchr1\t100\t.\tA\t<DEL>\t.\tPASS\tSVLEN=-50\n"
    )
    (tmp_path / "calls.bcf").write_bytes(made_bcf(tmp_path, vcf, writer))
    (tmp_path / "calls.vcf").write_text(vcf)
    for name in ("calls.bcf", "calls.vcf"):
        result = run_command("genoscrub-audit", "-q", str(tmp_path / name))
        assert result.returncode == 0, (name, result.stdout, result.stderr)
