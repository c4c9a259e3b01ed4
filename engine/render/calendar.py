"""Calendar reminders (iCalendar, RFC 5545, written by the icalendar library) for dated obligations.

One all-day event for each dated act the institution owes, the verdict, the deadline's wording,
materials and provisions in its description (and the verdict in the calendar's own description).

- Alarms ring at 09:00 (Asia/Shanghai, the calendar's time zone) a week and a day before the due date,
  and only when that moment is still ahead on the day asked: none for what is owed at once (立即),
  what is to be confirmed (应已完成，请核实) or what is overdue.
- A duty owed per occurrence or per period (each discharged patient, each quarter) is one event per
  occurrence not yet done; a recurring duty is continued to `HORIZON_DAYS` after the day asked (the
  description says so), while the document that sets it is in force.
- Authorities' actions and duties already done get no event.

Output is deterministic: UIDs are derived from the content and DTSTAMP is the day the question was asked.
"""

from __future__ import annotations

import datetime as dt
import hashlib

from engine.render.answer import items
from engine.textsafe import printable

SECTIONS = ("now", "to_confirm", "upcoming", "ongoing", "institution_wide")
ALARMS = (7, 1)  # days before the due date
ALARM_TIME = dt.time(9, 0)  # local time (Asia/Shanghai) at which an alarm rings
TIMEZONE = "Asia/Shanghai"
HORIZON_DAYS = 730  # how far ahead a recurring duty's occurrences are listed
NO_ALARM = ("immediate", "to_confirm", "overdue", "done")


def _date(value) -> dt.date | None:
    try:
        return dt.date.fromisoformat(str(value)) if value else None
    except ValueError:
        return None


def occurrence_dates(item: dict) -> list[tuple[dt.date, str, str]]:
    """(due date, what, status) of each occurrence of an item still owed: its occurrences' when it
    recurs (those done left out), else its own due date."""
    out = []
    for o in item.get("occurrences") or []:
        d = _date(o.get("due"))
        if d and o.get("status") != "done":
            out.append((d, o.get("what") or "", o.get("status") or item["status"]))
    if not item.get("occurrences"):
        own = _date(item.get("due"))
        if own:
            out.append((own, "", item["status"]))
    return sorted(set(out))


def reminder_dates(item: dict) -> list[dt.date]:
    """Every due date an item's events fall on (see `occurrence_dates`)."""
    return [d for d, _, _ in occurrence_dates(item)]


def alarm_triggers(due: dt.date, status: str, as_of: dt.date | None) -> list[dt.timedelta]:
    """The alarms of an all-day event on `due`, as offsets from the start of that day: 09:00 local time
    `ALARMS` days before, each only when it falls after the day asked; none for a status in NO_ALARM."""
    if status in NO_ALARM:
        return []
    out = []
    for days in ALARMS:
        day = due - dt.timedelta(days=days)
        if as_of is None or day > as_of:
            out.append(dt.datetime.combine(day, ALARM_TIME) - dt.datetime.combine(due, dt.time(0, 0)))
    return out


def _uid(answer: dict, item: dict, day: dt.date) -> str:
    inst = answer["institution"]
    tech = answer["technology"] or {}
    key = "|".join(
        str(x)
        for x in (
            answer["jurisdiction"]["id"],
            inst.get("name"),
            tech.get("id") or tech.get("query"),
            item["id"],
            item["addressee"],
            day.isoformat(),
        )
    )
    return hashlib.sha256(key.encode("utf-8")).hexdigest()[:32] + "@medtech-rules"


def _description(answer: dict, item: dict, verdict: str, what: str, status: str, horizon: str = "") -> str:
    tech = answer["technology"] or {}
    lines = [f"结论：{verdict}", item["title"] + (f"（{what}）" if what else "")]
    if tech:
        lines.append(f"技术：{tech.get('name') or tech.get('query') or ''}（{tech.get('class_text') or ''}）")
    if item["addressee_text"]:
        lines.append(f"对象：{item['addressee_text']}")
    # no "days left" here: a reminder is read on other days than the one it was made
    lines.append("期限：" + (item["deadline_text"] or "见依据"))
    if status == "to_confirm":
        lines.append("该事项应在此日期前完成，请核实是否已办理。")
    if item.get("if_not_done") and item["if_not_done"].get("what_now"):
        lines.append(item["if_not_done"]["what_now"])
    if item.get("sanction"):
        lines.append(f"后果：{item['sanction']}")
    elif status == "overdue":
        lines.append("该事项已逾期，请尽快办理。")
    elif status == "immediate":
        lines.append("该事项应立即办理。")
    if horizon:
        lines.append(f"本日历列出至 {horizon} 的各期提醒；此后仍按期限规定每期办理。")
    if item["materials"]:
        lines.append("材料：" + "；".join(f"{n}. {m}" for n, m in enumerate(item["materials"], 1)))
    lines.append("依据：" + "；".join(p["cite"] for p in item["provisions"]))
    return "\n".join(lines)


def _later(response: dict | None, until: dt.date) -> dict[tuple, list[tuple[dt.date, str]]]:
    """For each recurring obligation of the response, keyed as its item is, the occurrences after those
    the response lists, up to `until` ([] when the knowledge base cannot be loaded)."""
    if not response:
        return {}
    try:
        from engine.inference.deadlines import later_periods
        from engine.kb.loader import knowledge_base

        kb = knowledge_base()
    except Exception:  # reminders are a courtesy: the listed occurrences are still written
        return {}
    out: dict[tuple, list[tuple[dt.date, str]]] = {}
    for o in response.get("obligations") or []:
        periods = later_periods(kb, o, until)
        if periods:
            key = (o.get("id"), o.get("addressee"), (o.get("deadline") or {}).get("text") or "")
            out[key] = [(due.date, _period_text(p)) for p, due in periods if due.date]
    return out


def _period_text(period: str) -> str:
    year, _, quarter = period.partition("-Q")
    return f"{year}年第{quarter}季度数据" if quarter else period


def render_ics(answer: dict, *, verdict: str | None = None, response: dict | None = None) -> bytes:
    """The reminders of one answer as an iCalendar file (see the module docstring). `verdict`: the
    response's one line when it has one (else the answer's); `response`: the decision, to continue its
    recurring duties to the horizon."""
    from icalendar import Alarm, Calendar, Event, vText

    verdict = verdict or answer["verdict"]
    as_of = _date(answer["as_of"])
    until = (as_of or dt.date(1970, 1, 1)) + dt.timedelta(days=HORIZON_DAYS)
    later = _later(response, until)
    cal = Calendar()
    cal.add("prodid", "-//medtech-rules//合规提醒//ZH")
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    inst = answer["institution"]
    tech = answer["technology"] or {}
    calname = "医疗技术临床应用合规提醒" + (f"：{tech.get('name') or tech.get('query')}" if tech else "")
    cal.add("x-wr-calname", vText(printable(calname)))  # an X- property: escaped as TEXT, never asserted on
    cal.add("x-wr-timezone", TIMEZONE)
    cal.add("x-wr-caldesc", vText(printable(f"结论：{verdict}（查询日期 {answer['as_of'] or '—'}）")))
    cal.add("description", f"结论：{verdict}（查询日期 {answer['as_of'] or '—'}）")
    stamp = dt.datetime.combine(as_of or dt.date(1970, 1, 1), dt.time(0, 0), tzinfo=dt.UTC)
    who = inst.get("name") or ""
    name = tech.get("name") or tech.get("query") or ""
    for item in items(answer, *SECTIONS):
        if item["status"] == "done":
            continue
        dates = occurrence_dates(item)
        extra = later.get((item["id"], item["addressee"], item["deadline_text"]), [])
        dates += [(d, what, "pending") for d, what in extra if d not in {x for x, _, _ in dates}]
        horizon = until.isoformat() if extra else ""
        for day, what, status in dates:
            ev = Event()
            ev.add("uid", _uid(answer, item, day))
            ev.add("dtstamp", stamp)
            ev.add("dtstart", day)
            ev.add("dtend", day + dt.timedelta(days=1))
            prefix = {"to_confirm": "【请核实】", "overdue": "【已逾期】", "immediate": "【立即】"}.get(
                status, "【截止】"
            )
            ev.add(
                "summary",
                f"{prefix}{item['action_text']}"
                + (f"（{what}）" if what else "")
                + (f" · {name}" if name else "")
                + (f" · {who}" if who else ""),
            )
            ev.add("description", _description(answer, item, verdict, what, status, horizon))
            ev.add("categories", [item["status_text"]])
            ev.add("transp", "TRANSPARENT")
            for trigger in alarm_triggers(day, status, as_of):
                alarm = Alarm()
                alarm.add("action", "DISPLAY")
                days = -(trigger.days)
                alarm.add("description", f"{item['action_text']}：{day.isoformat()} 截止（{days} 天后）")
                alarm.add("trigger", trigger)
                ev.add_component(alarm)
            cal.add_component(ev)
    return cal.to_ical()
