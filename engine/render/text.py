"""render_text(response) -> str: a decision response (contract section 4) in Chinese, for a person.

The short answer first: the verdict, what to do now (soonest first, with days left), what should
already be done, then the rest; institution-wide duties one line each; provisions cited by label
(《办法》第十一条第一款). `full=True` adds the verbatim quotes, the consequences and the reasoning.
Everything comes from the answer model (engine.render.answer), which the memo and the web page share.
No rule ids, document ids or eIds appear; the output is deterministic.
"""

from __future__ import annotations

from engine.render.answer import build_answer
from engine.render.humanize import chinese_or

RULE = "─" * 40
QUOTE_LIMIT = 300  # longer quotes (whole attachments) are cut, with a pointer to the provision


def cite_list(provisions: list[dict], limit: int | None = None) -> str:
    """《办法》第十一条第一款、第十七条第一款；《湖南通知》二、（二）第二段 — labels grouped by document, in order.
    With `limit`, at most that many labels, then 等N处."""
    shown = provisions if limit is None else provisions[:limit]
    groups: dict[str, list[str]] = {}
    for p in shown:
        labels = groups.setdefault(p["document_short"], [])
        if p["label"] not in labels:
            labels.append(p["label"])
    out = "；".join(doc + "、".join(labels) for doc, labels in groups.items())
    if limit is not None and len(provisions) > limit:
        out += f" 等{len(provisions)}处"
    return out


def quote_text(p: dict, mainland: bool = False) -> str:
    """A provision's words in quotation marks, cut at QUOTE_LIMIT characters. `mainland`: the marks of
    a mainland document (“…”, with the quote's own “…” turned into ‘…’), else corner brackets 「…」."""
    q = p.get("quote") or ""
    if not q:
        return ""
    left, right = "「", "」"
    if mainland:
        left, right = "“", "”"
        q = q.replace("“", "‘").replace("”", "’")
    if len(q) > QUOTE_LIMIT:
        return f"{left}{q[:QUOTE_LIMIT]}……{right}（节选，全文见{p['cite']}）"
    return f"{left}{q}{right}"


def _indent(text: str, prefix: str) -> list[str]:
    return [prefix + line if line else line for line in str(text).splitlines() or [""]]


class _Text:
    def __init__(self, answer: dict, full: bool):
        self.a = answer
        self.full = full
        self.lines: list[str] = []

    def add(self, *lines: str) -> None:
        self.lines.extend(lines)

    def header(self) -> None:
        a = self.a
        inst = a["institution"]
        who = inst["name"] or "医疗机构"
        detail = "，".join(
            x
            for x in (
                a["jurisdiction"]["name"],
                (inst["level_text"] + inst["category_text"]) or "",
                "中医医疗机构" if inst["tcm"] else "",
            )
            if x
        )
        # the verdict leads (contract §5 "The verdict"): the first line of every surface
        self.add(
            f"结论：{a['verdict']}",
            "医疗技术临床应用管理 · 合规意见",
            f"机构：{who}（{detail}）；查询日期：{a['as_of'] or '—'}",
        )
        t = a["technology"]
        if t:
            name = t["name"] or "（未能识别）"
            query = f"（查询：{t['query']}）" if t["query"] and t["query"] != t["name"] else ""
            self.add(f"技术：{name}{query}——{t['class_text']}")
            for li in t["listings"]:
                where = f"（{li['provision']['cite']}）" if li.get("provision") else ""
                grades = f"，手术分级{'、'.join(f'{g}级' for g in li['grades'])}" if li.get("grades") else ""
                self.add(f"  列入：{li['catalog_name']} {li['code']} {li['name']}{grades}{where}")
            if t["provisions"]:
                self.add(f"  分类依据：{cite_list(t['provisions'], None if self.full else 3)}")
            if self.full:
                for p in t["provisions"]:
                    self.quote(p, "    ")
            if t["candidates"]:
                self.add("  可能是：" + "、".join(c["name"] for c in t["candidates"] if c["name"]))
        else:
            self.add("技术：未指定具体技术，以下为机构层面的义务")

    def quote(self, p: dict, prefix: str) -> None:
        q = quote_text(p)
        if q:
            self.add(f"{prefix}{p['cite']}：")
            self.add(*_indent(q, prefix + "  "))

    def detailed(self, n: int, i: dict) -> None:
        """A duty in full: what, to whom, by when, materials, provisions."""
        self.add(f"{n}. 【{i['action_text']}】{i['title']}")
        p = "   "
        if i["addressee_text"]:
            self.add(f"{p}对象：{i['addressee_text']}")
        when, rule = i["when_text"], i["deadline_text"]
        if rule.startswith("立即") and when.startswith("立即"):
            # 立即报告（自 2025-06-03 起）, not 立即报告；立即（2025-06-03 起）
            self.add(f"{p}期限：{rule}" + (f"（自 {i['due']} 起）" if i["due"] else ""))
        elif when == rule:  # no day to add to the provision's words (未规定期限)
            self.add(f"{p}期限：{rule}")
        else:
            self.add(f"{p}期限：{rule + '；' if rule else ''}{when}")
        if i["provisional"]:
            self.add(f"{p}  （该年度节假日安排尚未公布，日期为临时计算）")
        for alt in i["alternatives"]:
            if not self.full and alt["due"] == i["due"] and alt["text"] == i["deadline_text"]:
                continue  # the same deadline under another provision: its label is already among 依据
            due = f"，截止 {alt['due']}" if alt["due"] else ""
            self.add(f"{p}另一期限：{alt['text']}{due}（{cite_list(alt['provisions'])}）")
        for occ in i["occurrences"]:
            self.add(f"{p}  · {occ['what']}：截止 {occ['due'] or '—'}（{occ['status_text'] or '待办'}）")
        if i["materials"]:
            self.add(f"{p}材料：")
            for k, m in enumerate(i["materials"], 1):
                self.add(*_indent(f"□ {k}. {m}", p + "  "))
        self.add(f"{p}依据：{cite_list(i['provisions'])}")
        self.if_not_done(i, p)
        if self.full:
            for pr in i["provisions"]:
                self.quote(pr, p + "  ")
            for c in i["consequences"]:
                self.add(f"{p}法律责任：{c['text']}" + (f"（{'、'.join(c['cites'])}）" if c["cites"] else ""))

    def brief(self, i: dict) -> None:
        """A duty on one line: action, to whom, when, provisions."""
        to = f" → {i['addressee_short']}" if i["addressee_short"] else ""
        self.add(f"  · {i['title']}{to}：{i['when_text']}（{cite_list(i['provisions'], 2)}）")
        self.if_not_done(i, "    ")

    def if_not_done(self, i: dict, prefix: str) -> None:
        """What holds if a duty past its day was not done, and its sanction in one line (issue 20 item 7)."""
        if i.get("if_not_done") and i["if_not_done"].get("what_now"):
            self.add(f"{prefix}{i['if_not_done']['what_now']}")
        if i.get("sanction"):
            self.add(f"{prefix}后果：{i['sanction']}")

    def sections(self) -> None:
        n = 0
        for s in self.a["sections"]:
            self.add(RULE, f"{s['title']}：")
            for i in s["items"]:
                if self.full or s["key"] in ("now",):
                    n += 1
                    self.detailed(n, i)
                else:
                    self.brief(i)
        if not self.a["sections"]:
            self.add(RULE, "根据所给事实，没有需要办理的事项。")

    def notes(self) -> None:
        if self.a["warnings"]:
            self.add(RULE, "提示：")
            for w in self.a["warnings"]:
                self.add(f"  · {w['text']}")
        if self.a["questions"]:
            self.add(RULE, "待补充事实：")
            for q in self.a["questions"]:
                why = chinese_or(q["why"], "")
                self.add(f"  · {q['question']}" + (f"（{why}）" if why and self.full else ""))
                for o in q.get("outcomes") or []:  # what each answer would mean (contract §5)
                    self.add(f"      若为“{o['value_text']}”：{o['next_text']}")

    def trace(self) -> None:
        if self.full and self.a.get("trace"):
            self.add(RULE, "推理过程（适用的规则，依次）：")
            for k, t in enumerate(self.a["trace"], 1):
                self.add(f"  {k}. {t['text']}（{cite_list(t['provisions'])}）")

    def footer(self) -> None:
        docs = "、".join(f"{d['short']}（{d['status_text']}）" for d in self.a["documents"])
        kb = self.a["knowledge_base"]
        self.add(RULE, f"适用文件：{docs or '—'}")
        currency = f"{self.a['currency']}；" if self.a.get("currency") else ""
        if self.full:  # the digest identifies the encoding that answered (same request + digest, same answer)
            self.add(f"{currency}知识库版本：{kb.get('version') or '—'}；摘要：{kb.get('digest') or '—'}")
        else:
            self.add(f"{currency}知识库版本：{kb.get('version') or '—'}（完整版另含引文原文、法律责任和推理过程）")

    def render(self) -> str:
        self.header()
        self.sections()
        self.notes()
        self.trace()
        self.footer()
        return "\n".join(self.lines) + "\n"


def render_answer_text(answer: dict, *, full: bool = False) -> str:
    """The answer model as Chinese text (see the module docstring)."""
    return _Text(answer, full).render()


def render_text(response: dict, *, full: bool = False, request: dict | None = None) -> str:
    """The response as Chinese text for a policy officer (see the module docstring)."""
    return render_answer_text(build_answer(response, full=full, request=request), full=full)
