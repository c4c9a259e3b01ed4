"""Flowcharts as graphs built from the rules: the skeleton in kb/flowcharts.yaml, the content from kb/rules/.

`build_graph(jurisdiction, chart, as_of)` returns a `networkx.DiGraph` whose nodes carry:

    kind        start | end | step | decision | milestone
    actor       institution | authority (steps), else None
    actor_detail  the rule's actor (institution, physician, license_issuer, ...)
    act, rules  the act shown and the ids of the rules in force that give the step its content
    addressees  the rules' addressees (a split step has one)
    lines       [{text, style}] the label, line by line (style: title, text, item, deadline,
                qualifier, provisions, highlight); `label` is the same joined by newlines
    provisions  labels of the cited provisions, e.g. 《办法》第十一条第一款
    citations   the same as `document:eid` references
    deadline    {text, kind, rule, alternatives} - the strictest deadline, as the engine picks it
    materials   [{id, text, cite}] where the rules list them

and whose edges carry `label`, `loop`, and for decision branches `class` or `events` with the
provisions of the classification rules. A step whose act has no rule in force for the
jurisdiction on the day is left out and its neighbours linked to each other.
"""

from __future__ import annotations

import datetime as dt
import re
from functools import lru_cache

import networkx as nx

from engine.errors import KnowledgeBaseError, Problem
from engine.inference import deadlines
from engine.kb import conditions, validity
from engine.kb.rules import split_ref
from engine.paths import KB_DIR, relative
from engine.yamlio import load_yaml

SPEC_FILE = KB_DIR / "flowcharts.yaml"
ACTIVE_STATUSES = validity.APPLICABLE  # as engine.decide: an uncertain document still applies


# --------------------------------------------------------------------------- the skeleton


def _spec_problems(data, kb) -> list[Problem]:
    """Schema and reference problems of kb/flowcharts.yaml against the knowledge base."""
    from engine.kb.schemas import schema_problems

    rel = relative(SPEC_FILE)
    problems = schema_problems("flowcharts", data, rel)
    if problems:
        return problems
    vocab = kb.vocabulary
    acts = {r.spec.get("act") for r in kb.rules if r.spec.get("act")}
    classes = set(vocab.ids("technology_classes"))
    events = set(vocab.ids("event_types"))
    addressees = set(vocab.ids("addressees"))
    actors = set(vocab.ids("actors"))
    for doc in kb.documents:
        if doc not in data["documents"]:
            problems.append(Problem(rel, "documents", f"no short name for document {doc}"))
    for key in data["addressees"]:
        if key not in addressees:
            problems.append(Problem(rel, f"addressees.{key}", f"unknown addressee {key}"))
    for key in data["actors"]:
        if key not in actors:
            problems.append(Problem(rel, f"actors.{key}", f"unknown actor {key}"))
    grouped = data["actor_groups"]["institution"] + data["actor_groups"]["authority"]
    for actor in sorted({r.spec["actor"] for r in kb.rules if r.spec.get("actor")} - set(grouped)):
        problems.append(Problem(rel, "actor_groups", f"actor {actor} of the rules is in no group"))
    qualifier_facts = {q["fact"] for q in data["qualifiers"]}
    for name, chart in data["charts"].items():
        base = f"charts.{name}"
        for i, fact in enumerate(chart.get("qualifiers", [])):
            if fact not in qualifier_facts:
                problems.append(Problem(rel, f"{base}.qualifiers.{i}", f"no qualifier on fact {fact}"))
        ids = [s["id"] for s in chart["steps"]]
        columns = [c["id"] for c in chart.get("columns", [])]
        seen: set[str] = set()
        for i, step in enumerate(chart["steps"]):
            loc = f"{base}.steps.{i}"
            if step["id"] in seen:
                problems.append(Problem(rel, f"{loc}.id", f"duplicate step id {step['id']}"))
            seen.add(step["id"])
            if step.get("act") and step["act"] not in acts and not step.get("optional"):
                problems.append(Problem(rel, f"{loc}.act", f"no rule has act {step['act']}"))
            if step.get("below") and step["below"] not in ids:
                problems.append(Problem(rel, f"{loc}.below", f"unknown step {step['below']}"))
            if columns and step.get("column") not in columns:
                problems.append(Problem(rel, f"{loc}.column", f"column {step.get('column')} is not one of {columns}"))
            if not columns and step.get("column"):
                problems.append(Problem(rel, f"{loc}.column", "the chart has no columns"))
            for e in step.get("events", []):
                if e not in events:
                    problems.append(Problem(rel, f"{loc}.events", f"unknown event type {e}"))
            if step.get("event") and step["event"] not in events:
                problems.append(Problem(rel, f"{loc}.event", f"unknown event type {step['event']}"))
            sel = step.get("select") or {}
            for a in sel.get("addressee", []):
                if a not in addressees:
                    problems.append(Problem(rel, f"{loc}.select.addressee", f"unknown addressee {a}"))
            for e in sel.get("events", []) + ([sel["deadline_event"]] if "deadline_event" in sel else []):
                if e not in events:
                    problems.append(Problem(rel, f"{loc}.select", f"unknown event type {e}"))
            for j, edge in enumerate(_edges_of(step)):
                if edge["to"] not in ids:
                    problems.append(Problem(rel, f"{loc}.next.{j}", f"unknown step {edge['to']}"))
                if edge.get("label_requires") and edge["label_requires"] not in ids:
                    problems.append(
                        Problem(rel, f"{loc}.next.{j}.label_requires", f"unknown step {edge['label_requires']}")
                    )
            for j, br in enumerate(step.get("branches", [])):
                if br["to"] not in ids:
                    problems.append(Problem(rel, f"{loc}.branches.{j}.to", f"unknown step {br['to']}"))
                if br.get("requires") and br["requires"] not in ids:
                    problems.append(Problem(rel, f"{loc}.branches.{j}.requires", f"unknown step {br['requires']}"))
                if "class" in br and br["class"] not in classes:
                    problems.append(Problem(rel, f"{loc}.branches.{j}.class", f"unknown class {br['class']}"))
                for e in br.get("events", []):
                    if e not in events:
                        problems.append(Problem(rel, f"{loc}.branches.{j}.events", f"unknown event type {e}"))
        if not chart["steps"] or chart["steps"][0].get("kind") != "start":
            problems.append(Problem(rel, f"{base}.steps.0", "the first step must be the start"))
    return problems


def check() -> list[Problem]:
    """Every problem of kb/flowcharts.yaml (for `medtech kb check`); empty when sound."""
    from engine.kb.loader import knowledge_base

    try:
        data = load_yaml(SPEC_FILE)
    except Exception as exc:  # noqa: BLE001 - reported, not raised
        return [Problem(relative(SPEC_FILE), "", f"cannot read: {exc}")]
    return _spec_problems(data, knowledge_base())


@lru_cache(maxsize=1)
def load_spec() -> dict:
    """The validated skeleton file; raises KnowledgeBaseError listing its problems."""
    from engine.kb.loader import knowledge_base

    data = load_yaml(SPEC_FILE)
    problems = _spec_problems(data, knowledge_base())
    if problems:
        raise KnowledgeBaseError(problems)
    return data


def chart_names() -> list[str]:
    return list(load_spec()["charts"])


def default_as_of() -> dt.date:
    """The fixed day `--all` renders on (kb/flowcharts.yaml `as_of`)."""
    return dt.date.fromisoformat(load_spec()["as_of"])


def _edges_of(step: dict) -> list[dict]:
    return [e if isinstance(e, dict) else {"to": e} for e in step.get("next", [])]


# --------------------------------------------------------------------------- rules in force


def active_documents(kb, jurisdiction, as_of: dt.date) -> list[dict]:
    """The jurisdiction's documents with their status on the day, as engine.decide lists them."""
    out = []
    for doc_id in jurisdiction.documents:
        st = validity.status_on(kb.documents[doc_id].dates, as_of)
        out.append({"id": doc_id, "status": st, "active": st in ACTIVE_STATUSES})
    return out


def _required_leaves(node) -> list:
    """Leaves every match of the condition requires (reached through `all` only)."""
    if isinstance(node, conditions.Leaf):
        return [node]
    if isinstance(node, conditions.All):
        return [leaf for child in node.items for leaf in _required_leaves(child)]
    return []


def _uses_event(rule, events: list[str]) -> bool:
    wanted = {f"events.{e}" for e in events}
    return any(f in wanted for f in rule.facts_used)


def _may_have_class(rule, cls: str) -> bool:
    """False when the rule's condition requires another class than `cls`."""
    for leaf in _required_leaves(rule.condition):
        if leaf.fact != "class":
            continue
        if leaf.op == "eq" and leaf.value != cls or leaf.op == "ne" and leaf.value == cls:
            return False
        if leaf.op == "in" and cls not in leaf.value or leaf.op == "not_in" and cls in leaf.value:
            return False
    return True


def _before_document(rule) -> bool:
    """True when the rule's condition requires a fact to fall before a date of a document (what a
    transition provision says: 本办法公布前已经开展的 …)."""

    def required(node) -> list[dict]:  # the rule's own `when` (compiled conditions hold ordinals)
        if isinstance(node, dict) and "all" in node:
            return [leaf for child in node["all"] for leaf in required(child)]
        return [node] if isinstance(node, dict) and "fact" in node else []

    return any(
        isinstance(leaf.get("before"), dict) and "document" in leaf["before"]
        for leaf in required(rule.spec.get("when"))
    )


def _select(rules: list, select: dict) -> list:
    out = []
    for r in rules:
        if "requires" in select and not set(select["requires"]) <= {
            leaf.fact for leaf in _required_leaves(r.condition)
        }:
            continue
        if "before_document" in select and select["before_document"] != _before_document(r):
            continue
        if "class" in select and not _may_have_class(r, select["class"]):
            continue
        if "addressee" in select and r.spec.get("addressee") not in select["addressee"]:
            continue
        if "deadline_event" in select and (r.spec.get("deadline") or {}).get("event") != select["deadline_event"]:
            continue
        if "events" in select and not _uses_event(r, select["events"]):
            continue
        out.append(r)
    return out


# --------------------------------------------------------------------------- labels


def provision_label(kb, spec: dict, ref: str) -> str:
    """`nhc-2018-1:art_11__para_1` -> 《办法》第十一条第一款; `cq-2019-61:sec_3` -> 渝卫发〔2019〕61号 三、"""
    doc, eid = split_ref(ref)
    short = spec["documents"].get(doc, doc)
    sep = "" if short.endswith("》") else " "
    return f"{short}{sep}{kb.provision(doc, eid).label}"


def compact_provisions(kb, spec: dict, refs: list[str], limit: int = 3) -> str:
    """The references grouped by document, e.g. 《办法》第十一条第一款；渝卫发〔2019〕61号 三、（二）一是、二、（二）.

    A document cited in more than `limit` provisions is shown by its top-level provisions.
    """
    by_doc: dict[str, list[str]] = {}
    for ref in refs:
        doc, eid = split_ref(ref)
        by_doc.setdefault(doc, []).append(eid)
    parts = []
    for doc, eids in by_doc.items():
        if len(eids) > limit:
            tops: list[str] = []
            for eid in eids:
                top = eid.split("__")[0]
                if top not in tops:
                    tops.append(top)
            eids = tops
        labels = []
        for eid in eids:
            label = kb.provision(doc, eid).label
            if label not in labels:
                labels.append(label)
        short = spec["documents"].get(doc, doc)
        sep = "" if short.endswith("》") else " "
        # a section's label ends in its own 、 (二、): no second one after it
        joined = "".join(
            lab if lab.endswith("、") or i == len(labels) - 1 else lab + "、" for i, lab in enumerate(labels)
        )
        parts.append(short + sep + joined)
    return "；".join(parts)


def _unique(items) -> list:
    out = []
    for x in items:
        if x not in out:
            out.append(x)
    return out


def _strictest_deadline(kb, rules: list, as_of: dt.date) -> dict | None:
    """The deadline the engine would pick for these rules (rules of one case): the earliest computable
    due date when every event happens on `as_of` (so on-the-spot beats 15 working days), else the first."""
    events = {e: as_of for e in kb.vocabulary.ids("event_types")}
    views: list[tuple] = []
    seen: dict[tuple, int] = {}
    for r in rules:
        d = r.spec.get("deadline")
        if not d:
            continue
        key = tuple(str(d.get(k)) for k in ("kind", "days", "months", "event", "date"))
        if key in seen:
            continue
        try:
            due = deadlines.compute_due(d, events, kb.documents).date
        except Exception:  # noqa: BLE001 - an uncomputable deadline simply does not compete
            due = None
        seen[key] = len(views)
        views.append((due, d, r.id))
    if not views:
        return None
    computable = [v for v in views if v[0] is not None]
    chosen = min(computable, key=lambda v: v[0]) if computable else views[0]
    return {
        "text": chosen[1]["text"],
        "kind": chosen[1]["kind"],
        "rule": chosen[2],
        "alternatives": [v[1]["text"] for v in views if v is not chosen and v[1]["text"] != chosen[1]["text"]],
    }


def _cases(rules: list) -> list[list]:
    """The rules of a box grouped by the case they apply to: rules joined by `relation` (a province's
    twin, addition or override of a national rule) are one case, as engine.decide merges them into
    one obligation; rules not so joined (a national transition provision and the province's own, for
    techniques in use before different days) are different cases. In kb order."""
    ids = {r.id for r in rules}
    root = {r.id: r.id for r in rules}

    def find(x: str) -> str:
        while root[x] != x:
            x = root[x]
        return x

    for r in rules:
        other = (r.spec.get("relation") or {}).get("rule")
        if isinstance(other, str) and other in ids:
            root[find(r.id)] = find(other)
    groups: dict[str, list] = {}
    for r in rules:
        groups.setdefault(find(r.id), []).append(r)
    return list(groups.values())


def _deadlines_by_case(kb, spec: dict, rules: list, as_of: dt.date) -> list[dict]:
    """The strictest deadline of each case the box stands for (`_cases`), each with the provisions of
    the rules of that case; cases whose deadline reads the same are one entry citing both."""
    out: list[dict] = []
    for case in _cases(rules):
        d = _strictest_deadline(kb, case, as_of)
        if d is None:
            continue
        cites = _unique(c for r in case for c in r.spec["citations"])
        same = next((x for x in out if x["text"] == d["text"]), None)
        if same is not None:
            same["citations"] = _unique([*same["citations"], *cites])
            same["alternatives"] = _unique([*same["alternatives"], *d["alternatives"]])
            continue
        out.append({**d, "citations": cites})
    for x in out:
        x["provisions_text"] = compact_provisions(kb, spec, x["citations"])
    return out


_PAREN = re.compile(r"（[^（）]*）")


def short_material(text: str) -> str:
    """A material as a short list item: without parenthetical details other than an attachment
    reference, and without a trailing clause, e.g. `技术负责人（限于…）资质证明材料复印件（医师资格证书…）`
    -> `技术负责人资质证明材料复印件`. The full text stays in the node's `materials`."""
    out = _PAREN.sub(lambda m: m.group(0) if "附件" in m.group(0) else "", text)
    for sep in ("，", "；"):
        head = out.split(sep)[0]
        if len(head) >= 8:
            out = head
    return out.strip() or text


def _materials(kb, rules: list) -> list[dict]:
    replaced = {x for r in rules for x in r.spec.get("replaces_materials_of", [])}
    out: list[dict] = []
    for r in rules:
        if r.id in replaced:
            continue
        for m in r.spec.get("materials", []):
            item = {"id": m["id"], "text": m["text"], "cite": m["cite"]}
            if all(x["id"] != item["id"] or x["text"] != item["text"] for x in out):
                out.append(item)
    return out


def _qualifiers(spec: dict, chart: dict, rules: list) -> list[str]:
    wanted = [q for q in spec["qualifiers"] if q["fact"] in chart.get("qualifiers", [])]
    out = []
    for q in wanted:
        value = tuple(q["value"]) if isinstance(q["value"], list) else q["value"]
        if rules and all(
            any(
                leaf.fact == q["fact"] and leaf.op == q["op"] and leaf.value == value
                for leaf in _required_leaves(r.condition)
            )
            for r in rules
        ):
            out.append(q["text"])
    return out


def _step_node(
    kb,
    spec: dict,
    chart: dict,
    step: dict,
    rules: list,
    as_of: dt.date,
    addressee: str | None,
    jurisdiction: str | None = None,
    first: bool = True,
) -> dict:
    vocab = kb.vocabulary
    # the jurisdiction's own wording first (上海: 市卫生健康部门), then the chart's short names
    local = {
        key: {k: v for k, v in vocab.local_names(jurisdiction, key).items() if v != vocab.names(key).get(k)}
        for key in ("actors", "addressees")
    }
    groups = spec["actor_groups"]
    leading, specific = rules[0], rules[-1]  # rules are in kb order: national first, then the province
    actor_detail = specific.spec["actor"]
    actor = "authority" if actor_detail in groups["authority"] else "institution"
    addressees = _unique(r.spec.get("addressee") for r in rules if r.spec.get("addressee"))
    citations = _unique(c for r in rules for c in r.spec["citations"])
    cases = _deadlines_by_case(kb, spec, rules, as_of)
    deadline = dict(cases[0], cases=cases) if cases else None
    materials = _materials(kb, rules) if "materials" in step.get("show", []) else []
    shown_materials = materials if first else []
    action = vocab.names("actions").get(leading.spec["action"], leading.spec["action"])
    lines: list[dict] = []
    actor_name = local["actors"].get(actor_detail) or spec["actors"].get(actor_detail, actor_detail)
    title = action if actor == "institution" else f"{actor_name}：{action}"
    lines.append({"text": title, "style": "title"})
    shown = [a for a in addressees if a not in ("applicant",)]
    if shown:
        lines.append(
            {
                "text": "向："
                + "、".join(
                    local["addressees"].get(a) or spec["addressees"].get(a, vocab.names("addressees").get(a, a))
                    for a in shown
                ),
                "style": "text",
            }
        )
    for q in _qualifiers(spec, chart, rules):
        lines.append({"text": f"仅限：{q}", "style": "qualifier"})
    if "summary" in step.get("show", []):
        lines.append({"text": specific.spec["summary"], "style": "text"})
    if shown_materials:
        lines.append({"text": f"备案材料（{len(materials)}项）：", "style": "text"})
        for i, m in enumerate(materials, 1):
            lines.append({"text": f"{i}. {short_material(m['text'])}", "style": "item"})
    elif materials:
        lines.append({"text": f"备案材料（{len(materials)}项）：同左", "style": "text"})
    if len(cases) == 1:
        lines.append({"text": f"期限：{cases[0]['text']}", "style": "deadline"})
    else:  # rules for different cases: each deadline with the provisions it comes from
        for case in cases:
            lines.append({"text": f"期限（{case['provisions_text']}）：{case['text']}", "style": "deadline"})
    lines.append({"text": "依据：" + compact_provisions(kb, spec, citations), "style": "provisions"})
    return {
        "kind": "step",
        "step": step["id"],
        "column": step.get("column"),
        "below": step.get("below"),
        "act": step["act"],
        "actor": actor,
        "actor_detail": actor_detail,
        "addressees": [addressee] if addressee else addressees,
        "split_addressee": addressee,
        "rules": [r.id for r in rules],
        "citations": citations,
        "provisions": [provision_label(kb, spec, c) for c in citations],
        "deadline": deadline,
        "materials": materials,
        "summary": specific.spec["summary"],
        "lines": lines,
    }


def _plain_node(step: dict) -> dict:
    kind = step.get("kind", "step")
    node = {
        "kind": kind,
        "step": step["id"],
        "column": step.get("column"),
        "below": step.get("below"),
        "act": None,
        "actor": None,
        "actor_detail": None,
        "addressees": [],
        "split_addressee": None,
        "rules": [],
        "citations": [],
        "provisions": [],
        "deadline": None,
        "materials": [],
        "summary": None,
        "lines": [{"text": step["label"], "style": "title"}],
    }
    if kind == "milestone":
        node["event"] = step["event"]
        node["actor"] = "institution"
    if kind == "start":
        node["events"] = list(step.get("events", []))
    return node


# --------------------------------------------------------------------------- the graph


def _status_note(names: dict, doc: dict) -> str:
    if not doc["active"]:
        return f"（{names.get(doc['status'], doc['status'])}，未适用）"
    return "" if doc["status"] == "in_force" else f"（{names.get(doc['status'], doc['status'])}）"


def _resolve_jurisdiction(kb, jurisdiction):
    if hasattr(jurisdiction, "documents"):
        return jurisdiction
    return kb.vocabulary.jurisdiction(str(jurisdiction))


def build_graph(jurisdiction, chart: str = "filing", as_of: dt.date | str | None = None) -> nx.DiGraph:
    """The chart for a jurisdiction (id or Chinese name) on a day (default: today in China)."""
    from engine.errors import NotFound
    from engine.inference.request import today_in_china
    from engine.kb.loader import knowledge_base

    kb = knowledge_base()
    spec = load_spec()
    if chart not in spec["charts"]:
        raise NotFound("chart", chart, list(spec["charts"]))
    if as_of is None:
        as_of = today_in_china()
    elif isinstance(as_of, str):
        as_of = dt.date.fromisoformat(as_of)
    j = _resolve_jurisdiction(kb, jurisdiction)
    cdef = spec["charts"][chart]
    docs = active_documents(kb, j, as_of)
    active = {d["id"] for d in docs if d["active"]}
    in_force = [r for r in kb.rules if r.document in active]
    # a provincial rule that takes the place of a national one (rule field `displaces`, as engine.decide
    # applies it when the provincial rule fires) leaves the national one out of the chart; a rule of another
    # act that displaces only in some cases (Chongqing 三、（二）四是: approved before the measures, not refiled)
    # leaves the chart's steps as they are
    displaced = {
        x
        for r in in_force
        for x in r.spec.get("displaces", [])
        if x in kb.rule_by_id and kb.rule_by_id[x].spec.get("act") == r.spec.get("act")
    }
    in_force = [r for r in in_force if r.id not in displaced]

    # 1. each step becomes zero, one or (split) several nodes
    step_nodes: dict[str, list[tuple[str, dict]]] = {}
    for step in cdef["steps"]:
        sid = step["id"]
        if step.get("act"):
            rules = _select([r for r in in_force if r.spec.get("act") == step["act"]], step.get("select") or {})
            if not rules:
                step_nodes[sid] = []
                continue
            if step.get("split") == "addressee":
                order = kb.vocabulary.ids("addressees")
                by_addr: dict[str, list] = {}
                for r in rules:
                    by_addr.setdefault(r.spec.get("addressee") or "none", []).append(r)
                addrs = sorted(by_addr, key=lambda a: order.index(a) if a in order else len(order))
                step_nodes[sid] = [
                    (f"{sid}.{a}", _step_node(kb, spec, cdef, step, by_addr[a], as_of, a, j.id, first=i == 0))
                    for i, a in enumerate(addrs)
                ]
            else:
                step_nodes[sid] = [(sid, _step_node(kb, spec, cdef, step, rules, as_of, None, j.id))]
        else:
            step_nodes[sid] = [(sid, _plain_node(step))]

    # 2. edges between steps, in skeleton order; decision branches without rules in force are dropped
    edges: list[dict] = []
    for step in cdef["steps"]:
        for e in _edges_of(step):
            edges.append(
                {
                    "src": step["id"],
                    "dst": e["to"],
                    "label": e.get("label"),
                    "label_requires": e.get("label_requires"),
                    "loop": bool(e.get("loop")),
                }
            )
        for br in step.get("branches", []):
            edge = {"src": step["id"], "dst": br["to"], "label": br["label"], "label_requires": None, "loop": False}
            if br.get("requires"):
                if not step_nodes[br["requires"]]:
                    continue
                edge["requires"] = br["requires"]
            elif "class" not in br and "events" not in br:
                edge["default"] = True
            if "class" in br:
                crules = [r for r in in_force if r.stage == "classify" and r.spec.get("class") == br["class"]]
                if not crules:
                    continue
                refs = _unique(c for r in crules for c in r.spec["citations"])
                edge.update(
                    {
                        "class": br["class"],
                        "rules": [r.id for r in crules],
                        "citations": refs,
                        "provisions": [provision_label(kb, spec, c) for c in refs],
                        "provisions_text": compact_provisions(kb, spec, refs),
                    }
                )
            elif "events" in br:
                edge["events"] = list(br["events"])
            edges.append(edge)

    # a decision left with one branch decides nothing: left out like a step without rules
    for step in cdef["steps"]:
        if step.get("kind") == "decision" and len({e["dst"] for e in edges if e["src"] == step["id"]}) == 1:
            step_nodes[step["id"]] = []
            for e in edges:
                if e["src"] == step["id"]:
                    for k in ("requires", "default", "class", "events"):
                        e.pop(k, None)
                    e["label"] = None

    # 3. contract the steps left out: each edge into one is replaced, in place, by edges to its successors
    for step in cdef["steps"]:
        sid = step["id"]
        if step_nodes[sid]:
            continue
        outs = [e for e in edges if e["src"] == sid and e["dst"] != sid]
        new_edges: list[dict] = []
        for e in edges:
            if e["src"] == sid:
                continue
            if e["dst"] != sid:
                new_edges.append(e)
                continue
            for o in outs:
                if o["dst"] == e["src"] or o["loop"]:
                    continue  # a loop back (补齐后重新提交) disappears with its step
                merged = dict(o)
                merged.update({k: v for k, v in e.items() if k not in ("dst",)})
                merged["dst"] = o["dst"]
                merged["label"] = e["label"] or o["label"]
                merged["label_requires"] = e["label_requires"] if e["label"] else o["label_requires"]
                merged["loop"] = e["loop"] or o["loop"]
                if not any(x["src"] == merged["src"] and x["dst"] == merged["dst"] for x in new_edges):
                    new_edges.append(merged)
        edges = new_edges

    # 4. keep what the starts reach; a further start (e.g. training bases) only when a step of it is in force
    kinds = {s["id"]: s.get("kind", "step") for s in cdef["steps"]}
    reach: set[str] = set()
    for i, start in enumerate(s["id"] for s in cdef["steps"] if kinds[s["id"]] == "start"):
        mine = {start}
        frontier = [start]
        while frontier:
            cur = frontier.pop()
            for e in edges:
                if e["src"] == cur and e["dst"] not in mine:
                    mine.add(e["dst"])
                    frontier.append(e["dst"])
        if i == 0 or any(kinds[x] == "step" and step_nodes[x] for x in mine):
            reach |= mine
    present = {sid for sid, nodes in step_nodes.items() if nodes and sid in reach}

    G = nx.DiGraph()
    names = kb.vocabulary.names("document_statuses")
    notices = {n["id"] for n in kb.national_notices}
    G.graph.update(
        {
            "jurisdiction": j.id,
            "jurisdiction_name": j.name,
            "chart": chart,
            "title": cdef["title"],
            "as_of": as_of.isoformat(),
            "documents": [
                {"id": d["id"], "status": d["status"], "short": spec["documents"].get(d["id"], d["id"])} for d in docs
            ],
            # a national notice not yet in force that day has no step on the chart: not named in its title
            "subtitle": f"{j.name} · {as_of.isoformat()} · 适用："
            + "；".join(
                spec["documents"].get(d["id"], d["id"]) + _status_note(names, d)
                for d in docs
                if not (d["status"] == "not_yet_in_force" and d["id"] in notices)
            ),
            "document_notes": [
                f"{spec['documents'].get(d['id'], d['id'])}：{kb.documents[d['id']].title}"
                + (
                    f"（{kb.documents[d['id']].number}）"
                    if kb.documents[d["id"]].number
                    and kb.documents[d["id"]].number not in spec["documents"].get(d["id"], "")
                    else ""
                )
                for d in docs
                if d["active"]
            ],
            "highlighted": False,
            "columns": [
                c
                for c in cdef.get("columns", [])
                if any(s.get("column") == c["id"] and s["id"] in present for s in cdef["steps"])
            ],
        }
    )
    for step in cdef["steps"]:
        if step["id"] in present:
            for nid, attrs in step_nodes[step["id"]]:
                attrs = dict(attrs)
                attrs["label"] = "\n".join(line["text"] for line in attrs["lines"])
                G.add_node(nid, **attrs)
    for e in edges:
        if e["src"] not in present or e["dst"] not in present:
            continue
        label = e["label"]
        if label and e.get("label_requires") and e["label_requires"] not in present:
            label = None
        attrs = {k: v for k, v in e.items() if k not in ("src", "dst", "label_requires")}
        attrs["label"] = label
        for a, _ in step_nodes[e["src"]]:
            for b, _ in step_nodes[e["dst"]]:
                if a == b:
                    continue
                if not G.has_edge(a, b):
                    G.add_edge(a, b, **attrs)
                    continue
                # two branches into the same step (e.g. two situations with one procedure): one edge
                have = G.edges[a, b]
                if attrs.get("label") and attrs["label"] != have.get("label"):
                    have["label"] = f"{have['label']} / {attrs['label']}" if have.get("label") else attrs["label"]
                if "events" in attrs:
                    have["events"] = _unique(list(have.get("events", [])) + attrs["events"])
    return G
