"""vcf-drop-rare --germline-windows against sam-revert-germline -v: a somatic call the reverter
turns back into the reference in the reads is not kept in the VCF beside them.

Metamorphic: the same somatic alleles, once as VCF records and once as reads that carry them,
through the two commands with the same germline VCF and reference; every allele the reads lose
is a record the VCF loses (exactly for SNVs; an indel may be dropped a little more widely)."""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any

import numpy as np
import pysam
import pytest
from genoscrub import audit_windows
from genoscrub.audit_sites import Reference, read_variants
from genoscrub.audit_vcf import GermlineAlleles
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import run_command

LENGTH = 3000
READ = 100
GERMLINE = {1000: "snv", 1500: "deletion", 2000: "insertion", 2500: "breakend mate"}
"""Germline sites by POS; the breakend's record is at ``MATE_RECORD``, naming 2500 as its mate's
place (the mate's record missing, as in a one-record breakend): the calls around 2500 are judged."""
MATE_RECORD = 2850
AROUND = 45


@pytest.fixture(scope="module")
def genome(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    folder = tmp_path_factory.mktemp("windows")
    rng = random.Random(47)
    bases = "".join(rng.choice("ACGT") for _ in range(LENGTH))
    (folder / "ref.fa").write_text(f">chr1\n{bases}\n")
    pysam.faidx(str(folder / "ref.fa"))
    records = []
    for position, kind in GERMLINE.items():
        ref = bases[position - 1]
        if kind == "snv":
            records.append(f"chr1\t{position}\t.\t{ref}\t{'C' if ref != 'C' else 'A'}\t50\tPASS\t.")
        elif kind == "deletion":
            records.append(f"chr1\t{position}\t.\t{bases[position - 1 : position + 4]}\t{ref}\t50\tPASS\t.")
        elif kind == "insertion":
            records.append(f"chr1\t{position}\t.\t{ref}\t{ref}GTTCA\t50\tPASS\t.")
        else:
            anchor = bases[MATE_RECORD - 1]
            records.append(f"chr1\t{MATE_RECORD}\t.\t{anchor}\t{anchor}[chr1:{position}[\t50\tPASS\tSVTYPE=BND")
    header = f"##fileformat=VCFv4.2\n##contig=<ID=chr1,length={LENGTH}>\n#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\n"
    (folder / "germline.vcf").write_text(header + "\n".join(sorted(records, key=lambda record: int(record.split("\t")[1]))) + "\n")
    return folder, bases


def somatic_alleles(bases: str) -> list[tuple[int, str, str]]:
    """(POS, REF, ALT): an SNV at every base around each germline site, and a 1-base deletion at every other one."""
    alleles = []
    for site in GERMLINE:
        for position in range(site - AROUND, site + AROUND + 1):
            ref = bases[position - 1]
            alt = next(base for base in "TGAC" if base != ref and base != "C")
            alleles.append((position, ref, alt))
            if position % 2:
                alleles.append((position, bases[position - 1 : position + 1], ref))
    return alleles


def reverted_by_reads(folder: Path, bases: str, alleles: list[tuple[int, str, str]]) -> set[tuple[int, str, str]]:
    """The alleles sam-revert-germline -v turns back into the reference in a read that carries it."""
    lines = []
    for number, (position, ref, alt) in enumerate(alleles):
        start = position - READ // 2
        if len(ref) == 1:
            sequence = bases[start - 1 : position - 1] + alt + bases[position : start - 1 + READ]
            cigar = f"{READ}M"
        else:
            before = position - start + 1
            sequence = bases[start - 1 : position] + bases[position + 1 : start + READ]
            cigar = f"{before}M1D{READ - before}M"
        lines.append((start, f"a{number}\t0\tchr1\t{start}\t60\t{cigar}\t*\t0\t0\t{sequence}\t{'F' * READ}"))
    header = f"@HD\tVN:1.6\tSO:coordinate\n@SQ\tSN:chr1\tLN:{LENGTH}\n"
    text = header + "".join(f"{line}\n" for _, line in sorted(lines))
    result = run_command("sam-revert-germline", "-q", "-r", "ref.fa", "-v", "germline.vcf", input=text.encode(), cwd=folder)
    assert result.returncode == 0, result.stderr.decode()
    reverted = set()
    for line in result.stdout.decode().splitlines():
        if line.startswith("@"):
            continue
        fields = line.split("\t")
        position, ref, alt = alleles[int(fields[0][1:])]
        start = int(fields[3])
        if len(ref) == 1:
            if fields[5] == f"{READ}M" and fields[9][position - start] == ref:
                reverted.add((position, ref, alt))
        elif "D" not in fields[5]:
            reverted.add((position, ref, alt))
    return reverted


def dropped_from_vcf(folder: Path, alleles: list[tuple[int, str, str]], contig: str = "chr1") -> set[tuple[int, str, str]]:
    """The alleles vcf-drop-rare --germline-windows drops from a somatic VCF of common records
    (written on ``contig``: ``1`` for the germline VCF's and the reference's ``chr1``)."""
    header = (
        f"##fileformat=VCFv4.2\n##contig=<ID={contig},length={LENGTH}>\n"
        '##INFO=<ID=AF,Number=A,Type=Float,Description="f">\n#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\n'
    )
    records = "".join(f"{contig}\t{position}\t.\t{ref}\t{alt}\t50\tPASS\tAF=0.5\n" for position, ref, alt in sorted(alleles))
    result = run_command(
        "vcf-drop-rare", "-q", "--af-key", "AF", "--germline", "germline.vcf", "-r", "ref.fa", "--germline-windows",
        input=(header + records).encode(), cwd=folder,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr.decode()
    records_out = [line.split("\t") for line in result.stdout.decode().splitlines() if line[:1] != "#"]
    kept = {(int(fields[1]), fields[3], fields[4]) for fields in records_out}
    return set(alleles) - kept


def test_a_somatic_allele_the_reads_lose_is_not_kept_in_the_vcf(genome: tuple[Path, str]) -> None:
    folder, bases = genome
    alleles = somatic_alleles(bases)
    reverted = reverted_by_reads(folder, bases, alleles)
    snvs = {allele for allele in alleles if len(allele[1]) == 1}
    # apart: records at one POS are judged, and dropped, as one site
    dropped = dropped_from_vcf(folder, sorted(snvs)) | dropped_from_vcf(folder, sorted(set(alleles) - snvs))
    assert reverted & snvs == dropped & snvs  # SNVs: the same windows, the same answer
    assert reverted <= dropped  # indels: never kept where the reads lose them
    assert 0 < len(dropped & snvs) < len(snvs)  # the windows are narrow: most calls around a site stay
    # a breakend's mate's place is windowed 51 bases each way, though its record is missing: every call around it goes
    assert {allele for allele in snvs if abs(allele[0] - 2500) <= AROUND} <= dropped & reverted
    # the same answer when the somatic VCF names the contig 1 and the germline VCF and reference chr1
    assert dropped_from_vcf(folder, sorted(snvs), "1") == dropped & snvs


def test_germline_windows_needs_the_list_and_the_reference(genome: tuple[Path, str]) -> None:
    folder, _ = genome
    for extra in ([], ["--germline", "germline.vcf"]):
        result = run_command("vcf-drop-rare", "--af-key", "AF", "--germline-windows", *extra, input=b"", cwd=folder)
        assert result.returncode == 2 and b"--germline-windows needs --germline and -r" in result.stderr


# --- genoscrub-audit --germline-in-vcf -r: the audit's own windows give vcf-drop-rare's answer ----

GENERATED = 4000
"""Bases of each generated genome: germline records near both ends, in repeats and between them."""


def generated_genome(rng: random.Random) -> str:
    """Random bases with repeats of units of 1 to 8 bases laid in (one of a few hundred bases), and one by each end."""
    bases = [rng.choice("ACGT") for _ in range(GENERATED)]
    for number, at in enumerate([2, GENERATED - 40, *rng.sample(range(60, GENERATED - 420), 14)]):
        unit = "".join(rng.choice("ACGT") for _ in range(rng.choice((1, 1, 2, 2, 3, 4, 6, 8))))
        tract = (unit * 400)[: rng.randint(150, 400) if number == 2 else rng.randint(6, 36)]
        bases[at : at + len(tract)] = tract
    return "".join(bases[:GENERATED])


def generated_germline(rng: random.Random, bases: str) -> list[str]:
    """Germline records of every kind the windows know: SNVs (some on a contig's first and last
    bases), MNPs, deletions and insertions (a repeat's unit, random bases), complex and
    multi-allelic records, and symbolic deletions, insertions, duplications and inversions (END and
    SVLEN disagreeing, CIPOS/CIEND, IMPRECISE), breakends (their mate's record missing) and single
    breakends."""
    other = lambda base: rng.choice([b for b in "ACGT" if b != base])  # noqa: E731
    records: dict[int, str] = {}
    for position in [1, 2, GENERATED - 1, GENERATED, *rng.sample(range(4, GENERATED - 80), 36)]:
        kind = rng.choice(("snv", "snv", "mnp", "deletion", "deletion", "insertion", "insertion", "complex", "multi", "symbolic"))
        if position >= GENERATED - 1 or position <= 2:
            kind = "snv" if position != 2 else "deletion"
        ref = bases[position - 1]
        if kind == "snv":
            alleles = (ref, other(ref))
        elif kind == "mnp":
            ref = bases[position - 1 : position + 1]
            alleles = (ref, other(ref[0]) + other(ref[1]))
        elif kind == "deletion":
            ref = bases[position - 1 : position + rng.randint(1, 6)]
            alleles = (ref, ref[0])
        elif kind == "insertion":
            unit = bases[position : position + rng.randint(1, 4)] if rng.random() < 0.6 else "".join(rng.choice("ACGT") for _ in range(3))
            alleles = (ref, ref + unit)
        elif kind == "complex":
            ref = bases[position - 1 : position + 2]
            alleles = (ref, other(ref[0]) + "T")
        elif kind == "multi":
            alleles = (ref, f"{other(ref)},{ref}{other(ref)}")
        else:
            length = rng.randint(2, 40)
            mate = rng.randint(2, GENERATED - 1)
            alt, info = rng.choice((
                ("<DEL>", f"END={position + length}"), ("<INS>", f"SVLEN={length}"), ("<DUP>", f"SVLEN={length}"),
                ("<DEL>", f"END={position};SVLEN=-{length}"), ("<INV>", f"END={position + length};CIPOS=-10,10;CIEND=-5,5"),
                ("<DEL>", f"IMPRECISE;END={position + length};CIPOS=-30,30"),
                (f"{ref}[chr1:{mate}[", "SVTYPE=BND"), (f"{ref}.", "SVTYPE=BND"),
            ))  # fmt: skip
            records[position] = f"chr1\t{position}\t.\t{ref}\t{alt}\t50\tPASS\t{info}"
            continue
        records[position] = f"chr1\t{position}\t.\t{alleles[0]}\t{alleles[1]}\t50\tPASS\t."
    return [records[position] for position in sorted(records)]


def generated_calls(rng: random.Random, bases: str, germline: list[str]) -> list[tuple[int, str, str]]:
    """Somatic calls, one a POS: SNVs and indels of 1 to 4 bases around each germline site (in its
    repeat, up to 60 bases away), and by the contig's ends."""
    calls: dict[int, tuple[str, str]] = {}
    sites = [int(record.split("\t")[1]) for record in germline]
    for position in [1, 2, 3, GENERATED - 2, GENERATED - 1, GENERATED] + [
        site + rng.randint(-60, 60) for site in sites for _ in range(14)
    ]:
        if not 1 <= position <= GENERATED or position in calls:
            continue
        ref = bases[position - 1]
        length = rng.randint(1, 4)
        kind = rng.random()
        if kind < 0.5 or position + length > GENERATED:
            calls[position] = (ref, rng.choice([b for b in "ACGT" if b != ref]))
        elif kind < 0.75:
            calls[position] = (bases[position - 1 : position + length], ref)
        else:
            calls[position] = (ref, ref + (bases[position : position + length] if rng.random() < 0.5 else "GTCA"[:length]))
    return [(position, ref, alt) for position, (ref, alt) in sorted(calls.items())]


def calls_vcf(calls: list[tuple[int, str, str]]) -> str:
    header = (
        f"##fileformat=VCFv4.2\n##contig=<ID=chr1,length={GENERATED}>\n"
        '##INFO=<ID=AF,Number=A,Type=Float,Description="Allele fraction">\n#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\n'
    )
    return header + "".join(f"chr1\t{position}\t.\t{ref}\t{alt}\t.\tPASS\tAF=0.5\n" for position, ref, alt in calls)


def kept_by_drop_rare(folder: Path, calls: list[tuple[int, str, str]], *windows: str) -> list[tuple[int, str, str]]:
    arguments = ["-q", "--af-key", "AF", "--germline", "germline.vcf", "-r", "ref.fa", *windows]
    result = run_command("vcf-drop-rare", *arguments, input=calls_vcf(calls).encode(), cwd=folder)
    assert result.returncode == 0, result.stderr.decode()
    rows = [line.split("\t") for line in result.stdout.decode().splitlines() if line[:1] != "#"]
    return [(int(fields[1]), fields[3], fields[4]) for fields in rows]


@pytest.mark.parametrize("seed", [3, 29, 71])
def test_the_audit_finds_every_call_vcf_drop_rare_drops_in_a_window_and_no_other(tmp_path: Path, seed: int) -> None:
    """genoscrub-audit --germline --germline-in-vcf -r draws the reverter's windows by its own code
    (``audit_windows``): over generated genomes (repeats, contig ends) and germline records of every
    kind, a call vcf-drop-rare --germline-windows keeps passes the audit, and one it drops for its
    window (and keeps without the option) is a finding, keyed ``call in a germline window``."""
    rng = random.Random(seed)
    bases = generated_genome(rng)
    (tmp_path / "ref.fa").write_text(f">chr1\n{bases}\n")
    pysam.faidx(str(tmp_path / "ref.fa"))
    germline = generated_germline(rng, bases)
    header = f"##fileformat=VCFv4.2\n##contig=<ID=chr1,length={GENERATED}>\n"
    header += '##INFO=<ID=END,Number=1,Type=Integer,Description="End">\n##INFO=<ID=SVLEN,Number=.,Type=Integer,Description="Length">\n'
    (tmp_path / "germline.vcf").write_text(header + "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\n" + "\n".join(germline) + "\n")
    calls = generated_calls(rng, bases, germline)
    unlisted = kept_by_drop_rare(tmp_path, calls)  # the calls carrying no germline allele
    kept = kept_by_drop_rare(tmp_path, unlisted, "--germline-windows")
    in_windows = sorted(set(unlisted) - set(kept))
    assert 0 < len(in_windows) < len(unlisted) - 20  # the windows are narrow, and met

    variants = read_variants(str(tmp_path / "germline.vcf"), "germline list")
    alleles = GermlineAlleles(variants, "germline.vcf", Reference(str(tmp_path / "ref.fa")))
    found = [call for call in unlisted if alleles.in_window("chr1", call[0] - 1, call[1].encode(), [call[2].encode()])]
    assert found == in_windows

    for name, part in (("kept.vcf", kept), ("dropped.vcf", in_windows)):  # the command itself, on each part
        (tmp_path / name).write_text(calls_vcf(part))
        report_path = tmp_path / f"{name}.json"
        options = ("--germline", "germline.vcf", "--germline-in-vcf", "-r", "ref.fa")
        run_command("genoscrub-audit", "-q", "--report", str(report_path), *options, name, cwd=tmp_path)
        germline_found = json.loads(report_path.read_text())["files"][0]["findings"]["germline"]
        assert germline_found["count"] == (0 if part is kept else len(part)), germline_found
        assert (part is kept) != ("call in a germline window" in germline_found.get("by_key", {}))  # the rest by the allele check


# --- the reach of reads placed a few bases along (audit_windows.placed_read_reach) ---------------


def placed_read_reach_oracle(bases: bytes, haplotype: bytes, first: int, last: int, after: int) -> tuple[int, int]:
    """``audit_windows.placed_read_reach`` as it was written first, base by base (cubic in the
    allele's length): the answer the counted form must give. ``REPEAT_REACH`` and ``SHORT_UNIT``
    are read from the module at each call (a test may lower the reach)."""
    low, high = first, last
    longer = max(last - first, after - first)
    moved = last - after
    starts: list[tuple[int, int, int]] = []
    for skipped in range(max(after - first, 1)):
        if longer - 1 - skipped < 0:
            break
        starts += [(1, first + skipped, longer - 1 - skipped), (-1, after - 1 - skipped, longer - 1 - skipped)]
    read_size, reference_size = len(haplotype), len(bases)
    for distance in range(1, max(longer, audit_windows.SHORT_UNIT) + 1):
        for shift in (distance, -distance):
            for step, begin, spare in starts:
                matched = count = 0
                at = begin
                while count < audit_windows.REPEAT_REACH:
                    there = at + shift + (moved if at >= after else 0)
                    if not (0 <= at < read_size and 0 <= there < reference_size):
                        break
                    if haplotype[at] == bases[there]:
                        matched += 1
                    elif spare:
                        spare -= 1
                    else:
                        break
                    count += 1
                    at += step
                if matched:
                    placed = begin + shift + (moved if begin >= after else 0)
                    low = min(low, placed if step > 0 else placed - count)
                    high = max(high, placed + count + 1 if step > 0 else placed + 1)
    return low, high


def every_walk_at_a_shift(
    shift: int, counts: np.ndarray, origin: int, differs_then_far: np.ndarray, near_then_differs: np.ndarray,
    in_step_at: np.ndarray, edge_right: int, edge_left: int, first: int, after: int, differences: int, ends: int,
    limit: int, forward_placed: np.ndarray, backward_placed: np.ndarray,
) -> tuple[int, int]:
    """``audit_windows._leading_walks`` from every walk of the shift, not the few it picks: each
    walk's end read off the same counts (the ``s + 1``-th difference, the nearest edge, the limit),
    as ``_counted_reach`` does where a read's end base is past a string. Held equal to it call by
    call, so a slip in its choice of walks shows even where another shift sets the reach."""
    low, high = 1 << 62, -(1 << 62)
    total = len(differs_then_far) - 1
    for k in range(ends):
        begin, spare = first + k, differences - k
        end = min(int(differs_then_far[min(int(counts[begin - origin]) + spare, total)]), edge_right, begin + limit)
        count = end - begin
        if count > int(counts[end - origin]) - int(counts[begin - origin]):
            placed = int(forward_placed[k]) + shift
            low, high = min(low, placed), max(high, placed + count + 1)
        begin = after - 1 - k
        end = max(int(near_then_differs[max(int(counts[begin - origin + 1]) - spare, 0)]), edge_left, begin - limit)
        count = begin - end
        if count > int(counts[begin - origin + 1]) - int(counts[end + 1 - origin]):
            placed = int(backward_placed[k]) + shift
            low, high = min(low, placed - count), max(high, placed + 1)
    return low, high


def checked_leading_walks(*arguments: Any) -> tuple[int, int]:
    """``_leading_walks``, asserted equal to every walk of its shift."""
    found = LEADING_WALKS(*arguments)
    assert found == every_walk_at_a_shift(*arguments), arguments[0]
    return found


LEADING_WALKS = audit_windows._leading_walks


def repetitive(rng: random.Random, size: int, alphabet: str) -> str:
    """Bases with repeats: random runs, repeated units and stretches copied from earlier."""
    bases = ""
    while len(bases) < size:
        kind = rng.randrange(3)
        if kind == 0 or not bases:
            bases += "".join(rng.choice(alphabet) for _ in range(rng.randint(1, 8)))
        elif kind == 1:
            unit = "".join(rng.choice(alphabet) for _ in range(rng.randint(1, 6)))
            bases += unit * rng.randint(2, 6)
        else:
            start = rng.randrange(len(bases))
            bases += bases[start : start + rng.randint(1, 12)]
    return bases[:size]


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    seed=st.integers(0, 2**32),
    size=st.integers(0, 60),
    alphabet=st.sampled_from(["A", "AC", "ACG", "ACGT"]),
    kind=st.sampled_from(["snv", "mnp", "insertion", "deletion", "complex", "long insertion", "long deletion", "long complex"]),
    place=st.sampled_from(["start", "middle", "end", "anywhere"]),
    reach=st.sampled_from([1, 2, 3, 7, 1000]),
)
def test_the_placed_read_reach_is_the_base_by_base_walks(seed: int, size: int, alphabet: str, kind: str, place: str, reach: int) -> None:
    """``placed_read_reach`` reads each walk's end off the differences' running counts, a shift at
    a time (``_counted_reach``; alleles up to ``WALKED`` bases walked as before); both must give the
    base-by-base walks' reach exactly: for SNVs, MNPs, insertions, deletions and complex alleles,
    short and long, in repeats (an ALT copying the bases after it), at the strings' ends (where a
    walk runs off them), with ``REPEAT_REACH`` small enough to stop walks. At each shift the few walks
    ``_leading_walks`` reads are held to every walk of that shift too (``every_walk_at_a_shift``):
    the reach is set by a few shifts only, so a wrong pick elsewhere would not show in it."""
    rng = random.Random(seed)
    bases = repetitive(rng, size, alphabet).encode()
    lengths = {"snv": (1, 1), "mnp": (rng.randint(2, 5),) * 2, "insertion": (0, rng.randint(1, 6)),
               "deletion": (rng.randint(1, 6), 0), "complex": (rng.randint(1, 6), rng.randint(1, 6)),
               "long insertion": (0, rng.randint(10, 40)), "long deletion": (rng.randint(10, 40), 0),
               "long complex": (rng.randint(1, 30), rng.randint(21, 40))}  # fmt: skip
    deleted, inserted = lengths[kind]
    deleted = min(deleted, size)
    if not deleted and not inserted:
        inserted = 1
    first = {"start": 0, "middle": (size - deleted) // 2, "end": size - deleted, "anywhere": rng.randint(0, size - deleted)}[place]
    last = first + deleted
    copied = (bases[first:] * 40)[rng.randrange(3) :][:inserted]  # a copy of the bases after it: a repeat
    alternate = repetitive(rng, inserted, alphabet).encode() if rng.random() < 0.5 or len(copied) < inserted else copied
    haplotype = bases[:first] + alternate + bases[last:]
    after = first + len(alternate)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(audit_windows, "REPEAT_REACH", reach)
        patch.setattr(audit_windows, "_leading_walks", checked_leading_walks)
        expected = placed_read_reach_oracle(bases, haplotype, first, last, after)
        assert audit_windows.placed_read_reach(bases, haplotype, first, last, after) == expected
        assert audit_windows._counted_reach(bases, haplotype, first, last, after) == expected  # short alleles too


@pytest.mark.parametrize("size", [30, pytest.param(120, marks=pytest.mark.slow)])  # 120: make test-slow
def test_long_insertions_get_the_walks_windows_in_the_audit(size: int, monkeypatch: pytest.MonkeyPatch) -> None:
    """The audit's ``allele_window`` of a long literal insertion (random, a copy of the bases after
    it, a tandem repeat's units, near the contig's start and end) is the same with the base-by-base walks."""
    rng = random.Random(size)
    contig = "".join(rng.choice("ACGT") for _ in range(3000)).encode()
    cases = [
        (1500, bytes(rng.choice(b"ACGT") for _ in range(size))),
        (1500, contig[1501 : 1501 + size]),
        (1500, (b"CAG" * size)[:size]),
        (20, bytes(rng.choice(b"ACGT") for _ in range(size))),
        (2990, contig[2991:] + bytes(rng.choice(b"ACGT") for _ in range(size))),
    ]
    found = [audit_windows.allele_window(contig, 0, position, contig[position : position + 1], contig[position : position + 1] + inserted)
             for position, inserted in cases]  # fmt: skip
    monkeypatch.setattr(audit_windows, "placed_read_reach", placed_read_reach_oracle)
    walked = [audit_windows.allele_window(contig, 0, position, contig[position : position + 1], contig[position : position + 1] + inserted)
              for position, inserted in cases]  # fmt: skip
    assert found == walked


def test_the_audit_windows_a_2000_base_insertion() -> None:
    """A 2,000-base literal insertion (cubic before: hours) is windowed. Its bases (G) are none of
    the reference's (A and C), so every read that begins or ends in it, placed along, meets only
    differences there and runs out of them before it keeps a base in step: the placed reads reach
    no further than the allele itself. A tandem copy of the 2,000 bases after it (every read of it in
    step at no shift, about half its bases at any other) reaches over 1,000 bases each way: the
    bounds were read off the counts once for every walk as well (without ``_leading_walks``), alike."""
    rng = random.Random(2000)
    contig = bytes(rng.choice(b"AC") for _ in range(12000))
    first = 4001
    haplotype = contig[:first] + b"G" * 2000 + contig[first:]
    assert audit_windows.placed_read_reach(contig, haplotype, first, first, first + 2000) == (first, first)
    start, end = audit_windows.allele_window(contig, 0, 4000, contig[4000:4001], contig[4000:4001] + b"G" * 2000)
    assert start < 4000 < first < end
    copy = contig[first : first + 2000]
    haplotype = contig[:first] + copy + contig[first:]
    assert audit_windows.placed_read_reach(contig, haplotype, first, first, first + 2000) == (1487, 8522)
