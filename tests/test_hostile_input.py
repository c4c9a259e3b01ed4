"""Hostile and careless input, through every surface: never a 5xx, a traceback or exit 1.

Each case is an input someone sent (or could send) that once reached a 500, a traceback, a
RecursionError, a MemoryError or a plain-text answer. Through HTTP (TestClient, and a real
`medtech serve` for what only the HTTP parser sees) every error must be `{"errors": [{path,
message}]}` naming the field; through the CLI (real subprocesses) exit 2 with `PATH: message`
or a one-line `medtech: …` on stderr. A hypothesis test adds random hostile values in every
request field (lone surrogates, huge integers, deep nesting, odd dates, non-JSON types).
"""

from __future__ import annotations

import datetime as dt
import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engine import InvalidRequest, decide
from engine.kb.vocabulary import vocabulary
from engine.requestio import MAX_ERRORS, MAX_ITEMS
from processes import live_server

ROOT = Path(__file__).resolve().parent.parent
FIRST, LAST = vocabulary().supported_dates()
INST = {"jurisdiction": "hunan", "level": 3}
TECH = {"name": "冠心病介入治疗", "surgery_grade": 3}


def _req(**over) -> dict:
    return {"as_of": "2025-03-10", "institution": dict(INST), **over}


def _event(date: str, type_: str = "first_clinical_use") -> dict:
    return {"type": type_, "date": date}


# (name, request body as bytes, expected paths in the errors; None: only the shape is checked)
BAD_DATES = ["9999-12-31", "2150-06-01", "1900-01-01", "0001-01-01", "0000-01-01", "1948-12-31", "2100-01-01"]
JSON_CASES: list[tuple[str, bytes, set | None]] = [
    (
        "event dates outside the supported years",
        json.dumps(_req(technology=TECH, events=[_event(d) for d in BAD_DATES[:4]])).encode(),
        {f"events.{i}.date" for i in range(4)},
    ),
    ("as_of 0000-01-01", json.dumps({**_req(), "as_of": "0000-01-01"}).encode(), {"as_of"}),
    ("as_of 2100-01-01", json.dumps({**_req(), "as_of": "2100-01-01"}).encode(), {"as_of"}),
    (
        "in_use_since 1800-01-01",
        json.dumps(_req(technology={**TECH, "in_use_since": "1800-01-01"})).encode(),
        {"technology.in_use_since"},
    ),
    ("lone surrogate as jurisdiction", b'{"institution": {"jurisdiction": "\\ud800"}}', {"institution.jurisdiction"}),
    (
        "lone surrogate as name",
        b'{"institution": {"jurisdiction": "hunan", "name": "\\udfff\\u4e00"}}',
        {"institution.name"},
    ),
    (
        "lone surrogate in technology and note",
        b'{"institution": {"jurisdiction": "hunan"}, "technology": {"name": "a\\ud800"},'
        b' "events": [{"type": "first_clinical_use", "date": "2025-01-02", "note": "\\ud83d"}]}',
        {"technology.name", "events.0.note"},
    ),
    ("lone surrogate as a field name", b'{"institution": {"jurisdiction": "hunan"}, "\\ud800": 1}', {"\\ud800"}),
    ("more events than allowed", json.dumps(_req(events=[_event("2025-01-02")] * 5000)).encode(), {"events"}),
    ("thousands of wrong events", json.dumps(_req(events=[{"type": "x", "date": "y"}] * 20000)).encode(), {"events"}),
    ("hundreds of unknown fields", json.dumps({**_req(), **{f"x{i}": i for i in range(400)}}).encode(), None),
    (
        "an integer of 4,000 digits",
        b'{"institution": {"jurisdiction": "hunan", "level": ' + b"7" * 4000 + b"}}",
        {"institution.level"},
    ),
    (
        "a float that is not finite in spirit",
        b'{"institution": {"jurisdiction": "hunan", "level": 1e400}}',
        {"institution.level"},
    ),
]
# bodies that are not a usable JSON value at all (HTTP 400, CLI exit 2)
MALFORMED: list[tuple[str, bytes]] = [
    ("JSON nested 100,000 deep", b"[" * 100_000 + b"]" * 100_000),
    ("JSON object nested 100,000 deep", b'{"a":' * 100_000 + b"1" + b"}" * 100_000),
    ("an integer of 5,000 digits", b'{"institution": {"jurisdiction": "hunan", "level": ' + b"1" * 5000 + b"}}"),
    ("NaN", b'{"institution": {"jurisdiction": "hunan", "level": NaN}}'),
    ("not UTF-8", b'{"institution": {"jurisdiction": "\xff\xfe"}}'),
]
# YAML only the CLI reads (decide FILE, flowchart --highlight)
ALIAS_BOMB = "institution: {jurisdiction: hunan}\na: &a [x, x, x, x, x, x, x, x, x]\n" + "".join(
    f"{chr(98 + i)}: &{chr(98 + i)} [{', '.join(['*' + chr(97 + i)] * 9)}]\n" for i in range(8)
)
YAML_CASES: list[tuple[str, str, str]] = [
    ("alias bomb", ALIAS_BOMB, "anchors and aliases"),
    ("self-referencing alias", "institution: &a {jurisdiction: hunan, x: *a}\n", "anchors and aliases"),
    ("self-referencing list", "&a [*a]\n", "anchors and aliases"),
    ("non-string key", "institution: {jurisdiction: hunan}\n1: 2\n", "1: field names must be text"),
    ("!!binary", "institution: {jurisdiction: hunan, name: !!binary aGVsbG8=}\n", "institution.name: binary data"),
    ("!!set", "institution: {jurisdiction: hunan}\ntechnology: {name: !!set {a, b}}\n", "technology.name: a set"),
    ("!!omap", "institution: !!omap [{jurisdiction: hunan}]\n", "institution.0: a list of pairs"),
    ("integer of 4,300+ digits", "institution: {jurisdiction: hunan, level: " + "9" * 4400 + "}\n", "too many digits"),
    ("YAML nested 100,000 deep", "[" * 100_000 + "]" * 100_000, ""),
    (
        "date outside the years",
        "as_of: 1900-01-01\ninstitution: {jurisdiction: hunan}\n",
        "as_of: '1900-01-01' is outside",
    ),
]


def _assert_error_shape(body: dict, status: int) -> list[dict]:
    assert set(body) >= {"errors"}, body
    errors = body["errors"]
    assert isinstance(errors, list) and errors
    assert len(errors) <= MAX_ERRORS + 1
    for e in errors:
        assert set(e) == {"path", "message"} and isinstance(e["path"], str) and isinstance(e["message"], str)
        e["message"].encode("utf-8")  # encodable: no lone surrogate echoed back
        e["path"].encode("utf-8")
        assert "Traceback" not in e["message"]
    return errors


# --------------------------------------------------------------------------- HTTP (in process)


@pytest.fixture(scope="module")
def client():
    from fastapi.testclient import TestClient

    from engine.service.app import app

    with TestClient(app, raise_server_exceptions=False) as c:
        yield c


def _post(client, body: bytes, url: str = "/v1/decisions", **headers):
    return client.post(url, content=body, headers={"content-type": "application/json", **headers})


@pytest.mark.parametrize("name, body, paths", JSON_CASES, ids=[c[0] for c in JSON_CASES])
def test_http_invalid_requests_name_the_field(client, name, body, paths):
    r = _post(client, body)
    assert r.status_code in (413, 422), (r.status_code, r.text[:300])
    errors = _assert_error_shape(r.json(), r.status_code)
    if paths is not None and r.status_code == 422:
        assert {e["path"] for e in errors} >= paths, errors
    if "dates" in name or "as_of" in name or "since" in name:
        assert all(f"{FIRST} to {LAST}" in e["message"] for e in errors if e["path"] in paths)


@pytest.mark.parametrize("name, body", MALFORMED, ids=[c[0] for c in MALFORMED])
def test_http_malformed_bodies_are_400(client, name, body):
    r = _post(client, body)
    assert r.status_code == 400, (r.status_code, r.text[:300])
    _assert_error_shape(r.json(), 400)


def test_error_lists_are_capped_with_a_count(client):
    r = _post(client, json.dumps({**_req(), **{f"x{i:04d}": i for i in range(400)}}).encode())
    errors = _assert_error_shape(r.json(), 422)
    assert len(errors) == MAX_ERRORS + 1
    assert errors[-1]["path"] == "" and "300 more" in errors[-1]["message"]


def test_an_oversized_array_is_refused_before_validation():
    many = _req(events=[{"type": "x", "date": "y"}] * 150_000)
    t0 = time.perf_counter()
    with pytest.raises(InvalidRequest) as exc:
        decide(many)
    assert time.perf_counter() - t0 < 0.5
    assert exc.value.errors == [{"path": "events", "message": f"at most {MAX_ITEMS} items (got 150000)"}]


def test_the_supported_dates_edges(client):
    inside = _req(technology=TECH, events=[_event(FIRST), _event(LAST, "serious_incident")])
    for as_of in (FIRST, LAST):
        r = client.post("/v1/decisions", json={**inside, "as_of": as_of})
        assert r.status_code == 200, r.text[:300]
    day_before = (dt.date.fromisoformat(FIRST) - dt.timedelta(days=1)).isoformat()
    day_after = (dt.date.fromisoformat(LAST) + dt.timedelta(days=1)).isoformat()
    for d in (day_before, day_after):
        r = client.post("/v1/decisions", json={**inside, "as_of": d})
        assert r.status_code == 422 and r.json()["errors"][0]["path"] == "as_of"
        r = client.get("/v1/documents", params={"as_of": d})
        assert r.status_code == 422 and r.json()["errors"][0]["path"] == "as_of"


def test_both_validators_refuse_dates_outside_the_range():
    from engine.inference.request import _fast_validator
    from engine.kb.schemas import validator

    fast = _fast_validator()
    for d in BAD_DATES:
        req = {**_req(), "as_of": d}
        assert not validator("request", True).is_valid(req), d
        if fast:
            assert not fast.is_valid(req), d


def test_oversized_body_is_413_in_the_error_shape(client):
    r = _post(client, b'{"a": "' + b"x" * (2 * 1024 * 1024) + b'"}')
    assert r.status_code == 413
    _assert_error_shape(r.json(), 413)


def test_batch_items_answer_bad_input_in_place(client):
    items = [json.loads(body) for _, body, _ in JSON_CASES[:8]]
    r = client.post(
        "/v1/decisions/batch",
        content=json.dumps({"requests": items}).encode(),
        headers={"content-type": "application/json"},
    )
    assert r.status_code == 200
    responses = r.json()["responses"]
    assert len(responses) == len(items)
    for answer in responses:
        _assert_error_shape(answer, 200)


def test_batch_ndjson_streams_one_answer_per_line(client):
    good = _req(technology=TECH, events=[_event("2025-03-03")])
    items = [good, {"x": 1}, good]
    r = client.post("/v1/decisions/batch", json={"requests": items}, headers={"accept": "application/x-ndjson"})
    assert r.status_code == 200 and r.headers["content-type"].startswith("application/x-ndjson")
    lines = r.text.splitlines()
    assert len(lines) == 3 and json.loads(lines[0]) == json.loads(lines[2]) == decide(good)
    assert "errors" in json.loads(lines[1])
    as_json = client.post("/v1/decisions/batch", json={"requests": items}).json()["responses"]
    assert as_json == [json.loads(line) for line in lines]


def test_batch_beyond_the_slots_is_503_with_retry_after(client, monkeypatch):
    from engine.service import limits

    monkeypatch.setattr(limits.BATCHES, "used", limits.BATCHES.size)
    r = client.post("/v1/decisions/batch", json={"requests": [_req()]})
    assert r.status_code == 503 and r.headers["retry-after"] == str(limits.RETRY_AFTER)
    _assert_error_shape(r.json(), 503)
    monkeypatch.setattr(limits.BATCHES, "used", 0)
    assert client.post("/v1/decisions/batch", json={"requests": [_req()]}).status_code == 200
    assert limits.BATCHES.used == 0  # the slot was given back when the stream ended


@pytest.mark.parametrize(
    "url",
    [
        "/v1/technologies?q=%ED%A0%80",
        "/v1/documents/%ED%A0%80",
        "/v1/flowcharts/%ED%A0%80",
        "/v1/documents?as_of=0000-01-01",
        "/v1/flowcharts/hunan?as_of=9999-12-31",
        "/v1/technologies?q=PCI&as_of=0001-01-01",
        "/v1/documents/nhc-2018-1/provisions/%00",
    ],
)
def test_http_query_and_path_oddities(client, url):
    r = client.get(url)
    assert r.status_code < 500, r.text[:300]
    if r.status_code >= 400:
        _assert_error_shape(r.json(), r.status_code)


@pytest.mark.parametrize("name, text, expect", YAML_CASES, ids=[c[0] for c in YAML_CASES])
@pytest.mark.parametrize("url", ["/v1/decisions", "/v1/decisions/batch"])
def test_http_yaml_bodies(client, name, text, expect, url):
    """The same YAML as the CLI reads, sent as `application/yaml` (alone, and as a batch's only request)."""
    if url.endswith("batch"):
        text = "requests:\n  - " + text.replace("\n", "\n    ") if not text.startswith("[") else "requests: " + text
    r = client.post(url, content=text.encode(), headers={"content-type": "application/yaml"})
    assert r.status_code < 500, (r.status_code, r.text[:300])
    body = r.json()
    if r.status_code == 200:  # a batch answers an invalid request in place
        body = body["responses"][0]
    _assert_error_shape(body, r.status_code)


# --------------------------------------------------------------------------- hypothesis: random hostile values


_HOSTILE_TEXT = st.one_of(
    st.text(st.characters(codec=None, categories=None), max_size=8),  # surrogates included
    st.sampled_from(BAD_DATES + ["2025-02-30", "2025-1-1", "", FIRST, LAST, "hunan", "湖南", "\ud800"]),
)
_HOSTILE_SCALAR = st.one_of(
    _HOSTILE_TEXT, st.integers(min_value=-(10**60), max_value=10**60), st.floats(), st.booleans(), st.none()
)
_HOSTILE = st.recursive(
    _HOSTILE_SCALAR,
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(_HOSTILE_TEXT, inner, max_size=4)),
    max_leaves=12,
)
_FIELDS = st.sampled_from(
    [
        "as_of",
        "institution.jurisdiction",
        "institution.name",
        "institution.level",
        "technology.name",
        "technology.surgery_grade",
        "technology.in_use_since",
        "events.0.date",
        "events.0.type",
        "events",
        "technology",
        "extra",
    ]
)


def _with(field: str, value) -> dict:
    req = _req(technology=dict(TECH), events=[_event("2025-03-03")])
    *parents, leaf = field.split(".")
    target = req
    for p in parents:
        target = target[int(p)] if p.isdigit() else target[p]
    if leaf.isdigit():
        target[int(leaf)] = value
    else:
        target[leaf] = value
    return req


@settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True, database=None)
@given(field=_FIELDS, value=_HOSTILE)
def test_random_hostile_values_are_answered_or_refused(field, value):
    req = _with(field, value)
    try:
        response = decide(req)
    except InvalidRequest as exc:
        _assert_error_shape({"errors": exc.errors}, 422)
        return
    json.dumps(response, ensure_ascii=False).encode("utf-8")


@settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True, database=None)
@given(field=_FIELDS, value=_HOSTILE)
def test_random_hostile_values_over_http(client, field, value):
    body = json.dumps(_with(field, value), ensure_ascii=False, allow_nan=True).encode("utf-8", "surrogatepass")
    r = _post(client, body)
    assert r.status_code in (200, 400, 422), (r.status_code, r.text[:300])
    if r.status_code != 200:
        _assert_error_shape(r.json(), r.status_code)


# --------------------------------------------------------------------------- CLI (subprocesses)


def _env() -> dict:
    return {
        **os.environ,
        "PYTHONPATH": str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""),
        "PYTHONIOENCODING": "utf-8",
    }


def _start(*args, stdin=subprocess.DEVNULL) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "engine.cli", *args],
        cwd=ROOT,
        env=_env(),
        stdin=stdin,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )


def _finish(proc: subprocess.Popen, timeout: float = 60) -> tuple[int, str, str]:
    out, err = proc.communicate(timeout=timeout)
    return proc.returncode, out.decode("utf-8", "replace"), err.decode("utf-8", "replace")


def _assert_exit_2(code: int, err: str, expect: str = "") -> None:
    assert code == 2, (code, err[-500:])
    assert "Traceback" not in err and "Error:" not in err.split(":", 1)[0], err[-500:]
    assert err.strip(), "no message on stderr"
    assert len(err) < 20_000, "the error list is not capped"
    if expect:
        assert expect in err, err[-500:]


# Many files through `engine.cli.main` in one separate interpreter (stderr captured per call), so
# that forty cases do not cost forty interpreter start-ups; the cases that depend on the process
# itself (standard input, /dev/zero, files the batch opens) run as real `medtech` processes.
_DRIVER = """
import contextlib, io, json, sys
from engine.cli import main
results = []
for argv in json.load(sys.stdin):
    err = io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
        try:
            code = main(argv)
        except SystemExit as exc:  # argparse: as the process would exit
            code = exc.code
        except BaseException as exc:  # noqa: BLE001 - reported as a failure below
            code = f"raised {type(exc).__name__}"
    results.append([code, err.getvalue()])
sys.stdout.write(json.dumps(results))
"""


def _run_many(argvs: list[list[str]]) -> list[tuple[int, str]]:
    proc = subprocess.run(
        [sys.executable, "-c", _DRIVER],
        cwd=ROOT,
        env=_env(),
        input=json.dumps(argvs).encode(),
        capture_output=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr.decode(errors="replace")[-2000:]
    return [tuple(r) for r in json.loads(proc.stdout)]


# The text CLI tells people in Chinese what the HTTP service says in English (engine.render.errors.input_error_text)
CLI_ZH = {
    "anchors and aliases": "锚点和别名",
    "too many digits": "整数位数过多",
    "larger than": "内容过大",
    "nested too deeply": "嵌套层次过深",
}


def _check_all(jobs: list[tuple[str, int, str, str]]) -> None:
    failures = []
    for name, code, err, expect in jobs:
        try:
            _assert_exit_2(code, err, CLI_ZH.get(expect, expect))
        except AssertionError as exc:
            failures.append(f"{name}: {exc}")
    assert not failures, "\n".join(failures)


def test_cli_refuses_every_bad_file_with_exit_2(tmp_path):
    cases = []
    for i, (name, body, paths) in enumerate(JSON_CASES):
        f = tmp_path / f"j{i}.json"
        f.write_bytes(body)
        cases.append((name, ["decide", str(f), "--format", "json"], sorted(paths or [""])[0] + ":"))
    for i, (name, body) in enumerate(MALFORMED):
        f = tmp_path / f"m{i}.json"
        f.write_bytes(body)
        # NaN is not JSON; read as YAML (a superset) it is the text 'NaN', refused at its field
        cases.append((name, ["decide", str(f)], "institution.level:" if "NaN" in name else "medtech: "))
    for i, (name, text, expect) in enumerate(YAML_CASES):
        f = tmp_path / f"y{i}.yaml"
        f.write_text(text, encoding="utf-8")
        # --format json: the engine's own messages (the Chinese text's wording is tested in test_exports)
        cases.append((name, ["decide", str(f), "--format", "json"], expect))
        if i < 3:
            cases.append(
                (name + " (--highlight)", ["flowchart", "hunan", "--highlight", str(f), "--format", "dot"], expect)
            )
    cases += [
        ("catalog --as-of 0001-01-01", ["catalog", "hunan", "--as-of", "0001-01-01"], "outside the supported dates"),
        (
            "flowchart --as-of 9999-12-31",
            ["flowchart", "hunan", "--as-of", "9999-12-31"],
            "outside the supported dates",
        ),
    ]
    results = _run_many([argv for _, argv, _ in cases])
    _check_all([(name, code, err, expect) for (name, _, expect), (code, err) in zip(cases, results, strict=True)])


def test_cli_processes_refuse_bad_input_with_exit_2(tmp_path):
    """Real `medtech` processes (in parallel): standard input, /dev/zero, batch files, a YAML bomb."""
    good = tmp_path / "in.jsonl"
    good.write_text(json.dumps(_req()) + "\n", encoding="utf-8")
    bomb = tmp_path / "bomb.yaml"
    bomb.write_text(ALIAS_BOMB, encoding="utf-8")
    deep = tmp_path / "deep.json"
    deep.write_bytes(MALFORMED[0][1])
    with open("/dev/zero", "rb") as zero:
        jobs = [
            ("decide /dev/zero", _start("decide", "/dev/zero"), "larger than"),
            ("decide - from /dev/zero", _start("decide", "-", stdin=zero), "larger than"),
            ("decide an alias bomb", _start("decide", str(bomb)), "anchors and aliases"),
            ("decide JSON nested 100,000 deep", _start("decide", str(deep)), "nested too deeply"),
            ("batch /dev/null", _start("batch", "/dev/null"), "empty input"),
            ("batch - with nothing on stdin", _start("batch", "-"), "empty input"),
            ("batch -o /missing/dir/x", _start("batch", str(good), "-o", "/missing/dir/x"), "does not exist"),
            ("batch -o = input", _start("batch", str(good), "-o", str(good)), "is the input file"),
            ("batch --shard 0/2", _start("batch", str(good), "--shard", "0/2"), "--shard"),
            ("batch --resume to stdout", _start("batch", str(good), "--resume"), "--resume"),
        ]
        _check_all([(name, *_finish(proc)[::2], expect) for name, proc, expect in jobs])
    assert good.read_text(encoding="utf-8") == json.dumps(_req()) + "\n"  # -o = input did not touch it


# --------------------------------------------------------------------------- the HTTP server layer (real process)


def _raw(port: int, data: bytes) -> bytes:
    with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
        s.sendall(data)
        out = b""
        while chunk := s.recv(65536):
            out += chunk
    return out


@pytest.fixture(scope="module")
def live():
    with live_server(_env()) as port:
        yield port


@pytest.mark.parametrize(
    "name, raw",
    [
        ("Content-Length: abc", b"POST /v1/decisions HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n{}"),
        ("100k-character query", b"GET /v1/technologies?q=" + b"a" * 100_000 + b" HTTP/1.1\r\nHost: x\r\n\r\n"),
        ("garbage request line", b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03 HTTP/1.1\r\n\r\n"),
    ],
)
def test_the_http_parser_answers_in_the_error_shape(live, name, raw):
    answer = _raw(live, raw)
    head, _, body = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 400"), answer[:200]
    assert b"content-type: application/json" in head.lower()
    _assert_error_shape(json.loads(body), 400)


def test_oversized_bodies_get_413_not_a_reset(live):
    body = b'{"a": "' + b"x" * (4 * 1024 * 1024) + b'"}'
    for _ in range(10):
        answer = _raw(
            live,
            b"POST /v1/decisions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            b"Connection: close\r\nContent-Length: " + str(len(body)).encode() + b"\r\n\r\n" + body,
        )
        assert answer.startswith(b"HTTP/1.1 413"), answer[:200]


def test_serve_on_a_busy_port_exits_3_with_a_message(live):
    proc = _start("serve", "--port", str(live))
    code, _, err = _finish(proc, timeout=60)
    assert code == 3, (code, err)
    assert "already in use" in err and "Traceback" not in err
    assert f"端口 {live} 已被占用" in err and "--port" in err  # in Chinese, for the person at the console
