"""genoscrub: Unix filters that pseudonymize FASTQ, SAM/BAM and VCF files."""

import os

# numpy's OpenBLAS starts a thread per core when imported, about 0.1 s of CPU at every
# command start; the filters use no linear algebra, so one thread is enough.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

__version__ = "0.1.0"
