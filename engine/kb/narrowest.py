"""Warnings for `medtech kb check`: a rule that cites a provision with children when exactly one of
those children carries what the rule says (an item rather than its paragraph).

What a rule says is its summary and its deadline's text; one child carries it when it shares a run
of characters with it (punctuation aside) at least MIN_RUN longer than any sibling's, and longer than
the provision's own lead-in's (its text without its children's): words common to all the items
(本机构医疗技术临床应用管理) do not single one out. A rule that means the whole provision cites it as it is
and may ignore the warning; a rule that cites one of the children already is not warned about, nor
one citing a titled whole (an attachment, a form) whose text is not the sum of its parts.
"""

from __future__ import annotations

import re
from difflib import SequenceMatcher

from engine.errors import Problem
from engine.kb.rules import split_ref
from engine.paths import relative

MIN_RUN = 6
_NOISE = re.compile(r"[\s，。；：、（）()《》“”\"'【】\[\]0-9一二三四五六七八九十]+")


def _plain(text: str) -> str:
    return _NOISE.sub("", text)


def _run(a: str, b: str) -> int:
    """The length of the longest run of characters a and b share."""
    if not a or not b:
        return 0
    m = SequenceMatcher(None, a, b, autojunk=False).find_longest_match(0, len(a), 0, len(b))
    return m.size


def _lead_in(doc, p) -> str:
    text = p.text
    for c in p.children:
        text = text.replace(doc.provisions[c].text, "")
    return text


def narrower_citations(rule_files: dict, documents: dict) -> list[Problem]:
    """One warning per (rule, cited provision) where exactly one child of the provision would do."""
    warnings = []
    for path, data in rule_files.items():
        if not isinstance(data, dict):
            continue
        for i, rule in enumerate(data.get("rules") or []):
            says = _plain((rule.get("summary") or "") + ((rule.get("deadline") or {}).get("text") or ""))
            refs = [split_ref(c) for c in rule.get("citations") or []]
            for k, (d, eid) in enumerate(refs):
                doc = documents.get(d)
                if doc is None:
                    continue
                p = doc.provisions.get(eid)
                if p is None or not p.children:
                    continue
                if not all(doc.provisions[c].text in p.text for c in p.children):
                    continue  # a titled whole (an attachment, a form) rather than its parts' sum
                if any(dd == d and e.startswith(eid + "__") for dd, e in refs):
                    continue
                runs = sorted(((_run(says, _plain(doc.provisions[c].text)), c) for c in p.children), reverse=True)
                best, second = runs[0][0], (runs[1][0] if len(runs) > 1 else 0)
                if best < MIN_RUN or best < second + MIN_RUN or _run(says, _plain(_lead_in(doc, p))) >= best:
                    continue
                child = doc.provisions[runs[0][1]]
                warnings.append(
                    Problem(
                        relative(path),
                        f"rules.{i}.citations.{k}",
                        f"{rule.get('id')} cites {d}:{eid} ({p.label}); only {child.eid} ({child.label}) carries "
                        "what it says: cite that instead, unless the whole provision is meant",
                    )
                )
    return warnings
