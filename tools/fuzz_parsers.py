"""Coverage-guided fuzzing (atheris/libFuzzer) of every command's parser paths.

    python tools/fuzz_parsers.py TARGET [libFuzzer options, e.g. -runs=20000 -max_len=2048]
    python tools/fuzz_parsers.py TARGET crash-FILE     # replay one input
    python tools/fuzz_parsers.py --list

Each target calls one command's ``main`` in-process, as the command line would,
with the fuzzer's bytes on stdin (or, for ``bed``, as the BED file of
vcf-drop-regions): FASTQ header splitting, VCF header and record checks, SAM
header and record parsing, BED parsing. The contract of the man pages' EXIT STATUS:
exit 0, or exit 1 with one line ``command: ...`` on stderr. Any other exception,
exit status or a multi-line message is a crash; libFuzzer saves the input as
``crash-*`` and prints the traceback.

The ``audit-*`` targets run genoscrub-audit, the checker, on the bytes as a file of
that kind (told by content, as the gate's audit tells it), with a forbid list, the
germline sites and regions, so its format readers and every check run: its contract
is exit 0, or exit 1 with its findings on stdout and nothing on stderr (``-q``), or exit 1
with one line ``genoscrub-audit: ...`` on stderr naming the file and what is wrong. ``audit-bam`` takes the bytes as
a BAM file's decompressed stream and wraps them in BGZF blocks, so the record parser,
not the CRC check, meets the fuzzer's bytes. A seed corpus of small valid files (from
tests/test_hardening.py) starts every run, so the valid paths are covered first.

Only the ``filters`` package is instrumented, so coverage means our own branches.
"""

from __future__ import annotations

import atexit
import contextlib
import gc
import gzip
import io
import shutil
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path

import atheris
import pysam

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # runnable as ``python tools/fuzz_parsers.py``

from tools.small_inputs import GERMLINE_VCF, REFERENCE, SAM, VCF  # noqa: E402

with atheris.instrument_imports(include=["genoscrub"]):
    import genoscrub.fastq_scrub_names as fastq_scrub_names
    import genoscrub.genoscrub_audit as genoscrub_audit
    import genoscrub.pseudonyms as pseudonyms
    import genoscrub.report as report
    import genoscrub.sam_mask_regions as sam_mask_regions
    import genoscrub.sam_revert_germline as sam_revert_germline
    import genoscrub.sam_scrub_rg as sam_scrub_rg
    import genoscrub.vcf_drop_rare as vcf_drop_rare
    import genoscrub.vcf_drop_regions as vcf_drop_regions
    import genoscrub.vcf_scrub_header as vcf_scrub_header
    from genoscrub.streams import open_input

FASTQ = b"@M04123:1:FC:1:1101:5:7 1:N:0:ACGT\nACGTN\n+M04123\nII#II\n@M04123:1:FC:1:1101:5:8/2 2:Y:18:1\nAC\n+\nII\n"
BED = b"track name=strs\nchr1\t6\t10\tSTR_test\n# comment\n1\t40\t42\n"
FORBID = b"S2301217\nkimjh\nHOSP_1\n"
SIDE = Path(tempfile.mkdtemp(prefix="genoscrub-fuzz-"))
atexit.register(shutil.rmtree, SIDE, ignore_errors=True)


def side_files() -> None:
    """The reference, germline sites and regions the genome-checking commands join with, and
    the forbid list of the audit (private, as the audit requires of a list of identifiers)."""
    (SIDE / "ref.fa").write_bytes(REFERENCE)
    pysam.faidx(str(SIDE / "ref.fa"))
    (SIDE / "germline.vcf").write_bytes(GERMLINE_VCF)
    pysam.tabix_index(str(SIDE / "germline.vcf"), preset="vcf", force=True)
    (SIDE / "regions.bed").write_bytes(BED)
    (SIDE / "forbid.txt").write_bytes(FORBID)
    (SIDE / "forbid.txt").chmod(0o600)


def bam_stream(sam: bytes) -> bytes:
    """The decompressed bytes of ``sam`` written as BAM (the ``audit-bam`` seed)."""
    (SIDE / "seed.sam").write_bytes(sam)
    pysam.view("-b", "-o", str(SIDE / "seed.bam"), str(SIDE / "seed.sam"), catch_stdout=False)
    return gzip.decompress((SIDE / "seed.bam").read_bytes())


def bgzf(data: bytes) -> bytes:
    """``data`` as BGZF blocks with their EOF marker, as htslib writes a BAM file."""
    (SIDE / "fuzzed.raw").write_bytes(data)
    pysam.tabix_compress(str(SIDE / "fuzzed.raw"), str(SIDE / "fuzzed.gz"), force=True)
    return (SIDE / "fuzzed.gz").read_bytes()


@dataclass(frozen=True)
class Target:
    command: str
    main: Callable[..., None]
    options: Callable[[], dict[str, object]]
    seeds: list[bytes] = field(default_factory=list)
    data_is_bed: bool = False  # the bytes are the BED file; stdin is a fixed valid VCF
    stdin: Callable[[bytes], bytes] | None = None  # what the bytes become on stdin (default: themselves)


def fastq_main(quiet: bool) -> None:
    """fastq-scrub-names without its renaming worker process (which the fuzzer cannot see into):
    the same reader and transform, and the same error boundary as ``genoscrub.cli.run``."""
    records = report.Report("fastq-scrub-names")
    names = fastq_scrub_names.NameReplacer(pseudonyms.Pseudonyms(), "-")
    try:
        with open_input("-") as source:
            for _ in fastq_scrub_names.scrub_records(fastq_scrub_names.fastq_blocks(source, "-"), names, "-", records):
                pass
    except report.InputError as error:
        print(error.located("fastq-scrub-names"), file=sys.stderr)
        raise SystemExit(1) from None
    raise SystemExit(0)


def audit_options() -> dict[str, object]:
    """genoscrub-audit with every check that reads records: forbidden strings, germline alleles
    (with the reference), regions; one process (``-j 1``), so the fuzzer sees its branches."""
    return {
        "files": ["-"],
        "forbid": SIDE / "forbid.txt",
        "germline": str(SIDE / "germline.vcf.gz"),
        "reference": str(SIDE / "ref.fa"),
        "bed": [str(SIDE / "regions.bed")],
        "flank": 2,
        "jobs": 1,
    }


TARGETS = {
    "fastq": Target("fastq-scrub-names", fastq_main, dict, [FASTQ]),
    "sam-scrub-rg": Target("sam-scrub-rg", sam_scrub_rg.main, lambda: {"names": True}, [SAM]),
    "sam-mask-regions": Target(
        "sam-mask-regions",
        sam_mask_regions.main,
        lambda: {"bed": [str(SIDE / "regions.bed")], "flank": 2, "reference": str(SIDE / "ref.fa")},
        [SAM],
    ),
    "sam-revert-germline": Target(
        "sam-revert-germline",
        sam_revert_germline.main,
        lambda: {"reference_path": str(SIDE / "ref.fa"), "variants": str(SIDE / "germline.vcf.gz")},
        [SAM],
    ),
    "vcf-scrub-header": Target("vcf-scrub-header", vcf_scrub_header.main, dict, [VCF]),
    "vcf-drop-rare": Target("vcf-drop-rare", vcf_drop_rare.main, lambda: {"af_key": "AF"}, [VCF]),
    "vcf-drop-regions": Target(
        "vcf-drop-regions", vcf_drop_regions.main, lambda: {"bed": [str(SIDE / "regions.bed")], "flank": 2}, [VCF]
    ),
    "bed": Target(
        "vcf-drop-regions", vcf_drop_regions.main, lambda: {"bed": [str(SIDE / "fuzzed.bed")], "flank": 2}, [BED], data_is_bed=True
    ),
    "audit-fastq": Target("genoscrub-audit", genoscrub_audit.main, audit_options, [FASTQ]),
    "audit-sam": Target("genoscrub-audit", genoscrub_audit.main, audit_options, [SAM]),
    "audit-vcf": Target("genoscrub-audit", genoscrub_audit.main, audit_options, [VCF]),
    "audit-bam": Target("genoscrub-audit", genoscrub_audit.main, audit_options, [], stdin=bgzf),
}


class Stdin(io.TextIOWrapper):
    def isatty(self) -> bool:
        return False


def run_once(target: Target, data: bytes) -> tuple[int, str]:
    """Exit status and stderr of one in-process run of the command."""
    stdin = VCF if target.data_is_bed else target.stdin(data) if target.stdin is not None else data
    if target.data_is_bed:
        (SIDE / "fuzzed.bed").write_bytes(data)
    saved = sys.stdin, sys.stdout, sys.stderr
    sys.stdin = Stdin(io.BufferedReader(io.BytesIO(stdin)))  # buffered, as a real stdin: the audit peeks at it
    sys.stdout = io.TextIOWrapper(io.BytesIO())
    sys.stderr = io.StringIO()
    try:
        target.main(quiet=True, **target.options())
    except SystemExit as end:
        status = end.code if isinstance(end.code, int) else 1
    else:  # pragma: no cover - run() always exits
        status = 0
    finally:
        # A generator this run left unfinished (an error before the input's end) is finalized
        # now, not by the collector in the middle of a later run, where CPython 3.11 reports
        # that run's exception in flight as raised inside it ("Exception ignored in").
        gc.collect()
        stderr = sys.stderr.getvalue() if isinstance(sys.stderr, io.StringIO) else ""
        with contextlib.suppress(ValueError):
            sys.stdout.flush()
        sys.stdin, sys.stdout, sys.stderr = saved
    return status, stderr


def check(target: Target, data: bytes) -> None:
    status, stderr = run_once(target, data)
    lines = stderr.removesuffix("\n").split("\n") if stderr else []  # not splitlines(): \x1d ends no line on a terminal
    if status == 0 and not lines:
        return
    if status == 1 and len(lines) == 1 and lines[0].startswith(f"{target.command}: ") and "Traceback" not in stderr:
        return
    if status == 1 and target.command == "genoscrub-audit" and not lines:
        return  # findings, on stdout (-q: no verdict line)
    raise AssertionError(f"{target.command}: exit {status}, stderr {stderr!r}")


def main() -> None:
    if sys.argv[1:2] == ["--list"]:
        print("\n".join(TARGETS))
        return
    if len(sys.argv) < 2 or sys.argv[1] not in TARGETS:
        print(f"usage: {sys.argv[0]} {{{','.join(TARGETS)}|--list}} [libFuzzer options]", file=sys.stderr)
        sys.exit(2)
    target = TARGETS[sys.argv[1]]
    side_files()
    if sys.argv[1] == "audit-bam":
        target = replace(target, seeds=[bam_stream(SAM)])
    seeds = SIDE / f"seeds-{sys.argv[1]}"
    seeds.mkdir()
    for index, seed in enumerate(target.seeds):
        (seeds / f"seed{index}").write_bytes(seed)
    for seed in target.seeds:  # the valid samples must pass (the audit's: be judged) before fuzzing means anything
        status, stderr = run_once(target, seed)
        judged = target.command == "genoscrub-audit" and status == 1 and not stderr  # findings, as the seeds plant them
        assert status == 0 or judged, f"{target.command} rejects its own seed: {stderr}"
    gc.freeze()  # the modules and side files: every run's gc.collect() then only looks at what runs made
    given = sys.argv[2:]
    # Paths given (a crash file to replay, or corpus folders) replace the seeds.
    arguments = [sys.argv[0], *given] if any(not arg.startswith("-") for arg in given) else [sys.argv[0], *given, str(seeds)]
    atheris.Setup(arguments, lambda data: check(target, data))
    atheris.Fuzz()


if __name__ == "__main__":
    main()
