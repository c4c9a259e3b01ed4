"""The encoded source documents (kb/documents/<id>.yaml): loading, integrity checks and display.

Each file holds one document's metadata and a flat list of provisions in document order.
A provision's eId follows Akoma Ntoso (contract section 2): `art_11`, `art_11__para_1`,
`art_11__para_1__item_3`, `art_41_2` (second article numbered 41), `sec_3`, `sec_3__subsec_2`,
`sec_3__subsec_2__point_1`, `sec_5__para_2`, `preamble`, `conclusions`, `att_1__part_2__item_5`,
`att_2__note_2`, and `para_2` for the second paragraph of a short notice printed without numbered
sections. Its parent is its eId minus the last `__` segment.

Public API: `Provision`, `Document`, `load_documents`, `get_document`, `check_documents`,
`format_provision`, `format_outline`, `chinese_numeral`, `expected_label`.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from pathlib import Path

from engine.errors import KnowledgeBaseError, NotFound, Problem
from engine.kb import validity
from engine.kb.schemas import schema_problems
from engine.paths import DOCUMENTS_DIR, relative
from engine.yamlio import load_yaml

SCHEMA_NAME = "document"

# --------------------------------------------------------------------------- numerals and labels

_DIGITS = "零一二三四五六七八九"


def chinese_numeral(n: int) -> str:
    """`11` -> `十一`, `25` -> `二十五`, `41` -> `四十一`, `100` -> `一百`, `105` -> `一百零五` (0 <= n < 1000)."""
    if not isinstance(n, int) or isinstance(n, bool) or n < 0 or n >= 1000:
        raise ValueError(f"chinese_numeral supports integers 0..999, not {n!r}")
    if n < 10:
        return _DIGITS[n]
    if n < 100:
        tens, ones = divmod(n, 10)
        return ("" if tens == 1 else _DIGITS[tens]) + "十" + (_DIGITS[ones] if ones else "")
    hundreds, rest = divmod(n, 100)
    head = _DIGITS[hundreds] + "百"
    if rest == 0:
        return head
    if rest < 10:
        return head + "零" + _DIGITS[rest]
    tens, ones = divmod(rest, 10)
    return head + _DIGITS[tens] + "十" + (_DIGITS[ones] if ones else "")


_TOP_RE = re.compile(
    r"^(?:art_(?P<art>\d+)(?:_(?P<dup>\d+))?|sec_(?P<sec>\d+)|(?P<pre>preamble)|(?P<con>conclusions)|att_(?P<att>\d+)"
    r"|para_(?P<para>\d+))$"
)
_SEG_RE = re.compile(r"^(?P<kind>para|item|subsec|point|part|note)_(?P<n>\d+)$")

# which child kinds each kind of provision may have
_CHILD_KINDS = {
    "art": {"para"},
    "art/para": {"item"},
    "sec": {"para", "subsec"},
    "sec/subsec": {"para", "point"},
    "preamble": {"para"},
    "conclusions": {"para"},
    "para": set(),
    "att": {"part", "item", "note"},
    "att/part": {"item", "note"},
}
# kinds whose text must occur inside the parent's text
CONTAINED_KINDS = {"para", "item", "point", "subsec"}


def parse_eid(eid: str) -> tuple[str, list[tuple[str, int]], tuple[int, int | None] | None] | None:
    """`art_11__para_1` -> ('art', [('para', 1)], (11, None)); None when the eId is malformed.

    The third element is the top-level number (and duplicate suffix) where there is one.
    """
    if not isinstance(eid, str):
        return None
    first, *rest = eid.split("__")
    m = _TOP_RE.match(first)
    if not m:
        return None
    if m.group("art"):
        top, num = "art", (int(m.group("art")), int(m.group("dup")) if m.group("dup") else None)
    elif m.group("sec"):
        top, num = "sec", (int(m.group("sec")), None)
    elif m.group("att"):
        top, num = "att", (int(m.group("att")), None)
    elif m.group("para"):
        top, num = "para", (int(m.group("para")), None)
    else:
        top, num = ("preamble" if m.group("pre") else "conclusions"), None
    segs = []
    for seg in rest:
        s = _SEG_RE.match(seg)
        if not s:
            return None
        segs.append((s.group("kind"), int(s.group("n"))))
    return top, segs, num


def expected_label(eid: str) -> tuple[str, ...] | str:
    """The label(s) an eId must carry, generated from its numbers; a message string when impossible.

    Articles: 第十一条 / 第十一条第一款 / 第十一条第一款第（三）项 (art_41_2 -> 第四十一条).
    Sections: 三、 / 三、（二） / 三、（二）一是 or 二、（二）1. / 五、第二段 / 二、（一）第二段.
    Preamble and conclusions: 前言 / 前言第一段, 结尾 / 结尾第一段.
    Attachments: 附件1 / 附件1第2部分 / 附件1第3项 / 附件1第2部分第3项 / 附件2注2.
    Paragraphs of a notice without sections: 第二段.
    """
    parsed = parse_eid(eid)
    if parsed is None:
        return f"malformed eId {eid!r}"
    top, segs, num = parsed
    n0 = num[0] if num else 0  # art, sec, att and para eIds always carry a number
    if top == "art":
        labels = [f"第{chinese_numeral(n0)}条"]
    elif top == "sec":
        labels = [f"{chinese_numeral(n0)}、"]
    elif top == "att":
        labels = [f"附件{n0}"]
    elif top == "para":
        labels = [f"第{chinese_numeral(n0)}段"]
    elif top == "preamble":
        labels = ["前言"]
    else:
        labels = ["结尾"]
    path = top
    for kind, n in segs:
        allowed = _CHILD_KINDS.get(path, set())
        if kind not in allowed:
            return f"a {kind} cannot be part of a {path.split('/')[-1]} (allowed: {', '.join(sorted(allowed)) or 'nothing'})"
        if n < 1:
            return f"{kind} numbers start at 1"
        if path == "art":
            suffixes = [f"第{chinese_numeral(n)}款"]
        elif path == "art/para":
            suffixes = [f"第（{chinese_numeral(n)}）项"]
        elif kind == "para":
            suffixes = [f"第{chinese_numeral(n)}段"]
        elif kind == "subsec":
            suffixes = [f"（{chinese_numeral(n)}）"]
        elif kind == "point":
            suffixes = [f"{chinese_numeral(n)}是", f"{n}."]
        elif kind == "part":
            suffixes = [f"第{n}部分"]
        elif kind == "item":
            suffixes = [f"第{n}项"]
        else:  # note
            suffixes = [f"注{n}"]
        labels = [base + s for base in labels for s in suffixes]
        path = f"{top}/{kind}"
    return tuple(labels)


def parent_eid(eid: str) -> str | None:
    """`art_11__para_1` -> `art_11`; None for a top-level eId."""
    return eid.rsplit("__", 1)[0] if "__" in eid else None


def _squash(text: str) -> str:
    """Text with all whitespace removed (for comparing texts whose line breaks differ)."""
    return re.sub(r"\s+", "", text or "")


# --------------------------------------------------------------------------- model


@dataclass(frozen=True)
class Provision:
    """One citable unit of a document: article, paragraph, item, section, point, attachment …"""

    eid: str
    label: str
    text: str
    heading: str | None = None
    chapter: str | None = None
    note: str | None = None
    parent: str | None = None
    children: tuple[str, ...] = ()

    @property
    def kind(self) -> str:
        """`art`, `sec`, `att`, `para`, `preamble`, `conclusions` for top-level provisions, else the last segment's kind."""
        if self.parent is None:
            return self.eid.split("_")[0] if self.eid.startswith(("art_", "sec_", "att_", "para_")) else self.eid
        return self.eid.rsplit("__", 1)[1].rsplit("_", 1)[0]

    def to_dict(self) -> dict:
        out = {"eid": self.eid, "label": self.label}
        for key in ("heading", "chapter", "note"):
            if getattr(self, key) is not None:
                out[key] = getattr(self, key)
        out["text"] = self.text
        return out


@dataclass(frozen=True)
class Document:
    """One source document with its provisions (ordered as in the source)."""

    id: str
    title: str
    issuer: tuple[str, ...]
    number: str | None
    jurisdiction: str
    kind: str
    source_file: str
    structure: str
    dates: dict
    repeals: tuple[dict, ...]
    provisions: dict[str, Provision] = field(default_factory=dict)
    partial: bool = False  # only part of the text could be sourced verbatim (partial_note says which)
    partial_note: str | None = None
    source: str | None = None  # where the text in kb/sources was taken from

    def get(self, eid: str) -> Provision:
        """The provision with this eId; NotFound lists the top-level eIds when there is none."""
        try:
            return self.provisions[eid]
        except KeyError:
            raise NotFound(f"provision of {self.id}", eid, [p.eid for p in self.top_level()]) from None

    def top_level(self) -> list[Provision]:
        """Articles / sections / preamble / conclusions / attachments, in document order."""
        return [p for p in self.provisions.values() if p.parent is None]

    def children(self, eid: str) -> list[Provision]:
        return [self.provisions[c] for c in self.get(eid).children]

    def status_on(self, as_of: dt.date | str) -> str:
        """in_force | not_yet_in_force | expired | uncertain on `as_of` (engine.kb.validity)."""
        if isinstance(as_of, str):
            as_of = dt.date.fromisoformat(as_of)
        return validity.status_on(self.dates, as_of)

    def to_dict(self) -> dict:
        return {
            "id": self.id,
            "title": self.title,
            "issuer": list(self.issuer),
            "number": self.number,
            "jurisdiction": self.jurisdiction,
            "kind": self.kind,
            "source_file": self.source_file,
            "structure": self.structure,
            "dates": self.dates,
            "repeals": [dict(r) for r in self.repeals],
            **({"partial": True, "partial_note": self.partial_note} if self.partial else {}),
            **({"source": self.source} if self.source else {}),
            "provisions": [p.to_dict() for p in self.provisions.values()],
        }


def _build(data: dict) -> Document:
    raw = data["provisions"]
    kids: dict[str, list[str]] = {p["eid"]: [] for p in raw}
    for p in raw:
        par = parent_eid(p["eid"])
        if par is not None:
            kids[par].append(p["eid"])
    provisions = {
        p["eid"]: Provision(
            eid=p["eid"],
            label=p["label"],
            text=p["text"],
            heading=p.get("heading"),
            chapter=p.get("chapter"),
            note=p.get("note"),
            parent=parent_eid(p["eid"]),
            children=tuple(kids[p["eid"]]),
        )
        for p in raw
    }
    return Document(
        id=data["id"],
        title=data["title"],
        issuer=tuple(data["issuer"]),
        number=data["number"],
        jurisdiction=data["jurisdiction"],
        kind=data["kind"],
        source_file=data["source_file"],
        structure=data["structure"],
        dates=data["dates"],
        repeals=tuple(data.get("repeals") or ()),
        provisions=provisions,
        partial=bool(data.get("partial", False)),
        partial_note=data.get("partial_note"),
        source=data.get("source"),
    )


# --------------------------------------------------------------------------- loading

_CACHE: dict[str, dict[str, Document]] = {}


def _files(directory: Path) -> list[Path]:
    return sorted(Path(directory).glob("*.yaml"))


def load_documents(directory: str | Path = DOCUMENTS_DIR, validate: bool = True) -> dict[str, Document]:
    """Every document in `directory` by id (cached per directory); KnowledgeBaseError if any is invalid.

    `validate=False` skips the schema and integrity checks, for a caller that knows these
    exact files were checked before (engine.kb.loader remembers that per knowledge-base digest).
    """
    key = str(Path(directory).resolve())
    if key not in _CACHE:
        problems = check_documents(directory) if validate else []
        if problems:
            raise KnowledgeBaseError(problems)
        docs = {}
        for path in _files(Path(directory)):
            doc = _build(load_yaml(path))
            docs[doc.id] = doc
        _CACHE[key] = docs
    return _CACHE[key]


def clear_cache() -> None:
    """Forget loaded documents (after the files changed)."""
    _CACHE.clear()


def get_document(document_id: str, directory: str | Path = DOCUMENTS_DIR) -> Document:
    """One document by id; NotFound lists the known ids."""
    docs = load_documents(directory)
    try:
        return docs[document_id]
    except KeyError:
        raise NotFound("document", document_id, sorted(docs)) from None


# --------------------------------------------------------------------------- checking


def _date_problems(dates: dict | None, file: str) -> list[Problem]:
    """Every dated value is a real date matching its precision; from >= published; until > from."""
    out: list[Problem] = []
    if not isinstance(dates, dict):
        return out
    bounds: dict[str, tuple[dt.date, dt.date]] = {}
    for key in ("published", "in_force_from", "in_force_until"):
        value = dates.get(key)
        if not isinstance(value, dict):
            continue
        text, precision = value.get("date"), value.get("precision")
        if text is None or precision == "unknown":
            continue
        try:
            lo, hi = validity.bounds(value)
            if precision == "day":
                dt.date.fromisoformat(str(text))
        except (ValueError, TypeError) as exc:
            out.append(Problem(file, f"dates.{key}.date", f"{text!r} is not a valid {precision} date ({exc})"))
            continue
        if lo is not None and hi is not None:
            bounds[key] = (lo, hi)
    pub, start, end = bounds.get("published"), bounds.get("in_force_from"), bounds.get("in_force_until")
    if pub and start and start[1] < pub[0]:
        out.append(Problem(file, "dates.in_force_from", f"in force from {start[1]} before it was published ({pub[0]})"))
    if start and end and end[1] <= start[0]:
        out.append(
            Problem(file, "dates.in_force_until", f"in force until {end[1]}, not after in force from {start[0]}")
        )
    return out


def _provision_problems(data: dict, file: str) -> list[Problem]:
    provisions = data.get("provisions")
    if not isinstance(provisions, list):
        return []
    out: list[Problem] = []
    seen: dict[str, int] = {}
    texts: dict[str, str] = {}
    # numbering: (parent, kind) -> list of numbers seen, in order
    numbering: dict[tuple[str | None, str], list[int]] = {}
    structure = data.get("structure")
    for i, p in enumerate(provisions):
        if not isinstance(p, dict):
            continue
        eid, label, text = p.get("eid"), p.get("label"), p.get("text")
        where = f"provisions.{i}"
        if not isinstance(eid, str):
            continue
        if eid in seen:
            out.append(Problem(file, f"{where}.eid", f"duplicate eId {eid} (first at provisions.{seen[eid]})"))
            continue
        parsed = parse_eid(eid)
        if parsed is None:
            out.append(Problem(file, f"{where}.eid", f"malformed eId {eid!r}"))
            seen[eid] = i
            continue
        top, segs, num = parsed
        # parent exists and precedes
        par = parent_eid(eid)
        if par is not None and par not in seen:
            later = any(isinstance(q, dict) and q.get("eid") == par for q in provisions[i + 1 :])
            why = "comes after it" if later else "does not exist"
            out.append(Problem(file, f"{where}.eid", f"parent {par} of {eid} {why}"))
        # top level kinds match the document's structure
        if par is None and top in ("art", "sec"):
            wanted = "art" if structure == "articles" else "sec" if structure == "sections" else None
            if wanted and top != wanted:
                out.append(
                    Problem(
                        file, f"{where}.eid", f"{eid}: a document with structure {structure} has no {top}_ provisions"
                    )
                )
        # numbering: 1, 2, 3 … within each parent and kind; art_N_2 only after art_N
        key: tuple[str | None, str]
        if par is None:
            key, n = (None, top), (num[0] if num else None)
            if top == "art" and num and num[1] is not None:
                if f"art_{num[0]}" not in seen:
                    out.append(
                        Problem(
                            file,
                            f"{where}.eid",
                            f"{eid} repeats article {num[0]}, but art_{num[0]} does not precede it",
                        )
                    )
                n = None
        else:
            kind, n = segs[-1]
            key = (par, kind)
        if n is not None:
            got = numbering.setdefault(key, [])
            expected_n = got[-1] + 1 if got else 1
            if n != expected_n:
                prefix = f"{par}__{key[1]}_" if par else f"{key[1]}_"
                out.append(Problem(file, f"{where}.eid", f"numbering: expected {prefix}{expected_n}, found {eid}"))
            got.append(n)
        # label generated from the eId
        exp = expected_label(eid)
        if isinstance(exp, str):
            out.append(Problem(file, f"{where}.eid", exp))
        elif isinstance(label, str) and label not in exp:
            out.append(
                Problem(file, f"{where}.label", f"label {label} does not match {eid} (expected {' or '.join(exp)})")
            )
        # text
        if not isinstance(text, str) or not text.strip():
            out.append(Problem(file, f"{where}.text", f"{eid} has empty text"))
        elif (
            par is not None
            and par in texts
            and segs[-1][0] in CONTAINED_KINDS
            and _squash(text) not in _squash(texts[par])
        ):
            out.append(Problem(file, f"{where}.text", f"text of {eid} does not occur in the text of its parent {par}"))
        seen[eid] = i
        texts[eid] = text if isinstance(text, str) else ""
    # repeals cite an existing provision
    for j, rep in enumerate(data.get("repeals") or []):
        if isinstance(rep, dict) and isinstance(rep.get("cited_in"), str) and rep["cited_in"] not in seen:
            out.append(Problem(file, f"repeals.{j}.cited_in", f"no provision {rep['cited_in']} in this document"))
    return out


def check_file(path: str | Path) -> tuple[list[Problem], dict | None]:
    """Problems of one document file, and its data when it could be parsed."""
    path = Path(path)
    file = relative(path)
    try:
        data = load_yaml(path)
    except Exception as exc:  # yaml.YAMLError, UnicodeDecodeError, OSError
        return [Problem(file, "(file)", f"cannot be read as YAML: {exc}")], None
    if not isinstance(data, dict):
        return [Problem(file, "(root)", "a document file must be a mapping")], None
    problems = list(schema_problems(SCHEMA_NAME, data, file))
    if data.get("id") is not None and data.get("id") != path.stem:
        problems.append(Problem(file, "id", f"id {data.get('id')!r} does not match the file name {path.name}"))
    problems += _date_problems(data.get("dates"), file)
    problems += _provision_problems(data, file)
    return problems, data


def check_documents(directory: str | Path = DOCUMENTS_DIR) -> list[Problem]:
    """Every problem in the document files of `directory`: schema, ids, eIds, labels, texts, dates."""
    directory = Path(directory)
    files = _files(directory)
    if not files:
        return [Problem(relative(directory), "(directory)", "no document files (*.yaml)")]
    problems: list[Problem] = []
    ids: dict[str, str] = {}
    for path in files:
        found, data = check_file(path)
        problems += found
        if data and isinstance(data.get("id"), str):
            if data["id"] in ids:
                problems.append(
                    Problem(relative(path), "id", f"document id {data['id']} also used in {ids[data['id']]}")
                )
            else:
                ids[data["id"]] = relative(path)
    return problems


# --------------------------------------------------------------------------- display


def _status_zh() -> dict[str, str]:
    from engine.kb.vocabulary import vocabulary

    return vocabulary().names("document_statuses")  # kb/vocabulary.yaml: the one source of these labels


def _today_in_china() -> dt.date:
    return dt.datetime.now(dt.timezone(dt.timedelta(hours=8))).date()


def _dated(value: dict | None) -> str:
    if not value:
        return "—"
    if value.get("precision") == "unknown" or not value.get("date"):
        return "不详"
    return str(value["date"])


def _head(p: Provision) -> str:
    return f"{p.label} {p.heading}" if p.heading else p.label


def _snippet(text: str, n: int) -> str:
    flat = re.sub(r"\s*\n\s*", " ", text).strip()
    return flat if len(flat) <= n else flat[:n] + "…"


def format_provision(doc: Document, eid: str) -> str:
    """Label (and heading), the full text, then the citable parts below it, indented, one line each."""
    p = doc.get(eid)
    lines = [_head(p)]
    if p.chapter:
        lines.append(f"（{p.chapter}）")
    if p.note:
        lines.append(f"［注］{p.note}")
    lines.append(p.text)

    def walk(e: str, depth: int) -> None:
        for c in doc.provisions[e].children:
            child = doc.provisions[c]
            lines.append(f"{'  ' * depth}{child.eid}  {_head(child)}  {_snippet(child.text, 40)}")
            walk(c, depth + 1)

    if p.children:
        lines.append("")
        walk(eid, 1)
    return "\n".join(lines)


def format_outline(doc: Document, as_of: dt.date | None = None) -> str:
    """Title, number, dates and status, then one line per article / section / attachment."""
    as_of = as_of or _today_in_china()
    status = doc.status_on(as_of)
    d = doc.dates
    lines = [
        doc.title,
        f"{doc.number or '（无文号）'} · {'、'.join(doc.issuer)} · {doc.id}",
        f"公布 {_dated(d.get('published'))}；施行 {_dated(d.get('in_force_from'))}；有效期至 {_dated(d.get('in_force_until'))}",
        f"状态（{as_of.isoformat()}）：{status} {_status_zh().get(status, '')}",
    ]
    if d.get("note"):
        lines.append(f"说明：{d['note']}")
    if doc.partial:
        lines.append(f"部分原文：{doc.partial_note}")
    if doc.source:
        lines.append(f"来源：{doc.source}")
    lines.append("")
    tops = doc.top_level()
    width = max((len(p.eid) for p in tops), default=0)
    for p in tops:
        lines.append(f"{p.eid.ljust(width)}  {p.label}  {p.heading or _snippet(p.text, 30)}")
    return "\n".join(lines)
