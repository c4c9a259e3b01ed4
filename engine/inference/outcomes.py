"""What each answer would mean (contract §5): for a missing fact with a small closed set of answers, the
class and the next act (with its due day) that each answer gives.

The closed sets are kb/vocabulary.yaml's `outcome_values` (surgery grade, first in the institution …);
a family name or an ambiguous name is answered by each candidate technique, a bare code by each catalogue
it may mean, a missing indication by each indication a ban names and any other. Each answer is decided as
the same request with that answer given (without outcomes of its own), so an outcome says exactly what
the answer would say.
"""

from __future__ import annotations

import copy
from collections.abc import Callable

from engine.errors import InvalidRequest


def _values(kb, path: str, resolution: dict | None) -> list:
    """The answers a missing fact can take, or [] when the set is not small and closed."""
    return list(_labelled(kb, path, resolution))


def _labelled(kb, path: str, resolution: dict | None) -> dict:
    """answer -> its meaning in Chinese (a qualified code's technique), or None when the answer says it."""
    fixed = (kb.vocabulary.raw.get("outcome_values") or {}).get(path)
    if fixed is not None:
        return dict.fromkeys(fixed)
    res = resolution or {}
    if path == "technology.name":
        names = [x["technology"]["name"] for x in res.get("narrower_listings") or []]
        names += [x["technology"]["name"] for x in res.get("narrower_prohibited") or []]
        names += [c.get("name") for c in res.get("candidates") or [] if c.get("name")]
        return dict.fromkeys(n for n in names if n)
    if path == "technology.indication":  # each indication a ban names, and any other
        names = [b["indication"]["name"] for b in res.get("indication_bans") or []]
        other = kb.vocabulary.raw.get("other_indication")
        return dict.fromkeys(names + [other] if names and other else names)
    if path == "technology.code":
        codes = {c["qualified"]: c.get("name") for c in res.get("candidates") or [] if c.get("qualified")}
        for x in res.get("narrower_listings") or []:
            codes.setdefault(f"{x['catalog']}:{x['code']}", x["technology"]["name"])
        return codes
    return {}


def next_act(answer: dict) -> dict | None:
    """The next act an answer leads with (its verdict's action, due day, status and line), or None."""
    v = answer.get("verdict") or {}
    return {k: v.get(k) for k in ("action", "due", "status", "text")} if v.get("action") else None


def with_answer(request: dict, path: str, value) -> dict:
    """The request with `value` given at `path` (a copy; `technology.name` replaces a code)."""
    out = copy.deepcopy(request)
    node = out
    *parents, leaf = path.split(".")
    for p in parents:
        node = node.setdefault(p, {})
    node[leaf] = value
    if path == "technology.name":
        node.pop("code", None)
    return out


def outcomes_for(kb, request: dict, path: str, resolution: dict | None, decide: Callable) -> list[dict] | None:
    """[{value, class, next: {action, due, status, text} | None}] for the missing fact at `path`, or None
    when its answers are not a small closed set. `decide(request, path, value)` answers the request with that
    answer given (without outcomes): see `with_answer`."""
    values = _labelled(kb, path, resolution)
    if not values or len(values) > 8:
        return None
    out = []
    for value, meaning in values.items():
        try:
            answer = decide(request, path, value)
        except InvalidRequest:
            continue
        out.append(
            {
                "value": value,
                **({"label": meaning} if meaning else {}),
                "class": (answer.get("technology") or {}).get("class"),
                "next": next_act(answer),
            }
        )
    return out or None
