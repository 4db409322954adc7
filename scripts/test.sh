#!/usr/bin/env bash
# Sets up everything the tests need (Python packages, Debian's chromium for the browser test,
# KaTeX from npm) and runs the whole test suite. Extra arguments go to pytest.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
if ! command -v chromium >/dev/null 2>&1; then
    SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq chromium >/dev/null
fi
source "$ROOT/scripts/setup.sh" "docs,test"
cd "$ROOT"
python -m pytest "$@"
