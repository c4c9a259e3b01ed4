#!/usr/bin/env bash
# Set up the project: a virtual environment at .venv/ (Python 3.11 or 3.12) with the project
# installed in it (console script .venv/bin/medtech), plus Graphviz and a CJK font for flowcharts.
#
# Idempotent and quick when everything is in place (prints one line). Works as root on a fresh
# Debian machine that reaches only package registries; uses sudo for apt-get when not root.
# The dependencies come from requirements.lock (exact versions, sha256 hashes: bash scripts/lock.sh
# writes it), `pip install --require-hashes -r requirements.lock`, then the project itself with
# `pip install --no-deps -e .`; both run only when pyproject.toml or requirements.lock changed since
# the last install (their sha256 is kept in .venv/.medtech-installed). The lock is one resolution
# for Python 3.11 and 3.12 (uv --universal): on either, the same versions install, from the 3.11 or
# 3.12 wheels whose hashes it lists (durable-rules from its sdist, hence gcc and Python.h).
#
# --browser also installs what the browser tests and scripts/screenshots.py need: Debian's chromium
# (driven by Playwright through executable_path; Playwright's own browser download is never used)
# and poppler-utils (pdftoppm). The tests run it themselves when chromium is missing.
set -euo pipefail

BROWSER=0
for arg in "$@"; do
    case "$arg" in
        --browser) BROWSER=1 ;;
        -h|--help) sed -n '2,16p' "${BASH_SOURCE[0]}"; exit 0 ;;
        *) echo "setup: error: unknown option $arg (known: --browser)" >&2; exit 2 ;;
    esac
done

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
VENV="$ROOT/.venv"
STAMP="$VENV/.medtech-installed"
LOG="$VENV/.medtech-install.log"

say() { echo "setup: $*"; }
die() { echo "setup: error: $*" >&2; exit 1; }

# ------------------------------------------------------------------ apt (only when needed)
APT_UPDATED=0
apt_install() {
    local sudo=""
    if [ "$(id -u)" -ne 0 ]; then
        command -v sudo >/dev/null 2>&1 || die "need root (or sudo) to install: $*"
        sudo="sudo"
    fi
    command -v apt-get >/dev/null 2>&1 || die "apt-get not found; install these yourself: $*"
    if [ "$APT_UPDATED" -eq 0 ]; then
        say "apt-get update"
        $sudo env DEBIAN_FRONTEND=noninteractive apt-get update -qq >/dev/null \
            || die "apt-get update failed"
        APT_UPDATED=1
    fi
    say "apt-get install $*"
    $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >/dev/null \
        || die "apt-get install $* failed"
}

# ------------------------------------------------------------------ interpreter
version_ok() {  # $1: a python executable; true when it runs and is 3.11 or 3.12
    "$1" -c 'import sys; sys.exit(0 if sys.version_info[:2] in ((3, 11), (3, 12)) else 1)' >/dev/null 2>&1
}

find_python() {
    local c root
    for c in python3.12 python3.11; do
        if command -v "$c" >/dev/null 2>&1 && version_ok "$(command -v "$c")"; then
            # resolve pyenv shims to the real interpreter
            "$c" -c 'import sys; print(sys.executable)'
            return 0
        fi
    done
    root=""
    if command -v pyenv >/dev/null 2>&1; then root="$(pyenv root 2>/dev/null || true)"; fi
    [ -n "$root" ] || root="${PYENV_ROOT:-$HOME/.pyenv}"
    for c in "$root"/versions/3.12*/bin/python "$root"/versions/3.11*/bin/python; do
        if [ -x "$c" ] && version_ok "$c"; then echo "$c"; return 0; fi
    done
    if [ -x /usr/bin/python3 ] && version_ok /usr/bin/python3; then echo /usr/bin/python3; return 0; fi
    return 1
}

has_headers() {  # $1: python; true when Python.h exists for it
    [ "$("$1" -c "import sysconfig,os; print(os.path.exists(sysconfig.get_paths()['include']+'/Python.h'))" 2>/dev/null)" = "True" ]
}

# ------------------------------------------------------------------ the virtual environment
venv_ok() { [ -x "$VENV/bin/python" ] && version_ok "$VENV/bin/python"; }

if ! venv_ok; then
    PY="$(find_python || true)"
    if [ -z "$PY" ]; then
        apt_install python3 python3-venv python3-dev
        version_ok /usr/bin/python3 || die "/usr/bin/python3 is $(/usr/bin/python3 -V 2>&1); need Python 3.11 or 3.12"
        PY=/usr/bin/python3
    fi
    if ! "$PY" -c 'import ensurepip, venv' >/dev/null 2>&1; then
        [ "$PY" = /usr/bin/python3 ] || die "$PY cannot create virtual environments (no ensurepip)"
        apt_install python3-venv
    fi
    if [ -e "$VENV" ]; then say "recreating .venv ($("$VENV/bin/python" -V 2>&1 || echo 'broken') is not Python 3.11/3.12)"; fi
    say "creating .venv with $("$PY" -V 2>&1) ($PY)"
    "$PY" -m venv --clear "$VENV" || die "could not create $VENV with $PY"
    rm -f "$STAMP"
fi

# ------------------------------------------------------------------ installing the project
WANT="$(cat pyproject.toml requirements.lock | sha256sum | cut -d' ' -f1)"
HAVE="$(cat "$STAMP" 2>/dev/null || true)"
NEEDED=()
if [ "$WANT" != "$HAVE" ] || [ ! -x "$VENV/bin/medtech" ]; then
    # durable-rules compiles C code at install time: it needs gcc and Python.h
    command -v gcc >/dev/null 2>&1 || NEEDED+=(build-essential)
    if ! has_headers "$VENV/bin/python"; then
        BASE="$("$VENV/bin/python" -c 'import sys; print(sys.base_prefix)')"
        if [ "$BASE" = /usr ]; then
            NEEDED+=("python3-dev")
        else
            die "Python.h is missing for the interpreter in $BASE; install its development headers"
        fi
    fi
fi
command -v dot >/dev/null 2>&1 || NEEDED+=(graphviz)
have_cjk_font() {  # (no `fc-list | grep -q`: with pipefail, grep quitting early fails the pipe)
    local fonts=""
    if command -v fc-list >/dev/null 2>&1; then fonts="$(fc-list 2>/dev/null || true)"; fi
    grep -qiE 'wqy|noto.*cjk' <<<"$fonts" && return 0
    fonts="$(find /usr/share/fonts /usr/local/share/fonts "$HOME/.fonts" "$HOME/.local/share/fonts" \
        -type f 2>/dev/null || true)"
    grep -qiE 'wqy|noto.*cjk' <<<"$fonts"
}
have_cjk_font || NEEDED+=(fonts-wqy-microhei fontconfig)
if [ "${#NEEDED[@]}" -gt 0 ]; then
    apt_install "${NEEDED[@]}"
    command -v dot >/dev/null 2>&1 || die "graphviz was installed but \`dot\` is still not on PATH"
fi

if [ "$WANT" != "$HAVE" ] || [ ! -x "$VENV/bin/medtech" ]; then
    say "installing the locked dependencies and the project into .venv (log: .venv/$(basename "$LOG"))"
    PIP=("$VENV/bin/python" -m pip install --disable-pip-version-check -q)
    if ! "${PIP[@]}" --require-hashes -r requirements.lock >"$LOG" 2>&1; then
        tail -n 40 "$LOG" >&2
        die "pip install --require-hashes -r requirements.lock failed (full log: $LOG)"
    fi
    if ! "${PIP[@]}" --no-deps -e . >>"$LOG" 2>&1; then
        tail -n 40 "$LOG" >&2
        die "pip install --no-deps -e . failed (full log: $LOG)"
    fi
    # a dependency added to pyproject.toml but not yet locked shows here
    if ! "$VENV/bin/python" -m pip check --disable-pip-version-check >>"$LOG" 2>&1; then
        tail -n 5 "$LOG" >&2
        die "requirements.lock does not satisfy pyproject.toml: install the missing package into .venv, run the tests, then bash scripts/lock.sh"
    fi
    echo "$WANT" >"$STAMP"
    [ -x "$VENV/bin/medtech" ] || die "installed, but .venv/bin/medtech is missing"
fi

if [ "$BROWSER" -eq 1 ]; then
    BROWSER_NEEDED=()
    [ -x /usr/bin/chromium ] || BROWSER_NEEDED+=(chromium)
    command -v pdftoppm >/dev/null 2>&1 || BROWSER_NEEDED+=(poppler-utils)
    if [ "${#BROWSER_NEEDED[@]}" -gt 0 ]; then apt_install "${BROWSER_NEEDED[@]}"; fi
    [ -x /usr/bin/chromium ] || die "chromium was installed but /usr/bin/chromium is missing"
    say "browser: $(/usr/bin/chromium --version 2>/dev/null | head -n 1), pdftoppm present"
fi

say "ready: .venv ($("$VENV/bin/python" -V 2>&1)), medtech-rules installed, graphviz and CJK font present"
