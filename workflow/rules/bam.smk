# BAM/CRAM: scatter by chromosome, scrub and revert each part, gather with samtools cat.
#
# A BAM smaller than `scatter_min_mb` is one part (`whole`, read front to back), written with
# its index while it is encoded, and moved into place: no second decoding pass. Larger ones get
# one part per contig named in `scatter`, one part for every other contig of the header
# (decoys, alts, unplaced scaffolds: one job, not hundreds), and one for the unplaced reads
# (`samtools view in.bam '*'`: pairs with no coordinate). Unmapped reads placed beside a mapped
# mate travel with their mate's contig. sam-revert-germline masks the sequence of every
# unmapped read to N by default (its --keep-unmapped option), so with `unmapped: mask` those reads
# stay (mate flags stay valid) but carry no sequence; `unmapped: drop` leaves the unplaced part
# out and counts what was left out. The gather step checks that the parts hold every record
# the input's index counts, so a read that no region query returned cannot vanish silently.
# Each part writes its index while encoding; parts joined by samtools cat get their indexes
# joined (workflow/bam_index.py), so no record is decoded again to index the gathered BAM.

import json
import shlex

from genoscrub.record_reverter import ALIGNMENT_LISTS, TAGS_KEPT_AT_WINDOWS

BAM_STEPS = ["sam-scrub-rg", "sam-revert-germline"] + (["sam-mask-regions"] if REGION_ARGS else [])
SCATTER_SCRIPT = f"{shlex.quote(sys.executable)} {shlex.quote(str(Path(workflow.basedir) / 'scatter.py'))}"
PAIRING_SCRIPT = f"{shlex.quote(sys.executable)} {shlex.quote(str(Path(workflow.basedir) / 'pairing.py'))}"
CHAIN_SCRIPT = f"{shlex.quote(sys.executable)} {shlex.quote(str(Path(workflow.basedir) / 'sam_chain.py'))}"
BAM_FORMAT = "-b" if BAM_COMPRESSION_LEVEL is None else f"--output-fmt bam,level={BAM_COMPRESSION_LEVEL}"
SCATTER_ARGS = " ".join(f"--scatter {shlex.quote(contig)}" for contig in SCATTER)
DELIVERED_BAM_TAGS = ",".join(sorted(tag.decode() for tag in TAGS_KEPT_AT_WINDOWS))
"""The only record tags a delivered BAM carries: those sam-revert-germline keeps (or recomputes) on
a read over a germline window. Reads elsewhere would keep every other tag (AS, XS, OQ, ...), and a
run of reads without them marks a site, one the delivered germline VCF does not list where the
variant is rare; so sam-scrub-rg keeps these alone on every record (--only-tags), and the gate's
audit finds any other (genoscrub-audit --only-tags, rules/gate.smk)."""
SCRUBBED_BAM_TAGS = ",".join(sorted(tag.decode() for tag in TAGS_KEPT_AT_WINDOWS | ALIGNMENT_LISTS))
"""sam-scrub-rg's --only-tags: the delivered tags, and SA/XA/XB, which the commands after it read
and remove from every record: the reverter masks a clip whose chimeric part (SA) lies on a
window, and with regions leaves all three for the masker (--keep-alignment-lists), which masks a
read by them."""
DROP_CONTIG_ARGS = "".join(f" --drop-contigs {shlex.quote(pattern)}" for pattern in DROP_CONTIGS)
"""Reads on these contigs go, their mates unpaired (config `drop_contigs`): an allele contig's name is the genotype."""
SEQUENCE_DICT = WORK / "reference.dict"
"""The reference's sequence dictionary (`samtools dict`), written once for the cohort: every BAM
part's sam-scrub-rg and every sample's audit compare an @SQ M5 with it (--dict) instead of
hashing the reference again (~10 CPU s a human genome each time)."""


rule sequence_dict:
    input:
        REFERENCE,
    output:
        SEQUENCE_DICT,
    log:
        WORK / "logs" / "sequence_dict.log",
    shell:
        "samtools dict -o {output:q} {input:q} 2>{log:q}"


def quoted(path):
    return shlex.quote(str(path))


def staged_bam(wildcards):
    return SAMPLES[wildcards.sample]["bam"][wildcards.kind]


def germline_sites(wildcards):
    vcf = SAMPLES[wildcards.sample]["vcf"].get("germline")
    return [vcf] if vcf else []


def bam_part_groups(sample, kind):
    return SAMPLES[sample]["parts"][kind]


def part_path(sample, kind, group):
    return WORK / sample / "parts" / f"{kind}.{group}.bam"


def part_report(sample, kind, group, step):
    return WORK / sample / "reports" / f"{kind}.{group}.{step}.json"


def part_link(sample, kind, group):
    return LINKAGE_PARTS / f"{sample}.{kind}.{group}.tsv"


def pairing_verdict(sample, kind):
    return WORK / sample / "pairing" / f"{kind}.json"


def pairing_arguments(wildcards, input, output):
    germline = f" --germline {quoted(input.germline[0])}" if input.germline else ""
    return (
        f"--bam {quoted(input.bam)}{germline} --reference {quoted(input.reference)} --kind {wildcards.kind}"
        f" --line {SAMPLES[wildcards.sample]['line']} --output {quoted(output.verdict)}"
    )


rule pairing:
    """Before any part of a BAM is reverted: its @RG lines name one sample, and its reads carry the
    sample's germline VCF's homozygous ALT alleles, a normal BAM's both alleles of its
    heterozygous SNVs (a relative's VCF; workflow/pairing.py). The sites of that VCF are
    all the reverter and the audit look at, so a BAM of another person, or a second person's
    reads in it, would ship their germline alleles; a failure stops the sample here, naming its
    sheet line, and the gate refuses a sample without a passing verdict."""
    wildcard_constraints:
        kind="tumour|normal",
    input:
        bam=staged_bam,
        reference=REFERENCE,
        germline=germline_sites,
    output:
        verdict=WORK / "{sample}" / "pairing" / "{kind}.json",
    params:
        script=PAIRING_SCRIPT,
        arguments=pairing_arguments,
    log:
        WORK / "logs" / "{sample}" / "{kind}.pairing.log",
    threads: 1
    shell:
        # htslib's messages about the raw inputs are counted into the log by the script itself;
        # its own one line (sheet line, file kind, counts) goes to stderr
        "{params.script} {params.arguments} --log {log:q}"


def part_pipeline(wildcards, input, output, threads):
    """samtools view (one part) | sam-scrub-rg | sam-revert-germline [| sam-mask-regions] | samtools view -b,
    the genoscrub commands run in one process (sam_chain.py: the same bytes, ~1 CPU us a read and
    0.4 CPU s a part less). sam-scrub-rg keeps the tags of SCRUBBED_BAM_TAGS alone, on every record.
    Without a germline VCF every difference from the reference is reverted (--all): fail closed.
    sam-revert-germline draws the qualities of the bases a reverted indel adds by the site key
    (--key-file), so every part, and every run, gives a read the same ones, and no recipient can redo the draw."""
    log = quoted(WORK / "logs" / wildcards.sample / f"{wildcards.kind}.{wildcards.group}.log")
    reports = dict(zip(BAM_STEPS, output.reports))
    revert = f"-v {quoted(input.germline[0])} --all-below-mapq {ALL_BELOW_MAPQ}" if input.germline else "--all"
    reference = quoted(input.reference)
    # With regions, the reverter leaves SA/XA/XB for the masker, which masks a read by an
    # alternative hit in a region (XA) or a chimeric part there (SA) and then removes them all.
    lists = (" --keep-alignment-lists", " --drop-alignment-lists") if REGION_ARGS else ("", "")
    steps = [
        f"sam-scrub-rg -q --names {PSEUDONYM_ARGS} --dict {quoted(input.dictionary)} --map-out {quoted(output.link)}"
        f" --no-map-out-read-names --only-tags {SCRUBBED_BAM_TAGS} --report {quoted(reports['sam-scrub-rg'])}",
        f"sam-revert-germline -q -r {reference} {revert} --key-file {quoted(KEY_FILE)}{DROP_CONTIG_ARGS}{lists[0]}"
        f" --report {quoted(reports['sam-revert-germline'])}",
    ]
    if REGION_ARGS:
        steps.append(
            f"sam-mask-regions -q -r {reference} {REGION_ARGS}{lists[1]} --report {quoted(reports['sam-mask-regions'])}"
        )
    return " | ".join(
        [
            # samtools view of the raw BAM/CRAM: htslib's warnings about it quote its header, so they are counted, not logged
            stderr_counted(
                "samtools view",
                log,
                f"{SCATTER_SCRIPT} extract --bam {quoted(input.bam)} --reference {reference} --group {wildcards.group} {SCATTER_ARGS}",
                own="scatter:",
            ),
            f"{CHAIN_SCRIPT} {' '.join(quoted(step) for step in steps)} 2>>{log}",
            # The part's index is built while it is encoded (no decoding); gather keeps it when the BAM is one part.
            f"samtools view {BAM_FORMAT} --no-PG -@ {max(threads - 1, 0)} --write-index -o {quoted(f'{output.part}##idx##{output.index}')} 2>>{log}",
        ]
    )


rule bam_part:
    wildcard_constraints:
        kind="tumour|normal",
    input:
        bam=staged_bam,
        reference=REFERENCE,
        dictionary=SEQUENCE_DICT,
        pseudonyms=PSEUDONYM_FILES,
        germline=germline_sites,
        pairing=lambda w: pairing_verdict(w.sample, w.kind),  # nothing is reverted before the pairing is checked
    output:
        part=temp(WORK / "{sample}" / "parts" / "{kind}.{group}.bam"),
        index=temp(WORK / "{sample}" / "parts" / "{kind}.{group}.bam.bai"),
        reports=[WORK / "{sample}" / "reports" / f"{{kind}}.{{group}}.{step}.json" for step in BAM_STEPS],
        link=temp(LINKAGE_PARTS / "{sample}.{kind}.{group}.tsv"),  # the header's IDs, private beside the linkage table
    params:
        pipeline=part_pipeline,
    log:
        WORK / "logs" / "{sample}" / "{kind}.{group}.log",
    threads: PART_THREADS
    resources:
        mem_mb=3000,
    shell:
        "{params.pipeline}"


def gather_arguments(wildcards, input, output):
    sample, kind = wildcards.sample, wildcards.kind
    groups = bam_part_groups(sample, kind)
    first = [quoted(part_report(sample, kind, group, BAM_STEPS[0])) for group in groups]
    last = [quoted(part_report(sample, kind, group, BAM_STEPS[-1])) for group in groups]
    return " ".join(
        [
            f"--input {quoted(input.bam)} --output {quoted(output.bam)} --index {quoted(output.bai)} --report {quoted(output.report)}",
            SCATTER_ARGS,
            "--keep-unplaced" if UNMAPPED == "mask" else "",
            "" if BAM_COMPRESSION_LEVEL is None else f"--compression-level {BAM_COMPRESSION_LEVEL}",
            "--whole" if len(groups) == 1 else "",
            "--parts " + " ".join(quoted(part_path(sample, kind, group)) for group in groups),
            "--first-reports " + " ".join(first),
            "--last-reports " + " ".join(last),
        ]
    )


def header_linkage(wildcards, input, output):
    """The header's IDs (sample, read group, library) and their pseudonyms, as the first part's
    sam-scrub-rg wrote them (`--no-map-out-read-names`: a table of every read name would be as
    large as the BAM, and the key re-derives them). Every part holds the whole header, so any
    part's table is the BAM's."""
    return f"install -m 600 {quoted(input.links[0])} {quoted(output.link)}"


rule bam_gather:
    wildcard_constraints:
        kind="tumour|normal",
    input:
        bam=staged_bam,
        pseudonyms=PSEUDONYM_FILES,
        parts=lambda w: [part_path(w.sample, w.kind, group) for group in bam_part_groups(w.sample, w.kind)],
        indexes=lambda w: [f"{part_path(w.sample, w.kind, group)}.bai" for group in bam_part_groups(w.sample, w.kind)],
        reports=lambda w: [part_report(w.sample, w.kind, group, step) for group in bam_part_groups(w.sample, w.kind) for step in BAM_STEPS],
        links=lambda w: [part_link(w.sample, w.kind, group) for group in bam_part_groups(w.sample, w.kind)],
    output:
        bam=temp(WORK / "{sample}" / "staged" / "{sample}.{kind}.bam"),  # delivered by the gate (rules/gate.smk)
        bai=temp(WORK / "{sample}" / "staged" / "{sample}.{kind}.bam.bai"),
        report=WORK / "{sample}" / "reports" / "{kind}.gather.json",
        link=LINKAGE_PARTS / "{sample}.{kind}.tsv",
    params:
        script=SCATTER_SCRIPT,
        arguments=gather_arguments,
        linkage=header_linkage,
    log:
        WORK / "logs" / "{sample}" / "{kind}.gather.log",
    threads: 1
    shell:
        "{params.script} gather {params.arguments} 2>>{log:q} && {params.linkage}"
