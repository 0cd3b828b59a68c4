"""The planted-identifier matrix of sam-scrub-rg (man/sam-scrub-rg.md, SECURITY CONSIDERATIONS).

A distinctive identifier is planted in every header line type and tag the SAM
spec defines, in unknown and lowercase ones, and in record aux tags (``CO``, the
end-user ``X?``/``Y?``/``Z?`` and lowercase tags, the standard free-text ones).
For each place: the identifier is gone from the output, and samtools parses the
output. Three ways:

- every place at once, as SAM, BAM and CRAM input, to SAM, BAM and CRAM output
  (samtools decodes the output: the check is independent of our parser);
- one place at a time, with hypothesis varying the structure around it (tag
  order, line order, quotes, commas, ``<>``, case), in process;
- the report counts what was dropped, by kind, and never holds the identifier.

``KEPT_ON_PURPOSE`` lists the places that are kept by design (documented): the
reference names (records refer to them) and the aux tags on the allowlist, whose
values are not checked.
"""

from __future__ import annotations

import json
import subprocess
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
KEPT_ON_PURPOSE = {("SQ", "SN")} | {("aux", name.decode()) for name in KEPT_TAGS}


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


def record(aux: list[str], read_group: str = "rg1", value: str = PLANTED) -> str:
    tags = [f"RG:Z:{read_group}"] + [f"{name}:Z:{value}" for name in aux if name != "RG"]
    return "\t".join(["r1", "0", "chr1", "1", "60", "4M", "*", "0", "0", "ACGT", "IIII", *tags])


def every_place_at_once(fmt: str) -> bytes:
    """Every place of the matrix; for BAM and CRAM, those htslib itself can encode
    (it refuses a header line of an unknown record type, and checks M5 in CRAM)."""
    places = [(kind, tag) for kind, tag in HEADER_PLACES if (kind, tag) != ("RG", "ID") and (fmt == "sam" or (kind, tag) != ("SQ", "M5"))]
    lines = LINE_PLACES if fmt == "sam" else ["@CO"]
    return ("\n".join([*planted_header(places, lines), record(AUX_PLACES)]) + "\n").encode()


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


def scrub(sam: bytes, report: Report) -> bytes:
    header = HeaderScrubber(Pseudonyms(), "NGS", "-", report)
    records = RecordScrubber(None, "-", report)
    return b"".join(scrub_stream(whole_line_blocks([sam], "-"), header, records))


def samtools_parses(sam: bytes, folder: Path) -> bool:
    path = folder / "out.sam"
    path.write_bytes(sam)
    return subprocess.run(["samtools", "view", "-c", str(path)], capture_output=True).returncode == 0


VALUES = st.sampled_from([PLANTED, f'"{PLANTED}"', f"<{PLANTED}>", f"x,{PLANTED},y", f"/home/kim/{PLANTED}.bam", PLANTED.lower()])


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    place=st.sampled_from(HEADER_PLACES + [("line", line) for line in LINE_PLACES] + [("aux", name) for name in AUX_PLACES]),
    value=VALUES,
    shuffle=st.randoms(use_true_random=False),
)
def test_one_place_at_a_time(place: tuple[str, str], value: str, shuffle: object, tmp_path: Path) -> None:
    """One planted place, the structure around it varied: gone, and the output parses."""
    kind, tag = place
    header = planted_header([place] if kind not in ("line", "aux") else [], [tag] if kind == "line" else [], value)
    first, rest = header[:1], header[1:]
    shuffle.shuffle(rest)  # type: ignore[attr-defined]
    read_group = value if place == ("RG", "ID") else "rg1"
    records = [record([tag] if kind == "aux" else [], read_group, value)]
    sam = ("\n".join(first + rest + records) + "\n").encode()
    out = scrub(sam, Report(COMMAND))
    assert PLANTED.lower().encode() not in out.lower()
    assert samtools_parses(out, tmp_path)


def test_the_places_kept_on_purpose_are_what_the_man_page_says() -> None:
    """SN stays (records refer to it); allowlisted aux tags stay with their values unchecked."""
    page = (Path(__file__).resolve().parents[1] / "man" / "sam-scrub-rg.md").read_text()
    for _, name in sorted(KEPT_ON_PURPOSE):
        if name != "SN":
            assert f"`{name}`" in page, f"the man page does not list the kept tag {name}"
