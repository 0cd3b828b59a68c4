"""vcf-scrub-header: pseudonymize a VCF's sample columns and rebuild its header from parsed fields.

A VCF header names people (``##SAMPLE``, ``##PEDIGREE``, sample columns such as
``S2301217N_20231029``), places and machines (``##reference=file:///data/...``,
contig URLs), dates (``##fileDate``) and whole command lines with patient paths
(``##GATKCommandLine``, ``##bcftools_callCommand``). The guideline (Park et al.
2024, Fig. 4A) replaces sample IDs by pseudonyms (``CMN001_00``) and deletes the
rest. This command fails closed: the output header is written field by field from
the typed model of ``vcf_header`` (never copied as text), keys not on the allowlist
are removed, and a line that does not parse by the VCF 4.x grammar is removed too.
Every removal is counted, by kind, in the report.

- ``##fileformat``: VCFv4.0 to VCFv4.5, nothing else;
- ``##INFO``/``##FORMAT``: ID, Number, Type, Description; ``##FILTER``/``##ALT``: ID,
  Description. A Description goes through the identifier scrub (``identifiers``) or,
  with ``--descriptions drop``, becomes the VCF specification's text for a standard key
  and a neutral one for the rest;
- ``##contig``: ID and length; an ID holding a path, an address or personal data
  (``identifiers.personal_contig``: ``KIM_19900101``, ``/home/kimjh/asm.fa``) is an error
  naming the line, never the ID, as no record on it could be kept; ``##reference``: the
  base name of a reference file;
- ``--keep KEY`` lines: every value scrubbed; ``##PEDIGREE``/``##SAMPLE`` sample IDs get
  the columns' pseudonyms, or the line goes when one is not a known sample.

Records pass as the same bytes except where they name something: the ID column keeps
public database IDs (``rs...``, ``COSV...``, ``COSM...``) only, and the breakend links
(``MATEID``, ``PARID``, ``EVENT``) follow it with one pseudonym per original ID; a
known sample name in ALT (``<INS:S2301217T>``), FILTER, INFO or FORMAT becomes its
pseudonym; text outside ASCII (a name in Hangul) in those columns becomes ``.``; an
identifier written into a record goes (``record_values``). A 4 MiB block is never split
into lines when it holds none of these: numpy locates the ID spans and decides ``.`` and
``rs`` IDs for the whole block at once, and only other IDs reach Python
(``IdScrubber.scrub``); one C pass (``RecordValues.candidate_rows``) picks the records
that link to others or may hold an identifier, and only those are split. A block with
names or other scripts, and every block with ``GENOSCRUB_ONE_BY_ONE=1``, goes line by
line (``RecordScrub.scrub_line``), the reference the bulk path must agree with.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path
from typing import Annotated, Optional

import numpy as np
import typer
from genoscrub import __version__, scan
from genoscrub.cli import (
    InputArgument,
    KeyFileOption,
    MapOption,
    MapOutOption,
    OutputOption,
    QuietOption,
    ReportOption,
    VcfOutputTypeOption,
    make_app,
    open_pseudonyms,
    run,
)
from genoscrub.fields import DIGITS, FLOAT_TEXT, spans_within
from genoscrub.identifiers import (
    PERCENT_LEVELS,
    PERSONAL,
    RECORD_SCRIPT_WORD,
    IdentifierScrub,
    NameReplacement,
    distinctive,
    personal_contig,
    personal_reference_name,
)
from genoscrub.one_by_one import one_by_one
from genoscrub.pseudonyms import ID_HASH_DIGITS, ID_KEYED_PREFIX, Pseudonyms
from genoscrub.record_values import RecordDefinitions, RecordValues, public_number_subfields, unchecked_keys, unsafe_alt_id, unsafe_id
from genoscrub.report import InputError, Report, UsageError
from genoscrub.vcf import RecordBlock, TextBlocks, VcfHeader, VcfOutput, joined, opened_input, split_header_text, text_blocks
from genoscrub.vcf_columns import RecordColumns
from genoscrub.vcf_header import (
    CONTIG_ID,
    FIELD_ID,
    FILEFORMAT,
    FILTER_ID,
    Contig,
    contig,
    definition,
    field_definition,
    meta_key,
    meta_value,
    structured_fields,
    structured_line,
)

COMMAND = "vcf-scrub-header"
ALLOWED_KEYS = frozenset({b"fileformat", b"INFO", b"FORMAT", b"FILTER", b"ALT", b"contig", b"reference"})
PUBLIC_ID = re.compile(rb"rs[1-9][0-9]{0,9}|COS[VM][1-9][0-9]{0,8}")
"""A public ID as its database numbers it: dbSNP's rs of at most 10 digits, COSMIC's COSV and COSM of
at most 9, no leading zero (``rs9001011234567`` and ``rs01012345678`` are personal numbers)."""
# An ID column that stays as it is: "." or a list of public IDs.
KEPT_ID_COLUMN = re.compile(rb"\.|(?:(?:" + PUBLIC_ID.pattern + rb");)*(?:" + PUBLIC_ID.pattern + rb")")
STEM_SEPARATORS = re.compile(rb"[-_.]")
MIN_STEM_LENGTH = 5
# A name replaced inside records (values, keys, symbolic alleles) must be unmistakable there:
# at least this long, with a letter, not only bases (a sample "1", "DP" or "ACGT" stays a value).
MIN_RECORD_NAME_LENGTH = 4
LATEST_FILEFORMAT = b"VCFv4.5"
# Keys whose values are sample IDs (VCF 4.3, 1.4.8 and 1.4.9).
PEDIGREE_KEYS = re.compile(rb"ID|Original|Derived|Child|Mother|Father|Name_[0-9]+")
# A reference name kept by ##reference: a FASTA file's base name, or a build name.
REFERENCE_NAME = re.compile(
    rb"[A-Za-z0-9_+-][A-Za-z0-9._+-]*\.(?:fa|fasta|fna|fas|2bit)(?:\.gz|\.bgz)?", re.IGNORECASE
)
BUILD_NAMES = frozenset(
    {b"GRCh37", b"GRCh38", b"hg18", b"hg19", b"hg38", b"b36", b"b37", b"hs37d5", b"hs38DH", b"NCBI36", b"NCBI37", b"T2T-CHM13",
     b"CHM13", b"GRCm38", b"GRCm39", b"mm10", b"mm39"}
)
LINK_KEYS = frozenset({b"MATEID", b"PARID", b"EVENT"})
PERSONAL_CONTIG = "contig ID holds a path or personal data; rename the contig before scrubbing"
NEUTRAL_DESCRIPTION = b"Description removed"
# The VCF specification's own words for its reserved keys (VCF 4.4, 1.6.1 and 5), for --descriptions drop.
STANDARD_DESCRIPTIONS: dict[tuple[bytes, bytes], bytes] = {
    **{(b"INFO", key): text for key, text in {
        b"AA": b"Ancestral allele", b"AC": b"Allele count in genotypes, for each ALT allele",
        b"AD": b"Total read depth for each allele", b"ADF": b"Read depth for each allele on the forward strand",
        b"ADR": b"Read depth for each allele on the reverse strand", b"AF": b"Allele frequency for each ALT allele",
        b"AN": b"Total number of alleles in called genotypes", b"BQ": b"RMS base quality",
        b"CIGAR": b"Cigar string describing how to align an alternate allele to the reference allele",
        b"DB": b"dbSNP membership", b"DP": b"Combined depth across samples", b"END": b"End position of the variant",
        b"H2": b"HapMap2 membership", b"H3": b"HapMap3 membership", b"MQ": b"RMS mapping quality",
        b"MQ0": b"Number of MAPQ == 0 reads", b"NS": b"Number of samples with data", b"SB": b"Strand bias",
        b"SOMATIC": b"Somatic mutation", b"VALIDATED": b"Validated by follow-up experiment",
        b"1000G": b"1000 Genomes membership", b"IMPRECISE": b"Imprecise structural variation",
        b"NOVEL": b"Novel structural variation", b"SVTYPE": b"Type of structural variant",
        b"SVLEN": b"Length of structural variant", b"CIPOS": b"Confidence interval around POS",
        b"CIEND": b"Confidence interval around END", b"HOMLEN": b"Length of base pair identical micro-homology at breakpoints",
        b"HOMSEQ": b"Sequence of base pair identical micro-homology at breakpoints",
        b"BKPTID": b"ID of the assembled alternate allele in the assembly file", b"MEINFO": b"Mobile element info",
        b"METRANS": b"Mobile element transduction info", b"DGVID": b"ID of this element in the Database of Genomic Variants",
        b"DBVARID": b"ID of this element in dbVar", b"DBRIPID": b"ID of this element in DBRIP",
        b"MATEID": b"ID of mate breakends", b"PARID": b"ID of partner breakend", b"EVENT": b"ID of event associated to breakend",
        b"CILEN": b"Confidence interval for the SVLEN field", b"DPADJ": b"Read depth of adjacency",
        b"CN": b"Copy number of segment containing breakend", b"CNADJ": b"Copy number of adjacency",
        b"CICN": b"Confidence interval around copy number for the segment",
        b"CICNADJ": b"Confidence interval around copy number for the adjacency",
    }.items()},
    **{(b"FORMAT", key): text for key, text in {
        b"AD": b"Read depth for each allele", b"ADF": b"Read depth for each allele on the forward strand",
        b"ADR": b"Read depth for each allele on the reverse strand", b"DP": b"Read depth",
        b"EC": b"Expected alternate allele counts", b"FT": b"Filter indicating if this genotype was called",
        b"GL": b"Genotype likelihoods", b"GP": b"Genotype posterior probabilities", b"GQ": b"Conditional genotype quality",
        b"GT": b"Genotype", b"HQ": b"Haplotype quality", b"MQ": b"RMS mapping quality",
        b"PL": b"Phred-scaled genotype likelihoods rounded to the closest integer", b"PQ": b"Phasing quality",
        b"PS": b"Phase set", b"CN": b"Copy number genotype for imprecise events",
        b"CNQ": b"Copy number genotype quality for imprecise events",
        b"CNL": b"Copy number genotype likelihood for imprecise events",
        b"CNP": b"Copy number posterior probabilities", b"NQ": b"Phred style probability score that the variant is novel",
        b"HAP": b"Unique haplotype identifier", b"AHAP": b"Unique identifier of ancestral haplotype",
    }.items()},
    (b"FILTER", b"PASS"): b"All filters passed",
    **{(b"ALT", key): text for key, text in {
        b"DEL": b"Deletion relative to the reference", b"INS": b"Insertion of novel sequence relative to the reference",
        b"DUP": b"Region of elevated copy number relative to the reference", b"INV": b"Inversion of reference sequence",
        b"CNV": b"Copy number variable region", b"DUP:TANDEM": b"Tandem duplication",
        b"DEL:ME": b"Deletion of mobile element relative to the reference",
        b"INS:ME": b"Insertion of a mobile element relative to the reference",
        b"*": b"Represents any possible alternative allele", b"NON_REF": b"Represents any possible alternative allele",
    }.items()},
}

app = make_app()


def sample_stem(name: bytes) -> bytes | None:
    """``S2301217N`` of ``S2301217N_20231029`` (or ``S2301217N-T``, ``S2301217N.L1``): the part a lab
    also writes alone.

    Only stems long enough and with a digit count, so a sample ``tumour_1``
    does not turn every "tumour" in a description into a pseudonym.
    """
    stem = STEM_SEPARATORS.split(name, 1)[0]
    if stem == name or len(stem) < MIN_STEM_LENGTH or not any(c in b"0123456789" for c in stem):
        return None
    return stem


def name_replacements(samples: list[bytes], pseudonyms: list[bytes], table: dict[str, str] | None) -> dict[bytes, bytes]:
    """Original -> pseudonym for every name that must not survive in kept header text: the
    samples, their stems and every original of a ``--map``."""
    replacements: dict[bytes, bytes] = {}
    for original_text, pseudonym_text in (table or {}).items():
        replacements[original_text.encode("utf-8", "surrogateescape")] = pseudonym_text.encode()
    for sample, pseudonym in zip(samples, pseudonyms, strict=True):
        replacements[sample] = pseudonym
        stem = sample_stem(sample)
        if stem is not None:
            replacements.setdefault(stem, pseudonym)
    return replacements


def record_replacements(replacements: dict[bytes, bytes], defined_ids: set[bytes]) -> dict[bytes, bytes]:
    """The names that are replaced inside records too: unmistakable ones (``MIN_RECORD_NAME_LENGTH``,
    a letter, not only bases), and of those without a digit (``TUMOR``) only the ones that are not
    themselves an INFO, FORMAT, FILTER or ALT ID of the header (a sample named like a key)."""
    defined = {identifier.lower() for identifier in defined_ids}
    return {
        name: pseudonym
        for name, pseudonym in replacements.items()
        if len(name) >= MIN_RECORD_NAME_LENGTH
        and re.search(rb"[A-Za-z]", name)
        and not re.fullmatch(rb"[ACGTNacgtn]+", name)
        and (distinctive(name) or name.lower() not in defined)
    }


KEYED_PSEUDONYM = re.compile(b"%s[0-9A-F]{%d}" % (ID_KEYED_PREFIX.encode(), ID_HASH_DIGITS))
"""A keyed pseudonym (``S4903134303289D62``): hex digits that may read as a number by chance, so not
held to the personal-data rule a pseudonym of the map is (the audit sets it aside too)."""


def check_sample_count(header: VcfHeader, most: int | None, path: str) -> None:
    """``--max-samples``: a VCF of one person has one column (two: tumour and normal); more are
    other people's genotypes (a joint-called family or cohort), which no scrubbing makes one's own."""
    if most is not None and len(header.samples) > most:
        message = (
            f"the #CHROM line has {len(header.samples)} sample columns, more than --max-samples {most} allows "
            "(a joint-called VCF holds other people's genotypes: keep the sample's own with bcftools view -s)"
        )
        raise InputError(message, path, header.column_line_number)


def rename_samples(header: VcfHeader, pseudonyms: Pseudonyms, path: str) -> list[bytes]:
    """Pseudonyms for the sample columns, in order; a name twice or missing from a map is an error."""
    if len(set(header.samples)) != len(header.samples):
        raise InputError("the #CHROM line names a sample twice", path, header.column_line_number)
    renamed = []
    for index, sample in enumerate(header.samples, start=1):
        try:
            pseudonym = pseudonyms.for_id_bytes(sample)
        except KeyError:
            message = f"sample {index} is not in the map (give --key-file to hash IDs the map lacks)"
            raise InputError(message, path, header.column_line_number) from None
        if not KEYED_PSEUDONYM.fullmatch(pseudonym) and personal_reference_name(pseudonym):
            message = f"the pseudonym of sample {index} holds a path, an address or personal data (check the map)"
            raise InputError(message, path, header.column_line_number)
        renamed.append(pseudonym)
    return renamed


def scrub_reference(value: bytes, scrub: IdentifierScrub) -> bytes | None:
    """The base name of a reference file (``GRCh38.fa`` of ``file:///data/ref/GRCh38.fa``) or a
    build name; None for anything else (a structured value, free text, a name of no FASTA, a
    name holding a date or a long number: ``ref_19900101.fa`` is someone's file)."""
    if value.startswith(b"<") or not value.strip():
        return None
    base = re.split(rb"[/\\]", value.rstrip(b"/\\"))[-1]
    if base in BUILD_NAMES:
        return base
    if REFERENCE_NAME.fullmatch(base) is None:
        return None
    base = scrub.names(base)
    return base if REFERENCE_NAME.fullmatch(base) and PERSONAL.search(base) is None else None


def fileformat_line(value: bytes) -> tuple[bytes, bool]:
    """``##fileformat=VCFv4.N`` for N of 0 to 5, and whether the input's text was that exactly;
    other text becomes the latest version this command knows (its records read as 4.5 does)."""
    if FILEFORMAT.fullmatch(value):
        return b"##fileformat=" + value, True
    prefix = FILEFORMAT.match(value)
    return b"##fileformat=" + (prefix.group(0) if prefix else LATEST_FILEFORMAT), False


class HeaderScrub:
    """The output header, one input line at a time: rebuilt from parsed fields or removed, and counted.

    ``dropped_info`` and ``dropped_format`` collect the IDs of INFO and FORMAT lines that
    did not parse (as far as an ``ID=`` can be read), so that the records' use of them is
    counted (``RecordScrub``). ``path`` names the input in an error.
    """

    def __init__(
        self,
        header: VcfHeader,
        new_samples: list[bytes],
        pseudonyms: Pseudonyms,
        keep: frozenset[bytes],
        descriptions: str,
        scrub: IdentifierScrub,
        record_names: NameReplacement,
        report: Report,
        path: str = "-",
    ) -> None:
        self.path = path
        self.samples = dict(zip(header.samples, new_samples, strict=True))
        self.pseudonyms = pseudonyms
        self.keep = keep
        self.descriptions = descriptions
        self.scrub = scrub
        self.record_names = record_names
        self.report = report
        self.dropped_info: set[bytes] = set()
        self.dropped_format: set[bytes] = set()
        self.types: dict[bytes, dict[bytes, set[bytes]]] = {b"INFO": {}, b"FORMAT": {}}
        self.layouts: dict[bytes, frozenset[int]] = {}
        self.contigs: set[bytes] = set()
        self.filters: set[bytes] = set()
        self.fileformat_seen = False

    def record_values(self) -> RecordValues:
        """The rules for identifiers in records, with what the kept header says: types, contigs, annotation layouts."""
        info, format_keys = unchecked_keys(b"INFO", self.types[b"INFO"]), unchecked_keys(b"FORMAT", self.types[b"FORMAT"])
        definitions = RecordDefinitions(frozenset(self.types[b"INFO"]), frozenset(self.types[b"FORMAT"]), frozenset(self.filters))
        return RecordValues(info, format_keys, frozenset(self.contigs), self.layouts, LINK_KEYS, definitions)

    def removed(self, kind: str) -> None:
        self.report.add("header_lines_removed")
        self.report.add(f"header_lines_{kind}")

    def fields_removed(self, count: int) -> None:
        if count:
            self.report.add("header_fields_removed", count)

    def lines(self, meta: list[bytes]) -> list[bytes]:
        kept = []
        for number, line in enumerate(meta, start=1):
            rebuilt = self.line(line, number)
            if rebuilt is not None:
                kept.append(rebuilt)
        return kept

    def line(self, line: bytes, number: int = 0) -> bytes | None:
        """The line to write for one ``##`` line (line ``number`` of the file), or None to remove it
        (counted by kind)."""
        key, value = meta_key(line), meta_value(line)
        if key == b"fileformat":
            if self.fileformat_seen:
                self.removed("unparseable_fileformat")
                return None
            self.fileformat_seen = True
            rebuilt, exact = fileformat_line(value)
            self.fields_removed(0 if exact else 1)
            return rebuilt
        if key in (b"INFO", b"FORMAT"):
            return self.field_line(key, value)
        if key in (b"FILTER", b"ALT"):
            return self.definition_line(key, value)
        if key == b"contig":
            found = contig(value)
            identifier = self.record_names(found.id) if found is not None else b""
            if found is None or CONTIG_ID.fullmatch(identifier) is None:
                self.removed("unparseable_contig")
                return None
            if self.personal_contig(found.id):
                raise InputError(PERSONAL_CONTIG, self.path, number or None)
            self.fields_removed(found.dropped_fields)
            self.contigs.add(identifier)
            return Contig(identifier, found.length).line()
        if key == b"reference":
            name = scrub_reference(value, self.scrub)
            if name is None:
                self.removed("unparseable_reference")
                return None
            self.fields_removed(int(name != value))
            return b"##reference=" + name
        if key in self.keep:
            return self.kept_line(key, value)
        self.removed("not_allowlisted")
        return None

    def personal_contig(self, identifier: bytes) -> bool:
        """Whether a contig ID holds a path or personal data (``identifiers.personal_contig``) around the
        sample names it may hold (an assembly's contig named after its sample gets the pseudonym)."""
        pattern = self.record_names.pattern
        if pattern is None:
            return personal_contig(identifier)
        return personal_contig(pattern.sub(b"_", self.record_names.escaped(identifier, b"_")))  # KIM%5FJIHYUN too

    def description(self, kind: bytes, identifier: bytes, text: bytes) -> bytes:
        if self.descriptions == "drop":
            self.report.add("descriptions_replaced")
            return STANDARD_DESCRIPTIONS.get((kind, identifier), NEUTRAL_DESCRIPTION)
        return self.scrub.scrub(text)

    def field_line(self, kind: bytes, value: bytes) -> bytes | None:
        found = field_definition(kind, value)
        identifier = self.record_names(found.id) if found is not None else b""
        if found is None or unsafe_id(FIELD_ID, identifier):
            loose = re.search(rb"[<,]\s*ID=([^,>\"]+)", value)
            if loose is not None:
                (self.dropped_info if kind == b"INFO" else self.dropped_format).add(self.record_names(loose.group(1)))
            self.removed(f"unparseable_{kind.decode()}")
            return None
        self.fields_removed(found.dropped_fields)
        self.types[kind].setdefault(identifier, set()).add(found.type)
        description = self.description(kind, found.id, found.description)
        if kind == b"INFO" and found.type == b"String":
            self.layouts[identifier] = public_number_subfields(description)
        fields = [(b"ID", identifier, False), (b"Number", found.number, False), (b"Type", found.type, False)]
        fields.append((b"Description", description, True))
        return structured_line(kind, fields)

    def definition_line(self, kind: bytes, value: bytes) -> bytes | None:
        found = definition(kind, value)
        identifier = self.record_names(found.id) if found is not None else b""
        unsafe = unsafe_alt_id(identifier) if kind == b"ALT" else unsafe_id(FILTER_ID, identifier)
        if found is None or unsafe:
            self.removed(f"unparseable_{kind.decode()}")
            return None
        self.fields_removed(found.dropped_fields)
        if kind == b"FILTER":
            self.filters.add(identifier)
        return found.line(self.description(kind, found.id, found.description), identifier)

    def sample_pseudonym(self, original: bytes) -> bytes | None:
        """The columns' pseudonym of a sample ID named in a kept line; None when it is not a known
        sample (not a column of this file, not an original of the map, and no key to hash it)."""
        if original in self.samples:
            return self.samples[original]
        text = original.decode("utf-8", "surrogateescape")
        if self.pseudonyms.keyed or (self.pseudonyms.table is not None and text in self.pseudonyms.table):
            return self.pseudonyms.for_id_bytes(original)
        return None

    def kept_line(self, key: bytes, value: bytes) -> bytes | None:
        """A ``--keep KEY`` line: ``##PEDIGREE``/``##SAMPLE`` with their sample IDs pseudonymized,
        others with every value through the identifier scrub."""
        if not value.startswith(b"<"):
            if key in (b"PEDIGREE", b"SAMPLE"):
                self.removed(f"unparseable_{key.decode(errors='replace')}")
                return None
            return b"##" + key + b"=" + self.scrub.scrub(value)
        fields = structured_fields(value)
        if fields is None:
            self.removed("unparseable_kept")
            return None
        rebuilt: list[tuple[bytes, bytes, bool]] = []
        for item in fields:
            if key == b"PEDIGREE" or (key == b"SAMPLE" and item.key in (b"ID", b"Genomes")):
                if key == b"PEDIGREE" and PEDIGREE_KEYS.fullmatch(item.key) is None:
                    self.removed("unparseable_PEDIGREE")
                    return None
                names = [self.sample_pseudonym(name) for name in item.value.split(b";")]
                if None in names:
                    self.removed(f"unknown_sample_{key.decode()}")
                    return None
                rebuilt.append((item.key, b";".join(name for name in names if name is not None), False))
            elif key == b"SAMPLE" and item.key == b"Mixture":
                if all(FLOAT_TEXT.fullmatch(part) for part in item.value.split(b";")):
                    rebuilt.append((item.key, item.value, False))
                else:
                    self.fields_removed(1)
            else:
                text = self.scrub.scrub(item.value)
                rebuilt.append((item.key, text, item.quoted or re.search(rb'[\s,<>"]', text) is not None))
        return structured_line(key, rebuilt)


# --- records -------------------------------------------------------------------------------------


class IdScrubber:
    """ID column: public database IDs stay, private ones (``HOSP_VAR_0001``) become ``.``; a record
    linked to others (``MATEID``, ``PARID``, ``EVENT``, a breakend ALT) gets one pseudonym per
    original ID instead (``id1``, ``id2``, ... in order of appearance), and its link values the same."""

    def __init__(self) -> None:
        self.removed = 0
        self.linked = 0
        self.link_ids: dict[bytes, bytes] = {}

    @staticmethod
    def public_ids(column: bytes) -> bytes:
        return b";".join(part for part in column.split(b";") if PUBLIC_ID.fullmatch(part)) or b"."

    def new_column(self, column: bytes) -> bytes | None:
        """The ID column to write instead of ``column``, or None to leave it."""
        if b"rs" not in column and b"COS" not in column:  # the common case: nothing public to keep
            return None if column == b"." else b"."
        if KEPT_ID_COLUMN.fullmatch(column):
            return None
        return self.public_ids(column)

    def link_id(self, original: bytes) -> bytes:
        """The pseudonym of an ID a link refers to: public IDs and ``.`` stay."""
        if original == b"." or PUBLIC_ID.fullmatch(original):
            return original
        if original not in self.link_ids:
            self.link_ids[original] = b"id%d" % (len(self.link_ids) + 1)
        return self.link_ids[original]

    def linked_column(self, column: bytes) -> bytes:
        return b";".join(self.link_id(part) for part in column.split(b";"))

    def scrub(self, block: RecordBlock, done: np.ndarray | None = None) -> bytes:
        """The block's text with every private ID column rewritten, but in the rows ``done`` (whose
        IDs the one-record path decided already: links get pseudonyms there).

        Which IDs stay (``.``, a lone ``rs`` ID) and which become ``.`` (no ``r`` and no
        ``C``, so no public ID inside) is decided for the whole block at once, by numpy
        over the ID spans; only the other IDs reach Python. The text between the
        changed IDs is copied as slices of the block.
        """
        starts, ends = block.column(2)
        data, text = block.data, block.text
        lengths = ends - starts
        last = len(data) - 1
        dot = (lengths == 1) & (data[starts] == DOT)
        dbsnp = (lengths > 2) & (lengths <= 12) & (data[starts] == LETTER_R) & (data[np.minimum(starts + 1, last)] == LETTER_S)
        dbsnp &= data[np.minimum(starts + 2, last)] != ZERO
        dbsnp[dbsnp] = spans_within(data, text, starts[dbsnp] + 2, ends[dbsnp], DIGITS)
        leave = dot | dbsnp
        if done is not None:
            leave[done] = True
        others = np.flatnonzero(~leave)
        if not len(others):
            return text
        private = spans_within(data, text, starts[others], ends[others], NO_PUBLIC_ID_LETTER)
        replacements: list[bytes | None] = [b"."] * len(others)
        for index in np.flatnonzero(~private).tolist():
            row = others[index]
            replacements[index] = self.new_column(text[starts[row] : ends[row]])
        if not private.all():
            changed = np.fromiter((r is not None for r in replacements), dtype=bool, count=len(others))
            others = others[changed]
            replacements = [r for r in replacements if r is not None]
        if not len(others):
            return text
        self.removed += len(others)
        if private.all():
            return scan.replace_spans(text, starts[others], ends[others], b".")
        segment_starts = [0, *ends[others].tolist()]
        segment_ends = [*starts[others].tolist(), len(text)]
        segments = [text[start:end] for start, end in zip(segment_starts, segment_ends, strict=True)]
        pieces = [piece for pair in zip(segments, replacements, strict=False) for piece in pair]
        pieces.append(segments[-1])
        return b"".join(pieces)  # type: ignore[arg-type]


QUAL_SIGNIFICANT = 6
"""The significant digits a QUAL of a million or more keeps: bcftools prints QUAL with ``%g``."""
SIGNIFICAND = re.compile(rb"[+-]?([0-9]*)\.?([0-9]*)")
QUAL_PLAIN = np.zeros(256, dtype=bool)
QUAL_PLAIN[list(b"0123456789.")] = True


def qual_holds_digits(qual: bytes) -> bool:
    """Whether a QUAL is a million or more with more than ``QUAL_SIGNIFICANT`` significant digits
    (leading and trailing zeros aside): ``19850314``, ``9001011234567``, ``1.9850314e7``, which no
    caller writes, are a date and a registration number; ``1e+06`` and ``10000000`` are not."""
    try:
        value = float(qual)
    except ValueError:
        return False
    if value != value or abs(value) < 1e6 or abs(value) == float("inf"):
        return False
    found = SIGNIFICAND.match(qual)
    return found is not None and len((found.group(1) + found.group(2)).strip(b"0")) > QUAL_SIGNIFICANT


def qual_rows(block: RecordBlock) -> np.ndarray:
    """The rows of a block whose QUAL must go (``qual_holds_digits``): by numpy, the QUALs of more
    than ``QUAL_SIGNIFICANT`` digits before their point or holding other bytes than digits and ``.``
    (an exponent), then those few one by one."""
    starts, ends = block.column(5)
    text = block.text
    quals = np.frombuffer(scan.join_spans(text, starts, ends), dtype=np.uint8)  # a few bytes a record
    quals_ends = np.cumsum(ends - starts)
    quals_starts = quals_ends - (ends - starts)
    points = np.flatnonzero(quals == DOT)
    first_point = np.minimum(np.append(points, len(quals))[np.searchsorted(points, quals_starts)], quals_ends)
    plain = spans_within(block.data, text, starts, ends, QUAL_PLAIN)
    candidates = np.flatnonzero((first_point - quals_starts > QUAL_SIGNIFICANT) | ~plain)
    return np.array([row for row in candidates.tolist() if qual_holds_digits(text[starts[row] : ends[row]])], dtype=np.int64)


DOT, LETTER_R, LETTER_S, ZERO = ord("."), ord("r"), ord("s"), ord("0")
# An ID column with none of these letters holds no rs, COSV or COSM ID.
NO_PUBLIC_ID_LETTER = np.ones(256, dtype=bool)
NO_PUBLIC_ID_LETTER[[ord("r"), ord("C")]] = False


class RecordScrub:
    """Records as the header left them: IDs (``IdScrubber``), links, sample names in values,
    identifiers written into records (``RecordValues``), and the use of definitions the header
    lost, counted."""

    def __init__(
        self,
        ids: IdScrubber | None,
        names: NameReplacement,
        values: RecordValues,
        dropped_info: set[bytes],
        dropped_format: set[bytes],
        report: Report,
    ) -> None:
        self.ids = ids
        self.names = names
        self.values = values
        self.dropped_info = dropped_info
        self.dropped_format = dropped_format
        self.report = report
        self.needles = [name.lower() for name in names.replacements]
        self.anchors = case_free_anchors(self.needles)
        self.name_escapes = names.escapes

    def special(self, block: RecordBlock) -> bool:
        """Whether a block may hold a known name or text outside ASCII (then it goes line by line).

        Each test is one pass over the block at most: a known name by a plain search for a run
        of digits and punctuation every name holds (``case_free_anchors``), which no case
        changes; only a block where one is found is lowered and searched for the names. A name
        percent-encoded (``KIM%5FJIHYUN``) is looked for in the block's decoded text, only where
        the block holds an escape of a byte some name has, or of ``%`` (``name_escapes``; VEP's
        ``%3D`` is none). Records that link to others are picked one by one with the identifiers
        (``RecordValues``).
        """
        text = block.text
        if not text.isascii():  # text outside ASCII (see scrub_line): one C pass, no copy
            return True
        if not self.needles:
            return False
        if self.escaped_name(text):
            return True
        if self.anchors is not None and not any(anchor in text for anchor in self.anchors):
            return False
        lowered = text.lower()
        return any(lowered.find(needle) >= 0 for needle in self.needles)

    def escaped_name(self, text: bytes) -> bool:
        """Whether a block's percent-decoded text (once, then again while escapes remain) may show a
        known name: only a block holding an escape of a name's byte or of ``%`` is decoded."""
        if self.name_escapes is None or b"%" not in text or self.name_escapes.search(text) is None:
            return False
        return any(needle in form.lower() for form in block_decodings(text) for needle in self.needles)

    def scrub(self, block: RecordBlock, column_count: int) -> bytes:
        """The block's text to write.

        A block with names or text outside ASCII goes line by line. Otherwise only the records
        that may hold an identifier or link to others (``RecordValues.candidate_rows``, one C
        pass) are split and rebuilt, then the IDs of the other records are scrubbed in bulk.
        """
        if self.dropped_info or self.dropped_format:
            self.count_dropped_use(block)
        quals = qual_rows(block)
        if one_by_one() or self.special(block) or len(quals):
            lines = [self.scrub_line(line) for line in block.lines()]
            lines.append(b"")
            return b"\n".join(lines)
        rows = self.values.candidate_rows(block)
        if len(rows):
            rebuilt: list[bytes | None] = [self.scrub_line(block.line(row)) for row in rows.tolist()]
            text = scan.splice_lines(block.text, block.starts, block.ends, rows.astype(np.int64), rebuilt)
            if self.ids is None:
                return text
            return self.ids.scrub(RecordBlock(block.first_line, text, block.path, column_count), rows)
        return self.ids.scrub(block) if self.ids is not None else block.text

    def scrub_line(self, line: bytes) -> bytes:
        """One record: the ID column, its links, and known names in CHROM, ALT, FILTER, INFO, FORMAT and samples."""
        fields = line.split(b"\t")
        if len(fields) > 5 and len(fields[5]) > QUAL_SIGNIFICANT and qual_holds_digits(fields[5]):
            fields[5] = b"."
            self.report.add("quals_removed")
        if self.ids is not None:
            info_keys = (item.partition(b"=")[0] for item in fields[7].split(b";"))
            linked = b"[" in fields[4] or b"]" in fields[4] or not LINK_KEYS.isdisjoint(info_keys)
            if linked:
                column = self.ids.linked_column(fields[2])
                fields[7] = b";".join(self.link_item(item) for item in fields[7].split(b";"))
            else:
                column = self.ids.new_column(fields[2]) or fields[2]
            if column != fields[2]:
                self.ids.removed += 1
                self.ids.linked += int(linked and column != b".")
                fields[2] = column
        if self.names.pattern is not None:
            names_before = [fields[0], fields[4], *fields[6:]]
            fields[0] = self.names(fields[0])  # a contig named after a sample (an assembly's), as in ##contig
            fields[4] = self.names(fields[4])  # bases hold no name (record names have a letter other than ACGTN)
            fields[6:] = [self.names(field) for field in fields[6:]]
            if [fields[0], fields[4], *fields[6:]] != names_before:
                self.report.add("records_with_names_replaced")
        if not line.isascii():
            self.remove_other_scripts(fields)
        if self.values.scrub(fields):
            self.report.add("records_with_identifiers_removed")
        return b"\t".join(fields)

    def remove_other_scripts(self, fields: list[bytes]) -> None:
        """Text outside ASCII in ALT, FILTER, FORMAT and the samples becomes ``.`` with the word it lies
        in (``identifiers.RECORD_SCRIPT_WORD``), an INFO item holding it goes whole: a pipeline writes ASCII there, a person writes
        a name in Hangul (``NOTE=김지현``), in UTF-8 or CP949 alike, and a zero-width space or a look-alike
        letter in a sample ID (``S230`` U+200B ``1217N``) hides it from the names, not from a reader."""
        before = fields[4:]
        if len(fields) > 7 and not fields[7].isascii():  # an INFO item goes whole, as one holding an identifier does
            fields[7] = b";".join(item for item in fields[7].split(b";") if item.isascii()) or b"."
        for index in (4, *range(6, len(fields))):
            if not fields[index].isascii():
                fields[index] = RECORD_SCRIPT_WORD.sub(b".", fields[index])
        if fields[4:] != before:
            self.report.add("records_with_other_scripts_removed")

    def link_item(self, item: bytes) -> bytes:
        key, equals, value = item.partition(b"=")
        if not equals or key not in LINK_KEYS:
            return item
        assert self.ids is not None
        return key + b"=" + b",".join(self.ids.link_id(part) for part in value.split(b","))

    def count_dropped_use(self, block: RecordBlock) -> None:
        """Count the records that use an INFO or FORMAT key whose definition was removed."""
        text = block.text
        if not any(key in text for key in self.dropped_info | self.dropped_format):
            return
        for line in block.lines():
            fields = line.split(b"\t")
            info_keys = {item.partition(b"=")[0] for item in fields[7].split(b";")} if len(fields) > 7 else set()
            format_keys = set(fields[8].split(b":")) if len(fields) > 8 else set()
            if info_keys & self.dropped_info or format_keys & self.dropped_format:
                self.report.add("records_using_removed_definitions")


def case_free_anchors(needles: list[bytes]) -> list[bytes] | None:
    """Runs of 3 or more non-letters (digits, ``_``, ``-``, ``.``) that, together, occur in every name:
    as few as possible, the longest first (``2301217`` serves ``s2301217t`` and ``s2301217t_20231029``).
    None when a name has no such run (then every block is lowered and searched)."""
    runs = {needle: set(substrings(re.findall(rb"[^a-z]{3,}", needle))) for needle in needles}
    if not all(runs.values()):
        return None
    owners: dict[bytes, set[bytes]] = {}
    for needle, found in runs.items():
        for piece in found:
            owners.setdefault(piece, set()).add(needle)
    uncovered_holding = {piece: len(holders) for piece, holders in owners.items()}  # per run: the uncovered names holding it
    anchors: list[bytes] = []
    uncovered = set(needles)
    while uncovered:  # greedy set cover, counts kept as names are covered (a VCF of 2,000 samples: 0.1 s, not 27)
        best = max(uncovered_holding, key=lambda piece: (uncovered_holding[piece], len(piece), piece))
        anchors.append(best)
        for needle in owners[best] & uncovered:
            uncovered.discard(needle)
            for piece in runs[needle]:
                uncovered_holding[piece] -= 1
                if not uncovered_holding[piece]:
                    del uncovered_holding[piece]
    return anchors


HEX_VALUES = np.full(256, -1, dtype=np.int16)
HEX_VALUES[np.frombuffer(b"0123456789", dtype=np.uint8)] = np.arange(10)
HEX_VALUES[np.frombuffer(b"abcdef", dtype=np.uint8)] = np.arange(10, 16)
HEX_VALUES[np.frombuffer(b"ABCDEF", dtype=np.uint8)] = np.arange(10, 16)
PERCENT = ord("%")


def block_decodings(text: bytes) -> list[bytes]:
    """``identifiers.percent_decodings`` of a whole block, each decoding made with numpy
    (``percent_decoded_block``): the same forms, at a quarter of the cost on a block with an escape a
    record (a test holds the two equal)."""
    forms: list[bytes] = []
    while len(forms) < PERCENT_LEVELS:
        decoded = percent_decoded_block(text)
        if decoded is None:
            break
        forms.append(decoded)
        text = decoded
    return forms


def percent_decoded_block(text: bytes) -> bytes | None:
    """``text`` with every escape (``%`` and two hex digits) decoded, as ``unquote_to_bytes`` does;
    None when it holds none. Escapes never overlap: a hex digit is never ``%``."""
    data = np.frombuffer(text, dtype=np.uint8)
    if len(data) < 3:
        return None
    at = np.flatnonzero(data[:-2] == PERCENT)
    high, low = HEX_VALUES[data[at + 1]], HEX_VALUES[data[at + 2]]
    escape = (high >= 0) & (low >= 0)
    if not escape.any():
        return None
    at = at[escape]
    decoded = data.copy()
    decoded[at] = (high[escape] * 16 + low[escape]).astype(np.uint8)
    keep = np.ones(len(data), dtype=bool)
    keep[at + 1] = False
    keep[at + 2] = False
    return decoded[keep].tobytes()


def substrings(runs: list[bytes]) -> list[bytes]:
    """Every piece of 3 or more bytes of each run."""
    return [run[start:end] for run in runs for start in range(len(run)) for end in range(start + 3, len(run) + 1)]


def scrub_records(
    body: TextBlocks, column_count: int, columns: RecordColumns, records: RecordScrub, path: str, report: Report
) -> Iterable[bytes]:
    """Yield record text: checked (``vcf_columns``), the same bytes except what ``RecordScrub`` changes."""
    for first_line, text in body:
        block = RecordBlock(first_line, text, path, column_count)
        columns.check(block)
        report.add("records", block.count)
        yield records.scrub(block, column_count)


def scrub_header(
    header: VcfHeader,
    new_samples: list[bytes],
    pseudonyms: Pseudonyms,
    keep: frozenset[bytes],
    descriptions: str,
    report: Report,
    path: str = "-",
) -> tuple[bytes, HeaderScrub]:
    """The whole new header (rebuilt meta lines, the provenance line, renamed columns) and the
    ``HeaderScrub`` that made it (its name replacement and removed definitions serve the records);
    ``path`` names the input in an error."""
    replacements = name_replacements(header.samples, new_samples, pseudonyms.table)
    defined = {
        found.id
        for line in header.meta
        if meta_key(line) in (b"INFO", b"FORMAT", b"FILTER", b"ALT")
        for found in [field_definition(meta_key(line), meta_value(line)) or definition(meta_key(line), meta_value(line))]
        if found is not None
    }
    scrub = IdentifierScrub(replacements)
    record_names = NameReplacement(record_replacements(replacements, defined), with_number=True)
    headers = HeaderScrub(header, new_samples, pseudonyms, keep, descriptions, scrub, record_names, report, path)
    lines = headers.lines(header.meta)
    if not headers.fileformat_seen:
        lines.insert(0, b"##fileformat=" + LATEST_FILEFORMAT)
    lines.append(f"##genoscrub_{COMMAND}={__version__}".encode())
    lines.append(b"\t".join(header.columns[:9] + new_samples))
    return joined(lines), headers


@app.command(
    help="Pseudonymize VCF samples and rebuild the header; only allowlisted, parsed fields are written, private IDs "
    "become '.', sample names in records their pseudonyms, records otherwise pass unchanged."
)
def main(
    input: InputArgument = "-",
    output: OutputOption = None,
    output_type: VcfOutputTypeOption = None,
    map_path: MapOption = None,
    key_file: KeyFileOption = None,
    map_out: MapOutOption = None,
    keep: Annotated[
        Optional[list[str]],
        typer.Option(
            "--keep", metavar="KEY", help="Also keep ##KEY lines (repeatable), rebuilt with sample names and paths scrubbed; "
            "PEDIGREE and SAMPLE get the columns' pseudonyms.",
        ),
    ] = None,
    ids: Annotated[
        str,
        typer.Option(
            "--ids", metavar="scrub|keep", help="scrub (default): IDs other than rs, COSV, COSM become '.' (linked records: "
            "pseudonyms); keep: leave the ID column."
        ),
    ] = "scrub",
    descriptions: Annotated[
        str,
        typer.Option(
            "--descriptions", metavar="scrub|drop", help="scrub (default): names and paths out of each Description; drop: the "
            "VCF specification's text for standard keys, a neutral one for the rest."
        ),
    ] = "scrub",
    max_samples: Annotated[
        Optional[int],
        typer.Option(
            "--max-samples", metavar="N", help="Refuse a VCF with more than N sample columns (a joint-called family or cohort "
            "VCF holds other people's genotypes).", min=0,
        ),
    ] = None,
    report_path: ReportOption = None,
    quiet: QuietOption = False,
) -> None:
    def job(report: Report) -> None:
        if ids not in ("scrub", "keep"):
            raise UsageError("--ids must be scrub or keep")
        if descriptions not in ("scrub", "drop"):
            raise UsageError("--descriptions must be scrub or drop")
        kept_keys = frozenset(key.encode() for key in keep or []) - ALLOWED_KEYS
        pseudonyms = open_pseudonyms(map_path, key_file, map_out)
        report.notes["scheme"] = pseudonyms.scheme
        sink = VcfOutput(output, output_type)
        try:
            with opened_input(input) as source:
                header, body = split_header_text(text_blocks(source, input), input)
                check_sample_count(header, max_samples, input)
                new_samples = rename_samples(header, pseudonyms, input)
                report.add("samples_renamed", len(new_samples))
                text, headers = scrub_header(header, new_samples, pseudonyms, kept_keys, descriptions, report, input)
                sink.write(text)
                id_scrubber = IdScrubber() if ids == "scrub" else None
                records = RecordScrub(id_scrubber, headers.record_names, headers.record_values(), headers.dropped_info,
                                      headers.dropped_format, report)  # fmt: skip
                columns = RecordColumns(header.contig_ids(), headers.personal_contig)  # an undeclared CHROM: the ##contig rule
                for chunk in scrub_records(body, len(header.columns), columns, records, input, report):
                    sink.write(chunk)
                for kind, count in sorted(records.values.removed.items()):
                    if count:
                        report.add(f"record_{kind}_removed", count)
                if id_scrubber is not None:
                    report.add("ids_removed", id_scrubber.removed)
                    if id_scrubber.linked:
                        report.add("ids_linked", id_scrubber.linked)
            sink.close()
        except BaseException:
            sink.abort()
            raise
        finally:
            pseudonyms.close()

    run(COMMAND, job, Path(report_path) if report_path else None, quiet)


if __name__ == "__main__":
    app()
