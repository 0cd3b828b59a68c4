#!/usr/bin/env python3
"""Every file in bin/ links here: run the command named like the link, from this checkout.

Uses the checkout's .venv (made by `make`) when there is one, so bin/ can go on PATH
without installing anything.
"""
import os
import sys
from pathlib import Path

root = Path(__file__).resolve().parents[1]
venv = root / ".venv"
if (venv / "bin" / "python").exists() and Path(sys.prefix).resolve() != venv.resolve():
    os.execv(str(venv / "bin" / "python"), [str(venv / "bin" / "python"), sys.argv[0], *sys.argv[1:]])
sys.path.insert(0, str(root))
command = Path(sys.argv[0]).name
module = __import__(f"filters.{command.replace('-', '_')}", fromlist=["app"])
module.app(prog_name=command)
