"""The verdict: the one line every surface leads with, and the order of the things to do (contract §5
"The verdict").

The order: do not use (禁止/不得开展) -> stop -> immediate reports -> what is overdue, or to confirm with
an `if_not_done` -> the earliest dated act -> nothing owed. Obligations are listed in the same order.
Every word comes from kb/vocabulary.yaml (classes, action verbs, short addressees); nothing here is law.
"""

from __future__ import annotations

import datetime as dt

# ranks in the verdict order; every other obligation (steps to confirm, duties with no day, done) after
DO_NOT_USE, STOP, IMMEDIATE, PASSED, DATED, OTHER = range(6)


def rank(o: dict) -> int:
    """Where an obligation stands in the verdict order."""
    status = o.get("status")
    if o.get("action") == "do_not_use":
        return DO_NOT_USE
    if status == "immediate":
        return STOP if o.get("action") == "stop" else IMMEDIATE
    if status == "overdue" or (status == "to_confirm" and o.get("if_not_done")):
        return PASSED
    if _day(o) and status in ("pending", "due_today"):
        return DATED
    return OTHER


def _day(o: dict) -> str | None:
    """The day an act is dated by: its due day, else the latest day a bounded one can be."""
    return o.get("due") or o.get("latest") or (o.get("deadline") or {}).get("latest")


def ordered(obligations: list[dict]) -> list[dict]:
    """The obligations in the verdict order (dated acts soonest first; otherwise their order kept)."""
    keyed = []
    for i, o in enumerate(obligations):
        r = rank(o)
        keyed.append((r, (_day(o) or "") if r == DATED else "", i, o))  # dated acts by their day
    keyed.sort(key=lambda k: k[:3])
    return [k[3] for k in keyed]


def _soonest_outcome(vocab, response: dict) -> str:
    """What the most pressing answer would mean, for an undetermined class, in the verdict order (a ban or a stop
    first, then the soonest dated act): （若适应证为“阿尔茨海默病”：禁止类技术：不得开展…）, （若手术分级为“4”：…）."""
    fields = vocab.raw.get("request_fields") or {}
    best = None
    for m in response.get("missing_facts") or []:
        for o in m.get("outcomes") or []:
            nxt = o.get("next") or {}
            r = rank(nxt) if nxt.get("action") else OTHER
            if r == OTHER or (r == DATED and not nxt.get("due")):
                continue
            key = (r, nxt.get("due") or "")
            if best is None or key < best[0]:
                best = (key, m["path"], o["value"], nxt)
    if best is None:
        return ""
    _, path, value, nxt = best
    shown = {True: "是", False: "否"}.get(value, value) if isinstance(value, bool) else value
    return f"（若{fields.get(path, path)}为“{shown}”：{nxt.get('text') or ''}）"


def _phrase(vocab, o: dict, local: dict) -> str:
    verb = vocab.names("action_verbs").get(o["action"], o["action"])
    addressee = o.get("addressee")
    if not addressee or addressee == "public":
        return verb
    to = local.get(addressee) or vocab.names("addressee_short").get(addressee, "")
    return f"向{to}{verb}" if to else verb


def verdict(vocab, response: dict, local_addressees: dict | None = None) -> dict:
    """{text, action, due, status} for a response whose obligations are already `ordered`.
    `local_addressees`: the jurisdiction's own short names (上海: 市卫生健康部门), where it has them."""
    local = local_addressees or {}
    tech = response.get("technology")
    cls = (tech or {}).get("class")
    classes = vocab.names("technology_classes")
    changed = any(w.get("code") == "class_changed" for w in response.get("warnings") or [])
    head = "" if changed else (f"{classes.get(cls, '')}：" if tech and cls != "undetermined" else "")
    obligations = response.get("obligations") or []
    first = obligations[0] if obligations else None
    r = rank(first) if first else OTHER
    if first is None or r == OTHER:
        questions = len(response.get("missing_facts") or [])
        if cls == "undetermined":
            text = f"尚不能确定技术类别：请先回答 {questions} 个问题" if questions else "尚不能确定技术类别"
            text += _soonest_outcome(vocab, response)
        elif cls == "prohibited":
            text = f"{head}{vocab.names('action_verbs').get('do_not_use', '')}"
        elif questions:
            text = f"{head}当前无到期事项；请回答 {questions} 个问题以确定其余义务"
        else:
            text = f"{head}当前无到期事项"
        return {"text": text, "action": None, "due": None, "status": None}
    phrase = _phrase(vocab, first, local)
    verb = vocab.names("action_verbs").get(first["action"], first["action"])
    due = first.get("due")
    if r == DO_NOT_USE:
        text = f"{head}{verb}"
    elif r in (STOP, IMMEDIATE):
        more = [o for o in obligations[1:3] if rank(o) in (STOP, IMMEDIATE)]
        text = f"{head}须立即{phrase}" + "".join(f"，并立即{_phrase(vocab, o, local)}" for o in more[:1])
    elif r == PASSED:
        latest = (first.get("deadline") or {}).get("latest")
        when = f"应于 {due} 前" if due else (f"至迟应于 {latest} 前" if latest else "应已")
        if first["status"] == "overdue":
            day = due or latest
            days = (dt.date.fromisoformat(response["as_of"]) - dt.date.fromisoformat(day)).days if day else None
            late = f" {days} 天" if days is not None else ""
            limit = f"（期限 {due}）" if due else (f"（期限至迟 {latest}）" if latest else "")
            text = f"{head}已逾期{late}，应立即{phrase}{limit}"
        else:
            days = (first.get("if_not_done") or {}).get("overdue_days")
            late = f"，已逾期 {days} 天" if days is not None else ""
            text = f"{head}请核实是否已{verb}（{when}{phrase}）；如未{verb}{late}，应立即{phrase}"
    elif due:
        text = f"{head}须于 {due} 前{phrase}"
    else:  # bounded: the latest day it can be
        latest = (first.get("deadline") or {}).get("latest")
        text = f"{head}须至迟于 {latest} 前{phrase}（确切期限取决于无法确定的施行日期）"
    return {"text": text, "action": first["action"], "due": due, "status": first["status"]}
