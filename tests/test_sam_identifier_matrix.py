"""The planted-identifier matrix of sam-scrub-rg (man/sam-scrub-rg.md, SECURITY CONSIDERATIONS).

A distinctive identifier is planted in every header line type and tag the SAM
spec defines, in unknown and lowercase ones, in record aux tags off the allowlist
(``CO``, the end-user ``X?``/``Y?``/``Z?`` and lowercase tags, the standard
free-text ones), and as the value of every kept aux tag, in each type it may have.
For each place: the identifier is gone from the output, and samtools parses the
output. Three ways:

- every place at once, as SAM, BAM and CRAM input, to SAM, BAM and CRAM output
  (samtools decodes the output: the check is independent of our parser);
- one place at a time, with hypothesis varying the structure around it (tag
  order, line order, quotes, commas, ``<>``, case), in process;
- the report counts what was dropped, by kind, and never holds the identifier.

``KEPT_ON_PURPOSE`` lists the places that are kept by design (documented): the
reference names (records refer to them). The kept aux tags keep only values on
their grammar; valid values that look like the tools' own (hypothesis varies
them) must survive byte for byte, and the same values with the identifier
inside must not.
"""

from __future__ import annotations

import json
import re
import subprocess
from collections.abc import Sequence
from pathlib import Path

import pysam
import pytest
from genoscrub.aux_tags import KEPT_TAGS
from genoscrub.pseudonyms import Pseudonyms
from genoscrub.report import Report
from genoscrub.sam_scrub_rg import HeaderScrubber, RecordScrubber, scrub_stream
from genoscrub.streams import whole_line_blocks
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import run_command

COMMAND = "sam-scrub-rg"
PLANTED = "S2301217T-Kim"
REFERENCE = b"ACGTTGCAAC" * 10

# (record type, tag) of every header tag the SAM spec (1.6, section 1.3) defines, plus unknown ones.
HEADER_PLACES = [
    ("HD", tag) for tag in ("VN", "SO", "GO", "SS", "XY", "zz")
] + [
    ("SQ", tag) for tag in ("AH", "AN", "AS", "DS", "M5", "SP", "TP", "UR", "XY", "zz")
] + [
    ("RG", tag) for tag in ("ID", "BC", "CN", "DS", "DT", "FO", "KS", "LB", "PG", "PI", "PL", "PM", "PU", "SM", "XY", "zz")
] + [
    ("PG", tag) for tag in ("ID", "PN", "CL", "PP", "DS", "VN", "XY")
]  # fmt: skip
LINE_PLACES = ["@CO", "@XY", "@lo"]  # a comment, an unknown and a lowercase record type
# Record aux tags: free text of the spec, end-user tags, lowercase, and tags that name samples or libraries.
AUX_PLACES = ["CO", "CT", "PT", "BC", "QT", "LB", "PU", "SM", "RG", "PG", "XY", "YZ", "ZZ", "X1", "zz", "xq", "FS", "RT"]
KEPT_PLACES = [(name.decode(), tag_type.decode()) for name, tag in KEPT_TAGS.items() for tag_type in tag.grammars]
"""Every kept aux tag in every type it may have: its value must be on its grammar."""
KEPT_ON_PURPOSE = {("SQ", "SN")}


def planted_value(tag_type: str, value: str) -> str:
    """``value`` where a tag of ``tag_type`` holds its value (an array's elements)."""
    return f"i,{value}" if tag_type == "B" else value


def planted_header(places: list[tuple[str, str]], lines: list[str], value: str = PLANTED) -> list[str]:
    """A valid header with ``value`` in each of ``places`` and each of ``lines``."""
    header = {
        "HD": {"VN": "1.6", "SO": "coordinate"},
        "SQ": {"SN": "chr1", "LN": "100"},
        "RG": {"ID": "rg1", "SM": "sample"},
        "PG": {"ID": "bwa", "PN": "bwa"},
    }
    for record_type, tag in places:
        header[record_type][tag] = value
    out = ["@" + kind + "".join(f"\t{tag}:{tag_value}" for tag, tag_value in fields.items()) for kind, fields in header.items()]
    out += [f"{line}\tnote {value}" if line == "@CO" else f"{line}\tID:{value}" for line in lines]
    return out


def record(aux: list[str], read_group: str = "rg1", value: str = PLANTED, kept: Sequence[tuple[str, str]] = ()) -> str:
    """One record with ``value`` in the aux tags ``aux`` (as text) and ``kept`` (name and type)."""
    tags = [f"RG:Z:{read_group}"] + [f"{name}:Z:{value}" for name in aux if name != "RG"]
    tags += [f"{name}:{tag_type}:{planted_value(tag_type, value)}" for name, tag_type in kept]
    return "\t".join(["r1", "0", "chr1", "1", "60", "4M", "*", "0", "0", "ACGT", "IIII", *tags])


def every_place_at_once(fmt: str) -> bytes:
    """Every place of the matrix; for BAM and CRAM, those htslib itself can encode
    (it refuses a header line of an unknown record type, checks M5 in CRAM, and reads
    the numbers of i, f and B values: an identifier goes only into the kept Z tags).
    A tag is given once a record (a second copy would go as a repeat, not by its value):
    the kept tags whose name a record already has (``SM:i`` after ``SM:Z``, a second
    type) go into the next records."""
    places = [(kind, tag) for kind, tag in HEADER_PLACES if (kind, tag) != ("RG", "ID") and (fmt == "sam" or (kind, tag) != ("SQ", "M5"))]
    lines = LINE_PLACES if fmt == "sam" else ["@CO"]
    kept = KEPT_PLACES if fmt == "sam" else [(name, tag_type) for name, tag_type in KEPT_PLACES if tag_type == "Z"]
    groups: list[list[tuple[str, str]]] = [[]]
    for name, tag_type in kept:
        group = next((group for group in groups if name not in {other for other, _ in group}), None)
        if group is None:
            groups.append(group := [])
        group.append((name, tag_type))
    records = [record(AUX_PLACES, kept=[place for place in groups[0] if place[0] not in AUX_PLACES])]
    records += [record([], kept=group) for group in [[place for place in groups[0] if place[0] in AUX_PLACES], *groups[1:]] if group]
    return ("\n".join([*planted_header(places, lines), *records]) + "\n").encode()


@pytest.fixture(scope="module")
def reference(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("matrix")
    (folder / "ref.fa").write_bytes(b">chr1\n" + REFERENCE + b"\n")
    pysam.faidx(str(folder / "ref.fa"))
    return folder / "ref.fa"


def encode(sam: bytes, fmt: str, folder: Path, reference: Path) -> Path:
    """The input as SAM, BAM or CRAM, written by samtools (--no-PG: it adds nothing)."""
    text = folder / "input.sam"
    text.write_bytes(sam)
    if fmt == "sam":
        return text
    out = folder / f"input.{fmt}"
    flags = ["-b"] if fmt == "bam" else ["-C", "-T", str(reference)]
    subprocess.run(["samtools", "view", "--no-PG", *flags, "-o", str(out), str(text)], check=True, capture_output=True)
    return out


def samtools_text(path: Path, reference: Path) -> bytes:
    """The output as samtools decodes it (header and records), or a failed test."""
    result = subprocess.run(["samtools", "view", "-h", "--no-PG", "-T", str(reference), str(path)], capture_output=True)
    assert result.returncode == 0, result.stderr.decode()
    return result.stdout


@pytest.mark.parametrize("output_format", ["sam", "bam", "cram"])
@pytest.mark.parametrize("input_format", ["sam", "bam", "cram"])
def test_every_place_at_once(input_format: str, output_format: str, reference: Path, tmp_path: Path) -> None:
    source = encode(every_place_at_once(input_format), input_format, tmp_path, reference)
    if input_format != "sam":
        assert PLANTED.encode() in samtools_text(source, reference)  # it was there to begin with
    out = tmp_path / f"out.{output_format}"
    report = tmp_path / "report.json"
    result = run_command(COMMAND, "-T", str(reference), "-O", output_format, "-o", str(out), "--report", str(report), "-q", str(source))
    assert result.returncode == 0, result.stderr.decode()
    decoded = samtools_text(out, reference)
    assert PLANTED.encode() not in decoded
    assert PLANTED.encode() not in out.read_bytes()
    assert b"UR:" not in decoded and str(reference).encode() not in out.read_bytes()
    text = report.read_text()
    assert PLANTED not in text
    counts = json.loads(text)
    expected_lines = {"@PG": 1, "@CO": 1} | ({"@XY": 1, "@lo": 1} if input_format == "sam" else {})
    assert counts["header_lines_removed_by_type"] == expected_lines
    removed_tags = counts["header_tags_removed_by_tag"]
    assert removed_tags["@RG CN"] == 1 and removed_tags["@SQ UR"] == 1 and removed_tags["@HD zz"] == 1
    removed_aux = counts["aux_tags_removed_by_tag"]
    assert {name for name in AUX_PLACES if name not in ("RG", "PG")} <= set(removed_aux)
    planted_kept = KEPT_PLACES if input_format == "sam" else [place for place in KEPT_PLACES if place[1] == "Z"]
    removed_values = counts["aux_tags_removed_by_value"]
    assert removed_values == {name: sum(1 for kept, _ in planted_kept if kept == name) for name, _ in planted_kept}
    assert counts["counts"]["aux_values_removed"] == len(planted_kept)


def scrub(sam: bytes, report: Report) -> bytes:
    header = HeaderScrubber(Pseudonyms(), "NGS", "-", report)
    records = RecordScrubber(None, "-", report)
    return b"".join(scrub_stream(whole_line_blocks([sam], "-"), header, records))


def samtools_parses(sam: bytes, folder: Path) -> bool:
    path = folder / "out.sam"
    path.write_bytes(sam)
    return subprocess.run(["samtools", "view", "-c", str(path)], capture_output=True).returncode == 0


VALUES = st.sampled_from(
    [PLANTED, f'"{PLANTED}"', f"<{PLANTED}>", f"x,{PLANTED},y", f"/home/kim/{PLANTED}.bam", PLANTED.lower(), f"chr1,5,+,4M,60,0;{PLANTED};"]
)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    place=st.sampled_from(
        HEADER_PLACES
        + [("line", line) for line in LINE_PLACES]
        + [("aux", name) for name in AUX_PLACES]
        + [("kept", f"{name}:{tag_type}") for name, tag_type in KEPT_PLACES]
    ),
    value=VALUES,
    shuffle=st.randoms(use_true_random=False),
)
def test_one_place_at_a_time(place: tuple[str, str], value: str, shuffle: object, tmp_path: Path) -> None:
    """One planted place, the structure around it varied: gone, and the output parses."""
    kind, tag = place
    header = planted_header([place] if kind not in ("line", "aux", "kept") else [], [tag] if kind == "line" else [], value)
    first, rest = header[:1], header[1:]
    shuffle.shuffle(rest)  # type: ignore[attr-defined]
    read_group = value if place == ("RG", "ID") else "rg1"
    kept = [(tag[:2], tag[3:])] if kind == "kept" else []
    records = [record([tag] if kind == "aux" else [], read_group, value, kept)]
    sam = ("\n".join(first + rest + records) + "\n").encode()
    out = scrub(sam, Report(COMMAND))
    assert PLANTED.lower().encode() not in out.lower()
    assert samtools_parses(out, tmp_path)


def test_the_places_kept_on_purpose_are_what_the_man_page_says() -> None:
    """SN stays (records refer to it); the kept aux tags are listed with their grammars."""
    page = (Path(__file__).resolve().parents[1] / "man" / "sam-scrub-rg.md").read_text()
    assert "- `@SQ SN`: kept." in page
    for name, tag_type in KEPT_PLACES:
        assert f"- `{name}` (" in page and f"{tag_type}: " in page, f"the man page does not list the kept tag {name}:{tag_type}"


# --- valid values survive, the same values with the identifier inside do not ---------------

VALID_HEADER = b"@HD\tVN:1.6\n@SQ\tSN:chr1\tLN:100000\n@SQ\tSN:chr2\tLN:5000\n"
LENGTHS = {"chr1": 100000, "chr2": 5000}
BASES = "ACGTN"
QUALITY = st.text(alphabet=[chr(code) for code in range(33, 127)], min_size=1, max_size=1)


@st.composite
def cigars(draw: st.DrawFn, operations: str = "MIDNS=X") -> list[tuple[str, int]]:
    ops = draw(st.lists(st.tuples(st.sampled_from(operations), st.integers(1, 40)), min_size=0, max_size=5))
    return [("M", draw(st.integers(1, 60))), *ops]


def cigar_text(ops: list[tuple[str, int]]) -> str:
    return "".join(f"{length}{op}" for op, length in ops)


@st.composite
def alignments(draw: st.DrawFn) -> tuple[str, str, str]:
    """SEQ, CIGAR and an MD string that describes them, as bwa or samtools calmd writes it."""
    ops = draw(cigars())
    rng = draw(st.randoms(use_true_random=False))
    seq = "".join(rng.choice(BASES) for op, length in ops if op in "MIS=X" for _ in range(length))
    parts, run = [], 0
    for op, length in ops:
        if op in "M=X":
            for _ in range(length):
                if rng.random() < 0.05:
                    parts += [str(run), rng.choice("ACGTNRY")]
                    run = 0
                else:
                    run += 1
        elif op == "D":
            parts += [str(run), "^" + "".join(rng.choice("ACGT") for _ in range(length))]
            run = 0
    return seq, cigar_text(ops), "".join([*parts, str(run)])


@st.composite
def hits(draw: st.DrawFn, kind: str, read_length: int) -> str:
    """SA, OA, XA or XB entries on the header's references, as bwa and Picard write them: each
    entry's CIGAR lays out at most the read's ``read_length`` bases."""
    entries = []
    for _ in range(draw(st.integers(1, 3))):
        name = draw(st.sampled_from(sorted(LENGTHS)))
        position = draw(st.integers(1, LENGTHS[name]))
        strand = draw(st.sampled_from("+-"))
        drawn = draw(cigars("MIDS"))
        cigar = cigar_text(drawn) if sum(length for op, length in drawn if op in "MIS") <= read_length else f"{read_length}M"
        quality, distance = draw(st.integers(0, 255)), draw(st.integers(0, 40))
        if kind == "SA":
            entries.append(f"{name},{position},{strand},{cigar},{quality},{distance};")
        elif kind == "OA":
            entries.append(f"{name},{position},{strand},{cigar},{quality},{draw(st.sampled_from([str(distance), '']))};")
        elif kind == "XA":
            entries.append(f"{name},{strand}{position},{cigar},{distance};")
        else:
            entries.append(f"{name},{strand}{position},{cigar},{distance},{draw(st.integers(-5, 150))},{quality};")
    return "".join(entries)


@st.composite
def valid_records(draw: st.DrawFn) -> tuple[str, list[str]]:
    """A record whose every tag is on its grammar: the mandatory columns, then the tags."""
    seq, cigar, md = draw(alignments())
    length = len(seq)
    rng = draw(st.randoms(use_true_random=False))

    def qualities(count: int) -> str:
        return "".join(chr(rng.randrange(33, 127)) for _ in range(count))

    def bases(count: int) -> str:
        return "".join(rng.choice(BASES) for _ in range(count))

    umi = [bases(rng.randrange(4, 9)) for _ in range(draw(st.integers(1, 2)))]
    modifications = f"C+m?,{rng.randrange(0, length)};" if length else "C+m?;"
    mate = bases(rng.randrange(10, 40))
    read_length = sum(int(count) for count, op in re.findall(r"([0-9]+)([MIDNSHP=X])", cigar) if op in "MIS=XH")

    def differences() -> str:  # minimap2's cs of the record's alignment
        parts = []
        for count, op in re.findall(r"([0-9]+)([MIDNSHP=X])", cigar):
            length = int(count)
            if op in "M=X":
                substituted = length > 1 and rng.random() < 0.5
                parts.append(f":{length - 1}*{rng.choice('acgt')}{rng.choice('acgt')}" if substituted else f":{length}")
            elif op in "ID":
                parts.append(("+" if op == "I" else "-") + "".join(rng.choice("acgt") for _ in range(length)))
            elif op == "N":
                parts.append(f"~gt{length}ag")
        return "".join(parts)

    tags = {
        "MD": f"MD:Z:{md}", "NM": f"NM:i:{rng.randrange(0, 30)}", "AS": f"AS:i:{rng.randrange(-50, 300)}",
        "XS": f"XS:i:{rng.randrange(0, 300)}", "MC": f"MC:Z:{cigar_text(draw(cigars()))}", "MQ": f"MQ:i:{rng.randrange(0, 61)}",
        "SA": f"SA:Z:{draw(hits('SA', read_length))}", "OA": f"OA:Z:{draw(hits('OA', read_length))}",
        "XA": f"XA:Z:{draw(hits('XA', read_length))}", "XB": f"XB:Z:{draw(hits('XB', read_length))}",
        "OQ": f"OQ:Z:{qualities(length)}", "E2": f"E2:Z:{bases(length)}",
        "R2": f"R2:Z:{mate}", "Q2": f"Q2:Z:{qualities(len(mate))}", "RX": "RX:Z:" + "-".join(umi),
        "QX": "QX:Z:" + " ".join(qualities(len(part)) for part in umi), "MI": f"MI:Z:{rng.randrange(0, 10**6)}/{rng.choice('AB')}",
        "CB": f"CB:Z:{bases(16).replace('N', 'A')}-{rng.randrange(1, 9)}", "MM": f"MM:Z:{modifications}",
        "cs": f"cs:Z:{differences()}", "tp": "tp:A:P",
        "de": f"de:f:{rng.random():.4f}", "YT": f"YT:Z:{rng.choice(['UU', 'CP', 'DP', 'UP'])}", "DT": "DT:Z:SQ",
        "GX": f"GX:Z:ENSG00000{rng.randrange(10**6):06d}",
    }  # fmt: skip
    chosen = draw(st.lists(st.sampled_from(sorted(tags)), unique=True, min_size=1, max_size=10))
    chosen += [partner for tied, partner in (("Q2", "R2"), ("QX", "RX")) if tied in chosen and partner not in chosen]
    quality = qualities(length) or "*"
    columns = ["r1", "0", "chr1", "100", "60", cigar, "*", "0", "0", seq or "*", quality]
    return "\t".join(columns), [tags[name] for name in chosen]


def scrubbed_record(columns: str, tags: list[str]) -> tuple[bytes, Report]:
    report = Report(COMMAND)
    out = scrub(VALID_HEADER + ("\t".join([columns, *tags]) + "\n").encode(), report)
    return out.splitlines()[-1], report


@pytest.mark.slow  # a long property sweep of planted values: make test-slow (CI runs it after make test)
@settings(max_examples=150, deadline=None)
@given(record_tags=valid_records())
def test_values_the_tools_write_survive_byte_for_byte(record_tags: tuple[str, list[str]]) -> None:
    columns, tags = record_tags
    out, report = scrubbed_record(columns, tags)
    assert out == "\t".join([columns, *tags]).encode()
    assert not report.counts["aux_values_removed"]


@pytest.mark.slow  # a long property sweep of planted values: make test-slow (CI runs it after make test)
@settings(max_examples=150, deadline=None)
@given(record_tags=valid_records(), which=st.integers(0, 9), where=st.floats(0, 1), identifier=st.sampled_from([PLANTED, "S2301217T"]))
def test_an_identifier_inside_a_valid_value_removes_it(
    record_tags: tuple[str, list[str]], which: int, where: float, identifier: str
) -> None:
    """The same valid values, one of them with the identifier written into it: that tag goes."""
    columns, tags = record_tags
    index = which % len(tags)
    value_start = 5 + int(where * (len(tags[index]) - 5))
    tags[index] = tags[index][:value_start] + identifier + tags[index][value_start:]
    out, report = scrubbed_record(columns, tags)
    assert identifier.encode() not in out
    assert report.notes["aux_tags_removed_by_value"][tags[index][:2]] == 1


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(record_tags=valid_records())
def test_records_of_valid_values_parse_with_samtools(record_tags: tuple[str, list[str]], tmp_path: Path) -> None:
    """samtools reads what was kept, tags and all (pysam decodes each tag by its type)."""
    columns, tags = record_tags
    out, _ = scrubbed_record(columns, tags)
    path = tmp_path / "kept.sam"
    path.write_bytes(VALID_HEADER + out + b"\n")
    with pysam.AlignmentFile(str(path)) as alignments_file:
        (read,) = list(alignments_file)
    assert sorted(tag for tag, _ in read.get_tags()) == sorted(tag[:2] for tag in tags)
