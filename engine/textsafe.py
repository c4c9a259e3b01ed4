"""User text treated as data: which characters a request may hold, and how each export neutralises
what its format would interpret.

A request refuses C0 and C1 control characters (a tab aside, where a field allows it) and Unicode
noncharacters in every string (`UNSAFE_TEXT`, `unsafe_char`; the request schema carries the same
rule as a `pattern`). Whatever reaches an export anyway (a caller of the Python API handing a
response in, a knowledge-base text) goes through the helper of its format:

- `printable`: control characters and noncharacters become a space (docx, xlsx, ics, DOT all
  refuse or misread them);
- `spreadsheet_text`: a cell beginning with `= + - @`, a tab or a carriage return gets a leading
  apostrophe (OWASP's rule against formula injection), for CSV and xlsx alike;
- `download_name`: a file name without bidirectional controls (U+202E would show `exe.txt` as
  `txt.exe`), path separators or control characters.
"""

from __future__ import annotations

import re
from typing import Any

# noncharacters: U+FDD0..U+FDEF and the last two code points of every plane
_NONCHARS = "\ufdd0-\ufdef" + "".join(chr(p * 0x10000 + 0xFFFE) + chr(p * 0x10000 + 0xFFFF) for p in range(17))
_CONTROLS = "\x00-\x08\x0a-\x1f\x7f-\x9f"  # C0 (tab aside), DEL, C1
UNSAFE_TEXT = re.compile(f"[{_CONTROLS}{_NONCHARS}]")
UNSAFE_OR_TAB = re.compile(f"[\t{_CONTROLS}{_NONCHARS}]")

# the pattern the request schema gives every free-text string (ECMA-262 and Python `re` alike; the
# supplementary planes' noncharacters are refused by engine.requestio, which every request passes first)
TEXT_PATTERN = "^[^\\u0000-\\u0008\\u000A-\\u001F\\u007F-\\u009F\\uFDD0-\\uFDEF\\uFFFE\\uFFFF]*$"
LINE_PATTERN = "^[^\\u0000-\\u001F\\u007F-\\u009F\\uFDD0-\\uFDEF\\uFFFE\\uFFFF]*$"  # no tab either

BIDI_CONTROLS = "\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
_NAME_DROP = re.compile(f'[{BIDI_CONTROLS}\t{_CONTROLS}{_NONCHARS}\\\\/:*?"<>|\\s]')

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def describe(ch: str) -> str:
    """`U+000A` and what kind of character it is, for a message."""
    code = ord(ch)
    if ch == "\t":
        return "a tab (U+0009)"
    kind = "a noncharacter" if 0xFDD0 <= code <= 0xFDEF or code & 0xFFFE == 0xFFFE else "a control character"
    return f"{kind} (U+{code:04X})"


def unsafe_char(text: str, *, tab: bool = True) -> str | None:
    """The first character of `text` a request may not hold (None when there is none); `tab=False`
    refuses a tab too."""
    match = (UNSAFE_TEXT if tab else UNSAFE_OR_TAB).search(text)
    return match.group() if match else None


def escape_unsafe(text: str) -> str:
    """`text` with every control character and noncharacter written as `\\uXXXX` (for a path in a message)."""
    return UNSAFE_OR_TAB.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


_UNSAFE_BUT_LINES = re.compile(f"[\x00-\x08\x0b-\x1f\x7f-\x9f{_NONCHARS}]")


def printable(text: Any, *, lines: bool = False) -> Any:
    """`text` with control characters (tab and line breaks included, unless `lines` keeps tabs and
    line feeds) and noncharacters replaced by a space; anything not a string is returned as it is."""
    if not isinstance(text, str):
        return text
    return (_UNSAFE_BUT_LINES if lines else UNSAFE_OR_TAB).sub(" ", text)


def printable_tree(value: Any, *, lines: bool = False) -> Any:
    """`printable` applied to every string (keys too) of a JSON-like value; other values unchanged."""
    if isinstance(value, str):
        return printable(value, lines=lines)
    if isinstance(value, dict):
        return {printable(k, lines=lines): printable_tree(v, lines=lines) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [printable_tree(v, lines=lines) for v in value]
    return value


def spreadsheet_text(value: Any) -> Any:
    """A spreadsheet cell that no spreadsheet reads as a formula: text beginning with `= + - @`, a
    tab or a carriage return gets a leading apostrophe (OWASP); numbers, dates and other text unchanged."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def download_name(name: str, fallback: str = "download") -> str:
    """A file name safe to offer for download: no bidirectional controls, control characters,
    noncharacters, white space or characters that file systems or headers treat specially."""
    return _NAME_DROP.sub("", name) or fallback
