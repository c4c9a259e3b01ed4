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
    """The whole repository: engine/, tests/, scripts/, benchmarks/ (what [tool.ruff] excludes aside)."""
    proc = _run("ruff", "check", "--no-cache", ".")
    assert proc.returncode == 0, f"ruff check .:\n{proc.stdout}{proc.stderr}"


def test_mypy():
    proc = _run("mypy", "engine")
    assert proc.returncode == 0, f"mypy engine:\n{proc.stdout}{proc.stderr}"


def test_ruff_format():
    """The whole repository, formatted as `ruff format .` writes it (line length 120)."""
    proc = _run("ruff", "format", "--check", "--no-cache", ".")
    assert proc.returncode == 0, f"ruff format --check . (run `.venv/bin/ruff format .`):\n{proc.stdout}{proc.stderr}"


def test_tools_are_pinned_by_the_lock():
    """ruff and mypy run at the versions requirements.lock pins (scripts/setup.sh installs it), so a
    new release of either cannot turn CI red on unchanged code."""
    from importlib.metadata import version

    lock = (ROOT / "requirements.lock").read_text(encoding="utf-8")
    for tool in ("ruff", "mypy"):
        assert f"\n{tool}=={version(tool)} " in lock, (
            f"{tool} {version(tool)} is not the version requirements.lock pins"
        )


def test_every_dependency_is_locked():
    """Each dependency of pyproject.toml (and of its test extra) has its pinned version in requirements.lock
    (scripts/setup.sh installs only the lock, then the project with --no-deps): a new one needs `bash scripts/lock.sh`."""
    import re
    import tomllib

    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    wanted = [*project["dependencies"], *project["optional-dependencies"]["test"]]
    locked = set(
        re.findall(r"^([a-z0-9][a-z0-9._-]*)==", (ROOT / "requirements.lock").read_text(encoding="utf-8"), re.M)
    )

    def name(requirement: str) -> str:
        return re.split(r"[\[<>=!~ ;]", requirement, maxsplit=1)[0].lower().replace("_", "-").replace(".", "-")

    missing = [r for r in wanted if name(r) not in locked]
    assert not missing, f"not in requirements.lock: {missing}; run bash scripts/lock.sh"
