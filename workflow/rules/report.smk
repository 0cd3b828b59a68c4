# Linkage table, per-sample JSON report (written by the gate, rules/gate.smk), cohort summary, MultiQC.
#
# The linkage table is written by the commands themselves (--map-out): vcf-scrub-header in each
# VCF job, sam-scrub-rg on each BAM header in its gather job, and the sheet's sample ID at parse
# time (Snakefile), so it lists exactly the pseudonyms the data got, and never the per-read names
# (keyed hashes the key re-derives; a table of them would be as large as the BAMs). Fragments go
# next to the linkage table, in a 0700 folder; the table is their union with the rows it held
# when the run started (LINKAGE_EARLIER: every earlier delivery's, whatever this sheet holds),
# checked one-to-one, written 0600: it only grows, and a row never changes. The steps run workflow/reports.py in a shell job: no `run:` block, which would
# cost a whole Snakemake process per job.

REPORTS_SCRIPT = f"{shlex.quote(sys.executable)} {shlex.quote(str(Path(workflow.basedir) / 'reports.py'))}"


def sample_step_reports(sample):
    """{output file name: [(step, report path), ...]} for one sample."""
    entry = SAMPLES[sample]
    reports = WORK / sample / "reports"
    files = {}
    for kind in entry["bam"]:
        steps = [(step, part_report(sample, kind, group, step)) for group in bam_part_groups(sample, kind) for step in BAM_STEPS]
        files[f"{sample}.{kind}.bam"] = steps + [("gather", reports / f"{kind}.gather.json")]
    for kind in delivered_vcf_kinds(entry):
        files[f"{sample}.{kind}.vcf.gz"] = [(step, reports / f"{kind}.{step}.json") for step in VCF_STEPS]
    for kind in entry["fastq"]:
        files[f"{sample}.{kind}.fastq.gz"] = fastq_step_reports(sample, kind)
    return files


def linkage_fragments(sample):
    entry = SAMPLES[sample]
    kinds = [*entry["bam"], *delivered_vcf_kinds(entry)]  # an undelivered germline VCF is not scrubbed: no fragment
    return [LINKAGE_PARTS / f"{sample}.sample.tsv"] + [LINKAGE_PARTS / f"{sample}.{kind}.tsv" for kind in kinds]


def sample_report_spec(sample):
    """What the sample report is made of: {"sample", "files": {name: [[step, path], ...]}, "settings"}."""
    return {
        "sample": sample,
        "files": {name: [[step, str(path)] for step, path in steps] for name, steps in sample_step_reports(sample).items()},
        "settings": {
            "pseudonyms": "map+key" if MAP else "key",
            "bam_parts": SAMPLES[sample]["parts"],
            "unplaced_reads": UNMAPPED,
            "fastq": FASTQ_MODE,
            "af_key": AF_KEY,
            "min_af": MIN_AF,
            "population": bool(POPULATION),
            "somatic_keep_missing": SOMATIC_KEEP_MISSING,
            "tumour_only_keep_missing": TUMOUR_ONLY_KEEP_MISSING,
            "deliver_germline_vcf": DELIVER_GERMLINE_VCF,
            "region_presets": REGION_PRESETS,
            "region_beds": len(REGION_BEDS),
            "dropped_contigs": DROP_CONTIGS,
            "audit": AUDIT,
        },
    }


def sample_reports():
    return [str(RESULTS / sample / f"{sample}.report.json") for sample in SAMPLES]


def private_sample_report(sample):
    """The full sample report, every step's counts: the site's, in work/ (the delivered one keeps
    only counts that do not describe the person's genotype: reports.py, delivered_report)."""
    return WORK / sample / f"{sample}.report.json"


def audit_reports():
    return [str(RESULTS / sample / f"{sample}.audit.json") for sample in SAMPLES] if AUDIT else []


rule linkage:
    input:
        [fragment for sample in SAMPLES for fragment in linkage_fragments(sample)],
    output:
        LINKAGE,
    params:
        script=REPORTS_SCRIPT,
        earlier=quoted(LINKAGE_EARLIER),  # not an input: written at parse time, it would rerun the rule
    shell:
        "{params.script} linkage --earlier {params.earlier} --out {output:q} {input:q}"


# The delivered summary is made of the delivered sample reports; the site's, with every count,
# of the full ones the gate wrote in work/ beside them (written by the gate job: no input of its own).
rule cohort_summary:
    input:
        [RESULTS / sample for sample in SAMPLES],  # each sample's folder, delivered whole by the gate
    output:
        delivered=RESULTS / "cohort_summary.tsv",
        private=WORK / "cohort_summary.tsv",
    params:
        script=REPORTS_SCRIPT,
        reports=lambda w: " ".join(map(shlex.quote, sample_reports())),
        full=lambda w: " ".join(quoted(private_sample_report(sample)) for sample in SAMPLES),
    shell:
        "{params.script} cohort-summary --out {output.delivered:q} {params.reports}"
        " && {params.script} cohort-summary --out {output.private:q} {params.full}"


# MultiQC custom content (genoscrub.multiqc): a table per sample and a bar plot per step, from the
# sample reports and the audit reports; with `multiqc: report` (or `auto` where it is installed)
# MultiQC's own report of it too. Only counts and pseudonyms go in.
rule multiqc:
    input:
        [RESULTS / sample for sample in SAMPLES],
    output:
        directory(RESULTS / "multiqc"),
    params:
        script=REPORTS_SCRIPT,
        run="--run" if RUN_MULTIQC else "",
        reports=lambda w: " ".join(map(shlex.quote, sample_reports() + audit_reports())),
    shell:
        "{params.script} multiqc --out {output:q} {params.run} {params.reports}"
