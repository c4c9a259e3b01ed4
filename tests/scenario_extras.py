"""Expectations beyond the shared checker's format, for this project's own scenarios.

- authority: [{action, addressee?, actor?, due?, status?, cites?}]  like `obligations`, in authority_actions
- alternatives: [{action, addressee?, dues: [...]}]        the computable due dates listed in deadline.alternatives
- absent_warnings: [code]                                   warnings that must not be given
- documents: {doc-id: status}                               status of each listed document
- no_technology: true                                       the response's technology is null
- materials_ids: [{action, addressee?, ids: [...]}]         exact material ids of an obligation
- missing_absent: [path]                                    facts that must not be reported missing
- materials_distinct: [{action, addressee?}]                no material id listed twice in that obligation
- authority_absent: [action]                                no authority action of these actions
- occurrences: [{action, addressee?, items: [{period or event_date, due, status}]}]
                                                            exactly the deadline.occurrences of an obligation
- cites_not: [{action, addressee?, cites: [...]}]           citations an obligation must NOT carry
- count: [{action, addressee?, n}]                          how many obligations have this action (and addressee)
- order: [action, ...]                                       the first obligations' actions, in this order (the verdict order)
- deadline_bounds: [{action, addressee?, earliest?, latest}]  deadline.earliest / deadline.latest of an obligation
- done_late: [{action, addressee?, days}]                    done_late_days of a done obligation
- warning_contains: [{code, text}]                           a warning of that code whose message contains the text
- missing_why_contains: [{path, text}]                       the missing fact's `why` contains the text
"""

from __future__ import annotations


def _find(items, want):
    out = [o for o in items if o.get("action") == want["action"]]
    for key in ("addressee", "actor"):
        if key in want:
            out = [o for o in out if o.get(key) == want[key]]
    return out


def _cites(citations, want):
    doc, _, prefix = want.partition(":")
    return any(c["document"] == doc and (c["eid"] == prefix or c["eid"].startswith(prefix + "__")) for c in citations)


def check_extras(resp: dict, exp: dict) -> list[str]:
    errs: list[str] = []
    for want in exp.get("authority", []):
        cands = _find(resp["authority_actions"], want)
        if not cands:
            errs.append(f"no authority action {want['action']} to {want.get('addressee')}")
            continue
        o = cands[0]
        if "due" in want and o["due"] != want["due"]:
            errs.append(f"authority {want['action']}: due {o['due']} != {want['due']}")
        if "status" in want and o["status"] != want["status"]:
            errs.append(f"authority {want['action']}: status {o['status']} != {want['status']}")
        for c in want.get("cites", []):
            if not _cites(o["citations"], c):
                errs.append(f"authority {want['action']}: no citation {c}")
    for want in exp.get("alternatives", []):
        cands = _find(resp["obligations"], want)
        if not cands:
            errs.append(f"no {want['action']} for alternatives")
            continue
        # one act may appear more than once (two provisions for one action): any of them may carry them
        gots = [sorted(a["due"] for a in (c["deadline"] or {}).get("alternatives", []) if a.get("due")) for c in cands]
        got = next((g for g in gots if g == sorted(want["dues"])), gots[0])
        if got != sorted(want["dues"]):
            errs.append(f"{want['action']}: alternatives {got} != {sorted(want['dues'])}")
    got_order = [o["action"] for o in resp["obligations"][: len(exp.get("order", []))]]
    if "order" in exp and got_order != exp["order"]:
        errs.append(f"obligations begin {got_order} != {exp['order']}")
    for want in exp.get("deadline_bounds", []):
        cands = _find(resp["obligations"], want)
        if not any(
            (c["deadline"] or {}).get("latest") == want["latest"]
            and ("earliest" not in want or (c["deadline"] or {}).get("earliest") == want["earliest"])
            for c in cands
        ):
            errs.append(f"{want['action']}: no deadline bounds {want} in {[c['deadline'] for c in cands]}")
    for want in exp.get("done_late", []):
        cands = _find(resp["obligations"], want)
        if not any(c.get("done_late_days") == want["days"] for c in cands):
            errs.append(
                f"{want['action']}: done_late_days {[c.get('done_late_days') for c in cands]} != {want['days']}"
            )
    for want in exp.get("missing_why_contains", []):
        if not any(m["path"] == want["path"] and want["text"] in m["why"] for m in resp["missing_facts"]):
            errs.append(f"no missing fact {want['path']} whose why contains {want['text']!r}")
    for want in exp.get("warning_contains", []):
        if not any(w["code"] == want["code"] and want["text"] in w["message"] for w in resp["warnings"]):
            errs.append(f"no warning {want['code']} containing {want['text']!r}")
    codes = [w["code"] for w in resp["warnings"]]
    for code in exp.get("absent_warnings", []):
        if code in codes:
            errs.append(f"unexpected warning {code}")
    statuses = {d["id"]: d["status"] for d in resp["documents"]}
    for doc, st in (exp.get("documents") or {}).items():
        if statuses.get(doc) != st:
            errs.append(f"document {doc} status {statuses.get(doc)} != {st}")
    if exp.get("no_technology") and resp["technology"] is not None:
        errs.append("technology should be null")
    for want in exp.get("materials_ids", []):
        cands = _find(resp["obligations"], want)
        if not cands:
            errs.append(f"no {want['action']} for materials")
            continue
        ids = [m["id"] for m in cands[0]["materials"]]
        if ids != want["ids"]:
            errs.append(f"{want['action']}: materials {ids} != {want['ids']}")
    for want in exp.get("materials_distinct", []):
        cands = _find(resp["obligations"], want)
        if not cands:
            errs.append(f"no {want['action']} for materials_distinct")
            continue
        ids = [m["id"] for m in cands[0]["materials"]]
        if len(ids) != len(set(ids)):
            errs.append(f"{want['action']}: materials listed twice: {ids}")
    for action in exp.get("authority_absent", []):
        if any(o["action"] == action for o in resp["authority_actions"]):
            errs.append(f"unexpected authority action {action}")
    for want in exp.get("occurrences", []):
        cands = _find(resp["obligations"], want)
        if not cands:
            errs.append(f"no {want['action']} for occurrences")
            continue
        got = [dict(o) for o in (cands[0]["deadline"] or {}).get("occurrences") or []]
        wanted = [{k: str(v) for k, v in item.items()} for item in want["items"]]
        if got != wanted:
            errs.append(f"{want['action']}: occurrences {got} != {wanted}")
    for want in exp.get("cites_not", []):
        for o in _find(resp["obligations"], want):
            for c in want["cites"]:
                if _cites(o["citations"], c):
                    errs.append(f"{want['action']}: unexpected citation {c}")
    for want in exp.get("count", []):
        n = len(_find(resp["obligations"], want))
        if n != want["n"]:
            errs.append(f"{want['action']}: {n} obligations != {want['n']}")
    paths = [m["path"] for m in resp["missing_facts"]]
    for p in exp.get("missing_absent", []):
        if p in paths:
            errs.append(f"unexpected missing fact {p}")
    return errs
