"""make bench: run every command's benchmark (tools/bench_*.py) and print their tables.

    python tools/bench.py [--scale small|full] [--runs N]

Each figure is a ratio to the baseline pipeline measured side by side in the same run
(tools/benchlib.py); absolute times on a shared machine mean little.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scale", choices=("small", "full"), default="full")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("only", nargs="*", help="benchmark modules to run (default: all)")
    options = parser.parse_args()
    failed = 0
    for script in sorted((ROOT / "tools").glob("bench_*.py")):
        if options.only and script.stem not in options.only:
            continue
        print(f"\n### {script.stem}", flush=True)
        command = [sys.executable, "-m", f"tools.{script.stem}", "--scale", options.scale, "--runs", str(options.runs)]
        failed += subprocess.run(command, cwd=ROOT).returncode != 0
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
