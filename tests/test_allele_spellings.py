"""One variant, two spellings, one answer: vcf-drop-rare, sam-revert-germline's keep screening and
the audit's --germline-in-vcf decide alike however a caller wrote the variant.

- an MNP (``1000 TA AC``, as Mutect2 writes adjacent changes) and the SNVs it is made of
  (``1000 T A`` + ``1001 A C``, as HaplotypeCaller, gnomAD and ``bcftools norm -a`` write them),
  in the germline list, the population, the keep list and the input, each either way;
- a deletion or insertion of 50 bases or more written with its bases and as ``<DEL>``/``<INS>``
  with END or SVLEN;
- a multi-allelic site joined and split (``bcftools norm -m-``), judged by ``--af-key``.

Each spelling pair is built, both are run, and the decisions (records kept, report counts, the
audit's finding) are compared, on the bulk paths and with ``GENOSCRUB_ONE_BY_ONE=1``.
"""

from __future__ import annotations

import json
import random
from pathlib import Path

import pysam
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import run_command

HEADER = """##fileformat=VCFv4.2
##contig=<ID=chr1,length=3000>
##INFO=<ID=AF,Number=A,Type=Float,Description="Allele frequency">
##INFO=<ID=END,Number=1,Type=Integer,Description="End">
##INFO=<ID=SVLEN,Number=A,Type=Integer,Description="Length">
##INFO=<ID=SVTYPE,Number=1,Type=String,Description="Type">
##ALT=<ID=DEL,Description="Deletion">
##ALT=<ID=INS,Description="Insertion">
##FORMAT=<ID=GT,Number=1,Type=String,Description="Genotype">
#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT\tS1
"""
ONE_BY_ONE: tuple[dict[str, str], ...] = ({}, {"GENOSCRUB_ONE_BY_ONE": "1"})


def vcf_text(records: list[tuple[int, str, str, str]]) -> str:
    """(POS, REF, ALT, INFO) records on chr1, one sample carrying the ALT."""
    return HEADER + "".join(f"chr1\t{pos}\t.\t{ref}\t{alt}\t50\tPASS\t{info}\tGT\t0/1\n" for pos, ref, alt, info in records)


def written(folder: Path, name: str, records: list[tuple[int, str, str, str]], indexed: bool = False) -> Path:
    path = folder / f"{name}.vcf"
    path.write_text(vcf_text(records))
    if indexed:
        return Path(pysam.tabix_index(str(path), preset="vcf", force=True))
    return path


def atomized(pos: int, ref: str, alt: str, info: str = ".") -> list[tuple[int, str, str, str]]:
    """The SNV records of an MNP (``bcftools norm -a``)."""
    return [(pos + at, ref[at], alt[at], info) for at in range(len(ref)) if ref[at] != alt[at]]


def drop_rare(
    folder: Path, monkeypatch: pytest.MonkeyPatch, *args: str, env: dict[str, str] | None = None
) -> tuple[list[str], dict[str, int]]:
    """vcf-drop-rare's kept records (CHROM POS REF ALT) and report counts."""
    with monkeypatch.context() as patch:
        for name, value in (env or {}).items():
            patch.setenv(name, value)
        report = folder / "report.json"
        result = run_command("vcf-drop-rare", "-q", "--report", str(report), *args)
    assert result.returncode == 0, result.stderr
    kept = [" ".join(line.split("\t")[1:5]) for line in result.stdout.decode().splitlines() if line and not line.startswith("#")]
    return kept, json.loads(report.read_text())["counts"]


def audit_germline(folder: Path, listed: Path, calls: Path) -> int:
    """How many records the audit's --germline-in-vcf finds carrying a listed allele."""
    report = folder / "audit.json"
    result = run_command("genoscrub-audit", "--report", str(report), "--germline", str(listed), "--germline-in-vcf", str(calls))
    assert result.returncode in (0, 1), result.stderr
    assert b"internal error" not in result.stderr
    findings = json.loads(report.read_text())["files"][0]["findings"]["germline"]
    assert findings["checked"]
    return int(findings["count"])


def audit_population(folder: Path, population: Path, calls: Path) -> int:
    """How many population findings the audit's --population makes in ``calls``."""
    report = folder / "audit.json"
    result = run_command("genoscrub-audit", "--report", str(report), "--population", str(population), "--af-key", "AF", str(calls))
    assert result.returncode in (0, 1), result.stderr
    return int(json.loads(report.read_text())["files"][0]["findings"]["population"]["count"])


# --- F2: an MNP and its SNVs ------------------------------------------------------------------------

MNP_SPELLINGS = {
    "mnp": [(1000, "TA", "AC", ".")],
    "padded-mnp": [(999, "GTAG", "GACG", ".")],
    "snvs": atomized(1000, "TA", "AC"),
}


@pytest.mark.parametrize("env", ONE_BY_ONE, ids=["bulk", "one-by-one"])
@pytest.mark.parametrize("listed", MNP_SPELLINGS)
@pytest.mark.parametrize("called", MNP_SPELLINGS)
def test_mnp_and_its_snvs_meet_in_the_germline_list(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, listed: str, called: str, env: dict[str, str]
) -> None:
    """Whichever way the normal's caller and the somatic caller wrote the haplotype, every record of
    it goes (vcf-drop-rare --germline) and the audit finds each; an MNP-only list does not crash
    the audit (red-team F5a)."""
    germline = written(tmp_path, "germline", MNP_SPELLINGS[listed])
    calls = written(tmp_path, "calls", [*MNP_SPELLINGS[called], (2000, "C", "G", ".")])
    kept, counts = drop_rare(tmp_path, monkeypatch, "--af-key", "AF", "--keep-missing", "--germline", str(germline), str(calls), env=env)
    assert kept == ["2000 . C G"]
    assert counts["dropped_germline_listed"] == len(MNP_SPELLINGS[called])
    assert audit_germline(tmp_path, germline, calls) == len(MNP_SPELLINGS[called])


def test_an_mnp_carrying_one_listed_base_is_germline_and_others_are_not(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A record carries a listed allele if one SNV it is made of is listed: ``TAG CAT`` (two
    changes, a shared base between) carries the listed ``G T`` at its third base; ``TA GA`` at
    the same POS, whose SNV is another, does not (alone: beside ``TAG CAT`` it would go with its
    site, ``record_traces``)."""
    germline = written(tmp_path, "germline", [(1002, "G", "T", ".")])
    calls = written(tmp_path, "calls", [(1000, "TAG", "CAT", ".")])
    other = written(tmp_path, "other", [(1000, "TA", "GA", ".")])
    for env in ONE_BY_ONE:
        kept, _ = drop_rare(tmp_path, monkeypatch, "--af-key", "AF", "--keep-missing", "--germline", str(germline), str(calls), env=env)
        assert kept == []
        kept, _ = drop_rare(tmp_path, monkeypatch, "--af-key", "AF", "--keep-missing", "--germline", str(germline), str(other), env=env)
        assert kept == ["1000 . TA GA"]
    assert audit_germline(tmp_path, germline, calls) == 1


@pytest.mark.parametrize("env", ONE_BY_ONE, ids=["bulk", "one-by-one"])
@pytest.mark.parametrize("frequency", ["0.0005", "0.3"])
@pytest.mark.parametrize("population", MNP_SPELLINGS)
@pytest.mark.parametrize("called", MNP_SPELLINGS)
def test_mnp_and_its_snvs_get_one_population_verdict(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, population: str, called: str, frequency: str, env: dict[str, str]
) -> None:
    """Rare in the population spelled either way: every spelling of the input goes as rare (not
    as missing, so --keep-missing keeps nothing); common: every spelling stays without
    --keep-missing."""
    listed = [(pos, ref, alt, f"AF={frequency}") for pos, ref, alt, _ in MNP_SPELLINGS[population]]
    pop = written(tmp_path, "population", listed, indexed=True)
    calls = written(tmp_path, "calls", MNP_SPELLINGS[called])
    options = ["--population", str(pop), "--af-key", "AF", str(calls)]
    if frequency == "0.0005":
        kept, counts = drop_rare(tmp_path, monkeypatch, "--keep-missing", *options, env=env)
        assert kept == [] and counts["dropped_rare"] == len(MNP_SPELLINGS[called])
    else:
        kept, counts = drop_rare(tmp_path, monkeypatch, *options, env=env)
        assert len(kept) == len(MNP_SPELLINGS[called]) and counts["dropped_missing"] == 0
    assert (audit_population(tmp_path, pop, calls) > 0) == (frequency == "0.0005")  # the audit's own reading agrees


def test_an_mnp_is_missing_only_when_one_of_its_snvs_is_unknown_and_rare_when_one_is_rare(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The population lists the MNP's first SNV only: common, the MNP is missing (as the record
    of its second SNV would be); rare, the MNP is rare, whatever the other SNV."""
    calls = written(tmp_path, "calls", [(1000, "TA", "AC", ".")])
    for frequency, outcome in (("0.3", "dropped_missing"), ("0.0005", "dropped_rare")):
        pop = written(tmp_path, "population", [(1000, "T", "A", f"AF={frequency}")], indexed=True)
        for env in ONE_BY_ONE:
            kept, counts = drop_rare(tmp_path, monkeypatch, "--population", str(pop), "--af-key", "AF", str(calls), env=env)
            assert kept == [] and counts[outcome] == 1, counts


def test_an_mnp_judges_the_ref_at_each_of_its_snvs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The REF at the MNP's second base is rare in the population (another allele there has
    0.995): the record of that SNV goes as rare, and so does the MNP."""
    listed = [(1000, "T", "A", "AF=0.3"), (1001, "A", "C", "AF=0.3"), (1001, "A", "G", "AF=0.695")]
    pop = written(tmp_path, "population", listed, indexed=True)
    for spelling in ("mnp", "snvs"):
        calls = written(tmp_path, "calls", MNP_SPELLINGS[spelling])
        kept, counts = drop_rare(tmp_path, monkeypatch, "--population", str(pop), "--af-key", "AF", str(calls))
        assert kept == (["1000 . T A"] if spelling == "snvs" else []), spelling
        assert counts["dropped_rare"] == 1
        assert audit_population(tmp_path, pop, calls) == 1


@pytest.mark.slow  # a long sweep of spellings through the commands: make test-slow (CI runs it after make test)
@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    st.integers(2, 6).flatmap(lambda size: st.tuples(*[st.text("ACGT", min_size=size, max_size=size)] * 2)),
    st.lists(st.sampled_from([None, "0.0005", "0.3"]), min_size=6, max_size=6),
    st.booleans(),
)
def test_an_mnp_gets_the_worst_verdict_of_its_snvs(
    tmp_path_factory: pytest.TempPathFactory,
    monkeypatch: pytest.MonkeyPatch,
    alleles: tuple[str, str],
    values: list[str | None],
    listed_whole: bool,
) -> None:
    """A random MNP and its atomized form: with the population listing its SNVs (each common, rare
    or absent), the MNP's record goes as rare if one SNV's record goes as rare, as missing if
    one goes as missing and none as rare, and stays if all stay; with the population listing the
    MNP whole, every SNV record gets the MNP's verdict. The audit's --population finds something
    in a spelling exactly when vcf-drop-rare drops something of it. The germline list, either
    spelling, drops both."""
    ref, alt = alleles
    alt = ("G" if ref[0] == "A" else "A") + alt[1:-1] + ("G" if ref[-1] == "A" else "A")  # changes at both ends: trimmed, it stays this MNP
    folder = tmp_path_factory.mktemp("mnp")
    snvs = atomized(1000, ref, alt)
    if listed_whole:
        population = [(1000, ref, alt, f"AF={values[0]}")] if values[0] else []
    else:
        population = [(pos, r, a, f"AF={value}") for (pos, r, a, _), value in zip(snvs, values, strict=False) if value]
    pop = written(folder, "population", population or [(2500, "A", "C", "AF=0.5")], indexed=True)
    verdicts = {}
    for name, records in (("mnp", [(1000, ref, alt, ".")]), ("snvs", snvs)):
        calls = written(folder, name, records)
        _, counts = drop_rare(folder, monkeypatch, "--population", str(pop), "--af-key", "AF", str(calls))
        verdicts[name] = counts
        assert (audit_population(folder, pop, calls) > 0) == (counts["kept"] < len(records)), (name, counts, population)
    snv_counts = verdicts["snvs"]
    worst = "dropped_rare" if snv_counts["dropped_rare"] else "dropped_missing" if snv_counts["dropped_missing"] else "kept"
    assert verdicts["mnp"][worst] == 1, (verdicts, population)
    if listed_whole:
        assert snv_counts[worst] == len(snvs)
    for listed in ([(1000, ref, alt, ".")], snvs):
        germline = written(folder, "germline", listed)
        for name in ("mnp", "snvs"):
            calls = folder / f"{name}.vcf"
            kept, _ = drop_rare(folder, monkeypatch, "--af-key", "AF", "--keep-missing", "--germline", str(germline), str(calls))
            assert kept == []
            assert audit_germline(folder, germline, calls) == (1 if name == "mnp" else len(snvs))


def test_an_indel_only_germline_list_is_audited(tmp_path: Path) -> None:
    """A germline list without a one-base SNV (an indel-only list, red-team F5a) is read: the audit
    finds the record carrying its deletion and exits 1, no internal error."""
    germline = written(tmp_path, "germline", [(1000, "CAT", "C", ".")])
    calls = written(tmp_path, "calls", [(1000, "CAT", "C", "."), (1200, "A", "G", ".")])
    assert audit_germline(tmp_path, germline, calls) == 1


# --- F2: sam-revert-germline --all --keep screened against the population ----------------------------


@pytest.mark.parametrize("population", ["mnp", "snvs"])
@pytest.mark.parametrize("keep", ["mnp", "snvs"])
def test_a_common_mnp_in_the_keep_list_is_screened_out_whichever_way_either_file_writes_it(
    tmp_path: Path, population: str, keep: str
) -> None:
    """Tumour-only mode: the keep list names a germline haplotype that is common in the population
    (0.3); spelled as an MNP or as SNVs in either file, it is screened out and every read of it
    is reverted to REF."""
    rng = random.Random(3)
    reference = "".join(rng.choice("ACGT") for _ in range(3000))
    reference = reference[:999] + "TA" + reference[1001:]
    (tmp_path / "ref.fa").write_text(">chr1\n" + "\n".join(reference[at : at + 60] for at in range(0, 3000, 60)) + "\n")
    pysam.faidx(str(tmp_path / "ref.fa"))
    haplotype = reference[:999] + "AC" + reference[1001:]
    reads = ["@HD\tVN:1.6\tSO:coordinate", "@SQ\tSN:chr1\tLN:3000"]
    reads += [
        f"r{index}\t0\tchr1\t{start + 1}\t60\t100M\t*\t0\t0\t{haplotype[start : start + 100]}\t{'I' * 100}"
        for index, start in enumerate(range(910, 995, 10))
    ]
    spelled = {"mnp": [(1000, "TA", "AC", ".")], "snvs": atomized(1000, "TA", "AC")}
    pop = written(tmp_path, "population", [(pos, ref, alt, "AF=0.3") for pos, ref, alt, _ in spelled[population]], indexed=True)
    listed = written(tmp_path, "keep", spelled[keep])
    result = run_command(
        "sam-revert-germline", "-q", "-r", str(tmp_path / "ref.fa"), "--all", "--keep", str(listed), "--population", str(pop),
        "--report", str(tmp_path / "r.json"), input=("\n".join(reads) + "\n").encode(),
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    records = [line.split("\t") for line in result.stdout.decode().splitlines() if not line.startswith("@")]
    assert len(records) == 9
    assert {fields[9][1000 - int(fields[3]) : 1002 - int(fields[3])] for fields in records} == {"TA"}
    notes = json.loads((tmp_path / "r.json").read_text())
    assert notes["keep_alleles_screened_out_as_germline"] == len(spelled[keep])


@pytest.mark.parametrize("deletion", [True, False], ids=["deletion", "insertion"])
def test_a_common_indel_in_the_keep_list_is_screened_out_wherever_the_caller_placed_it(
    tmp_path: Path, deletion: bool
) -> None:
    """Tumour-only mode: the keep list places a common germline indel at the right end of its
    repeat, the population (as gnomAD, normalised) at the left end: it is screened out (the keep
    indel is also asked for left-aligned against -r), and a rare one there is not."""
    rng = random.Random(5)
    reference = "".join(rng.choice("ACGT") for _ in range(3000))
    reference = reference[:989] + "G" + "CA" * 8 + "T" + reference[1007:]  # G at 990, (CA)8 at 991..1006
    (tmp_path / "ref.fa").write_text(">chr1\n" + "\n".join(reference[at : at + 60] for at in range(0, 3000, 60)) + "\n")
    pysam.faidx(str(tmp_path / "ref.fa"))
    if deletion:
        left, right = (990, "GCA", "G"), (1004, "ACA", "A")
    else:
        left, right = (990, "G", "GCA"), (1006, "A", "ACA")
    reads = ["@HD\tVN:1.6\tSO:coordinate", "@SQ\tSN:chr1\tLN:3000"]
    reads.append(f"r0\t0\tchr1\t901\t60\t100M\t*\t0\t0\t{reference[900:1000]}\t{'I' * 100}")
    for af, screened in (("0.3", 1), ("0.0001", 0)):
        pop = written(tmp_path, "population", [(*left, f"AF={af}")], indexed=True)
        listed = written(tmp_path, "keep", [(*right, ".")])
        result = run_command(
            "sam-revert-germline", "-q", "-r", str(tmp_path / "ref.fa"), "--all", "--keep", str(listed), "--population", str(pop),
            "--report", str(tmp_path / "r.json"), input=("\n".join(reads) + "\n").encode(),
        )  # fmt: skip
        assert result.returncode == 0, result.stderr
        notes = json.loads((tmp_path / "r.json").read_text())
        assert notes["keep_alleles_screened_out_as_germline"] == screened, af
        assert notes["keep_alleles_not_in_population"] == 0


# --- F6: a deletion or insertion written with its bases and as a symbolic allele ----------------------


def structural_spellings(kind: str, length: int) -> dict[str, list[tuple[int, str, str, str]]]:
    """One deletion (or insertion) of ``length`` bases after chr1:2000, written with its bases and
    as the symbolic allele with END or SVLEN (VCF 4.2's negative SVLEN for a deletion)."""
    bases = "".join(random.Random(length).choice("ACGT") for _ in range(length))
    if kind == "DEL":
        return {
            "bases": [(2000, "A" + bases, "A", ".")],
            "end": [(2000, "A", "<DEL>", f"END={2000 + length}")],
            "svlen": [(2000, "A", "<DEL>", f"SVLEN=-{length}")],
        }
    return {"bases": [(2000, "A", "A" + bases, ".")], "svlen": [(2000, "A", "<INS>", f"SVLEN={length}")]}


STRUCTURAL_CASES = [(kind, length, listed, called) for kind in ("DEL", "INS") for length in (50, 137)
                    for listed in structural_spellings(kind, length) for called in structural_spellings(kind, length)]  # fmt: skip


@pytest.mark.parametrize(("kind", "length", "listed", "called"), STRUCTURAL_CASES)
def test_a_long_indel_written_with_its_bases_meets_its_symbolic_spelling(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, kind: str, length: int, listed: str, called: str
) -> None:
    """A deletion or insertion of 50 bases or more in the germline list, written with its bases or
    as ``<DEL>``/``<INS>`` (END or SVLEN), drops the input's record of it written either way, and
    the audit finds it, on both paths."""
    spellings = structural_spellings(kind, length)
    germline = written(tmp_path, "germline", spellings[listed])
    calls = written(tmp_path, "calls", [*spellings[called], (2500, "C", "G", ".")])
    options = ["--af-key", "AF", "--keep-missing", "--germline", str(germline), str(calls)]
    for env in ONE_BY_ONE:
        kept, counts = drop_rare(tmp_path, monkeypatch, *options, env=env)
        assert kept == ["2500 . C G"] and counts["dropped_germline_listed"] == 1
    assert audit_germline(tmp_path, germline, calls) == 1


@pytest.mark.parametrize("kind", ["DEL", "INS"])
def test_an_indel_shorter_than_50_bases_does_not_meet_a_symbolic_allele(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, kind: str
) -> None:
    """The threshold: an indel of 49 bases written with its bases is not a structural variant, and
    does not meet a ``<DEL>``/``<INS>`` at its POS (in either file)."""
    short, symbolic = structural_spellings(kind, 49)["bases"], structural_spellings(kind, 60)["svlen"]
    for listed, called in ((short, symbolic), (symbolic, short)):
        germline = written(tmp_path, "germline", listed)
        calls = written(tmp_path, "calls", called)
        kept, _ = drop_rare(tmp_path, monkeypatch, "--af-key", "AF", "--keep-missing", "--germline", str(germline), str(calls))
        assert len(kept) == 1
        assert audit_germline(tmp_path, germline, calls) == 0


@pytest.mark.parametrize("kind", ["DEL", "INS"])
def test_a_rare_long_indel_in_the_population_drops_either_spelling_under_keep_missing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, kind: str
) -> None:
    """Red-team F6 in the population join: a deletion or insertion of 50 bases or more that the
    population lists rare, with its bases or as ``<DEL>``/``<INS>``, is rare in the input written
    either way, so --keep-missing does not keep it as missing (both paths; the audit agrees). A
    common ``<DEL>`` at the same POS says nothing of the input's (its span may differ): missing."""
    spellings = structural_spellings(kind, 60)
    names = [name for name in spellings if name != "end"]
    for listed in names:
        for called in names:
            for af, expected in (("0.0001", []), ("0.3", ["2000"])):  # common: kept, as known or as missing
                records = [(pos, ref, alt, f"AF={af}" + ("" if info == "." else ";" + info)) for pos, ref, alt, info in spellings[listed]]
                population = written(tmp_path, "population", records, indexed=True)
                calls = written(tmp_path, "calls", [*spellings[called], (2500, "C", "G", ".")])
                options = ["--population", str(population), "--af-key", "AF", "--keep-missing", str(calls)]
                for env in ONE_BY_ONE:
                    kept, counts = drop_rare(tmp_path, monkeypatch, *options, env=env)
                    assert [record.split()[0] for record in kept] == [*expected, "2500"], (listed, called, af)
                common_and_known = af == "0.3" and listed == called == "bases"  # then only 2500, absent, is a finding
                assert audit_population(tmp_path, population, calls) == (1 if common_and_known else 2), (listed, called, af)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 10**11), *[st.text("ACGTN", min_size=1, max_size=16)] * 2), max_size=12))
def test_mnp_parts_by_numpy_are_those_one_by_one(alleles: list[tuple[int, str, str]]) -> None:
    """``text_snv_parts`` over many ``indel_key`` texts gives ``snv_parts`` of each MNP among them,
    in order; ``mnp_texts`` finds exactly the alleles ``snv_parts`` splits."""
    import numpy as np
    from genoscrub.alleles import indel_key, mnp_texts, normalised, snv_parts, text_snv_parts

    trimmed = [normalised(pos, ref.encode(), alt.encode()) for pos, ref, alt in alleles]
    trimmed = [allele for allele in trimmed if len(allele[1]) + len(allele[2]) > 2]
    texts = np.array([indel_key(*allele) for allele in trimmed], dtype=bytes) if trimmed else np.empty(0, dtype="S1")
    found = mnp_texts(texts)
    assert found.tolist() == [len(ref) == len(alt) >= 2 for _, ref, alt in trimmed]
    owner, keys = text_snv_parts(texts[found])
    mnps = [allele for allele, mnp in zip(trimmed, found, strict=True) if mnp]
    expected = [(index, key) for index, allele in enumerate(mnps) for key in snv_parts(allele)]
    assert list(zip(owner.tolist(), keys.tolist(), strict=True)) == expected


# --- F3: a multi-allelic site joined and split, judged by the records' own --af-key ------------------


def site_records(alts: list[str], values: list[str], ref_value: str | None = None) -> dict[str, list[tuple[int, str, str, str]]]:
    """One site at chr1:100 with REF A written joined and split (``bcftools norm -m-``), each
    split record with its own ALT's value (and REF's first, for a Number=R key)."""
    def info(own: list[str]) -> str:
        return "AF=" + ",".join(([ref_value] if ref_value is not None else []) + own)

    return {
        "joined": [(100, "A", ",".join(alts), info(values))],
        "split": [(100, "A", alt, info([value])) for alt, value in zip(alts, values, strict=True)],
    }


@pytest.mark.parametrize("env", ONE_BY_ONE, ids=["bulk", "one-by-one"])
@pytest.mark.parametrize(
    ("values", "ref_value", "dropped"),
    [
        (["0.6", "0.395"], None, True),  # REF 0.005: rare however written
        (["0.3", "0.3"], None, False),
        (["0.6", "0.395"], "0.5", True),  # Number=R: REF's own value is 0.5, 1 - ALTs is lower
        (["0.5", "0.3"], "0.005", True),
    ],
)
def test_a_split_multiallelic_site_judges_ref_as_the_joined_record_does(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    values: list[str],
    ref_value: str | None,
    dropped: bool,
    env: dict[str, str],
) -> None:
    """Red-team F3: ``100 A C,G AF=0.6,0.395`` is dropped for its REF (0.005); split into ``A C
    AF=0.6`` and ``A G AF=0.395`` each record alone says REF is 0.4 or 0.605, but the records of
    one CHROM and POS next to each other are one site: both go. A site common however written
    stays whole."""
    header_number = "R" if ref_value is not None else "A"
    for name, records in site_records(["C", "G"], values, ref_value).items():
        path = written(tmp_path, name, [*records, (200, "C", "T", "AF=" + ",".join((["0.5"] if ref_value else []) + ["0.5"]))])
        path.write_text(path.read_text().replace("ID=AF,Number=A", f"ID=AF,Number={header_number}"))
        kept, counts = drop_rare(tmp_path, monkeypatch, "--af-key", "AF", str(path), env=env)
        expected = [] if dropped else [f"{pos} . {ref} {alt}" for pos, ref, alt, _ in records]
        assert kept == [*expected, "200 . C T"], name
        assert counts["dropped_rare"] == (len(records) if dropped else 0)


def test_the_records_of_a_site_are_judged_together_across_blocks(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The input read in blocks of a few lines (``vcf.text_blocks`` with a small size): a split site
    whose records fall at a block's end is still judged whole, with the same output as one block."""
    from genoscrub import vcf, vcf_drop_rare

    records = []
    for site in range(40):
        alts = ["C", "G", "T"][: 1 + site % 3]
        values = ["0.6", "0.395", "0.001"][: len(alts)] if site % 4 == 0 else ["0.2"] * len(alts)
        records += site_records(alts, values)["split"]
        records[-len(alts) :] = [(100 + site * 10, ref, alt, info) for _, ref, alt, info in records[-len(alts) :]]
    path = written(tmp_path, "split", records)
    outputs = []
    for size in (1 << 22, 40, 61, 89):  # each cuts a split site between blocks (checked: without whole_sites they keep 76, 72, 70)
        monkeypatch.setattr(vcf_drop_rare, "text_blocks", lambda stream, path, size=size: vcf.text_blocks(stream, path, size))
        status, out, err = invoke_drop_rare("--af-key", "AF", str(path))
        assert status == 0, err
        outputs.append(out)
    assert outputs[1:] == outputs[:1] * 3
    kept_positions = {line.split("\t")[1] for line in outputs[0].decode().splitlines() if not line.startswith("#")}
    rare_ref = {site for site in range(40) if site % 4 == 0 and site % 3}  # 0.6 and 0.395 (and 0.001) split: REF 0.005 or less
    assert kept_positions == {str(100 + site * 10) for site in range(40) if site not in rare_ref}


def invoke_drop_rare(*args: str) -> tuple[int, bytes, bytes]:
    from genoscrub.vcf_drop_rare import app
    from typer.testing import CliRunner

    result = CliRunner().invoke(app, list(args))
    return result.exit_code, result.stdout_bytes, result.stderr_bytes


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 2), st.integers(1, 3)), min_size=1, max_size=30), st.data())
def test_whole_sites_never_cuts_a_site_but_at_the_end(sites: list[tuple[int, int]], data: st.DataObject) -> None:
    """``whole_sites`` over the records cut into blocks of whole lines anywhere: the same text and
    line numbers come out, and no block but the last ends inside a site's run of records."""
    from genoscrub.vcf_drop_rare import whole_sites

    lines, pos = [], 1
    for step, count in sites:
        pos += step
        lines += [b"chr1\t%d\t.\tA\tC\t.\t.\tAF=0.5\n" % pos] * count
    cuts = sorted(set(data.draw(st.lists(st.integers(1, len(lines) - 1), max_size=6)) if len(lines) > 1 else []))
    bounds = [0, *cuts, len(lines)]
    blocks = [(10 + start, b"".join(lines[start:stop])) for start, stop in zip(bounds, bounds[1:], strict=False)]
    out = list(whole_sites(iter(blocks)))
    assert b"".join(text for _, text in out) == b"".join(lines)
    line = 10
    for index, (first, text) in enumerate(out):
        assert first == line
        line += text.count(b"\n")
        if index + 1 < len(out):
            assert text.rsplit(b"\n", 2)[-2].split(b"\t")[:2] != out[index + 1][1].split(b"\t")[:2]


@settings(max_examples=60, deadline=None)
@given(st.lists(st.sampled_from(["0.001", "0.005", "0.2", "0.3", "0.49", "0.5", "0.6", "0.985", "."]), min_size=1, max_size=3))
def test_a_site_joined_or_split_gets_one_answer(tmp_path_factory: pytest.TempPathFactory, values: list[str]) -> None:
    """Random frequencies for a site's ALTs: its joined record is kept exactly when every split
    record is, and when it goes for its REF (no ALT rare) every split record goes too."""
    folder = tmp_path_factory.mktemp("site")
    alts = ["C", "G", "T"][: len(values)]
    spellings = site_records(alts, values)
    kept = {}
    for name, records in spellings.items():
        path = written(folder, name, records)
        status, out, err = invoke_drop_rare("--af-key", "AF", str(path))
        assert status == 0, err
        kept[name] = [line for line in out.decode().splitlines() if not line.startswith("#")]
    assert (len(kept["joined"]) == 1) == (len(kept["split"]) == len(alts)), (values, kept)
    if not kept["joined"] and not any(value != "." and float(value) < 0.01 for value in values):
        assert kept["split"] == [], (values, kept)


# --- F7: an indel placed at either end of its repeat, with -r --------------------------------------


def repeat_indel_placements(seed: int, deletion: bool) -> tuple[str, list[tuple[int, str, str, str]]]:
    """A reference with a tandem repeat and one insertion or deletion in it, written at every place
    along the repeat that gives the same haplotype (left-aligned first): (reference, records)."""
    rng = random.Random(seed)
    unit = "".join(rng.choice("ACGT") for _ in range(rng.randint(1, 4)))
    size = len(unit) * rng.randint(1, 2)
    reference = "".join(rng.choice("ACGT") for _ in range(300)) + unit * rng.randint(3, 8) + "".join(rng.choice("ACGT") for _ in range(300))
    start = 300 + len(unit) * rng.randint(0, 2)  # 0-based: the first base deleted, or the insertion goes before it
    if deletion:
        haplotype = reference[:start] + reference[start + size :]
        places = [at for at in range(250, 400) if reference[:at] + reference[at + size :] == haplotype]
        records = [(at, reference[at - 1 : at + size], reference[at - 1], ".") for at in places]
    else:
        inserted = reference[start : start + size]
        haplotype = reference[:start] + inserted + reference[start:]
        places = [at for at in range(250, 400) if reference[:at] + haplotype[at : at + size] + reference[at:] == haplotype]
        records = [(at, reference[at - 1], reference[at - 1] + haplotype[at : at + size], ".") for at in places]
    return reference, records


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.integers(0, 2**32), st.booleans())
def test_an_indel_placed_anywhere_along_its_repeat_meets_with_a_reference(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch, seed: int, deletion: bool
) -> None:
    """Red-team F7: the germline list places an indel at the left end of its repeat and the input at
    the right end (or the other way): with -r, vcf-drop-rare --germline drops the input's record
    and the audit finds it; without, both do too, by the rule for an indel placed nearby."""
    folder = tmp_path_factory.mktemp("repeat")
    reference, records = repeat_indel_placements(seed, deletion)
    (folder / "ref.fa").write_text(">chr1\n" + "\n".join(reference[at : at + 60] for at in range(0, len(reference), 60)) + "\n")
    pysam.faidx(str(folder / "ref.fa"))
    header = HEADER.replace("length=3000", f"length={len(reference)}")
    for listed, called in ((records[0], records[-1]), (records[-1], records[0])):
        for name, record in (("germline", listed), ("calls", called)):
            (folder / f"{name}.vcf").write_text(header + "chr1\t{}\t.\t{}\t{}\t50\tPASS\t{}\tGT\t0/1\n".format(*record))
        options = ["--af-key", "AF", "--keep-missing", "--germline", str(folder / "germline.vcf"), str(folder / "calls.vcf")]
        kept, _ = drop_rare(folder, monkeypatch, "-r", str(folder / "ref.fa"), *options)
        assert kept == []
        report = folder / "audit.json"
        result = run_command("genoscrub-audit", "--report", str(report), "-r", str(folder / "ref.fa"), "--germline",
                             str(folder / "germline.vcf"), "--germline-in-vcf", str(folder / "calls.vcf"))  # fmt: skip
        assert result.returncode == 1 and json.loads(report.read_text())["files"][0]["findings"]["germline"]["count"] == 1
        kept, _ = drop_rare(folder, monkeypatch, *options)  # without -r: dropped too, as an indel nearby (nearby_indels)
        assert kept == [] and audit_germline(folder, folder / "germline.vcf", folder / "calls.vcf") == 1


def test_left_aligning_by_numpy_selection_matches_one_by_one(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """With -r, the bulk path and the one-record path key indels alike (short indels come trimmed
    by numpy, long ones one by one); -r without --germline is a usage error."""
    reference, records = repeat_indel_placements(7, True)
    (tmp_path / "ref.fa").write_text(">chr1\n" + reference + "\n")
    pysam.faidx(str(tmp_path / "ref.fa"))
    header = HEADER.replace("length=3000", f"length={len(reference)}")
    (tmp_path / "germline.vcf").write_text(header + "chr1\t{}\t.\t{}\t{}\t50\tPASS\t{}\tGT\t0/1\n".format(*records[-1]))
    lines = "".join("chr1\t{}\t.\t{}\t{}\t50\tPASS\t{}\tGT\t0/1\n".format(*record) for record in records)
    (tmp_path / "calls.vcf").write_text(header + lines)
    for env in ONE_BY_ONE:
        kept, counts = drop_rare(tmp_path, monkeypatch, "-r", str(tmp_path / "ref.fa"), "--af-key", "AF", "--keep-missing", "--germline",
                                 str(tmp_path / "germline.vcf"), str(tmp_path / "calls.vcf"), env=env)  # fmt: skip
        assert kept == [] and counts["dropped_germline_listed"] == len(records)
    usage = run_command("vcf-drop-rare", "-r", str(tmp_path / "ref.fa"), "--af-key", "AF", str(tmp_path / "calls.vcf"))
    assert usage.returncode == 2


# --- rt10b F3: a listed allele inside a complex allele, as a short symbolic allele, or as REF -------


def audit_germline_with(folder: Path, listed: Path, calls: Path, *options: str) -> int:
    """``audit_germline`` with more options (``-r``): the records found carrying a listed allele (with
    ``-r`` a call in a germline window is found too, as vcf-drop-rare --germline-windows drops it:
    tests/test_reverted_records.py; not counted here)."""
    report = folder / "audit.json"
    result = run_command("genoscrub-audit", "--report", str(report), *options, "--germline", str(listed), "--germline-in-vcf", str(calls))
    assert result.returncode in (0, 1), result.stderr
    found = json.loads(report.read_text())["files"][0]["findings"]["germline"]
    return int(found["count"]) - int(found.get("by_key", {}).get("call in a germline window", 0))


def reference_file(folder: Path) -> tuple[str, Path]:
    """A random 3000-base chr1 with ``TAGC`` at 1000, ``GATCCA`` at 1999, ``C`` at 2041 and ``T`` at 2500 (its
    bases, its faidx-indexed FASTA)."""
    rng = random.Random(46)
    chosen = [rng.choice("ACGT") for _ in range(3000)]
    chosen[999:1003], chosen[1998:2004], chosen[2040], chosen[2499] = "TAGC", "GATCCA", "C", "T"
    bases = "".join(chosen)
    path = folder / "ref.fa"
    path.write_text(">chr1\n" + "\n".join(bases[at : at + 60] for at in range(0, 3000, 60)) + "\n")
    pysam.faidx(str(path))
    return bases, path


OTHER_BASE = {"A": "C", "C": "G", "G": "T", "T": "A"}


def complex_cases() -> list[tuple[list[tuple[int, str, str, str]], list[tuple[int, str, str, str]]]]:
    """(listed, called) on ``reference_file``'s bases: a called complex allele (REF and ALT of
    different lengths, no base shared at either end) carrying the listed allele as one of its parts."""
    return [
        ([(1000, "T", "C", ".")], [(1000, "T", "CG", ".")]),  # the SNV, then an insertion
        ([(1000, "T", "C", ".")], [(1000, "TA", "C", ".")]),  # the SNV, then a deletion
        ([(1001, "A", "G", ".")], [(1000, "TA", "G", ".")]),  # a deletion, then the SNV
        ([(1000, "T", "C", ".")], [(1000, "T", "GTC", ".")]),  # an insertion, then the SNV
        ([(2000, "ATCC", "A", ".")], [(1999, "GATCC", "TA", ".")]),  # an SNV beside the listed deletion
    ]


@pytest.mark.parametrize("reference", [False, True], ids=["plain", "with-r"])
@pytest.mark.parametrize("case", range(5))
def test_a_complex_allele_carrying_a_listed_allele_is_germline(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, case: int, reference: bool
) -> None:
    """A haplotype caller writes the normal's SNV beside a somatic indel as one complex allele
    (``T>CA`` holds ``T>C``): vcf-drop-rare --germline drops it and the audit finds it, keyed by its
    parts anchored at either end (as ``bcftools norm --atomize`` writes them), on both paths, with and
    without -r; a complex allele whose parts are not listed stays."""
    _, fasta = reference_file(tmp_path)
    listed, called = complex_cases()[case]
    germline = written(tmp_path, "germline", listed)
    unlisted = (2500, "T", "GA", ".")
    calls = written(tmp_path, "calls", [*called, unlisted])
    options = (["-r", str(fasta)] if reference else []) + ["--af-key", "AF", "--keep-missing", "--germline", str(germline), str(calls)]
    for env in ONE_BY_ONE:
        kept, counts = drop_rare(tmp_path, monkeypatch, *options, env=env)
        assert kept == [f"2500 . {unlisted[1]} {unlisted[2]}"] and counts["dropped_germline_listed"] == 1
    assert audit_germline_with(tmp_path, germline, calls, *(["-r", str(fasta)] if reference else [])) == 1


@pytest.mark.parametrize("reference", [False, True], ids=["plain", "with-r"])
@pytest.mark.parametrize(
    ("kind", "length", "info"), [("DEL", 3, "SVLEN=-3"), ("DEL", 41, "END=2041"), ("DEL", 41, "SVLEN=-41"), ("INS", 7, "SVLEN=7")]
)
def test_a_short_symbolic_allele_of_a_listed_indel_is_germline(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, kind: str, length: int, info: str, reference: bool
) -> None:
    """An SV caller writes a deletion of 30 to 49 bases (or fewer) as ``<DEL>``: one at a listed
    deletion's POS and of its length (SVLEN, or END) is germline, as an insertion's ``<INS>`` of the
    listed length; one of another length stays (vcf-drop-rare --germline, and the audit's
    --germline-in-vcf finds the same)."""
    bases, fasta = reference_file(tmp_path)
    inserted = bases[1999] + "GCGTTGC"[:length]
    listed = (2000, bases[1999 : 2000 + length], bases[1999], ".") if kind == "DEL" else (2000, bases[1999], inserted, ".")
    germline = written(tmp_path, "germline", [listed])
    other = info.replace(str(length), str(length + 1)).replace("2041", "2042")
    for written_info, listed_count in ((info, 1), (other, 0)):
        calls = written(tmp_path, "calls", [(2000, bases[1999], f"<{kind}>", written_info), (2500, "T", "G", ".")])
        options = (["-r", str(fasta)] if reference else []) + ["--af-key", "AF", "--keep-missing", "--germline", str(germline), str(calls)]
        for env in ONE_BY_ONE:
            kept, counts = drop_rare(tmp_path, monkeypatch, *options, env=env)
            assert counts["dropped_germline_listed"] == listed_count and len(kept) == 2 - listed_count
        assert audit_germline_with(tmp_path, germline, calls, *(["-r", str(fasta)] if reference else [])) == listed_count


def test_with_a_reference_a_ref_off_its_bases_is_germline(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """With -r, a REF that is not the reference's base (written as the normal's ALT: ``C>G`` where
    the reference has ``T`` and the list ``T>C``) goes and is found; a REF of N, in lower case, or
    of the reference's bases stays."""
    bases, fasta = reference_file(tmp_path)
    snv = OTHER_BASE[bases[999]]
    germline = written(tmp_path, "germline", [(1000, bases[999], snv, ".")])
    kept_records = [(1500, "N", "A", "."), (1600, bases[1599].lower(), OTHER_BASE[bases[1599]], ".")]
    kept_records.append((1700, bases[1699:1702], bases[1699], "."))
    off_records = [(1000, snv, OTHER_BASE[snv], "."), (1400, OTHER_BASE[bases[1399]] + bases[1400], "A", ".")]
    calls = written(tmp_path, "calls", [*off_records, *kept_records])
    for env in ONE_BY_ONE:
        options = ["-r", str(fasta), "--af-key", "AF", "--keep-missing", "--germline", str(germline), str(calls)]
        kept, counts = drop_rare(tmp_path, monkeypatch, *options, env=env)
        assert counts["dropped_germline_listed"] == 2 and len(kept) == 3
    assert audit_germline_with(tmp_path, germline, calls, "-r", str(fasta)) == 2
    kept, _ = drop_rare(tmp_path, monkeypatch, "--af-key", "AF", "--keep-missing", "--germline", str(germline), str(calls))
    assert len(kept) == 5  # without a reference, no base to hold REF to


# --- red team 17 F1: a REF of several bases carries each of them ----------------------------------

REF_SPAN_CASES = {  # the input's record (POS, REF, ALT), dropped for the REF G at 1002 (0.5 % carry it)
    "deletion over it": ((1000, "AAGAA", "A"), True),
    "deletion ending on it": ((1000, "AAG", "A"), True),
    "padded snv": ((1000, "AAG", "CAG"), True),
    "padded insertion": ((1000, "AAG", "ATAG"), True),
    "deletion before it": ((997, "TCA", "T"), False),
    "snv beside it": ((1001, "A", "C"), False),
    "insertion before it": ((1001, "A", "AT"), False),
}


@pytest.mark.parametrize("case", REF_SPAN_CASES)
def test_a_record_carrying_a_rare_ref_base_inside_its_ref_is_rare(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, case: str) -> None:
    """Red team 17 F1: ``1000 AAGAA A`` (0/1) says the person's other haplotype carries REF, G at
    1002, where the population's REF is 0.005 (``1002 G A AF=0.995``): the rare genotype, as
    ``1002 G A`` (0/1) or a reference block over 1002 says it, and those were dropped. REF was judged
    at POS only, so the deletion, common itself, was kept (with and without --keep-missing) and the
    audit passed it. Now REF is judged at every population site it spans, as a block's is to its
    END, alike on both paths and by the audit; records that do not reach 1002 stay."""
    (pos, ref, alt), dropped = REF_SPAN_CASES[case]
    listed = [(997, "TCA", "T", "AF=0.2"), (1000, ref, alt, "AF=0.3"), (1001, "A", "C,AT", "AF=0.2,0.2"), (1002, "G", "A", "AF=0.995")]
    population = written(tmp_path, "population", listed, indexed=True)
    options = ["--population", str(population), "--af-key", "AF"]
    calls = written(tmp_path, "calls", [(pos, ref, alt, "."), (2500, "C", "G", ".")])
    for keep_missing in ([], ["--keep-missing"]):
        for env in ONE_BY_ONE:
            kept, counts = drop_rare(tmp_path, monkeypatch, *options, *keep_missing, str(calls), env=env)
            expected = ([] if dropped else [str(pos)]) + (["2500"] if keep_missing else [])
            assert [record.split()[0] for record in kept] == expected, (case, env)
            assert counts["dropped_rare"] == int(dropped), (case, env)
    report = tmp_path / "audit.json"
    result = run_command("genoscrub-audit", "--report", str(report), *options, "--population-missing", "ok", str(calls))
    assert result.returncode == int(dropped), result.stderr
    found = json.loads(report.read_text())["files"][0]["findings"]["population"]
    assert found.get("by_key", {}) == ({"REF rarer than 0.01": 1} if dropped else {}), (case, found)


# --- red team 17 F2: a complex allele carries its parts -------------------------------------------

COMPLEX_SPELLINGS = {  # a rare SNV at 1000 (A>G) beside an inserted or deleted base, as one complex allele
    "snv then insertion": (1000, "AT", "GTT"),
    "snv then deletion": (1000, "ATC", "GC"),
    "insertion then snv": (999, "CA", "CTG"),
    "padded": (999, "CATG", "CGTTG"),
}


@pytest.mark.parametrize("spelling", COMPLEX_SPELLINGS)
def test_a_complex_allele_carrying_a_rare_part_is_rare(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, spelling: str) -> None:
    """Red team 17 F2: a haplotype caller writes a germline SNV beside an indel as one complex
    allele (``1000 AT GTT``: ``1000 A G`` and a T inserted). The population lists the SNV as rare
    (``1000 A G AF=0.0001``); written as its parts (``bcftools norm --atomize``) the SNV's record is
    dropped, but joined it was absent, so --keep-missing (the somatic path) kept it and the audit's
    --population-missing ok passed it (--germline matched such parts; the population join did not).
    Now a part known rare makes the record rare, on both paths and in the audit; a common part
    leaves the record missing, as before (kept only with --keep-missing)."""
    pos, ref, alt = COMPLEX_SPELLINGS[spelling]
    for af, dropped in (("0.0001", True), ("0.3", False)):
        population = written(tmp_path, "population", [(1000, "A", "G", f"AF={af}")], indexed=True)
        calls = written(tmp_path, "calls", [(pos, ref, alt, "."), (2500, "C", "G", ".")])
        options = ["--population", str(population), "--af-key", "AF", "--keep-missing", str(calls)]
        for env in ONE_BY_ONE:
            kept, counts = drop_rare(tmp_path, monkeypatch, *options, env=env)
            assert [record.split()[0] for record in kept] == ([] if dropped else [str(pos)]) + ["2500"], (spelling, af, env)
            assert counts["dropped_rare"] == int(dropped), (spelling, af, env)
        report = tmp_path / "audit.json"
        result = run_command("genoscrub-audit", "--report", str(report), *options[:-2], "--population-missing", "ok", str(calls))
        assert result.returncode == int(dropped), result.stderr
        found = json.loads(report.read_text())["files"][0]["findings"]["population"]
        assert found.get("by_key", {}) == ({"allele rarer than 0.01": 1} if dropped else {}), (spelling, af, found)
