#!/bin/sh
# Every file in bin/ links here: run the command named like the link, from this checkout.
#
# Uses the checkout's .venv (made by `make`) when there is one, so bin/ can go on PATH without
# installing anything. A shell script, not a Python one: `#!/usr/bin/env python3` may start a
# version-manager shim and then a second interpreter, a few hundred ms per command on a pipe.
# The package is loaded from this checkout's filters/ under its import name, genoscrub
# (ARCHITECTURE.md, *Layout*), whatever else the interpreter has installed.
root=$(CDPATH= cd -- "$(dirname -- "$(readlink -f -- "$0")")/.." && pwd) || exit 2
python="$root/.venv/bin/python"
[ -x "$python" ] || python=python3
exec "$python" -c '
import importlib, importlib.util, sys
package, name = sys.argv[1], sys.argv[2]
del sys.argv[1:3]
sys.argv[0] = name
spec = importlib.util.spec_from_file_location("genoscrub", package + "/__init__.py", submodule_search_locations=[package])
genoscrub = importlib.util.module_from_spec(spec)
sys.modules["genoscrub"] = genoscrub
spec.loader.exec_module(genoscrub)
importlib.import_module("genoscrub." + name.replace("-", "_")).app(prog_name=name)
' "$root/filters" "$(basename -- "$0")" "$@"
