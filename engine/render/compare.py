"""One case, several jurisdictions side by side: the comparison model and its Chinese text.

`compare(request, jurisdictions)` answers the same request once per jurisdiction (`decide()`
with `institution.jurisdiction` replaced) and lines the answers up:

    {"as_of", "technology": {query}, "jurisdictions": [{id, name}],
     "columns": {jid: {class, class_name, technology_name, listings (with catalog_name), documents, warnings}},
     "class_differs": bool,
     "rows": [{key, group, id, action, action_name, summary,
               cells: {jid: null | {summary, addressee, addressee_name, due, status, deadline,
                                    alternatives, materials, citations}},
               differs: [fields that are not the same everywhere], substantive: bool}],
     "knowledge_base": {...}}

A row is one act (`obligations` or `authority_actions`, same rule id and addressee); a cell is
null where the act is not owed in that jurisdiction. `differs` names what differs between the
cells: `present`, `addressee`, `deadline`, `due`, `status`, `materials`, `citations`;
`substantive` is true when anything but the citations differs (each province cites its own
document, so citations differ almost always). A web page renders the same dict
(`compare_text` is the terminal form).
"""

from __future__ import annotations

import copy

from engine.errors import InvalidRequest, NotFound
from engine.kb.vocabulary import vocabulary

GROUPS = ("obligations", "authority_actions")
FIELDS = ("present", "addressee", "deadline", "due", "status", "materials", "citations")
GROUP_ZH = {"obligations": "医疗机构义务", "authority_actions": "主管部门的职责"}
FIELD_ZH = {
    "present": "是否适用",
    "addressee": "对象",
    "deadline": "期限",
    "due": "截止日",
    "status": "状态",
    "materials": "材料",
    "citations": "依据",
}


def parse_jurisdictions(value, path: str = "jurisdictions") -> list[str]:
    """Jurisdiction ids from a list or a comma-separated string of ids or Chinese names (every jurisdiction when empty);
    InvalidRequest naming each unknown one."""
    v = vocabulary()
    if value is None or value == "" or value == []:
        return [j.id for j in v.jurisdictions]
    items = value.split(",") if isinstance(value, str) else value
    if not isinstance(items, list):
        raise InvalidRequest([{"path": path, "message": "expected a list of jurisdictions"}])
    out, errors = [], []
    for i, item in enumerate(items):
        try:
            jid = v.jurisdiction(str(item).strip()).id
        except NotFound:
            known = ", ".join(j.id for j in v.jurisdictions)
            errors.append(
                {"path": f"{path}.{i}", "message": f"{item} is not a supported jurisdiction (supported: {known})"}
            )
            continue
        if jid not in out:
            out.append(jid)
    if errors:
        raise InvalidRequest(errors)
    if len(out) < 1:
        raise InvalidRequest([{"path": path, "message": "name at least one jurisdiction"}])
    return out


def _cell(o: dict) -> dict:
    names = vocabulary().names("addressees")
    d = o.get("deadline") or {}
    addressee = o.get("addressee")
    return {
        "summary": o["summary"],
        "addressee": addressee,
        "addressee_name": names.get(addressee) if addressee else None,
        "due": o.get("due"),
        "status": o.get("status"),
        "deadline": {"kind": d.get("kind"), "text": d.get("text")} if d else None,
        "alternatives": [{"text": a.get("text"), "due": a.get("due")} for a in d.get("alternatives") or []],
        "materials": [m["text"] for m in o.get("materials") or []],
        "citations": [
            {"document": c["document"], "eid": c["eid"], "label": c["label"]} for c in o.get("citations") or []
        ],
    }


def _field(cell: dict | None, name: str):
    if name == "present":
        return cell is not None
    if cell is None:
        return None
    if name == "deadline":
        return (cell["deadline"] or {}).get("text"), tuple(a["text"] for a in cell["alternatives"])
    if name == "materials":
        return tuple(cell["materials"])
    if name == "citations":
        return tuple((c["document"], c["eid"]) for c in cell["citations"])
    return cell[name]


def _differs(cells: dict) -> list[str]:
    out = []
    for name in FIELDS:
        values = [_field(c, name) for c in cells.values()]
        if name != "present":  # absent cells are covered by `present`
            values = [v for c, v in zip(cells.values(), values, strict=True) if c is not None]
        if len(set(values)) > 1:
            out.append(name)
    return out


def compare(request: dict, jurisdictions=None, decide=None) -> dict:
    """The comparison model (module docstring) of `request` in `jurisdictions` (ids or Chinese names;
    default every jurisdiction). InvalidRequest when the request or a jurisdiction is invalid."""
    if decide is None:
        from engine.inference.decision import decide
    if not isinstance(request, dict):
        raise InvalidRequest([{"path": "", "message": "a request must be an object"}])
    ids = parse_jurisdictions(jurisdictions)
    v = vocabulary()
    responses = {}
    for jid in ids:
        req = copy.deepcopy(request)
        institution = req.get("institution")
        if isinstance(institution, dict):
            institution["jurisdiction"] = jid
        responses[jid] = decide(req)

    classes = v.names("technology_classes")
    catalogs = _catalog_names()
    columns, rows, order = {}, {}, []
    for jid, r in responses.items():
        tech = r.get("technology") or {}
        cls = tech.get("class")
        columns[jid] = {
            "class": cls,
            "class_name": classes.get(cls) if cls else None,
            "technology_name": tech.get("name"),
            "listings": [
                {
                    **{k: x.get(k) for k in ("catalog", "code", "name", "scope")},
                    "catalog_name": catalogs.get(x.get("catalog")),
                }
                for x in tech.get("listings") or []
            ],
            "documents": [{"id": d["id"], "status": d["status"]} for d in r["documents"]],
            "warnings": [w["code"] for w in r["warnings"]],
        }
        for group in GROUPS:
            for o in r[group]:
                key = f"{group}:{o['id']}:{o.get('addressee') or '-'}"
                if key not in rows:
                    order.append(key)
                    rows[key] = {
                        "key": key,
                        "group": group,
                        "id": o["id"],
                        "action": o["action"],
                        "action_name": v.names("actions").get(o["action"], o["action"]),
                        "summary": o["summary"],
                        "cells": {j: None for j in ids},
                    }
                rows[key]["cells"][jid] = _cell(o)
    out_rows = []
    for key in sorted(order, key=lambda k: (GROUPS.index(rows[k]["group"]), order.index(k))):
        row = rows[key]
        row["differs"] = _differs(row["cells"])
        row["substantive"] = any(f != "citations" for f in row["differs"])
        out_rows.append(row)
    first = next(iter(responses.values()))
    asked = request.get("technology")
    query = (asked.get("name") or asked.get("code")) if isinstance(asked, dict) else None
    return {
        "as_of": first["as_of"],
        "technology": {"query": query},
        "jurisdictions": [{"id": jid, "name": responses[jid]["jurisdiction"]["name"]} for jid in ids],
        "columns": columns,
        "class_differs": len({c["class"] for c in columns.values()}) > 1,
        "rows": out_rows,
        "knowledge_base": first["knowledge_base"],
    }


# --------------------------------------------------------------------------- text


def _deadline_text(cell: dict) -> str:
    d = cell["deadline"] or {}
    status = vocabulary().names("statuses").get(cell["status"], cell["status"] or "")
    text = d.get("text") or "—"
    due = f" → {cell['due']}" if cell["due"] else ""
    alt = (
        "；另有：" + "、".join(a["text"] + (f" → {a['due']}" if a.get("due") else "") for a in cell["alternatives"])
        if cell["alternatives"]
        else ""
    )
    return f"{text}{due}（{status}）{alt}"


def _catalog_names() -> dict:
    try:
        from engine.catalog import load_catalogs

        return {k: v.name for k, v in load_catalogs().versions.items()}
    except Exception:  # names are a courtesy: the listing still shows its code and entry name
        return {}


def compare_text(model: dict) -> str:
    """The comparison for a person, in Chinese: per act, what is the same everywhere and what differs (marked ≠)."""
    names = {j["id"]: j["name"] for j in model["jurisdictions"]}
    width = max(len(n) for n in names.values())
    pad = lambda jid: names[jid] + "\u3000" * (width - len(names[jid]))  # noqa: E731 - full-width padding lines CJK up
    kb = model.get("knowledge_base") or {}
    lines = [
        "医疗技术临床应用管理 · 各地对比",
        f"技术：{model['technology'].get('query') or '（未指明）'}；查询日期：{model['as_of']}；知识库版本：{kb.get('version', '—')}",
        "对比：" + " | ".join(names.values()),
        "说明：≠ 标出各地不同之处；—— 表示该地无此项义务。",
        "─" * 40,
        "技术分类" + ("  ≠" if model["class_differs"] else "（各地相同）"),
    ]
    short = vocabulary().names("document_short_titles")
    cite = lambda c: f"{short.get(c['document'], c['document'])}{c['label']}"  # noqa: E731 - 《办法》第十一条第一款
    catalogs = _catalog_names()
    for jid, col in model["columns"].items():
        listing = "；".join(
            f"{catalogs.get(x['catalog'], x['catalog'])} {x['code']} {x['name']}" for x in col["listings"]
        )
        # 限制类技术（重庆市限制类医疗技术目录 CQ01 …）; a class without a listing needs no（未列入目录）after it
        lines.append(f"  {pad(jid)}：{col['class_name'] or '—'}" + (f"（{listing}）" if listing else ""))
    group = None
    for row in model["rows"]:
        if row["group"] != group:
            group = row["group"]
            lines += ["", "─" * 40, GROUP_ZH[group]]
        everywhere = all(c is not None for c in row["cells"].values())
        # （各地相同） only when every jurisdiction has the duty, with the same deadline (issue 20)
        mark = (
            "  ≠ " + "、".join(FIELD_ZH[f] for f in row["differs"])
            if row["differs"]
            else ("（各地相同）" if everywhere else "")
        )
        lines += ["", f"【{row['action_name']}】{row['summary']}{mark}"]
        present = {j: c for j, c in row["cells"].items() if c is not None}
        same = {f for f in ("addressee", "deadline", "materials") if f not in row["differs"]}
        any_cell = next(iter(present.values()))
        same_zh = (
            "（各地相同）" if len(present) > 1 and everywhere else ("（有此项的各地相同）" if len(present) > 1 else "")
        )
        if "addressee" in same and any_cell["addressee"]:
            lines.append(f"  对象{same_zh}：{any_cell['addressee_name']}")
        if "deadline" in same and "due" not in row["differs"] and "status" not in row["differs"]:
            lines.append(f"  期限{same_zh}：{_deadline_text(any_cell)}")
        if "materials" in same and any_cell["materials"]:
            lines.append(f"  材料{same_zh}：" + "；".join(any_cell["materials"]))
        keys = [tuple((c["document"], c["eid"]) for c in cell["citations"]) for cell in present.values()]
        common = (
            [c for c in any_cell["citations"] if all((c["document"], c["eid"]) in k for k in keys)]
            if len(present) > 1
            else []
        )
        if common:
            lines.append("  共同依据：" + "；".join(cite(c) for c in common))
        for jid, cell in row["cells"].items():
            if cell is None:
                lines.append(f"  {pad(jid)}：——（无此项）")
                continue
            parts = []
            if "addressee" not in same and cell["addressee"]:
                parts.append(f"对象：{cell['addressee_name']}")
            if "deadline" not in same or "due" in row["differs"] or "status" in row["differs"]:
                parts.append(f"期限：{_deadline_text(cell)}")
            own = [c for c in cell["citations"] if c not in common]
            if own:
                parts.append(("另据：" if common else "依据：") + "；".join(cite(c) for c in own))
            if "materials" not in same and cell["materials"]:
                parts.append("材料：" + "；".join(cell["materials"]))
            if not parts and "present" in row["differs"]:
                parts.append("适用（同上）")
            if parts:
                lines.append(f"  {pad(jid)}：" + parts[0])
                lines += [f"  {pad(jid).replace(names[jid], chr(0x3000) * len(names[jid]))}  {x}" for x in parts[1:]]
    return "\n".join(lines)
