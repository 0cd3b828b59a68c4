#!/bin/sh
# Every file in bin/ links here: run the command named like the link, from this checkout.
#
# Uses the checkout's .venv (made by `make`) when there is one, so bin/ can go on PATH without
# installing anything. A shell script, not a Python one: `#!/usr/bin/env python3` may start a
# version-manager shim and then a second interpreter, a few hundred ms per command on a pipe.
root=$(CDPATH= cd -- "$(dirname -- "$(readlink -f -- "$0")")/.." && pwd) || exit 2
python="$root/.venv/bin/python"
[ -x "$python" ] || python=python3
PYTHONPATH="$root${PYTHONPATH:+:$PYTHONPATH}" exec "$python" -c '
import sys
name = sys.argv.pop(1)
sys.argv[0] = name
module = __import__("filters." + name.replace("-", "_"), fromlist=["app"])
module.app(prog_name=name)
' "$(basename -- "$0")" "$@"
