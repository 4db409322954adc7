#!/usr/bin/env bash
# Creates .venv and installs nnref with the extras a run needs. Sourced by site.sh and test.sh.
# Usage: source scripts/setup.sh [EXTRAS]   (EXTRAS defaults to "docs")
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
EXTRAS="${1:-docs}"
VENV="$ROOT/.venv"
if [ ! -x "$VENV/bin/python" ]; then
    python3 -m venv "$VENV"
fi
STAMP="$VENV/.installed-$EXTRAS"
if [ ! -f "$STAMP" ] || [ "$ROOT/pyproject.toml" -nt "$STAMP" ] || [ "$ROOT/constraints.txt" -nt "$STAMP" ]; then
    "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check --upgrade pip
    # constraints.txt pins every release: generated files and measured figures depend on them.
    "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check -c "$ROOT/constraints.txt" -e "$ROOT[$EXTRAS]"
    touch "$STAMP"
fi
# KaTeX for offline math comes from the npm registry at build time (never committed, never a CDN).
if [ ! -f "$ROOT/node_modules/katex/dist/katex.min.js" ]; then
    (cd "$ROOT" && npm install --silent --no-audit --no-fund >/dev/null)
fi
export PATH="$VENV/bin:$PATH"
