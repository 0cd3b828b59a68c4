"""The SAM filters of one BAM part in one process (workflow/rules/bam.smk).

    sam_chain.py 'sam-scrub-rg -q --names --key-file site.key' 'sam-revert-germline -q -r ref.fa -v g.vcf' ...

does what ``sam-scrub-rg ... | sam-revert-germline ... | ...`` does: SAM text (or BAM/CRAM,
detected as the first command detects it) on stdin, SAM text on stdout, each command's report,
summary line and linkage rows as its own run would write them, the same bytes out. Each
argument is one command line of sam-scrub-rg, sam-revert-germline or sam-mask-regions, parsed by
that command's own option parser and run as that command's stage (``genoscrub.sam_stage``),
so an option means here what it means on the command line.

Why: a pipe makes every command after the first start Python, read the text the previous one
wrote through the kernel and cut it into lines again: on the workflow's bench about 1 CPU us
of the three filters' ~9 a read, and 0.4 CPU s a part. The price is parallelism within a part: the stages take turns on one core (the
encoder downstream and the other parts still run beside them).

A stage's bad data or bad option ends the run as that command would end it, named after it
(``sam-revert-germline: <stdin>:12: ...``, exit 1 or 2); no report is written then, and the
workflow's job fails. What the command line cannot mean here is refused: an INPUT, ``-o`` or
another output format than SAM (the chain reads stdin and writes stdout), ``--help``. CRAM on
stdin is decoded with the first command's reference (sam-scrub-rg's ``-T``, the others' ``-r``),
as that command decodes it.
"""

from __future__ import annotations

import shlex
import sys
import typing
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from reports import load_genoscrub

load_genoscrub()

import typer  # noqa: E402
import typer.main  # noqa: E402
from genoscrub import sam_mask_regions, sam_revert_germline, sam_scrub_rg  # noqa: E402
from genoscrub.alignments import AlignmentOutput, open_alignment_text  # noqa: E402
from genoscrub.cli import run  # noqa: E402
from genoscrub.report import Report, UsageError  # noqa: E402
from genoscrub.sam_stage import SamStage, chained, named_errors  # noqa: E402
from genoscrub.streams import BackgroundWriter, background_reads, whole_line_blocks, workers  # noqa: E402

PROGRAM = "sam-chain"
STAGES: dict[str, tuple[Any, Callable[..., SamStage]]] = {
    sam_scrub_rg.COMMAND: (sam_scrub_rg, sam_scrub_rg.scrub_stage),
    sam_revert_germline.COMMAND: (sam_revert_germline, sam_revert_germline.revert_stage),
    sam_mask_regions.COMMAND: (sam_mask_regions, sam_mask_regions.mask_stage),
}
STREAM_OPTIONS = {"input": "-", "output": None, "output_format": "sam", "output_fmt": "sam"}
"""Options of the commands' reading and writing, and the only value each may have here."""
RUN_OPTIONS = ("report_path", "quiet")
"""Options of how a command's run ends (its report, its summary line): kept by the chain."""


@dataclass
class Step:
    """One command line of the chain, parsed: what its stage is built from and how its run ends."""

    command: str
    build: Callable[..., SamStage]
    options: dict[str, Any]
    report_path: Path | None
    quiet: bool
    decoder: str | None
    """The reference that decodes CRAM input, as the command reads it when it runs first."""


def parse_step(text: str) -> Step:
    """A command line, parsed by the command's own option parser (typer's click command)."""
    words = shlex.split(text)
    name = Path(words[0]).name if words else ""
    if name not in STAGES:
        raise UsageError(f"each argument is one command line of {', '.join(STAGES)}; not {name or 'an empty one'}")
    module, build = STAGES[name]
    if {"-h", "--help"} & set(words[1:]):
        raise UsageError(f"{name}: --help has no place in a chain")
    try:
        context = typer.main.get_command(module.app).make_context(name, words[1:])
    except typer.exceptions.TyperException as error:  # typer's click: a bad option
        raise refused(name, getattr(error, "format_message", error.__str__)()) from None
    params = dict(context.params)
    for option, only in STREAM_OPTIONS.items():
        if option in params and params.pop(option) != only:
            raise refused(name, "a chain reads stdin and writes SAM text to stdout: no INPUT, -o or -O")
    # The reference that decodes CRAM input: sam-scrub-rg's -T is for that alone here, the
    # others' -r is their reference too.
    decoder = params.pop("reference") if name == sam_scrub_rg.COMMAND else params.get("reference_path", params.get("reference"))
    report_path, quiet = (params.pop(option) for option in RUN_OPTIONS)
    options = typed(module.main, params)
    return Step(name, build, options, Path(report_path) if report_path else None, bool(quiet), str(decoder) if decoder else None)


def check_lists_removed(steps: list[Step]) -> None:
    """sam-revert-germline --keep-alignment-lists leaves SA/XA/XB, which may show germline
    indels, for a sam-mask-regions --drop-alignment-lists after it: a chain without one is refused."""
    for index, step in enumerate(steps):
        if step.options.get("keep_alignment_lists") and not any(later.options.get("drop_alignment_lists") for later in steps[index + 1 :]):
            raise refused(step.command, "--keep-alignment-lists needs a sam-mask-regions --drop-alignment-lists after it")


def typed(main: Callable[..., None], params: dict[str, Any]) -> dict[str, Any]:
    """The values as the command's ``main`` gets them from typer: a Path where it takes a
    Path, a list for a repeated option (click gives str and tuple)."""
    hints = typing.get_type_hints(main)
    values = {}
    for name, value in params.items():
        if isinstance(value, tuple):
            value = list(value)
        if value is not None and Path in (hints[name], *typing.get_args(hints[name])):
            value = Path(value)
        values[name] = value
    return values


def built(step: Step, report: Report) -> SamStage:
    with named_errors(step.command):
        return step.build(report, "-", **step.options)


def refused(name: str, message: str) -> UsageError:
    """A usage error named after the command whose line it is about."""
    error = UsageError(message)
    error.command = name
    return error


def run_chain(steps: list[Step]) -> None:
    """Build every stage (each reads its files before any record), stream stdin through
    them to stdout, then write the reports and summary lines of a run that succeeded."""
    reports = [Report(step.command) for step in steps]
    stages: list[SamStage] = []
    try:
        for step, report in zip(steps, reports, strict=True):
            stages.append(built(step, report))
        source = open_alignment_text("-", steps[0].decoder)
        sink = AlignmentOutput(None, "sam", None)
        writer = BackgroundWriter(sink)
        try:
            for chunk in chained(stages, whole_line_blocks(background_reads(source), "-")):
                writer.write(chunk)
            writer.close()
            sink.close()
        except BaseException:
            writer.abort()
            sink.abort()
            raise
        finally:
            workers.close(source)
        for stage in stages:
            stage.finish()
    finally:
        for stage in stages:
            stage.close()
    for step, report in zip(steps, reports, strict=True):
        if step.report_path is not None:
            report.write(step.report_path)
        if not step.quiet:
            sys.stderr.write(report.summary_line() + "\n")


def main(argv: list[str] | None = None) -> None:
    arguments = sys.argv[1:] if argv is None else argv

    def job(_: Report) -> None:
        if not arguments or arguments[0] in ("-h", "--help"):
            raise UsageError("usage: sam_chain.py 'sam-scrub-rg OPTIONS' 'sam-revert-germline OPTIONS' ... (see the script's docstring)")
        steps = [parse_step(text) for text in arguments]
        check_lists_removed(steps)
        run_chain(steps)

    run(PROGRAM, job, None, quiet=True)


if __name__ == "__main__":
    main()
