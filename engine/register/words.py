"""The register's words (kb/register.yaml): a rule's condition read as its trigger, a deadline as a rule,
a duty's origin. Wording only; what the duties are comes from kb/rules/."""

from __future__ import annotations

from functools import lru_cache

from engine.kb.vocabulary import vocabulary
from engine.paths import KB_DIR
from engine.yamlio import load_yaml

REGISTER_FILE = KB_DIR / "register.yaml"


@lru_cache(maxsize=1)
def words() -> dict:
    """kb/register.yaml, parsed once per process."""
    return load_yaml(REGISTER_FILE)


def fact_name(fact: str) -> str:
    """The Chinese name of a fact of the rules' conditions."""
    v = vocabulary()
    if fact.startswith("events."):
        return v.names("event_types").get(fact[len("events.") :], fact)
    return words()["facts"].get(fact) or v.names("request_fields").get(fact) or fact


def value_name(fact: str, value) -> str:
    """The Chinese name of a value a condition compares a fact with."""
    v = vocabulary()
    if fact == "class":
        return v.names("technology_classes").get(value, str(value))
    if fact == "institution.category":
        return v.names("institution_categories").get(value, str(value))
    named = words()["values"].get(fact) or {}
    return str(named.get(value, value))


def date_name(ref, kb) -> str:
    """A date in a condition or deadline: a day, or a document's date (`{document, date}`) with the day when known."""
    if isinstance(ref, str):
        return ref
    w = words()
    short = vocabulary().names("document_short_titles").get(ref["document"], ref["document"])
    what = w["document_dates"].get(ref["date"], ref["date"])
    dated = kb.documents[ref["document"]].dates.get(ref["date"]) or {}
    day = dated.get("date") if dated.get("precision") == "day" else None
    if day:
        return f"{short}{what}（{day}）"
    known = f"，{dated['date']}年" if dated.get("date") else ""
    return f"{short}{what}（{w['unknown_date']}{known}）"


def _leaf(spec: dict, kb) -> str:
    w = words()
    fact = spec["fact"]
    ((op, value),) = [(k, v) for k, v in spec.items() if k != "fact"]
    if op == "present":
        if fact == "jurisdiction":
            return w["always"] if value else fact_name(fact)
        template = w["event_present"] if fact.startswith("events.") and value else w["operators"]["present"]
        return template.format(fact=fact_name(fact)) if value else w["operators"]["absent"].format(fact=fact_name(fact))
    if isinstance(value, bool):
        return w["boolean"][str(value).lower()].format(fact=fact_name(fact))
    if op in ("before", "on_or_after"):
        return w["operators"][op].format(fact=fact_name(fact), value=date_name(value, kb))
    if isinstance(value, list):
        values = "或".join(value_name(fact, x) for x in value)
        return w["operators"][op].format(fact=fact_name(fact), values=values)
    return w["operators"][op].format(fact=fact_name(fact), value=value_name(fact, value))


def trigger(when: dict, kb, nested: bool = False) -> str:
    """A rule's `when` condition in Chinese (the documents' own conditions are implied)."""
    w = words()
    if "not" in when:
        return "并非（" + trigger(when["not"], kb) + "）"
    for key in ("all", "any"):
        if key in when:
            parts = [trigger(x, kb, nested=True) for x in when[key]]
            text = w["joiners"][key].join(parts)
            return f"（{text}）" if nested and len(parts) > 1 else text
    return _leaf(when, kb)


def deadline_rule(spec: dict | None, kb) -> str:
    """A deadline spec as a rule in Chinese (kind, days or months, event, date)."""
    if not spec:
        return words()["deadline_kinds"]["none"]
    w = words()
    event = spec.get("event")
    event_name = vocabulary().names("event_types").get(event, event) if event else w["no_event"]
    date = spec.get("date")
    return w["deadline_kinds"][spec["kind"]].format(
        event=event_name,
        days=spec.get("days", ""),
        months=spec.get("months", ""),
        date=date_name(date, kb) if date else "",
    )


def origin_name(origin: str) -> str:
    """The Chinese name of a duty's origin (national, adds, narrows, replaces)."""
    return words()["origins"][origin]
