"""vcf-scrub-header: not built yet (see its issue); exits 2 so no pipeline mistakes it for a filter."""

from __future__ import annotations

import typer

from filters.cli import make_app, not_implemented

COMMAND = "vcf-scrub-header"
app = make_app()


@app.command(help="Not implemented yet.", context_settings={"ignore_unknown_options": True, "allow_extra_args": True})
def main(ctx: typer.Context) -> None:
    not_implemented(COMMAND)


if __name__ == "__main__":
    app()
