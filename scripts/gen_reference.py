#!/usr/bin/env python3
"""Generate docs/reference.zh.md (请求与答复参考) from the published JSON Schemas (kb/schema/request and
response), the vocabularies and field names in kb/vocabulary.yaml, and the encoded documents.

    .venv/bin/python scripts/gen_reference.py           # rewrite docs/reference.zh.md
    .venv/bin/python scripts/gen_reference.py --check   # exit 1 when the file is out of date

tests/test_docs.py runs the check, so the reference cannot drift from the schemas and vocabulary.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from engine.kb.schemas import load_schema  # noqa: E402
from engine.kb.vocabulary import vocabulary  # noqa: E402

TARGET = ROOT / "docs" / "reference.zh.md"

# The kind of object a response field sits in, by the name of the field holding it: one table per
# kind (authority_actions share obligations' table), described in kb/vocabulary.yaml response_fields.
KINDS = {
    "": "response",
    "jurisdiction": "jurisdiction",
    "knowledge_base": "knowledge_base",
    "documents": "document",
    "technology": "technology",
    "listings": "listing",
    "citation": "citation",
    "citations": "citation",
    "obligations": "obligation",
    "authority_actions": "obligation",
    "deadline": "deadline",
    "alternatives": "deadline",
    "materials": "material",
    "consequences": "consequence",
    "warnings": "warning",
    "missing_facts": "missing_fact",
    "trace": "trace",
    "occurrences": "occurrence",
}
KIND_TITLES = {
    "response": "答复（顶层）",
    "jurisdiction": "地区 jurisdiction",
    "knowledge_base": "知识库 knowledge_base",
    "document": "文件 documents[]",
    "technology": "技术 technology",
    "listing": "目录条目 technology.listings[]",
    "obligation": "义务 obligations[]、authority_actions[]",
    "deadline": "期限 deadline（及 deadline.alternatives[]）",
    "occurrence": "每一次 deadline.occurrences[]",
    "material": "材料 materials[]",
    "citation": "引用 citations[]",
    "consequence": "法律后果 consequences[]",
    "warning": "提示 warnings[]",
    "missing_fact": "所缺事实 missing_facts[]",
    "trace": "推理过程 trace[]",
}
TYPE_NAMES = {
    "string": "字符串",
    "integer": "整数",
    "number": "数",
    "boolean": "true/false",
    "array": "列表",
    "object": "对象",
    "null": "null",
}
VOCAB_OF = {  # fields whose values are a vocabulary of kb/vocabulary.yaml
    "institution.category": "institution_categories",
    "technology.prohibited_grounds": "prohibited_grounds",
    "events.type": "event_types",
    "document.status": "document_statuses",
    "technology.class": "technology_classes",
    "obligation.action": "actions",
    "obligation.actor": "actors",
    "obligation.addressee": "addressees",
    "obligation.status": "statuses",
    "warning.code": "warning_codes",
    "occurrence.status": "statuses",
}
VOCAB_TITLES = [  # (key, title) of the vocabulary tables, in order
    ("institution_categories", "机构类别 institution.category"),
    ("event_types", "事件类型 events[].type"),
    ("prohibited_grounds", "禁止类情形 technology.prohibited_grounds"),
    ("technology_classes", "技术类别 technology.class"),
    ("actions", "要做的事 action"),
    ("actors", "由谁做 actor"),
    ("addressees", "向谁 addressee"),
    ("statuses", "状态 status"),
    ("document_statuses", "文件状态 documents[].status"),
    ("warning_codes", "提示代码 warnings[].code"),
]


def _inline(node, root: dict):
    """A copy of a schema with every local `$ref` (`#/$defs/NAME`) replaced by what it points to."""
    if isinstance(node, list):
        return [_inline(x, root) for x in node]
    if not isinstance(node, dict):
        return node
    if isinstance(node.get("$ref"), str) and node["$ref"].startswith("#/"):
        target = root
        for part in node["$ref"][2:].split("/"):
            target = target[part]
        merged = {**target, **{k: v for k, v in node.items() if k != "$ref"}}
        return _inline(merged, root)
    return {k: _inline(v, root) for k, v in node.items() if k != "$defs"}


def schema(name: str) -> dict:
    """The published schema `kb/schema/<name>.schema.json`, references inlined."""
    raw = load_schema(name)
    return _inline(raw, raw)


def _variants(schema: dict) -> list[dict]:
    """The alternatives of a schema (`anyOf`/`oneOf` of types); an `anyOf` that only adds
    constraints to a typed schema (technology: name or code required) is not an alternative."""
    for key in ("anyOf", "oneOf"):
        if key in schema and not ("type" in schema or "properties" in schema):
            return [v for s in schema[key] for v in _variants(s)]
    return [schema]


def _types(schema: dict) -> list[str]:
    out: list[str] = []
    for v in _variants(schema):
        t = v.get("type")
        if t is None and "enum" in v:
            t = sorted({"null" if x is None else "integer" if isinstance(x, int) else "string" for x in v["enum"]})
        if t is None and "properties" in v:
            t = "object"
        for x in [t] if isinstance(t, str) else t or []:
            if x not in out:
                out.append(x)
    return out


def type_text(schema: dict) -> str:
    """字符串, 日期（YYYY-MM-DD）, 对象或 null …"""
    names = []
    for v in _variants(schema):
        if v.get("format") == "date":
            names.append("日期（YYYY-MM-DD）")
    for t in _types(schema):
        if t == "string" and names:
            continue
        if t == "array":
            items = (
                schema.get("items") or next((v.get("items") for v in _variants(schema) if v.get("items")), None) or {}
            )
            inner = "、".join(TYPE_NAMES.get(x, x) for x in _types(items)) if _types(items) else ""
            names.append(f"{inner}列表" if inner and inner != "对象" else "列表")
        else:
            names.append(TYPE_NAMES.get(t, t))
    return "或".join(dict.fromkeys(names)) or "任意"


def _enum(schema: dict) -> list:
    for v in _variants(schema):
        if "enum" in v:
            return v["enum"]
        items = v.get("items")
        if isinstance(items, dict) and "enum" in items:
            return items["enum"]
    return []


def _limits(schema: dict) -> str:
    parts = []
    for v in _variants(schema):
        if "minimum" in v and "maximum" in v:
            parts.append(f"{v['minimum']} 至 {v['maximum']}")
        if "maxLength" in v:
            parts.append(f"最长 {v['maxLength']} 字")
        if "maxItems" in v:
            parts.append(f"最多 {v['maxItems']} 项")
    return "；".join(parts)


def _md(text) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def _values(path: str, schema: dict) -> str:
    key = VOCAB_OF.get(path)
    if key:
        return f"见 [{dict(VOCAB_TITLES).get(key, key).split(' ')[0]}](#{key})"
    values = _enum(schema)
    if values:
        shown = [
            ("null（未定级）" if x is None and path == "institution.level" else "null" if x is None else f"`{x}`")
            for x in values
        ]
        if path == "institution.jurisdiction":
            return "见 [地区](#jurisdictions)"
        return "、".join(shown)
    return _limits(schema)


# --------------------------------------------------------------------------- request


def request_section() -> list[str]:
    v = vocabulary()
    names = v.raw.get("request_fields", {})
    questions = v.raw.get("questions", {})
    unknown = set(v.raw.get("unknown_unless_given", []))
    request = schema("request")
    out = [
        "## 1. 请求",
        "",
        "一个请求是一个 JSON（或 YAML）对象。网页表单、`medtech decide`、`POST /v1/decisions` 和 Python 的 "
        "`decide()` 收的是同一种请求。下面的示例就是 README 中的例子（`examples/request.yaml`）：",
        "",
        "```yaml",
    ]
    out += (ROOT / "examples" / "request.yaml").read_text(encoding="utf-8").rstrip().splitlines()
    out += ["```", "", "| 字段 | 中文名 | 类型 | 必填 | 取值 | 未给出时 |", "|---|---|---|---|---|---|"]

    def walk(s: dict, prefix: str, required: set[str]) -> None:
        for name, sub in (s.get("properties") or {}).items():
            path = f"{prefix}{name}"
            generic = path.replace("[]", "")
            default = ""
            if generic in unknown:
                default = "视为未知：取决于它的结论列入 missing_facts"
            elif generic == "as_of":
                default = "今天（北京时间）"
            elif generic == "institution.category":
                default = "`hospital`"
            elif "boolean" in _types(sub):
                default = "false"
            out.append(
                f"| `{path}` | {_md(names.get(generic, ''))} | {type_text(sub)} | {'是' if name in required else ''} "
                f"| {_md(_values(generic, sub))} | {default} |"
            )
            if "properties" in sub:
                walk(sub, path + ".", set(sub.get("required", [])))
            items = sub.get("items")
            if isinstance(items, dict) and "properties" in items:
                walk(items, path + "[].", set(items.get("required", [])))

    walk(request, "", set(request.get("required", [])))
    out += [
        "",
        "规则：",
        "",
        "- 未知的字段、未知的取值、不存在的日期（如 2025-02-30）、1 至 4 以外的手术分级、缺少 "
        "`institution.jurisdiction`，都使请求无效；错误按字段报告为 `{path, message}`，列表位置用数字"
        "（`events.0.type`）。",
        "- `technology` 须给 `name` 或 `code`；不给 `technology` 时只答机构层面的义务。",
        "- 无法识别的技术名称不使请求无效：照常作答，并给出提示 `technology_not_recognized`。",
        "- “首例”“首次”从同类事件中最早的一次算起。",
        "",
    ]
    asked = [p for p in questions if p in names]
    if asked:
        out += ["表单和 `missing_facts` 用的问题：", "", "| 字段 | 问题 |", "|---|---|"]
        out += [f"| `{p}` | {_md(questions[p])} |" for p in asked]
        out.append("")
    return out


# --------------------------------------------------------------------------- response


def _collect(schema: dict, kind: str, tables: dict[str, dict]) -> None:
    """Fill `tables` {kind: {field: schema}} by walking the response schema."""
    for v in _variants(schema):
        props = v.get("properties")
        if props:
            table = tables.setdefault(kind, {})
            for name, sub in props.items():
                table.setdefault(name, sub)
                child = KINDS.get(name)
                if child is not None:
                    _collect(sub, child, tables)
        items = v.get("items")
        if isinstance(items, dict):
            _collect(items, kind, tables)


def response_tables() -> dict[str, dict]:
    tables: dict[str, dict] = {}
    _collect(schema("response"), "response", tables)
    return tables


def missing_descriptions() -> list[str]:
    """Response fields that kb/vocabulary.yaml `response_fields` does not describe."""
    described = vocabulary().raw.get("response_fields", {})
    return [f"{k}.{f}" for k, table in response_tables().items() for f in table if f"{k}.{f}" not in described]


def response_section() -> list[str]:
    described = vocabulary().raw.get("response_fields", {})
    tables = response_tables()
    out = [
        "## 2. 答复",
        "",
        "`--format json`、`POST /v1/decisions` 和 `decide()` 返回的对象。日期均为 ISO 字符串（YYYY-MM-DD）；"
        "同一请求、同一知识库摘要，答复逐字节相同。",
        "",
    ]
    order = [k for k in KIND_TITLES if k in tables] + [k for k in tables if k not in KIND_TITLES]
    for kind in order:
        out += [f"### {KIND_TITLES.get(kind, kind)}", "", "| 字段 | 类型 | 取值 | 说明 |", "|---|---|---|---|"]
        for name, sub in tables[kind].items():
            child = KINDS.get(name)
            ref = f"（见{KIND_TITLES[child].split(' ')[0]}）" if child and child != kind and child in tables else ""
            out.append(
                f"| `{name}` | {type_text(sub)} | {_md(_values(f'{kind}.{name}', sub))} "
                f"| {_md(described.get(f'{kind}.{name}', '（无说明）'))}{ref} |"
            )
        out.append("")
    out += [
        '无效请求：HTTP 422（命令行退出码 2）, 内容为 `{"errors": [{"path": …, "message": …}]}`，每个问题一项。',
        "",
    ]
    return out


# --------------------------------------------------------------------------- vocabularies and documents


def vocabulary_section() -> list[str]:
    v = vocabulary()
    out = [
        "## 3. 词表",
        "",
        "取值一律用左列的标识；中文名取自 `kb/vocabulary.yaml`，网页、中文文本和导出都用它们。",
        "",
        '<a id="jurisdictions"></a>',
        "### 地区 institution.jurisdiction",
        "",
        "| 标识 | 中文名 | 也可写作 | 适用文件 |",
        "|---|---|---|---|",
    ]
    for j in v.jurisdictions:
        out.append(
            f"| `{j.id}` | {j.name} | {'、'.join(a for a in j.aliases if a != j.name)} | {'、'.join(f'`{d}`' for d in j.documents)} |"
        )
    out.append("")
    for key, title in VOCAB_TITLES:
        if key not in v.raw:
            continue
        out += [f'<a id="{key}"></a>', f"### {title}", "", "| 标识 | 中文 |", "|---|---|"]
        out += [f"| `{k}` | {_md(name)} |" for k, name in v.names(key).items()]
        out.append("")
    return out


def documents_section() -> list[str]:
    from engine.kb.documents import load_documents

    out = [
        "## 4. 文件",
        "",
        "知识库收录的文件（条款全文见网页的“文件原文”，或 `medtech kb show 文件 条款`）：",
        "",
        "| 标识 | 标题 | 文号 | 施行 | 条款数 |",
        "|---|---|---|---|---|",
    ]
    for d in load_documents().values():
        start = (d.dates.get("in_force_from") or {}).get("date") or "不详"
        out.append(f"| `{d.id}` | 《{_md(d.title)}》 | {_md(d.number or '')} | {start} | {len(d.provisions)} |")
    out.append("")
    return out


def render() -> str:
    lines = [
        "# 请求与答复参考",
        "",
        "> 本文件由 `scripts/gen_reference.py` 从 `kb/schema/request.schema.json`、`kb/schema/response.schema.json`、"
        "`kb/vocabulary.yaml` 和 `kb/documents/` 生成，请勿手改；`tests/test_docs.py` 检查它与生成结果一致。"
        "期限的算法见 [期限如何计算](deadlines.zh.md)，网页的用法见 [用户指南](guide.zh.md)。",
        "",
    ]
    lines += request_section() + response_section() + vocabulary_section() + documents_section()
    return "\n".join(lines).rstrip() + "\n"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="generate docs/reference.zh.md")
    ap.add_argument("--check", action="store_true", help="exit 1 when docs/reference.zh.md is out of date")
    args = ap.parse_args(argv)
    text = render()
    if args.check:
        current = TARGET.read_text(encoding="utf-8") if TARGET.exists() else ""
        if current != text:
            print(f"{TARGET.relative_to(ROOT)} is out of date: run bash scripts/regenerate.sh", file=sys.stderr)
            return 1
        return 0
    TARGET.parent.mkdir(parents=True, exist_ok=True)
    TARGET.write_text(text, encoding="utf-8")
    print(f"wrote {TARGET.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
