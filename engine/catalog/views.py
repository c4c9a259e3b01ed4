"""Person-readable views of the catalogues: the crosswalk (rows, Markdown, CSV), the catalogue
in force in a jurisdiction (`format_catalog`) and the answer to a search (`format_search`).

Part of engine.catalog (the public facade).
"""

from __future__ import annotations

import csv
import datetime as dt
import io

from engine.catalog import textnorm
from engine.catalog.data import Catalogs, load_catalogs
from engine.catalog.model import ALL, GRADE_ZH, STATUS_ZH, Version, _as_date
from engine.catalog.resolve import resolve


def _grades_zh(grades) -> str:
    return "、".join(GRADE_ZH[g] for g in grades) if grades else ""


# --------------------------------------------------------------------------- crosswalk


def crosswalk(catalogs: Catalogs | None = None) -> list[dict]:
    """One row per canonical technology: {technology, name, <version id>: cell, …}.

    A cell lists the codes of the version's entries covering the technology: `S25` when the entry
    is mapped to the technology itself, `(S25)` when it covers it as a broader entry, with the
    grade qualifier appended (`S06[3,4]`); empty when the version does not cover it.
    """
    cat = catalogs or load_catalogs()
    tax = cat.taxonomy
    order = sorted(cat.versions.values(), key=lambda v: (v.scope != "national", v.id))
    rows = []
    for t in sorted(tax.nodes.values(), key=lambda t: t.index):
        row = {"technology": t.id, "name": t.name}
        for v in order:
            cells = []
            for e in cat.cover[v.id].get(t.id, ()):
                c = e.code + (f"[{','.join(map(str, e.grades))}]" if e.grades else "")
                cells.append(c if e.technology == t.id else f"({c})")
            row[v.id] = " ".join(cells)
        rows.append(row)
    return rows


def _crosswalk_columns(cat: Catalogs) -> list[str]:
    return ["technology", "name"] + [
        v.id for v in sorted(cat.versions.values(), key=lambda v: (v.scope != "national", v.id))
    ]


def crosswalk_markdown(catalogs: Catalogs | None = None) -> str:
    """The crosswalk as a Markdown table."""
    cat = catalogs or load_catalogs()
    cols = _crosswalk_columns(cat)
    lines = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    for row in crosswalk(cat):
        lines.append("| " + " | ".join(str(row[c]).replace("|", "\\|") for c in cols) + " |")
    return "\n".join(lines) + "\n"


def crosswalk_csv(catalogs: Catalogs | None = None) -> str:
    """The crosswalk as CSV (header row first)."""
    cat = catalogs or load_catalogs()
    cols = _crosswalk_columns(cat)
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=cols, lineterminator="\n")
    w.writeheader()
    for row in crosswalk(cat):
        w.writerow(row)
    return buf.getvalue()


# --------------------------------------------------------------------------- text


def _dated_text(value: dict | None) -> str:
    if not value or not value.get("date") or value.get("precision") == "unknown":
        return "不详"
    if value.get("precision") == "year":
        return f"{value['date']}年（月日不详）"
    return str(value["date"])


def _version_heading(cat: Catalogs, v: Version, as_of: dt.date) -> str:
    st = cat.version_status(v, as_of)
    if v.document:
        d = cat.document_dates(v.document) or {}
        span = f"依据 {v.document}，自{_dated_text(d.get('in_force_from'))}起施行"
        if d.get("in_force_until"):
            span += f"，至{_dated_text(d.get('in_force_until'))}"
    else:
        span = f"自{_dated_text(v.validity.get('in_force_from'))}起施行"
        if v.validity.get("in_force_until"):
            span += f"，至{_dated_text(v.validity.get('in_force_until'))}"
    scope = "国家" if v.scope == "national" else "省级"
    return f"{v.name}（{v.id}，{scope}，{span}；{as_of.isoformat()}：{STATUS_ZH.get(st, st)}）"


def format_catalog(jurisdiction: str | None = "national", as_of=None) -> str:
    """The restricted-technology catalogue in force in a jurisdiction: national version + provincial, with codes and grade qualifiers."""
    cat = load_catalogs()
    day = _as_date(as_of)
    j = cat.jurisdiction_id(jurisdiction)
    jname = "全部地区" if j == ALL else cat.jurisdictions[j]["name"]
    versions = cat.in_force(j, day)
    lines = [f"{jname}限制类技术目录（{day.isoformat()}）", ""]
    if not versions:
        lines.append("该日没有施行中的限制类技术目录。")
    for v in versions:
        lines.append(_version_heading(cat, v, day))
        width = max(len(e.code) for e in v.entries)
        for e in v.entries:
            cite = cat.entry_citation(e, j, day)
            grade = f"  〔限{_grades_zh(e.grades)}〕" if e.grades else ""
            where = f"  [{cite['document']} {cite['eid']}]" if cite else ""
            lines.append(f"  {e.code.ljust(width)}  {e.name}{grade}{where}")
        lines.append("")
    # provincial documents in force that reproduce a superseded national list
    for doc in cat.jurisdiction_documents(j):
        if doc not in cat.reproductions or not cat.applicable(doc, day):
            continue
        for nv in cat.reproductions[doc]:
            if cat.version_status(nv, day) == "expired":
                r = next(x for x in nv.reproduced_in if x["document"] == doc)
                now = "、".join(v.id for v in versions if v.scope == "national") or "无"
                lines.append(
                    f"注：{doc} {r['eid']} 转载的{nv.name}（{nv.id}，{len(nv.entries)}项）已于"
                    f"{_dated_text(nv.validity.get('in_force_until'))}后被替代，不再适用；现行国家目录：{now}。"
                )
    for v in cat.versions.values():
        if v.scope == "provincial" and (j == ALL or v.jurisdiction == j) and v not in versions:
            lines.append(
                f"注：{v.name}（{v.id}）在{day.isoformat()}{STATUS_ZH.get(cat.version_status(v, day), '')}，未列入。"
            )
    return "\n".join(lines).rstrip() + "\n"


def _listing_line(listing: dict) -> str:
    grade = f"〔限{_grades_zh(listing['grades'])}〕" if listing.get("grades") else ""
    c = listing.get("citation") or {}
    where = f" [{c.get('document')} {c.get('eid')}]" if c else ""
    scope = "国家" if listing["scope"] == "national" else "省级"
    return f"  {listing['catalog']} {listing['code']} {listing['name']}{grade}（{scope}）{where}"


def format_search(
    query: str, jurisdiction: str | None = "national", as_of=None, surgery_grade: int | None = None
) -> str:
    """A person-readable answer to "what is this technique and is it listed here?" (query: name or code)."""
    if textnorm.looks_like_code(query):
        res = resolve(code=query, jurisdiction=jurisdiction, as_of=as_of, surgery_grade=surgery_grade)
        if res.status == "not_recognized":
            by_name = resolve(name=query, jurisdiction=jurisdiction, as_of=as_of, surgery_grade=surgery_grade)
            if by_name.status != "not_recognized":
                res = by_name
    else:
        res = resolve(name=query, jurisdiction=jurisdiction, as_of=as_of, surgery_grade=surgery_grade)
    cat = load_catalogs()
    jname = "全部地区" if res.jurisdiction == ALL else cat.jurisdictions[res.jurisdiction]["name"]
    lines = [f"查询：{query}（{jname}，{res.as_of}" + (f"，手术分级{surgery_grade}级" if surgery_grade else "") + "）"]
    if res.status == "ambiguous":
        lines.append("结果：名称或编号对应多项技术，请指明：")
        lines += [f"  - {c['name']}（{c['id']}）：{c['reason']}" for c in res.candidates]
        return "\n".join(lines) + "\n"
    if res.status == "not_recognized":
        lines.append("结果：未能识别。")
        lines += [f"  注：{n}" for n in res.notes]
        if res.candidates:
            lines.append("相近的技术：")
            lines += [f"  - {c['name']}（{c['id']}，相似度{c['score']:.2f}）：{c['reason']}" for c in res.candidates]
        return "\n".join(lines) + "\n"
    t = res.technology
    assert t is not None  # every status but not_recognized names the technology
    lines.append(f"技术：{t['name']}（{t['id']}）")
    if res.matched and res.matched.get("by") == "code":
        m = res.matched
        lines.append(
            f"编号：{m['catalog']} {m['code']} {m['name']}"
            + (f" [{m['document']} {m['eid']}]" if m.get("document") else "")
        )
    node = cat.taxonomy.nodes[t["id"]]
    parents = [cat.taxonomy.nodes[p].name for p in node.is_a]
    if parents:
        lines.append(f"上位技术：{'、'.join(parents)}")
    if res.prohibited:
        lines.append("禁止类技术：")
        lines += [
            f"  - {p['name']}（{p['ground_name'] or p['ground']}） [{p['citation']['document']} {p['citation']['eid']}]"
            for p in res.prohibited
        ]
    if res.out_of_scope:
        o = res.out_of_scope
        cites = "、".join(f"{c['document']} {c['eid']}" for c in o["citations"])
        lines.append(f"不适用本办法：属于{o['name']} [{cites}]")
    if res.listings:
        lines.append("列入施行中的限制类技术目录：")
        lines += [_listing_line(x) for x in res.listings]
    elif not res.grade_needed:
        lines.append("未列入施行中的限制类技术目录。")
    if res.grade_needed:
        lines.append("取决于手术分级（未提供）：")
        lines += [_listing_line(x) for x in res.grade_needed]
    if res.grade_excluded:
        lines.append(f"所给手术分级（{surgery_grade}级）不在以下条目的范围内：")
        lines += [_listing_line(x) for x in res.grade_excluded]
    if res.narrower_listings:
        lines.append("下位技术另有列入（所问技术更宽，不因此整体列入）：")
        lines += [_listing_line(x) + f" ← {x['technology']['name']}" for x in res.narrower_listings]
    for s in res.superseded:
        now = s["in_force_listing"]
        now_text = f"现行为 {now['catalog']} {now['code']} {now['name']}" if now else "现行国家目录未列入"
        r = s["reproduced_in"]
        lines.append(
            f"注意：{r['document']} {r['eid']} 转载的 {s['catalog']} {s['code']} {s['name']} 已被新版国家目录替代；{now_text}。"
        )
    for c in res.candidates:
        lines.append(f"另：{c['reason']}")
    day = _as_date(res.as_of)
    for v in cat.provincial:
        if (res.jurisdiction == ALL or v.jurisdiction == res.jurisdiction) and v not in cat.in_force(
            res.jurisdiction, day
        ):
            lines.append(
                f"注：{v.name}（{v.id}）在{res.as_of}{STATUS_ZH.get(cat.version_status(v, day), '')}，未适用。"
            )
    return "\n".join(lines) + "\n"
