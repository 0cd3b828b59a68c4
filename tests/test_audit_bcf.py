"""genoscrub-audit walks a BCF's records: the bytes within a record that htslib does not print.

Each case plants bytes in a BCF that bcftools made, with a byte-level editor written here (its
own reading of BCF 2.2, VCF 4.3 section 6.3, apart from the audit's walk), shows that
``bcftools view`` does not print them, and expects the audit to find them, on a path and on
stdin, located by record and field and never quoted, and the forbid list's string in them. A
clean BCF from bcftools passes, and so does every corpus VCF bcftools turns into BCF. The C walk
and its Python twin are held to one answer on random and corrupted records.
"""

from __future__ import annotations

import re
import struct
import subprocess
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from genoscrub.audit_bcf import BcfRecordWalk, Dictionary
from genoscrub.audit_containers import ContainerWatch
from hypothesis import given, settings
from hypothesis import strategies as st

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
#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT\tS1\tS2
chr1\t100\trs12345678901\tA\tC\t50\tPASS\tDP=10;NOTE=abcdefghijk;AFS=0.5\tGT:AD:TX:XV:XF\t0/1:1,2:ab:1,2,3,4,5,6,7,8,9,10,11:0.5,0.5,0.5\t0/1:3,4:abcdefghijkl:1:0.5
chr1\t200\t.\tAAAAAAAAAAA\tC,G\t.\tq10\tDP=12;AFS=0.25,0.5\tGT:AD:TX\t0/1:1,2,3:x\t1/2:3,4,5:y
"""
"""Two records with every kind of value: an ID, a long REF, FILTER, INFO Integer, String and
Float, FORMAT GT, a String padded to the longer sample's, Integer and Float vectors of
different lengths (the shorter padded with END_OF_VECTOR)."""


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


@pytest.fixture(scope="module")
def clean(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    """The records above as bcftools writes them, uncompressed."""
    folder = tmp_path_factory.mktemp("bcf")
    (folder / "in.vcf").write_text(VCF)
    return subprocess.run(["bcftools", "view", "--no-version", "-Ou", str(folder / "in.vcf")], capture_output=True, check=True).stdout


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


CASES: dict[str, Callable[[Bcf], str]] = {
    case.__name__.replace("_", "-"): case
    for case in (id_after_nul, allele_after_nul, info_string_after_nul, format_string_padding, integer_after_vector_end,
                 float_after_vector_end, bytes_after_info, bytes_after_samples, nan_payload, key_count_bits, filter_of_an_info_key,
                 info_key_undeclared, format_key_undeclared, reserved_type_code, sample_count)
}  # fmt: skip
SEARCHED = {"id-after-nul", "allele-after-nul", "info-string-after-nul", "format-string-padding", "integer-after-vector-end",
            "bytes-after-info", "bytes-after-samples"}  # fmt: skip
"""The cases whose hidden bytes hold the whole planted string."""


def planted(clean: bytes, case: str) -> tuple[bytes, str]:
    bcf = Bcf.read(clean)
    key = CASES[case](bcf)
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
    """PASS first; an ID given again (INFO and FORMAT DP) at its first index; IDX where given."""
    text = (b'##fileformat=VCFv4.2\n##INFO=<ID=DP,Number=1,Type=Integer,Description="x">\n'
            b'##FORMAT=<ID=DP,Number=1,Type=Integer,Description="x">\n##FILTER=<ID=low,Description="x",IDX=7>\n'
            b'##FORMAT=<ID=GT,Number=1,Type=String,Description="x">\n'
            b"#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT\tA\tB\tC")  # fmt: skip
    dictionary = Dictionary.read(text)
    assert dictionary.samples == 3
    assert dictionary.names == {0: "PASS", 1: "DP", 7: "low", 8: "GT"}
    assert dictionary.kinds == bytes([1, 2 | 4, 0, 0, 0, 0, 0, 1, 4])


# --- the C walk and its twin (the random records: tests/test_scan.py) -------------------------------


@needs_compiled
@settings(max_examples=400, deadline=None)
@given(st.integers(0, 1 << 30), st.binary(min_size=1, max_size=4), st.sampled_from(sorted(CASES)))
def test_the_two_walks_agree_on_corrupted_bcftools_records(clean: bytes, at: int, noise: bytes, case: str) -> None:
    """Each planted case with a few bytes of its records overwritten anywhere."""
    data, _ = planted(clean, case)
    text_end = 9 + int.from_bytes(data[5:9], "little")
    where = text_end + at % (len(data) - text_end)
    data = data[:where] + noise + data[where + len(noise) :]
    dictionary = Dictionary.read(data[9:text_end].partition(b"\0")[0])
    first, second = both_walks(data, text_end, dictionary.samples, dictionary.kinds)
    assert first == second


# --- the corpus ------------------------------------------------------------------------------------------


def test_corpus_vcfs_made_bcf_by_bcftools_walk_clean(corpus: Path, tmp_path: Path) -> None:
    """The corpus holds no BCF: every VCF bcftools reads (of vcf/ and vcf-bad/) is made one, and its
    records walk without a finding (bcftools writes nothing the walk refuses)."""
    walked_files = 0
    for path in sorted([*(corpus / "vcf").glob("*"), *(corpus / "vcf-bad").glob("*")]):
        made = subprocess.run(["bcftools", "view", "--no-version", "-Ou", str(path)], capture_output=True)
        if made.returncode != 0 or not made.stdout.startswith(b"BCF\2"):
            continue
        data = made.stdout
        text_end = 9 + int.from_bytes(data[5:9], "little")
        dictionary = Dictionary.read(data[9:text_end].partition(b"\0")[0])
        counts, _ = walked(data[text_end:], dictionary, [])
        assert counts == {}, path.name
        walked_files += 1
    assert walked_files > 50
