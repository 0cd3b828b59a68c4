"""genoscrub: Unix filters that pseudonymize FASTQ, SAM/BAM and VCF files."""

__version__ = "0.1.0"
