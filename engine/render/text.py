"""render_text(response) -> str: a decision response (contract section 4) in Chinese, for a person.

Everything shown comes from the response dict itself; vocabulary ids are turned into their
Chinese labels from kb/vocabulary.yaml. The output is deterministic (same response, same text).
"""
from __future__ import annotations

import datetime as dt
import re

from engine.kb.vocabulary import vocabulary

RULE = "─" * 40
UNDATED = ("none", "immediately", "same_day")  # deadline kinds that never have a date
QUOTE_LIMIT = 300  # longer quotes (whole attachments) are cut, with a pointer to `medtech kb show`


def _label(key: str, value) -> str:
    """The Chinese label of a vocabulary id (the id itself when unknown, "—" when absent)."""
    if value is None or value == "":
        return "—"
    return vocabulary().names(key).get(value, str(value))


def _local(jurisdiction: str | None, key: str, value) -> str:
    """Like `_label`, in the jurisdiction's own wording (上海 and 重庆: 市卫生健康部门/委员会, not 省级)."""
    if value is None or value == "":
        return "—"
    return vocabulary().local_names(jurisdiction, key).get(value, str(value))


_REPEATED = re.compile(r"^art_\d+_(\d+)(?:__|$)")


def _to_confirm(o: dict) -> str:
    """应已于…前完成，请核实: a step whose day has passed and that nobody can say was not done."""
    d = o.get("deadline") or {}
    if d.get("kind") == "before_event" and d.get("event"):
        event_day = (dt.date.fromisoformat(o["due"]) + dt.timedelta(days=1)).isoformat()
        return f"应已于{_label('event_types', d['event'])}（{event_day}）前完成，请核实"
    return f"应已于 {o['due']} 或之前完成，请核实"


def _indent(text: str, prefix: str) -> str:
    return "\n".join(prefix + line if line else line for line in str(text).splitlines() or [""])


class _Renderer:
    def __init__(self, response: dict):
        self.r = response
        self.titles = {d.get("id"): d.get("title") for d in response.get("documents") or []}
        self.jurisdiction = (response.get("jurisdiction") or {}).get("id")
        self.lines: list[str] = []

    def add(self, *lines: str) -> None:
        self.lines.extend(lines)

    def where(self, c: dict) -> str:
        """《文件名》第十一条第一款 (the document id when its title is not in the response)."""
        title = self.titles.get(c.get("document"))
        doc = f"《{title}》" if title else f"[{c.get('document', '?')}]"
        label = c.get("label") or c.get("eid") or ""
        m = _REPEATED.match(c.get("eid") or "")
        if m:  # a repeated article number (吉林 第四十一条 twice): say which one
            article = label[: label.index("条") + 1] if "条" in label else label
            label += f"（原文中第{m.group(1)}个{article}）"
        return f"{doc}{label}"

    def citations(self, citations: list, prefix: str, quote: bool = True) -> None:
        for c in citations or []:
            self.add(f"{prefix}· {self.where(c)}")
            q = c.get("quote")
            if quote and q:
                if len(q) > QUOTE_LIMIT:
                    q = f"{q[:QUOTE_LIMIT]}……」（节选；全文：medtech kb show {c.get('document')} {c.get('eid')}）"
                else:
                    q += "」"
                self.add(_indent(f"「{q}", prefix + "  "))

    def header(self) -> None:
        r = self.r
        j = r.get("jurisdiction") or {}
        kb = r.get("knowledge_base") or {}
        digest = str(kb.get("digest") or "")
        short = digest[: len("sha256:") + 12] if digest.startswith("sha256:") else digest[:12]
        self.add("医疗技术临床应用管理 · 合规意见",
                 f"管辖：{j.get('name') or j.get('id') or '—'}；查询日期：{r.get('as_of') or '—'}；"
                 f"知识库版本：{kb.get('version') or '—'}（{short or '—'}）", RULE)
        self.add("适用文件：")
        for d in r.get("documents") or []:
            title = f"《{d['title']}》" if d.get("title") else ""
            self.add(f"  · {d.get('id')} {title} —— {_label('document_statuses', d.get('status'))}")
        if not r.get("documents"):
            self.add("  （无）")

    def technology(self) -> None:
        t = self.r.get("technology")
        self.add("", "技术：")
        if not t:
            self.add("  未指定具体技术：以下仅为机构层面的义务。")
            return
        name = t.get("name") or "（未能识别）"
        query = t.get("query")
        self.add(f"  名称：{name}" + (f"（查询：{query}）" if query and query != t.get("name") else ""))
        self.add(f"  分类：{_label('technology_classes', t.get('class'))}")
        for listing in t.get("listings") or []:
            scope = "国家目录" if listing.get("scope") == "national" else "省级目录"
            grades = listing.get("grades")
            g = f"（手术分级：{'、'.join(f'{x}级' for x in grades)}）" if grades else ""
            self.add(f"  列入：{scope} {listing.get('catalog')} {listing.get('code')} {listing.get('name')}{g}")
            if listing.get("citation"):
                self.citations([listing["citation"]], "    ", quote=False)
        if t.get("citations"):
            self.add("  分类依据：")
            self.citations(t["citations"], "    ")
        for c in t.get("candidates") or []:
            self.add(f"  可能是：{c.get('name') or c.get('id')}" + (f"（{c['id']}）" if c.get("id") else ""))

    def deadline(self, o: dict, prefix: str) -> None:
        d = o.get("deadline") or {}
        due, status = o.get("due"), _label("statuses", o.get("status"))
        if due and o.get("status") == "to_confirm":
            when = _to_confirm(o)
        elif due:
            when = f"截止 {due}；{status}"
        elif d.get("kind") in UNDATED:
            when = status
        else:
            when = f"尚无法计算具体日期；{status}"
        self.add(f"{prefix}期限：{d.get('text') or '—'}（{when}）")
        if d.get("provisional"):
            self.add(f"{prefix}  （该年度节假日安排尚未公布，日期为临时计算）")
        for occ in d.get("occurrences") or []:
            period = occ.get("period") or ""
            what = f"{period[:4]}年第{period[-1]}季度数据" if period else f"{occ.get('event_date') or ''}事件"
            self.add(f"{prefix}  · {what}：截止 {occ.get('due') or '—'}（{_label('statuses', occ.get('status'))}）")
        for a in d.get("alternatives") or []:
            alt_due = f"截止 {a['due']}" if a.get("due") else "无法计算具体日期"
            srcs = "、".join(self.where(c) for c in a.get("citations") or [])
            self.add(f"{prefix}其他期限：{a.get('text')}（{alt_due}）" + (f"，依据 {srcs}" if srcs else ""))

    def obligation(self, n: int, o: dict, full: bool) -> None:
        action = _label("actions", o.get("action"))
        self.add("", f"{n}. 【{action}】{o.get('summary') or ''}")
        p = "   "
        if not full:
            self.add(f"{p}主体：{_local(self.jurisdiction, 'actors', o.get('actor'))}")
        if o.get("addressee"):
            self.add(f"{p}对象：{_local(self.jurisdiction, 'addressees', o.get('addressee'))}")
        self.deadline(o, p)
        if o.get("materials"):
            self.add(f"{p}材料：")
            for i, m in enumerate(o["materials"], 1):
                self.add(_indent(f"({i}) {m.get('text')}", p + "  "))
        self.add(f"{p}依据：")
        self.citations(o.get("citations") or [], p + "  ", quote=full)
        for c in (o.get("consequences") or []) if full else []:
            srcs = "、".join(self.where(x) for x in c.get("citations") or [])
            self.add(f"{p}法律责任：{c.get('text')}" + (f"（{srcs}）" if srcs else ""))
        if o.get("rules"):
            self.add(f"{p}规则：{'、'.join(o['rules'])}")

    def summary(self) -> None:
        """What is owed at once or by a date (immediate first, then by due date): the answer at a glance."""
        items = [o for o in self.r.get("obligations") or [] if o.get("due") or o.get("status") == "immediate"]
        # what is still to do first; steps that had to precede a past event (to_confirm) last
        items.sort(key=lambda o: (o.get("status") != "immediate", o.get("status") == "to_confirm", o.get("due") or ""))
        if not items:
            return
        self.add("", RULE, "要点：")
        for o in items:
            to = f" → {_local(self.jurisdiction, 'addressees', o['addressee'])}" if o.get("addressee") else ""
            if o.get("status") == "to_confirm":
                self.add(f"  · {_label('actions', o.get('action'))}{to}：{_to_confirm(o)}")
                continue
            when = f"截止 {o['due']}" if o.get("due") else "立即"
            self.add(f"  · {_label('actions', o.get('action'))}{to}：{when}（{_label('statuses', o.get('status'))}）")

    def duties(self, key: str, title: str, full: bool, empty: str) -> None:
        self.add("", RULE, title)
        items = self.r.get(key) or []
        for n, o in enumerate(items, 1):
            self.obligation(n, o, full)
        if not items:
            self.add(f"  {empty}")

    def notes(self) -> None:
        warnings = self.r.get("warnings") or []
        missing = self.r.get("missing_facts") or []
        if warnings:
            self.add("", RULE, "提示：")
            for w in warnings:
                self.add(f"  · {w.get('message') or _label('warning_codes', w.get('code'))}")
        if missing:
            self.add("", RULE, "待补充事实：")
            for m in missing:
                self.add(f"  · {m.get('question')} —— {m.get('why')}（{m.get('path')}）")

    def render(self) -> str:
        self.header()
        self.technology()
        self.summary()
        self.duties("obligations", "机构义务：", True, "（根据所给事实，没有需要本机构办理的事项）")
        self.duties("authority_actions", "行政部门事项：", False, "（无）")
        self.notes()
        return "\n".join(self.lines) + "\n"


def render_text(response: dict) -> str:
    """The response as Chinese text for a policy officer (see the module docstring)."""
    return _Renderer(response).render()
