# FASTQ, two choices (config `fastq`):
#
# - rename (default): read names -> keyed pseudonyms, the same ones sam-scrub-rg --names gives
#   the same template in the BAM (one --key-file for every rule); sequence and qualities as
#   sequenced, so every germline allele stays in the reads.
# - from_reverted_bam: the pair is written from the sample's reverted BAM (the tumour's, or
#   the normal's where the sheet has no tumour BAM) by workflow/fastq_from_bam.py: no germline
#   allele, unmapped reads masked to N, the same keyed names, in their order (not the input's).
#
# Written as BGZF, which every gzip reader reads, at `fastq_compression_level` (default 1: on a
# 151,657-read FASTQ bgzip took 0.23 CPU s at level 1, 0.66 s at its default 6, for 4% more bytes).

FASTQ_SCRIPT = f"{shlex.quote(sys.executable)} {shlex.quote(str(Path(workflow.basedir) / 'fastq_from_bam.py'))}"


def staged_fastq(wildcards):
    return SAMPLES[wildcards.sample]["fastq"][wildcards.kind]


def fastq_step_reports(sample, kind):
    reports = WORK / sample / "reports"
    if FASTQ_MODE == "from_reverted_bam":
        return [("fastq-from-reverted-bam", reports / "fastq.from-reverted-bam.json")]
    return [("fastq-scrub-names", reports / f"{kind}.fastq-scrub-names.json")]


if FASTQ_MODE == "rename":

    rule fastq:
        wildcard_constraints:
            kind="R1|R2",
        input:
            fastq=staged_fastq,
            pseudonyms=PSEUDONYM_FILES,
        output:
            fastq=temp(WORK / "{sample}" / "staged" / "{sample}.{kind}.fastq.gz"),  # delivered by the gate
            report=WORK / "{sample}" / "reports" / "{kind}.fastq-scrub-names.json",
        log:
            WORK / "logs" / "{sample}" / "{kind}.fastq.log",
        threads: 2
        params:
            pseudonyms=PSEUDONYM_ARGS,
            command=command("fastq-scrub-names"),
            level=FASTQ_COMPRESSION_LEVEL,
        shell:
            "{params.command} -q {params.pseudonyms} --report {output.report:q} {input.fastq:q} 2>>{log:q}"
            " | bgzip -c -l {params.level} -@ {threads} > {output.fastq:q} 2>>{log:q}"

else:

    rule fastq_from_bam:
        input:
            bam=lambda w: staged(w.sample, f"{w.sample}.{fastq_bam_kind(w.sample)}.bam"),
            r1=lambda w: SAMPLES[w.sample]["fastq"]["R1"],
            r2=lambda w: SAMPLES[w.sample]["fastq"]["R2"],
            pseudonyms=PSEUDONYM_FILES,
        output:
            r1=temp(WORK / "{sample}" / "staged" / "{sample}.R1.fastq.gz"),  # delivered by the gate
            r2=temp(WORK / "{sample}" / "staged" / "{sample}.R2.fastq.gz"),
            report=WORK / "{sample}" / "reports" / "fastq.from-reverted-bam.json",
        log:
            WORK / "logs" / "{sample}" / "fastq.log",
        threads: 2
        resources:
            mem_mb=3000,
        params:
            script=FASTQ_SCRIPT,
            scrub=command("fastq-scrub-names"),
            pseudonyms=shlex.quote(PSEUDONYM_ARGS),
            temporary=lambda w: WORK / w.sample / "fastq.tmp",
            level=FASTQ_COMPRESSION_LEVEL,
        shell:
            "{params.script} --bam {input.bam:q} --r1 {input.r1:q} --r2 {input.r2:q}"
            " --scrub {params.scrub} --pseudonyms {params.pseudonyms}"
            " --out-r1 {output.r1:q} --out-r2 {output.r2:q} --compression-level {params.level} --report {output.report:q}"
            " --temporary {params.temporary:q} --threads {threads} --memory-mb 800 2>>{log:q}"
