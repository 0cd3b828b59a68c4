"""How the workflow cuts a BAM into parts and joins them again (workflow/rules/bam.smk).

The plan is pure functions over contig names, tested without Snakemake (tests/test_workflow.py);
`extract` and `gather` run them as the rules' first and last step. A script, not `run:` blocks:
Snakemake spawns a whole new Snakemake process for every `run:` job, shell jobs it runs itself.
A part is a contig named in the config's ``scatter`` list, ``other`` (every other contig of the
header, in one job rather than hundreds of decoys and alts), or ``unplaced`` (reads with no
coordinate, ``samtools view in.bam '*'``). A BAM smaller than the config's ``scatter_min_mb`` is
not cut at all: its one part is ``whole`` (every record, read front to back) or, when unplaced
reads are left out, ``placed`` (every contig of the header). Each part job costs two Python
starts (this script's extract, the SAM filters' chain) and a Snakemake job; below a few GB that
fixed cost outweighs the parallelism.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import struct
import subprocess
import sys
import zlib
from fnmatch import fnmatchcase
from pathlib import Path

try:
    from bam_index import NotJoinable, joined_index
except ModuleNotFoundError:  # loaded by file path (tests): the script's folder is not on sys.path
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from bam_index import NotJoinable, joined_index

OTHER = "other"
UNPLACED = "unplaced"
WHOLE = "whole"
PLACED = "placed"
RESERVED = (OTHER, UNPLACED, WHOLE, PLACED)


def part_groups(scatter: list[str], keep_unplaced: bool, cut: bool = True) -> list[str]:
    """Every part of one BAM, whatever its header: a named contig absent from a header
    gives an empty part, so the job graph does not depend on reading headers. Uncut: one part."""
    if not cut:
        return [WHOLE if keep_unplaced else PLACED]
    return [*scatter, OTHER, *([UNPLACED] if keep_unplaced else [])]


def part_regions(contigs: list[str], scatter: list[str], group: str) -> list[str] | None:
    """`samtools view` region arguments for one part; names in braces, so that a name such as
    ``HLA-A*01:01:01:01`` is read as one contig, not as a range. Empty: header only. None: the
    whole file front to back, no index query (the ``whole`` part)."""
    if group == WHOLE:
        return None
    if group == UNPLACED:
        return ["*"]
    if group == PLACED:
        return ["{" + name + "}" for name in contigs]
    if group == OTHER:
        named = set(scatter)
        chosen = [name for name in contigs if name not in named]
    else:
        chosen = [name for name in contigs if name == group]
    return ["{" + name + "}" for name in chosen]


def gather_plan(contigs: list[str], scatter: list[str], groups: list[str]) -> tuple[list[str], str]:
    """The parts in header order, and ``cat`` when each part is one run of consecutive header
    contigs (concatenating them then keeps coordinate order, SAM spec 1.2 ``SO:coordinate``),
    else ``merge``. Unplaced reads go last, where a sorted BAM keeps them. One part is
    ``cat`` of one file: gather then moves it instead of copying it."""
    if len(groups) == 1 and groups[0] in (WHOLE, PLACED):
        return list(groups), "cat"
    named = set(scatter)
    runs: list[str] = []
    for name in contigs:
        group = name if name in named else OTHER
        if not runs or runs[-1] != group:
            runs.append(group)
    method = "cat" if len(runs) == len(set(runs)) else "merge"
    order = list(dict.fromkeys(runs))
    order += [group for group in groups if group not in order and group != UNPLACED]
    if UNPLACED in groups:
        order.append(UNPLACED)
    return order, method


# --- command line, called by the rules: `python workflow/scatter.py extract|gather ...` -------


def header_contigs(path: str) -> list[str]:
    """@SQ names in header order. The header holds identifiers: it stays in memory."""
    result = subprocess.run(["samtools", "view", "-H", "--no-PG", path], capture_output=True)
    if result.returncode != 0:
        raise SystemExit("scatter: samtools cannot read the alignment header")
    contigs = []
    for line in result.stdout.decode("utf-8", "replace").splitlines():
        if line.startswith("@SQ\t"):
            contigs += [field[3:] for field in line.split("\t")[1:] if field.startswith("SN:")][:1]
    return contigs


def index_counts(path: str) -> tuple[int, int]:
    """(all records, unplaced records) from the index (samtools idxstats): nothing decoded."""
    result = subprocess.run(["samtools", "idxstats", path], capture_output=True)
    if result.returncode != 0:
        raise SystemExit("scatter: samtools idxstats failed (is the alignment indexed?)")
    total = unplaced = 0
    for line in result.stdout.decode().splitlines():
        name, _length, mapped, unmapped = line.split("\t")
        total += int(mapped) + int(unmapped)
        if name == "*":
            unplaced = int(unmapped)
    return total, unplaced


def extract(options: argparse.Namespace) -> None:
    """Become `samtools view` of one part: SAM text with the full header on stdout."""
    regions = None if options.group == WHOLE else part_regions(header_contigs(options.bam), options.scatter, options.group)
    reader = ["-h", options.bam] if regions is None else ["-h", options.bam, *regions] if regions else ["-H", options.bam]
    os.execvp("samtools", ["samtools", "view", "--no-PG", "-T", options.reference, *reader])


def move(source: str, target: str) -> None:
    """Rename, or copy where work/ and results/ lie on different file systems."""
    try:
        os.replace(source, target)
    except OSError:
        shutil.copyfile(source, target)
        os.unlink(source)


def counts_of(path: str) -> dict[str, int]:
    return dict(json.loads(Path(path).read_text())["counts"])


def join_command(method: str, parts: list[str], output: str, level: int | None) -> list[str]:
    """``samtools cat`` copies the parts' compressed blocks as they are; ``samtools merge``
    encodes the records again, at the configured level (``bam_compression_level``) if any."""
    options = ["-l", str(level)] if method == "merge" and level is not None else []
    return ["samtools", method, "--no-PG", *options, "-o", output, *parts]


def run_samtools(command: list[str]) -> None:
    if subprocess.run(command).returncode != 0:
        raise SystemExit(f"scatter: samtools {command[1]} failed")


def join_index(output: str, parts: list[str], index: str) -> bool:
    """Write the index of the BAM ``samtools cat`` joined from ``parts`` from the parts' own
    indexes, shifted (bam_index.py): no record decoded again. False where the files are not
    what that needs (then samtools index reads the records)."""
    try:
        data = joined_index(Path(output), [Path(part) for part in parts], [Path(part + ".bai") for part in parts])
    except (NotJoinable, OSError, ValueError, IndexError, struct.error, zlib.error):  # a file cut short or not what it says
        return False
    Path(index).write_bytes(data)
    return True


def gather(options: argparse.Namespace) -> None:
    """Join the parts (cat or merge), index, quickcheck, and prove no record went missing:
    the first step of every part saw as many records as the input's index counts, and the
    gathered BAM holds what the last step of every part wrote. A BAM of one part is moved into
    place with the index its part wrote while encoding, and the parts joined by ``samtools cat``
    get their indexes joined: no record is decoded again (``samtools merge`` encodes the records
    anew, so its BAM is indexed by samtools)."""
    groups = part_groups(options.scatter, options.keep_unplaced, cut=not options.whole)
    parts = dict(zip(groups, options.parts, strict=True))
    if len(groups) == 1:
        move(parts[groups[0]], options.output)
        move(parts[groups[0]] + ".bai", options.index)
        gathered_by, indexed_by = "one part, moved", "the part's index, written while encoding"
    else:
        order, method = gather_plan(header_contigs(options.input), options.scatter, groups)
        run_samtools(join_command(method, [parts[group] for group in order], options.output, options.compression_level))
        gathered_by, indexed_by = f"samtools {method}", "the parts' indexes, shifted"
        if method != "cat" or not join_index(options.output, [parts[group] for group in order], options.index):
            run_samtools(["samtools", "index", "-o", options.index, options.output])
            indexed_by = "samtools index"
    run_samtools(["samtools", "quickcheck", options.output])
    input_records, unplaced = index_counts(options.input)
    dropped = 0 if options.keep_unplaced else unplaced
    seen = sum(counts_of(path).get("records", 0) for path in options.first_reports)
    if seen != input_records - dropped:
        raise SystemExit(f"scatter: the parts hold {seen} records, the input's index counts {input_records - dropped}")
    written, _ = index_counts(options.output)
    last = [counts_of(path) for path in options.last_reports]
    if all("reads_out" in part for part in last) and written != sum(part["reads_out"] for part in last):
        raise SystemExit("scatter: the gathered BAM does not hold the records its parts wrote")
    summary = {
        "command": "gather",
        "counts": {"records_in_input": input_records, "unplaced_reads_dropped": dropped, "records_written": written, "parts": len(groups)},
        "gathered_by": gathered_by,
        "indexed_by": indexed_by,
    }
    Path(options.report).write_text(json.dumps(summary, indent=2) + "\n")


def other_spellings(name: str) -> list[str]:
    """A contig's names by the other conventions (``chr1`` <-> ``1``, ``chrM`` <-> ``MT``, a
    scaffold's UCSC and GenBank names, PLINK's numbers): the commands' own join
    (``genoscrub.contigs``), so a VCF spelled otherwise than the reference meets it here as it
    meets it in vcf-drop-rare."""
    try:
        from reports import load_genoscrub
    except ModuleNotFoundError:  # loaded by file path (tests)
        sys.path.insert(0, str(Path(__file__).resolve().parent))
        from reports import load_genoscrub
    load_genoscrub()
    from genoscrub.contigs import conventional_names

    return conventional_names(name)


def dropped_contigs_bed(dictionary: str, patterns: list[str]) -> str:
    """A BED of every contig of a sequence dictionary (`samtools dict`) whose name matches one of
    ``patterns`` (config `drop_contigs`, shell-style and case kept, as sam-revert-germline
    --drop-contigs reads them), each whole and under each of its spellings: the VCF step drops
    the records on them (an allele contig's name is the genotype; `bcftools norm -T ^BED`), and
    the gate finds one left (`genoscrub-audit --forbid-contigs`)."""
    lines = []
    for line in Path(dictionary).read_text().splitlines():
        if line.startswith("@SQ\t"):
            tags = dict(field.split(":", 1) for field in line.split("\t")[1:] if ":" in field)
            if "SN" in tags and tags.get("LN", "").isdigit() and any(fnmatchcase(tags["SN"], pattern) for pattern in patterns):
                lines += [f"{name}\t0\t{tags['LN']}\n" for name in (tags["SN"], *other_spellings(tags["SN"]))]
    return "".join(lines)


def dropped_bed(options: argparse.Namespace) -> None:
    Path(options.out).write_text(dropped_contigs_bed(options.dict, options.pattern))


def aliased_fai(fai: str) -> str:
    """A FASTA index (`.fai`) that gives each contig under its other spellings too, at the same
    offsets: `bcftools norm -f` looks a VCF's contig up by its name as written, so a VCF writing
    ``1`` beside a reference of ``chr1`` (which the commands join, ARCHITECTURE.md, *Same genome,
    or stop*) would stop its job. A spelling the reference itself holds keeps its own line."""
    lines = Path(fai).read_text().splitlines(keepends=True)
    names = {line.split("\t", 1)[0] for line in lines}
    aliases = []
    for line in lines:
        name, rest = line.split("\t", 1)
        for other in other_spellings(name):
            if other not in names:
                names.add(other)
                aliases.append(f"{other}\t{rest}")
    return "".join(lines + aliases)


def reference_aliases(options: argparse.Namespace) -> None:
    """The reference under its contigs' other spellings for `bcftools norm` (``aliased_fai``): the
    FASTA (and its `.gzi`) hard-linked beside the aliased index, in a folder of its own; copied
    where the reference lies on another file system (GRCh38's 3 GB, once for the cohort). Not a
    symbolic link: work/ holds no path of the site's."""
    reference = Path(options.reference).resolve()
    fasta = Path(options.out)
    fasta.parent.mkdir(parents=True, exist_ok=True)
    fai = Path(f"{reference}.fai")
    if not fai.is_file():  # the commands index a reference they may write beside; here nothing is written there
        subprocess.run(["samtools", "faidx", "--fai-idx", f"{fasta}.source.fai", str(reference)], check=True)
        fai = Path(f"{fasta}.source.fai")
    for suffix in ("", ".gzi"):
        copy, source = Path(f"{fasta}{suffix}"), Path(f"{reference}{suffix}")
        if copy.is_symlink() or copy.exists():
            copy.unlink()
        if source.exists():
            try:
                os.link(source, copy)
            except OSError:  # another file system, or links not allowed there
                shutil.copyfile(source, copy)
    Path(f"{fasta}.fai").write_text(aliased_fai(str(fai)))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="scatter.py", description="BAM scatter/gather steps of the cohort workflow")
    commands = parser.add_subparsers(dest="command", required=True)
    part = commands.add_parser("extract", help="SAM text of one part on stdout")
    part.add_argument("--bam", required=True)
    part.add_argument("--reference", required=True)
    part.add_argument("--group", required=True)
    part.add_argument("--scatter", action="append", default=[])
    join = commands.add_parser("gather", help="join, index and check the parts of one BAM")
    join.add_argument("--input", required=True, help="the original (staged) BAM/CRAM, for its header and index counts")
    join.add_argument("--output", required=True)
    join.add_argument("--index", required=True)
    join.add_argument("--report", required=True)
    join.add_argument("--scatter", action="append", default=[])
    join.add_argument("--keep-unplaced", action="store_true")
    join.add_argument("--compression-level", type=int, choices=range(10), help="of samtools merge (cat copies the parts' blocks)")
    join.add_argument("--whole", action="store_true", help="the BAM was not cut: one part, with its index")
    join.add_argument("--parts", nargs="+", required=True, help="one per part, in part_groups order")
    join.add_argument("--first-reports", nargs="+", required=True)
    join.add_argument("--last-reports", nargs="+", required=True)
    bed = commands.add_parser("dropped-bed", help="a BED of the dictionary's contigs matching drop_contigs, each whole")
    bed.add_argument("--dict", required=True)
    bed.add_argument("--pattern", action="append", default=[])
    bed.add_argument("--out", required=True)
    aliases = commands.add_parser("reference-aliases", help="the reference under its contigs' other spellings, for bcftools norm")
    aliases.add_argument("--reference", required=True)
    aliases.add_argument("--out", required=True, help="the FASTA link to write; its .fai beside it")
    options = parser.parse_args(argv)
    {"extract": extract, "gather": gather, "dropped-bed": dropped_bed, "reference-aliases": reference_aliases}[options.command](options)


if __name__ == "__main__":
    main()
