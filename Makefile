# genoscrub: make demo | make test | make golden | make man | make bench | make memory | make fuzz | make lint
SHELL := /bin/bash
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
export GENOSCRUB_CORPUS ?= $(abspath ../shared/corpus)

.PHONY: all demo test golden man man-check bench memory fuzz lint tools clean check-presets test-cluster test-slow

all: test

# Rebuilt when the C loops change too: pip install -e compiles filters/_scan.c and
# filters/_keyed_hash.c into filters/
# (with gcc, installed here where no C compiler is found; without one the commands run their
# slower pure-Python twins, and make test refuses that). The modules' bytecode is written here
# too: where Python may not write it at run time (PYTHONDONTWRITEBYTECODE, a read-only checkout
# on a cluster), every start would compile them again, ~0.07 CPU s a command.
$(STAMP): pyproject.toml filters/_scan.c filters/_keyed_hash.c
	@if ! command -v cc >/dev/null && ! command -v gcc >/dev/null; then \
		echo "installing gcc (apt-get) for filters/_scan.c"; \
		SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
		$$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq gcc >/dev/null \
			|| echo "no C compiler: the commands will use their pure-Python twins"; \
	fi
	python3 -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[test]'
	$(PY) -m compileall -q filters workflow >/dev/null
	touch $@

# samtools/bcftools/tabix check our outputs independently; mandoc lints the man pages.
tools:
	@if ! command -v samtools >/dev/null || ! command -v bcftools >/dev/null || ! command -v bgzip >/dev/null || ! command -v mandoc >/dev/null; then \
		echo "installing samtools bcftools tabix mandoc (apt-get)"; \
		SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
		$$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq samtools bcftools tabix mandoc >/dev/null; \
	fi

demo: $(STAMP) tools
	bash tools/demo.sh

test: $(STAMP) tools lint
	$(PY) man/build.py --check
	for page in man/*.1; do mandoc -Tlint -W style "$$page" || exit 1; done
	# --dist loadfile: a module's fixtures (a cohort workflow run, a simulated patient) are made once, not in each worker
	GENOSCRUB_REQUIRE_SCAN=1 $(PY) -m pytest -q -n 2 --dist loadfile -m "not slow"

# The tests marked slow: peak memory of every command on streams of up to 2.5M records and a
# short fuzz run of every parser (~4 CPU minutes). CI (.ci/run) runs them after make test.
test-slow: $(STAMP) tools
	GENOSCRUB_REQUIRE_SCAN=1 $(PY) -m pytest -q -n 2 -m slow

# The cohort workflow through SLURM (snakemake-executor-plugin-slurm, workflow/profiles/slurm) on a
# one-node cluster started here as root (tools/slurm_cluster.py: munge, slurmctld, slurmd from a
# generated /etc/slurm/slurm.conf), compared with a local run; the daemons are stopped after.
test-cluster: $(STAMP) tools
	$(PY) tools/slurm_cluster.py start
	GENOSCRUB_TEST_CLUSTER=1 $(PY) -m pytest -q -rP -p no:randomly tests/test_cluster.py; status=$$?; \
		$(PY) tools/slurm_cluster.py stop; exit $$status

golden: $(STAMP)
	GENOSCRUB_GOLDEN_UPDATE=1 $(PY) -m pytest -q tests/test_golden.py
	git status --short tests/golden

man: $(STAMP)
	$(PY) man/build.py
	for page in man/*.1; do mandoc -Tlint -W style "$$page" || exit 1; done

bench: $(STAMP) tools
	$(PY) tools/bench.py $(BENCH_ARGS)

# Peak memory of every command at 10x the bench size (make test-slow runs them at 0.1x to 4x for
# time): about 25 CPU minutes, most of them the three SAM commands on 40M records.
memory: $(STAMP) tools
	GENOSCRUB_MEMORY_FULL=1 $(PY) -m pytest -q -rP -p no:randomly tests/test_memory.py

# Coverage-guided fuzzing of every parser (atheris); make test-slow runs a short pass of each target.
# A crash is saved in fuzz-out/; replay it with: $(PY) tools/fuzz_parsers.py TARGET fuzz-out/FILE
FUZZ_RUNS ?= 20000
fuzz: $(STAMP)
	mkdir -p fuzz-out
	for t in $$($(PY) tools/fuzz_parsers.py --list); do echo "== $$t"; \
	  $(PY) tools/fuzz_parsers.py $$t -runs=$(FUZZ_RUNS) -max_len=2048 -timeout=20 -artifact_prefix=fuzz-out/$$t- || exit 1; done

# The sequence check of the region presets against a local reference FASTA (GRCh37 or GRCh38, told by
# its chromosome 1 length unless BUILD=...): make check-presets FASTA=/path/to/GRCh38.fa
check-presets: $(STAMP)
	@test -n "$(FASTA)" || { echo "usage: make check-presets FASTA=/path/to/reference.fa [BUILD=GRCh37|GRCh38]" >&2; exit 2; }
	$(PY) tools/presets.py check-fasta $(if $(BUILD),--build $(BUILD)) $(FASTA)

# mypy sees the package under its import name through a link (filters/ is mapped to genoscrub
# by pyproject's package-dir), so calls between modules are checked, not typed Any.
lint: $(STAMP)
	$(PY) -m ruff check filters tests tools man workflow
	mkdir -p build/mypy && ln -sfn ../../filters build/mypy/genoscrub
	MYPYPATH=build/mypy $(PY) -m mypy build/mypy/genoscrub tests tools man workflow/scatter.py workflow/bam_index.py workflow/reports.py workflow/fastq_from_bam.py workflow/gate.py workflow/sam_chain.py workflow/pairing.py

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache build *.egg-info fuzz-out
