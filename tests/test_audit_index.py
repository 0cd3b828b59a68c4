"""genoscrub-audit on index files (BAI, CSI, TBI, CRAI): indexes htslib writes for clean files
pass; a name, bytes past the layout, a number off it, or an index made from another file are
findings; a truncated index is an error. The indexes are written by htslib (pysam), the planted
ones by hand from the specification's layouts, never by the code under test."""

from __future__ import annotations

import gzip
import json
import shutil
import struct
import subprocess
from pathlib import Path

import pysam
import pytest

from tests.conftest import run_command

VCF_HEADER = "##fileformat=VCFv4.2\n{contigs}#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\n"


def vcf(path: Path, contigs: list[str], positions: int = 3) -> Path:
    """A bgzipped VCF with a record or more on each contig, and its tabix index."""
    text = VCF_HEADER.format(contigs="".join(f"##contig=<ID={name},length=100000>\n" for name in contigs))
    text += "".join(f"{name}\t{100 * (number + 1)}\t.\tA\tG\t.\t.\t.\n" for name in contigs for number in range(positions))
    plain = path.with_suffix("")
    plain.write_text(text)
    pysam.tabix_index(str(plain), preset="vcf", force=True)
    return path


def bam(path: Path, contigs: int = 2, reads: int = 50) -> Path:
    references = [{"SN": f"chr{n + 1}", "LN": 100000} for n in range(contigs)]
    header = pysam.AlignmentHeader.from_dict({"HD": {"VN": "1.6", "SO": "coordinate"}, "SQ": references})
    with pysam.AlignmentFile(str(path), "wb", header=header) as out:
        for contig in range(contigs):
            for number in range(reads):
                read = pysam.AlignedSegment(header)
                read.query_name, read.reference_id, read.reference_start = f"READ{number}", contig, 100 * number
                read.cigarstring, read.mapping_quality, read.query_sequence = "10M", 60, "ACGTACGTAC"
                read.query_qualities = pysam.qualitystring_to_array("I" * 10)
                out.write(read)
    pysam.index(str(path))
    return path


def audit(*args: str, cwd: Path) -> tuple[subprocess.CompletedProcess[bytes], dict[str, dict[str, int]]]:
    """Run the audit with a report; the metadata and forbidden findings of each file, by key."""
    report = cwd / "report.json"
    report.unlink(missing_ok=True)
    result = run_command("genoscrub-audit", "-q", "--report", str(report), *args, cwd=cwd)
    found = {}
    if report.exists():
        for entry in json.loads(report.read_text())["files"]:
            keys = {}
            for name in ("metadata", "forbidden"):
                keys.update(entry["findings"][name].get("by_key", {}))
            found[Path(entry["file"]).name] = keys
    return result, found


def test_indexes_htslib_writes_for_clean_files_pass(tmp_path: Path) -> None:
    """TBI and CSI of a VCF, BAI and CSI of a BAM, CRAI of a CRAM: each beside its data file."""
    data = vcf(tmp_path / "calls.vcf.gz", ["chr1", "chr2"])
    pysam.tabix_index(str(data), preset="vcf", force=True, csi=True)
    reads = bam(tmp_path / "reads.bam")
    pysam.index("-c", str(reads), str(tmp_path / "reads.bam.csi"))
    reference = tmp_path / "ref.fa"
    reference.write_text("".join(f">chr{n + 1}\n" + "ACGT" * 25000 + "\n" for n in range(2)))
    pysam.faidx(str(reference))
    pysam.view("-C", "-T", str(reference), "-o", str(tmp_path / "reads.cram"), str(reads), catch_stdout=False)
    pysam.index(str(tmp_path / "reads.cram"))
    indexes = ["calls.vcf.gz.tbi", "calls.vcf.gz.csi", "reads.bam.bai", "reads.bam.csi", "reads.cram.crai"]
    result, found = audit(*indexes, cwd=tmp_path)
    assert result.returncode == 0, result.stderr.decode()
    assert found == {name: {} for name in indexes}


def test_a_tabix_index_of_another_file_shows_its_names(tmp_path: Path) -> None:
    """An index made from the raw VCF, whose contig names a patient, beside the scrubbed one:
    the name is found by the contig rule, by not being the data file's and by the forbid list,
    never printed."""
    (tmp_path / "raw").mkdir()
    raw = vcf(tmp_path / "raw" / "calls.vcf.gz", ["chr1", "S2301217N_19900101"])
    delivered = vcf(tmp_path / "calls.vcf.gz", ["chr1"])
    shutil.copy(str(raw) + ".tbi", str(delivered) + ".tbi")
    (tmp_path / "forbid.txt").write_text("S2301217N\n")
    result, found = audit("--forbid", "forbid.txt", "calls.vcf.gz.tbi", cwd=tmp_path)
    assert result.returncode == 1 and b"S2301217N" not in result.stdout + result.stderr
    assert found["calls.vcf.gz.tbi"] == {
        "index sequence name (holds personal data)": 1,
        "index sequence name (not in its data file)": 1,
        "index (offset past its data file)": 1,
        "index (offset not at a block of its data file)": 1,  # the other reference's, within the file's size
        "index (list line 1)": 1,
    }


def test_bytes_past_an_index_are_found(tmp_path: Path) -> None:
    """A BAI (uncompressed) and a TBI (BGZF) with a name after the layout's end."""
    reads = bam(tmp_path / "reads.bam")
    bai = Path(str(reads) + ".bai")
    bai.write_bytes(bai.read_bytes() + b"KIMJIHOON")
    calls = vcf(tmp_path / "calls.vcf.gz", ["chr1"])
    tbi = Path(str(calls) + ".tbi")
    with gzip.open(tbi) as handle:
        content = handle.read()
    with pysam.BGZFile(str(tbi), "wb", None) as out:
        out.write(content + b"KIMJIHOON")
    (tmp_path / "forbid.txt").write_text("KIMJIHOON\n")
    result, found = audit("--forbid", "forbid.txt", "reads.bam.bai", "calls.vcf.gz.tbi", cwd=tmp_path)
    assert result.returncode == 1
    for name in ("reads.bam.bai", "calls.vcf.gz.tbi"):
        assert found[name] == {"index (bytes past its end)": 1, "index (list line 1)": 1}


def test_an_index_of_another_bam_is_found(tmp_path: Path) -> None:
    """The raw input's index (more references, offsets past the delivered file) beside it."""
    (tmp_path / "raw").mkdir()
    raw = bam(tmp_path / "raw" / "reads.bam", contigs=3, reads=3000)
    delivered = bam(tmp_path / "reads.bam", contigs=2, reads=5)
    shutil.copy(str(raw) + ".bai", str(delivered) + ".bai")
    result, found = audit("reads.bam.bai", cwd=tmp_path)
    assert result.returncode == 1
    assert found["reads.bam.bai"] == {"index (reference count differs from its data file)": 1, "index (offset past its data file)": 3}


def test_an_index_of_the_raw_bam_beside_a_larger_delivered_one_is_found(tmp_path: Path) -> None:
    """The raw input's index beside the delivered BAM that lost a contig's reads (sam-revert-germline
    --drop-contigs: an HLA allele contig's, chrEBV's), written at level 0 so that it is the larger
    file: the same reference count, every offset within its size, and `samtools idxstats` would
    print the raw file's count of reads on the dropped contig, the genotype the drop removed. Its
    offsets do not point at the delivered file's blocks."""
    (tmp_path / "raw").mkdir()
    raw = bam(tmp_path / "raw" / "reads.bam", contigs=3, reads=2000)
    kept = tmp_path / "kept.bam"
    pysam.view("-b", "-o", str(kept), str(raw), "chr1", "chr2", catch_stdout=False)  # chr3's reads dropped
    delivered = tmp_path / "reads.bam"
    pysam.view("-b", "--output-fmt-option", "level=0", "-o", str(delivered), str(kept), catch_stdout=False)
    shutil.copy(str(raw) + ".bai", str(delivered) + ".bai")
    assert delivered.stat().st_size > raw.stat().st_size  # control: no offset past the delivered file
    assert str(pysam.idxstats(str(delivered))).splitlines()[2].split("\t")[2] == "2000"  # control: the dropped reads, counted
    result, found = audit("reads.bam.bai", cwd=tmp_path)
    assert result.returncode == 1
    assert found["reads.bam.bai"] == {"index (offset not at a block of its data file)": 3}
    pysam.index(str(delivered))  # its own index passes
    result, found = audit("reads.bam.bai", cwd=tmp_path)
    assert result.returncode == 0 and found["reads.bam.bai"] == {}


def test_an_index_without_its_data_file_is_a_finding(tmp_path: Path) -> None:
    reads = bam(tmp_path / "reads.bam")
    shutil.move(str(reads) + ".bai", tmp_path / "alone.bai")
    result, found = audit("alone.bai", cwd=tmp_path)
    assert result.returncode == 1 and found["alone.bai"] == {"index (no data file beside it)": 1}
    shutil.copy(reads, tmp_path / "alone.bam")  # x.bai names x.bam too
    result, found = audit("alone.bai", cwd=tmp_path)
    assert result.returncode == 0 and found["alone.bai"] == {}


def bai(bins: list[tuple[int, list[tuple[int, int]]]], intervals: list[int]) -> bytes:
    """A one-reference BAI written from the specification's layout (SAMv1, section 5.2)."""
    body = struct.pack("<i", len(bins))
    for number, chunks in bins:
        body += struct.pack("<Ii", number, len(chunks)) + b"".join(struct.pack("<QQ", *chunk) for chunk in chunks)
    body += struct.pack("<i", len(intervals)) + b"".join(struct.pack("<Q", offset) for offset in intervals)
    return b"BAI\x01" + struct.pack("<i", 1) + body


@pytest.mark.parametrize(
    ("bins", "intervals", "found"),
    [  # virtual offsets within the data file's first block (the header's), as htslib's point at its blocks
        ([(4681, [(0, 10)])], [0, 10], {}),
        ([(19900101, [(0, 10)])], [0], {"index (off its layout)": 1}),  # a bin number no scheme has
        ([(4681, [(20, 10)])], [0], {"index (off its layout)": 1}),  # a chunk ending before it begins
        ([(37450, [(0, 10), (50, 0)])], [0], {}),  # the pseudo-bin's counts: numbers a reader prints
        # more records than the data file's bytes can hold: a date where a count is printed
        ([(37450, [(0, 10), (19900101, 0)])], [0], {"index record counts (more records than its data file can hold)": 1}),
        ([(37450, [(0, 10)])], [0], {"index (off its layout)": 1}),  # the pseudo-bin without its counts
    ],
)
def test_numbers_off_the_bai_layout_are_found(
    tmp_path: Path, bins: list[tuple[int, list[tuple[int, int]]]], intervals: list[int], found: dict[str, int]
) -> None:
    reads = bam(tmp_path / "reads.bam", contigs=1)
    Path(str(reads) + ".bai").write_bytes(bai(bins, intervals))
    result, keys = audit("reads.bam.bai", cwd=tmp_path)
    assert keys["reads.bam.bai"] == found and result.returncode == (1 if found else 0)


def test_a_truncated_index_is_an_error(tmp_path: Path) -> None:
    reads = bam(tmp_path / "reads.bam")
    bai = Path(str(reads) + ".bai")
    bai.write_bytes(bai.read_bytes()[:30])
    result = run_command("genoscrub-audit", "-q", "reads.bam.bai", cwd=tmp_path)
    assert result.returncode == 1 and b"Traceback" not in result.stderr
    assert result.stderr.decode().strip().splitlines() == ["genoscrub-audit: reads.bam.bai: truncated index"]


def test_corpus_files_indexed_by_htslib_pass(corpus: Path, tmp_path: Path) -> None:
    """Every corpus VCF that bgzip and tabix take, and every SAM that samtools sorts into a BAM,
    indexed by htslib beside a copy: no index finding (the data files themselves are not audited
    here)."""
    indexed: list[str] = []
    for source in sorted((corpus / "vcf").glob("*.vcf*")):
        target = tmp_path / f"v{len(indexed)}.vcf.gz"
        try:
            text = gzip.decompress(source.read_bytes()) if source.name.endswith(".gz") else source.read_bytes()
            plain = target.with_suffix("")
            plain.write_bytes(text)
            pysam.tabix_index(str(plain), preset="vcf", force=True)
        except (OSError, ValueError, pysam.utils.SamtoolsError):
            continue
        indexed.append(target.name + ".tbi")
    for source in sorted((corpus / "sam").glob("*.sam")):
        target = tmp_path / f"a{len(indexed)}.bam"
        try:
            pysam.sort("-o", str(target), str(source), catch_stdout=False)
            pysam.index(str(target))
        except (OSError, ValueError, pysam.utils.SamtoolsError):
            continue
        indexed.append(target.name + ".bai")
    assert len(indexed) >= 5
    result, found = audit(*indexed, cwd=tmp_path)
    assert result.returncode == 0, (result.stderr.decode(), {name: keys for name, keys in found.items() if keys})


@pytest.mark.parametrize("kind", ["bai", "csi", "tbi"])
def test_listed_numbers_in_the_record_counts_are_found(tmp_path: Path, kind: str) -> None:
    """The counts ``samtools idxstats`` and ``bcftools index -s`` print (a reference's mapped and
    unmapped records in its pseudo-bin, the unplaced reads' ``n_no_coor``) are searched with the
    forbid list as numbers: a listed date of birth there is found; the counts of a real index,
    and a listed number inside a longer count, are not."""
    if kind == "tbi":
        data = vcf(tmp_path / "x.vcf.gz", ["chr1"], positions=50)
        index = Path(str(data) + ".tbi")
    else:
        data = bam(tmp_path / "x.bam", contigs=1)
        index = Path(str(data) + "." + kind)
        pysam.index(*(["-c"] if kind == "csi" else []), str(data), str(index))
    forbid = tmp_path / "forbid.txt"
    forbid.write_text("19900101\n")
    raw = bytearray(gzip.decompress(index.read_bytes()) if kind != "bai" else index.read_bytes())
    counts = raw.rfind(struct.pack("<Q", 50))  # the mapped count of the one reference: 50 records
    assert counts > 0
    for number, found in ((50, False), (119900101, False), (19900101, True)):
        raw[counts : counts + 8] = struct.pack("<Q", number)
        written = bytes(raw) if kind == "bai" else pysam_bgzf(bytes(raw))
        index.write_bytes(written)
        report = tmp_path / "report.json"
        run_command("genoscrub-audit", "-q", "--forbid", str(forbid), "--report", str(report), index.name, cwd=tmp_path)
        forbidden = json.loads(report.read_text())["files"][0]["findings"]["forbidden"].get("by_key", {})
        assert forbidden == ({"index record count (list line 1)": 1} if found else {}), number


def pysam_bgzf(data: bytes) -> bytes:
    """``data`` compressed as htslib writes an index (BGZF), by bgzip."""
    return subprocess.run(["bgzip", "-c"], input=data, capture_output=True, check=True).stdout
