"""The layout ARCHITECTURE.md describes, held by tests: commands are wiring and import no other
command; the audit shares no logic with the scrubbers; comments point inside the repository."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "filters"


def command_modules() -> set[str]:
    """The modules behind the console scripts (``genoscrub.<module>:app``)."""
    section = (ROOT / "pyproject.toml").read_text().split("[project.scripts]", 1)[1].split("\n[", 1)[0]
    return set(re.findall(r'^\S+ = "genoscrub\.(\w+):app"$', section, re.MULTILINE))  # tomllib is 3.11+


def imported_modules(path: Path) -> set[str]:
    """The package's modules a file imports, however it spells the import."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.ImportFrom):
            if node.level == 1 or node.module == "genoscrub":  # from . import x / from genoscrub import x
                found.update(alias.name for alias in node.names)
                if node.module and node.level == 1:
                    found.add(node.module.split(".")[0])
            elif node.module and node.module.startswith("genoscrub."):
                found.add(node.module.split(".")[1])
        elif isinstance(node, ast.Import):
            found.update(alias.name.split(".")[1] for alias in node.names if alias.name.startswith("genoscrub."))
    return found


COMMANDS = sorted(command_modules())


def test_every_console_script_has_its_module() -> None:
    assert len(COMMANDS) == 8
    for module in COMMANDS:
        assert (PACKAGE / f"{module}.py").is_file()


@pytest.mark.parametrize("module", COMMANDS)
def test_a_command_imports_no_other_command(module: str) -> None:
    others = set(COMMANDS) - {module}
    assert not imported_modules(PACKAGE / f"{module}.py") & others


def test_no_shared_module_imports_a_command() -> None:
    for path in sorted(PACKAGE.glob("*.py")):
        if path.stem not in COMMANDS:
            assert not imported_modules(path) & set(COMMANDS), path.name


def test_the_audit_imports_nothing_from_the_scrubbers() -> None:
    """The audit's modules may use the format plumbing and the contig map, never the scrubbers'
    decisions (header models, allowlists, revert, rarity): a shared bug would pass its own check."""
    allowed = {"cli", "report", "streams", "outputs", "alignments", "contigs", "regions", "scan", "one_by_one", "heap", "vcf_header"}
    allowed.add("signals")  # how a stop unwinds a process: no decision of what is safe
    audit = sorted(path for path in PACKAGE.glob("*.py") if path.stem.startswith("audit_") or path.stem == "genoscrub_audit")
    assert audit
    for path in audit:
        used = {name for name in imported_modules(path) if not name.startswith("audit_") and (PACKAGE / f"{name}.py").exists()}
        assert used <= allowed, (path.name, used - allowed)
        # from the VCF header's module, only the format's ID grammar the record rules share with
        # vcf-scrub-header (ARCHITECTURE.md, *The audit*), never its header model
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.ImportFrom) and node.module == "genoscrub.vcf_header":
                assert {alias.name for alias in node.names} <= {"FIELD_ID", "FILTER_ID", "ALT_ID"}, path.name


OUTSIDE = re.compile(r"DESIGN\.md|STYLE\.md|\bissue #?\d+|\btask #?\d+", re.IGNORECASE)


def test_comments_point_only_inside_the_repository() -> None:
    folders = ["filters", "tests", "tools", "workflow", "man"]
    suffixes = {".py", ".c", ".pyi", ".smk", ".md", ".yaml"}
    offending = []
    for folder in folders:
        for path in sorted((ROOT / folder).rglob("*")):
            if path.is_file() and (path.suffix in suffixes or path.name == "Snakefile") and path != Path(__file__):
                lines = enumerate(path.read_text(errors="replace").splitlines(), 1)
                offending += [f"{path.relative_to(ROOT)}:{number}" for number, line in lines if OUTSIDE.search(line)]
    assert not offending


def test_the_import_reader_sees_every_spelling(tmp_path: Path) -> None:
    """The checks above are only as good as this reader: every way of importing a module counts."""
    source = tmp_path / "x.py"
    source.write_text(
        "from . import a\nfrom .b import c\nfrom genoscrub import d\nfrom genoscrub.e import f\nimport genoscrub.g\nimport os\n"
    )
    assert imported_modules(source) == {"a", "b", "c", "d", "e", "g"}
