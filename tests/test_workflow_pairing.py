"""The cohort workflow's check of the sheet's pairing (workflow/pairing.py, rule `pairing`).

Red team 11's F8: every BAM is reverted (sam-revert-germline -v) and audited (--germline) only at
the sites of the germline VCF the sheet names for its sample, and nothing checked that the two
are one person. A BAM whose @RG lines name a second sample (a merged BAM) shipped that person's
reads with all their germline alleles; a sheet pairing a BAM with another patient's germline VCF
reverted the wrong sites and shipped the patient's own. Both passed the gate.

Here: the decision on small hand-made BAM/VCF pairs (the same person, another person, a second
sample, too few reads, too few sites), its one line (a sheet line and a file kind, never a value
of the files), the gate's refusal of a sample without a passing verdict, and one workflow run
on the bundled cohort with both of the red team's sheets: nothing of either sample is reverted
or delivered.
"""

from __future__ import annotations

import json
import random
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pysam
import pytest

from tests.conftest import load_workflow_script, run_snakemake
from tools.cohort import FIRST, SECOND, make_cohort

pairing = load_workflow_script("pairing")
gate = load_workflow_script("gate")

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE_CONFIG = ROOT / "workflow" / "config.example.yaml"
PERSON = "KIMJIHOON_N"  # planted as the BAM's SM and in the files' names
OTHER = "LEESOOAH_N"
SITES = 40
CONTIG_LENGTH = 60_000


def write_reference(folder: Path, contigs: tuple[str, ...] = ("chr1", "chr2")) -> dict[str, str]:
    generator = random.Random(7)
    sequences = {name: "".join(generator.choice("ACGT") for _ in range(CONTIG_LENGTH)) for name in contigs}
    with open(folder / "ref.fa", "w") as out:
        for name, bases in sequences.items():
            out.write(f">{name}\n" + "\n".join(bases[i : i + 60] for i in range(0, len(bases), 60)) + "\n")
    return sequences


def sites_of(sequences: dict[str, str], count: int = SITES) -> list[tuple[str, int, str, str]]:
    """``count`` SNVs (contig, 0-based position, REF, ALT), spread over both contigs."""
    names = sorted(sequences)
    chosen = []
    for index in range(count):
        contig = names[index % len(names)]
        position = 1000 + (index // len(names)) * 2500
        ref = sequences[contig][position]
        chosen.append((contig, position, ref, "ACGT"[("ACGT".index(ref) + 1) % 4]))
    return chosen


def write_vcf(
    path: Path,
    sequences: dict[str, str],
    sites: list[tuple[str, int, str, str]],
    genotype: str = "1/1",
    contig_prefix: str = "chr",
    extra_alt: str = "",
    het_sites: list[tuple[str, int, str, str]] | None = None,
    het_filter: str = "PASS",
) -> Path:
    lines = ["##fileformat=VCFv4.2", '##FORMAT=<ID=GT,Number=1,Type=String,Description="Genotype">']
    lines += [f"##contig=<ID={name.replace('chr', contig_prefix, 1)},length={len(bases)}>" for name, bases in sequences.items()]
    lines.append(f"#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT\t{PERSON}")
    lines.append('##FILTER=<ID=LowQual,Description="Low quality">')
    lines.append(lines.pop(-2))  # the #CHROM line last
    called = [(site, genotype, "PASS") for site in sites] + [(site, "0/1", het_filter) for site in het_sites or []]
    for (contig, position, ref, alt), called_as, filtered in sorted(called):
        lines.append(
            f"{contig.replace('chr', contig_prefix, 1)}\t{position + 1}\t.\t{ref}\t{alt}{extra_alt}\t50\t{filtered}\t.\tGT\t{called_as}"
        )
    path.with_suffix("").write_text("\n".join(lines) + "\n")
    pysam.tabix_compress(str(path.with_suffix("")), str(path), force=True)
    return path


def write_bam(
    path: Path,
    sequences: dict[str, str],
    sites: list[tuple[str, int, str, str]],
    alt_share: float | list[float],
    samples: tuple[str | None, ...] = (PERSON,),
    depth: int = 8,
    flag: int = 0,
    mapping_quality: int = 60,
    quality: str = "I",
    extra_tags: str = "",
) -> Path:
    """Reads of 50 bases over each site, ``alt_share`` of them showing its ALT (one share for all
    sites, or one a site); one @RG a sample (``None``: an @RG without SM; no samples: no @RG)."""
    shares = alt_share if isinstance(alt_share, list) else [alt_share] * len(sites)
    header = "@HD\tVN:1.6\tSO:coordinate\n" + "".join(f"@SQ\tSN:{name}\tLN:{len(bases)}\n" for name, bases in sequences.items())
    groups = [f"lane{index}" for index in range(len(samples))]
    for group, sample in zip(groups, samples, strict=True):
        header += f"@RG\tID:{group}" + (f"\tSM:{sample}" if sample else "") + "\n"
    records = []
    for (contig, position, ref, alt), share in zip(sites, shares, strict=True):
        for read in range(depth):
            start = position - 10 - read * 3 % 39  # within the read (up to 13 reads: 3 bases apart)
            bases = list(sequences[contig][start : start + 50])
            bases[position - start] = alt if read < round(share * depth) else ref
            tags = (f"\tRG:Z:{groups[read % len(groups)]}" if groups else "") + extra_tags
            name = f"{PERSON}:{contig}:{position}:{read}"
            line = f"{name}\t{flag}\t{contig}\t{start + 1}\t{mapping_quality}\t50M\t*\t0\t0\t{''.join(bases)}\t{quality * 50}{tags}"
            records.append((contig, start, line))
    order = {name: index for index, name in enumerate(sequences)}
    text = header + "".join(f"{line}\n" for _, _, line in sorted(records, key=lambda item: (order[item[0]], item[1])))
    sam = path.with_suffix(".sam")
    sam.write_text(text)
    pysam.view("-b", "-o", str(path), str(sam), catch_stdout=False)
    pysam.index(str(path))
    return path


@pytest.fixture
def person(tmp_path: Path) -> dict[str, Any]:
    sequences = write_reference(tmp_path)
    sites = sites_of(sequences)
    return {"folder": tmp_path, "sequences": sequences, "sites": sites, "vcf": write_vcf(tmp_path / f"{PERSON}.vcf.gz", sequences, sites)}


def verdict_of(person: dict[str, Any], bam: Path, vcf: Path | None = None) -> Any:
    return pairing.check(bam, vcf or person["vcf"], person["folder"] / "ref.fa", "tumour")


def test_the_same_persons_bam_passes(person: dict[str, Any]) -> None:
    bam = write_bam(person["folder"] / f"{PERSON}.bam", person["sequences"], person["sites"], alt_share=1.0)
    verdict = verdict_of(person, bam)
    assert (verdict.verdict, verdict.sites_listed, verdict.sites_with_reads, verdict.sites_carrying_alt) == ("pass", SITES, SITES, SITES)


def test_only_the_first_records_of_a_long_vcf_are_read(person: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> None:
    """A genome's germline VCF holds millions of records: the sites come from its first
    ``MOST_RECORDS`` only (here lowered to the first 40), which decide as well."""
    monkeypatch.setattr(pairing, "MOST_RECORDS", 40)
    bam = write_bam(person["folder"] / f"{PERSON}.bam", person["sequences"], person["sites"], alt_share=1.0)
    verdict = verdict_of(person, bam)
    assert (verdict.verdict, verdict.sites_listed) == ("pass", 40)


def test_a_gvcf_is_checked_as_its_calls_say(person: dict[str, Any]) -> None:
    """A GATK gVCF writes every call with the placeholder ALT (``C,<NON_REF>``, ``1/1``): it is no
    allele, so the call is a homozygous ALT SNV still, and another person's BAM fails."""
    vcf = write_vcf(person["folder"] / "g.vcf.gz", person["sequences"], person["sites"], extra_alt=",<NON_REF>")
    own = write_bam(person["folder"] / "own.bam", person["sequences"], person["sites"], alt_share=1.0)
    other = write_bam(person["folder"] / "other.bam", person["sequences"], person["sites"], alt_share=0.0)
    assert (verdict_of(person, own, vcf).verdict, verdict_of(person, own, vcf).sites_listed) == ("pass", SITES)
    assert verdict_of(person, other, vcf).verdict == "fail"


@pytest.mark.parametrize("mate_cigar", [False, True])
def test_pairs_without_mc_fail(person: dict[str, Any], mate_cigar: bool) -> None:
    """A BAM whose pairs lack MC (no samtools fixmate -m): the reverter would clear mates' places
    near germline sites only, marking them; it stops the sample, naming the fix. With MC: a pass."""
    paired = 0x1 | 0x2 | 0x20 | 0x40  # paired, proper, mate reverse, first; both mapped
    bam = write_bam(person["folder"] / "x.bam", person["sequences"], person["sites"], alt_share=1.0, flag=paired,
                    extra_tags="\tMC:Z:50M" if mate_cigar else "")  # fmt: skip
    verdict = verdict_of(person, bam)
    if mate_cigar:
        assert verdict.verdict == "pass"
    else:
        assert verdict.verdict == "fail" and "pairs lack the MC tag" in verdict.reason and "samtools fixmate -m" in verdict.reason


def test_one_read_in_five_showing_ref_still_carries_the_alt(person: dict[str, Any]) -> None:
    bam = write_bam(person["folder"] / "x.bam", person["sequences"], person["sites"], alt_share=0.8, depth=5)
    assert verdict_of(person, bam).verdict == "pass"


@pytest.mark.parametrize("alt_share", [0.0, 0.5], ids=["homozygous-ref", "heterozygous"])
def test_another_persons_bam_fails_naming_no_value(person: dict[str, Any], alt_share: float) -> None:
    """An unrelated person: REF at the sites, or one ALT of two (a heterozygous person shows about
    half the reads, never four in five)."""
    bam = write_bam(person["folder"] / f"{OTHER}.bam", person["sequences"], person["sites"], alt_share=alt_share, samples=(OTHER,))
    verdict = verdict_of(person, bam)
    assert verdict.verdict == "fail"
    assert verdict.reason == (
        f"the tumour BAM's reads do not carry the germline VCF's alleles (0 of {SITES} homozygous ALT sites seen;"
        " is the sheet's pairing right?)"
    )


def test_a_mixture_of_two_people_fails_too(person: dict[str, Any]) -> None:
    """Half the reads the person's, half another's under the same SM (a lane relabelled): the
    sites show the ALT in about half the reads, not four in five."""
    bam = write_bam(person["folder"] / "x.bam", person["sequences"], person["sites"], alt_share=0.625)
    assert verdict_of(person, bam).verdict == "fail"


@pytest.mark.parametrize(
    ("samples", "reason"),
    [
        ((PERSON, OTHER), "the tumour BAM's @RG lines name 2 samples, not one (a merged BAM, a mislabelled lane?)"),
        ((), "the tumour BAM has no @RG line, so names no sample (SM) to check against the sheet"),
        ((PERSON, None), "1 @RG line of the tumour BAM names no sample (SM)"),
    ],
    ids=["two-samples", "no-read-group", "read-group-without-sm"],
)
def test_a_bam_naming_other_than_one_sample_fails(person: dict[str, Any], samples: tuple[str | None, ...], reason: str) -> None:
    """Even when the reads carry the VCF's alleles: a merged BAM's second person may be the one
    whose sites were not looked up."""
    bam = write_bam(person["folder"] / "x.bam", person["sequences"], person["sites"], alt_share=1.0, samples=samples)
    verdict = verdict_of(person, bam)
    assert (verdict.verdict, verdict.reason) == ("fail", reason)


def test_the_same_sm_on_two_read_groups_is_one_sample(person: dict[str, Any]) -> None:
    bam = write_bam(person["folder"] / "x.bam", person["sequences"], person["sites"], alt_share=1.0, samples=(PERSON, PERSON))
    assert verdict_of(person, bam).verdict == "pass"


@pytest.mark.parametrize(
    "reads",
    [{"flag": 1024}, {"flag": 256}, {"flag": 2048}, {"mapping_quality": 19}, {"quality": "-"}],
    ids=["duplicate", "secondary", "supplementary", "mapq-19", "base-quality-12"],
)
def test_reads_the_check_does_not_count(person: dict[str, Any], reads: dict[str, Any]) -> None:
    """Reads showing the ALT that are duplicates, secondary or supplementary, placed with MAPQ
    under 20 or with a base quality under 13 count for nothing: too few sites have reads."""
    bam = write_bam(person["folder"] / "x.bam", person["sequences"], person["sites"], alt_share=1.0, **reads)
    verdict = verdict_of(person, bam)
    assert (verdict.verdict, verdict.sites_with_reads) == ("fail", 0)
    assert f"the tumour BAM has {pairing.MIN_DEPTH} reads or more at only 0 of the {SITES} homozygous ALT sites" in verdict.reason


def test_too_few_sites_with_reads_fail_closed(person: dict[str, Any]) -> None:
    """A BAM covering few of the VCF's sites (another region, another person's panel) cannot
    show the two are one person: it fails, however its few sites look."""
    covered = person["sites"][: pairing.MIN_SITES - 1]
    bam = write_bam(person["folder"] / "x.bam", person["sequences"], covered, alt_share=1.0)
    verdict = verdict_of(person, bam)
    assert (verdict.verdict, verdict.sites_with_reads, verdict.sites_carrying_alt) == ("fail", pairing.MIN_SITES - 1, pairing.MIN_SITES - 1)
    assert f"({pairing.MIN_SITES} needed to tell whether the two are one person; is the sheet's pairing right?)" in verdict.reason


def test_a_vcf_of_few_homozygous_snvs_is_judged_by_fewer_sites(person: dict[str, Any]) -> None:
    """A panel, or the bundled example: under MIN_SITES such SNVs in all, MIN_SITES_FEW sites decide."""
    few = person["sites"][: pairing.MIN_SITES_FEW]
    vcf = write_vcf(person["folder"] / "few.vcf.gz", person["sequences"], few)
    own = write_bam(person["folder"] / "own.bam", person["sequences"], few, alt_share=1.0)
    other = write_bam(person["folder"] / "other.bam", person["sequences"], few, alt_share=0.0)
    assert verdict_of(person, own, vcf).verdict == "pass"
    assert verdict_of(person, other, vcf).verdict == "fail"


@pytest.mark.parametrize("genotype", ["0/1", "./."], ids=["heterozygous", "missing"])
def test_a_vcf_without_enough_homozygous_snvs_is_not_checked(person: dict[str, Any], genotype: str) -> None:
    vcf = write_vcf(person["folder"] / "het.vcf.gz", person["sequences"], person["sites"], genotype=genotype)
    bam = write_bam(person["folder"] / "x.bam", person["sequences"], person["sites"], alt_share=0.0)
    verdict = verdict_of(person, bam, vcf)
    assert (verdict.verdict, verdict.sites_listed) == ("unchecked", 0)


def test_contig_spellings_are_joined(person: dict[str, Any]) -> None:
    """A VCF writing ``1`` for the BAM's ``chr1`` (ARCHITECTURE.md, *Same genome, or stop*)."""
    vcf = write_vcf(person["folder"] / "bare.vcf.gz", person["sequences"], person["sites"], contig_prefix="")
    own = write_bam(person["folder"] / "own.bam", person["sequences"], person["sites"], alt_share=1.0)
    other = write_bam(person["folder"] / "other.bam", person["sequences"], person["sites"], alt_share=0.0)
    assert (verdict_of(person, own, vcf).verdict, verdict_of(person, other, vcf).verdict) == ("pass", "fail")


def test_no_germline_vcf_checks_the_sample_names_only(person: dict[str, Any]) -> None:
    bam = write_bam(person["folder"] / "x.bam", person["sequences"], person["sites"], alt_share=0.0)
    assert pairing.check(bam, None, None, "normal").verdict == "pass"
    merged = write_bam(person["folder"] / "m.bam", person["sequences"], person["sites"], alt_share=0.0, samples=(PERSON, OTHER))
    assert pairing.check(merged, None, None, "normal").verdict == "fail"


@pytest.fixture
def family(person: dict[str, Any]) -> dict[str, Any]:
    """The person's VCF with heterozygous SNVs too (between the homozygous ones), PASS."""
    het = [(contig, position + 1200, person["sequences"][contig][position + 1200], alt) for contig, position, _, alt in person["sites"]]
    het = [(contig, position, ref, "ACGT"[("ACGT".index(ref) + 1) % 4]) for contig, position, ref, _ in het]
    vcf = write_vcf(person["folder"] / "family.vcf.gz", person["sequences"], person["sites"], het_sites=het)
    return {**person, "het": het, "family_vcf": vcf}


def family_bam(family: dict[str, Any], name: str, het_shares: list[float], depth: int = 8) -> Path:
    """A BAM homozygous ALT at every homozygous site of the VCF, ``het_shares`` of its reads
    showing the ALT at each heterozygous one."""
    sites = family["sites"] + family["het"]
    shares = [1.0] * len(family["sites"]) + het_shares
    return write_bam(family["folder"] / name, family["sequences"], sites, alt_share=shares, depth=depth)


def normal_verdict(family: dict[str, Any], bam: Path, vcf: Path | None = None) -> Any:
    return pairing.check(bam, vcf or family["family_vcf"], family["folder"] / "ref.fa", "normal")


def test_the_persons_normal_bam_shows_both_alleles_at_its_heterozygous_sites(family: dict[str, Any]) -> None:
    bam = family_bam(family, "own.bam", [0.5] * SITES)
    verdict = normal_verdict(family, bam)
    assert verdict.verdict == "pass", verdict.reason
    assert (verdict.het_sites_listed, verdict.het_sites_with_reads, verdict.het_sites_showing_both) == (SITES, SITES, SITES)
    both = f"{SITES} of {SITES} heterozygous sites showing both alleles"
    assert verdict.reason.endswith(f"({SITES} of {SITES} homozygous ALT sites seen; {both})")


def relatives_shares(count: int, seed: int) -> list[float]:
    """A sibling's ALT shares at the VCF's heterozygous sites: heterozygous like them at 62.5 %
    of the sites (the most a sibling can be, whatever the alleles' frequencies), homozygous REF
    or ALT at the rest."""
    generator = random.Random(seed)
    return [0.5 if generator.random() < 0.625 else generator.choice((0.0, 1.0)) for _ in range(count)]


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_a_relatives_vcf_fails_on_a_normal_bam_though_homozygous_sites_agree(family: dict[str, Any], seed: int) -> None:
    """A sibling, parent or child shares most homozygous ALT sites (rule 2 passes them: here all
    of them); the heterozygous ones show one allele at 37.5 % of the sites or more. The normal
    BAM fails, naming no value; a tumour BAM is not held to the rule."""
    bam = family_bam(family, "sibling.bam", relatives_shares(SITES, seed))
    verdict = normal_verdict(family, bam)
    assert verdict.verdict == "fail"
    assert verdict.sites_carrying_alt == SITES and verdict.het_sites_showing_both < pairing.MIN_HET_SHARE * SITES
    assert re.fullmatch(
        r"the normal BAM's reads miss one allele at too many of the germline VCF's heterozygous sites \(\d+ of 40 heterozygous"
        r" sites showing both alleles\): the VCF may be a relative's; is the sheet's pairing right\?",
        verdict.reason,
    )
    assert pairing.check(bam, family["family_vcf"], family["folder"] / "ref.fa", "tumour").verdict == "pass"


def test_a_tumours_loss_of_heterozygosity_is_the_same_person(family: dict[str, Any]) -> None:
    """Half the heterozygous sites show one allele (whole arms lost in the tumour): the tumour BAM
    passes on its homozygous sites, as before the rule."""
    bam = family_bam(family, "tumour.bam", [0.5, 1.0] * (SITES // 2))
    verdict = pairing.check(bam, family["family_vcf"], family["folder"] / "ref.fa", "tumour")
    assert verdict.verdict == "pass" and verdict.het_sites_looked_up == 0


@pytest.mark.parametrize(("depth", "errors", "verdict"), [(30, 2, "fail"), (30, 3, "pass"), (6, 1, "pass"), (5, 2, "fail")])
def test_a_heterozygous_site_needs_each_allele_in_a_tenth_of_its_reads(
    family: dict[str, Any], depth: int, errors: int, verdict: str
) -> None:
    """At 30 reads two of one allele are sequencing errors at a homozygous site, three are an
    allele; one of six is one. Below MIN_DEPTH_HET reads a site counts for nothing, and too few
    sites with reads fail closed."""
    bam = family_bam(family, "x.bam", [errors / depth] * SITES, depth=depth)
    found = normal_verdict(family, bam)
    assert found.verdict == verdict, found.reason
    if depth < pairing.MIN_DEPTH_HET:
        assert found.het_sites_with_reads == 0 and "needed to tell the person from a relative" in found.reason


def test_filtered_heterozygous_calls_are_not_used(family: dict[str, Any]) -> None:
    """A heterozygous call that failed a filter is often a homozygous site misread: not looked up.
    With none left, the relative rule cannot judge and says so; the sample goes on."""
    vcf = family["folder"] / "lowqual.vcf.gz"
    write_vcf(vcf, family["sequences"], family["sites"], het_sites=family["het"], het_filter="LowQual")
    bam = family_bam(family, "sibling.bam", relatives_shares(SITES, 1))
    verdict = normal_verdict(family, bam, vcf)
    assert (verdict.verdict, verdict.het_sites_listed) == ("pass", 0)
    assert verdict.reason.endswith("its 0 heterozygous SNVs, fewer than 10, cannot tell a relative's VCF from the person's")


def site(contig: str, position: int) -> Any:
    return pairing.Site(contig, position, "A", "G")


def test_spread_keeps_groups_evenly_over_the_whole_file() -> None:
    """One pass, bounded: groups of up to GROUP_SITES sites within GROUP_REACH bases (one fetch
    each), started evenly over every contig of the file, MOST_SITES sites at most."""
    sites = [site(contig, position) for contig in ("chr1", "chr2", "chr3") for position in range(0, 3_000_000, 1500)]
    total, groups = pairing.spread(sites)
    flat = [member for group in groups for member in group]
    assert total == len(sites) and len(flat) <= pairing.MOST_SITES and len(groups) == pairing.MOST_SITES // pairing.GROUP_SITES
    assert all(len(group) <= pairing.GROUP_SITES for group in groups)
    reach = pairing.GROUP_REACH
    for group in groups:
        assert all(member.contig == group[0].contig and 0 <= member.position - group[0].position < reach for member in group)
    assert {member.contig for member in flat} == {"chr1", "chr2", "chr3"}
    starts = [sites.index(group[0]) for group in groups]
    gaps = [later - earlier for earlier, later in zip(starts, starts[1:], strict=False)]
    assert max(gaps) <= 3 * min(gaps)  # one group a run of stride sites, then every one or two of them
    few = sites[:7]
    assert pairing.spread(few) == (7, [few[:5], few[5:]])


def run_main(person: dict[str, Any], bam: Path, capsys: pytest.CaptureFixture[str]) -> tuple[int, str, Path]:
    output = person["folder"] / "work" / "tumour.json"
    output.parent.mkdir(exist_ok=True)
    log = person["folder"] / "work" / "tumour.pairing.log"
    options = ["--bam", str(bam), "--germline", str(person["vcf"]), "--kind", "tumour", "--line", "3"]
    options += ["--output", str(output), "--log", str(log)]
    status = pairing.main(options)
    return status, capsys.readouterr().err, output


def test_a_failed_check_is_one_line_naming_the_sheet_line_and_kind(person: dict[str, Any], capsys: pytest.CaptureFixture[str]) -> None:
    bam = write_bam(person["folder"] / f"{OTHER}.bam", person["sequences"], person["sites"], alt_share=0.0, samples=(OTHER,))
    status, stderr, output = run_main(person, bam, capsys)
    assert status == 1 and not output.exists()
    assert stderr == (
        "genoscrub workflow: sample on sheet line 3: the tumour BAM's reads do not carry the germline VCF's alleles"
        f" (0 of {SITES} homozygous ALT sites seen; is the sheet's pairing right?); nothing of the sample is reverted or delivered\n"
    )
    failed = output.with_name("tumour.failed.json")
    assert json.loads(failed.read_text())["verdict"] == "fail" and failed.stat().st_mode & 0o077 == 0
    logged = "\n".join(path.read_text() for path in output.parent.iterdir())
    assert not any(word in logged for word in (PERSON, OTHER, str(person["folder"])))


def test_htslib_messages_about_the_inputs_are_counted_not_kept(person: dict[str, Any], capsys: pytest.CaptureFixture[str]) -> None:
    """The germline VCF's records hold an INFO key its header does not define, named after the
    patient: htslib warns, quoting it (at htslib's default verbosity, which a test before this one
    in the same process may have lowered)."""
    previous = pysam.set_verbosity(3)
    try:
        htslib_messages_counted(person, capsys)
    finally:
        pysam.set_verbosity(previous)


def htslib_messages_counted(person: dict[str, Any], capsys: pytest.CaptureFixture[str]) -> None:
    plain = person["folder"] / "planted.vcf"
    lines = person["vcf"].with_suffix("").read_text().splitlines()
    planted = [line if line.startswith("#") else line.replace("\tPASS\t.\t", f"\tPASS\t{PERSON}=1\t") for line in lines]
    plain.write_text("\n".join(planted) + "\n")
    person["vcf"] = plain
    bam = write_bam(person["folder"] / "x.bam", person["sequences"], person["sites"], alt_share=1.0)
    status, stderr, output = run_main(person, bam, capsys)
    assert status == 0 and json.loads(output.read_text())["verdict"] == "pass" and stderr == ""
    log = (output.parent / "tumour.pairing.log").read_text()
    assert re.match(r"pairing \(htslib\): [0-9]+ lines? on stderr not kept", log) and PERSON not in log
    person["vcf"] = plain.with_name("clean.vcf")  # and none at all about an unindexed VCF without such a key
    person["vcf"].write_text("\n".join(lines) + "\n")
    (output.parent / "tumour.pairing.log").unlink()
    assert run_main(person, bam, capsys)[0] == 0 and "htslib" not in (output.parent / "tumour.pairing.log").read_text()


def test_the_gate_refuses_a_sample_without_a_passing_verdict(tmp_path: Path) -> None:
    verdicts = {name: tmp_path / f"{name}.json" for name in ("tumour", "normal", "unchecked")}
    verdicts["tumour"].write_text(json.dumps({"verdict": "pass"}))
    verdicts["unchecked"].write_text(json.dumps({"verdict": "unchecked"}))
    verdicts["normal"].write_text(json.dumps({"verdict": "fail"}))
    assert gate.pairing_refusal([str(verdicts["tumour"]), str(verdicts["unchecked"])]) is None
    refusal = "the check that its normal BAM is one person, the germline VCF's, did not pass (workflow/pairing.py)"
    assert gate.pairing_refusal([str(verdicts["tumour"]), str(verdicts["normal"])]) == refusal
    assert gate.pairing_refusal([str(tmp_path / "normal.json.missing")]) == refusal
    verdicts["normal"].write_text("{")
    assert gate.pairing_refusal([str(verdicts["normal"])]) == refusal


def test_the_red_teams_two_sheets_stop_before_any_bam_job(tmp_path: Path) -> None:
    """Red team 11's F8 on the bundled cohort: the first patient's normal BAM beside the second's
    germline VCF (a sheet slip), and the second's germline VCF beside a BAM merged from both
    normals. Both samples stop at their pairing check, each with its one line; no part of
    either BAM is reverted and nothing is delivered; no ID reaches Snakemake's output."""
    folder = tmp_path / "cohort"
    make_cohort(folder, pairs=1500)
    second = f"{SECOND}/{SECOND}N_20231029"
    subprocess.run(["samtools", "merge", "-f", "-o", "merged.bam", "patient1/normal.bam", f"{second}.bam"], cwd=folder, check=True)
    subprocess.run(["samtools", "index", "merged.bam"], cwd=folder, check=True)
    (folder / "samples.tsv").write_text(
        "sample\tnormal_bam\tgermline_vcf\n"
        f"{FIRST}\tpatient1/normal.bam\t{second}.germline.vcf.gz\n"
        f"{SECOND}\tmerged.bam\t{second}.germline.vcf.gz\n"
    )
    result = run_snakemake(
        ["--snakefile", str(ROOT / "workflow" / "Snakefile"), "--configfile", str(EXAMPLE_CONFIG), "--cores", "2", "--keep-going"],
        cwd=folder,
    )
    messages = result.stdout + result.stderr
    assert result.returncode != 0
    assert "genoscrub workflow: sample on sheet line 2: the normal BAM's reads do not carry the germline VCF's alleles (" in messages
    assert (
        "genoscrub workflow: sample on sheet line 3: the normal BAM's @RG lines name 2 samples, not one"
        " (a merged BAM, a mislabelled lane?);"
        " nothing of the sample is reverted or delivered" in messages
    )
    assert not (folder / "results").exists() or not any((folder / "results").iterdir())
    assert not list((folder / "work").glob("*/parts/*")) and not list((folder / "work").glob("*/reports/normal.*"))
    forbidden = [line for line in (folder / "forbidden.txt").read_text().splitlines() if line]
    assert not [word for word in forbidden if word in messages]
    logs = "".join(path.read_text() for path in (folder / "work" / "logs").rglob("*.pairing.log"))
    assert logs.count("pairing: normal BAM: fail:") == 2 and not [word for word in forbidden if word in logs]


if __name__ == "__main__":
    sys.exit(pytest.main([__file__]))
