"""The shared VCF parsers: strict numbers (fields), the header grammar (vcf_header), the allele
keys (alleles), the population join's sites, and pseudonyms of names that are not UTF-8."""

from __future__ import annotations

import math
import stat
from pathlib import Path

import numpy as np
import pysam
import pytest
from genoscrub.alleles import SNV_KEY_LIMIT, encoded, normalised, snv_key
from genoscrub.fields import MAX_POS, positions_beyond_limit, span_floats, span_integers, unsigned_integer, vcf_float, vcf_position
from genoscrub.population import PopulationJoin, UnknownContig
from genoscrub.pseudonyms import Pseudonyms
from genoscrub.report import InputError
from genoscrub.vcf_header import contig, contig_lengths, definition, field_definition, info_numbers, structured_fields
from hypothesis import given, settings
from hypothesis import strategies as st

# --- numbers ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("text", [b"0.0_1", b" 0.1", b"0.1 ", b"1_0", b"0x1p-3", b"", b".", b"1e", b"--1", b"\xd9\xa1"])
def test_vcf_float_refuses_what_python_float_would_stretch(text: bytes) -> None:
    with pytest.raises(ValueError):
        vcf_float(text)


@pytest.mark.parametrize(("text", "value"), [(b"0.01", 0.01), (b"1e-05", 1e-05), (b".5", 0.5), (b"5.", 5.0), (b"+1E2", 100.0)])
def test_vcf_float_reads_the_grammar(text: bytes, value: float) -> None:
    assert vcf_float(text) == value
    assert math.isnan(vcf_float(b"NaN")) and vcf_float(b"-Inf") == -math.inf


@pytest.mark.parametrize("text", [b"1_0", b"+5", b"-3", b" 12", b"", b"9223372036854775808", b"1" * 30])
def test_positions_are_digits_up_to_htslib_limit(text: bytes) -> None:
    with pytest.raises(ValueError):
        vcf_position(text)
    assert vcf_position(b"9223372036854775807") == MAX_POS
    assert vcf_position(b"0") == 0 and unsigned_integer(b"007", 10) == 7


@settings(max_examples=200, deadline=None)
@given(st.lists(st.integers(0, MAX_POS), min_size=1, max_size=20), st.lists(st.integers(0, 3), min_size=1, max_size=20))
def test_positions_read_in_bulk_as_one_by_one(values: list[int], zeros: list[int]) -> None:
    texts = [b"0" * zeros[index % len(zeros)] + b"%d" % value for index, value in enumerate(values)]
    text = b"\t".join(texts)
    data = np.frombuffer(text, dtype=np.uint8)
    lengths = np.array([len(item) for item in texts])
    starts = np.concatenate(([0], np.cumsum(lengths + 1)[:-1]))
    ends = starts + lengths
    assert span_integers(data, text, starts, ends).tolist() == values
    assert not positions_beyond_limit(data, text, starts, ends).any()
    beyond = b"9223372036854775808"
    assert positions_beyond_limit(np.frombuffer(beyond, dtype=np.uint8), beyond, np.array([0]), np.array([len(beyond)])).tolist() == [True]


def test_bulk_floats_leave_underscores_to_the_strict_path() -> None:
    text = b"0.0_1,0.01,6e-05"
    values, done = span_floats(np.frombuffer(text, dtype=np.uint8), np.array([0, 6, 11]), np.array([5, 10, 16]))
    assert done.tolist() == [False, True, True] and values[1:].tolist() == [0.01, 6e-05]


# --- the header grammar ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "value",
    [
        b'<ID=X,Number=1,Type=String,Description="x",/home/lab>',  # a field that is no key=value
        b'<ID=X,Number=1,Type=String,Description="a "b" c">',  # an unescaped quote
        b'<ID=X,Number=1,Type=String,Description="x">tail',  # text after >
        b"<ID=X,ID=Y>",  # a key twice
        b'<ID=X,Description="unterminated>',
        b"ID=X,Number=1",  # no brackets
    ],
)
def test_structured_values_that_do_not_parse(value: bytes) -> None:
    assert structured_fields(value) is None


def test_structured_values_unescape_and_tolerate_blanks_before_keys() -> None:
    fields = structured_fields(b'<ID=AF, Number=1,Description="a \\"b\\" C:\\Users\\x and \\\\">')
    assert fields is not None
    expected = [(b"ID", b"AF"), (b"Number", b"1"), (b"Description", b'a "b" C:\\Users\\x and \\')]
    assert [(item.key, item.value) for item in fields] == expected


@pytest.mark.parametrize(
    ("value", "valid"),
    [
        (b'<ID=DP,Number=1,Type=Integer,Description="d">', True),
        (b'<ID=1000g2015aug_all,Number=1,Type=Float,Description="ANNOVAR">', True),
        (b'<ID=DP,Number=1x,Type=Integer,Description="d">', False),
        (b'<ID=DP,Number=1,Type=Int,Description="d">', False),
        (b'<ID=F,Number=1,Type=Flag,Description="a flag has Number=0">', False),
        (b'<ID=DP/x,Number=1,Type=Integer,Description="d">', False),
        (b"<ID=DP,Number=1,Type=Integer>", False),
        (b'<ID=P,Number=P,Type=Integer,Description="VCF 4.4 ploidy">', True),
    ],
)
def test_info_definitions(value: bytes, valid: bool) -> None:
    assert (field_definition(b"INFO", value) is not None) == valid
    assert field_definition(b"FORMAT", b'<ID=F,Number=0,Type=Flag,Description="x">') is None  # no Flag in FORMAT
    assert definition(b"ALT", b'<ID=INS:ME:ALU,Description="x">') is not None
    assert definition(b"FILTER", b'<ID=q10/home,Description="x">') is None


def test_contig_lines_in_any_field_order_parsed_once() -> None:
    meta = [b"##contig=<length=100,ID=chr1>", b"##contig=<ID=chr2,assembly=x,length=200>", b"##contig=<ID=chr3,length=1_000>",
            b'##INFO=<ID=AF,Number=A,Type=Float,Description="x">', b"##INFO=<ID=BAD,Number=1>"]
    assert contig_lengths(meta) == {"chr1": 100, "chr2": 200, "chr3": None}
    assert info_numbers(meta) == {b"AF": b"A"}
    found = contig(b"<ID=chr2,assembly=x,length=200>")
    assert found is not None and found.line() == b"##contig=<ID=chr2,length=200>"


# --- alleles -------------------------------------------------------------------------------------


def test_alleles_are_upper_case_and_keys_never_wrap() -> None:
    assert normalised(100, b"a", b"g") == (100, b"A", b"G")
    assert encoded((100, b"a", b"g")) == encoded((100, b"A", b"G")) == snv_key(100, b"A", b"G")
    far = SNV_KEY_LIMIT + 100
    assert encoded((far, b"A", b"G")) == (far, b"A", b"G")  # a long key, not a shifted one that wraps
    assert encoded((100, b"A", b"G")) != encoded((100 + (1 << 48), b"A", b"G"))


# --- the population join's sites ---------------------------------------------------------------------


def population(tmp_path: Path, records: list[str], key: str = "AF", number: str = "A", contigs: str = "") -> str:
    path = tmp_path / "pop.vcf"
    path.write_text(f'##fileformat=VCFv4.2\n{contigs}##INFO=<ID={key},Number={number},Type=Float,Description="x">\n'
                    "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\n" + "".join(line + "\n" for line in records))
    pysam.tabix_index(str(path), preset="vcf", force=True)
    return str(path) + ".gz"


def site_reference(join: PopulationJoin, pos: int, ref: str, alt: str) -> tuple[float, float, bool]:
    from genoscrub.alleles import encoded_arrays

    keys, texts, indels = encoded_arrays([encoded(normalised(pos, ref.encode(), alt.encode()))])
    positions, ends = np.array([pos]), np.array([pos + len(ref)])
    values, bounds, exact, site_bounds, site_exact = join.encoded_alleles("chr1", positions, ends, keys, texts, indels)
    return float(values[0]), float(np.fmin(bounds[0], site_bounds[0])), bool(exact[0] and site_exact[0])


@pytest.mark.parametrize("batch", [1, 2, 3, 65536])
def test_a_site_is_whole_across_batches(tmp_path: Path, batch: int) -> None:
    """The records of one POS may straddle two batches: the site's REF waits for all of them."""
    path = population(tmp_path, ["chr1\t100\t.\tA\tC\t.\t.\tAF=0.6", "chr1\t100\t.\tA\tG\t.\t.\tAF=0.3",
                                 "chr1\t100\t.\tA\tT\t.\t.\tAF=0.095", "chr1\t200\t.\tC\tG\t.\t.\tAF=0.5"])
    join = PopulationJoin(path, "AF", {})
    join.BATCH = batch  # type: ignore[misc]
    value, bound, exact = site_reference(join, 100, "A", "C")
    assert value == 0.6 and bound == pytest.approx(0.005) and exact
    assert site_reference(join, 200, "C", "G")[1:] == (pytest.approx(0.5), True)
    join.close()


def test_repeated_population_key_counts_by_its_rarer_value(tmp_path: Path) -> None:
    path = population(tmp_path, ["chr1\t100\t.\tA\tC\t.\t.\tAF=0.5;AF=0.00001"])
    join = PopulationJoin(path, "AF", {})
    assert join.frequencies("chr1", 100, "A", ["C"]) == [0.00001]
    join.close()


def test_unknown_population_value_leaves_ref_a_bound(tmp_path: Path) -> None:
    path = population(tmp_path, ["chr1\t100\t.\tA\tC,G\t.\t.\tAF=0.3,.", "chr1\t200\t.\tA\tC\t.\t.\tDP=3"])
    join = PopulationJoin(path, "AF", {})
    assert site_reference(join, 100, "A", "C")[1:] == (pytest.approx(0.7), False)
    assert site_reference(join, 200, "A", "C") == (pytest.approx(float("nan"), nan_ok=True), pytest.approx(1.0), False)
    join.close()


def test_without_lengths_a_contig_the_population_lacks_is_an_error(tmp_path: Path) -> None:
    path = population(tmp_path, ["chr1\t100\t.\tA\tC\t.\t.\tAF=0.5"])
    join = PopulationJoin(path, "AF", {}, every_contig=True)
    assert join.frequencies("chr1", 100, "A", ["C"]) == [0.5]
    with pytest.raises(UnknownContig):
        join.frequencies("chr7", 100, "A", ["C"])
    join.close()
    with_lengths = population(tmp_path, ["chr1\t100\t.\tA\tC\t.\t.\tAF=0.5"], contigs="##contig=<ID=chr1,length=1000>\n")
    join = PopulationJoin(with_lengths, "AF", {"chr1": 1000, "chr7": 500}, every_contig=True)
    assert join.frequencies("chr7", 100, "A", ["C"]) == [None]  # the genome is proven by chr1's length
    join.close()


def test_population_pos_written_loosely_is_an_error(tmp_path: Path) -> None:
    """tabix reads ``100_0`` as 100 (and indexes it); the join refuses it rather than guess."""
    path = population(tmp_path, ["chr1\t100\t.\tA\tC\t.\t.\tAF=0.5", "chr1\t100_0\t.\tA\tC\t.\t.\tAF=0.5"])
    join = PopulationJoin(path, "AF", {})
    with pytest.raises(InputError, match="POS is not an integer"):
        join.frequencies("chr1", 100, "A", ["C"])
    join.close()


# --- pseudonyms of names that are not UTF-8 ------------------------------------------------------


def test_non_utf8_names_get_pseudonyms_with_key_and_map_out(tmp_path: Path) -> None:
    key = tmp_path / "site.key"
    key.write_bytes(b"k" * 32)
    key.chmod(stat.S_IRUSR | stat.S_IWUSR)
    links = tmp_path / "links.tsv"
    pseudonyms = Pseudonyms(key_path=key, map_out=links)
    name = b"Kim\xe9\xff"
    first = pseudonyms.for_id_bytes(name)
    assert first == pseudonyms.for_id_bytes(name) and first.startswith(b"S") and len(first) == 17
    assert Pseudonyms(key_path=key).for_id_bytes(name) == first  # the same on every machine with the key
    pseudonyms.close()
    assert links.read_bytes() == name + b"\t" + first + b"\n"
    counter = Pseudonyms()
    assert counter.for_id_bytes(name) == b"SAMPLE1"
