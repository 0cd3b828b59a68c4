"""workflow/sam_chain.py: the SAM filters of a BAM part in one process must be the pipe of the
commands, byte for byte; and in process (genoscrub.sam_stage.chained), the stages' output must
not depend on where the blocks they are handed end.

Each case runs the same command lines twice, joined by pipes and given to the chain, and
compares what a user or the workflow could see: stdout, each --report, the --map-out linkage
table, the summary lines, and for bad data or bad options the exit status and the one line on
stderr (naming the command that failed, and the line as that command numbered its stdin).
"""

from __future__ import annotations

import os
import shlex
import subprocess
import sys
from collections.abc import Iterable
from pathlib import Path

import pytest
from genoscrub import scan
from genoscrub.record_reverter import ALIGNMENT_LISTS, TAGS_KEPT_AT_WINDOWS
from genoscrub.report import Report
from genoscrub.sam_columns import BAD_NUMBER, PAST_CONTIG_END
from genoscrub.sam_mask_regions import mask_stage
from genoscrub.sam_revert_germline import revert_stage
from genoscrub.sam_scrub_rg import scrub_stage
from genoscrub.sam_stage import SamStage, chained
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.conftest import BIN, ROOT, run_command

CHAIN = ROOT / "workflow" / "sam_chain.py"
SIMULATION = {"pairs": 6000}
"""About 4 MB of SAM text: each command reads it in several blocks, and the chain hands every
stage the previous one's blocks, not its own."""


@pytest.fixture(scope="module")
def files(simulated: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """The simulated set's files, a private key, and the tumour BAM as SAM text."""
    folder = tmp_path_factory.mktemp("chain")
    key = folder / "site.key"
    key.write_bytes(b"k" * 32)
    key.chmod(0o600)
    sam = folder / "tumour.sam"
    decoded = subprocess.run(["samtools", "view", "-h", "--no-PG", str(simulated / "tumour.bam")], check=True, capture_output=True)
    sam.write_bytes(decoded.stdout)
    return {
        "ref": str(simulated / "ref.fa"),
        "germline": str(simulated / "germline.vcf.gz"),
        "repeats": str(simulated / "repeats.bed"),
        "ids": str(simulated / "ids.tsv"),
        "bam": str(simulated / "tumour.bam"),
        "sam": str(sam),
        "key": str(key),
    }


def steps_of(case: str, files: dict[str, str], out: Path) -> list[str]:
    """The command lines of a case, with reports and linkage table written under ``out``."""
    ref, key = shlex.quote(files["ref"]), shlex.quote(files["key"])
    reports = [f"--report {shlex.quote(str(out / f'{step}.json'))}" for step in ("scrub", "revert", "mask")]
    map_out = f"--map-out {shlex.quote(str(out / 'links.tsv'))}"
    only_tags = "--only-tags " + ",".join(sorted(tag.decode() for tag in TAGS_KEPT_AT_WINDOWS | ALIGNMENT_LISTS))
    return {
        # The workflow's own three steps (workflow/rules/bam.smk).
        "workflow": [
            f"sam-scrub-rg -q --names --key-file {key} --map {shlex.quote(files['ids'])} {map_out} --no-map-out-read-names {only_tags}"
            f" {reports[0]}",
            f"sam-revert-germline -q -r {ref} -v {shlex.quote(files['germline'])} --key-file {key} --keep-alignment-lists {reports[1]}",
            f"sam-mask-regions -q -r {ref} --bed {shlex.quote(files['repeats'])} --flank 0 --drop-alignment-lists {reports[2]}",
        ],
        # Counter pseudonyms, every difference reverted, reads touching a region dropped with their mates.
        "all-and-drop": [
            f"sam-scrub-rg --names {map_out} {reports[0]}",
            f"sam-revert-germline -r {ref} --all --key-file {key} --keep-secondary-seq {reports[1]}",
            f"sam-mask-regions --bed {shlex.quote(files['repeats'])} --flank 5 --drop {reports[2]}",
        ],
        # Two steps, keyed names written to the linkage table too.
        "two-steps": [
            f"sam-scrub-rg -q --names --key-file {key} {map_out} --keep-tag XS --drop-tag MD {reports[0]}",
            f"sam-revert-germline -q -r {ref} --all --key-file {key} --keep-unmapped {reports[1]}",
        ],
        "one-step": [f"sam-mask-regions -q -r {ref} --bed {shlex.quote(files['repeats'])} {reports[2]}"],
    }[case]


def pipe(steps: list[str], stdin: bytes, cwd: Path) -> subprocess.CompletedProcess[bytes]:
    """The commands joined by pipes, as a user runs them (bin/ on PATH); the status is the
    first failing command's (the commands after it fail or not on the text it left)."""
    script = " | ".join(steps) + '; for status in "${PIPESTATUS[@]}"; do [ "$status" = 0 ] || exit "$status"; done'

    environment = os.environ | {"PATH": f"{BIN}:{os.environ['PATH']}"}
    return subprocess.run(["bash", "-c", script], input=stdin, capture_output=True, cwd=cwd, env=environment, timeout=300)


def chain(steps: list[str], stdin: bytes, cwd: Path) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run([sys.executable, str(CHAIN), *steps], input=stdin, capture_output=True, cwd=cwd, timeout=300)


def outputs(folder: Path) -> dict[str, object]:
    """The files a run wrote, as bytes: reports too (counts in the order of their names, so
    where blocks end changes no byte)."""
    return {path.name: path.read_bytes() for path in sorted(folder.iterdir())}


def summaries(stderr: bytes) -> dict[str, dict[str, str]]:
    """Summary lines by command, each as its counts (a pipe's commands end in any order)."""
    lines = (line.split(": ", 1) for line in stderr.decode().splitlines())
    return {command: dict(part.rsplit(" ", 1) for part in counts.split(", ")) for command, counts in lines}


@pytest.mark.parametrize("case", ["workflow", "all-and-drop", "two-steps", "one-step"])
# BAM input: make test-slow
@pytest.mark.parametrize("encoded", [pytest.param(False, id="sam"), pytest.param(True, marks=pytest.mark.slow, id="bam")])
def test_the_chain_writes_what_the_pipe_writes(case: str, encoded: bool, files: dict[str, str], tmp_path: Path) -> None:
    stdin = Path(files["bam" if encoded else "sam"]).read_bytes()
    runs = {}
    for how, runner in (("pipe", pipe), ("chain", chain)):
        out = tmp_path / how
        out.mkdir()
        result = runner(steps_of(case, files, out), stdin, tmp_path)
        assert result.returncode == 0, result.stderr.decode()
        runs[how] = (result.stdout, outputs(out), summaries(result.stderr))
    assert runs["chain"] == runs["pipe"]
    assert runs["chain"][0].count(b"\n") > 10_000
    if case == "workflow":
        assert (tmp_path / "chain" / "links.tsv").stat().st_mode & 0o077 == 0


def test_a_read_placed_at_a_paralog_of_a_region_is_masked_in_the_workflows_chain(files: dict[str, str], tmp_path: Path) -> None:
    """A read of a repeat placed (MAPQ 3) at another locus, its XA naming the repeat: the masker
    masks every base (it may come from the region), so must the workflow's chain, where the
    reverter runs first and removes XA/XB/SA from every record; a chimeric part (SA) in the
    region masks the clip. Afterwards no record keeps an alignment list (they may show germline
    indels), in the chain as in the pipe, and the other reads are what the reverter alone makes."""
    import pysam

    with pysam.FastaFile(files["ref"]) as fasta:
        contig, start, end = Path(files["repeats"]).read_text().split("\t")[:3]
        source, placed = int(start) - 20, int(end) + 3000
        read = fasta.fetch(contig, source, source + 100)
        elsewhere = fasta.fetch(contig, placed, placed + 100)
    header = b"".join(line for line in Path(files["sam"]).read_bytes().splitlines(keepends=True) if line.startswith(b"@SQ"))
    records = [
        f"paralog\t0\t{contig}\t{placed + 1}\t3\t100M\t*\t0\t0\t{read}\t{'I' * 100}\tXA:Z:{contig},+{source + 1},100M,0;",
        f"chimera\t2048\t{contig}\t{placed + 1}\t60\t60M40S\t*\t0\t0\t{elsewhere[:60]}{read[:40]}\t{'I' * 100}"
        f"\tSA:Z:{contig},{source + 1},+,60S40M,60,0;",
        f"other\t0\t{contig}\t{placed + 1}\t3\t100M\t*\t0\t0\t{elsewhere}\t{'I' * 100}\tXA:Z:{contig},+{placed + 1001},100M,0;",
    ]
    stdin = header + "".join(record + "\n" for record in records).encode()
    steps = steps_of("workflow", files, tmp_path)
    piped, chained = pipe(steps, stdin, tmp_path), chain(steps, stdin, tmp_path)
    assert chained.returncode == piped.returncode == 0, chained.stderr
    assert chained.stdout == piped.stdout
    out = [line.split("\t") for line in chained.stdout.decode().splitlines() if not line.startswith("@")]
    assert len(out) == 3  # paralog, chimera, other (their names pseudonymised)
    assert out[0][9] == "N" * 100 and out[1][9] == elsewhere[:60] + "N" * 40 and out[2][9] == elsewhere
    assert not [tag for fields in out for tag in fields[11:] if tag[:2] in ("SA", "XA", "XB")]


def test_cram_is_decoded_with_the_first_commands_reference(files: dict[str, str], tmp_path: Path) -> None:
    cram = subprocess.run(["samtools", "view", "-C", "-T", files["ref"], files["bam"]], capture_output=True, check=True).stdout
    steps = steps_of("workflow", files, tmp_path)
    first, others = steps[0], steps[1:]
    for chain_steps in ([f"{first} -T {shlex.quote(files['ref'])}", *others], others):
        piped, chained = pipe(chain_steps, cram, tmp_path), chain(chain_steps, cram, tmp_path)
        assert chained.returncode == piped.returncode == 0, chained.stderr
        assert chained.stdout == piped.stdout and chained.stdout.count(b"\n") > 10_000


def test_the_one_record_path_agrees_in_the_chain(files: dict[str, str], tmp_path: Path) -> None:
    """GENOSCRUB_ONE_BY_ONE=1 reaches every stage of the chain as it reaches every command."""
    stdin = Path(files["sam"]).read_bytes()
    steps = steps_of("workflow", files, tmp_path)
    bulk = chain(steps, stdin, tmp_path)
    os.environ["GENOSCRUB_ONE_BY_ONE"] = "1"
    try:
        one_by_one = chain(steps, stdin, tmp_path)
    finally:
        del os.environ["GENOSCRUB_ONE_BY_ONE"]
    assert bulk.returncode == one_by_one.returncode == 0
    assert bulk.stdout == one_by_one.stdout


def edited(sam: bytes, line: int, column: int, value: bytes) -> bytes:
    lines = sam.split(b"\n")
    fields = lines[line - 1].split(b"\t")
    fields[column - 1] = value
    lines[line - 1] = b"\t".join(fields)
    return b"\n".join(lines)


def with_split_part(sam: bytes, line: int) -> bytes:
    """``sam`` with an ``SA`` tag on line ``line`` naming a part on the record's own contig."""
    lines = sam.split(b"\n")
    fields = lines[line - 1].split(b"\t")
    lines[line - 1] += b"\tSA:Z:%s,%s,+,10M,60,0;" % (fields[2], fields[3])
    return b"\n".join(lines)


def bad_inputs(sam: bytes) -> dict[str, bytes]:
    header = sum(1 for line in sam.split(b"\n") if line.startswith(b"@"))
    return {
        # sam-scrub-rg stops at a record of three columns.
        "short record": b"\n".join([*sam.split(b"\n")[: header + 5], b"r1\t0\tchr1", b""]),
        # sam-scrub-rg passes it; sam-revert-germline stops, at the line of its own stdin
        # (sam-scrub-rg's header has fewer lines than the input's). An SA, which sam-scrub-rg
        # keeps for the commands after it and the reverter removes, makes it read the record.
        "cigar against seq": with_split_part(edited(sam, header + 40, 6, b"10M"), header + 40),
    }


@pytest.mark.parametrize("problem", ["short record", "cigar against seq"])
def test_bad_data_ends_the_chain_as_it_ends_the_pipe(problem: str, files: dict[str, str], tmp_path: Path) -> None:
    """The chain stops where the pipe's first command fails, with its status and its line;
    unlike the pipe it writes no report at all (in a pipe the commands after the failing one
    may finish on the text it left, and report it); the linkage table holds what the pipe's
    holds: the header's IDs, assigned before the bad record."""
    stdin = bad_inputs(Path(files["sam"]).read_bytes())[problem]
    (tmp_path / "pipe").mkdir()
    (tmp_path / "chain").mkdir()
    piped = pipe(steps_of("workflow", files, tmp_path / "pipe"), stdin, tmp_path)
    chained = chain(steps_of("workflow", files, tmp_path / "chain"), stdin, tmp_path)
    message = chained.stderr.decode()
    failing = "sam-scrub-rg" if problem == "short record" else "sam-revert-germline"
    assert chained.returncode == piped.returncode == 1
    assert message.startswith(f"{failing}: <stdin>:") and message.count("\n") == 1
    assert message in piped.stderr.decode().splitlines(keepends=True)
    assert not list((tmp_path / "chain").glob("*.json"))
    assert (tmp_path / "chain" / "links.tsv").read_bytes() == (tmp_path / "pipe" / "links.tsv").read_bytes()


def test_a_truncated_bam_is_an_error_of_the_first_step(files: dict[str, str], tmp_path: Path) -> None:
    data = Path(files["bam"]).read_bytes()
    result = chain(steps_of("workflow", files, tmp_path), data[: len(data) // 2], tmp_path)
    assert result.returncode == 1
    assert result.stderr.decode().startswith("sam-scrub-rg: <stdin>") and result.stderr.count(b"\n") == 1
    assert not (tmp_path / "scrub.json").exists()


@pytest.mark.parametrize(
    "steps, expected",
    [
        ([], "sam-chain: usage:"),
        (["samtools view -b"], "sam-chain: each argument is one command line of sam-scrub-rg, sam-revert-germline, sam-mask-regions; not"),
        (["sam-scrub-rg --bogus"], "sam-scrub-rg: No such option: --bogus"),
        (["sam-scrub-rg --help"], "sam-chain: sam-scrub-rg: --help has no place in a chain"),
        (["sam-scrub-rg --names --key-file /nonexistent/site.key"], "sam-scrub-rg: "),
        (["sam-scrub-rg in.sam"], "sam-scrub-rg: a chain reads stdin and writes SAM text to stdout: no INPUT, -o or -O"),
        (["sam-scrub-rg", "sam-revert-germline --all -r REF -o out.sam"], "sam-revert-germline: a chain reads stdin"),
        (["sam-scrub-rg", "sam-mask-regions --bed BED -O bam"], "sam-mask-regions: a chain reads stdin"),
        (["sam-scrub-rg", "sam-revert-germline --all"], "sam-revert-germline: give the reference with -r/--reference"),
        (["sam-scrub-rg --platform-unit ''", "sam-revert-germline --all -r REF"], "sam-scrub-rg: --platform-unit must be"),
        (["sam-revert-germline --all -r REF --keep-alignment-lists", "sam-mask-regions --bed BED"],
         "sam-revert-germline: --keep-alignment-lists needs a sam-mask-regions --drop-alignment-lists after it"),
    ],
)
def test_bad_options_are_refused_before_any_record(steps: list[str], expected: str, files: dict[str, str], tmp_path: Path) -> None:
    steps = [step.replace("REF", files["ref"]).replace("BED", files["repeats"]) for step in steps]
    result = chain(steps, Path(files["sam"]).read_bytes(), tmp_path)
    message = result.stderr.decode()
    assert result.returncode == 2 and result.stdout == b""
    assert message.startswith(expected) and message.count("\n") == 1, message


def test_an_open_key_file_is_refused_as_the_command_refuses_it(files: dict[str, str], tmp_path: Path) -> None:
    key = tmp_path / "open.key"
    key.write_bytes(b"k" * 32)
    key.chmod(0o644)
    steps = [f"sam-scrub-rg --names --key-file {key}", f"sam-revert-germline --all -r {files['ref']}"]
    stdin = Path(files["sam"]).read_bytes()
    piped, chained = pipe(steps, stdin, tmp_path), chain(steps, stdin, tmp_path)
    assert chained.returncode == piped.returncode == 2 and chained.stderr.startswith(b"sam-scrub-rg: ")
    assert chained.stderr in piped.stderr.splitlines(keepends=True)


def test_a_closed_downstream_pipe_ends_the_chain_quietly(files: dict[str, str], tmp_path: Path) -> None:
    steps = " ".join(shlex.quote(step) for step in steps_of("workflow", files, tmp_path))
    sam = shlex.quote(files["sam"])
    script = f"{shlex.quote(sys.executable)} {CHAIN} {steps} < {sam} | head -c 100 > /dev/null; echo ${{PIPESTATUS[0]}}"
    result = subprocess.run(["bash", "-c", script], capture_output=True, timeout=300)
    assert result.stdout.strip() == b"141" and result.stderr == b""


def stages(files: dict[str, str]) -> tuple[list[SamStage], list[Report]]:
    """The workflow's three stages, built in process (keyed names, germline sites, regions)."""
    reports = [Report("sam-scrub-rg"), Report("sam-revert-germline"), Report("sam-mask-regions")]
    built = [
        scrub_stage(reports[0], "-", names=True, key_file=Path(files["key"])),
        revert_stage(
            reports[1], "-", reference_path=files["ref"], variants=files["germline"], keep_alignment_lists=True, key_file=Path(files["key"])
        ),
        mask_stage(reports[2], "-", bed=[files["repeats"]], flank=0, reference=files["ref"], drop_alignment_lists=True),
    ]
    return built, reports


def blocks_of(text: bytes, cuts: list[int]) -> list[tuple[int, int, bytes]]:
    """``text`` as whole-line blocks ending after the given lines (as streams.whole_line_blocks
    numbers them)."""
    lines = text.splitlines(keepends=True)
    edges = sorted({0, len(lines), *(cut for cut in cuts if 0 < cut < len(lines))})
    return [(start + 1, end - start, b"".join(lines[start:end])) for start, end in zip(edges, edges[1:], strict=False)]


def run_stages(built: list[SamStage], blocks: list[tuple[int, int, bytes]]) -> bytes:
    try:
        out = b"".join(chained(built, blocks))
        for stage in built:
            stage.finish()
    finally:
        for stage in built:
            stage.close()
    return out


Excerpt = tuple[bytes, bytes, list[dict[str, object]]]


@pytest.fixture(scope="module")
def excerpt(files: dict[str, str]) -> Excerpt:
    """The first 1,500 records of the tumour BAM, and what the three stages make of it when
    each reads the previous one's whole output as one block."""
    lines = Path(files["sam"]).read_bytes().splitlines(keepends=True)
    header = sum(1 for line in lines if line.startswith(b"@"))
    text = b"".join(lines[: header + 1500])
    out = text
    built, reports = stages(files)
    for stage in built:
        out = run_stages([stage], [(1, scan.count_lines(out), out)])
    return text, out, [report.as_dict() for report in reports]


@settings(max_examples=25, deadline=None)
@given(cuts=st.lists(st.integers(min_value=1, max_value=1520), max_size=12))
def test_where_blocks_end_changes_nothing(cuts: list[int], files: dict[str, str], excerpt: Excerpt) -> None:
    """In a pipe each command reads its stdin in its own blocks; in the chain a stage gets the
    previous stage's chunks. Neither may change a byte or a count."""
    text, expected, expected_reports = excerpt
    built, reports = stages(files)
    assert run_stages(built, blocks_of(text, cuts)) == expected
    assert [report.as_dict() for report in reports] == expected_reports


PLACE_COMMANDS = {
    "sam-scrub-rg": ["-q"],
    "sam-mask-regions": ["-q", "-r", "ref.fa", "--bed", "regions.bed", "--flank", "0"],
    "sam-revert-germline": ["-q", "-r", "ref.fa", "--all"],
}


def refusals(tmp_path: Path, line: list[str], one_by_one: str, commands: Iterable[str]) -> dict[str, subprocess.CompletedProcess[bytes]]:
    """Each command on a good record and then ``line`` (SAM text on stdin), in ``tmp_path``."""
    if not (tmp_path / "ref.fa.fai").exists():
        (tmp_path / "ref.fa").write_text(">chr1\n" + "ACGT" * 30 + "\n")
        subprocess.run(["samtools", "faidx", str(tmp_path / "ref.fa")], check=True)
        (tmp_path / "regions.bed").write_text("chr1\t40\t60\n")
    good = ["r1", "0", "chr1", "1", "60", "4M", "*", "0", "0", "ACGT", "IIII"]
    text = ("@SQ\tSN:chr1\tLN:120\n" + "\t".join(good) + "\n" + "\t".join(line) + "\n").encode()
    env = {"GENOSCRUB_ONE_BY_ONE": one_by_one}
    return {command: run_command(command, *PLACE_COMMANDS[command], input=text, cwd=tmp_path, env=env) for command in commands}


@pytest.mark.parametrize("one_by_one", ["", "1"])
@pytest.mark.parametrize("column", [1, 3, 7])
def test_the_position_commands_refuse_a_number_past_2_31_alike(tmp_path: Path, one_by_one: str, column: int) -> None:
    """sam-revert-germline and sam-mask-regions read FLAG, POS and PNEXT with one rule
    (``sam_columns.ReadPlaces``): a value past 2^31-1 (what BAM holds) names no place, and one
    of more than 10 digits (zero-padded) is refused too, so both refuse it on its line, in bulk
    and one record at a time; 2^31-1 and 10 digits pass (a POS of 2^31-1 is then refused as past the contig).
    Neither may keep the read's bases as
    they are."""
    cases = ((str(2**31), True), (str(2**31 - 1), False), ("00000000001", True), ("0000000001", False))
    for value, refused in cases:
        line = ["r2", "0", "chr1", "1", "60", "4M", "*", "0", "0", "ACGT", "IIII"]
        line[column] = value
        for command, result in refusals(tmp_path, line, one_by_one, ["sam-mask-regions", "sam-revert-germline"]).items():
            if refused:
                assert result.returncode == 1, (command, value, result.stderr)
                assert result.stderr.decode() == f"{command}: <stdin>:3: {BAD_NUMBER}\n"
                assert b"\t%s\t" % value.encode() not in result.stdout
            elif column == 3 and value == str(2**31 - 1):  # a number, but far past chr1's end (red team 8 F8)
                assert result.stderr.decode() == f"{command}: <stdin>:3: {PAST_CONTIG_END}\n"
            else:
                assert result.returncode == 0, (command, value, result.stderr)


@pytest.mark.parametrize("one_by_one", ["", "1"])
@pytest.mark.parametrize(("column", "value", "message"), [
    (2, "S2301217T_contig_1", "record on a contig the header does not declare (@SQ)"),
    (2, "=", "record on a contig the header does not declare (@SQ)"),
    (6, "S2301217T_contig_1", "mate on a contig the header does not declare (@SQ)"),
    (4, "S2301217T", "MAPQ is empty or holds a character off its grammar"),
    (4, "", "MAPQ is empty or holds a character off its grammar"),
    (5, "4MS2301217T", "CIGAR is empty or holds a character off its grammar"),
    (8, "-S2301217T", "TLEN is empty or holds a character off its grammar"),
])  # fmt: skip
def test_every_sam_command_refuses_a_copied_column_it_cannot_read_alike(
    tmp_path: Path, one_by_one: str, column: int, value: str, message: str
) -> None:
    """RNAME, RNEXT, MAPQ, CIGAR and TLEN are copied by every SAM command: a contig no @SQ line
    declares, or a character off a column's grammar, is text none of them has read (htslib
    turns an undeclared name into '*' in BAM, but SAM text keeps it). The three refuse it on
    its line with the same words, in bulk and one record at a time, and the value is in
    neither stdout nor stderr."""
    line = ["r2", "1", "chr1", "5", "60", "4M", "=", "9", "0", "ACGT", "IIII"]
    line[column] = value
    for command, result in refusals(tmp_path, line, one_by_one, PLACE_COMMANDS).items():
        assert result.returncode == 1, (command, result.stderr)
        assert result.stderr.decode() == f"{command}: <stdin>:3: {message}\n"
        assert b"S2301217T" not in result.stdout
