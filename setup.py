"""The wheel carries the data the engine reads (engine.paths): kb/, catalogs/, the pre-rendered
charts diagrams/*.svg and examples/ are copied into engine/_data/ of the build, while they stay at
the top level of the repository. Everything else is configured in pyproject.toml."""

from __future__ import annotations

import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

HERE = Path(__file__).resolve().parent
DATA = {"kb": "*", "catalogs": "*", "diagrams": "*.svg", "examples": "*"}  # folder -> the files carried


class BuildPyWithData(build_py):
    """build_py, then the data folders copied into <build>/engine/_data/ (not for editable installs,
    which read them from the checkout)."""

    def run(self) -> None:
        super().run()
        if self.editable_mode:
            return
        target = Path(self.build_lib) / "engine" / "_data"
        for folder, pattern in DATA.items():
            for src in sorted((HERE / folder).rglob(pattern)):
                if src.is_file() and "__pycache__" not in src.parts:
                    dst = target / src.relative_to(HERE)
                    dst.parent.mkdir(parents=True, exist_ok=True)
                    shutil.copyfile(src, dst)


setup(cmdclass={"build_py": BuildPyWithData})
