"""Benchmark of `medtech ledger`: a ledger of N rows (default 1,000) read, answered and written as the results
workbook, in this process and through engine.batch's worker processes. Target: 1,000 rows in under 10 s.

Usage (from the repository root):  .venv/bin/python benchmarks/ledger.py [--rows N] [--workers K]

The rows cycle through a realistic mix (Hunan, as of 2025-03-10): catalogue names, common names and codes, with
first-case and filing dates, grades and yes/no facts, and one unreadable row in fifty.
"""

from __future__ import annotations

import argparse
import io
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

MIX = [
    ("冠心病介入治疗", None, "2025-03-03", None, "是"),
    ("血液透析", "三级", "2025-03-05", None, "是"),
    ("ECMO", None, "2025-02-27", None, "是"),
    ("S19", None, "2025-02-10", "2025-02-20", "否"),
    ("质子治疗", None, "2025-01-20", None, "是"),
    ("放射性粒子植入治疗技术", None, "2024-11-03", "2024-11-07", "否"),
    ("肿瘤消融治疗技术", None, "2025-03-10", None, "是"),
    ("人工智能辅助治疗技术", "4", "2023-06-01", None, None),
    ("脑下垂体酒精毁损术治疗顽固性疼痛", None, "2025-03-01", None, None),
    ("心室辅助技术", None, "2025-01-02", "2025-01-15", "是"),
]
INSTITUTION = {"jurisdiction": "hunan", "name": "某市第一人民医院", "category": "hospital", "level": 3}


def ledger_bytes(n: int) -> bytes:
    """An xlsx ledger of n rows."""
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    ws.append(["技术名称或编号", "手术分级", "首例日期", "备案日期", "是否本机构首次"])
    for i in range(n):
        row = list(MIX[i % len(MIX)])
        if i % 50 == 49:
            row[2] = "2025-02-30"  # unreadable
        ws.append(row)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def run(data: bytes, workers: int | None) -> tuple[float, int, int]:
    from engine.ledger.output import result_workbook
    from engine.ledger.run import answer_ledger
    from engine.ledger.sheet import read_ledger

    t = time.perf_counter()
    ledger = read_ledger(data, "台账.xlsx", INSTITUTION, "2025-03-10")
    answered = answer_ledger(ledger, workers)
    out = result_workbook(ledger, answered, "2025-03-10")
    return time.perf_counter() - t, len(answered), len(out)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--rows", type=int, default=1000)
    p.add_argument("--workers", type=int, default=None)
    args = p.parse_args()
    from engine.inference.decision import decide
    from engine.ledger import run as run_mod

    t = time.perf_counter()
    decide(
        {"as_of": "2025-03-10", "institution": INSTITUTION, "technology": {"name": "PCI"}}
    )  # load the knowledge base
    print(f"start-up (knowledge base): {time.perf_counter() - t:.2f} s")
    data = ledger_bytes(args.rows)
    threshold = run_mod.BATCH_FROM
    run_mod.BATCH_FROM = 10**9
    secs, n, size = run(data, None)
    print(f"{n} rows in this process: {secs:.2f} s ({secs / n * 1000:.2f} ms/row), workbook {size / 1024:.0f} KiB")
    run_mod.BATCH_FROM = 0
    secs, n, size = run(data, args.workers)
    print(f"{n} rows through worker processes: {secs:.2f} s ({secs / n * 1000:.2f} ms/row)")
    run_mod.BATCH_FROM = threshold
    print(f"(the ledger uses worker processes from {threshold} rows on; target: 1,000 rows < 10 s)")


if __name__ == "__main__":
    main()
