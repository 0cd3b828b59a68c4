# Linkage table, per-sample JSON report, cohort summary.
#
# The linkage table is written by the commands themselves (--map-out), from header-only runs:
# sam-scrub-rg on each BAM header, vcf-scrub-header on each VCF header, so it lists exactly the
# pseudonyms the data got, and never the per-read names (keyed hashes the key re-derives; a
# table of them would be as large as the BAMs). Fragments go next to the linkage table, in a
# 0700 folder; the table is their union, checked one-to-one, written 0600.

from collections import Counter


def sample_step_reports(sample):
    """{output file name: [(step, report path), ...]} for one sample."""
    entry = SAMPLES[sample]
    reports = WORK / sample / "reports"
    files = {}
    for kind in entry["bam"]:
        steps = [(step, part_report(sample, kind, group, step)) for group in GROUPS for step in BAM_STEPS]
        files[f"{sample}.{kind}.bam"] = steps + [("gather", reports / f"{kind}.gather.json")]
    for kind in entry["vcf"]:
        files[f"{sample}.{kind}.vcf.gz"] = [(step, reports / f"{kind}.{step}.json") for step in VCF_STEPS]
    for kind in entry["fastq"]:
        files[f"{sample}.{kind}.fastq.gz"] = [("fastq-scrub-names", reports / f"{kind}.fastq-scrub-names.json")]
    return files


# Counts of the header, which every part of a BAM carries whole: taken once, not summed.
HEADER_COUNTS = {"header_lines", "header_tags_removed", "pg_header_lines_removed", "co_header_lines_removed", "read_groups"}


def merge_reports(paths):
    """One step's reports over its parts: counts summed (header counts taken once), other
    fields kept (a list where parts differ)."""
    merged = {"parts": len(paths), "counts": Counter()}
    fields = {}
    for path in paths:
        data = json.loads(Path(path).read_text())
        counts = data.get("counts", {})
        merged["counts"].update({key: value for key, value in counts.items() if key not in HEADER_COUNTS})
        for key in HEADER_COUNTS & counts.keys():
            merged["counts"][key] = max(merged["counts"][key], counts[key])
        for key, value in data.items():
            if key not in ("command", "counts"):
                fields.setdefault(key, [])
                if value not in fields[key]:
                    fields[key].append(value)
    merged["counts"] = dict(merged["counts"])
    merged.update({key: values[0] if len(values) == 1 else values for key, values in fields.items()})
    return merged


rule linkage_part:
    input:
        bams=lambda w: list(SAMPLES[w.sample]["bam"].values()),
        vcfs=lambda w: list(SAMPLES[w.sample]["vcf"].values()),
        pseudonyms=PSEUDONYM_FILES,
    output:
        LINKAGE_PARTS / "{sample}.tsv",
    log:
        WORK / "logs" / "{sample}" / "linkage.log",
    run:
        fragment = Path(output[0])
        fragment.unlink(missing_ok=True)
        log = quoted(log[0])
        link_args = f"{PSEUDONYM_ARGS} --map-out {quoted(fragment)}"
        headers = [f"samtools view -H --no-PG {quoted(bam)} 2>>{log} | {command('sam-scrub-rg')}" for bam in input.bams]
        headers += [f"bcftools view -h --no-version {quoted(vcf)} 2>>{log} | {command('vcf-scrub-header')}" for vcf in input.vcfs]
        for pipe in headers:
            shell(f"{pipe} -q {link_args} >/dev/null 2>>{log}".replace("{", "{{").replace("}", "}}"))
        pseudonyms = Pseudonyms(map_path=MAP, key_path=KEY_FILE, map_out=fragment)
        pseudonyms.for_id(SAMPLES[wildcards.sample]["original"])
        pseudonyms.close()


rule linkage:
    input:
        [LINKAGE_PARTS / f"{sample}.tsv" for sample in SAMPLES],
    output:
        LINKAGE,
    run:
        rows = {}
        for path in input:
            for line in Path(path).read_text(encoding="utf-8").splitlines():
                original, pseudonym = line.split("\t")
                if rows.setdefault(original, pseudonym) != pseudonym:
                    raise WorkflowError("genoscrub workflow: an original got two pseudonyms (map and key disagree?)")
        if len(set(rows.values())) != len(rows):
            raise WorkflowError("genoscrub workflow: two originals share a pseudonym; refusing to write the linkage table")
        temporary = LINKAGE.with_name(f".{LINKAGE.name}.{os.getpid()}")
        descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(descriptor, "w", encoding="utf-8") as table:
            table.writelines(f"{original}\t{pseudonym}\n" for original, pseudonym in sorted(rows.items()))
        os.replace(temporary, LINKAGE)


rule sample_report:
    input:
        lambda w: [path for steps in sample_step_reports(w.sample).values() for _, path in steps],
    output:
        RESULTS / "{sample}" / "{sample}.report.json",
    run:
        files = {}
        for name, steps in sample_step_reports(wildcards.sample).items():
            by_step = {}
            for step, path in steps:
                by_step.setdefault(step, []).append(path)
            files[name] = {step: merge_reports(paths) for step, paths in by_step.items()}
        report = {
            "sample": wildcards.sample,
            "files": files,
            "settings": {
                "pseudonyms": "map+key" if MAP else "key",
                "bam_parts": GROUPS,
                "unplaced_reads": UNMAPPED,
                "af_key": AF_KEY,
                "min_af": MIN_AF,
                "population": bool(POPULATION),
                "somatic_keep_missing": SOMATIC_KEEP_MISSING,
                "region_presets": REGION_PRESETS,
                "region_beds": len(REGION_BEDS),
            },
        }
        Path(output[0]).write_text(json.dumps(report, indent=2) + "\n")


rule cohort_summary:
    input:
        [RESULTS / sample / f"{sample}.report.json" for sample in SAMPLES],
    output:
        RESULTS / "cohort_summary.tsv",
    run:
        rows = ["sample\tfile\tstep\tcount\tvalue"]
        for path in input:
            report = json.loads(Path(path).read_text())
            for name, steps in report["files"].items():
                for step, data in steps.items():
                    rows += [f"{report['sample']}\t{name}\t{step}\t{key}\t{value}" for key, value in sorted(data["counts"].items())]
        Path(output[0]).write_text("\n".join(rows) + "\n")
