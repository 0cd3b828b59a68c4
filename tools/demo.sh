#!/usr/bin/env bash
# make demo: simulate a small tumour/normal set with planted identifiers, pseudonymize it
# end to end with the genoscrub pipes, and show what changed. Outputs land in demo-out/.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
export PATH="$root/bin:$PATH"
py="$root/.venv/bin/python"
in=demo-out/input
out=demo-out/pseudonymized
rm -rf demo-out && mkdir -p "$in" "$out" demo-out/private
chmod 700 demo-out/private

say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
# A command whose issue has not landed yet exits 2 with "not implemented yet": skip its step.
built() { ! "$1" </dev/null 2>&1 | grep -q "not implemented yet"; }
forbidden_hits() {  # how many planted identifiers occur in the given files (decompressed)
    local hits=0 file text
    for file in "$@"; do
        case "$file" in
            *.bam) text=$(samtools view -h --no-PG "$file") ;;
            *.gz) text=$(gzip -dc "$file") ;;
            *) text=$(cat "$file") ;;
        esac
        while IFS= read -r word; do
            [ -n "$word" ] && grep -qF -- "$word" <<<"$text" && hits=$((hits + 1))
        done < "$in/forbidden.txt"
    done
    echo "$hits"
}

say "1. Simulate a tumour/normal example (deterministic, seed 1)"
"$py" tools/simulate.py --out "$in" >/dev/null
ls -1 "$in"
echo "planted identifiers (forbidden.txt): $(wc -l < "$in/forbidden.txt"), e.g. $(head -3 "$in/forbidden.txt" | paste -sd, -)"

head -c 32 /dev/urandom > demo-out/private/site.key
chmod 600 demo-out/private/site.key
key=demo-out/private/site.key
links=demo-out/private/links.tsv

say "2. FASTQ: read names -> keyed pseudonyms (R1 and R2 scrubbed separately stay in sync)"
for mate in R1 R2; do
    fastq-scrub-names -q --key-file "$key" --map-out "$links" "$in/tumour_$mate.fastq.gz" | gzip > "$out/tumour_$mate.fastq.gz"
done
echo "before: $(gzip -dc "$in/tumour_R1.fastq.gz" | head -1)"
echo "after:  $(gzip -dc "$out/tumour_R1.fastq.gz" | head -1)"

say "3. BAM: read groups, @PG/@CO, read names, germline alleles"
if built sam-scrub-rg; then
    revert=(cat)
    if built sam-revert-germline; then
        revert=(sam-revert-germline -q -r "$in/ref.fa" -v "$in/germline.vcf.gz" --report "$out/tumour.revert.json")
    else
        echo "(sam-revert-germline not implemented yet: germline alleles are NOT reverted in this demo)"
    fi
    for sample in tumour normal; do
        samtools view -h --no-PG "$in/$sample.bam" \
            | sam-scrub-rg -q --map "$in/ids.tsv" --key-file "$key" --names --map-out "$links" \
            | "${revert[@]}" \
            | samtools view -b --no-PG -o "$out/$sample.bam"
        samtools index "$out/$sample.bam"
    done
    echo "header before:"; samtools view -H --no-PG "$in/tumour.bam" | grep -E '^@(RG|PG|CO)' | cut -c1-110
    echo "header after:";  samtools view -H --no-PG "$out/tumour.bam" | grep -E '^@(RG|PG|CO)' | cut -c1-110
    samtools quickcheck "$out/tumour.bam" "$out/normal.bam" && echo "samtools quickcheck: ok"
    if built sam-revert-germline; then
        for label in input pseudonymized; do
            dir=$in; [ "$label" = pseudonymized ] && dir=$out
            calls=$(bcftools mpileup -Ou -f "$in/ref.fa" "$dir/normal.bam" 2>/dev/null | bcftools call -mv -Ov 2>/dev/null | grep -vc '^#' || true)
            echo "bcftools call on the normal BAM, $label: $calls variant sites (germline truth: $(bcftools view -H "$in/germline.vcf.gz" | wc -l))"
        done
    fi
else
    echo "(sam-scrub-rg not implemented yet: BAM step skipped)"
fi

say "3b. Tumour-only: revert every difference except the listed somatic alleles (screened against the population)"
if built sam-revert-germline; then
    samtools view -h --no-PG "$in/tumour.bam" \
        | sam-revert-germline -q -r "$in/ref.fa" --all --keep "$in/germline_as_somatic.vcf.gz" \
            --population "$in/population.vcf.gz" --af-key AF_eas --report "$out/tumour-only.revert.json" \
        | samtools view -b --no-PG -o demo-out/tumour-only.bam
    samtools index demo-out/tumour-only.bam
    calls=$(bcftools mpileup -Ou -f "$in/ref.fa" -a AD demo-out/tumour-only.bam 2>/dev/null \
        | bcftools call -mv -P 0.1 -Ov 2>/dev/null | grep -v '^#' | cut -f1,2 | sort -u)
    somatic=$(bcftools query -f '%CHROM\t%POS\n' "$in/somatic.vcf.gz" | sort -u)
    echo "keep list: $(bcftools view -H "$in/germline_as_somatic.vcf.gz" | wc -l) alleles listed as somatic, 5 of them really germline"
    echo "variant sites called afterwards: $(grep -c . <<<"$calls" || true), of them true somatic: $(comm -12 <(echo "$calls") <(echo "$somatic") | grep -c . || true)"
    "$py" -c "import json,sys; r=json.load(open(sys.argv[1])); print('report:', ', '.join(f'{k} {v}' for k, v in r.items() if k.startswith('keep_alleles')))" "$out/tumour-only.revert.json"
    echo "(a germline allele listed as somatic and absent from the population resource cannot be screened out: see TUMOUR-ONLY SAMPLES in man sam-revert-germline)"
fi

say "4. VCF: header allowlist, sample pseudonyms, rare variants dropped"
if built vcf-scrub-header; then
    drop=(cat)
    if built vcf-drop-rare; then
        drop=(vcf-drop-rare -q --population "$in/population.vcf.gz" --af-key AF_eas --report "$out/germline.drop.json")
    else
        echo "(vcf-drop-rare not implemented yet: rare variants are NOT dropped in this demo)"
    fi
    bcftools view "$in/germline.vcf.gz" \
        | vcf-scrub-header -q --map "$in/ids.tsv" --key-file "$key" --map-out "$links" \
        | "${drop[@]}" \
        | bgzip > "$out/germline.vcf.gz"
    echo "header lines: $(bcftools view -h "$in/germline.vcf.gz" | wc -l) before, $(bcftools view -h "$out/germline.vcf.gz" | wc -l) after"
    echo "records:      $(bcftools view -H "$in/germline.vcf.gz" | wc -l) before, $(bcftools view -H "$out/germline.vcf.gz" | wc -l) after"
    echo "samples:      $(bcftools query -l "$in/germline.vcf.gz" | paste -sd,) -> $(bcftools query -l "$out/germline.vcf.gz" | paste -sd,)"
    # The first record's INFO, where a LIMS wrote the specimen and the date (vcf-scrub-header alone:
    # vcf-drop-rare may drop that record).
    echo "record INFO:  $(bcftools query -f '%INFO\n' "$in/germline.vcf.gz" | head -1) -> $(vcf-scrub-header -q --map "$in/ids.tsv" "$in/germline.vcf.gz" | bcftools query -f '%INFO\n' - | head -1)"
else
    echo "(vcf-scrub-header not implemented yet: VCF step skipped)"
fi

say "5. Audit: the outputs pass, the inputs fail (genoscrub-audit, independent of the commands above)"
checks=(--forbid "$in/forbidden.txt" --germline "$in/germline.vcf.gz" -r "$in/ref.fa"
        --population "$in/population.vcf.gz" --af-key AF_eas)
audited=("$out"/tumour_R1.fastq.gz "$out"/tumour_R2.fastq.gz)
[ -e "$out/tumour.bam" ] && audited+=("$out/tumour.bam" "$out/normal.bam" "$out/tumour.bam.bai" "$out/normal.bam.bai")
[ -e "$out/germline.vcf.gz" ] && audited+=("$out/germline.vcf.gz")
if genoscrub-audit "${checks[@]}" --report "$out/audit.json" "${audited[@]}" > demo-out/audit-outputs.txt; then
    echo "outputs: $(tail -1 demo-out/audit-outputs.txt)"
else
    echo "outputs: $(tail -1 demo-out/audit-outputs.txt)  <- unexpected: see demo-out/audit-outputs.txt"
fi
if genoscrub-audit "${checks[@]}" "$in/tumour.bam" "$in/germline.vcf.gz" "$in/tumour_R1.fastq.gz" > demo-out/audit-inputs.txt; then
    echo "inputs:  $(tail -1 demo-out/audit-inputs.txt)  <- unexpected"
else
    echo "inputs:  $(tail -1 demo-out/audit-inputs.txt)"
    grep -v ': 0$\|not checked' demo-out/audit-inputs.txt | head -n -1 | cut -c1-150 | sed 's/^/  /'
fi

say "6. What survived"
outputs=("$out"/*.fastq.gz)
[ -e "$out/tumour.bam" ] && outputs+=("$out/tumour.bam" "$out/normal.bam")
[ -e "$out/germline.vcf.gz" ] && outputs+=("$out/germline.vcf.gz")
inputs=("$in"/tumour_R1.fastq.gz "$in"/tumour_R2.fastq.gz "$in"/tumour.bam "$in"/normal.bam "$in"/germline.vcf.gz)
echo "planted identifiers found in the inputs:  $(forbidden_hits "${inputs[@]}")"
echo "planted identifiers found in the outputs: $(forbidden_hits "${outputs[@]}")"
echo "linkage table (keep it apart from the data): $links, mode $(stat -c %a "$links"), $(wc -l < "$links") rows"
echo
echo "outputs in $out/:"
ls -l "$out" | tail -n +2
