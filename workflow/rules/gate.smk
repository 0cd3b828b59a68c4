# The final gate: every output of a sample is audited by genoscrub-audit, which shares no logic
# with the scrubbers, before it is delivered (workflow/gate.py).
#
# The data rules write to work/<sample>/staged/ (temporary files); this rule audits them all and
# links them into results/<sample>/ only when nothing is found. A finding fails the job: the
# sample's outputs stay staged, nothing of its data reaches results/, Snakemake exits non-zero
# naming the sample by its pseudonym and each class found, by count; the audit's report is
# work/<sample>/audit.failed.json. Every file delivered is audited, the indexes too (each read
# whole and held to the data file beside it). The checks are the ones the config implies:
#
# - --forbid: a list made in the job, kept beside the linkage table (<linkage>.forbid/<sample>.txt,
#   0600): the IDs the commands replaced (the sample's linkage fragments), its input files' paths
#   and names, then every sample ID and input path of the sheet (<linkage>.forbid/cohort.txt,
#   written when the Snakefile reads the sheet: a VCF naming another patient of the sheet fails
#   its sample, and no gate waits for another sample's jobs), and the site's own lists
#   (`audit_forbid`);
# - --germline (the sample's germline VCF) and -r (the reference) for the BAMs; without a germline
#   VCF (the reads reverted with --all), --all-reference and -r: a base other than the reference's
#   or N, an indel or a clip is a finding;
# - --population, --af-key, --min-af for the VCFs (without a population file, --af-key and
#   --min-af alone: each record judged by its own af_key, as vcf-drop-rare judged it); the somatic
#   VCF is audited in a second run, and where its calls absent from the population are kept on
#   purpose (`somatic_keep_missing`) with --population-missing ok: such a call passes, one the
#   population lists as rare (or at a rare REF) is still a finding;
# - --max-samples for the VCFs, from MAX_SAMPLES (rules/vcf.smk, which gives vcf-scrub-header the
#   same number): a germline VCF of more than one sample column, a somatic one of more than two
#   (tumour and normal), holds another person's genotypes;
# - --germline-markers for the somatic VCF (vcf-drop-rare --drop-germline ran on it, and on no
#   other file): a call its caller marked germline (Mutect2's FILTER germline, Strelka2's NT=het)
#   is a finding;
# - --germline --germline-in-vcf -r for the somatic VCF of a sample with a germline VCF, in that
#   second run: a call carrying an allele of the normal's germline calls is a finding (the
#   germline VCF itself, germline by nature, is audited without it where `deliver_germline_vcf`
#   delivers it), its indels met wherever the two callers placed them in a repeat (-r), and a call
#   inside the windows where sam-revert-germline reverted the reads (-r), which vcf-drop-rare
#   --germline-windows dropped (rules/vcf.smk): without that step such calls would be delivered;
# - --preset/--bed for the regions masked (`regions`) and those only checked (`audit_regions`);
# - --only-tags for the BAMs: the tags sam-scrub-rg kept on every record (DELIVERED_BAM_TAGS,
#   rules/bam.smk); any other tag is a finding, as on some records and not others it marks sites;
# - --forbid-contigs for the BAMs, one per pattern of `drop_contigs`: a read on an allele contig
#   (HLA-*, *_alt), or a mate or SA/XA entry on one, is a finding (the reverter removed them).
#
# Before all of it, the rule `pairing` (rules/bam.smk, workflow/pairing.py) checked each BAM of the
# sample against the sheet: one @RG sample, and the germline VCF's homozygous ALT alleles in its
# reads (the VCF's sites are all --germline looks at). A failure stops the sample before any part
# of the BAM is reverted; the gate also refuses a sample whose verdicts are not all pass or
# unchecked (gate.py, pairing_refusal), audit or not.
#
# `audit: false` delivers without checking.
#
# The cohort's list is an ancient() input: a sample added to the sheet later changes it, and the
# samples delivered before are not audited again (their staged outputs, temporary, would all be
# made again).

GATE_SCRIPT = f"{shlex.quote(sys.executable)} {shlex.quote(str(Path(workflow.basedir) / 'gate.py'))}"
AUDIT_PRESETS = REGION_PRESETS + [str(name) for name in AUDIT_REGIONS.get("presets", []) or []]
AUDIT_BEDS = REGION_BEDS + [Path(bed).expanduser().resolve() for bed in AUDIT_REGIONS.get("beds", []) or []]
AUDIT_REGION_OPTIONS = (  # with the scrubbers' flank: the regions checked as widened as they were masked
    [option for name in AUDIT_PRESETS for option in ("--preset", name)]
    + [option for bed in AUDIT_BEDS for option in ("--bed", str(bed))]
    + (["--build", str(AUDIT_REGIONS.get("build") or REGIONS.get("build"))] if AUDIT_REGIONS.get("build") or REGIONS.get("build") else [])
    + (["--flank", str(int(REGIONS["flank"]))] if REGIONS.get("flank") is not None else [])
    if AUDIT_PRESETS or AUDIT_BEDS
    else []
)


def gate_runs(sample):
    """The audit runs of one sample: [{"files", "options", "reasons"}].

    The somatic VCF is audited in a run of its own, judged otherwise than the rest as
    rules/vcf.smk scrubs it otherwise: two sample columns (MAX_SAMPLES), its calls a caller
    marked germline dropped (--drop-germline: --germline-markers), those absent from the
    population kept on purpose (`somatic_keep_missing`: --population-missing ok, a rare one still
    a finding), and, when the sample has a germline VCF, its alleles findings (--germline-in-vcf),
    which they are not in the germline VCF itself."""
    entry = SAMPLES[sample]
    files = [str(staged(sample, name)) for name in data_outputs(sample)]  # indexes too, held to their data files
    germline = entry["vcf"].get("germline")
    # Without a germline VCF the reads were reverted with --all: every aligned base is the reference's.
    # with it, reads of a MAPQ below all_below_mapq hold no difference from the reference (the reverter's rule)
    bam_germline = ["--germline", str(germline), "--all-below-mapq", str(ALL_BELOW_MAPQ)] if germline else ["--all-reference"]
    options = [*bam_germline, "-r", str(REFERENCE)] if entry["bam"] else []
    options += ["--dict", str(SEQUENCE_DICT)] if entry["bam"] else []  # @SQ M5 checked without hashing the reference
    options += ["--only-tags", DELIVERED_BAM_TAGS] if entry["bam"] else []  # one tag set on every record (rules/bam.smk)
    # no read on an allele contig (HLA-*, *_alt), nor a mate or SA/XA entry pointing at one: the reverter dropped them
    # and no VCF record on one (rules/vcf.smk drops them: an allele contig's name is the genotype, in a VCF too)
    options += [option for pattern in DROP_CONTIGS for option in ("--forbid-contigs", pattern)] if entry["bam"] or entry["vcf"] else []
    # without a population file, vcf-drop-rare judged each record by its own af_key: the audit too
    population = (["--population", str(POPULATION)] if POPULATION else []) + ["--af-key", AF_KEY, "--min-af", str(MIN_AF)]
    options += population
    options += ["--max-samples", str(MAX_SAMPLES["germline"])]  # the one VCF of this run (rules/vcf.smk)
    reasons = {}
    if not germline:
        reasons["germline"] = "no germline VCF: the reads were reverted with --all"
    somatic = str(staged(sample, f"{sample}.somatic.vcf.gz"))
    runs = [{"files": [path for path in files if path != somatic], "options": options + AUDIT_REGION_OPTIONS, "reasons": reasons}]
    if somatic in files:
        somatic_options = ["--germline", str(germline), "--germline-in-vcf", "-r", str(REFERENCE)] if germline else []
        somatic_options += population + (["--population-missing", "ok"] if SOMATIC_KEEP_MISSING else [])
        somatic_options += ["--germline-markers", "--max-samples", str(MAX_SAMPLES["somatic"])]
        somatic_options += [option for pattern in DROP_CONTIGS for option in ("--forbid-contigs", pattern)]
        runs.append({"files": [somatic], "options": somatic_options + AUDIT_REGION_OPTIONS, "reasons": {}})
    return [run for run in runs if run["files"]]


def gate_spec(wildcards, output, threads):
    """What workflow/gate.py does for one sample, as JSON (its --spec)."""
    sample = wildcards.sample
    folder = Path(output.folder)
    spec = {
        "sample": sample,
        "deliver": [[str(staged(sample, name)), str(folder / name)] for name in data_outputs(sample)],
        "sample_report": {
            "out": str(folder / f"{sample}.report.json"),
            "private": str(private_sample_report(sample)),
            **sample_report_spec(sample),
        },
        "audit": None,
        "pairing": [str(pairing_verdict(sample, kind)) for kind in SAMPLES[sample]["bam"]],
    }
    if AUDIT:
        spec["audit"] = {
            "command": str(BIN / "genoscrub-audit"),
            "threads": threads,
            "forbid_list": str(FORBID_LISTS / f"{sample}.txt"),
            "fragments": [str(path) for path in linkage_fragments(sample)],
            "inputs": str(STAGING / sample),
            "cohort_forbid": str(COHORT_FORBID),
            "extra_forbid": [str(path) for path in AUDIT_FORBID],
            "runs": gate_runs(sample),
            "log": str(WORK / "logs" / sample / "audit.log"),
            "report": str(folder / f"{sample}.audit.json"),
            "failed_report": str(WORK / sample / "audit.failed.json"),
            "private_report": str(WORK / sample / f"{sample}.audit.json"),  # with the settings the delivered one leaves out
        }
    return shlex.quote(json.dumps(spec, separators=(",", ":")))


def gate_inputs(wildcards):
    sample = wildcards.sample
    files = [staged(sample, name) for name in data_outputs(sample)]
    files += [path for steps in sample_step_reports(sample).values() for _, path in steps]
    files += [pairing_verdict(sample, kind) for kind in SAMPLES[sample]["bam"]]  # refused unless each passed (workflow/pairing.py)
    if AUDIT:
        files += linkage_fragments(sample) + [REFERENCE] + ([SEQUENCE_DICT] if SAMPLES[sample]["bam"] else []) + AUDIT_BEDS + AUDIT_FORBID + ([POPULATION] if POPULATION else [])
        files += [ancient(COHORT_FORBID)]
        files += [SAMPLES[sample]["vcf"]["germline"]] if "germline" in SAMPLES[sample]["vcf"] else []
    return files


rule gate:
    wildcard_constraints:
        sample=SAMPLE_FOLDER,
    input:
        gate_inputs,
    output:
        # The sample's folder, whole: it appears when the audit passes, with every data file, the
        # sample report and the audit report, and is absent otherwise (Snakemake removes the
        # output of a failed job). Snakemake keeps its time stamp in .snakemake_timestamp there.
        folder=directory(RESULTS / "{sample}"),
    params:
        script=GATE_SCRIPT,
        spec=gate_spec,
    log:
        WORK / "logs" / "{sample}" / "audit.log",  # the audit's lines per file and class (gate_spec names it too)
    threads: 2
    resources:
        mem_mb=2000,
    shell:
        "{params.script} --spec {params.spec}"  # one line on stderr when it fails: pseudonym, classes, counts
