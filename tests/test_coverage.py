"""Strict coverage (`medtech kb coverage --strict`): every leaf provision is cited by a rule or a
catalogue, or marked in `not_duties` with a reason of kb/vocabulary.yaml, by itself and not through
its parent; and the warning for a parent cited where one child would do.

The mutation tests change a copy of kb/rules/ (or of the whole kb/, for the command) and expect
the removed citation or mark to be reported by name.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml

from engine.checks import check
from engine.kb.coverage import coverage_problems, leaves, marked, strict
from engine.kb.documents import load_documents
from engine.kb.narrowest import narrower_citations
from engine.kb.rules import check_rules, load_rule_files
from engine.kb.vocabulary import vocabulary
from engine.paths import RULES_DIR
from processes import medtech

ROOT = Path(__file__).resolve().parent.parent


def _copy_rules(tmp_path: Path) -> Path:
    target = tmp_path / "rules"
    shutil.copytree(RULES_DIR, target)
    return target


def _edit(path: Path, edit) -> None:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    edit(data)
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False, width=4096), encoding="utf-8")


def _unaccounted(rules_dir: Path) -> list[str]:
    return [p.message for p in coverage_problems(load_rule_files(rules_dir), load_documents())]


def test_every_leaf_of_every_document_is_accounted_for_by_itself():
    documents = load_documents()
    cited, reasons = marked()
    st = strict(documents, cited, reasons)
    assert set(st) == set(documents)  # every document, the national notices included
    for doc_id, how in st.items():
        assert how, doc_id
        missing = [eid for eid, h in how.items() if h is None]
        assert not missing, (doc_id, missing)


def test_leaves_are_the_provisions_without_children():
    doc = load_documents()["nhc-2018-1"]
    lv = leaves(doc)
    assert "art_15__para_1__item_2" in lv and "art_51__para_1" in lv
    assert "art_15__para_1" not in lv and "art_15" not in lv  # they have children


def test_marks_use_the_closed_vocabulary_with_a_sentence():
    allowed = set(vocabulary().names("not_duty_reasons"))
    assert {
        "definition",
        "purpose",
        "authority_organisation",
        "contact",
        "signature",
        "listing_criteria",
        "cross_reference",
    } <= allowed
    for path, data in load_rule_files().items():
        for item in data.get("not_duties") or []:
            assert item["reason"] in allowed, (path, item)
            assert len(item["note"]) >= 3, (path, item)


@pytest.mark.parametrize(
    "document, eid",
    [
        ("jl-2021", "art_16__para_1__item_5"),  # cited by jl.organization-duties alone
        ("nhc-2018-1", "art_33__para_2"),  # cited by nhc.assess-trainees alone
        ("cq-2019-61", "sec_4__subsec_1"),  # cited by the two Chongqing QC rules
    ],
)
def test_removing_the_citations_of_a_leaf_is_reported(tmp_path, document, eid):
    rules_dir = _copy_rules(tmp_path)
    ref = f"{document}:{eid}"

    def drop(data):
        kept = []
        for rule in data["rules"]:
            rule["citations"] = [c for c in rule["citations"] if c != ref]
            if rule["citations"]:
                kept.append(rule)
        data["rules"] = kept

    assert not _unaccounted(rules_dir)
    for path in rules_dir.glob("*.yaml"):
        _edit(path, drop)
    messages = _unaccounted(rules_dir)
    assert len(messages) == 1 and messages[0].startswith(f"{eid} ("), messages


@pytest.mark.parametrize(
    "document, eid",
    [
        ("cq-2019-61", "conclusions__para_2"),  # contact: 联系电话
        ("nhc-2018-1", "art_10__para_1__item_3"),  # listing criteria
        ("sh-2024-13", "art_2__para_2"),  # definition
    ],
)
def test_removing_the_mark_of_a_leaf_is_reported(tmp_path, document, eid):
    rules_dir = _copy_rules(tmp_path)

    def unmark(data):
        before = len(data["not_duties"])
        data["not_duties"] = [i for i in data["not_duties"] if i["eid"] != eid]
        assert len(data["not_duties"]) == before - 1

    _edit(rules_dir / f"{document}.yaml", unmark)
    messages = _unaccounted(rules_dir)
    assert len(messages) == 1 and messages[0].startswith(f"{eid} ("), messages


def test_a_mark_on_a_parent_does_not_account_for_its_leaves(tmp_path):
    """The lenient count lets art_2 stand for its paragraphs; the strict one does not."""
    rules_dir = _copy_rules(tmp_path)

    def to_parent(data):
        data["not_duties"] = [i for i in data["not_duties"] if not i["eid"].startswith("art_2__")]
        data["not_duties"].append({"eid": "art_2", "reason": "definition", "note": "定义条款"})

    _edit(rules_dir / "nhc-2018-1.yaml", to_parent)
    messages = _unaccounted(rules_dir)
    assert any("art_2 has provisions below it" in m for m in messages), messages
    assert any(m.startswith("art_2__para_1 (") for m in messages), messages
    assert any(m.startswith("art_2__para_2 (") for m in messages), messages


def test_a_mark_on_a_cited_leaf_is_a_contradiction(tmp_path):
    rules_dir = _copy_rules(tmp_path)
    _edit(
        rules_dir / "nhc-2018-1.yaml",
        lambda d: d["not_duties"].append({"eid": "art_32__para_1", "reason": "principle", "note": "接收原则"}),
    )
    messages = _unaccounted(rules_dir)
    assert messages == ["art_32__para_1 is cited by a rule or catalogue: drop its mark"], messages


def test_a_reason_outside_the_vocabulary_is_a_schema_problem(tmp_path):
    rules_dir = _copy_rules(tmp_path)
    _edit(rules_dir / "nhc-2018-1.yaml", lambda d: d["not_duties"][0].update(reason="立法目的"))
    problems = check_rules(load_rule_files(rules_dir), load_documents())
    assert any(p.location.startswith("not_duties.0") and "purpose" in p.message for p in problems), problems


def test_kb_check_is_clean_and_warns_of_nothing():
    assert check() == []
    assert narrower_citations(load_rule_files(), load_documents()) == []


def _rule(summary: str, cite: str) -> dict:
    return {
        "document": "jl-2021",
        "rules": [
            {
                "id": "jl.probe",
                "stage": "obligation",
                "summary": summary,
                "when": {"fact": "jurisdiction", "present": True},
                "citations": [cite],
            }
        ],
    }


@pytest.mark.parametrize(
    "summary, cite, warned",
    [
        # item 5 alone says this: cite the item
        (
            "利用医疗技术临床应用信息化管理平台，定期核查本机构限制类技术开展数据信息报送情况",
            "jl-2021:art_16__para_1",
            True,
        ),
        # the paragraph's own lead-in says this: the paragraph is meant
        ("医疗质量管理委员会应当下设医疗技术临床应用管理的专门组织", "jl-2021:art_16__para_1", False),
        # two items share the words (制度): no single child would do
        (
            "制定本机构医疗技术临床应用管理制度并组织实施；定期检查本机构医疗技术临床应用管理各项制度执行情况",
            "jl-2021:art_16__para_1",
            False,
        ),
        # an attachment is a titled whole, not the sum of its notes
        ("此表一式两份，一份提交卫生健康行政部门", "jl-2021:att_3", False),
    ],
)
def test_a_parent_cited_where_one_child_would_do_is_warned_about(summary, cite, warned):
    got = narrower_citations({"probe.yaml": _rule(summary, cite)}, load_documents())
    assert bool(got) is warned, got
    if warned:
        assert "art_16__para_1__item_5" in got[0].message and got[0].location == "rules.0.citations.0"


def test_citing_the_child_as_well_silences_the_warning():
    rule = _rule(
        "利用医疗技术临床应用信息化管理平台，定期核查本机构限制类技术开展数据信息报送情况", "jl-2021:art_16__para_1"
    )
    rule["rules"][0]["citations"].append("jl-2021:art_16__para_1__item_5")
    assert narrower_citations({"probe.yaml": rule}, load_documents()) == []


def test_coverage_command_states_both_figures():
    proc = medtech("kb", "coverage", "--strict")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    head = proc.stdout.splitlines()[0]
    assert "lenient" in head and "strict" in head
    for doc in ("nhc-2018-1", "cq-2019-61", "hn-2018-11", "sh-2024-13", "jl-2021"):
        row = next(line for line in proc.stdout.splitlines() if line.startswith(doc))
        assert row.count("100.0%") == 2, row
    assert "every leaf is accounted for by itself" in proc.stdout
    assert "contact" in proc.stdout and "联系方式" in proc.stdout  # the marks counted by reason


def test_coverage_and_check_fail_on_a_copy_with_a_leaf_unmarked(tmp_path):
    kb = tmp_path / "kb"
    shutil.copytree(ROOT / "kb", kb)
    _edit(
        kb / "rules" / "hn-2018-11.yaml",
        lambda d: d.update(not_duties=[i for i in d["not_duties"] if i["eid"] != "conclusions__para_4"]),
    )
    env = {"MEDTECH_KB": str(kb), "XDG_CACHE_HOME": str(tmp_path / "cache")}
    strict_run = medtech("kb", "coverage", "--strict", env=env)
    assert strict_run.returncode == 1, strict_run.stdout + strict_run.stderr
    assert "hn-2018-11 conclusions__para_4 结尾第四段" in strict_run.stdout
    lenient = medtech("kb", "coverage", env=env)  # its parent's other leaves do not stand for it either
    assert lenient.returncode == 1 and "conclusions__para_4" in lenient.stdout, lenient.stdout
    checked = medtech("kb", "check", env=env)
    assert checked.returncode == 1
    assert "kb/rules/hn-2018-11.yaml: not_duties: conclusions__para_4 (结尾第四段)" in checked.stdout.replace(
        str(kb), "kb"
    ), checked.stdout
