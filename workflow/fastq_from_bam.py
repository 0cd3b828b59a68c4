"""A sample's FASTQ pair written from its pseudonymized, germline-reverted BAM (``fastq: from_reverted_bam``).

    python workflow/fastq_from_bam.py --bam results/P/P.tumour.bam --r1 in_R1.fastq --r2 in_R2.fastq \\
        --scrub bin/fastq-scrub-names --pseudonyms "--key-file site.key" \\
        --out-r1 P.R1.fastq.gz --out-r2 P.R2.fastq.gz --report R.json --temporary work/P/fastq.tmp

Renaming a FASTQ leaves every germline allele in its reads, and reads map back to the person.
The reverted BAM holds the same reads with every germline allele turned into the reference base,
unmapped reads masked to N, and keyed read names. This writes each primary record of that BAM
back as a FASTQ read (``samtools fastq``: reverse-strand reads turned back, secondary and
supplementary records left out), pairs in sync, in the order of their keyed names (a random
order), not the input FASTQ's: at a POS a coordinate-sorted BAM keeps its reads in the input's
(the aligner's) order, but a read sam-revert-germline moved (a carrier's left clip aligned) joins
the others there, so next to the input's order the reads out of it would be the carriers':

1. the input FASTQ pair through ``fastq-scrub-names`` gives each template's keyed name (the same
   key, hence the same name as in the BAM) and its two name lines as the renaming choice would
   write them; sorted by name;
2. the BAM's primary reads through ``samtools fastq``, sorted by name and mate;
3. a merge join of the two, written as it comes, in name order. A template of the FASTQ that the
   BAM lacks whole (both reads removed: on a ``drop_contigs`` contig, such as chrEBV or an HLA
   allele; a pair at a germline insertion; unplaced reads left out with ``unmapped: drop``) is
   left out: written masked, its count would give the recipient the number of reads the BAM lost,
   which tells an EBV infection or a carrier of a germline insertion, and the delivered reports
   keep it back for that reason. A read whose mate the BAM still holds is written masked, all
   ``N`` at its length, so the pair stays in sync (the BAM shows that read's mate is gone). A
   BAM-only template with a mate missing is left out (its length is unknown). Each case is
   counted in the report (the site's, in work/).

The sorts are GNU ``sort`` on temporary files under ``--temporary`` (flat memory, C speed), which
is deleted at the end. Nothing read from the data is printed; the report holds counts only.
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import shutil
import subprocess
import sys
from collections.abc import Iterator
from itertools import zip_longest
from pathlib import Path
from typing import IO

COUNTS = (
    "templates_in_fastq",
    "templates_written",
    "templates_only_in_bam",
    "templates_incomplete_only_in_bam",
    "templates_left_out_not_in_bam",
    "reads_masked_not_in_bam",
)
SORT_ENVIRONMENT = {**os.environ, "LC_ALL": "C"}  # byte order, the order Python compares bytes in


class FastqFromBamError(RuntimeError):
    """A step failed; the message names the step, never a value from the data."""


def template_key(name_line: bytes) -> bytes:
    """``@NAME/1 comment`` -> ``NAME``: the template's name as the BAM's QNAME holds it."""
    name = name_line[1:].split(None, 1)[0] if name_line[:1] == b"@" else b""
    if name[-2:] in (b"/1", b"/2"):
        name = name[:-2]
    if not name:
        raise FastqFromBamError("a FASTQ name line is empty or does not start with @")
    return name


def order_rows(names_r1: IO[bytes], names_r2: IO[bytes]) -> Iterator[bytes]:
    """``key TAB name line 1 TAB name line 2 TAB length 1 TAB length 2`` per template of the
    scrubbed pair, from ``name line TAB read length`` lines of each file."""
    for row1, row2 in zip_longest(names_r1, names_r2):
        if row1 is None or row2 is None:
            raise FastqFromBamError("the FASTQ pair is out of sync (one file has more reads)")
        line1, length1 = row1.rstrip(b"\n").rsplit(b"\t", 1)
        line2, length2 = row2.rstrip(b"\n").rsplit(b"\t", 1)
        key = template_key(line1)
        if template_key(line2) != key:
            raise FastqFromBamError("the FASTQ pair is out of sync (mates differ in name)")
        yield b"%s\t%s\t%s\t%s\t%s\n" % (key, line1, line2, length1, length2)


def bam_reads(lines: IO[bytes]) -> Iterator[tuple[bytes, bytes, bytes, bytes]]:
    """(key, mate, sequence, quality) from ``samtools fastq -N`` output pasted four lines to one."""
    for line in lines:
        name, sequence, _plus, quality = line.rstrip(b"\n").split(b"\t")
        name = name[1:]
        mate = b"0"
        if name[-2:] in (b"/1", b"/2"):
            name, mate = name[:-2], name[-1:]
        yield name, mate, sequence, quality


def merge_join(order: IO[bytes], reads: IO[bytes], counts: dict[str, int]) -> Iterator[bytes]:
    """Templates of the sorted order file joined with the sorted BAM reads file, in name order, as
    ``name1 TAB seq1 TAB qual1 TAB name2 TAB seq2 TAB qual2`` lines; a template the BAM holds no
    read of is left out (see the module's docstring)."""

    def templates() -> Iterator[tuple[bytes, dict[bytes, tuple[bytes, bytes]]]]:
        key: bytes | None = None
        mates: dict[bytes, tuple[bytes, bytes]] = {}
        for line in reads:
            name, mate, sequence, quality = line.rstrip(b"\n").split(b"\t")
            if name != key:
                if key is not None:
                    yield key, mates
                key, mates = name, {}
            if mate in mates:
                raise FastqFromBamError("the BAM holds one mate twice as a primary record")
            mates[mate] = (sequence, quality)
        if key is not None:
            yield key, mates

    def fastq_side() -> Iterator[list[bytes]]:
        for line in order:
            yield line.rstrip(b"\n").split(b"\t")  # key, name lines, lengths

    def masked(length: bytes) -> tuple[bytes, bytes]:
        return b"N" * int(length), b"#" * int(length)

    bam = templates()
    fastq = fastq_side()
    bam_item = next(bam, None)
    fastq_item = next(fastq, None)
    while bam_item is not None or fastq_item is not None:
        if fastq_item is not None and (bam_item is None or fastq_item[0] < bam_item[0]):
            # The BAM lost the whole template: left out, never written masked, whose count would
            # be the reads the BAM lost (a dropped contig's, such as chrEBV; a germline insertion's).
            counts["templates_in_fastq"] += 1
            counts["templates_left_out_not_in_bam"] += 1
            fastq_item = next(fastq, None)
            continue
        assert bam_item is not None
        key, mates = bam_item
        bam_item = next(bam, None)
        if fastq_item is not None and fastq_item[0] == key:
            _key, line1, line2, length1, length2 = fastq_item
            counts["templates_in_fastq"] += 1
            fastq_item = next(fastq, None)
            for mate, length in ((b"1", length1), (b"2", length2)):
                if mate not in mates:
                    mates[mate] = masked(length)
                    counts["reads_masked_not_in_bam"] += 1
        else:
            line1, line2 = b"@" + key + b"/1", b"@" + key + b"/2"
            counts["templates_only_in_bam"] += 1
        if not {b"1", b"2"} <= mates.keys():
            counts["templates_incomplete_only_in_bam"] += 1
            continue
        (sequence1, quality1), (sequence2, quality2) = mates[b"1"], mates[b"2"]
        yield b"\t".join((line1, sequence1, quality1, line2, sequence2, quality2)) + b"\n"


def sort_command(temporary: Path, threads: int, memory_mb: int, keys: list[str], output: Path) -> list[str]:
    return [
        "sort", "-t", "\t", *keys, "-S", f"{max(memory_mb, 64)}M", f"--parallel={max(threads, 1)}",
        "-T", str(temporary), "-o", str(output),
    ]  # fmt: skip


def wait(process: subprocess.Popen[bytes], step: str) -> None:
    if process.wait() != 0:
        raise FastqFromBamError(f"{step} failed (exit {process.returncode})")


def write_order(options: argparse.Namespace, path: Path) -> None:
    """Step 1: the scrubbed pair's name lines and read lengths, sorted by template name."""
    scrub = [options.scrub, "-q", *shlex.split(options.pseudonyms)]
    scrubbers = [subprocess.Popen([*scrub, str(fastq)], stdout=subprocess.PIPE) for fastq in (options.r1, options.r2)]
    pick = 'NR % 4 == 1 { name = $0 } NR % 4 == 2 { print name "\\t" length($0) }'
    pickers = [subprocess.Popen(["awk", pick], stdin=scrubber.stdout, stdout=subprocess.PIPE) for scrubber in scrubbers]
    for scrubber in scrubbers:
        assert scrubber.stdout is not None
        scrubber.stdout.close()  # the pickers hold them: a scrubber sees SIGPIPE if its picker dies
    sorter = subprocess.Popen(
        sort_command(options.temporary, options.threads, options.memory_mb, ["-k1,1"], path), stdin=subprocess.PIPE, env=SORT_ENVIRONMENT
    )
    assert sorter.stdin is not None and pickers[0].stdout is not None and pickers[1].stdout is not None
    with sorter.stdin:
        sorter.stdin.writelines(order_rows(pickers[0].stdout, pickers[1].stdout))
    for process, step in ((scrubbers[0], "fastq-scrub-names R1"), (scrubbers[1], "fastq-scrub-names R2")):
        wait(process, step)
    for process in pickers:
        wait(process, "awk")
    wait(sorter, "sort")


def write_bam_reads(options: argparse.Namespace, path: Path) -> None:
    """Step 2: the BAM's primary reads as ``key TAB mate TAB sequence TAB quality``, sorted."""
    fastq = subprocess.Popen(
        ["samtools", "fastq", "-N", "-F", "0x900", "-@", str(max(options.threads - 1, 0)), str(options.bam)],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,  # its summary line only; a failure shows in its exit status
    )
    paste = subprocess.Popen(["paste", "-", "-", "-", "-"], stdin=fastq.stdout, stdout=subprocess.PIPE)
    assert fastq.stdout is not None and paste.stdout is not None
    fastq.stdout.close()
    sorter = subprocess.Popen(
        sort_command(options.temporary, options.threads, options.memory_mb, ["-k1,1", "-k2,2"], path),
        stdin=subprocess.PIPE,
        env=SORT_ENVIRONMENT,
    )
    assert sorter.stdin is not None
    with sorter.stdin:
        sorter.stdin.writelines(b"\t".join(read) + b"\n" for read in bam_reads(paste.stdout))
    wait(fastq, "samtools fastq")
    wait(paste, "paste")
    wait(sorter, "sort")


def write_pair(options: argparse.Namespace, order: Path, reads: Path, counts: dict[str, int]) -> None:
    """Step 3: join, and split into the two BGZF files in the keyed names' order (not the input's:
    see the module's docstring)."""
    compressors = []
    bgzip = ["bgzip", "-c", "-l", str(options.compression_level), "-@", str(max(options.threads // 2, 1))]
    for target in (options.out_r1, options.out_r2):
        with open(target, "wb") as handle:
            compressors.append(subprocess.Popen(bgzip, stdin=subprocess.PIPE, stdout=handle))
    first, second = compressors
    assert first.stdin is not None and second.stdin is not None
    with open(order, "rb") as order_file, open(reads, "rb") as reads_file, first.stdin, second.stdin:
        for line in merge_join(order_file, reads_file, counts):
            counts["templates_written"] += 1
            name1, sequence1, quality1, name2, sequence2, quality2 = line.rstrip(b"\n").split(b"\t")
            first.stdin.write(b"%s\n%s\n+\n%s\n" % (name1, sequence1, quality1))
            second.stdin.write(b"%s\n%s\n+\n%s\n" % (name2, sequence2, quality2))
    for compressor in compressors:
        wait(compressor, "bgzip")
    order.unlink()
    reads.unlink()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="fastq_from_bam.py", description=__doc__.split("\n\n")[0])
    parser.add_argument("--bam", type=Path, required=True, help="the sample's reverted BAM")
    parser.add_argument("--r1", type=Path, required=True, help="the input FASTQ, read 1 (gives the order)")
    parser.add_argument("--r2", type=Path, required=True, help="the input FASTQ, read 2")
    parser.add_argument("--scrub", required=True, help="the fastq-scrub-names command")
    parser.add_argument("--pseudonyms", required=True, help="its --key-file/--map options, as the BAM's were")
    parser.add_argument("--out-r1", type=Path, required=True)
    parser.add_argument("--out-r2", type=Path, required=True)
    parser.add_argument("--report", type=Path, required=True)
    parser.add_argument("--temporary", type=Path, required=True, help="a private folder for the sorts; deleted at the end")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--memory-mb", type=int, default=1000, help="per sort")
    parser.add_argument(
        "--compression-level", type=int, choices=range(10), default=1, metavar="0-9", help="bgzip's level for the pair (default 1)"
    )
    options = parser.parse_args(argv)
    counts = dict.fromkeys(COUNTS, 0)
    shutil.rmtree(options.temporary, ignore_errors=True)
    options.temporary.mkdir(mode=0o700, parents=True)
    try:
        write_order(options, options.temporary / "order.tsv")
        write_bam_reads(options, options.temporary / "reads.tsv")
        write_pair(options, options.temporary / "order.tsv", options.temporary / "reads.tsv", counts)
    except (FastqFromBamError, ValueError) as error:
        message = str(error) if isinstance(error, FastqFromBamError) else "a line of an intermediate file does not parse"
        print(f"fastq_from_bam: {message}", file=sys.stderr)
        return 1
    finally:
        shutil.rmtree(options.temporary, ignore_errors=True)
    counts["reads_written"] = 2 * counts["templates_written"]
    report = {"command": "fastq-from-reverted-bam", "counts": counts, "order": "keyed read names"}
    options.report.write_text(json.dumps(report, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
