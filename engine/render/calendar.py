"""Calendar reminders (iCalendar, RFC 5545, written by the icalendar library) for dated obligations.

One all-day event on each dated obligation's due date, with alarms a week and a day before, the
deadline's wording, materials and provisions in its description. A recurring duty (one whose deadline
lists `occurrences`) is one event with its further due dates as recurrence dates (RDATE), so calendars
show it as a series. Authorities' actions and duties already done get no reminder. Output is
deterministic: UIDs are derived from the content and DTSTAMP is the day the question was asked.
"""

from __future__ import annotations

import datetime as dt
import hashlib

from engine.render.answer import items
from engine.textsafe import printable

SECTIONS = ("now", "to_confirm", "upcoming", "ongoing", "institution_wide")
ALARMS = (7, 1)  # days before the due date


def _date(value) -> dt.date | None:
    try:
        return dt.date.fromisoformat(str(value)) if value else None
    except ValueError:
        return None


def reminder_dates(item: dict) -> list[dt.date]:
    """Every due date an item's reminders fall on: its occurrences' when it recurs, else its own."""
    dates = sorted({d for d in (_date(o.get("due")) for o in item.get("occurrences") or []) if d})
    own = _date(item.get("due"))
    if not dates and own:
        dates = [own]
    return dates


def _uid(answer: dict, item: dict, first: dt.date) -> str:
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
            first.isoformat(),
        )
    )
    return hashlib.sha256(key.encode("utf-8")).hexdigest()[:32] + "@medtech-rules"


def _description(answer: dict, item: dict) -> str:
    tech = answer["technology"] or {}
    lines = [item["title"]]
    if tech:
        lines.append(f"技术：{tech.get('name') or tech.get('query') or ''}（{tech.get('class_text') or ''}）")
    if item["addressee_text"]:
        lines.append(f"对象：{item['addressee_text']}")
    # no "days left" here: a reminder is read on other days than the one it was made
    due = f"截止 {item['due']}" if item["due"] else ""
    lines.append("期限：" + "；".join(x for x in (item["deadline_text"], due) if x))
    if item["status"] == "to_confirm":
        lines.append("该事项应在此日期前完成，请核实是否已办理。")
    if item["materials"]:
        lines.append("材料：" + "；".join(f"{n}. {m}" for n, m in enumerate(item["materials"], 1)))
    lines.append("依据：" + "；".join(p["cite"] for p in item["provisions"]))
    return "\n".join(lines)


def render_ics(answer: dict) -> bytes:
    """The reminders of one answer as an iCalendar file (see the module docstring)."""
    from icalendar import Alarm, Calendar, Event, vText

    cal = Calendar()
    cal.add("prodid", "-//medtech-rules//合规提醒//ZH")
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    inst = answer["institution"]
    tech = answer["technology"] or {}
    calname = "医疗技术临床应用合规提醒" + (f"：{tech.get('name') or tech.get('query')}" if tech else "")
    cal.add("x-wr-calname", vText(printable(calname)))  # an X- property: escaped as TEXT, never asserted on
    cal.add("x-wr-timezone", "Asia/Shanghai")
    stamp = dt.datetime.combine(_date(answer["as_of"]) or dt.date(1970, 1, 1), dt.time(0, 0), tzinfo=dt.UTC)
    who = inst.get("name") or ""
    for item in items(answer, *SECTIONS):
        if item["status"] == "done":
            continue
        dates = reminder_dates(item)
        if not dates:
            continue
        ev = Event()
        ev.add("uid", _uid(answer, item, dates[0]))
        ev.add("dtstamp", stamp)
        ev.add("dtstart", dates[0])
        ev.add("dtend", dates[0] + dt.timedelta(days=1))
        prefix = "【请核实】" if item["status"] == "to_confirm" else "【截止】"
        name = tech.get("name") or tech.get("query") or ""
        ev.add(
            "summary", f"{prefix}{item['action_text']}" + (f" · {name}" if name else "") + (f" · {who}" if who else "")
        )
        ev.add("description", _description(answer, item))
        ev.add("categories", [item["status_text"]])
        ev.add("transp", "TRANSPARENT")
        if len(dates) > 1:
            ev.add("rdate", dates[1:])
        for days in ALARMS:
            alarm = Alarm()
            alarm.add("action", "DISPLAY")
            alarm.add("description", f"{item['action_text']}：{days} 天后截止")
            alarm.add("trigger", dt.timedelta(days=-days))
            ev.add_component(alarm)
        cal.add_component(ev)
    return cal.to_ical()
