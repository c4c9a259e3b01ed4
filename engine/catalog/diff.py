"""What changed between two catalogue versions (`medtech catalog --diff OLD NEW`).

Entries are matched by the canonical technology they map to (catalogs/taxonomy.yaml), not by
code or name: catalogues renumber their codes and reword their names.

- `added`: a technology listed in NEW only; `removed`: in OLD only;
- `changed`: the same technology with another code, name or surgery grades (`fields` says which);
- `narrowed` / `broadened`: a removed technology whose narrower (broader) technology was added,
  e.g. a transplantation technique restricted to its allogeneic form; those entries are not
  repeated under `added` and `removed`.
"""

from __future__ import annotations

from engine.catalog.data import Catalogs, load_catalogs
from engine.catalog.model import Entry
from engine.errors import NotFound

FIELDS = ("code", "name", "grades")
FIELD_ZH = {"code": "编号", "name": "名称", "grades": "手术分级"}


def _entry(e: Entry) -> dict:
    return {"code": e.code, "name": e.name, "technology": e.technology, "grades": list(e.grades) if e.grades else None}


def _by_technology(entries: list[Entry]) -> dict[str, list[Entry]]:
    out: dict[str, list[Entry]] = {}
    for e in entries:
        out.setdefault(e.technology, []).append(e)
    return out


def diff_versions(old_id: str, new_id: str, catalogs: Catalogs | None = None) -> dict:
    """The differences from catalogue version `old_id` to `new_id` (module docstring); NotFound for an unknown id."""
    cat = catalogs or load_catalogs()
    for vid in (old_id, new_id):
        if vid not in cat.versions:
            raise NotFound("catalogue version", vid, sorted(cat.versions))
    old, new = cat.versions[old_id], cat.versions[new_id]
    before, after = _by_technology(old.entries), _by_technology(new.entries)
    changed, unchanged = [], 0
    for tech, olds in before.items():
        for o, n in zip(olds, after.get(tech, []), strict=False):  # extra entries on either side: added or removed
            fields = [f for f in FIELDS if _entry(o)[f] != _entry(n)[f]]
            if fields:
                changed.append({"technology": tech, "old": _entry(o), "new": _entry(n), "fields": fields})
            else:
                unchanged += 1
    removed = [e for tech, es in before.items() for e in es[len(after.get(tech, [])) :]]
    added = [e for tech, es in after.items() for e in es[len(before.get(tech, [])) :]]

    tax = cat.taxonomy
    narrowed: list[dict] = []
    broadened: list[dict] = []
    for kind, out in (("narrowed", narrowed), ("broadened", broadened)):
        for r in list(removed):
            related = [
                a
                for a in added
                if a.technology != r.technology
                and (
                    a.technology in tax.descendants(r.technology)
                    if kind == "narrowed"
                    else a.technology in tax.ancestors(r.technology)
                )
            ]
            if related:
                out.append({"old": _entry(r), "new": [_entry(a) for a in related]})
                removed.remove(r)
                added = [a for a in added if a not in related]
    return {
        "old": {"id": old.id, "name": old.name, "entries": len(old.entries)},
        "new": {"id": new.id, "name": new.name, "entries": len(new.entries)},
        "added": [_entry(e) for e in sorted(added, key=lambda e: e.index)],
        "removed": [_entry(e) for e in sorted(removed, key=lambda e: e.index)],
        "changed": changed,
        "narrowed": narrowed,
        "broadened": broadened,
        "unchanged": unchanged,
    }


def _grades(g) -> str:
    return "不限" if not g else "、".join(f"{x}级" for x in g)


def format_diff(d: dict) -> str:
    """The differences for a person, in Chinese."""
    lines = [
        f"{d['old']['name']}（{d['old']['id']}，{d['old']['entries']} 项） → {d['new']['name']}（{d['new']['id']}，{d['new']['entries']} 项）",
        "",
    ]
    lines.append(f"新增（{len(d['added'])}）：")
    lines += [f"  + {e['code']} {e['name']}" for e in d["added"]] or ["  无"]
    lines.append(f"删除（{len(d['removed'])}）：")
    lines += [f"  - {e['code']} {e['name']}" for e in d["removed"]] or ["  无"]
    if d["narrowed"] or d["broadened"]:
        lines.append(f"范围调整（{len(d['narrowed']) + len(d['broadened'])}）：")
        for kind, word in (("narrowed", "缩小为"), ("broadened", "扩大为")):
            for x in d[kind]:
                lines.append(
                    f"  ~ {x['old']['code']} {x['old']['name']} {word} "
                    + "、".join(f"{e['code']} {e['name']}" for e in x["new"])
                )
    lines.append(f"更名、改号或分级变化（{len(d['changed'])}）：")
    for c in d["changed"]:
        what = "、".join(FIELD_ZH[f] for f in c["fields"])
        o, n = c["old"], c["new"]
        extra = f"（手术分级 {_grades(o['grades'])} → {_grades(n['grades'])}）" if "grades" in c["fields"] else ""
        lines.append(f"  * {o['code']} {o['name']} → {n['code']} {n['name']}  [{what}]{extra}")
    if not d["changed"]:
        lines.append("  无")
    lines.append(f"未变（{d['unchanged']}）")
    return "\n".join(lines)
