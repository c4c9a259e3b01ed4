"""Turn engine messages meant for people into plain Chinese: no rule ids, document ids, raw eIds or
catalogue ids. Warning messages and missing-fact reasons are written by the engine for people but name
things by id (`hn-2018-11 att_1__item_5`, `（nhc.prohibited-example）`); here those ids become the short
names and labels people cite (《湖南通知》附件1第5项). A message that still contains Latin words after that
is not shown: callers fall back to the vocabulary's Chinese label for its code.
"""

from __future__ import annotations

import re
from functools import lru_cache

from engine.kb.vocabulary import vocabulary

LATIN_WORD = re.compile(r"[A-Za-z][A-Za-z_.\-]*[A-Za-z]")
_EID = r"[a-z]+_\d+[a-z0-9_]*"
_B, _E = r"(?<![A-Za-z0-9_\-])", r"(?![A-Za-z0-9_\-])"  # id boundaries (\b fails next to Chinese characters)


@lru_cache(maxsize=1)
def _ids() -> tuple[dict, dict, set]:
    """(document id -> short name, catalogue id -> name, rule ids)."""
    short = dict(vocabulary().names("document_short_titles"))
    catalogs, rules = {}, set()
    try:
        from engine.catalog import load_catalogs

        catalogs = {k: v.name for k, v in load_catalogs().versions.items()}
    except Exception:  # without catalogue names, messages naming catalogues fall back to their code's label
        pass
    try:
        from engine.kb.loader import knowledge_base

        kb = knowledge_base()
        rules = set(kb.rule_by_id)
        for doc_id, doc in kb.documents.items():
            short.setdefault(doc_id, f"《{doc.title}》")
    except Exception:  # idem for rule ids
        pass
    return short, catalogs, rules


def _label(doc: str, eid: str) -> str | None:
    try:
        from engine.kb.loader import knowledge_base

        p = knowledge_base().provision(doc, eid)
    except Exception:  # unknown document or provision: leave the id, the Latin check drops the message
        return None
    return getattr(p, "label", None) or (p.get("label") if isinstance(p, dict) else None)


def humanize(text: str) -> str:
    """`text` with ids replaced by Chinese names (see the module docstring)."""
    if not text:
        return ""
    short, catalogs, rules = _ids()
    # （rule.id） after a quoted rule summary: the summary already says which rule
    text = re.sub(r"[（(]([a-z]+\.[a-z0-9\-]+)[）)]", lambda m: "" if m.group(1) in rules else m.group(0), text)
    # full title followed by its id in brackets: keep the title only
    text = re.sub(
        r"[（(]([a-z]{2,3}-\d{4}(?:-[a-z0-9]+)?)[）)]", lambda m: "" if m.group(1) in short else m.group(0), text
    )

    def doc_eid(m: re.Match) -> str:
        doc, eid = m.group(1), m.group(2)
        lab = _label(doc, eid) if doc in short else None
        return f"{short[doc]}{lab}" if lab else m.group(0)

    text = re.sub(rf"{_B}([a-z]{{2,3}}-\d{{4}}(?:-[a-z0-9]+)?)[ :]({_EID})", doc_eid, text)
    text = re.sub(rf"{_B}([a-z]{{2,3}}-\d{{4}}(?:-[a-z0-9]+)?){_E}", lambda m: short.get(m.group(1), m.group(0)), text)
    text = re.sub(rf"{_B}([a-z]+-\d{{4}}){_E}", lambda m: catalogs.get(m.group(1), m.group(0)), text)
    return text


def is_chinese(text: str) -> bool:
    """True when no Latin word is left (catalogue codes such as S19 or G05 are fine)."""
    return not any(not re.fullmatch(r"[A-Z]{1,3}\d*", w) for w in LATIN_WORD.findall(text or ""))


def chinese_or(text: str, fallback: str) -> str:
    """The humanized text when it is Chinese, otherwise `fallback`."""
    out = humanize(text)
    return out if out and is_chinese(out) else fallback


_SOURCE_ZH = {"alias": "别名", "name": "名称"}


def humanize_listing(text: str) -> str:
    """Catalogue and technology-search text for people: documents, provisions and catalogues by their
    Chinese names (humanize), and the taxonomy's `(alias of cabg)` notes in Chinese."""
    text = re.sub(r" ?\((alias|name) of [a-z0-9\-]+\)", lambda m: f"（{_SOURCE_ZH[m.group(1)]}）", text)
    text = re.sub(r"（[a-z]+-\d{4}，", "（", text)  # 目录名（national-2022，…）: the name already says which
    text = re.sub(r"（[a-z]+-\d{4}）", "", text)
    return "\n".join(humanize(line) for line in text.split("\n"))
