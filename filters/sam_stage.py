"""A SAM command's work apart from its input and output: whole-line SAM text in, SAM text out.

Each SAM filter (sam-scrub-rg, sam-revert-germline, sam-mask-regions) builds its
stage from its options and runs it between its own reader and writer. The cohort
workflow runs the stages of one BAM part in one process (workflow/sam_chain.py):
the same work as the commands joined by pipes, byte for byte, without a process, a pipe
and the reading of its text at every step
(ARCHITECTURE.md, *The cohort workflow*).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field

from genoscrub import scan
from genoscrub.report import InputError, UsageError

Blocks = Iterable[tuple[int, int, bytes]]
"""``(number of the first line, number of lines, text)``: blocks of whole lines, each ending
in a newline, as ``streams.whole_line_blocks`` yields them."""


def _nothing() -> None:
    return None


@dataclass
class SamStage:
    """What one command does to a stream: built once its options are checked and its
    files read, before the first byte of input."""

    command: str
    transform: Callable[[Blocks], Iterator[bytes]]
    """Blocks in; the header, then the records, out as whole lines."""
    finish: Callable[[], None] = field(default=_nothing)
    """Once the stream went through: the counts only the end knows (``reads_out``)."""
    close: Callable[[], None] = field(default=_nothing)
    """However the run ends: files the stage holds open (the linkage table)."""


def numbered(chunks: Iterable[bytes]) -> Iterator[tuple[int, int, bytes]]:
    """One stage's output as the next stage's input blocks, numbered as the next command
    would number the lines of its stdin in a pipe; empty chunks (every record of a block
    dropped) are left out."""
    line = 1
    for chunk in chunks:
        if chunk:
            count = scan.count_lines(chunk)
            yield line, count, chunk
            line += count


@contextmanager
def named_errors(command: str) -> Iterator[None]:
    """Bad data and bad usage met inside name ``command``, unless a stage nearer the error
    (the first to meet it) named it already."""
    try:
        yield
    except (InputError, UsageError) as error:
        if error.command is None:
            error.command = command
        raise


def attributed(command: str, chunks: Iterable[bytes]) -> Iterator[bytes]:
    """A stage's output; its bad data and bad usage name the stage's command."""
    with named_errors(command):
        yield from chunks


def chained(stages: Sequence[SamStage], blocks: Blocks) -> Iterator[bytes]:
    """The stages one after the other, as their commands joined by pipes: each stage's
    output chunks are the next one's blocks (``numbered``)."""
    for stage in stages[:-1]:
        blocks = numbered(attributed(stage.command, stage.transform(blocks)))
    return attributed(stages[-1].command, stages[-1].transform(blocks))
