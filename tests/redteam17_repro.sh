#!/bin/bash
# Red team 17: reproductions of VCF calls one spelling kept and another dropped (not collected by pytest).
#
#   bash tests/redteam17_repro.sh [WORK_FOLDER]     (GENOSCRUB_CHECKOUT=/path/to/main: the code before)
#
# 1. (fixed: filters/vcf_drop_rare.py, filters/population.py, filters/audit_vcf.py) REF was judged at
#    POS only: `98 AAGAA A` (0/1), whose REF haplotype carries G at 100 where the population's REF is
#    0.5 %, was kept and passed the audit, while `100 G A` (0/1) and a gVCF block over 100 went.
# 2. (fixed: filters/vcf_drop_rare.py, filters/audit_vcf.py) a complex allele (`1000 AT GTT`: a rare
#    SNV 1000 A>G beside an inserted T) was absent from the population, so --keep-missing (the
#    workflow's somatic path) kept it and the audit passed it; atomized, the SNV's record is rare.
# 3. (fixed in the workflow: workflow/rules/vcf.smk) an indel the population lists rare, written at the
#    other end of its repeat (`2014 ACA A` for gnomAD's left-aligned `2000 GCA G`), is absent, so kept
#    under --keep-missing with the workflow's own options (-r is given, but the population join does
#    not left-align), and the gate passes it. The workflow now runs `bcftools norm -f` after
#    vcf-scrub-header, which moves it onto the rare record; vcf-drop-rare alone still needs
#    normalised input, as its man page says.
# 4. (fixed: workflow/rules/vcf.smk, rules/gate.smk, filters/audit_vcf.py) a somatic call on an HLA
#    allele contig (its name is the genotype) or chrEBV is absent from every population, so kept
#    under --keep-missing; drop_contigs held only the BAMs and the gate passed it. The workflow now
#    excludes those contigs (bcftools norm -T ^work/dropped_contigs.bed) and the audit's
#    --forbid-contigs finds a VCF record there.
# 5. (open, low) a resident registration number cut in two in a count array (FORMAT/AD
#    `900101,1234567`, SB) passes vcf-scrub-header and the audit: AD is a key known to hold
#    large numbers, so its values pass unread.
# 6. (fixed) germline markers in another valid spelling passed --drop-germline and the audit
#    alike: dbSNP's Integer `SAO=01` (htslib reads 1), `NT=HET`, `STATUS=germline`.
set -euo pipefail
ROOT=${GENOSCRUB_CHECKOUT:-$(cd "$(dirname "$0")/.." && pwd)}
WORK=${1:-$(mktemp -d)}
mkdir -p "$WORK"
cd "$WORK"
HEADER='##fileformat=VCFv4.2\n##contig=<ID=chr1,length=5000>\n##INFO=<ID=AF,Number=A,Type=Float,Description="AF">\n##FORMAT=<ID=GT,Number=1,Type=String,Description="GT">\n'
COLUMNS='#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO'
kept() { grep -vc '^#' || true; }
verdict() { "$ROOT/bin/genoscrub-audit" -q "$@" > /dev/null 2>&1 && echo PASS || echo FAIL; }

echo "1. 98 AAGAA A (0/1) beside the population's REF G at 100 at 0.5 % (kept 1, PASS before; 0, FAIL after):"
printf "$HEADER$COLUMNS\nchr1\t98\t.\tAAGAA\tA\t.\tPASS\tAF=0.3\nchr1\t100\t.\tG\tA\t.\tPASS\tAF=0.995\n" > pop1.vcf
bgzip -f pop1.vcf && tabix -f pop1.vcf.gz
printf "$HEADER$COLUMNS\tFORMAT\tS\nchr1\t98\t.\tAAGAA\tA\t50\tPASS\t.\tGT\t0/1\n" > calls1.vcf
echo "   kept $("$ROOT/bin/vcf-drop-rare" -q --population pop1.vcf.gz --af-key AF calls1.vcf | kept)," \
     "audit $(verdict --population pop1.vcf.gz --af-key AF calls1.vcf)"

echo "2. 1000 AT GTT beside the population's 1000 A G AF=0.0001, --keep-missing (kept 1, PASS before; 0, FAIL after):"
printf "$HEADER$COLUMNS\nchr1\t1000\t.\tA\tG\t.\tPASS\tAF=0.0001\n" > pop2.vcf
bgzip -f pop2.vcf && tabix -f pop2.vcf.gz
printf "$HEADER$COLUMNS\tFORMAT\tS\nchr1\t1000\t.\tAT\tGTT\t50\tPASS\t.\tGT\t0/1\n" > calls2.vcf
echo "   kept $("$ROOT/bin/vcf-drop-rare" -q --population pop2.vcf.gz --af-key AF --keep-missing calls2.vcf | kept)," \
     "audit $(verdict --population pop2.vcf.gz --af-key AF --population-missing ok calls2.vcf)"

echo "3. a rare deletion of G(CA)8 written at the repeat's right end, the somatic options (kept 1, PASS; through bcftools norm -f as the workflow now runs it: 0):"
"$ROOT/.venv/bin/python" - << 'PYTHON'
import random
random.seed(3)
seq = [random.choice("ACGT") for _ in range(5000)]
seq[1999] = "G"
for i in range(8):
    seq[2000 + 2 * i], seq[2001 + 2 * i] = "C", "A"
seq[2016] = "T"
text = "".join(seq)
open("ref.fa", "w").write(">chr1\n" + text + "\n")
header = '##fileformat=VCFv4.2\n##contig=<ID=chr1,length=5000>\n##INFO=<ID=AF,Number=A,Type=Float,Description="AF">\n##FORMAT=<ID=GT,Number=1,Type=String,Description="GT">\n'
columns = "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO"
open("pop3.vcf", "w").write(header + columns + "\nchr1\t2000\t.\tGCA\tG\t.\tPASS\tAF=0.0001\n")
open("calls3.vcf", "w").write(header + columns + f"\tFORMAT\tT\tN\nchr1\t2014\t.\t{text[2013:2016]}\t{text[2013]}\t50\tPASS\t.\tGT\t0/1\t0/0\n")
open("germline3.vcf", "w").write(header + columns + f"\tFORMAT\tN\nchr1\t4000\t.\t{text[3999]}\t{'A' if text[3999] != 'A' else 'C'}\t50\tPASS\t.\tGT\t0/1\n")
PYTHON
samtools faidx ref.fa && bgzip -f pop3.vcf && tabix -f pop3.vcf.gz
echo "   kept $("$ROOT/bin/vcf-drop-rare" -q --population pop3.vcf.gz --af-key AF --drop-germline --keep-missing --germline germline3.vcf -r ref.fa --germline-windows calls3.vcf | kept)," \
     "audit $(verdict --population pop3.vcf.gz --af-key AF --population-missing ok --germline germline3.vcf --germline-in-vcf -r ref.fa calls3.vcf);" \
     "left-aligned by bcftools norm -f: kept $(bcftools norm -f ref.fa calls3.vcf 2> /dev/null | "$ROOT/bin/vcf-drop-rare" -q --population pop3.vcf.gz --af-key AF --keep-missing | kept)"

echo "4. a somatic call on HLA-A*02:01:01:01, the somatic options (kept 1 both; audit --forbid-contigs 'HLA-*': PASS before, FAIL after):"
printf '##fileformat=VCFv4.2\n##contig=<ID=chr1,length=5000>\n##contig=<ID=HLA-A*02:01:01:01,length=3000>\n##INFO=<ID=AF,Number=A,Type=Float,Description="AF">\n#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\nchr1\t100\t.\tA\tG\t.\tPASS\tAF=0.3\n' > pop4.vcf
bgzip -f pop4.vcf && tabix -f pop4.vcf.gz
printf '##fileformat=VCFv4.2\n##contig=<ID=chr1,length=5000>\n##contig=<ID=HLA-A*02:01:01:01,length=3000>\n#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\nHLA-A*02:01:01:01\t500\t.\tC\tT\t50\tPASS\t.\n' > calls4.vcf
echo "   kept $("$ROOT/bin/vcf-drop-rare" -q --population pop4.vcf.gz --af-key AF --drop-germline --keep-missing calls4.vcf | kept)," \
     "audit $(verdict --population pop4.vcf.gz --af-key AF --population-missing ok --forbid-contigs 'HLA-*' calls4.vcf)"

echo "5. FORMAT/AD 900101,1234567 (an RRN cut in two) after vcf-scrub-header (kept, PASS: open):"
printf '##fileformat=VCFv4.2\n##contig=<ID=chr1,length=5000>\n##FORMAT=<ID=GT,Number=1,Type=String,Description="GT">\n##FORMAT=<ID=AD,Number=R,Type=Integer,Description="AD">\n#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT\tS\nchr1\t100\t.\tA\tG\t50\tPASS\t.\tGT:AD\t0/1:900101,1234567\n' > ad.vcf
"$ROOT/bin/vcf-scrub-header" -q ad.vcf > ad.out.vcf
echo "   $(grep -v '^#' ad.out.vcf | cut -f10), audit $(verdict ad.out.vcf)"

echo "6. germline markers in another spelling, --drop-germline (kept 3, PASS before; kept 0, FAIL after: fixed)"
printf '##fileformat=VCFv4.2\n##contig=<ID=chr1,length=5000>\n##INFO=<ID=SAO,Number=1,Type=Integer,Description="o">\n##INFO=<ID=NT,Number=1,Type=String,Description="n">\n##INFO=<ID=STATUS,Number=1,Type=String,Description="s">\n##INFO=<ID=AF,Number=A,Type=Float,Description="AF">\n#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\nchr1\t100\t.\tA\tG\t50\tPASS\tSAO=01;AF=0.3\nchr1\t200\t.\tA\tG\t50\tPASS\tNT=HET;AF=0.3\nchr1\t300\t.\tA\tG\t50\tPASS\tSTATUS=germline;AF=0.3\n' > markers.vcf
echo "   kept $("$ROOT/bin/vcf-drop-rare" -q --af-key AF --drop-germline markers.vcf | kept), audit $(verdict --af-key AF --germline-markers markers.vcf)"
