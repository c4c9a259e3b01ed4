"""Finding provisions: by their text (substring search over every document) and by their
Chinese label (第十一条第一款, 二、（二）).

Chinese needs no word segmentation for substring search. Texts and queries are compared with
whitespace removed (the seeds break lines inside sentences), Latin letters case-folded and
ASCII parentheses read as full-width ones. A query of several words (separated by spaces)
matches a provision that contains every word.

A provision's text contains its paragraphs' and items' texts, so one hit would show at every
level. Results are therefore one per top-level provision (article, section, attachment), with
`matches`: the most specific provisions inside it that contain a word, each with its eId and
label. Ranking: occurrences of the whole query as one phrase, then occurrences of all words,
then the order of documents and provisions.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from engine.errors import NotFound
from engine.kb.documents import Document, load_documents

MAX_QUERY = 200
SNIPPET_RADIUS = 30
_PARENS = str.maketrans({"(": "（", ")": "）"})


def fold(text: str) -> str:
    """Text as compared by the search: no whitespace, case-folded, full-width parentheses."""
    return re.sub(r"\s+", "", text or "").casefold().translate(_PARENS)


def _flat(text: str) -> str:
    return re.sub(r"\s+", " ", text or "").strip()


@dataclass
class Hit:
    """One top-level provision that matches, with the specific provisions inside it that do."""

    document: str
    eid: str
    label: str
    heading: str | None
    phrase_hits: int
    hits: int
    snippet: str
    matches: list[dict] = field(default_factory=list)
    order: tuple[int, int] = (0, 0)

    def to_dict(self) -> dict:
        out: dict[str, Any] = {"document": self.document, "eid": self.eid, "label": self.label}
        if self.heading:
            out["heading"] = self.heading
        out.update(
            {"hits": self.hits, "phrase_hits": self.phrase_hits, "snippet": self.snippet, "matches": self.matches}
        )
        return out


def query_terms(text: str) -> list[str]:
    """The words of a query (folded, duplicates dropped); ValueError when there is none or it is too long."""
    if text is None or not text.strip():
        raise ValueError("the search text is empty")
    if len(text) > MAX_QUERY:
        raise ValueError(f"the search text is longer than {MAX_QUERY} characters")
    terms: list[str] = []
    for word in text.split():
        w = fold(word)
        if w and w not in terms:
            terms.append(w)
    return terms


def _snippet(text: str, terms: list[str], phrase: str) -> str:
    """About SNIPPET_RADIUS characters either side of the first occurrence (phrase first, else a word)."""
    flat = _flat(text)
    low = flat.casefold().translate(_PARENS)
    at, length = -1, 0
    for needle in [phrase, *terms]:
        # find the needle in the flattened text, tolerating the spaces the flattening kept
        pattern = r"\s*".join(re.escape(ch) for ch in needle)
        m = re.search(pattern, low)
        if m:
            at, length = m.start(), m.end() - m.start()
            break
    if at < 0:
        return flat[: 2 * SNIPPET_RADIUS] + ("…" if len(flat) > 2 * SNIPPET_RADIUS else "")
    start, end = max(0, at - SNIPPET_RADIUS), min(len(flat), at + length + SNIPPET_RADIUS)
    return ("…" if start > 0 else "") + flat[start:end] + ("…" if end < len(flat) else "")


def _effective(doc: Document, eid: str, cache: dict[str, str]) -> str:
    """The folded text of a provision with the texts of its parts that it does not already contain
    (an attachment's own text is often only its title)."""
    if eid not in cache:
        p = doc.provisions[eid]
        text = fold("\n".join(filter(None, [p.heading, p.text])))
        for child in p.children:
            if fold(doc.provisions[child].text) not in text:
                text += _effective(doc, child, cache)
        cache[eid] = text
    return cache[eid]


_FOLDED: dict[int, tuple[Document, dict[str, str]]] = {}


def _folded(doc: Document) -> dict[str, str]:
    """The cache of folded effective texts of a loaded document (kept while that document object lives)."""
    hit = _FOLDED.get(id(doc))
    if hit is None or hit[0] is not doc:
        hit = _FOLDED[id(doc)] = (doc, {})
    return hit[1]


def _deepest(doc: Document, eid: str, terms: list[str], cache: dict[str, str]) -> list[str]:
    """The most specific provisions under (and including) `eid` whose text holds a word."""
    out: list[str] = []
    for child in doc.provisions[eid].children:
        if any(t in _effective(doc, child, cache) for t in terms):
            out.extend(_deepest(doc, child, terms, cache))
    if not out:
        out = [eid]
    return out


def document_order() -> list[str]:
    """Every document id, the national measures first, then the provinces in vocabulary order."""
    from engine.kb.vocabulary import vocabulary

    out: list[str] = []
    for j in vocabulary().jurisdictions:
        out += [d for d in j.documents if d not in out]
    return out + sorted(d for d in load_documents() if d not in out)


def search(text: str, document_ids: list[str] | None = None, limit: int | None = None) -> list[Hit]:
    """Top-level provisions of the documents (all, or `document_ids`) containing every word of `text`, best first."""
    terms = query_terms(text)
    phrase = "".join(terms)
    docs = load_documents()
    order = document_order() if document_ids is None else document_ids
    hits: list[Hit] = []
    for d_index, doc_id in enumerate(order):
        doc = docs[doc_id]
        cache = _folded(doc)
        for p_index, top in enumerate(doc.top_level()):
            body = _effective(doc, top.eid, cache)
            if not all(t in body for t in terms):
                continue
            deepest = _deepest(doc, top.eid, terms, cache)
            own = top.text if any(t in fold(top.text) for t in terms) else doc.provisions[deepest[0]].text
            hits.append(
                Hit(
                    document=doc.id,
                    eid=top.eid,
                    label=top.label,
                    heading=top.heading,
                    phrase_hits=body.count(phrase),
                    hits=sum(body.count(t) for t in terms),
                    snippet=_snippet(own, terms, phrase),
                    matches=[{"eid": e, "label": doc.provisions[e].label} for e in deepest],
                    order=(d_index, p_index),
                )
            )
    hits.sort(key=lambda h: (-h.phrase_hits, -h.hits, h.order))
    return hits[:limit] if limit is not None else hits


def format_search(text: str, hits: list[Hit], total: int | None = None) -> str:
    """The results for a person: one block per provision, the words marked 【】."""
    terms = query_terms(text)
    docs = load_documents()
    total = len(hits) if total is None else total
    if not hits:
        from engine.kb.vocabulary import vocabulary

        short = vocabulary().names("document_short_titles")
        searched = "、".join(short.get(d, d) for d in document_order())
        return f"未找到包含“{text}”的条款（已检索：{searched}）。"
    lines = [f"“{text}”：{total} 条条款命中" + (f"（显示前 {len(hits)} 条）" if total > len(hits) else "")]
    for n, h in enumerate(hits, 1):
        title = docs[h.document].title
        head = f"{h.label} {h.heading}" if h.heading else h.label
        lines.append("")
        lines.append(f"{n}. {h.document} {h.eid}  《{title}》{head}  （{h.hits} 处）")
        snippet = h.snippet
        for t in sorted(terms, key=len, reverse=True):
            snippet = re.sub(re.escape(t), lambda m: f"【{m.group(0)}】", snippet, flags=re.IGNORECASE)
        lines.append(f"   {snippet}")
        specific = [m for m in h.matches if m["eid"] != h.eid]
        if specific:
            lines.append("   见：" + "；".join(f"{m['label']}（{m['eid']}）" for m in specific))
    return "\n".join(lines)


# --------------------------------------------------------------------------- labels


def provision_by_ref(doc: Document, ref: str) -> str:
    """The eId a reference denotes: an eId as is, or a Chinese label (第十一条第一款, 二、（二）).

    NotFound (listing the top-level provisions) when nothing has that eId or label; ValueError
    when a label names several provisions (their eIds listed)."""
    if ref in doc.provisions:
        return ref
    key = fold(ref)
    found = [p.eid for p in doc.provisions.values() if fold(p.label) == key]
    if len(found) == 1:
        return found[0]
    if len(found) > 1:
        raise ValueError(f"{ref} names {len(found)} provisions of {doc.id}: {', '.join(found)}; give the eId")
    raise NotFound(f"provision of {doc.id}", ref, [p.eid for p in doc.top_level()])
