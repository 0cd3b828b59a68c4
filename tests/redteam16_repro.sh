#!/bin/bash
# Red team 16: reproductions of what a delivery still gave away (not collected by pytest).
#
#   bash tests/redteam16_repro.sh [WORK_FOLDER]     (GENOSCRUB_CHECKOUT=/path/to/main: the code before)
#
# 1. (fixed: workflow/fastq_from_bam.py) fastq: from_reverted_bam wrote each template the reverted
#    BAM had lost whole as an all-N pair with '#' qualities: their count in the delivered FASTQ is
#    the reads on a dropped contig (chrEBV: an infection; an HLA allele contig) or the pairs removed
#    at a carrier's germline insertion, counts the delivered reports keep back.
# 2. (fixed: filters/audit_index.py) the raw BAM's index beside a delivered BAM larger than the raw
#    one passed the audit; samtools idxstats then counted the reads of the dropped contig.
# 3. (fixed: filters/record_values.py, filters/vcf_scrub_header.py) vcf-scrub-header wrote a removed
#    INFO value as `KEY=.`: the records that held an identifier stayed marked among those whose
#    value was kept or that never had the key. The item now goes whole.
set -euo pipefail
ROOT=${GENOSCRUB_CHECKOUT:-$(cd "$(dirname "$0")/.." && pwd)}  # GENOSCRUB_CHECKOUT=/path: another checkout (before the fixes)
WORK=${1:-$(mktemp -d)}
PY=$ROOT/.venv/bin/python
mkdir -p "$WORK"
cd "$WORK"

"$PY" "$ROOT/tools/cohort.py" --out cohort --pairs 20000 2> /dev/null
cd cohort
sed -e 's#^fastq: rename#fastq: from_reverted_bam#' -e 's#^drop_contigs: .*#drop_contigs: ["chrM"]#' \
    "$ROOT/workflow/config.example.yaml" > config.yaml
"$ROOT/.venv/bin/snakemake" --snakefile "$ROOT/workflow/Snakefile" --configfile config.yaml --cores 2 -q > snakemake.out 2>&1

echo "1. templates written without a base (both reads all N, all '#') in each delivered pair (0 after the fix):"
for r1 in results/*/*.R1.fastq.gz; do
    r2=${r1%.R1.fastq.gz}.R2.fastq.gz
    lost=$(paste <(zcat "$r1" | awk 'NR % 4 == 0') <(zcat "$r2" | awk 'NR % 4 == 0') | awk -F '\t' '$1 ~ /^#+$/ && $2 ~ /^#+$/' | wc -l)
    printf '   %s %s\n' "$(basename "$r1" .R1.fastq.gz)" "$lost"
done

echo "2. the raw index beside a delivered BAM re-encoded at level 0 (FAIL after the fix):"
delivered=$(ls results/*/*.tumour.bam | head -1)
samtools view -b --no-PG --output-fmt bam,level=0 -o stale.bam "$delivered"
cp patient1/tumour.bam.bai stale.bam.bai
echo "   samtools idxstats, chrM: $(samtools idxstats stale.bam | awk '$1 == "chrM" {print $3}') reads (the BAM holds none there)"
"$ROOT/bin/genoscrub-audit" -q stale.bam.bai > /dev/null 2>&1 && echo "   genoscrub-audit: PASS" || echo "   genoscrub-audit: FAIL"

echo "3. a removed INFO value (NOTE=. before the fix; the record at 20 reads as the one at 10 after it):"
printf '##fileformat=VCFv4.2\n##contig=<ID=chr1,length=1000>\n##INFO=<ID=NOTE,Number=1,Type=String,Description="note">\n#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\nchr1\t10\t.\tA\tG\t.\tPASS\t.\nchr1\t20\t.\tA\tG\t.\tPASS\tNOTE=reported_900101-1234567\nchr1\t40\t.\tA\tG\t.\tPASS\tNOTE=reported\n' > note.vcf
"$ROOT/bin/vcf-scrub-header" -q note.vcf | grep -v '^#' | sed 's/^/   /'
