#!/usr/bin/env bash
# Write requirements.lock: the exact versions installed in .venv (the ones the tests passed with),
# every dependency of the project and of its `test` extra, each with the sha256 of every file PyPI
# has for that version, so that `pip install --require-hashes -r requirements.lock` (scripts/setup.sh)
# installs the same bytes anywhere. pyproject.toml keeps its ranges; this file pins within them.
#
#   bash scripts/lock.sh        # after changing pyproject.toml or upgrading a package in .venv,
#                               # once the tests pass; commit requirements.lock with the change
#
# Resolved by uv (`uv pip compile --universal`, one resolution for Python 3.11 and 3.12 and every
# platform, constrained to .venv's versions); uv is installed into a temporary folder at the
# version below, nothing is added to .venv.
set -euo pipefail

UV_VERSION=0.13.9
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
[ -x .venv/bin/python ] || { echo "lock: error: no .venv; run bash scripts/setup.sh first" >&2; exit 1; }

TMP="$(mktemp -d)"
trap 'rm -rf "$TMP"' EXIT
.venv/bin/python -m pip freeze --exclude-editable --disable-pip-version-check \
    | grep -viE '^(medtech-rules|pip|setuptools|wheel)==' >"$TMP/installed.txt"
python3 -m venv "$TMP/uv" && "$TMP/uv/bin/pip" install -q --disable-pip-version-check "uv==$UV_VERSION"
"$TMP/uv/bin/uv" pip compile pyproject.toml --extra test --universal --python-version 3.11 \
    --generate-hashes --no-emit-package medtech-rules --no-header --no-annotate \
    --constraint "$TMP/installed.txt" --output-file "$TMP/lock.txt" --quiet
{
    echo "# requirements.lock: written by scripts/lock.sh from the versions in .venv; do not edit by hand."
    echo "# Installed by scripts/setup.sh: pip install --require-hashes -r requirements.lock, then the project"
    echo "# itself with --no-deps. One resolution for Python 3.11 and 3.12 (pyproject.toml: >=3.11,<3.13)."
    cat "$TMP/lock.txt"
} >requirements.lock
# every package of .venv is in the lock (nothing installed by hand that the tests might rely on)
missing="$(cut -d= -f1 "$TMP/installed.txt" | tr 'A-Z_.' 'a-z--' | while read -r name; do
    grep -qiE "^${name}==" requirements.lock || echo "$name"; done)"
if [ -n "$missing" ]; then
    echo "lock: error: installed in .venv but not required by pyproject.toml: $missing" >&2
    echo "lock: (pip uninstall them from .venv, or add them to pyproject.toml, then run this again)" >&2
    exit 1
fi
echo "lock: wrote requirements.lock ($(grep -cE '^[a-z0-9]' requirements.lock) packages)"
