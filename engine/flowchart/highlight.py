"""Highlight one case on a chart: what engine.decide answers for a request, shown on the flowchart.

A step is highlighted when one of the response's obligations or authority actions comes from
one of the step's rules (same act, and the same addressee for a step split by addressee); its
label gains the computed due date and status. The decision branch the case takes (its class,
or the situations among its events) is highlighted, so is the milestone of an event the
request gives. Everything off the case's path is greyed.
"""

from __future__ import annotations

import datetime as dt

import networkx as nx

from engine.flowchart.build import build_graph


def _events(request: dict) -> dict[str, str]:
    """The latest date of each event type in the request (dates as ISO strings)."""
    out: dict[str, str] = {}
    for e in request.get("events") or []:
        if not isinstance(e, dict) or "type" not in e:
            continue
        d = e.get("date")
        d = d.isoformat() if isinstance(d, (dt.date, dt.datetime)) else str(d)[:10]
        if e["type"] not in out or d > out[e["type"]]:
            out[e["type"]] = d
    return out


def _status_text(vocab, ob: dict) -> str:
    status = vocab.names("statuses").get(ob["status"], ob["status"])
    return f"本例：截止 {ob['due']}（{status}）" if ob.get("due") else f"本例：{status}"


def apply(G: nx.DiGraph, request: dict, response: dict) -> nx.DiGraph:
    """Mark G's nodes and edges `state` = on | off from a decision (in place; returns G)."""
    from engine.kb.loader import knowledge_base

    vocab = knowledge_base().vocabulary
    classes = vocab.names("technology_classes")
    events = _events(request)
    tech = response.get("technology") or {}
    cls = tech.get("class")
    obligations = list(response.get("obligations") or []) + list(response.get("authority_actions") or [])

    def matches_of(n, d) -> list[dict]:
        return [
            ob
            for ob in obligations
            if ob.get("id") == d["act"]
            and set(ob.get("rules") or []) & set(d["rules"])
            and (d.get("split_addressee") is None or ob.get("addressee") == d["split_addressee"])
        ]

    matched = {n: matches_of(n, d) for n, d in G.nodes(data=True) if d["kind"] == "step"}

    def required_taken(step_id: str) -> bool:
        return any(matched.get(n) for n, d in G.nodes(data=True) if d.get("step") == step_id)

    def taken(a, b) -> bool:
        attrs = G.edges[a, b]
        if G.nodes[a]["kind"] != "decision":
            return True
        if "class" in attrs:
            return attrs["class"] == cls
        if attrs.get("requires"):
            return required_taken(attrs["requires"])
        if attrs.get("default"):
            # the branch taken when none of its siblings that require a step is
            return not any(
                G.edges[a, m].get("requires") and required_taken(G.edges[a, m]["requires"]) for m in G.successors(a)
            )
        return bool(set(attrs.get("events") or []) & set(events))

    # the case's path: decisions follow only the branches taken
    starts = [n for n, d in G.nodes(data=True) if d["kind"] == "start"]
    reach = set(starts)
    frontier = list(starts)
    while frontier:
        n = frontier.pop()
        for m in G.successors(n):
            if m not in reach and taken(n, m):
                reach.add(m)
                frontier.append(m)

    state: dict[str, str] = {}
    for n, d in G.nodes(data=True):
        extra: list[str] = []
        on = False
        if d["kind"] == "start":
            on = True
        elif d["kind"] == "decision":
            branches = [G.edges[n, m] for m in G.successors(n) if taken(n, m) and n in reach]
            on = bool(branches)
            if any("class" in attrs for _, _, attrs in G.out_edges(n, data=True)):
                extra.append(f"本例：{classes.get(cls, cls)}" if cls else "本例：未给出技术")
            elif branches:
                extra.append("本例：" + " / ".join(b["label"] for b in branches))
        elif d["kind"] == "milestone":
            on = n in reach and d.get("event") in events
            if on:
                extra.append(f"本例：{events[d['event']]}")
        elif d["kind"] == "step" and n in reach:
            matches = matched[n]
            if matches:
                on = True
                d["obligations"] = [
                    {k: ob.get(k) for k in ("id", "addressee", "due", "status", "rules")} for ob in matches
                ]
                d["due"] = matches[0].get("due")
                d["status"] = matches[0].get("status")
                for ob in matches:
                    extra.append(_status_text(vocab, ob))
        state[n] = "on" if on else "off"
        if extra:
            d["lines"] = list(d["lines"]) + [{"text": t, "style": "highlight"} for t in extra]
            d["label"] = "\n".join(line["text"] for line in d["lines"])
    # an end is reached when a highlighted step (or a branch taken) leads to it
    for n, d in G.nodes(data=True):
        if d["kind"] == "end" and n in reach and any(state[p] == "on" and taken(p, n) for p in G.predecessors(n)):
            state[n] = "on"
    for n, d in G.nodes(data=True):
        d["state"] = state[n]
    through = _through(G, state, taken)
    for a, b, attrs in G.edges(data=True):
        if state[a] == "on" and state[b] == "on" and taken(a, b):
            attrs["state"] = "on"
        elif (
            (a in through or b in through)
            and {state[a], state[b]} <= {"on", "off"}
            and (state[a] == "on" or a in through)
            and (state[b] == "on" or b in through)
            and taken(a, b)
        ):
            attrs["state"] = "through"
        else:
            attrs["state"] = "off"

    inst = request.get("institution") or {}
    req_tech = request.get("technology") or {}
    case = []
    if inst.get("name"):
        case.append(f"机构：{inst['name']}")
    if req_tech.get("name") or req_tech.get("code"):
        shown = req_tech.get("name") or req_tech.get("code")
        canonical = tech.get("name")
        case.append(f"技术：{shown}" + (f"（{canonical}）" if canonical and canonical != shown else ""))
    if cls:
        case.append(classes.get(cls, cls))
    G.graph["case_lines"] = ["本例  " + " · ".join(case)] if case else ["本例"]
    G.graph["highlighted"] = True
    G.graph["response_as_of"] = response.get("as_of")
    return G


def _through(G: nx.DiGraph, state: dict, taken) -> set:
    """Greyed nodes the case's path passes: after a highlighted node and before a highlighted
    step or milestone, along the branches taken (e.g. a milestone whose date the request does
    not give, an authority's step not yet due). Their edges stay red so the path is continuous."""
    after: set = set()
    frontier = [n for n in G if state[n] == "on"]
    while frontier:
        n = frontier.pop()
        for m in G.successors(n):
            if state[m] == "off" and m not in after and taken(n, m) and not G.edges[n, m].get("loop"):
                after.add(m)
                frontier.append(m)
    before: set = set()
    frontier = [n for n, d in G.nodes(data=True) if state[n] == "on" and d["kind"] in ("step", "milestone")]
    while frontier:
        n = frontier.pop()
        for m in G.predecessors(n):
            if state[m] == "off" and m not in before and taken(m, n) and not G.edges[m, n].get("loop"):
                before.add(m)
                frontier.append(m)
    return after & before


_URGENCY = {"immediate": 0, "overdue": 1, "due_today": 2, "pending": 3, "to_confirm": 4, "done": 5}


def chart_for(response: dict) -> str:
    """The chart that draws the case's most pressing duty (immediate, then overdue, then the earliest
    due): the first chart, in kb/flowcharts.yaml's order, one of whose steps comes from a rule the
    duty rests on. An incident's 立即停止 is drawn by the incident chart, a filing by the filing chart;
    the first chart when no duty is drawn anywhere."""
    from engine.flowchart.build import chart_names

    names = chart_names()
    duties = sorted(
        response.get("obligations") or [],
        key=lambda o: (_URGENCY.get(o.get("status") or "", 9), o.get("due") or "9999-12-31"),
    )
    rules_of: dict[str, set] = {}
    for duty in duties:
        wanted = set(duty.get("rules") or [])
        for name in names:
            if name not in rules_of:
                G = build_graph(response["jurisdiction"]["id"], name, response["as_of"])
                rules_of[name] = {r for _, d in G.nodes(data=True) for r in d.get("rules") or []}
            if wanted & rules_of[name]:
                return name
    return names[0]


def highlight_graph(
    request: dict, chart: str | None = "filing", as_of: dt.date | str | None = None
) -> tuple[nx.DiGraph, dict]:
    """Decide the request and return its chart (for the request's jurisdiction and day) highlighted,
    with the response. `as_of` fills in the request's day when the request does not give one;
    `chart` None: the chart of the case (`chart_for`)."""
    from engine import decide

    req = dict(request)
    if as_of is not None and "as_of" not in req:
        req["as_of"] = as_of.isoformat() if isinstance(as_of, dt.date) else str(as_of)
    response = decide(req)
    chart = chart or chart_for(response)
    G = build_graph(response["jurisdiction"]["id"], chart, response["as_of"])
    return apply(G, req, response), response
