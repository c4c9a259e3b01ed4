"""What every command group shares: the two failure kinds, argparse value types, reading a
request file, and the back-end choice."""
from __future__ import annotations

import argparse
import datetime as dt
import importlib
import json
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
    """argparse type: an ISO date that exists (2025-02-30 is refused)."""
    try:
        if len(value) != 10:
            raise ValueError
        return dt.date.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not a valid date (expected YYYY-MM-DD, a day that exists)") from None


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
    """One request from a file or standard input, JSON or YAML; UsageError names the file."""
    from engine.yamlio import load_yaml_text
    name = "<stdin>" if source == "-" else source
    try:
        if source == "-":
            raw = sys.stdin.buffer.read()
        else:
            with open(source, "rb") as fh:
                raw = fh.read()
        text = raw.decode("utf-8-sig")
    except FileNotFoundError:
        raise UsageError(f"{name}: no such file") from None
    except IsADirectoryError:
        raise UsageError(f"{name}: is a directory, not a request file") from None
    except OSError as exc:
        raise UsageError(f"{name}: cannot read: {exc.strerror or exc}") from None
    except UnicodeDecodeError as exc:
        raise UsageError(f"{name}: not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    if not text.strip():
        raise UsageError(f"{name}: empty input: expected one request (JSON or YAML)")
    if text.lstrip()[:1] in "{[":
        try:
            return json.loads(text)
        except json.JSONDecodeError as exc:
            json_error = f"{name}: malformed JSON: {exc.msg} (line {exc.lineno}, column {exc.colno})"
        try:  # YAML flow style such as {institution: {jurisdiction: hunan}}
            return load_yaml_text(text)
        except Exception:
            raise UsageError(json_error) from None
    try:
        return load_yaml_text(text)
    except Exception as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" (line {mark.line + 1}, column {mark.column + 1})" if mark else ""
        problem = getattr(exc, "problem", None) or type(exc).__name__
        raise UsageError(f"{name}: malformed YAML: {problem}{where}") from None


def _use_backend(args) -> None:
    """Choose the rule engine for this process and the worker processes it starts."""
    if getattr(args, "backend", None):
        os.environ["MEDTECH_BACKEND"] = args.backend


BACKEND_HELP = ("rule engine: durable (durable_rules, the default) or pure (the pure-Python evaluator of the "
                "same compiled rules; identical answers, proven by the differential tests, about twice as fast)")


def _backends() -> tuple[str, ...]:
    from engine.inference.decision import BACKENDS
    return BACKENDS
