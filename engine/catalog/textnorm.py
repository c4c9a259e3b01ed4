"""Normalising technique names and catalogue codes for matching.

Three levels, each a function of the previous one:

- `normalize(s)`: NFKC (full-width letters, digits and brackets become half-width), every
  bracket unified to `()`, whitespace removed, Latin letters upper-cased. Meaning is unchanged.
- `compact(s)`: `normalize` minus punctuation (、，。·-/… and the bracket characters themselves,
  their content kept). "体外膜肺氧合（ECMO）技术" -> "体外膜肺氧合ECMO技术".
- `match_key(s)`: `compact` with trailing 技术/手术/治疗/疗法/诊疗/术 stripped repeatedly
  ("冠心病介入治疗技术" -> "冠心病介入"), never below two characters.

`variants(s)` gives the compact forms a name is indexed under (with and without its
parenthesised part and its surgery-grade qualifier), `strip_chain(s)` the successive suffix
strippings used to look a query up, `bigrams(s)` the character bigrams for fuzzy matching,
and `code_key(code)` a catalogue code in canonical form (`S01` and `S1` are the same code).
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

_BRACKETS = str.maketrans(
    {
        "【": "(",
        "】": ")",
        "〔": "(",
        "〕": ")",
        "［": "(",
        "］": ")",
        "[": "(",
        "]": ")",
        "｛": "(",
        "｝": ")",
        "{": "(",
        "}": ")",
        "〈": "(",
        "〉": ")",
    }
)
_DASHES = str.maketrans({c: "-" for c in "‐‑‒–—―－─"})
_WS = re.compile(r"\s+", re.UNICODE)
_ASCII_LOWER = re.compile(r"[a-z]+")
# punctuation removed by compact(); letters, digits, CJK and Greek are kept
_PUNCT = re.compile(r"[()、，,。.·・•\-_/\\:：;；!！?？'\"“”‘’《》<>〈〉「」『』…~～+*#&|]")
_PAREN = re.compile(r"\([^()]*\)")
# suffixes stripped by match_key(), longest first
SUFFIXES = ("技术", "手术", "治疗", "疗法", "诊疗", "术")
# surgery-grade qualifiers printed with catalogue names (after normalize())
_GRADE_PREFIX = re.compile(r"^(三级及以上|三、四级|三四级|四级|三级)")
_GRADE_SUFFIX = re.compile(r"\((三、四级手术|三、四级|四级手术|四级)\)$")
_CODE = re.compile(r"^([A-Z]{1,3})0*([0-9]{1,3})$")


@lru_cache(maxsize=65536)
def normalize(s: str) -> str:
    """NFKC, unified brackets and dashes, no whitespace, upper-case Latin letters."""
    if not s:
        return ""
    t = unicodedata.normalize("NFKC", s).translate(_BRACKETS).translate(_DASHES)
    t = _WS.sub("", t)
    return _ASCII_LOWER.sub(lambda m: m.group(0).upper(), t)


@lru_cache(maxsize=65536)
def compact(s: str) -> str:
    """`normalize(s)` without punctuation and bracket characters (bracketed content kept)."""
    return _PUNCT.sub("", normalize(s))


def strip_suffix_once(key: str) -> str | None:
    """`key` minus one trailing suffix of SUFFIXES, or None when there is none to strip."""
    for suf in SUFFIXES:
        if key.endswith(suf) and len(key) - len(suf) >= 2:
            return key[: -len(suf)]
    return None


@lru_cache(maxsize=65536)
def strip_chain(s: str) -> tuple[str, ...]:
    """compact(s), then each successive suffix stripping: ('冠心病介入治疗技术', '冠心病介入治疗', '冠心病介入')."""
    key: str | None = compact(s)
    out = [key] if key else []
    while key:
        key = strip_suffix_once(key)
        if key:
            out.append(key)
    return tuple(out)


@lru_cache(maxsize=65536)
def match_key(s: str) -> str:
    """The loosest form of a name: compact, every trailing 技术/手术/治疗/疗法/诊疗/术 stripped."""
    chain = strip_chain(s)
    return chain[-1] if chain else ""


def without_parenthetical(s: str) -> str:
    """The normalised name without any parenthesised part: '血液净化技术(含血液透析…)' -> '血液净化技术'."""
    t = normalize(s)
    prev = None
    while prev != t:
        prev, t = t, _PAREN.sub("", t)
    return t


def without_grade(s: str) -> str:
    """The normalised name without a printed surgery-grade qualifier ('三级及以上', '四级', '(三、四级手术)')."""
    t = normalize(s)
    t = _GRADE_SUFFIX.sub("", t)
    return _GRADE_PREFIX.sub("", t)


def variants(s: str) -> set[str]:
    """The compact forms a name is indexed under: as written, without its parenthetical, without its grade qualifier."""
    out = set()
    for form in (s, without_parenthetical(s), without_grade(s), without_parenthetical(without_grade(s))):
        c = compact(form)
        if c:
            out.add(c)
    return out


def bigrams(s: str) -> frozenset[str]:
    """Character bigrams of an (already compacted) key; the single character for a one-character key."""
    if len(s) < 2:
        return frozenset([s]) if s else frozenset()
    return frozenset(s[i : i + 2] for i in range(len(s) - 1))


def dice(a: frozenset, b: frozenset) -> float:
    """Sørensen-Dice similarity of two bigram sets."""
    if not a or not b:
        return 0.0
    return 2 * len(a & b) / (len(a) + len(b))


@lru_cache(maxsize=4096)
def code_key(code: str) -> str | None:
    """A catalogue code in canonical form ('s01' -> 'S1', 'ＣＱ０７' -> 'CQ7'); None when not code-shaped."""
    m = _CODE.match(normalize(code or ""))
    if not m:
        return None
    return f"{m.group(1)}{int(m.group(2))}"


def looks_like_code(text: str) -> bool:
    """True for 'S19', 'CQ07', 'hunan:S19', 'national-2022:G05' (a possibly qualified catalogue code)."""
    t = normalize(text or "")
    if ":" in t:
        prefix, _, rest = t.rpartition(":")
        return bool(prefix) and code_key(rest) is not None
    return code_key(t) is not None
