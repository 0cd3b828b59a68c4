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


UNIT = re.compile(r"(?:\*\*.+?\*\*|`[^`]+`|\S)+")
"""What a line is never broken within: a word, with the code and bold spans it holds whole
(a span broken across two lines would reach roff with its backticks)."""
LINE_BYTES = 79


def line_bytes(text: str) -> int:
    """How long mandoc takes a text line to be: a character outside ASCII counts as the escape it
    reads it as (``\\[u0394]``)."""
    escaped = line(text)
    return len(escaped) + 7 * sum(1 for character in escaped if ord(character) > 127)


def units(text: str) -> list[str]:
    """The words of a paragraph, code and bold spans whole; a span too long for a line is cut
    into its words, each a span of its own."""
    found: list[str] = []
    for unit in UNIT.findall(text):
        span = re.fullmatch(r"(\W*)`([^`]+)`(\W*)", unit)
        if span is None or line_bytes(unit) <= LINE_BYTES:
            found.append(unit)
            continue
        before, inside, after = span.groups()
        words = [f"`{word}`" for word in inside.split()]
        words[0], words[-1] = before + words[0], words[-1] + after
        found += words
    return found


def wrapped(text: str) -> list[str]:
    """Text lines under 80 bytes once escaped (mandoc -Tlint style), filled greedily; a unit
    longer than that stands on a line of its own."""
    lines: list[str] = []
    current = ""
    for unit in units(text):
        candidate = f"{current} {unit}" if current else unit
        if current and line_bytes(candidate) > LINE_BYTES:
            lines.append(line(current))
            candidate = unit
        current = candidate
    if current:
        lines.append(line(current))
    return lines


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


TOPICS = ("genoscrub-presets",)
"""Section 7 pages: no command behind them, so no OPTIONS or SYNOPSIS."""


def preset_sections() -> list[str]:
    """The PRESETS section of genoscrub-presets(7): each preset's loci and sources, from the shipped files."""
    from tools import presets

    kits = presets.read_kits()
    facts = presets.read_sources()
    out: list[str] = []
    for preset in (*presets.NUCLEAR_PRESETS, "mt-control"):
        path = ROOT / "filters" / "presets" / f"{preset}.GRCh38.bed"
        loci = [name for _, _, _, name in presets.read_bed_rows(path)]
        out += [".TP", line(f"**{preset}**")]
        if preset in presets.DESCRIPTIONS:
            shipped = set(loci)
            coordinates = sorted({fact.source for fact in facts if fact.locus in shipped})
            lists = sorted({f"{entry.kit} ({entry.source})" for entry in kits if entry.preset == preset})
            description = presets.DESCRIPTIONS[preset]
            out += wrapped(f"{description[0].upper()}{description[1:]}, {len(loci)} rows: {', '.join(loci)}.")
            out += [".br", *wrapped(f"Locus lists: {', '.join(lists)}.")]
            out += [".br", *wrapped(f"Coordinates: {', '.join(coordinates)}, and the UCSC hg19ToHg38 chain.")]
        else:
            out += wrapped(f"The rCRS mitochondrial control region, {len(loci)} rows: {', '.join(loci)}.")
            sources = "the rCRS (NC_012920.1); HVS-I and HVS-II as in Miller and Budowle 2001, HVS-III as in Lutz et al. 2000"
            out += [".br", *wrapped(f"Coordinates: {sources}.")]
    return out


def build_topic(topic: str, date: str) -> str:
    sections = parse_sections((ROOT / "man" / f"{topic}.md").read_text())
    name_line = " ".join(text.strip() for text in sections["NAME"] if text.strip())
    name, summary = name_line.split(" - ", 1)
    page = [
        f'.TH {topic.upper()} 7 {date} "genoscrub {__version__}" "genoscrub manual"',
        ".SH NAME",
        f"{escape(name)} \\- {line(summary)}",
        ".SH DESCRIPTION",
        *render_body(sections["DESCRIPTION"]),
        ".SH PRESETS",
        *preset_sections(),
    ]
    for section, body in sections.items():
        if section not in ("NAME", "DESCRIPTION"):
            page += [f".SH {section}", *render_body(body)]
    return "\n".join(page) + "\n"


def pages() -> list[str]:
    return sorted(path.stem for path in (ROOT / "man").glob("*.md") if path.stem not in TOPICS)


def without_date(page: str) -> str:
    return re.sub(r"^\.TH (\S+) ([17]) \S+", r".TH \1 \2 DATE", page, flags=re.M)


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
    for topic in TOPICS:
        target = ROOT / "man" / f"{topic}.7"
        page = build_topic(topic, date)
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
