"""build_answer(response) -> dict: one model of the answer, for people, that the Chinese text, the memo,
the exports and the web page all render.

The model says what to do, in which order, with Chinese labels in place of vocabulary ids:

- `verdict`: one line (e.g. 限制类技术：须于 2025-03-24 前向发证部门备案);
- `sections`: the duties grouped as a person acts on them, each a list of ITEMs (see `SECTIONS`);
  `now` is soonest first;
- `warnings`, `questions` (the missing facts), `technology`, `institution`, `documents`.

Every label comes from kb/vocabulary.yaml (actions, addressees, statuses, classes, warnings, the short
names of documents); nothing here is legal content. Citations are by label (《办法》第十一条第一款);
quotes and consequences are always in the model, and renderers decide whether to show them.
Statuses and warning codes the vocabulary does not know yet are shown by a neutral Chinese phrase,
never by their id.
"""

from __future__ import annotations

import datetime as dt
import re

from engine.kb.vocabulary import vocabulary
from engine.render.humanize import chinese_or

# (key, title): the order in which sections appear in every rendering.
SECTIONS = (
    ("now", "现在要做"),
    ("to_confirm", "应已完成（请核实）"),
    ("upcoming", "发生相应情形时要做"),
    ("ongoing", "持续义务"),
    ("authority", "行政部门将做什么"),
    ("done", "已完成"),
    ("institution_wide", "机构层面的常设义务"),
)
SECTION_TITLES = dict(SECTIONS)
NOW_STATUSES = ("immediate", "overdue", "due_today")
_REPEATED = re.compile(r"^art_\d+_(\d+)(?:__|$)")  # art_41_2: the second article numbered 41
UNKNOWN = "—"


def _names(key: str) -> dict:
    try:
        return vocabulary().names(key)
    except KeyError:
        return {}


def label(key: str, value, default: str = UNKNOWN) -> str:
    """The Chinese label of a vocabulary id; `default` when absent or not in the vocabulary."""
    if value is None or value == "":
        return default
    return _names(key).get(value, default)


def _kb():
    """The knowledge base, for rule summaries and document titles (None when it cannot be loaded)."""
    try:
        from engine.kb.loader import knowledge_base

        return knowledge_base()
    except Exception:  # a renderer must not fail because the knowledge base is unavailable
        return None


class _Context:
    """What the item builders share: the response's documents, the jurisdiction's wording, the knowledge base."""

    def __init__(self, response: dict):
        self.response = response
        jurisdiction = (response.get("jurisdiction") or {}).get("id")
        v = vocabulary()
        local = getattr(v, "local_names", None)
        self.actors = local(jurisdiction, "actors") if local else _names("actors")
        self.addressees = local(jurisdiction, "addressees") if local else _names("addressees")
        self.kb = _kb()
        self.titles = {d.get("id"): d.get("title") for d in response.get("documents") or []}
        self.short_local = next(
            (j.get("local_short_names") or {} for j in v.raw["jurisdictions"] if j["id"] == jurisdiction), {}
        )
        # the national measures: the first document of every jurisdiction
        self.first_document = next(iter(self.titles), None)
        self.short = _names("document_short_titles")

    def localize(self, text: str) -> str:
        """A national rule's wording in the jurisdiction's own words for its authorities (重庆: 市卫生健康委员会
        for 省级卫生健康行政部门; 上海: …的卫生健康部门), from the vocabulary's `local_names`."""
        generic = _names("addressees")
        for key, local in self.addressees.items():
            g = generic.get(key)
            if g and local != g:
                text = text.replace(g, local)
        return text

    def document_short(self, doc: str) -> str:
        if doc in self.short:
            return self.short[doc]
        title = self.titles.get(doc)
        if not title and self.kb is not None and doc in self.kb.documents:
            title = self.kb.documents[doc].title
        return f"《{title}》" if title else "《未知文件》"

    def document_title(self, doc: str) -> str:
        title = self.titles.get(doc)
        if not title and self.kb is not None and doc in self.kb.documents:
            title = self.kb.documents[doc].title
        return title or self.document_short(doc).strip("《》")

    def provision(self, c: dict) -> dict:
        doc = str(c.get("document") or "")
        short = self.document_short(doc)
        lab = c.get("label") or ""
        m = _REPEATED.match(c.get("eid") or "")
        if m:  # a repeated article number (吉林 第四十一条 twice): say which one
            article = lab[: lab.index("条") + 1] if "条" in lab else lab
            lab += f"（原文中第{m.group(1)}个{article}）"
        return {
            "document": c.get("document"),
            "document_short": short,
            "document_title": self.document_title(doc),
            "eid": c.get("eid"),
            "label": lab,
            "cite": f"{short}{lab}",
            "quote": c.get("quote") or "",
        }

    def rule_institution_wide(self, o: dict) -> bool:
        if self.kb is None:
            return False
        rules = [self.kb.rule_by_id.get(r) for r in o.get("rules") or []]
        return bool(rules) and all(r is not None and r.institution_wide for r in rules)

    def rule_summary(self, rule_id: str) -> str | None:
        rule = self.kb.rule_by_id.get(rule_id) if self.kb is not None else None
        return rule.spec.get("summary") if rule is not None else None


def _date(value) -> dt.date | None:
    try:
        return dt.date.fromisoformat(str(value)) if value else None
    except ValueError:
        return None


def _effective_status(o: dict) -> str:
    """The status shown: a step that had to precede an event already past is to be confirmed, not overdue
    (contract section 5, "Steps that precede an event"), whether or not the engine already says so."""
    status = o.get("status") or ""
    if status == "overdue" and (o.get("deadline") or {}).get("kind") == "before_event":
        return "to_confirm"
    return status


def days_left_text(days: int | None) -> str:
    if days is None:
        return ""
    if days > 0:
        return f"还剩 {days} 天"
    if days == 0:
        return "今天到期"
    return f"已逾期 {-days} 天"


def _when_text(
    due: str | None, status: str, days: int | None, deadline: dict, authority: bool = False, action: str | None = None
) -> str:
    """A short Chinese phrase for when: 2025-03-24 前（还剩 14 天）, 立即, 应已于…前完成，请核实 …"""
    if status == "immediate":
        return f"立即（{due} 起）" if due else "立即"
    if status == "to_confirm" and not due and deadline.get("latest"):
        return f"至迟应于 {deadline['latest']} 前完成，请核实"
    if status == "overdue" and not due and deadline.get("latest"):
        return f"至迟应于 {deadline['latest']} 前完成（已逾期）"
    if status == "to_confirm":
        d = _date(due)
        if d and deadline.get("kind") == "before_event" and deadline.get("event"):
            event = label("event_types", deadline["event"], "相应情形")
            return f"应已于{event}（{(d + dt.timedelta(days=1)).isoformat()}）前完成，请核实"
        return f"应已于 {due} 或之前完成，请核实" if due else "应已完成，请核实"
    if status == "done":
        return "已完成"  # late: the status text says by how many days
    if due:
        return f"{due} 前（{days_left_text(days)}）"
    if deadline.get("latest"):
        return f"至迟 {deadline['latest']} 前（确切日期取决于施行日期）"
    if _awaits_event(deadline):
        return deadline.get("text") or "待相应情形发生后起算"
    if _owed_once(deadline, action):
        return deadline.get("text") or "未规定期限，应及时办理"
    return "无具体期限" if authority else "持续履行"


def _owed_once(deadline: dict, action: str | None) -> bool:
    """An act with no period whose event has happened and that is not a standing duty (申请录入“备注三”)."""
    ongoing = vocabulary().raw.get("ongoing_actions") or []
    return bool(deadline.get("event") and deadline.get("date")) and action not in ongoing


def _awaits_event(deadline: dict) -> bool:
    """A deadline counted from (or before) an event that has not happened: no date yet (`date` is the
    event's day once it has happened)."""
    return bool(deadline.get("event")) and deadline.get("kind") not in ("none", None) and not deadline.get("date")


def _occurrences(deadline: dict, as_of: dt.date | None) -> list[dict]:
    out = []
    event = label("event_types", deadline.get("event"), "事件")  # 2025-04-30 限制类技术病例患者出院
    for occ in deadline.get("occurrences") or []:
        due = occ.get("due")
        d = _date(due)
        st = occ.get("status") or ""
        period = occ.get("period") or ""
        m = re.fullmatch(r"(\d{4})-?Q([1-4])", period)
        what = (
            f"{m.group(1)}年第{m.group(2)}季度数据"
            if m
            else (period or (f"{occ.get('event_date')} {event}" if occ.get("event_date") else ""))
        )
        out.append(
            {
                "event_date": occ.get("event_date"),
                "period": occ.get("period"),
                "what": what,
                "due": due,
                "days_left": (d - as_of).days if d and as_of else None,
                "status": st,
                "status_text": label("statuses", st, ""),
            }
        )
    return out


def _short_addressee(ctx: _Context, addressee: str | None) -> str:
    """The short name for verdicts; the jurisdiction's own wording where it has one (上海: 市卫生健康部门)."""
    if not addressee:
        return ""
    if addressee in ctx.short_local:
        return ctx.short_local[addressee]
    return label("addressee_short", addressee, ctx.addressees.get(addressee, ""))


def _item(ctx: _Context, o: dict, as_of: dt.date | None, authority: bool = False) -> dict:
    deadline = o.get("deadline") or {}
    status = _effective_status(o)
    due = o.get("due")
    d = _date(due)
    days = (d - as_of).days if d and as_of else None
    addressee = o.get("addressee")
    alternatives = []
    for a in deadline.get("alternatives") or []:
        alternatives.append(
            {
                "text": a.get("text") or "",
                "due": a.get("due"),
                "provisions": [ctx.provision(c) for c in a.get("citations") or []],
            }
        )
    consequences = [
        {"text": c.get("text") or "", "cites": [ctx.provision(x)["cite"] for x in c.get("citations") or []]}
        for c in o.get("consequences") or []
    ]
    # the sanction line: the jurisdiction's own text first (重庆 五、（二）: 不得再开展), else the first
    own = [
        i
        for i, c in enumerate(o.get("consequences") or [])
        if any(x.get("document") != ctx.first_document for x in c.get("citations") or [])
    ]
    lead = consequences[own[0] :] + consequences[: own[0]] if own else consequences
    ind = o.get("if_not_done")
    return {
        "id": o.get("id"),
        "action": o.get("action"),
        "action_text": label("actions", o.get("action"), "事项"),
        "title": ctx.localize(o.get("summary") or label("actions", o.get("action"), "事项")),
        "actor": o.get("actor"),
        "actor_text": ctx.actors.get(o.get("actor"), ""),
        "addressee": addressee,
        "addressee_text": ctx.addressees.get(addressee, "") if addressee else "",
        "addressee_short": _short_addressee(ctx, addressee),
        "due": due,
        "days_left": days,
        "status": status,
        "status_text": label("statuses", status, "待办")
        + (f"（逾期 {o['done_late_days']} 天）" if status == "done" and o.get("done_late_days") else ""),
        "deadline_text": deadline.get("text") or "",
        "when_text": _when_text(due, status, days, deadline, authority, o.get("action"))
        + (f"（逾期 {o['done_late_days']} 天）" if status == "done" and o.get("done_late_days") else ""),
        "provisional": bool(deadline.get("provisional")),
        "alternatives": alternatives,
        "occurrences": _occurrences(deadline, as_of),
        "materials": [m.get("text") or "" for m in o.get("materials") or []],
        "provisions": [ctx.provision(c) for c in o.get("citations") or []],
        "consequences": consequences,
        "if_not_done": (
            {"overdue_days": ind.get("overdue_days"), "what_now": chinese_or(ind.get("what_now") or "", "")}
            if ind
            else None
        ),
        # one line for what is overdue or, if not done, would be (contract §5): the first consequence
        # (not repeated when what to do now already quotes it)
        "sanction": (
            ""
            if ind and _sanction(lead) in (ind.get("what_now") or "")
            else (_sanction(lead) if (status == "overdue" or ind) else "")
        ),
        "latest": deadline.get("latest"),
    }


def _sanction(consequences: list[dict]) -> str:
    """The first consequence as one line: 《办法》第四十一条第一款第（四）项：由县级以上……"""
    if not consequences:
        return ""
    c = consequences[0]
    parts = c["text"].split("；")
    text = "；".join(parts[:2]) + ("……" if len(parts) > 2 else "")
    return f"{'、'.join(c['cites'][:2])}：{text}" if c["cites"] else text


def _section_of(ctx: _Context, o: dict, item: dict) -> str:
    status = item["status"]
    if status == "done":
        return "done"
    if status == "to_confirm":
        return "to_confirm"
    if ctx.rule_institution_wide(o) and not item["due"]:
        return "institution_wide"
    deadline = o.get("deadline") or {}
    if status in NOW_STATUSES or item["due"] or item["latest"]:
        return "now"
    if deadline.get("event") and deadline.get("date") and deadline.get("kind") not in ("none", None):
        return "now"  # its event has happened: owed now, never "when it happens" (contract §5)
    if _owed_once(deadline, o.get("action")) and not ctx.rule_institution_wide(o):
        return "now"
    if _awaits_event(deadline):
        return "upcoming"
    return "ongoing"


def _now_key(item: dict) -> tuple:
    """The verdict order (engine.inference.verdict): do not use, stop, immediate reports, overdue, then
    soonest first."""
    from engine.inference.verdict import rank

    return (rank(item), item["due"] or "9999-12-31")


def _verb_phrase(item: dict) -> str:
    verb = label("action_verbs", item["action"], item["action_text"])
    return (
        f"向{item['addressee_short']}" if item["addressee_short"] and item["action"] not in ("disclose",) else ""
    ) + verb


def _verdict(tech: dict | None, sections: dict, questions: list) -> str:
    cls = (tech or {}).get("class")
    head = label("technology_classes", cls, "") if tech else "机构层面"
    if cls == "undetermined":
        n = len(questions)
        return f"尚不能确定技术类别：请先回答 {n} 个问题" if n else "尚不能确定技术类别"
    now = sections.get("now") or []
    if now:
        first = now[0]
        more = f"（另有 {len(now) - 1} 项待办）" if len(now) > 1 else ""
        if first["action"] == "do_not_use":  # a prohibition, not a step: 不得 reads wrong after 须立即
            return f"{head}：{label('action_verbs', 'do_not_use', '不得应用于临床')}{more}"
        if first["status"] == "immediate":
            return f"{head}：须立即{_verb_phrase(first)}{more}"
        if first["status"] == "overdue":
            return f"{head}：已逾期，应于 {first['due']} 前{_verb_phrase(first)}{more}"
        return f"{head}：须于 {first['due']} 前{_verb_phrase(first)}{more}"
    if cls == "prohibited":
        return f"{head}：不得应用于临床"
    if sections.get("to_confirm"):
        return f"{head}：请核实 {len(sections['to_confirm'])} 项应已完成的事项"
    if sections.get("upcoming"):
        first = sections["upcoming"][0]
        return f"{head}：{first['deadline_text'] or first['title']}{_verb_phrase(first)}"
    if cls in ("out_of_scope",):
        return f"{head}：本办法的管理规定不适用"
    n = sum(len(sections.get(k) or []) for k in ("ongoing", "institution_wide"))
    return f"{head}：当前无到期事项" + (f"；常设和持续义务 {n} 项" if n else "")


def _outcome(o: dict) -> dict:
    """One answer to a missing fact and what it would mean: 若为“4”：限制类技术；须于 … 前向发证部门备案."""
    value = o.get("value")
    value_text = {True: "是", False: "否"}.get(value, str(value)) if isinstance(value, bool) else str(value)
    value_text = o.get("label") or value_text  # a qualified code is shown by the technique it means
    nxt = o.get("next") or {}
    class_text = label("technology_classes", o.get("class"), "尚不能确定")
    return {
        "value": value,
        "value_text": value_text,
        "class_text": class_text,
        # the verdict that answer would give (it names the class), else the class alone
        "next_text": chinese_or(nxt.get("text") or "", "") or f"{class_text}，当前无到期事项",
    }


def _asks_filed(response: dict, sections: dict) -> bool:
    """Whether a filing was owed for a case that happened and the request does not settle it: the page
    then asks 是否已备案？备案日期 (contract §5 "Known not done, or not known")."""
    for key in ("now", "to_confirm"):
        for i in sections.get(key) or []:
            if i["action"] == "file" and i["status"] in ("to_confirm", "pending", "due_today", "overdue"):
                return True
    return False


def _technology(ctx: _Context, t: dict | None) -> dict | None:
    if not t:
        return None
    names = _catalog_names()
    return {
        "query": t.get("query"),
        "id": t.get("id"),
        "name": t.get("name"),
        "class": t.get("class"),
        "class_text": label("technology_classes", t.get("class"), "尚不能确定"),
        "listings": [
            {
                "catalog": li.get("catalog"),
                "catalog_name": names.get(li.get("catalog"), "限制类技术目录"),
                "code": li.get("code"),
                "name": li.get("name"),
                "scope": li.get("scope"),
                "scope_text": "国家目录" if li.get("scope") == "national" else "省级目录",
                "grades": li.get("grades"),
                "provision": ctx.provision(li["citation"]) if li.get("citation") else None,
            }
            for li in t.get("listings") or []
        ],
        "provisions": [ctx.provision(c) for c in t.get("citations") or []],
        "candidates": [{"id": c.get("id"), "name": c.get("name") or ""} for c in t.get("candidates") or []],
    }


def _catalog_names() -> dict:
    try:
        from engine.catalog import load_catalogs

        return {k: v.name for k, v in load_catalogs().versions.items()}
    except Exception:  # names are a courtesy: the listing still shows its code and entry name
        return {}


def _institution(request_institution: dict | None, response: dict) -> dict:
    inst = dict(request_institution or {})
    j = response.get("jurisdiction") or {}
    level = inst.get("level")
    return {
        "name": inst.get("name") or "",
        "jurisdiction": j.get("id"),
        "jurisdiction_text": (j.get("name") or "")
        + (f"·{inst['province']}" if inst.get("province") and inst["province"] != j.get("name") else ""),
        "category": inst.get("category"),
        "category_text": label(
            "institution_categories", inst.get("category") or ("hospital" if request_institution else None), ""
        ),
        "level": level,
        "level_text": f"{'一二三'[level - 1]}级" if isinstance(level, int) and 1 <= level <= 3 else "",
        "tcm": bool(inst.get("tcm")),
    }


def _warning_text(w: dict) -> str:
    """The engine's message with ids turned into names; the vocabulary's label when it is not plain Chinese."""
    message = w.get("message") or ""
    # fact_unused names the request field and value (events.2.type=lead_changed（…）): keep the Chinese meaning
    message = re.sub(r"\s*[A-Za-z_][\w.]*=[\w.-]+（([^）]*)）\s*", r"“\1”", message)
    return chinese_or(message, label("warning_codes", w.get("code"), "请注意核实本答复的适用范围"))


def _trace(ctx: _Context, response: dict) -> list[dict]:
    out = []
    for t in response.get("trace") or []:
        out.append(
            {
                "text": ctx.rule_summary(t.get("rule")) or "",
                "provisions": [ctx.provision(c) for c in t.get("citations") or []],
            }
        )
    return out


def build_answer(response: dict, *, full: bool = False, request: dict | None = None) -> dict:
    """The answer model (see the module docstring). `request`, when given, supplies the institution's
    name, category and level, which the response does not repeat. `full` adds the reasoning (`trace`)."""
    ctx = _Context(response)
    as_of = _date(response.get("as_of"))
    tech = response.get("technology")
    sections: dict[str, list] = {k: [] for k, _ in SECTIONS}
    for o in response.get("obligations") or []:
        item = _item(ctx, o, as_of)
        sections[_section_of(ctx, o, item)].append(item)
    for o in response.get("authority_actions") or []:
        sections["authority"].append(_item(ctx, o, as_of, authority=True))
    sections["now"].sort(key=_now_key)
    # what, if not done, is overdue first (the verdict order), then by day
    sections["to_confirm"].sort(key=lambda i: (i["if_not_done"] is None, i["due"] or i["latest"] or "", i["id"] or ""))
    questions = [
        {
            "path": m.get("path"),
            "question": chinese_or(m.get("question") or "", "请补充相关事实"),
            "why": chinese_or(m.get("why") or "", ""),
            "outcomes": [_outcome(o) for o in m.get("outcomes") or []],
        }
        for m in response.get("missing_facts") or []
    ]
    technology = _technology(ctx, tech)
    notices = {n.get("id") for n in (response.get("knowledge_base") or {}).get("national_notices") or []}
    answer = {
        "verdict": (response.get("verdict") or {}).get("text") or _verdict(technology, sections, questions),
        "verdict_action": (response.get("verdict") or {}).get("action"),
        "verdict_status": (response.get("verdict") or {}).get("status"),
        "as_of": response.get("as_of"),
        "jurisdiction": {
            "id": (response.get("jurisdiction") or {}).get("id"),
            "name": (response.get("jurisdiction") or {}).get("name"),
        },
        "institution": _institution((request or {}).get("institution"), response),
        "technology": technology,
        "documents": [
            {
                "id": d.get("id"),
                "short": ctx.document_short(d.get("id")),
                "title": ctx.document_title(d.get("id")),
                "status": d.get("status"),
                "status_text": label("document_statuses", d.get("status"), ""),
            }
            for d in response.get("documents") or []
            # a national notice that is not yet in force on the day asked says nothing to this case: not shown
            # (its warning, when it names the technique asked, still is)
            if not (d.get("status") == "not_yet_in_force" and d.get("id") in notices)
        ],
        "sections": [{"key": k, "title": title, "items": sections[k]} for k, title in SECTIONS if sections[k]],
        "warnings": [{"code": w.get("code"), "text": _warning_text(w)} for w in response.get("warnings") or []],
        "questions": questions,
        "asks_filed": _asks_filed(response, sections),
        "knowledge_base": dict(response.get("knowledge_base") or {}),
        "currency": _currency(ctx, response.get("knowledge_base") or {}),
    }
    if full:
        answer["trace"] = _trace(ctx, response)
    return answer


def _currency(ctx, kb: dict) -> str:
    """One line saying how current the answer is: 本答复依据截至 YYYY-MM 收录的文件, with the national notices."""
    current_to = kb.get("current_to") or ""
    if not current_to:
        return ""
    notices = "、".join(ctx.document_short(n.get("id")) for n in kb.get("national_notices") or [])
    return f"本答复依据截至 {current_to[:7]} 收录的文件" + (f"（含国家卫生健康委通知：{notices}）" if notices else "")


def items(answer: dict, *keys: str) -> list[dict]:
    """The items of the named sections (all sections when none is named), in section order."""
    return [i for s in answer["sections"] if not keys or s["key"] in keys for i in s["items"]]
