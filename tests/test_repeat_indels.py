"""vcf-drop-rare --germline and the audit without -r: an indel placed elsewhere in its repeat still meets.

Without the reference neither command can left-align, so an insertion or deletion is taken to
carry the list's when it could be the same haplotype (filters/nearby_indels.py, and the audit's
own filters/audit_repeat_indels.py): same kind and length, the sequence rotated by the shift,
within 1000 bases, the bases both records show agreeing. Checked here:

- hand-written records in a ``G(CA)8T`` and a ``GA10C`` tract: a deletion and an insertion
  written at either end (and mid-tract, rotated) meet, both ways round; ``bcftools norm -f``
  on a FASTA written here says the two spellings are one variant;
- a shift past the bound, a same-length non-rotation and two left-aligned indels of one
  sequence do not meet; ``chr1`` and ``1`` give the same answer; bulk and one-record paths the
  same bytes; the audit finds what vcf-drop-rare drops;
- hypothesis: two placements of one indel along a drawn repeat always meet, in both rules,
  and the two rules (written apart on purpose) agree on any two indels.
"""

from __future__ import annotations

import random
from pathlib import Path

import pysam
import pysam.bcftools
import pytest
from genoscrub.audit_repeat_indels import RepeatIndels, smallest_turn
from genoscrub.nearby_indels import REPEAT_REACH, NearbyIndels, least_rotation, placement
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.conftest import run_command
from tests.test_allele_spellings import ONE_BY_ONE, audit_germline, drop_rare

CA_AT = 1990  # G, then (CA)8 at 1991..2006, then T
POLY_A_AT = 3000  # G, then A10 at 3001..3010, then C


def reference_bases() -> str:
    """5 kb of seeded random bases with the two tracts written in (1-based POS as above)."""
    rng = random.Random(11)
    bases = [rng.choice("ACGT") for _ in range(5000)]
    for at, tract in ((CA_AT, "G" + "CA" * 8 + "T"), (POLY_A_AT, "G" + "A" * 10 + "C")):
        bases[at - 1 : at - 1 + len(tract)] = tract
    return "".join(bases)


REFERENCE = reference_bases()
HEADER = (
    "##fileformat=VCFv4.2\n##contig=<ID=chr1,length=5000>\n"
    '##INFO=<ID=AF,Number=A,Type=Float,Description="Frequency">\n'
    '##FORMAT=<ID=GT,Number=1,Type=String,Description="Genotype">\n'
    "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT\tN\n"
)


def deletion(pos: int, size: int) -> tuple[int, str, str]:
    """The record deleting ``size`` bases after POS (its padding base), REF from the reference."""
    return pos, REFERENCE[pos - 1 : pos + size], REFERENCE[pos - 1]


def insertion(pos: int, bases: str) -> tuple[int, str, str]:
    return pos, REFERENCE[pos - 1], REFERENCE[pos - 1] + bases


# (the list's record, the input's record): one variant written at two places of its repeat
SPELLINGS = {
    "CA deleted, either end": (deletion(1990, 2), deletion(2004, 2)),
    "AC deleted mid-tract (CA rotated)": (deletion(1990, 2), deletion(2003, 2)),
    "CA inserted, either end": (insertion(1990, "CA"), insertion(2006, "CA")),
    "AC inserted mid-tract": (insertion(1990, "CA"), insertion(1997, "AC")),
    "A deleted, either end of A10": (deletion(3000, 1), deletion(3009, 1)),
    "A inserted, either end of A10": (insertion(3000, "A"), insertion(3010, "A")),
    "AA deleted, either end of A10": (deletion(3000, 2), deletion(3008, 2)),
}


def vcf(records: list[tuple[int, str, str]], chrom: str = "chr1") -> str:
    header = HEADER.replace("ID=chr1,", f"ID={chrom},")
    return header + "".join(f"{chrom}\t{pos}\t.\t{ref}\t{alt}\t50\tPASS\t.\tGT\t0/1\n" for pos, ref, alt in sorted(records))


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.write_text(text)
    return path


def fasta(folder: Path) -> Path:
    path = folder / "ref.fa"
    path.write_text(">chr1\n" + "\n".join(REFERENCE[at : at + 60] for at in range(0, len(REFERENCE), 60)) + "\n")
    pysam.faidx(str(path))
    return path


def normalised_by_bcftools(folder: Path, record: tuple[int, str, str]) -> str:
    """``bcftools norm -f`` of one record: POS REF ALT, left-aligned by an independent tool."""
    path = write(folder, "one.vcf", vcf([record]))
    out = str(pysam.bcftools.norm("-f", str(fasta(folder)), str(path)))
    fields = next(line.split("\t") for line in out.splitlines() if line and line[0] != "#")
    return " ".join((fields[1], fields[3], fields[4]))


@pytest.mark.parametrize("name", sorted(SPELLINGS))
def test_two_spellings_of_one_indel_meet_without_the_reference(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, name: str) -> None:
    """bcftools norm -f puts both spellings at one place; without -r vcf-drop-rare drops the
    input's either way round, counted as nearby, on both paths, and the audit finds it."""
    listed, called = SPELLINGS[name]
    assert normalised_by_bcftools(tmp_path, listed) == normalised_by_bcftools(tmp_path, called)
    for first, second in ((listed, called), (called, listed)):
        germline, calls = write(tmp_path, "germline.vcf", vcf([first])), write(tmp_path, "calls.vcf", vcf([second]))
        for env in ONE_BY_ONE:
            options = ["--af-key", "AF", "--keep-missing", "--germline", str(germline), str(calls)]
            kept, counts = drop_rare(tmp_path, monkeypatch, *options, env=env)
            assert kept == [] and counts["dropped_germline_listed_nearby"] == 1, (name, first, second)
        assert audit_germline(tmp_path, germline, calls) == 1
        kept, counts = drop_rare(tmp_path, monkeypatch, "-r", str(fasta(tmp_path)), "--af-key", "AF", "--keep-missing",
                                 "--germline", str(germline), str(calls))  # fmt: skip
        assert kept == [] and counts["dropped_germline_listed"] == 1 and counts["dropped_germline_listed_nearby"] == 0


# records that must NOT meet the list's 1990 GCA G (CA deleted at 1991) without -r
NOT_MET = [
    (1990 + REPEAT_REACH + 4, "ACA", "A"),  # the CA deleted 1004 bases on: past the bound
    (2100, "TCG", "T"),  # two bases deleted nearby, not a rotation of CA
    (2500, "TCA", "T"),  # CA deleted, left-aligned (T before it): two left-aligned calls are two variants
    (1500, "ACA", "A"),  # CA deleted left of the list's, whose padding G is no A: the list's is left-aligned
    (2200, "A", "ACA"),  # an insertion of CA: another kind
    (2300, "ACAC", "A"),  # CAC deleted: another length
]
MET = [
    (1990 + REPEAT_REACH, "ACA", "A"),  # at the bound: 1000 bases on, A before CA (the safe direction)
    (2400, "ACAC", "AC"),  # CA deleted at 2401 (trimmed so), the A shown before it agreeing
]


@pytest.mark.parametrize("one", [False, True], ids=["bulk", "one-by-one"])
def test_what_meets_and_what_does_not(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, one: bool) -> None:
    """The bound, a non-rotation, left-aligned pairs, other kinds and lengths; one run each of the
    two contig spellings gives the same answer, and the audit finds exactly what goes."""
    env = ONE_BY_ONE[one]
    answers = []
    for list_name, input_name in (("chr1", "chr1"), ("1", "chr1"), ("chr1", "1")):
        germline = write(tmp_path, "germline.vcf", vcf([deletion(1990, 2)], list_name))
        calls = write(tmp_path, "calls.vcf", vcf([*NOT_MET, *MET], input_name))
        options = ["--af-key", "AF", "--keep-missing", "--germline", str(germline), str(calls)]
        kept, counts = drop_rare(tmp_path, monkeypatch, *options, env=env)
        assert sorted(kept) == sorted(f"{pos} . {ref} {alt}" for pos, ref, alt in NOT_MET)
        assert counts["dropped_germline_listed_nearby"] == len(MET)
        assert audit_germline(tmp_path, germline, calls) == len(MET)
        answers.append(kept)
    assert answers[0] == answers[1] == answers[2]


def test_bulk_and_one_record_paths_give_the_same_bytes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A list of every spelling's left-aligned form, long and multi-allelic records among the
    input's: the same output and counts on both paths."""
    long_unit = "ACGTTGCAACGTTGCAACGTTGCAACGTTGCAACGTTGCAA"
    listed = [first for first, _ in SPELLINGS.values()] + [(4000, "G", "G" + long_unit), (4200, "TACGT", "T")]
    calls = [second for _, second in SPELLINGS.values()] + [*NOT_MET, *MET]
    # the long insertion 10 bases on (rotated by 10, padded by its last base), an SNV, a multi-allelic call
    calls += [(4010, "C", "C" + long_unit[10:] + long_unit[:10]), (4100, "C", "T"), (4212, "TACGTA", "T,TA"), (2700, "aca", "a")]
    listed.append((3700, "gtca", "gt"))  # lower case on both sides
    germline, input_path = write(tmp_path, "germline.vcf", vcf(listed)), write(tmp_path, "calls.vcf", vcf(calls))
    results = []
    for env in ONE_BY_ONE:
        with monkeypatch.context() as patch:
            for key, value in env.items():
                patch.setenv(key, value)
            result = run_command("vcf-drop-rare", "--af-key", "AF", "--keep-missing", "--germline", str(germline), str(input_path))
        assert result.returncode == 0, result.stderr
        results.append((result.stdout, result.stderr))
    assert results[0] == results[1]
    kept = [line.split("\t")[1] for line in results[0][0].decode().splitlines() if not line.startswith("#")]
    assert "4010" not in kept and "4100" in kept and "4212" not in kept and "2700" not in kept


# --- the rules themselves -----------------------------------------------------------------------


@settings(max_examples=300, deadline=None)
@given(st.text("ACGT", min_size=1, max_size=40))
def test_least_rotations(bases: str) -> None:
    data = bases.encode()
    best = min(data[at:] + data[:at] for at in range(len(data)))
    for start in (least_rotation(data), smallest_turn(data)):
        assert data[start:] + data[:start] == best


def placements_along(unit: str, copies: int, size: int, deletion: bool, seed: int) -> tuple[str, list[tuple[int, str, str]]]:
    """A reference with ``unit * copies`` and every record (1-based POS, REF, ALT, padded by one base)
    that deletes or inserts ``size`` bases of the repeat with the same haplotype."""
    rng = random.Random(seed)
    left = "".join(rng.choice("ACGT") for _ in range(40))
    reference = left + unit * copies + "".join(rng.choice("ACGT") for _ in range(40))
    start = len(left)
    if deletion:
        haplotype = reference[:start] + reference[start + size :]
        places = [at for at in range(1, len(reference) - size) if reference[:at] + reference[at + size :] == haplotype]
        return reference, [(at, reference[at - 1 : at + size], reference[at - 1]) for at in places]
    inserted = reference[start : start + size]
    haplotype = reference[:start] + inserted + reference[start:]
    places = [at for at in range(1, len(reference)) if reference[:at] + haplotype[at : at + size] + reference[at:] == haplotype]
    return reference, [(at, reference[at - 1], reference[at - 1] + haplotype[at : at + size]) for at in places]


def both_rules_meet(listed: tuple[int, str, str], called: tuple[int, str, str]) -> tuple[bool, bool]:
    """The scrubber's and the audit's answer for one listed and one called record (trimmed as each
    trims); records that trim alike meet by the exact key, before either rule."""
    from genoscrub.alleles import normalised
    from genoscrub.audit_vcf import trimmed

    def scrubber_placement(record: tuple[int, str, str]):  # type: ignore[no-untyped-def]
        pos, ref, alt = record
        return placement(normalised(pos, ref.encode(), alt.encode()), pos, ref.encode())

    if normalised(listed[0], listed[1].encode(), listed[2].encode()) == normalised(called[0], called[1].encode(), called[2].encode()):
        return True, True
    nearby = NearbyIndels()
    pos, ref, alt = listed
    nearby.add_allele(normalised(pos, ref.encode(), alt.encode()), pos, ref.encode())
    nearby.sort()
    repeats = RepeatIndels()
    pos, ref, alt = listed
    repeats.add(pos - 1, ref.encode(), trimmed(pos - 1, ref.encode(), alt.encode()))
    pos, ref, alt = called
    audit = repeats.meets(pos - 1, ref.encode(), trimmed(pos - 1, ref.encode(), alt.encode()))
    return nearby.meets(scrubber_placement(called)), audit


@settings(max_examples=150, deadline=None)
@given(
    st.sampled_from(["A", "CA", "AGC", "ATCT", "AAC", "GGGAC"]), st.integers(2, 12), st.integers(1, 3), st.booleans(), st.integers(0, 2**32)
)
def test_two_placements_of_one_indel_always_meet(unit: str, copies: int, units: int, is_deletion: bool, seed: int) -> None:
    """Every pair of places a drawn indel can be written along a drawn repeat meets, in both rules."""
    size = min(len(unit) * units, len(unit) * copies)
    _, records = placements_along(unit, copies, size, is_deletion, seed)
    rng = random.Random(seed)
    for _ in range(4):
        listed, called = rng.choice(records), rng.choice(records)
        if listed != called:
            assert both_rules_meet(listed, called) == (True, True), (unit, copies, listed, called)


@settings(max_examples=300, deadline=None)
@given(
    st.tuples(st.integers(100, 140), st.text("ACGTN", min_size=1, max_size=4), st.integers(0, 3), st.integers(0, 3), st.booleans()),
    st.tuples(st.integers(100, 140), st.text("ACGTN", min_size=1, max_size=4), st.integers(0, 3), st.integers(0, 3), st.booleans()),
    st.integers(0, 2**32),
)
def test_the_scrubber_and_the_audit_agree_on_any_two_indels(first: tuple, second: tuple, seed: int) -> None:
    """Random indels padded with random shown bases: the two rules, written apart, give one answer."""
    rng = random.Random(seed)

    def record(drawn: tuple) -> tuple[int, str, str]:
        pos, bases, before, after, is_deletion = drawn
        left = "".join(rng.choice("ACGT") for _ in range(before + 1))
        right = "".join(rng.choice("ACGT") for _ in range(after))
        if is_deletion:
            return pos - before, left + bases + right, left + right
        return pos - before, left + right, left + bases + right

    listed, called = record(first), record(second)
    scrubber, audit = both_rules_meet(listed, called)
    assert scrubber == audit, (listed, called)


@settings(max_examples=400, deadline=None)
@given(st.integers(0, 2**32), st.booleans(), st.integers(1, 4))
def test_never_misses_one_haplotype_written_twice(seed: int, is_deletion: bool, size: int) -> None:
    """A reference of few letters (repeats everywhere), two indels of ``size`` bases at random
    places, each record padded with up to 3 of the reference's bases on either side: where the two
    make one haplotype, both rules meet (never a condition that misses a true equivalence)."""
    rng = random.Random(seed)
    reference = "".join(rng.choice("AC" if rng.random() < 0.7 else "ACG") for _ in range(40))
    inserted = "".join(rng.choice("AC") for _ in range(size))

    def record(at: int, bases: str) -> tuple[tuple[int, str, str], str]:
        """The record of an indel at 0-based ``at`` (deleting there, or inserting before it) and its haplotype."""
        before, after = rng.randint(1, 3), rng.randint(0, 3)
        start = max(0, at - before)
        if is_deletion:
            ref = reference[start : at + size + after]
            alt = reference[start:at] + reference[at + size : at + size + after]
            return (start + 1, ref, alt), reference[:at] + reference[at + size :]
        ref = reference[start : at + after]
        alt = reference[start:at] + bases + reference[at : at + after]
        return (start + 1, ref, alt), reference[:at] + bases + reference[at:]

    first_at, second_at = rng.randint(4, 30), rng.randint(4, 30)
    first, first_haplotype = record(first_at, inserted)
    second_bases = inserted
    if not is_deletion:  # the insertion at the second place that gives the first's haplotype, if one does
        second_bases = first_haplotype[second_at : second_at + size]
    second, second_haplotype = record(second_at, second_bases)
    if first_haplotype == second_haplotype and first[1] != first[2] and second[1] != second[2]:
        assert both_rules_meet(first, second) == (True, True), (reference, first, second)


@pytest.mark.parametrize("seed", range(2))
def test_random_call_sets_against_the_rule_one_pair_at_a_time(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, seed: int) -> None:
    """Random indels (and SNVs) close together on a repeat-rich reference, padded with up to 3 of
    its bases on either side, in a list and an input: vcf-drop-rare drops, on both paths, exactly
    the input records the rule taken one pair at a time says (an exact key, or ``both_rules_meet``),
    and the audit finds the same ones: the numpy storage and the selection before the rule lose none."""
    from genoscrub.alleles import normalised

    rng = random.Random(seed)
    reference = "".join(rng.choice("AC" if rng.random() < 0.6 else "ACGT") for _ in range(3000))

    def drawn(used: set[int]) -> tuple[int, str, str]:
        while True:
            at = rng.randint(10, len(reference) - 20)
            if at not in used:
                break
        used.add(at)
        before, after, size = rng.randint(0, 2), rng.randint(0, 3), rng.randint(1, 4)
        start = at - 1 - before  # 0-based start of REF: the padding base and ``before`` more
        kind = rng.random()
        if kind < 0.15:
            return start + 1, reference[start], "G" if reference[start] != "G" else "T"
        if kind < 0.6:
            ref = reference[start : at + size + after]
            return start + 1, ref, reference[start:at] + reference[at + size : at + size + after]
        inserted = "".join(rng.choice("AC") for _ in range(size))
        ref = reference[start : at + after]
        return start + 1, ref, reference[start:at] + inserted + reference[at : at + after]

    used: set[int] = set()
    listed = [drawn(used) for _ in range(120)]
    used = set()
    calls = [drawn(used) for _ in range(150)]
    header = HEADER.replace("length=5000", f"length={len(reference)}")
    germline = write(tmp_path, "germline.vcf", vcf(listed).replace(HEADER, header))
    input_path = write(tmp_path, "calls.vcf", vcf(calls).replace(HEADER, header))
    exact = {normalised(pos, ref, alt) for pos, ref, alt in listed}

    def indel(record: tuple[int, str, str]) -> bool:
        _, ref, alt = normalised(*record)
        return bool(ref) != bool(alt)

    listed_indels = [other for other in listed if indel(other)]
    def met(called: tuple[int, str, str]) -> bool:
        near = (other for other in listed_indels if abs(other[0] - called[0]) < REPEAT_REACH + 20)
        return normalised(*called) in exact or (indel(called) and any(both_rules_meet(other, called)[0] for other in near))

    carrying = [call for call in calls if met(call)]
    sites = {pos for pos, _, _ in carrying}  # a record beside a carrying one at its POS goes with it (record_traces)
    expected = sorted(f"{pos} . {ref} {alt}" for pos, ref, alt in calls if pos not in sites)
    outputs = []
    for env in ONE_BY_ONE:
        options = ["--af-key", "AF", "--keep-missing", "--germline", str(germline), str(input_path)]
        kept, counts = drop_rare(tmp_path, monkeypatch, *options, env=env)
        assert sorted(kept) == expected
        outputs.append((kept, counts))
    assert outputs[0] == outputs[1]
    assert counts["dropped_germline_listed_nearby"] > 0
    assert audit_germline(tmp_path, germline, input_path) == len(carrying)
