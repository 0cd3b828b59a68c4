"""Errors, exit codes and the run summary that every command reports.

Exit status (the README and every man page promise it): 0 success, 1 bad input data (or a
worker process that died), 2 bad usage, 130 interrupted (Ctrl-C), 129/143 stopped by SIGHUP/SIGTERM
(``signals``), 141 downstream pipe closed. Messages never quote the
identifier that caused them: the report and stderr may leave the data holder.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections import Counter
from pathlib import Path
from typing import Any

from genoscrub import __version__

EXIT_OK = 0
EXIT_DATA = 1
EXIT_USAGE = 2
EXIT_INTERRUPTED = 130
EXIT_PIPE = 141


class InputError(Exception):
    """Bad input data: reported as ``command: file:line: message``, exit 1."""

    command: str | None = None
    """The command to name instead of the running one: the stage of several run in one
    process (``genoscrub.sam_stage``) that met the bad data."""

    def __init__(self, message: str, file: str = "-", line: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.file = file
        self.line = line

    def located(self, command: str) -> str:
        where = display_name(self.file)
        if self.line is not None:
            where = f"{where}:{self.line}"
        return f"{command}: {where}: {self.message}"


class WorkerFailed(Exception):
    """A child process doing part of the work died (the OOM killer, a signal): exit 1, one line
    (``command: message``, the message saying what is incomplete), never the quiet status of a closed pipe."""


class UsageError(Exception):
    """Bad usage (options, permissions of a key or map file): exit 2."""

    command: str | None = None
    """As ``InputError.command``."""


def display_name(path: str) -> str:
    """How an input is named in messages: ``<stdin>`` for ``-``."""
    return "<stdin>" if path in ("-", "") else path


class Report:
    """Counts of what a run did, written as JSON by ``--report``.

    Only counts and command metadata go in: no identifiers, no paths.
    """

    def __init__(self, command: str) -> None:
        self.command = command
        self.counts: Counter[str] = Counter()
        self.notes: dict[str, Any] = {}

    def add(self, key: str, amount: int = 1) -> None:
        self.counts[key] += amount

    def as_dict(self) -> dict[str, Any]:
        """The report's content. Counts, and the counts by name among the notes (``Counter``
        values), are in the order of their names, not the order they were first met (which follows where blocks
        end): the same input gives the same bytes, whether a command reads a file, a pipe or
        the chunks of another stage (``sam_stage``)."""
        data: dict[str, Any] = {"command": self.command, "version": __version__}
        data["counts"] = dict(sorted(self.counts.items()))
        data.update({key: dict(sorted(value.items())) if isinstance(value, Counter) else value for key, value in self.notes.items()})
        return data

    def write(self, path: Path) -> None:
        """Write atomically, so a report is complete or absent.

        The temporary file goes beside the link's target, so a symlink stays a
        link; a device or FIFO (``--report /dev/stdout``) is written in place,
        never replaced by a file.
        """
        text = json.dumps(self.as_dict(), indent=2) + "\n"
        if path.exists() and not path.is_file():  # follows links: /dev/stdout is a pipe or a tty
            with open(path, "w") as out:
                out.write(text)
            return
        target = Path(os.path.realpath(path))
        handle, tmp = tempfile.mkstemp(prefix=".report.", dir=target.parent)
        try:
            with os.fdopen(handle, "w") as out:
                out.write(text)
            os.replace(tmp, target)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    def summary_line(self) -> str:
        parts = [f"{key.replace('_', ' ')} {value}" for key, value in self.counts.items()]
        return f"{self.command}: " + (", ".join(parts) if parts else "nothing to do")
