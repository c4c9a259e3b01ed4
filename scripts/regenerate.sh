#!/usr/bin/env bash
# Regenerate everything derived from kb/ and catalogs/, in the order they depend on each other:
#   kb/schema/{request,response,rules}.schema.json   medtech kb schemas (from kb/vocabulary.yaml)
#   docs/reference.zh.md                             scripts/gen_reference.py (schemas, vocabulary, documents)
#   diagrams/                                        medtech flowchart --all -o diagrams/ (rules, flowcharts.yaml)
#   docs/screenshots/                                scripts/screenshots.py, only with --screenshots
# Then `medtech kb check` (exit 1 on any problem it reports).
#
#   bash scripts/regenerate.sh                 # after any change to kb/ or catalogs/; commit what it rewrote
#   bash scripts/regenerate.sh --screenshots   # also the page's screenshots (needs chromium:
#                                              # bash scripts/setup.sh --browser); only when the page's
#                                              # wording or layout changed, since they differ by a few
#                                              # pixels from one machine to another
#
# Uses .venv (bash scripts/setup.sh). The tests that fail when a generated file is stale say to run this.
set -euo pipefail

SCREENSHOTS=0
for arg in "$@"; do
    case "$arg" in
        --screenshots) SCREENSHOTS=1 ;;
        -h|--help) sed -n '2,14p' "${BASH_SOURCE[0]}"; exit 0 ;;
        *) echo "regenerate: error: unknown option $arg (known: --screenshots)" >&2; exit 2 ;;
    esac
done

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
PY="$ROOT/.venv/bin/python"
MEDTECH="$ROOT/.venv/bin/medtech"
[ -x "$PY" ] && [ -x "$MEDTECH" ] || { echo "regenerate: error: no .venv; run bash scripts/setup.sh first" >&2; exit 1; }

say() { echo "regenerate: $*"; }

say "kb/schema (medtech kb schemas)"
"$MEDTECH" kb schemas
say "docs/reference.zh.md (scripts/gen_reference.py)"
"$PY" scripts/gen_reference.py
say "diagrams/ (medtech flowchart --all -o diagrams/)"
"$MEDTECH" flowchart --all -o diagrams/
if [ "$SCREENSHOTS" -eq 1 ]; then
    [ -x "${MEDTECH_CHROMIUM:-/usr/bin/chromium}" ] \
        || { echo "regenerate: error: --screenshots needs chromium (bash scripts/setup.sh --browser)" >&2; exit 1; }
    say "docs/screenshots (scripts/screenshots.py)"
    "$PY" scripts/screenshots.py
fi
say "checking (medtech kb check)"
"$MEDTECH" kb check
