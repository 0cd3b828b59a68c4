"""Contig names joined across files (``contigs.ContigMap``): a chromosome spelled another way is
an error, never a contig whose records pass unchecked."""

from __future__ import annotations

import random
from collections.abc import Mapping
from pathlib import Path

import pysam
import pytest
from genoscrub.contigs import ContigMap, HitContigs, OtherSpelling, conventional_names
from genoscrub.report import InputError
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.conftest import run_command, slow_but

CHR1, CHR2 = 248956422, 242193529  # GRCh38 (filters/presets/GRCh38.contigs.tsv)


def test_conventional_spellings_are_mapped() -> None:
    joined = ContigMap({"1": CHR1, "MT": 16569, "chrUn_JTFH01000001v1_decoy": 10000}, {"chr1": CHR1, "chrM": 16569}, "list", "l")
    assert joined.to_other == {"1": "chr1", "MT": "chrM"}


@pytest.mark.parametrize(
    ("input_contigs", "other"),
    [
        ({"NC_000001.11": CHR1, "chr2": CHR2}, {"chr1": CHR1, "chr2": CHR2}),  # RefSeq's chr1 beside chr2
        ({"seq_a": CHR1, "chr2": CHR2}, {"1": CHR1, "2": CHR2}),  # any other name of chr1's length
        ({"NC_000001.11": None, "chr2": None}, {"chr1": None, "chr2": None}),  # no lengths: the RefSeq name tells
        ({"NC_012920.1": None, "chr1": None}, {"chr1": None, "chrM": None}),
        ({"chr1": CHR1, "chr1_copy": CHR1}, {"chr1": CHR1}),  # a second contig of chr1's length passes nothing unchecked either
    ],
)
def test_a_chromosome_spelled_another_way_is_an_error(input_contigs: dict[str, int | None], other: dict[str, int | None]) -> None:
    with pytest.raises(InputError) as raised:
        ContigMap(input_contigs, other, "region list", "regions.bed")
    for name in input_contigs:
        if name not in other:
            assert name not in raised.value.message  # the input's contig names are not quoted


def test_other_contigs_of_other_lengths_pass() -> None:
    """Decoys, alternates and HLA contigs the other file lacks are other contigs: no error."""
    input_contigs = {"chr1": CHR1, "chr1_KI270706v1_random": 175055, "HLA-A*01:01:01:01": 3503, "chrEBV": 171823}
    assert ContigMap(input_contigs, {"chr1": CHR1, "chrEBV": None}, "list", "l").to_other == {"chr1": "chr1", "chrEBV": "chrEBV"}


def test_vcf_drop_regions_stops_on_a_chromosome_under_its_refseq_name(tmp_path: Path) -> None:
    """D1S1656 (a CODIS locus on chr1) under RefSeq's name beside a chr2 in UCSC's: before,
    the build was read from chr2 and the chr1 record passed with exit 0; the audit missed it too."""
    vcf = tmp_path / "mixed.vcf"
    vcf.write_text(
        "##fileformat=VCFv4.2\n"
        f"##contig=<ID=NC_000001.11,length={CHR1}>\n##contig=<ID=chr2,length={CHR2}>\n"
        "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\n"
        "NC_000001.11\t230769600\t.\tA\tG\t50\tPASS\t.\n"
        "chr2\t100\t.\tA\tG\t50\tPASS\t.\n"
    )
    dropped = run_command("vcf-drop-regions", "-q", "--preset", "codis-str", str(vcf))
    assert dropped.returncode == 1 and dropped.stdout == b""
    assert b"has the length of chr1" in dropped.stderr and b"NC_000001" not in dropped.stderr
    audited = run_command("genoscrub-audit", "-q", "--preset", "codis-str", str(vcf))
    assert audited.returncode != 0 and b"PASS" not in audited.stdout, audited.stdout


# --- spellings no simple prefix rule knows (red-team F8) -------------------------------------

SCAFFOLDS = [  # UCSC's name, GenBank's (GRC's assembly report, UCSC's chromAlias), length in GRCh38/GRCh37
    ("chrUn_KI270302v1", "KI270302.1", 2274),
    ("chr1_KI270706v1_random", "KI270706.1", 175055),
    ("chr1_KI270762v1_alt", "KI270762.1", 354444),
    ("chrUn_GL000220v1", "GL000220.1", 161802),
    ("chr6_GL000251v2_alt", "GL000251.2", 4795265),
    ("chr1_KN196472v1_fix", "KN196472.1", 186494),
    ("chrUn_JTFH01000001v1_decoy", "JTFH01000001.1", 25139),
    ("chr1_gl000191_random", "GL000191.1", 106433),  # hg19 / GRCh37
    ("chrUn_gl000211", "GL000211.1", 166566),
]
NUMBERED = [("chrX", "23", 156040895), ("chrY", "24", 57227415), ("chrM", "26", 16569)]


@pytest.mark.parametrize(("ucsc", "genbank", "length"), SCAFFOLDS)
@pytest.mark.parametrize("lengths", [True, False])
def test_ucsc_and_genbank_names_of_a_scaffold_are_one_contig(ucsc: str, genbank: str, length: int, lengths: bool) -> None:
    size = length if lengths else None
    for input_name, other_name in ((ucsc, genbank), (genbank, ucsc)):
        joined = ContigMap({"chr1": CHR1, input_name: size}, {"chr1": CHR1, other_name: size}, "list", "l")
        assert joined.to_other == {"chr1": "chr1", input_name: other_name}
        with pytest.raises(InputError, match="another genome build"):
            ContigMap({input_name: length}, {other_name: length + 1}, "list", "l")


def test_a_scaffold_is_not_joined_to_another_accession_or_version() -> None:
    assert "chr1_KI270706v1_random" not in ContigMap({"KI270706.2": None}, {"chr1_KI270706v1_random": None}, "l", "l", False).to_other
    joined = ContigMap({"chr1": 10, "KI270706.2": 5}, {"chr1": 10, "chr1_KI270707v1_random": 6}, "list", "l")
    assert joined.to_other == {"chr1": "chr1"}


@pytest.mark.parametrize(("letters", "number", "length"), NUMBERED)
@pytest.mark.parametrize("lengths", [True, False])
def test_plink_numbers_are_the_sex_chromosomes_and_the_mitochondrion(letters: str, number: str, length: int, lengths: bool) -> None:
    size = length if lengths else None
    for input_name, other_name, one, other_one in ((letters, number, "chr1", "1"), (number, letters, "1", "chr1")):
        joined = ContigMap({one: CHR1, input_name: size}, {other_one: CHR1, other_name: size}, "list", "l")
        assert joined.to_other == {one: other_one, input_name: other_name}
    with pytest.raises(InputError, match="another genome build"):
        ContigMap({"chr1": CHR1, letters: length}, {"1": CHR1, number: length - 1}, "list", "l")


def test_a_number_beside_its_letters_is_a_chromosome_of_that_number() -> None:
    """The dog has 38 autosomes and an X: its 23, 24, 25 and 26 are not PLINK's codes."""
    dog = {"chr23": 52294480, "chr24": 47698779, "chr25": 51628933, "chr26": 38964690, "chrX": 123869142, "chrM": 16727}
    joined = ContigMap(dog, {name[3:]: length for name, length in dog.items()}, "list", "l")
    assert joined.to_other == {name: name[3:] for name in dog}
    assert ContigMap({"chrX": 123869142}, {"X": 123869142, "25": None}, "list", "l").to_other == {"chrX": "X"}


@pytest.mark.parametrize("pseudoautosomal", ["XY", "chrXY", "25"])
def test_plink_pseudoautosomal_x_is_an_error(pseudoautosomal: str) -> None:
    """PLINK's XY (25) holds X's pseudoautosomal sites in X's coordinates: a second contig of
    one file for one of the other, which no join here makes. Either file may hold it."""
    numbered = {"1": None, "23": None, pseudoautosomal: None}
    for input_contigs, other in (({"chr1": None, "chrX": None}, numbered), (numbered, {"chr1": None, "chrX": None})):
        with pytest.raises(OtherSpelling, match="PLINK's XY"):
            ContigMap(input_contigs, other, "germline list", "l")
    assert ContigMap({"chr1": None}, numbered, "list", "l").to_other == {"chr1": "1"}  # no X to join it to


def test_unmatched_contigs_of_one_length_are_another_spelling() -> None:
    """The general rule: whatever the names, an input contig no name matches whose length is
    that of a contig of the other file no name matches stops the command."""
    hg19_haplotype, ensembl_name = "chr6_apd_hap1", "HSCHR6_MHC_APD"
    with pytest.raises(OtherSpelling) as raised:
        ContigMap({"chr1": CHR1, hg19_haplotype: 4622290}, {"chr1": CHR1, ensembl_name: 4622290}, "germline list", "l")
    assert hg19_haplotype not in raised.value.message and ensembl_name not in raised.value.message
    assert "\n" not in raised.value.message


def test_lists_covering_some_contigs_pass() -> None:
    """A germline list declaring every GRCh38 contig beside a BAM of the primary ones (or the
    reverse), in either naming of the scaffolds, is no error."""
    primary = {f"chr{number}": 1_000_000 + number for number in range(1, 23)} | {"chrX": 156040895, "chrM": 16569}
    every = primary | {ucsc: length for ucsc, _, length in SCAFFOLDS}
    ensembl = {name.removeprefix("chr").replace("M", "MT"): length for name, length in primary.items()}
    ensembl |= {genbank: length for _, genbank, length in SCAFFOLDS}
    for small, large in ((primary, every), (every, primary), (primary, ensembl), (ensembl, primary)):
        joined = ContigMap(small, large, "list", "l")
        assert len(joined.to_other) == len(primary)
    assert len(ContigMap(every, ensembl, "list", "l").to_other) == len(every)


def spellings(name: str) -> list[str]:
    """Every name a known convention gives the contig ``name`` (UCSC's spelling)."""
    found = {name, name.removeprefix("chr")}
    found |= {other for other in conventional_names(name) if ContigMap({name: None}, {other: None}, "l", "l", False).to_other}
    return sorted(found)


GENOME = {**{f"chr{number}": 1_000_000 * number + 17 for number in (1, 2, 21)}, "chrX": 156040895, "chrY": 57227415, "chrM": 16569}
GENOME |= {ucsc: length for ucsc, _, length in SCAFFOLDS}


@settings(max_examples=300, deadline=None)
@given(
    data=st.data(),
    listed=st.sets(st.sampled_from(sorted(GENOME)), min_size=1),
    held=st.sets(st.sampled_from(sorted(GENOME)), min_size=1),
    lengths=st.booleans(),
    build=st.sampled_from([None, *sorted(GENOME)]),
)
def test_renaming_a_list_by_a_known_convention_never_changes_the_decision(
    data: st.DataObject, listed: set[str], held: set[str], lengths: bool, build: str | None
) -> None:
    """Whatever the list's contigs are called (each by any convention, so a list may mix
    them), the same input contigs meet the same list contigs, or the same error stops both;
    so too when the input's contigs are renamed. ``build`` names a contig whose length
    differs (another build)."""
    input_contigs = {name: GENOME[name] for name in sorted(held)}
    listed_lengths: dict[str, int | None] = {name: (GENOME[name] + (name == build) if lengths else None) for name in sorted(listed)}
    plain = decision(input_contigs, listed_lengths)
    for side in ("list", "input"):
        contigs = listed_lengths if side == "list" else input_contigs
        renamed = {name: data.draw(st.sampled_from(spellings(name)), label=f"{side} {name}") for name in contigs}
        back = {spelling: name for name, spelling in renamed.items()}
        if side == "list":
            spelled = decision(input_contigs, {renamed[name]: length for name, length in listed_lengths.items()})
            if isinstance(spelled, dict):
                spelled = {name: back[other] for name, other in spelled.items()}
        else:
            spelled = decision({renamed[name]: length for name, length in input_contigs.items()}, listed_lengths)
            if isinstance(spelled, dict):
                spelled = {back[name]: other for name, other in spelled.items()}
        assert spelled == plain, side


def decision(input_contigs: Mapping[str, int | None], listed: Mapping[str, int | None]) -> dict[str, str] | str:
    try:
        return ContigMap(input_contigs, listed, "germline list", "l").to_other
    except InputError as error:
        return type(error).__name__ + (": another genome build" if "another genome build" in error.message else "")


# --- the three commands that join a germline list, on each pair of spellings ------------------

GERMLINE_AT = 1000  # 1-based, on the contig under test
CONTIG_LENGTH = 3000


def genome(seed: int) -> dict[str, str]:
    generator = random.Random(seed)
    return {key: "".join(generator.choice("ACGT") for _ in range(CONTIG_LENGTH)) for key in ("one", "other")}


def alternate(base: str) -> str:
    return {"A": "C", "C": "G", "G": "T", "T": "A"}[base]


def write_germline_case(folder: Path, names: dict[str, str], list_names: dict[str, str], lengths: bool) -> None:
    """ref.fa, reads.sam and calls.vcf naming the contigs ``names``; germline.vcf naming them
    ``list_names`` (``one`` is chr1, ``other`` the contig under test). A read on each contig
    carries the germline ALT, and calls.vcf holds the germline call on ``other``."""
    bases = genome(8)
    folder.mkdir(parents=True, exist_ok=True)
    lines = {key: "\n".join(seq[at : at + 60] for at in range(0, CONTIG_LENGTH, 60)) for key, seq in bases.items()}
    fasta = "".join(f">{names[key]}\n{text}\n" for key, text in lines.items())
    (folder / "ref.fa").write_text(fasta)
    pysam.faidx(str(folder / "ref.fa"))
    sites = {"one": 100, "other": GERMLINE_AT}
    sq = "".join(f"@SQ\tSN:{names[key]}\tLN:{CONTIG_LENGTH}\n" for key in bases)
    reads = ""
    for number, (key, at) in enumerate(sites.items()):
        seq = bases[key][at - 50 : at - 1] + alternate(bases[key][at - 1]) + bases[key][at : at + 50]
        reads += f"r{number}\t0\t{names[key]}\t{at - 49}\t60\t100M\t*\t0\t0\t{seq}\t{'I' * 100}\n"
    (folder / "reads.sam").write_text("@HD\tVN:1.6\tSO:coordinate\n" + sq + reads)

    def vcf(contig_names: dict[str, str], with_lengths: bool, records: dict[str, int]) -> str:
        length = f",length={CONTIG_LENGTH}" if with_lengths else ""
        header = "".join(f"##contig=<ID={contig_names[key]}{length}>\n" for key in bases)
        header = "##fileformat=VCFv4.2\n" + header + '##INFO=<ID=AF,Number=A,Type=Float,Description="Frequency">\n'
        header += '##FORMAT=<ID=GT,Number=1,Type=String,Description="Genotype">\n'
        header += "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT\tS1\n"
        return header + "".join(
            f"{contig_names[key]}\t{at}\t.\t{bases[key][at - 1]}\t{alternate(bases[key][at - 1])}\t.\tPASS\t.\tGT\t0/1\n"
            for key, at in records.items()
        )

    (folder / "germline.vcf").write_text(vcf(list_names, lengths, sites))
    (folder / "calls.vcf").write_text(vcf(names, True, {"one": 200, "other": GERMLINE_AT}))


def germline_decisions(folder: Path) -> dict[str, object]:
    """What each command decided on the contig under test, or the error all of them gave."""
    germline, ref = str(folder / "germline.vcf"), str(folder / "ref.fa")
    runs = {
        "sam-revert-germline": run_command("sam-revert-germline", "-q", "-r", ref, "-v", germline, str(folder / "reads.sam")),
        "vcf-drop-rare": run_command(
            "vcf-drop-rare", "-q", "--af-key", "AF", "--keep-missing", "--germline", germline, str(folder / "calls.vcf")
        ),
        "audit reads": run_command("genoscrub-audit", "--germline", germline, "-r", ref, str(folder / "reads.sam")),
        "audit calls": run_command("genoscrub-audit", "--germline", germline, "--germline-in-vcf", str(folder / "calls.vcf")),
    }
    decided: dict[str, object] = {}
    for command, run in runs.items():
        if run.returncode != 0 and (not command.startswith("audit") or b"germline:" not in run.stdout):
            decided[command] = (run.returncode, run.stderr.decode().strip().split(": ", 2)[-1])  # the message, not the file
            continue
        if command == "sam-revert-germline":
            records = [line.split("\t") for line in run.stdout.decode().splitlines() if not line.startswith("@")]
            decided[command] = [(fields[0], fields[9][49]) for fields in records]  # the base at each read's site
        elif command == "vcf-drop-rare":
            decided[command] = len([line for line in run.stdout.decode().splitlines() if not line.startswith("#")])
        else:
            found = [line for line in run.stdout.decode().splitlines() if "germline: " in line]
            decided[command] = [line.split("germline: ")[1].split(":")[0] for line in found]
    return decided


PAIRS = [(ucsc, genbank) for ucsc, genbank, _ in SCAFFOLDS[:4]] + [(letters, number) for letters, number, _ in NUMBERED]


# make test: one scaffold and one numbered contig; make test-slow: every pair.
@pytest.mark.parametrize(("ucsc", "other_spelling"), slow_but(PAIRS, {0, len(SCAFFOLDS[:4])}))
@pytest.mark.parametrize("lengths", [True, False], ids=["lengths", "no-lengths"])
def test_the_germline_commands_decide_alike_on_either_spelling(tmp_path: Path, ucsc: str, other_spelling: str, lengths: bool) -> None:
    """sam-revert-germline -v, vcf-drop-rare --germline and genoscrub-audit --germline (reads
    and calls) decide on a contig as the list spells it as they do on the input's own
    spelling: before, GenBank's scaffold names and PLINK's numbers were silently not applied."""
    plink = other_spelling.isdigit()
    one, other_one = ("chr1", "1") if plink else ("chr1", "chr1")
    matched = {"one": one, "other": ucsc}
    write_germline_case(tmp_path / "same", matched, matched, lengths)
    expected = germline_decisions(tmp_path / "same")
    assert expected["vcf-drop-rare"] == 1 and expected["audit reads"] == ["2"] and expected["audit calls"] == ["1"], expected
    for case, (names, list_names) in {
        "list": (matched, {"one": other_one, "other": other_spelling}),
        "input": ({"one": other_one, "other": other_spelling}, matched),
    }.items():
        write_germline_case(tmp_path / case, names, list_names, lengths)
        assert germline_decisions(tmp_path / case) == expected, case


@pytest.mark.parametrize(
    ("names", "list_names", "message"),
    [
        # PLINK's XY: X's pseudoautosomal sites, to be merged into X before a join
        ({"one": "chr1", "other": "chrX"}, {"one": "1", "other": "XY"}, "PLINK's XY (25)"),
        ({"one": "chr1", "other": "chrX"}, {"one": "1", "other": "25"}, "PLINK's XY (25)"),
        # hg19's haplotype and Ensembl's name of it: no convention, one length
        ({"one": "chr1", "other": "chr6_apd_hap1"}, {"one": "chr1", "other": "HSCHR6_MHC_APD"}, "the same genome under other names?"),
    ],
)
def test_the_germline_commands_stop_alike_on_a_spelling_they_cannot_join(
    tmp_path: Path, names: dict[str, str], list_names: dict[str, str], message: str
) -> None:
    """All of them stop with one message (sam-revert-germline calls its list the variant file)."""
    write_germline_case(tmp_path, names, list_names, lengths=True)
    decided = germline_decisions(tmp_path)
    assert len({str(outcome).replace("variant file", "germline list") for outcome in decided.values()}) == 1, decided
    outcome = decided["vcf-drop-rare"]
    assert isinstance(outcome, tuple)
    status, said = outcome
    assert status == 1 and message in said and "\n" not in said
    assert names["other"] not in said and list_names["other"] not in said.replace("PLINK's XY (25)", "")


@pytest.mark.parametrize("accession", ["NC_012920.1", "J01415.2", "rCRS"])
def test_a_list_naming_the_mitochondrion_by_an_accession_stops_every_germline_command(tmp_path: Path, accession: str) -> None:
    """Red team 6 F2: a germline list without ``##contig`` lengths naming the mitochondrion as a
    RefSeq-named reference or an mtDNA caller does, beside a ``chrM`` input: its sites matched no
    contig and were read nowhere (the reads kept the mtDNA allele, and the audit passed them). Every
    command stops with one message instead."""
    write_germline_case(tmp_path, {"one": "chr1", "other": "chrM"}, {"one": "chr1", "other": accession}, lengths=False)
    decided = germline_decisions(tmp_path)
    assert len({str(outcome).replace("variant file", "germline list") for outcome in decided.values()}) == 1, decided
    outcome = decided["vcf-drop-rare"]
    assert isinstance(outcome, tuple)
    status, said = outcome
    assert status == 1 and "a chromosome's accession" in said and accession not in said.replace("(RefSeq, GenBank, rCRS)", "")


def test_plink_numbers_beside_lettered_names_are_refused() -> None:
    """Red team 6 F6: a list naming the mitochondrion ``chrM`` and ``26`` (PLINK's number: a PLINK
    export joined with an mtDNA caller's calls) was read under ``chrM`` only; the input names it
    with letters, so ``26`` can only be it: a contig the join cannot place, refused. A genome of
    more chromosomes (``chr26`` in the input) joins ``26`` as its chromosome 26."""
    with pytest.raises(OtherSpelling, match="PLINK's number for MT"):
        ContigMap({"chr1": None, "chrM": None}, {"chr1": None, "chrM": None, "26": None}, "germline list", "list.vcf")
    with pytest.raises(OtherSpelling, match="PLINK's number for X"):
        ContigMap({"chr1": None, "chrX": None}, {"chr1": None, "chrX": None, "23": None}, "region list", "r.bed")
    assert ContigMap({"chr26": None, "chrM": None}, {"26": None, "chrM": None}, "germline list", "list.vcf").to_others == {
        "chr26": ["26"], "chrM": ["chrM"]
    }


@pytest.mark.parametrize(
    ("input_contigs", "other"),
    [
        (["chr1", "chr2", "chrM"], ["Chr1", "chr2"]),  # a side file's other case
        (["chr1", "chr2", "chrM"], ["chr01", "chr2"]),  # zero padding
        (["chr1", "chr2", "chrM"], ["chr1", "Mt"]),  # the mitochondrion's
        (["chr1", "chr2", "chrM"], ["chr1", "CHRM"]),
        (["1", "2"], ["1", "02"]),
        (["Chr1", "chr2"], ["chr1", "chr2"]),  # the input's
        (["chr1", "chr2"], ["chr1", "Chr1", "chr2"]),  # one name matched, the other read nowhere
        (["chr1", "chr2"], ["chr1", "chr_2"]),  # red team 8b F8: a separator after chr
        (["chr1", "chr2"], ["chr1", "chr-2"]),
        (["chr1", "chr2"], ["chr1", "chr2 "]),  # a blank left at its end
        (["chr1", "chr2"], ["chr1", "chr2.1"]),  # red team 9 B5: a version after the number
        (["chr1", "chr2"], ["chr1", "2.1"]),
        (["chr1", "chr2", "chrX"], ["chr1", "chrX.2"]),
        (["chr1", "chr2"], ["chr1", "chrII"]),  # roman numerals, as yeast's chromosomes are named
        (["1", "2", "11"], ["1", "XI"]),
        (["chr1", "chrII"], ["chr1", "chr2"]),  # the input's
    ],
)
@pytest.mark.parametrize("lengths", [False, True])
def test_a_contig_spelled_with_another_case_or_padding_is_refused(input_contigs: list[str], other: list[str], lengths: bool) -> None:
    """Red team 7 F6: a germline list or BED naming ``Chr1`` or ``Mt`` beside other contigs that
    matched: its sites were read nowhere, and every command (and the audit) passed. Neither name
    is quoted in the message."""
    length = (lambda name: 1000) if lengths else (lambda name: None)
    with pytest.raises(OtherSpelling, match="another case or zero padding") as raised:
        ContigMap({name: length(name) for name in input_contigs}, {name: length(name) for name in other}, "region list", "r.bed")
    named = str(raised.value).replace("(Chr1, chr01, chr1.1 or chrI for chr1, Mt", "").split()
    assert not {"Chr1", "chr01", "Mt", "CHRM", "02", "chr2.1", "2.1", "chrX.2", "chrII", "XI"} & set(named)


@pytest.mark.parametrize(
    ("input_contigs", "other"),
    [
        (["chr1", "chr3"], ["chr1", "chrII", "chrXV"]),  # yeast's names beside a file without a 2 or 15: contigs it lacks
        (["chrI", "chrII", "chrX"], ["I", "II", "X"]),  # yeast's (or the worm's) names, joined by convention
        (["chr1", "chrX"], ["chr1", "X"]),  # X is the chromosome, never ten
        (["chr1", "chr10"], ["chr1", "chrX"]),
        (["chr1", "KI270706.1"], ["chr1", "KI270706.2"]),  # a scaffold's other version: another sequence
    ],
)
def test_roman_numerals_and_versions_name_a_contig_only_beside_its_number(input_contigs: list[str], other: list[str]) -> None:
    """Red team 9 B5: ``chrII`` and ``chr2.1`` stop a command only where the other file has a chromosome
    2 that they leave unmatched; otherwise they are contigs the file lacks, ignored as before."""
    ContigMap(dict.fromkeys(input_contigs), dict.fromkeys(other), "region list", "r.bed")


def test_a_chromosome_under_its_genbank_accession_is_refused() -> None:
    """Red team 8b F8: a BED naming GRCh38's chr2 ``CM000664.2`` beside ``chr1`` was read nowhere."""
    with pytest.raises(OtherSpelling, match="a chromosome's accession"):
        ContigMap({"chr1": None, "chr2": None}, {"chr1": None, "CM000664.2": None}, "region list", "r.bed")


def test_a_case_twin_the_conventions_join_is_not_refused() -> None:
    """``MT`` and ``chrM``, ``1`` and ``chr1`` are conventions, joined as before; a contig no file
    spells twice (``chrUn_gl000211`` against GenBank's ``GL000211.1``) is no twin."""
    joined = ContigMap({"chr1": None, "chrM": None}, {"1": None, "MT": None}, "germline list", "g.vcf")
    assert joined.to_other == {"chr1": "1", "chrM": "MT"}
    ContigMap({"chr1": None, "chrUn_gl000211": None}, {"chr1": None, "GL000211.1": None}, "region list", "r.bed")


def test_no_corpus_file_is_refused_beside_its_reference(corpus: Path) -> None:
    """The shared corpus's alignment and VCF files beside the references they were made on
    (MANIFEST's matched_reference), and beside themselves renamed: no spelling refusal. (Its
    unrelated small genomes do give contigs of one length other names, ``ref`` and ``ref1``
    of 45 bases: joined, those stop, as they should.)"""
    verbosity = pysam.set_verbosity(0)  # htslib's warnings about the corpus's odd files
    try:
        check_corpus_beside_references(corpus)
    finally:
        pysam.set_verbosity(verbosity)


def check_corpus_beside_references(corpus: Path) -> None:
    rows = [line.split("\t") for line in (corpus / "MANIFEST.tsv").read_text().splitlines()]
    column = rows[0].index("matched_reference")
    checked = 0
    for row in rows[1:]:
        if len(row) <= column or not row[column]:
            continue
        contigs = header_contigs(corpus / row[1])
        if not contigs:
            continue
        for reference in row[column].split("|"):
            index = corpus / "ref" / f"{reference}.fai"
            if not index.exists():
                continue
            lengths: dict[str, int | None] = {line.split("\t")[0]: int(line.split("\t")[1]) for line in index.read_text().splitlines()}
            for one, other in ((contigs, lengths), (lengths, contigs)):
                try:
                    ContigMap(one, other, "reference", str(index))
                except OtherSpelling as error:
                    pytest.fail(f"{row[1]} beside {reference}: {error.message}")
                except InputError:
                    pass  # another build, or no contig in common: not a spelling decision
            checked += 1
        renamed = {(name[3:] if name.startswith("chr") else "chr" + name): length for name, length in contigs.items()}
        assert len(ContigMap(contigs, renamed, "list", "l").to_other) == len(contigs), row[1]
    assert checked > 40


def header_contigs(path: Path) -> dict[str, int | None]:
    """A corpus file's declared contigs and lengths, as htslib reads them ({} if it cannot)."""
    try:
        if path.parent.name == "vcf":
            with pysam.VariantFile(str(path)) as variants:
                return {str(name): contig.length for name, contig in variants.header.contigs.items()}
        with pysam.AlignmentFile(str(path), check_sq=False) as alignments:
            return dict(zip(alignments.references, alignments.lengths, strict=True))
    except (OSError, ValueError):
        return {}


def test_hit_contigs_are_read_as_the_headers_contigs() -> None:
    """A contig named inside a record (an SA/XA hit) is the header's contig of that name, else
    every header contig it spells, else None."""
    hits = HitContigs([b"chr1", b"chrM", b"chrX", b"2", b"chr2"])
    assert hits.places(b"chr1") == (b"chr1",) and hits.places(b"1") == (b"chr1",)
    assert hits.places(b"MT") == (b"chrM",) and hits.places(b"23") == (b"chrX",)
    assert hits.places(b"2") == (b"2",) and set(hits.places(b"chr2") or ()) == {b"chr2"}
    assert hits.places(b"3") is None and hits.places(b"\xff") is None
    assert HitContigs([b"1", b"chr1"]).places(b"chr1") == (b"chr1",) and HitContigs([b"chrM", b"MT"]).places(b"M") == (b"chrM", b"MT")
