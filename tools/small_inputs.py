"""Small hand-written inputs for every command: the hostile-input tests and the fuzz
harness start from them (tests/test_hardening.py, tools/fuzz_parsers.py)."""

from __future__ import annotations

from pathlib import Path

import pysam

REFERENCE = b">chr1\n" + b"ACGTTGCAAC" * 10 + b"\n"
GERMLINE_VCF = (
    b"##fileformat=VCFv4.2\n##contig=<ID=chr1,length=100>\n"
    b"##INFO=<ID=AF,Number=A,Type=Float,Description=\"AF\">\n"
    b"#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\n"
    b"chr1\t3\t.\tG\tA\t.\tPASS\tAF=0.2\n"
)
SAM = (
    b"@HD\tVN:1.6\tSO:coordinate\n@SQ\tSN:chr1\tLN:100\n@RG\tID:S2301217T.L1\tSM:S2301217T\tPU:MISEQ\n"
    b"@PG\tID:bwa\tCL:bwa mem /home/kimjh/x.fq\n@CO\tpatient\n"
    b"r1\t99\tchr1\t1\t60\t2S6M\t=\t5\t12\tACATTGCA\tIIIIIIII\tRG:Z:S2301217T.L1\tPG:Z:bwa\tMD:Z:6\tNM:i:0\n"
    b"r1\t147\tchr1\t5\t60\t3M1I4M\t=\t1\t-12\tTGCTAACG\tIIIIIIII\tRG:Z:S2301217T.L1\tOQ:Z:IIIIIIII\n"
)
VCF = (
    b"##fileformat=VCFv4.2\n##fileDate=20231029\n##source=caller /home/kimjh\n##contig=<ID=chr1,length=100>\n"
    b"##INFO=<ID=AF,Number=A,Type=Float,Description=\"AF\">\n##FORMAT=<ID=GT,Number=1,Type=String,Description=\"GT\">\n"
    b"#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT\tS2301217N_20231029\n"
    b"chr1\t3\tHOSP_1\tG\tA,T\t50\tPASS\tAF=0.2,0.001\tGT\t0/1\n"
    b"chr1\t9\trs12\tA\tAC\t50\tPASS\tAF=0.3\tGT\t1/1\n"
)


def write_side_files(folder: Path) -> Path:
    """The reference (indexed), germline sites (bgzipped, indexed) and regions the
    genome-checking commands join with, written into ``folder``."""
    (folder / "ref.fa").write_bytes(REFERENCE)
    pysam.faidx(str(folder / "ref.fa"))
    (folder / "germline.vcf").write_bytes(GERMLINE_VCF)
    pysam.tabix_index(str(folder / "germline.vcf"), preset="vcf", force=True)
    (folder / "regions.bed").write_bytes(b"chr1\t6\t10\tSTR_test\n")
    return folder
