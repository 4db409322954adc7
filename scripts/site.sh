#!/usr/bin/env bash
# The main job: set up, regenerate the derivations, verify them, build the docs site.
# Pass --serve to serve it on http://127.0.0.1:8000 afterwards.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
source "$ROOT/scripts/setup.sh" docs
cd "$ROOT"
nnref derive
nnref check --docs docs   # the verification tables on the reference pages come from this run
mkdocs build --strict
echo "Site built in $ROOT/site (open site/index.html, or run: bash scripts/site.sh --serve)"
if [ "${1:-}" = "--serve" ]; then
    mkdocs serve --dev-addr 127.0.0.1:8000
fi
