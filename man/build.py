"""Build ``man/<command>.1`` from ``man/<command>.md`` and the command's own options.

NAME, SYNOPSIS and OPTIONS come from the same typer/click objects that print
``--help``, so the page and ``--help`` cannot drift; the prose sections come from
the ``.md`` source (a small Markdown subset: ``## SECTION``, paragraphs, ``- ``
bullets, ``    `` indented examples, ``**term**`` lines for ``.TP`` lists).

    python man/build.py            # write man/*.1
    python man/build.py --check    # exit 1 if a page is stale (date ignored)
"""

from __future__ import annotations

import datetime
import importlib
import re
import sys
import textwrap
from pathlib import Path

import typer.main

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from genoscrub import __version__  # noqa: E402

REQUIRED = ("DESCRIPTION", "EXIT STATUS", "EXAMPLES", "BAD INPUT", "SECURITY CONSIDERATIONS", "SEE ALSO")


def escape(text: str) -> str:
    text = text.replace("\\", "\\e").replace("-", "\\-")
    text = re.sub(r"\*\*(.+?)\*\*", r"\\fB\1\\fR", text)
    text = re.sub(r"`([^`]+)`", r"\\fB\1\\fR", text)
    return text


def line(text: str) -> str:
    """A text line that roff will not take for a request."""
    text = escape(text)
    return "\\&" + text if text[:1] in (".", "'") else text


def wrapped(text: str) -> list[str]:
    """Text lines under 80 bytes once escaped (mandoc -Tlint style)."""
    return [line(part) for part in textwrap.wrap(text, width=66, break_long_words=False, break_on_hyphens=False)]


def parse_sections(source: str) -> dict[str, list[str]]:
    sections: dict[str, list[str]] = {}
    current: list[str] | None = None
    for raw in source.splitlines():
        if raw.startswith("## "):
            current = sections.setdefault(raw[3:].strip().upper(), [])
        elif current is not None:
            current.append(raw)
    return sections


def render_body(lines: list[str]) -> list[str]:
    out: list[str] = []
    text: list[str] = []
    last = "start"  # what the previous block was: start, para, bullet, term, body, code

    def flush() -> None:
        if text:
            out.extend(wrapped(" ".join(text)))
            text.clear()

    for raw in lines + [""]:
        if raw.startswith("    ") and raw.strip():
            if last != "code":
                flush()
                out += [".PP", ".RS 4", ".nf"]
                last = "code"
            out.append(line(raw[4:]))
            continue
        if last == "code":
            out += [".fi", ".RE"]
            last = "para"
        stripped = raw.strip()
        if not stripped:
            flush()
            continue
        term = re.fullmatch(r"\*\*(.+)\*\*", stripped)
        if term:
            flush()
            out += [".TP", line(f"**{term.group(1)}**")]
            last = "term"
        elif stripped.startswith("- "):
            flush()
            out.append(".IP \\(bu 2")
            text.append(stripped[2:])
            last = "bullet"
        elif text:
            text.append(stripped)
        else:
            if last == "term":
                last = "body"
            else:
                if last != "start":
                    out.append(".PP")
                last = "para"
            text.append(stripped)
    flush()
    return out


def option_entries(command: str) -> tuple[str, str, list[str]]:
    module = importlib.import_module(f"genoscrub.{command.replace('-', '_')}")
    click_command = typer.main.get_command(module.app)
    summary = (click_command.help or "").strip()
    synopsis_parts: list[str] = []
    out: list[str] = []
    context = click_command.make_context(command, ["--help"], resilient_parsing=True)
    for param in click_command.get_params(context):
        record = param.get_help_record(context)
        if record is None:
            continue
        names, help_text = record
        if param.param_type_name == "argument":
            synopsis_parts.append(f"[{param.metavar or param.name}]")
        out += [".TP", f"\\fB{escape(names)}\\fR", *wrapped(help_text)]
    return summary, " ".join(synopsis_parts), out


def build(command: str, date: str) -> str:
    source = (ROOT / "man" / f"{command}.md").read_text()
    sections = parse_sections(source)
    missing = [name for name in REQUIRED if name not in sections]
    if missing:
        raise SystemExit(f"man/{command}.md lacks: {', '.join(missing)}")
    summary, arguments, options = option_entries(command)
    name_line = re.split(r"[;,.]", summary)[0].rstrip()
    page = [
        f'.TH {command.upper()} 1 {date} "genoscrub {__version__}" "genoscrub manual"',
        ".SH NAME",
        f"{escape(command)} \\- {line(name_line[0].lower() + name_line[1:])}",
        ".SH SYNOPSIS",
        f"\\fB{escape(command)}\\fR [\\fIOPTIONS\\fR] {escape(arguments)}".rstrip(),
        ".SH DESCRIPTION",
        *render_body(sections["DESCRIPTION"]),
        ".SH OPTIONS",
        *options,
    ]
    for name, body in sections.items():
        if name != "DESCRIPTION":
            page += [f".SH {name}", *render_body(body)]
    return "\n".join(page) + "\n"


def pages() -> list[str]:
    return sorted(path.stem for path in (ROOT / "man").glob("*.md"))


def without_date(page: str) -> str:
    return re.sub(r"^\.TH (\S+) 1 \S+", r".TH \1 1 DATE", page, flags=re.M)


def main(argv: list[str]) -> int:
    date = datetime.date.today().isoformat()
    stale = []
    for command in pages():
        target = ROOT / "man" / f"{command}.1"
        page = build(command, date)
        if "--check" in argv:
            if not target.exists() or without_date(target.read_text()) != without_date(page):
                stale.append(target.name)
        else:
            target.write_text(page)
    if stale:
        print("stale man pages (run make man): " + " ".join(stale), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
