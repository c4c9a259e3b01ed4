"""The lint, format and type checks configured in pyproject.toml ([tool.ruff], [tool.mypy]) pass.

They run as subprocesses of this virtual environment's interpreter, so `pytest` (and with it
`.ci/run` and the README's test command) fails with their findings when a change breaks them.
"""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def _run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", *args], cwd=ROOT, capture_output=True, text=True, timeout=600)


@pytest.mark.parametrize("tool", ["ruff", "mypy"])
def test_tool_installed(tool):
    """Both come with the test extras (`pip install -e .[test]`, done by scripts/setup.sh)."""
    proc = _run(tool, "--version")
    assert proc.returncode == 0, f"{tool} is not installed in {sys.prefix}: {proc.stderr}"


def test_ruff_lint():
    proc = _run("ruff", "check", "--no-cache", "engine", "tests")
    assert proc.returncode == 0, f"ruff check engine tests:\n{proc.stdout}{proc.stderr}"


def test_mypy():
    proc = _run("mypy", "engine")
    assert proc.returncode == 0, f"mypy engine:\n{proc.stdout}{proc.stderr}"


def test_ruff_format():
    proc = _run("ruff", "format", "--check", "--no-cache", "engine")
    assert proc.returncode == 0, f"ruff format --check engine (run `ruff format engine`):\n{proc.stdout}{proc.stderr}"
