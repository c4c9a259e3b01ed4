"""engine.batch.run_batch: one output line per input line, in order, errors in place."""

from __future__ import annotations

import json

import pytest

from engine import batch

VALID_JILIN = {
    "as_of": "2025-04-29",
    "institution": {"jurisdiction": "jilin", "level": 3},
    "events": [{"type": "first_clinical_use", "date": "2025-04-28"}],
}
VALID_HUNAN = {"as_of": "2025-03-10", "institution": {"jurisdiction": "湖南", "level": 2}}
INVALID = {"as_of": "2025-02-30", "institution": {"jurisdiction": "广东省"}}


def _lines() -> list[str]:
    return [
        json.dumps(VALID_JILIN, ensure_ascii=False),
        json.dumps(INVALID, ensure_ascii=False),
        "",
        "{not json",
        "   ",
        json.dumps(VALID_HUNAN, ensure_ascii=False) + "\r",  # CRLF line ending
        "[1, 2",
        '"a string"',
        json.dumps({**VALID_HUNAN, "note": "a\u2028b"}, ensure_ascii=False),  # U+2028 inside a string: still one line
    ] + [json.dumps({**VALID_JILIN, "as_of": f"2025-05-{d:02d}"}) for d in range(1, 21)]


def _check(out_lines: list[str], in_lines: list[str]) -> list[dict]:
    assert len(out_lines) == len(in_lines)
    out = [json.loads(line) for line in out_lines]
    assert out[0]["jurisdiction"]["id"] == "jilin" and "errors" not in out[0]
    assert {e["path"] for e in out[1]["errors"]} == {"as_of", "institution.jurisdiction"}
    assert out[2] == {"errors": [{"path": "", "message": "empty line"}]}
    assert out[3]["errors"][0]["message"].startswith("malformed JSON")
    assert out[4] == {"errors": [{"path": "", "message": "empty line"}]}
    assert out[5]["jurisdiction"]["id"] == "hunan"
    assert out[6]["errors"][0]["message"].startswith("malformed JSON")
    assert out[7]["errors"][0]["path"] == ""
    assert [e["path"] for e in out[8]["errors"]] == ["note"]
    assert [o["as_of"] for o in out[9:]] == [f"2025-05-{d:02d}" for d in range(1, 21)]
    return out


def test_run_batch_with_two_workers(tmp_path):
    lines = _lines()
    src = tmp_path / "in.jsonl"
    src.write_text("\n".join(lines) + "\n", encoding="utf-8")
    dst = tmp_path / "out.jsonl"
    assert batch.run_batch(str(src), str(dst), progress=False, workers=2) == 0
    text = dst.read_text(encoding="utf-8")
    assert text.endswith("\n") and "\r" not in text
    out = _check(text.split("\n")[:-1], lines)
    # the pool gives the same answers as a direct call
    from engine import decide

    assert out[0] == decide(VALID_JILIN)
    assert "吉林省" in text  # ensure_ascii=False


def test_single_worker_and_stdout(tmp_path, monkeypatch, capsys):
    lines = _lines()
    src = tmp_path / "in.jsonl"
    src.write_bytes(b"\xef\xbb\xbf" + "\n".join(lines).encode("utf-8"))  # BOM, no final newline
    assert batch.run_batch(src, None, workers=1) == 0
    _check(capsys.readouterr().out.split("\n")[:-1], lines)


def test_undecodable_and_empty_input(tmp_path):
    src = tmp_path / "in.jsonl"
    src.write_bytes(b'\xff\xfe{"a"}\n\n')
    dst = tmp_path / "out.jsonl"
    batch.run_batch(src, dst, workers=2)
    out = [json.loads(line) for line in dst.read_text(encoding="utf-8").splitlines()]
    assert len(out) == 2
    assert out[0]["errors"][0]["message"].startswith("malformed JSON")
    assert out[1]["errors"][0]["message"] == "empty line"

    src.write_bytes(b"")
    batch.run_batch(src, dst, workers=2)
    assert dst.read_bytes() == b""


def test_progress_bar_goes_to_stderr(tmp_path, capsys):
    src = tmp_path / "in.jsonl"
    src.write_text(json.dumps(VALID_HUNAN) + "\n", encoding="utf-8")
    dst = tmp_path / "out.jsonl"
    batch.run_batch(src, dst, progress=True, workers=1)
    captured = capsys.readouterr()
    assert captured.out == ""
    assert "1/1" in captured.err


def crash_on_boom(lines):
    """Stands in for answer_chunk in a worker: dies like a native crash on a line `boom`."""
    import os

    if b"boom" in lines:
        os._exit(134)
    return b"".join(line + b"\n" for line in lines)


def test_a_dying_worker_is_reported_not_hung():
    lines = [b"a", b"b", b"boom", b"c"]
    with pytest.raises(batch.WorkerDied, match="worker process died"):
        list(batch.answer_blocks(lines, workers=2, chunk_fn=crash_on_boom))


def test_answers_generator_matches_lines():
    lines = [json.dumps(VALID_HUNAN).encode(), b"", b"{"]
    out = list(batch.answers(lines, workers=1))
    assert len(out) == 3 and out[1] == '{"errors":[{"path":"","message":"empty line"}]}'


@pytest.mark.parametrize("n, processes, expected", [(10, 2, 1), (100_000, 2, 256), (3_200, 2, 100)])
def test_chunksize(n, processes, expected):
    assert batch.chunksize_for(n, processes) == expected
