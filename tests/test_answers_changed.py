"""scripts/answers_changed.py reports the answers a change to the taxonomy changes in other
jurisdictions (docs/adding-a-jurisdiction.md, "A new technology in the taxonomy").

A new node 机器人辅助髋关节置换术 placed under hip-arthroplasty (`is_a`): a catalogue entry covers
its node and every node below it (catalogs/taxonomy.yaml), so the provinces whose lists print
人工髋关节置换技术 (重庆 CQ07, 湖南 S14, 吉林 S19) now class it restricted; the national lists and
Shanghai's do not list hip arthroplasty, so it stays unlisted there.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
NODE = "  - id: robotic-hip-arthroplasty\n    name: 机器人辅助髋关节置换术\n    is_a: [hip-arthroplasty]\n"


def test_a_new_node_under_a_listed_one_changes_other_provinces_answers(tmp_path):
    shutil.copytree(ROOT / "kb", tmp_path / "kb")
    shutil.copytree(ROOT / "catalogs", tmp_path / "catalogs")
    taxonomy = tmp_path / "catalogs" / "taxonomy.yaml"
    taxonomy.write_text(taxonomy.read_text(encoding="utf-8").rstrip("\n") + "\n" + NODE, encoding="utf-8")
    proc = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "answers_changed.py"), "--base", str(ROOT), "--new", str(tmp_path),
         "--fail-on-change"],
        capture_output=True, text=True, timeout=600, cwd=ROOT,
    )  # fmt: skip
    assert proc.returncode == 1, proc.stdout + proc.stderr
    lines = proc.stdout.splitlines()
    changed = {line.split(" · ")[0]: line for line in lines if "机器人辅助髋关节置换术" in line}
    assert set(changed) == {"chongqing", "hunan", "jilin", "national", "shanghai"}, lines
    for j, code in (("chongqing", "chongqing-2019:CQ07"), ("hunan", "hunan-2018:S14"), ("jilin", "jilin-2021:S19")):
        assert "-> restricted" in changed[j] and f"+{code}" in changed[j], changed[j]
        assert "+file→license_issuer" in changed[j], changed[j]
    for j in ("national", "shanghai"):
        assert "-> unlisted" in changed[j] and "listings" not in changed[j], changed[j]
    # nothing else changed: the only lines are those of the new name, then the count
    assert lines[:-1] == list(changed.values()) and lines[-1].startswith("5 of "), lines
