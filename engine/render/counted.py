"""How the facts a person gave about a technique counted in the answer: for a technique in no
catalogue, the answer turns on what the person says about it (伦理风险, 未获批产品, 禁止类情形,
本机构首次), and the page shows each answer beside the conclusions the rules drew from it.

`how_counted(response, request, paths)` -> [{path, question, answer, effects: [{text, cites}]}], one
per request field in `paths` (e.g. `technology.major_ethical_risk`), in that order. An effect is a
rule of the response's `trace` whose facts include the field (`technology.prohibited_grounds` is
stored as `technology.ground.<ground>` and `technology.any_prohibited_ground`), with the rule's
summary and its provisions. Labels from kb/vocabulary.yaml; nothing here is legal content.
"""

from __future__ import annotations

from engine.kb.vocabulary import vocabulary


def _fact_matches(path: str, fact: str) -> bool:
    if path == "technology.prohibited_grounds":
        return fact.startswith("technology.ground.") or fact == "technology.any_prohibited_ground"
    return fact == path


def _answer_text(path: str, value) -> str:
    """是 / 否 / 未回答; a yes/no fact left out counts as 否 unless the vocabulary says it is then unknown."""
    if value is None and path not in (vocabulary().raw.get("unknown_unless_given") or []):
        value = False
    if path == "technology.prohibited_grounds":
        names = vocabulary().names("prohibited_grounds")
        return "、".join(names.get(g, "所选情形") for g in value or []) or "无"
    if value is True:
        return "是"
    if value is False:
        return "否"
    return "未回答"


def _rule_summary(rule_id: str) -> str:
    try:
        from engine.kb.loader import knowledge_base

        rule = knowledge_base().rule_by_id.get(rule_id)
    except Exception:  # a courtesy line: without the knowledge base the provisions still say it
        return ""
    return (rule.spec.get("summary") or "") if rule is not None else ""


def how_counted(response: dict, request: dict | None, paths: list[str]) -> list[dict]:
    """Each of `paths` with the person's answer and the rules it brought into the answer (module docstring)."""
    v = vocabulary()
    questions = v.raw.get("questions") or {}
    fields = v.raw.get("request_fields") or {}
    short = v.names("document_short_titles")
    tech = (request or {}).get("technology") or {}
    out = []
    for path in paths:
        key = path.split(".", 1)[1]
        effects = []
        seen = set()
        for t in response.get("trace") or []:
            rule = t.get("rule") or ""
            if rule in seen or not any(_fact_matches(path, f) for f in t.get("facts") or {}):
                continue
            seen.add(rule)
            cites = [
                f"{short.get(c.get('document'), '《未知文件》')}{c.get('label') or ''}"
                for c in t.get("citations") or []
            ]
            effects.append(
                {"text": _rule_summary(rule) or "据此适用相关规定", "cites": "；".join(dict.fromkeys(cites))}
            )
        out.append(
            {
                "path": path,
                "question": fields.get(path) or questions.get(path) or path,
                "answer": _answer_text(path, tech.get(key)),
                "effects": effects,
            }
        )
    return out
