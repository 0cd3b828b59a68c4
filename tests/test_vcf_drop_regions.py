"""vcf-drop-regions: records overlapping regions go, all others pass as the same bytes."""

from __future__ import annotations

import gzip
import io
import random
import subprocess
from collections.abc import Iterator
from functools import partial
from pathlib import Path
from typing import Any

import pytest
from genoscrub import audit_findings, audit_vcf, streams
from genoscrub.audit_findings import Findings
from genoscrub.regions import RegionRequest, build_contig_lengths, preset_path, read_bed
from genoscrub.report import InputError, Report
from genoscrub.vcf_drop_regions import drop_regions
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.conftest import run_command

ROOT = Path(__file__).resolve().parents[1]
GRCH38 = build_contig_lengths("GRCh38")


def vcf_text(contigs: dict[str, int], records: list[tuple[str, int, str, str, str]]) -> str:
    """A small VCF: records are (chrom, pos, ref, alt, info)."""
    lines = ["##fileformat=VCFv4.2"]
    lines += [f"##contig=<ID={name},length={length}>" for name, length in contigs.items()]
    lines.append('##INFO=<ID=END,Number=1,Type=Integer,Description="End">')
    lines.append("#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO")
    lines += [f"{chrom}\t{pos}\t.\t{ref}\t{alt}\t.\tPASS\t{info}" for chrom, pos, ref, alt, info in records]
    return "\n".join(lines) + "\n"


def run_in_process(text: str, request: RegionRequest) -> tuple[bytes, Report]:
    report = Report("vcf-drop-regions")
    return b"".join(drop_regions(iter([(1, text.encode())]), request, "-", report)), report


def bcftools_view(*args: str) -> str:
    """The independent check: bcftools' own region matching."""
    return subprocess.run(["bcftools", "view", *args], check=True, capture_output=True, text=True).stdout


def records(output: bytes) -> list[bytes]:
    return [line for line in output.split(b"\n") if line and not line.startswith(b"#")]


def test_ref_span_end_and_flank_decide(tmp_path: Path) -> None:
    bed = tmp_path / "r.bed"
    bed.write_text("chr1\t100\t110\n")  # 1-based 101..110
    text = vcf_text(
        {"chr1": 1000},
        [
            ("chr1", 95, "A", "G", "."),  # outside
            ("chr1", 98, "AAAA", "A", "."),  # REF 98..101 reaches the region
            ("chr1", 105, "C", "T", "."),  # inside
            ("chr1", 111, "C", "T", "."),  # first base after
            ("chr1", 50, "N", "<DEL>", "END=102"),  # symbolic allele spanning into it
            ("chr1", 200, "G", "A", "END=300"),  # END elsewhere
        ],
    )
    output, report = run_in_process(text, RegionRequest(beds=[str(bed)], flank=0))
    assert [line.split(b"\t")[1] for line in records(output)] == [b"95", b"111", b"200"]
    assert report.counts["records_dropped"] == 3
    output, _ = run_in_process(text, RegionRequest(beds=[str(bed)], flank=1))
    assert [line.split(b"\t")[1] for line in records(output)] == [b"95", b"200"]
    assert b"##genoscrub_vcf-drop-regions=" in output


def test_errors_before_the_first_record(tmp_path: Path) -> None:
    bed = tmp_path / "r.bed"
    bed.write_text("chr1\t100\t110\n")
    no_contigs = "##fileformat=VCFv4.2\n#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\nchr1\t1\t.\tA\tG\t.\t.\t.\n"
    with pytest.raises(InputError, match="no ##contig"):
        run_in_process(no_contigs, RegionRequest(beds=[str(bed)]))
    undeclared = vcf_text({"chr1": 1000}, [("chr2", 5, "A", "G", ".")])
    with pytest.raises(InputError, match="does not declare"):
        run_in_process(undeclared, RegionRequest(beds=[str(bed)]))
    other = vcf_text({"chr7": 1000}, [("chr7", 5, "A", "G", ".")])
    with pytest.raises(InputError, match="no contig"):
        run_in_process(other, RegionRequest(beds=[str(bed)]))


@pytest.mark.parametrize("bad", ["chr1\t600\t.\tA\tG\t.\t.", "chr1\t600\t.\tA\tG\t.\t.\t.\tGT"])
def test_a_record_with_another_column_count_is_an_error_anywhere(tmp_path: Path, bad: str) -> None:
    """A stream cut inside a record must not pass as a shorter record, in or out of a region.

    The good lines around it keep the block's tab total right, so only a per-line count catches it.
    """
    bed = tmp_path / "r.bed"
    bed.write_text("chr1\t100\t110\n")
    good = "chr1\t700\t.\tA\tG\t.\t.\t."
    longer = "chr1\t701\t.\tA\tG\t.\t.\t.\tGT"
    shorter = "chr1\t702\t.\tA\tG\t.\t."
    balanced = [good, longer if bad.count("\t") < 7 else shorter]
    text = vcf_text({"chr1": 1000}, []) + "\n".join([good, bad, *balanced]) + "\n"
    with pytest.raises(InputError, match="columns, the header has 8") as caught:
        run_in_process(text, RegionRequest(beds=[str(bed)], flank=0))
    assert caught.value.line == 6


def test_numbers_past_64_bits_are_clamped_or_refused(tmp_path: Path) -> None:
    """Found by tools/fuzz_parsers.py (bed target): a BED end past 2^63 raised OverflowError.

    A BED end, an INFO/END or a flank past any contig reaches to the contig's end;
    a POS past htslib's 63-bit range, signed or with an underscore, is an error naming the line;
    one past 2^31 (a contig longer than 2 Gb, which htslib reads in VCF text) is a position.
    """
    huge = 10**22
    bed = tmp_path / "r.bed"
    bed.write_text(f"chr1\t100\t{huge}\n")
    text = vcf_text({"chr1": 1000}, [("chr1", 50, "A", "G", "."), ("chr1", 900, "A", "G", ".")])
    output, _ = run_in_process(text, RegionRequest(beds=[str(bed)], flank=0))
    assert [line.split(b"\t")[1] for line in records(output)] == [b"50"]
    bed.write_text("chr1\t100\t110\n")
    output, _ = run_in_process(text, RegionRequest(beds=[str(bed)], flank=huge))
    assert records(output) == []
    spanning = vcf_text({"chr1": 1000}, [("chr1", 20, "N", "<DEL>", f"END={huge}")])
    output, _ = run_in_process(spanning, RegionRequest(beds=[str(bed)], flank=0))
    assert records(output) == []
    for position in (huge, 2**63, -3, "1_0", "+5"):
        beyond = vcf_text({"chr1": 1000}, [("chr1", 50, "A", "G", "."), ("chr1", position, "A", "G", ".")])  # type: ignore[list-item]
        with pytest.raises(InputError, match="POS is not an integer from 0 to 9223372036854775807") as caught:
            run_in_process(beyond, RegionRequest(beds=[str(bed)], flank=0))
        assert caught.value.line == 6


def test_a_nul_byte_in_a_record_is_an_error_naming_it(tmp_path: Path) -> None:
    """CHROM is gathered as a NUL-padded string, so ``chr1\\0`` would have read as chr1: it is no declared contig."""
    bed = tmp_path / "r.bed"
    bed.write_text("chr1\t100\t110\n")
    text = vcf_text({"chr1": 1000}, [("chr1", 50, "A", "G", "."), ("chr1\0", 900, "A", "G", ".")])
    with pytest.raises(InputError, match="does not declare") as caught:
        run_in_process(text, RegionRequest(beds=[str(bed)], flank=0))
    assert caught.value.line == 6


ALT_KINDS = ["snv", "mnp", "insertion", "deletion", "two alleles", "<DEL>", "<INS>", "<DUP:TANDEM>", "<INV>", "*"]


def variant_alleles(kind: str, ref_length: int, size: int) -> tuple[str, str, str]:
    """REF, ALT and INFO of a record of ``kind``: ``size`` is an indel's or an SV's length."""
    ref = "A" * ref_length
    return {
        "snv": (ref[:1], "G", "."),
        "mnp": (ref, "G" * ref_length, "."),
        "insertion": (ref[:1], "A" + "CT" * size, "."),
        "deletion": (ref, "A", "."),
        "two alleles": (ref, "G,A" + "T" * size, "."),
        "<DEL>": (ref[:1], "<DEL>", f"SVLEN=-{size}"),
        "<INS>": (ref[:1], "<INS>", f"SVLEN={size}"),
        "<DUP:TANDEM>": (ref[:1], "<DUP:TANDEM>", f"SVLEN={size}"),
        "<INV>": (ref[:1], "<INV>", f"SVLEN={size}"),
        "*": (ref, "*", "."),
    }[kind]


def touches_a_region(pos: int, ref: str, alt: str, info: str, regions: list[tuple[int, int]]) -> bool:
    """The rule as the man page states it, written out for the test: the REF span (or END's, or
    SVLEN's for a symbolic allele but an insertion); an allele that changes the length by L
    (bases L longer or shorter than REF; <DEL>/<INS>/<DUP>/<CNV> by SVLEN) widens it by L on each
    side, and then a region it only meets counts too."""
    start, end = pos - 1, pos - 1 + len(ref)
    values = dict(item.split("=") for item in info.split(";") if "=" in item)
    svlen = abs(int(values["SVLEN"])) if "SVLEN" in values else None
    if "END" in values:
        end = max(end, int(values["END"]))
    if svlen is not None and alt.startswith("<") and not alt.startswith("<INS"):
        end = max(end, pos + svlen)
    change = 0
    for allele in alt.split(","):
        if allele.isalpha():
            change = max(change, abs(len(allele) - len(ref)))
        elif allele.startswith(("<DEL", "<INS", "<DUP", "<CNV")):
            change = max(change, svlen or 1)
    if change:
        return any(start - change <= high and end + change >= low for low, high in regions)
    return any(start < high and end > low for low, high in regions)


def kept_with_their_traces(rows: list[tuple[str, int, str, str, str]], kept: list[bool]) -> list[bool]:
    """The man page's rules for what a dropped record leaves, written out for the tests: every
    record of a CHROM and POS where one goes; a ``*`` record that no kept deletion (an ALT of bases
    shorter than REF) at a smaller POS of its contig spans, with its site."""
    kept = list(kept)
    dropped_sites = {(chrom, pos) for (chrom, pos, *_), keep in zip(rows, kept, strict=True) if not keep}
    kept = [keep and (chrom, pos) not in dropped_sites for (chrom, pos, *_), keep in zip(rows, kept, strict=True)]
    for index, (chrom, pos, _, alt, _) in enumerate(rows):
        if "*" not in alt.split(",") or not kept[index]:
            continue
        spanned = any(
            kept[other] and other_chrom == chrom and other_pos < pos <= other_pos + len(other_ref) - 1
            and any(allele.isalpha() and len(allele) < len(other_ref) for allele in other_alt.split(","))
            for other, (other_chrom, other_pos, other_ref, other_alt, _) in enumerate(rows[:index])
        )
        if not spanned:
            kept = [keep and (row[0], row[1]) != (chrom, pos) for keep, row in zip(kept, rows, strict=True)]
    return kept


@settings(max_examples=80, deadline=None)
@given(
    regions=st.lists(st.tuples(st.sampled_from(["chr1", "chr2"]), st.integers(0, 500), st.integers(1, 30)), min_size=1, max_size=6),
    variants=st.lists(
        st.tuples(
            st.sampled_from(["chr1", "chr2", "chr3"]), st.integers(1, 520), st.integers(1, 8), st.sampled_from(ALT_KINDS),
            st.integers(1, 12),
        ),
        min_size=1,
        max_size=40,
    ),
    beside_edges=st.lists(st.tuples(st.integers(0, 5), st.booleans(), st.integers(-30, 30)), max_size=20),
    flank=st.integers(0, 10),
    end_tag=st.booleans(),
)
def test_kept_records_are_exactly_the_non_touching_ones(
    tmp_path_factory: pytest.TempPathFactory,
    regions: list[tuple[str, int, int]],
    variants: list[tuple[str, int, int, str, int]],
    beside_edges: list[tuple[int, bool, int]],
    flank: int,
    end_tag: bool,
) -> None:
    """Property, on blocks with several contigs, SNVs, MNPs, indels and symbolic alleles (with
    SVLEN), with and without INFO/END (the readers of a line and of a block), the block path and
    every record alone (``GENOSCRUB_ONE_BY_ONE=1``): a record is kept exactly when its span,
    widened by an allele's length change, does not touch a region widened by the flank.
    ``beside_edges`` puts records a few bases before or after a region's edges, where the
    widening decides. A record beside a dropped one at its CHROM and POS goes with it, and a ``*``
    record no kept deletion spans goes (``kept_with_their_traces``)."""
    for index, (which, at_end, offset) in enumerate(beside_edges):
        chrom, start, size = regions[which % len(regions)]
        _, _, ref_length, kind, length = variants[index % len(variants)]
        edge = start + size + flank if at_end else max(0, start - flank)
        variants.append((chrom, max(1, edge + offset), ref_length, kind, length))
    variants.sort(key=lambda variant: (variant[0], variant[1]))
    bed = tmp_path_factory.mktemp("bed") / "r.bed"
    bed.write_text("".join(f"{chrom}\t{start}\t{start + length}\n" for chrom, start, length in regions))
    rows = []
    for chrom, pos, ref_length, kind, size in variants:
        ref, alt, info = variant_alleles(kind, ref_length, size)
        if end_tag:
            info = "END=1" if info == "." else f"{info};END=1"
        rows.append((chrom, pos, ref, alt, info))
    text = vcf_text({"chr1": 1000, "chr2": 1000, "chr3": 1000}, rows)
    kept = [
        not touches_a_region(
            pos, ref, alt, info, [(max(0, start - flank), start + size + flank) for region, start, size in regions if region == chrom]
        )
        for chrom, pos, ref, alt, info in rows
    ]
    kept = kept_with_their_traces(rows, kept)
    expected = [line.encode() for line, keep in zip(text.splitlines()[6:], kept, strict=True) if keep]
    for one_by_one in ("0", "1"):
        with pytest.MonkeyPatch.context() as monkeypatch:
            monkeypatch.setenv("GENOSCRUB_ONE_BY_ONE", one_by_one)
            output, _ = run_in_process(text, RegionRequest(beds=[str(bed)], flank=flank))
        assert records(output) == expected


def test_a_left_aligned_insertion_before_a_repeat_is_dropped_and_the_audit_finds_it(tmp_path: Path) -> None:
    """The red team's case: ``bcftools norm`` left-aligns an insertion of CTTT units into a repeat
    at 14201-14232 to the base before it (``chr1 14199 A ATCTTTCTTTCTT``). With ``--flank 0`` its
    REF span is outside the region, but the insertion of 12 bases, widened by 12, reaches into it:
    the record goes, and the audit, which judges records the same way by its own code, finds it in
    the input and not in the output. A deletion of one unit after the repeat's end goes too; an
    SNV next to the repeat stays, but not the one at the insertion's POS, which goes with its site."""
    bed = tmp_path / "str.bed"
    bed.write_text("chr1\t14200\t14232\tSTR_CTTTx8\n")
    rows = [
        ("chr1", 14190, "G", "A", "."),  # an SNV ten bases before the repeat: kept
        ("chr1", 14199, "A", "ATCTTTCTTTCTT", "."),
        ("chr1", 14199, "A", "C", "."),  # an SNV on the base before it: goes with its site
        ("chr1", 14233, "TCTTT", "T", "."),  # a unit deleted after the repeat's last base
        ("chr1", 14250, "A", "AT", "."),  # an insertion far after it: kept
    ]
    source = tmp_path / "in.vcf"
    source.write_text(vcf_text({"chr1": 20000}, rows))
    out = tmp_path / "out.vcf"
    result = run_command("vcf-drop-regions", "-q", "--flank", "0", "--bed", str(bed), "-o", str(out), str(source))
    assert result.returncode == 0, result.stderr
    assert [line.split(b"\t")[1] for line in records(out.read_bytes())] == [b"14190", b"14250"]
    audit = run_command("genoscrub-audit", "--bed", str(bed), str(source))
    assert audit.returncode == 1 and b"regions: 2: chr1:14201-14232 STR_CTTTx8 2 (chr1:14199, chr1:14233)" in audit.stdout
    audit = run_command("genoscrub-audit", "--bed", str(bed), str(out))
    assert b"regions: 0" in audit.stdout, audit.stdout


# --- end to end, with bcftools as the independent check ------------------------


SIMULATION = {"pairs": 300}


def test_simulated_germline_calls_in_repeats_dropped(simulated: Path, tmp_path: Path) -> None:
    out = tmp_path / "out.vcf"
    result = run_command("vcf-drop-regions", "--bed", str(simulated / "repeats.bed"), "-o", str(out), str(simulated / "germline.vcf.gz"))
    assert result.returncode == 0, result.stderr
    assert "records dropped" in result.stderr.decode()
    kept = bcftools_view("-H", "-T", str(simulated / "repeats.bed"), str(out))
    assert kept == ""
    widened = tmp_path / "widened.bed"
    widened.write_text(
        "".join(f"{c}\t{max(0, s - 100)}\t{e + 100}\n" for c, found in read_bed(str(simulated / "repeats.bed")).items() for s, e in found)
    )
    assert bcftools_view("-H", "-T", str(widened), str(out)) == ""
    # every record outside the regions is still there, byte for byte
    original = [
        line for line in gzip.decompress((simulated / "germline.vcf.gz").read_bytes()).split(b"\n") if line and not line.startswith(b"#")
    ]
    written = records(out.read_bytes())
    assert set(written) <= set(original)
    dropped_by_bcftools = bcftools_view("-H", "-T", str(widened), str(simulated / "germline.vcf.gz")).count("\n")
    assert len(original) - len(written) >= dropped_by_bcftools > 0


def test_codis_preset_on_a_grch38_vcf(tmp_path: Path) -> None:
    """No record inside a CODIS locus survives; bcftools -T on the output finds nothing."""
    rng = random.Random(7)
    loci = read_bed(str(preset_path("codis-str", "GRCh38")))
    rows = []
    for contig, found in sorted(loci.items()):
        for start, end in found:
            rows.append((contig, rng.randint(start + 1, end), "A", "G", "."))
            rows.append((contig, start - 5000, "C", "T", "."))  # far from the locus: kept
    rows.sort(key=lambda row: (row[0], row[1]))
    contigs = {name.removeprefix("chr"): GRCH38[name] for name in sorted(loci)}
    text = vcf_text(contigs, [(chrom.removeprefix("chr"), pos, ref, alt, info) for chrom, pos, ref, alt, info in rows])
    source = tmp_path / "in.vcf"
    source.write_text(text)
    result = run_command("vcf-drop-regions", "--preset", "codis-str", "--report", str(tmp_path / "r.json"), str(source))
    assert result.returncode == 0, result.stderr
    out = tmp_path / "out.vcf"
    out.write_bytes(result.stdout)
    bed_no_chr = tmp_path / "codis.bed"
    bed_no_chr.write_text(
        "".join(line.removeprefix("chr") + "\n" for line in preset_path("codis-str", "GRCh38").read_text().splitlines()[1:])
    )
    assert bcftools_view("-H", "-T", str(bed_no_chr), str(out)) == ""
    assert len(records(result.stdout)) == 20
    report = (tmp_path / "r.json").read_text()
    assert '"build": "GRCh38"' in report and '"records_dropped": 20' in report
    assert "S2301217N" not in report


def test_wrong_build_stops_before_writing(tmp_path: Path) -> None:
    source = tmp_path / "in.vcf"
    source.write_text(vcf_text({"chr13": 115169878}, [("chr13", 82722200, "A", "G", ".")]))
    result = run_command("vcf-drop-regions", "--preset", "codis-str", "--build", "GRCh38", str(source))
    assert result.returncode == 1
    assert result.stdout == b""
    assert b"another genome build" in result.stderr
    assert run_command("vcf-drop-regions", str(source)).returncode == 2


def test_blocks_are_streamed_not_collected(tmp_path: Path) -> None:
    """Memory stays flat: the first records are written before later blocks are read."""
    bed = tmp_path / "r.bed"
    bed.write_text("chr1\t100\t110\n")
    header = vcf_text({"chr1": 1000}, []).encode()
    read: list[int] = []

    def blocks() -> Iterator[tuple[int, bytes]]:
        yield 1, header
        for number in range(1000):
            read.append(number)
            yield 6 + number, b"chr1\t%d\t.\tA\tG\t.\t.\t.\n" % (number % 300 + 600)

    chunks = drop_regions(blocks(), RegionRequest(beds=[str(bed)]), "-", Report("vcf-drop-regions"))
    next(chunks)
    next(chunks)
    assert len(read) < 5


def test_a_record_in_a_region_leaves_no_trace_in_the_kept_ones(tmp_path: Path) -> None:
    """The red team's F3, F5 and F6 through vcf-drop-regions: a phased het in a region named by the
    PS of a kept record (renamed to the set's first kept record), a split site with one record in the
    region's reach (the whole site goes), and a `*` under a deletion that reaches a region (it goes
    with it). The same bytes on the one-record path and in blocks of a few lines. A non-carrier's
    file (the same kept record, phased first) comes out equal at the kept sites."""
    from genoscrub import vcf_drop_regions

    bed = tmp_path / "r.bed"
    bed.write_text("chr1\t995\t1003\tSTR_x\nchr1\t3000\t3010\tSTR_y\n")
    header = vcf_text({"chr1": 20000}, []).replace(
        "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO",
        '##FORMAT=<ID=GT,Number=1,Type=String,Description="Genotype">\n'
        '##FORMAT=<ID=PS,Number=1,Type=Integer,Description="Phase set">\n'
        "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT\tS1",
    )
    carrier = [
        "chr1\t1000\t.\tA\tG\t50\tPASS\t.\tGT:PS\t0|1:1000",
        "chr1\t1010\t.\tA\tG\t50\tPASS\t.\tGT:PS\t0|1:1000",
        "chr1\t1020\t.\tA\tG\t50\tPASS\t.\tGT:PS\t1|0:1000",
        "chr1\t2990\t.\tA\tACCCCCCCCCCCC\t50\tPASS\t.\tGT\t0/1",
        "chr1\t2990\t.\tA\tG\t50\tPASS\t.\tGT\t0/1",
        "chr1\t2995\t.\tAAAAAAA\tA\t50\tPASS\t.\tGT\t0/1",
        "chr1\t3000\t.\tA\tG,*\t50\tPASS\t.\tGT\t1/2",
        "chr1\t5000\t.\tA\tG\t50\tPASS\t.\tGT\t0/1",
    ]
    non_carrier = ["chr1\t1010\t.\tA\tG\t50\tPASS\t.\tGT:PS\t0|1:1010", "chr1\t1020\t.\tA\tG\t50\tPASS\t.\tGT:PS\t1|0:1010", carrier[-1]]
    outputs = []
    for records_ in (carrier, non_carrier):
        text = header + "".join(record + "\n" for record in records_)
        for switch, size in (("0", 1 << 22), ("1", 1 << 22), ("0", 60), ("1", 130)):
            with pytest.MonkeyPatch.context() as monkeypatch:
                monkeypatch.setenv("GENOSCRUB_ONE_BY_ONE", switch)
                data = text.encode()
                blocks = [(1, data)] if size > len(data) else list(line_blocks(data, size))
                report = Report("vcf-drop-regions")
                output = b"".join(vcf_drop_regions.drop_regions(iter(blocks), RegionRequest(beds=[str(bed)], flank=0), "-", report))
            outputs.append((records(output), dict(report.counts)))
    assert outputs[1:4] == outputs[:1] * 3 and outputs[5:] == outputs[4:5] * 3
    kept, counts = outputs[0]
    assert [line.split(b"\t")[1] + b" " + line.split(b"\t")[-1] for line in kept] == [b"1010 0|1:1010", b"1020 1|0:1010", b"5000 0/1"]
    assert counts["records_dropped_with_their_site"] == 1 and counts["dropped_spanning_deletion_gone"] == 1
    assert counts["rewritten_phase_sets"] == 2 and counts["records_out"] == 3
    assert kept == outputs[4][0]


NAMED_PLACE_KINDS = ("alt", "alt-left", "chr2-pos2", "chr2-end", "end2", "matepos", "matepos-pos", "assembly")


def named_place(kind: str, contig: str, place: int) -> tuple[str, str]:
    """ALT and INFO of a record naming ``contig:place`` by ``kind``."""
    return {
        "alt": (f"G[{contig}:{place}[", "."),
        "alt-left": (f"]{contig}:{place}]G", "."),
        "chr2-pos2": ("<TRA>", f"CHR2={contig};POS2={place}"),
        "chr2-end": ("<TRA>", f"CHR2={contig};END={place}"),
        "end2": ("<TRA>", f"END2={place}"),  # on the record's own contig
        "matepos": ("<BND>", f"MATEPOS={contig}:{place}"),
        "matepos-pos": ("<BND>", f"MATEPOS={place}"),
        "assembly": (f"G[<ctg1>:{place}[", "."),
    }[kind]


def audited_regions(text: bytes, bed: Path, block_size: int) -> dict[str, Any]:
    """The audit's region findings of a VCF, every position of each key kept, read in blocks of about ``block_size``."""
    findings = Findings()
    checks = audit_vcf.VcfChecks("x.vcf", None, frozenset(), None, audit_vcf.RegionRequest([str(bed)], [], "auto", 0))
    with pytest.MonkeyPatch.context() as monkeypatch:
        monkeypatch.setattr(audit_findings, "EXAMPLES_PER_KEY", 1 << 20)
        monkeypatch.setattr(audit_vcf, "line_blocks", partial(streams.line_blocks, size=block_size))
        audit_vcf.VcfAudit(checks, findings).run(io.BytesIO(text))
    return {"counts": dict(findings.regions.counts), "examples": findings.regions.examples}


@settings(max_examples=60, deadline=None)
@given(
    regions=st.tuples(st.integers(4000, 4100), st.integers(1, 20), st.integers(4000, 4100), st.integers(1, 20)),
    named=st.lists(
        st.tuples(st.sampled_from(NAMED_PLACE_KINDS), st.sampled_from(["chr1", "chr2"]), st.integers(3990, 4130)), min_size=1, max_size=30
    ),
    declared=st.sets(st.sampled_from(["CHR2", "POS2", "END2", "MATEPOS"])),
    block_size=st.sampled_from([100, 400, 1 << 22]),
)
def test_the_audit_finds_exactly_the_records_naming_a_place_vcf_drop_regions_drops(
    tmp_path_factory: pytest.TempPathFactory,
    regions: tuple[int, int, int, int],
    named: list[tuple[str, str, int]],
    declared: set[str],
    block_size: int,
) -> None:
    """Property, on records naming places near a region by every form (ALT, CHR2 with POS2 or END,
    END2, MATEPOS as ``chr:pos`` or a POS, an assembly contig), each key declared or not: the audit's
    region findings of the input are the records vcf-drop-regions drops, located at each record, the
    same in blocks of a few lines and record by record; its output has none."""
    bed = tmp_path_factory.mktemp("bed") / "r.bed"
    first, first_size, second, second_size = regions
    bed.write_text(f"chr1\t{first}\t{first + first_size}\tA\nchr2\t{second}\t{second + second_size}\tB\n")
    rows = [("chr1", 100 * (index + 1), "G", *named_place(kind, contig, place)) for index, (kind, contig, place) in enumerate(named)]
    declarations = "".join(f'##INFO=<ID={key},Number=1,Type=String,Description="Mate">\n' for key in sorted(declared))
    text = vcf_text({"chr1": 20000, "chr2": 20000}, rows).replace("#CHROM", declarations + "#CHROM").encode()
    report = Report("vcf-drop-regions")
    output = b"".join(drop_regions(iter([(1, text)]), RegionRequest(beds=[str(bed)], flank=0), "-", report))
    kept = {b"chr1:" + line.split(b"\t")[1] for line in records(output)}
    dropped = {f"chr1:{row[1]}" for row in rows} - {place.decode() for place in kept}
    found = audited_regions(text, bed, block_size)
    assert {where for wheres in found["examples"].values() for where in wheres} == dropped
    with pytest.MonkeyPatch.context() as monkeypatch:
        monkeypatch.setenv("GENOSCRUB_ONE_BY_ONE", "1")
        assert audited_regions(text, bed, block_size) == found
    assert audited_regions(output, bed, block_size)["counts"] == {}


def line_blocks(data: bytes, size: int) -> list[tuple[int, bytes]]:
    """``data`` (whole lines) in blocks of about ``size`` bytes, each with its first line's number."""
    blocks, line, start = [], 1, 0
    while start < len(data):
        end = data.find(b"\n", start + size)
        end = len(data) if end < 0 else end + 1
        blocks.append((line, data[start:end]))
        line += data.count(b"\n", start, end)
        start = end
    return blocks


def test_a_breakend_whose_mate_lies_in_a_region_goes(tmp_path: Path) -> None:
    """A paired breakend names its mate's place in ALT, an SV written as one record its other end in
    INFO (CHR2 with POS2, END2 or END; MATEPOS): a kept record naming a place in a region showed a
    breakpoint there. Such a record goes when that place is in a region, by the rule of its own POS
    (the place's base overlapping it), counted apart; a mate before or after it in the file, on its
    contig or another, the same bytes on the one-record path and in blocks of a few lines. INFO keys
    are read where the header defines them (vcf-scrub-header removes the others). The audit finds
    each such record in the input (a region finding at the record) and none in the output."""
    bed = tmp_path / "r.bed"
    bed.write_text("chr2\t4999\t5010\n")  # 1-based 5000..5010
    rows = [
        ("chr1", 1000, "G", "G[chr2:5000[", "."),  # mate later, another contig, at the region's first base
        ("chr1", 1100, "G", "G[chr2:4999[", "."),  # the base before it
        ("chr1", 1200, "G", "]chr2:5010]G", "."),  # its last base
        ("chr1", 1300, "G", "<TRA>", "CHR2=chr2;POS2=5005"),
        ("chr1", 1400, "G", "<TRA>", "CHR2=chr2;END=5005"),
        ("chr1", 1500, "G", "<DUP>", "END2=5005"),  # END2 without CHR2: its own contig, no region
        ("chr1", 1600, "G", "<BND>", "MATEPOS=chr2:5001"),
        ("chr1", 1700, "G", "G[<ctg1>:5000[", "."),  # an assembly contig: no region there
        ("chr1", 1800, "G", "G.", "."),  # a single breakend names no place
        ("chr2", 100, "T", "T[chr2:5003[", "MATEID=b2"),  # mate later, same contig
        ("chr2", 5003, "T", "]chr2:100]T", "MATEID=b1"),  # in the region itself
        ("chr2", 6000, "T", "T]chr2:5011]", "."),  # past its end
    ]
    keys = ("CHR2", "POS2", "END2", "MATEPOS", "MATEID")
    declared = "".join(f'##INFO=<ID={key},Number=1,Type=String,Description="Mate">\n' for key in keys)
    text = vcf_text({"chr1": 20000, "chr2": 20000}, rows).replace("#CHROM", declared + "#CHROM")
    outputs = []
    for switch, size in (("0", 1 << 22), ("1", 1 << 22), ("0", 70), ("1", 150)):
        with pytest.MonkeyPatch.context() as monkeypatch:
            monkeypatch.setenv("GENOSCRUB_ONE_BY_ONE", switch)
            data = text.encode()
            blocks = [(1, data)] if size > len(data) else list(line_blocks(data, size))
            report = Report("vcf-drop-regions")
            output = b"".join(drop_regions(iter(blocks), RegionRequest(beds=[str(bed)], flank=0), "-", report))
        outputs.append((records(output), dict(report.counts)))
    assert outputs[1:] == outputs[:1] * 3
    kept, counts = outputs[0]
    assert [b" ".join(line.split(b"\t")[:2]) for line in kept] == [
        b"chr1 1100", b"chr1 1500", b"chr1 1700", b"chr1 1800", b"chr2 6000"
    ]
    assert counts["records_mate_in_region"] == 6 and counts["records_dropped"] == 7
    undeclared, report = run_in_process(vcf_text({"chr1": 20000, "chr2": 20000}, rows), RegionRequest(beds=[str(bed)], flank=0))
    assert report.counts["records_mate_in_region"] == 3  # the ALT places only
    source, out = tmp_path / "in.vcf", tmp_path / "out.vcf"  # the audit reads the named places by its own code
    source.write_text(text)
    result = run_command("vcf-drop-regions", "-q", "--flank", "0", "--bed", str(bed), "-o", str(out), str(source))
    assert result.returncode == 0, result.stderr
    for path, found in ((source, b"regions: 7: chr2:5000-5010 7 (chr1:1000, chr1:1200, chr1:1300)"), (out, b"regions: 0\n")):
        audit = run_command("genoscrub-audit", "--bed", str(bed), str(path))
        assert found in audit.stdout, audit.stdout


@pytest.mark.parametrize(("header", "named"), [("chr13", "13"), ("13", "chr13"), ("chrM", "MT"), ("MT", "chrM")])
def test_a_place_named_in_another_spelling_of_a_contig_is_read_as_that_contig(tmp_path: Path, header: str, named: str) -> None:
    """CHR2 and MATEPOS are free text no column check holds to the header (an ALT mate's contig
    is): ``CHR2=13`` in a ``chr13`` file names chr13's place all the same, and the record goes
    when it lies in a region there, as the audit reads it (a kept one failed the gate)."""
    bed = tmp_path / "r.bed"
    bed.write_text(f"{header}\t9999\t10010\n")
    rows = [
        ("chr1", 1000, "G", "<TRA>", f"CHR2={named};POS2=10005"),
        ("chr1", 1100, "G", "<BND>", f"MATEPOS={named}:10001"),
        ("chr1", 1200, "G", "<TRA>", f"CHR2={named};POS2=9000"),  # before the region: kept
        ("chr1", 1300, "G", "<TRA>", "CHR2=chr7;POS2=10005"),  # a contig the header lacks: no region there
    ]
    declared = "".join(f'##INFO=<ID={key},Number=1,Type=String,Description="Mate">\n' for key in ("CHR2", "POS2", "MATEPOS"))
    text = vcf_text({"chr1": 20000, header: 20000}, rows).replace("#CHROM", declared + "#CHROM")
    output, report = run_in_process(text, RegionRequest(beds=[str(bed)], flank=0))
    assert [b" ".join(line.split(b"\t")[:2]) for line in records(output)] == [b"chr1 1200", b"chr1 1300"]
    assert report.counts["records_mate_in_region"] == 2
    source, out = tmp_path / "in.vcf", tmp_path / "out.vcf"
    source.write_text(text)
    assert run_command("vcf-drop-regions", "-q", "--flank", "0", "--bed", str(bed), "-o", str(out), str(source)).returncode == 0
    audit = run_command("genoscrub-audit", "--bed", str(bed), str(out))
    assert b"regions: 0\n" in audit.stdout, audit.stdout


@pytest.mark.parametrize(
    "info",
    [
        "CHR2=chr2;POS2=100;POS2=5005",
        "CHR2=chr2;POS2=5005;POS2=100",
        "MATEPOS=chr2:100;MATEPOS=chr2:5001",
        "CHR2=chr1;CHR2=chr2;POS2=5005",
        "CHR2=chr2;CHR2=chr1;POS2=5005",
        "CHR2=chr2;END=100;END=5005",
    ],
)
def test_every_copy_of_a_mate_key_is_read(tmp_path: Path, info: str) -> None:
    """A mate key written twice (malformed; htslib reads the first copy, GATK the last): every copy
    names a place, on every CHR2 given, so the order of the copies never decides. Only the first
    was read: ``POS2=100;POS2=5005`` was kept with chr2:5005 in a region, the other order dropped."""
    bed = tmp_path / "r.bed"
    bed.write_text("chr2\t4999\t5010\n")
    declared = "".join(f'##INFO=<ID={key},Number=1,Type=String,Description="Mate">\n' for key in ("CHR2", "POS2", "MATEPOS"))
    text = vcf_text({"chr1": 20000, "chr2": 20000}, [("chr1", 1000, "G", "<TRA>", info)]).replace("#CHROM", declared + "#CHROM")
    output, report = run_in_process(text, RegionRequest(beds=[str(bed)], flank=0))
    assert records(output) == [] and report.counts["records_mate_in_region"] == 1
