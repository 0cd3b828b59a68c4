# FASTQ: read names -> keyed pseudonyms, the same ones sam-scrub-rg --names gives the same
# template in the BAM (one --key-file for every rule); sequence and qualities unchanged.
# Written as BGZF, which every gzip reader reads.


def staged_fastq(wildcards):
    return SAMPLES[wildcards.sample]["fastq"][wildcards.kind]


rule fastq:
    wildcard_constraints:
        kind="R1|R2",
    input:
        fastq=staged_fastq,
        pseudonyms=PSEUDONYM_FILES,
    output:
        fastq=RESULTS / "{sample}" / "{sample}.{kind}.fastq.gz",
        report=WORK / "{sample}" / "reports" / "{kind}.fastq-scrub-names.json",
    log:
        WORK / "logs" / "{sample}" / "{kind}.fastq.log",
    threads: 2
    params:
        pseudonyms=PSEUDONYM_ARGS,
        command=command("fastq-scrub-names"),
    shell:
        "{params.command} -q {params.pseudonyms} --report {output.report:q} {input.fastq:q} 2>>{log:q}"
        " | bgzip -c -@ {threads} > {output.fastq:q} 2>>{log:q}"
