"""What every command group shares: the two failure kinds, argparse value types, reading a
request file, and the back-end choice."""

from __future__ import annotations

import argparse
import datetime as dt
import importlib
import os
import sys

PROG = "medtech"


class UsageError(Exception):
    """Bad input from the user: printed as one line, exit 2."""


class Failure(Exception):
    """A command that ran but failed (not found, check failed): printed as one line, exit 1."""


def _vocabulary():
    from engine.kb.vocabulary import vocabulary

    return vocabulary()


def _jurisdiction(value: str) -> str:
    """argparse type: a jurisdiction id or Chinese name (kb/vocabulary.yaml) -> its id."""
    from engine.errors import NotFound

    try:
        return _vocabulary().jurisdiction(value).id
    except NotFound:
        ids = ", ".join(j.id for j in _vocabulary().jurisdictions)
        raise argparse.ArgumentTypeError(
            f"{value!r} is not a supported jurisdiction (supported: {ids}, or their Chinese names)"
        ) from None


def _jurisdiction_or_all(value: str) -> str:
    """argparse type for the catalogue commands: a jurisdiction, or `all` for every catalogue."""
    return "all" if value.strip().lower() == "all" else _jurisdiction(value)


def _grade(value: str) -> int:
    if value not in ("1", "2", "3", "4"):
        raise argparse.ArgumentTypeError(f"{value!r} is outside 1 to 4")
    return int(value)


def _date(value: str) -> dt.date:
    """argparse type: an ISO date that exists (2025-02-30 is refused), inside the supported dates."""
    from engine.inference.request import parse_date

    try:
        return parse_date(value)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _positive(value: str) -> int:
    try:
        n = int(value)
    except ValueError:
        n = 0
    if n < 1:
        raise argparse.ArgumentTypeError(f"{value!r} is not a positive whole number")
    return n


def _today() -> dt.date:
    from engine.inference.request import today_in_china

    return today_in_china()


def _module(name: str, feature: str):
    """Import engine.<name>, or fail with a clear message naming the feature."""
    try:
        return importlib.import_module(f"engine.{name}")
    except ImportError as exc:
        raise Failure(f"{feature} is not available: cannot import engine.{name} ({exc})") from None


def _out(text: str) -> None:
    sys.stdout.write(text if text.endswith("\n") else text + "\n")


def _read_request(source: str):
    """One request from a file or standard input, JSON or YAML; UsageError names the file.

    At most 1 MiB is read (as the HTTP service accepts); YAML anchors and aliases, JSON nested
    too deeply and other unusable text are refused here (engine.requestio)."""
    from engine.errors import InputTooLarge, MalformedInput
    from engine.render.errors import file_error_text, input_error_text
    from engine.requestio import load_request_text, read_capped

    name = "<stdin>" if source == "-" else source
    try:
        if source == "-":
            raw = read_capped(sys.stdin.buffer, name)
        else:
            with open(source, "rb") as fh:
                raw = read_capped(fh, name)
    except InputTooLarge as exc:
        raise UsageError(f"{name}: {input_error_text(str(exc))}") from None
    except OSError as exc:
        raise UsageError(f"{name}: {file_error_text(exc)}") from None
    try:
        return load_request_text(raw)
    except MalformedInput as exc:
        raise UsageError(f"{name}: {input_error_text(str(exc))}") from None


def _use_backend(args) -> None:
    """Choose the rule engine for this process and the worker processes it starts."""
    if getattr(args, "backend", None):
        from engine.inference.decision import default_backend

        os.environ["MEDTECH_BACKEND"] = args.backend
        default_backend.cache_clear()  # read once per process: read it again


BACKEND_HELP = (
    "rule engine: durable (durable_rules, the default) or pure (the pure-Python evaluator of the "
    "same compiled rules; identical answers, proven by the differential tests; with the memo of rule "
    "evaluation both cost about the same)"
)


def _backends() -> tuple[str, ...]:
    from engine.inference.decision import BACKENDS

    return BACKENDS


def _kb_sound() -> bool:
    """False (the problems printed in Chinese on stderr) when the knowledge base fails `medtech kb check`."""
    from engine.checks import ensure_sound, problems_zh
    from engine.errors import KnowledgeBaseError

    try:
        ensure_sound()
    except KnowledgeBaseError as exc:
        print(problems_zh(exc.problems), file=sys.stderr)
        return False
    return True
