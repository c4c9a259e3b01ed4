"""Request errors for people, in Chinese: `error_text({path, message}) -> str`.

The engine's errors (`{path, message}`, contract section 3) stay as they are for tools (JSON, HTTP 422).
People get the same problem in Chinese, with the field's Chinese name (kb/vocabulary.yaml
`request_fields`) and the allowed values with their labels; Python values (None, True) never appear:
a missing level is 空（未定级）. Messages of a form not known here are reported generically rather
than shown in English.
"""

from __future__ import annotations

import re

from engine.kb.vocabulary import vocabulary

# request path (list positions removed) -> the vocabulary that labels its values
VALUE_VOCABULARIES = {
    "institution.category": "institution_categories",
    "events.type": "event_types",
    "technology.prohibited_grounds": "prohibited_grounds",
}
NULL_WORDS = {"None": "空", "null": "空", "True": "是", "False": "否", "true": "是", "false": "否"}


def _names(key: str) -> dict:
    try:
        return vocabulary().names(key)
    except KeyError:
        return {}


def field_name(path: str) -> str:
    """The Chinese name of a request field (`events.0.type` -> 第1个事件的事件类型)."""
    if not path:
        return "请求"
    fields = _names("request_fields")
    parts = path.split(".")
    generic = ".".join(p for p in parts if not p.isdigit())
    name = fields.get(generic) or fields.get(parts[-1]) or ""
    index = next((int(p) for p in parts if p.isdigit()), None)
    if index is not None and parts[0] in ("events",):
        head = f"第{index + 1}个{fields.get(parts[0], '事件')}"
        return head + (f"的{name}" if name and generic != parts[0] else "")
    if index is not None:
        return f"{name or fields.get(parts[0], '')}第{index + 1}项"
    return name or "该字段"


def _value(v: str) -> str:
    v = v.strip().strip("'\"")
    return NULL_WORDS.get(v, v)


def _allowed(path: str, allowed: str) -> str:
    generic = ".".join(p for p in path.split(".") if not p.isdigit())
    labels = _names(VALUE_VOCABULARIES.get(generic, "")) if generic in VALUE_VOCABULARIES else {}
    out = []
    for raw in allowed.split(","):
        v = raw.strip().strip("'\"")
        if v in ("None", "null"):
            out.append("空（未定级）" if generic == "institution.level" else "空")
        elif v in labels:
            out.append(f"{v}（{labels[v]}）")
        else:
            out.append(_value(v))
    return "、".join(out)


def _jurisdictions() -> str:
    return "、".join(f"{j.id}（{j.name}）" for j in vocabulary().jurisdictions)


def error_text(error: dict) -> str:
    """One request error in Chinese (see the module docstring)."""
    path = error.get("path") or ""
    message = error.get("message") or ""
    field = field_name(path)
    m = re.fullmatch(r"(.*) is not a supported jurisdiction \(supported: .*\)", message)
    if m:
        return f"{field}：不支持“{_value(m.group(1))}”（支持：{_jurisdictions()}，或其中文名称）"
    if message == "is required":
        return f"缺少{field}（必填）"
    m = re.fullmatch(r"unknown field \(allowed: (.*)\)", message)
    if m:
        return f"不认识的字段“{path.rsplit('.', 1)[-1]}”（此处可用：{m.group(1).replace(', ', '、')}）"
    m = re.fullmatch(r"(.*) is not allowed \(allowed: (.*)\)", message)
    if m:
        return f"{field}：不能取“{_value(m.group(1))}”（可选：{_allowed(path, m.group(2))}）"
    m = re.fullmatch(r"(.*) is not a valid date .*", message)
    if m:
        return f"{field}：“{_value(m.group(1))}”不是有效日期（应为存在的日期，格式如 2025-03-10）"
    m = re.fullmatch(r"(.*) is outside (\d+) to (\d+)", message)
    if m:
        return f"{field}：{_value(m.group(1))} 超出范围（应为 {m.group(2)} 至 {m.group(3)}）"
    m = re.fullmatch(r"(\S+)'s own documents are encoded: give institution.jurisdiction (\S+) \((\S+)\) .*", message)
    if m:
        return f"{field}：{m.group(1)}的文件已收录，请将所在地区选为“{m.group(3)}”（{m.group(2)}），而不是“全国”"
    m = re.fullmatch(r"(\S+) is not (\S+) \(institution.jurisdiction (\S+)\): .*", message)
    if m:
        return f"{field}：{m.group(1)}与所在地区“{m.group(2)}”不一致（请填该地区所在省份，或不填）"
    if message.startswith("give the technology's name or its catalogue code"):
        return f"{field}：请给出技术名称或目录编号（或不填写技术）"
    m = re.fullmatch(r"(.*) is not of type (.*)", message)
    if m:
        return f"{field}：“{_value(m.group(1))}”的类型不对（应为{_type(m.group(2))}）"
    m = re.fullmatch(r"(.*) is outside the supported dates \((.*) to (.*)\)", message)
    if m:
        return f"{field}：“{_value(m.group(1))}”超出支持的日期范围（{m.group(2)} 至 {m.group(3)}）"
    m = re.fullmatch(r"field names must be text, not .* \((.*)\)", message)
    if m:
        return f"字段名必须是文字，不能是 {_value(m.group(1))}"
    if message.startswith("given more than once"):
        return f"{field}：重复出现（同一字段只能给一次）"
    m = re.search(r"contains (a tab|a control character|a noncharacter) \((U\+[0-9A-F]+)\)", message)
    if m:
        kind = {"a tab": "制表符", "a control character": "控制字符", "a noncharacter": "非字符"}[m.group(1)]
        return f"{field}：含有{kind}（{m.group(2)}），文字中不能有控制字符或 Unicode 非字符"
    if message.startswith("binary data"):
        return f"{field}：不能是二进制数据（YAML !!binary），应为文字"
    if message.startswith("a set (YAML"):
        return f"{field}：不能是集合（YAML !!set），请改用列表"
    if message.startswith("a list of pairs"):
        return f"{field}：不能是有序对列表（YAML !!omap 或 !!pairs），请改用映射"
    if message.startswith("malformed JSON"):
        return "不是有效的 JSON（每行应为一个请求对象）"
    if message == "empty line":
        return "空行（每行应为一个请求对象）"
    if message.startswith("internal error"):
        return "内部错误：该请求未能作答，请联系维护人员"
    if message.startswith("the request is nested too deeply"):
        return "请求嵌套层次过深"
    if message == "a request must be a JSON object":
        return "请求必须是一个对象（JSON 对象或 YAML 映射）"
    return f"{field}：取值无效，请对照填写说明检查"


def _type(spec: str) -> str:
    words = {
        "string": "文字",
        "integer": "整数",
        "boolean": "是或否",
        "array": "列表",
        "object": "对象",
        "null": "空",
        "number": "数字",
    }
    found = [words[w] for w in re.findall(r"[a-z]+", spec) if w in words]
    return "或".join(found) or "正确的类型"


def error_line(error: dict) -> str:
    """`PATH: 中文说明` — the contract's form of a CLI error line, with the message in Chinese."""
    return f"{error.get('path') or '(请求)'}: {error_text(error)}"


def _where(text: str) -> str:
    """`(line 3, column 5)` or `line 3, column 5` -> `（第3行第5列）`, or '' when there is none."""
    m = re.search(r"line (\d+), column (\d+)", text)
    return f"（第{m.group(1)}行第{m.group(2)}列）" if m else ""


def input_error_text(message: str) -> str:
    """A request file that cannot be read as one request (engine.requestio's MalformedInput,
    InputTooLarge) -> Chinese for the text CLI. The file name is added by the caller."""
    m = re.search(r"larger than (\d+) bytes", message)
    if m:
        return f"内容过大（超过 {int(m.group(1)) // 1024} KiB）；一个请求远小于此"
    if message.startswith("empty input"):
        return "内容为空：应为一个请求（JSON 或 YAML）"
    if message.startswith("not UTF-8"):
        m = re.search(r"at byte (\d+)", message)
        at = f"（第 {m.group(1)} 字节处）" if m else ""
        return f"不是 UTF-8 编码的文字{at}"
    if "anchors and aliases" in message:
        return f"请求中不接受 YAML 锚点和别名（&名称、*名称）{_where(message)}，请直接写出取值"
    for kind in ("JSON", "YAML"):
        if message.startswith(f"malformed {kind}"):
            if "nested too deeply" in message:
                return f"不是有效的 {kind}：嵌套层次过深"
            if "too many digits" in message:
                return f"不是有效的 {kind}：整数位数过多"
            return f"不是有效的 {kind}：格式有误{_where(message)}"
    return "无法读作一个请求（JSON 或 YAML）"


def file_error_text(exc: OSError) -> str:
    """Why a request file cannot be opened, in Chinese."""
    if isinstance(exc, FileNotFoundError):
        return "文件不存在"
    if isinstance(exc, IsADirectoryError):
        return "这是一个目录，不是请求文件"
    if isinstance(exc, PermissionError):
        return "无权读取该文件"
    return f"无法读取（{exc.strerror or type(exc).__name__}）"


_WHAT_ZH = {
    "document": "文件",
    "catalogue version": "目录版本",
    "jurisdiction": "地区",
    "technology": "技术",
    "chart": "流程图",
}


def not_found_text(exc) -> str:
    """engine.errors.NotFound for people: what was not found and what exists (by id), in Chinese."""
    what, key, available = getattr(exc, "what", ""), getattr(exc, "key", ""), list(getattr(exc, "available", []))
    m = re.fullmatch(r"provision of (\S+)", what or "")
    if m:
        return f"{m.group(1)} 中没有条款“{key}”（可查：{'、'.join(available)}；也可用中文标签，如 第十一条第一款）"
    name = _WHAT_ZH.get(what, what)
    return f"没有{name}“{key}”" + (f"（可用：{'、'.join(available)}）" if available else "")
