"""fastq-scrub-names renames in a forked child: the output must be the single process's, byte for byte."""

from __future__ import annotations

import io
from pathlib import Path

from genoscrub.fastq_scrub_names import NameReplacer, fastq_blocks, scrub_records
from genoscrub.pseudonyms import Pseudonyms
from genoscrub.report import Report

from tests.conftest import run_command


def many_blocks() -> bytes:
    """About 12 MiB (three 4 MiB blocks): interleaved mates, odd comments, and wrapped records here and there."""
    records = []
    for index in range(60_000):
        pair = index // 2
        comment = b" 1:N:0:ACGT" if index % 7 else b"/%d extra" % (index % 2 + 1)
        sequence, quality = b"ACGTN" * 20 + b"A" * (index % 50), b"IIII#" * 20 + b"F" * (index % 50)
        if index % 9_973 == 0:  # wrapped, its quality lines starting with '@' and '+'
            wrapped = (sequence[:60], sequence[60:], quality[1:50], quality[51:])
            records.append(b"@M1:9:FC:1:1101:%d:7%s\n%s\n%s\n+\n@%s\n+%s\n" % (pair, comment, *wrapped))
        else:
            records.append(b"@M1:9:FC:1:1101:%d:7%s\n%s\n+\n%s\n" % (pair, comment, sequence, quality))
    return b"".join(records)


def in_process(data: bytes, pseudonyms: Pseudonyms) -> bytes:
    names = NameReplacer(pseudonyms, "<stdin>")
    blocks = fastq_blocks(io.BytesIO(data), "<stdin>")
    return b"".join(scrub_records(blocks, names, "<stdin>", Report("fastq-scrub-names")))


def test_forked_renaming_gives_the_single_process_output(tmp_path: Path) -> None:
    data = many_blocks()
    key = tmp_path / "site.key"
    key.write_bytes(b"a key of thirty-two bytes, or so")
    key.chmod(0o600)
    for options, pseudonyms in (([], Pseudonyms()), (["--key-file", str(key)], Pseudonyms(key_path=key))):
        result = run_command("fastq-scrub-names", "-q", *options, input=data)
        assert result.returncode == 0, result.stderr
        assert result.stdout == in_process(data, pseudonyms)


def test_map_out_complete_when_the_command_returns(tmp_path: Path) -> None:
    links = tmp_path / "links.tsv"
    data = many_blocks()
    assert run_command("fastq-scrub-names", "-q", "--map-out", str(links), input=data).returncode == 0
    assert len(links.read_bytes().splitlines()) == 30_000  # one line per template, mates sharing one


def test_missing_name_in_a_late_block_names_its_line(tmp_path: Path) -> None:
    data = many_blocks()
    table = tmp_path / "names.tsv"
    letters = bytes.maketrans(b"0123456789", b"ABCDEFGHIJ")  # a pseudonym keeping 5 digits of its name is refused
    rows = (b"M1:9:FC:1:1101:%d:7\tP%s\n" % (pair, str(pair).encode().translate(letters)) for pair in range(30_000) if pair != 25_000)
    table.write_bytes(b"".join(rows))
    result = run_command("fastq-scrub-names", "-q", "--map", str(table), input=data)
    assert result.returncode == 1
    line = data[: data.index(b"@M1:9:FC:1:1101:25000:7")].count(b"\n") + 1
    assert result.stderr.decode().startswith(f"fastq-scrub-names: <stdin>:{line}: read name not in the map")
    assert len(result.stderr.splitlines()) == 1


def test_keyed_names_renamed_by_two_children_in_turn_by_load(tmp_path: Path) -> None:
    """--key-file without --map-out: a pool of two children; long runs go to the less busy one, replies in order."""
    from genoscrub.fastq_scrub_names import RenamingPool

    key = tmp_path / "site.key"
    key.write_bytes(b"a key of thirty-two bytes, or so")
    key.chmod(0o600)
    sizes = [1, 500, 1, 500, 1, 500, 3]
    blocks = [b"\n".join(b"@r%d_%d 1:N:0" % (i, j) for j in range(size)) for i, size in enumerate(sizes)]
    pool = RenamingPool(NameReplacer(Pseudonyms(key_path=key), "<stdin>"), 2)
    try:
        for block, size in zip(blocks, sizes, strict=True):
            pool.submit(block, range(1, 4 * size, 4))
        long_runs = [worker for worker, count in pool.order if count == 500]
        replies = [pool.receive() for _ in blocks]
    finally:
        pool.close()
    alone = NameReplacer(Pseudonyms(key_path=key), "<stdin>")
    assert replies == [alone.replace(block, range(size)) for block, size in zip(blocks, sizes, strict=True)]
    assert sorted(set(long_runs)) == [0, 1]  # not all on one child
