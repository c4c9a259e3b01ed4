"""Every error the project raises, in one place.

Each subclasses a built-in so callers can catch it generically, and carries the
file and location it concerns so a message can point a person at the problem.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True, order=True)
class Problem:
    """One problem found in a knowledge-base file: where it is and what is wrong."""

    file: str
    location: str
    message: str

    def __str__(self) -> str:
        where = f"{self.file}: {self.location}" if self.location else self.file
        return f"{where}: {self.message}"


class KnowledgeBaseError(ValueError):
    """The knowledge base (kb/ or catalogs/) is invalid; `.problems` lists every problem."""

    def __init__(self, problems: list[Problem]):
        self.problems = list(problems)
        head = "; ".join(str(p) for p in self.problems[:5])
        more = f" (and {len(self.problems) - 5} more)" if len(self.problems) > 5 else ""
        super().__init__(f"{len(self.problems)} problem(s) in the knowledge base: {head}{more}")


class InvalidRequest(ValueError):
    """A decision request does not follow the contract; `.errors` is a list of {path, message}."""

    def __init__(self, errors: list[dict]):
        self.errors = [{"path": e["path"], "message": e["message"]} for e in errors]
        super().__init__("; ".join(f"{e['path'] or '(request)'}: {e['message']}" for e in self.errors))


class NotFound(LookupError):
    """A document, provision, jurisdiction or technology that does not exist; `.available` lists what does."""

    def __init__(self, what: str, key: str, available: list[str] | None = None):
        self.what, self.key, self.available = what, key, list(available or [])
        hint = f" (available: {', '.join(self.available)})" if self.available else ""
        super().__init__(f"unknown {what} {key!r}{hint}")


class MalformedInput(ValueError):
    """Text that is not one JSON or YAML value a request may be written as (the message says why and where)."""


class InputTooLarge(MalformedInput):
    """More input than a request may take (1 MiB)."""


class BatchInputError(ValueError):
    """The input or output file of a batch cannot be used (the message names the file and why)."""


class BatchInterrupted(KeyboardInterrupt):
    """A batch stopped by a signal (SIGTERM, SIGINT) before every line was answered.

    `.answered` lines are in `.partial` (None when writing to standard output); `--resume` continues."""

    def __init__(self, signum: int, answered: int, partial: str | None):
        self.signum, self.answered, self.partial = signum, answered, partial
        where = f"; they are in {partial}: run the same command with --resume to finish" if partial else ""
        super().__init__(f"interrupted by signal {signum} after {answered} line(s) answered{where}")


class LedgerError(ValueError):
    """A ledger (台账) file that cannot be read as one: not a workbook or CSV, no header, no technology column
    (the message, in Chinese, says why)."""


class GraphvizMissing(RuntimeError):
    """Graphviz's `dot` program, which lays out and draws the flowcharts, is not on PATH."""

    def __init__(self) -> None:
        super().__init__(
            "未找到 Graphviz 的 dot 程序，无法生成 SVG、PNG、PDF 或幻灯片。请安装 Graphviz"
            "（Debian/Ubuntu：apt-get install graphviz；CentOS/麒麟等：yum install graphviz；Windows：安装 Graphviz "
            "并把其 bin 目录加入 PATH），或改用 --format dot 或 --format mermaid（不需要 Graphviz）"
            "（Graphviz's `dot` program is not installed or not on PATH）"
        )


class UnreadableYaml(ValueError):
    """A YAML file that is missing, not UTF-8 or not YAML; `.path` names it, `.reason` says why
    (engine.checks reports it as a knowledge-base problem)."""

    def __init__(self, path: str | Path, reason: str):
        self.path, self.reason = Path(path), reason
        super().__init__(f"{path}: cannot be read as YAML: {reason}")
