"""The CLI as a real process, for the tests that need one: `medtech` runs a command to the end."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def medtech(
    *args: str, stdin: str | None = None, env: dict | None = None, timeout: float = 300
) -> subprocess.CompletedProcess:
    """`python -m engine.cli ARGS` from the repository root, its output read as UTF-8 (MEDTECH_DEBUG unset,
    so errors come without a traceback)."""
    full_env = {**os.environ, "PYTHONIOENCODING": "utf-8", **(env or {})}
    full_env.pop("MEDTECH_DEBUG", None)
    return subprocess.run(
        [sys.executable, "-m", "engine.cli", *args],
        input=stdin,
        capture_output=True,
        text=True,
        encoding="utf-8",
        cwd=ROOT,
        env=full_env,
        timeout=timeout,
    )
