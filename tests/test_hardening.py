"""Hostile input for every command: truncations and mutated bytes end in exit 0 or 1.

Runs in-process (typer's CliRunner) so that hundreds of inputs take seconds. A
command may accept a prefix (a shorter valid file) or reject it with one line;
it may never raise, hang or print a traceback.
"""

from __future__ import annotations

import importlib
import random
from dataclasses import dataclass

import pytest
from typer.testing import CliRunner


@dataclass(frozen=True)
class Case:
    module: str
    args: tuple[str, ...]
    sample: bytes


CASES = {
    "fastq-scrub-names": Case(
        "filters.fastq_scrub_names",
        ("-q",),
        b"@M04123:1:FC:1:1101:5:7 1:N:0:ACGT\nACGTN\n+M04123\nII#II\n@M04123:1:FC:1:1101:5:8/2\nAC\n+\nII\n",
    ),
}


def invoke(case: Case, data: bytes) -> tuple[int, str]:
    app = importlib.import_module(case.module).app
    result = CliRunner().invoke(app, list(case.args), input=data)
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise AssertionError(f"{type(result.exception).__name__} on input {data!r}") from result.exception
    return result.exit_code, result.output


def check_outcome(case: Case, data: bytes) -> None:
    status, output = invoke(case, data)
    assert status in (0, 1), (status, data, output)
    assert "Traceback" not in output
    if status == 1:
        last_line = output.rstrip("\n").rsplit("\n", 1)[-1]
        assert ": " in last_line, output


@pytest.mark.parametrize("command", sorted(CASES))
def test_every_prefix_gives_records_or_a_clean_error(command: str) -> None:
    case = CASES[command]
    for end in range(len(case.sample) + 1):
        check_outcome(case, case.sample[:end])


@pytest.mark.parametrize("command", sorted(CASES))
def test_mutated_bytes_give_records_or_a_clean_error(command: str) -> None:
    case = CASES[command]
    rng = random.Random(20261123)
    alphabet = b"@+\n\r\t :/ACGTN!I#\x00\xff"
    for _ in range(150):
        data = bytearray(case.sample)
        for _ in range(rng.randint(1, 4)):
            position = rng.randrange(len(data))
            action = rng.random()
            if action < 0.4:
                data[position] = rng.choice(alphabet)
            elif action < 0.7:
                del data[position]
            else:
                data.insert(position, rng.choice(alphabet))
        check_outcome(case, bytes(data))
