# VCF: header allowlist and sample pseudonyms, rare variants dropped, forensic regions dropped.
#
# A germline call set keeps only records whose every allele is common (>= min_af) in the
# population. A somatic call set also drops records flagged germline; with
# `somatic_keep_missing` (default) a call absent from the population stays, since a true
# somatic mutation is absent from every population resource; one found there but rare is a
# germline allele in disguise and goes (vcf-drop-rare(1)). A somatic call set of a sample with a
# germline VCF also drops every call carrying an allele of it (vcf-drop-rare --germline): a
# private germline variant mis-called as somatic is absent from the population, and would stay;
# and every call inside the windows sam-revert-germline reverts reads in (--germline-windows):
# the delivered reads no longer show it, so kept it would say a germline site lies beside it.

VCF_STEPS = ["vcf-scrub-header", "vcf-drop-rare"] + (["vcf-drop-regions"] if REGION_ARGS else [])
MAX_SAMPLES = {"germline": 1, "somatic": 2}
"""Sample columns a sample's VCF may have: the normal's; the tumour's and the normal's. A joint-called
family or cohort VCF holds other people's genotypes (vcf-scrub-header --max-samples refuses it, and the
gate's audit, given the same number by rules/gate.smk, fails a delivery holding more)."""


DROPPED_CONTIGS_BED = WORK / "dropped_contigs.bed"
"""The reference's contigs matching `drop_contigs`, each whole and under each spelling (empty where
none does): a VCF record on an allele contig (HLA-A*01:01:01:01) says the genotype by its CHROM, one
on chrEBV an infection, as a read there does; the BAM parts drop such reads, the VCF step such
records (`bcftools norm -T ^BED`), and the gate finds one left (--forbid-contigs)."""

ALIASED_REFERENCE = WORK / "reference_aliases" / "reference.fa"
"""The reference (hard-linked, or copied from another file system) beside an index that also names
each contig by its other spellings (`scatter.py reference-aliases`): `bcftools norm -f` finds a
VCF's `1` where the reference says `chr1`, as the commands do."""


rule dropped_contigs_bed:
    input:
        SEQUENCE_DICT,
    output:
        DROPPED_CONTIGS_BED,
    params:
        script=SCATTER_SCRIPT,
        patterns=" ".join(f"--pattern {shlex.quote(pattern)}" for pattern in DROP_CONTIGS),
    shell:
        "{params.script} dropped-bed --dict {input:q} {params.patterns} --out {output:q}"


rule reference_aliases:
    input:
        REFERENCE,
    output:
        f"{ALIASED_REFERENCE}.fai",
    params:
        script=SCATTER_SCRIPT,
        fasta=ALIASED_REFERENCE,
    shell:
        "{params.script} reference-aliases --reference {input:q} --out {params.fasta:q}"


def staged_vcf(wildcards):
    return SAMPLES[wildcards.sample]["vcf"][wildcards.kind]


def germline_list(wildcards):
    """The sample's germline VCF, for its somatic call set (none for the germline one)."""
    germline = SAMPLES[wildcards.sample]["vcf"].get("germline")
    return [germline] if germline and wildcards.kind == "somatic" else []


def vcf_pipeline(wildcards, input, output):
    log = quoted(WORK / "logs" / wildcards.sample / f"{wildcards.kind}.vcf.log")
    reports = dict(zip(VCF_STEPS, output.reports))
    frequencies = f"--population {quoted(input.population[0])} " if input.population else ""
    frequencies += f"--af-key {shlex.quote(AF_KEY)} --min-af {MIN_AF}"
    if wildcards.kind == "somatic":
        frequencies += " --drop-germline" + (" --keep-missing" if SOMATIC_KEEP_MISSING else "")
        # -r: its indels and the list's meet wherever each caller placed them in a repeat
        # --germline-windows: a call the reverted reads no longer show (inside the reverter's windows) goes too
        frequencies += f" --germline {quoted(input.germline[0])} -r {quoted(input.reference[0])} --germline-windows" if input.germline else ""
    # bcftools norm -f left-aligns the indels as the population file's (gnomAD's) are: a rare indel written at
    # the other end of its repeat would be absent there, and kept with --keep-missing. It reads what
    # vcf-scrub-header wrote (htslib cannot write a record holding a key its header lacks, which the scrubber removes).
    # -c w: a REF that is not the reference's passes as written, as before (with --germline -r vcf-drop-rare drops it).
    # -f: the reference under its contigs' other spellings too (a VCF writing 1 beside chr1 is joined, not stopped).
    norm = f"bcftools norm --no-version -c w -f {quoted(ALIASED_REFERENCE)} -Ov -"
    bed = quoted(input.dropped_contigs)
    steps = [
        stderr_counted("bcftools view", log, f"bcftools view --no-version -Ov {quoted(input.vcf)}"),  # reads the raw VCF
        # Its --map-out is the VCF's share of the linkage table: sample columns and header IDs only.
        f"{command('vcf-scrub-header')} -q {PSEUDONYM_ARGS} --max-samples {MAX_SAMPLES[wildcards.kind]} --map-out {quoted(output.link)} --report {quoted(reports['vcf-scrub-header'])} 2>>{log}",
        # -T ^BED: the records on a drop_contigs contig (an HLA allele contig, chrEBV) go; vcf-drop-rare would keep them as
        # missing in a somatic VCF (no population lists those contigs). bcftools refuses an empty targets file: none then.
        f"{{ if [ -s {bed} ]; then {stderr_counted('bcftools norm', log, norm + f' -T ^{bed}')}; else {stderr_counted('bcftools norm', log, norm)}; fi; }}",
        f"{command('vcf-drop-rare')} -q {frequencies} --report {quoted(reports['vcf-drop-rare'])} 2>>{log}",
    ]
    if REGION_ARGS:
        steps.append(f"{command('vcf-drop-regions')} -q {REGION_ARGS} --report {quoted(reports['vcf-drop-regions'])} 2>>{log}")
    steps.append(f"bgzip -c > {quoted(output.vcf)} 2>>{log}")
    return " | ".join(steps)


rule vcf:
    wildcard_constraints:
        kind="germline|somatic",
    input:
        vcf=staged_vcf,
        pseudonyms=PSEUDONYM_FILES,
        population=[POPULATION] if POPULATION else [],
        germline=germline_list,
        reference=lambda wildcards: [REFERENCE] if germline_list(wildcards) else [],
        aliased_reference=f"{ALIASED_REFERENCE}.fai",
        dropped_contigs=DROPPED_CONTIGS_BED,
    output:
        vcf=temp(WORK / "{sample}" / "staged" / "{sample}.{kind}.vcf.gz"),  # delivered by the gate (rules/gate.smk)
        tbi=temp(WORK / "{sample}" / "staged" / "{sample}.{kind}.vcf.gz.tbi"),
        reports=[WORK / "{sample}" / "reports" / f"{{kind}}.{step}.json" for step in VCF_STEPS],
        link=LINKAGE_PARTS / "{sample}.{kind}.tsv",
    params:
        pipeline=vcf_pipeline,
    log:
        WORK / "logs" / "{sample}" / "{kind}.vcf.log",
    threads: 1
    shell:
        "{params.pipeline} && tabix -f -p vcf {output.vcf:q} 2>>{log:q}"
