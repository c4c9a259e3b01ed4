"""Benchmark of engine.catalog.resolve: start-up time and per-resolution latency.

Usage (from the repository root):  .venv/bin/python benchmarks/resolve.py [N] [--seed S]

Start-up = importing engine.catalog and loading/indexing the catalogues, taxonomy and the
documents' dates. Then N resolutions (default 20,000) of a realistic mix: catalogue wordings,
common names and abbreviations, misspellings and unknown names, declared ambiguous names,
plain and qualified codes; every jurisdiction (and 'all'); dates from 2018 to 2030 (so every
catalogue version and document status occurs); surgery grades None or 1-4. Each resolution is
timed including `to_dict()`, as the decision engine uses it. Target: well under 1 ms.
"""

from __future__ import annotations

import random
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

NAMES = [
    "冠心病介入治疗",
    "冠心病介入治疗技术",
    "PCI",
    "心脏支架",
    "经皮冠状动脉介入治疗",
    "ECMO",
    "体外膜肺氧合",
    "CRRT",
    "血透",
    "血液透析",
    "腹膜透析",
    "血浆置换",
    "血液净化技术",
    "人工髋关节置换术",
    "膝关节置换",
    "全髋关节置换",
    "人工关节置换",
    "TAVR",
    "TAVI",
    "左心耳封堵术",
    "起搏器植入术",
    "心脏导管消融",
    "经导管射频消融术",
    "射频消融",
    "腹腔镜手术",
    "透析",
    "干细胞移植",
    "关节镜",
    "关节镜诊疗技术",
    "消化内镜",
    "ESD",
    "ERCP",
    "支气管镜",
    "宫腔镜",
    "胸腔镜手术",
    "椎间孔镜",
    "神经介入",
    "颅内动脉瘤栓塞术",
    "外周血管介入",
    "TACE",
    "造血干细胞移植",
    "异基因造血干细胞移植",
    "自体造血干细胞移植",
    "同种异体皮肤移植",
    "性别重置技术",
    "变性手术",
    "质子重离子治疗",
    "放射性粒子植入",
    "肿瘤消融",
    "微波消融",
    "肿瘤全身热疗",
    "热疗",
    "心室辅助装置",
    "人工智能辅助治疗",
    "手术机器人",
    "人工智能辅助诊断",
    "自体器官移植",
    "肝移植",
    "试管婴儿",
    "CAR-T",
    "干细胞治疗",
    "代孕",
    "角膜放射状切开术",
    "断骨增高",
    "口腔种植",
    "种植牙",
    "体外冲击波碎石",
    "粪菌移植",
    "脊髓电刺激镇痛术",
    "基因芯片",
    "NGS",
    "PCR检测",
    "高压氧",
    "LASIK",
    "羊水穿刺",
    "胎儿镜",
    "伽玛刀",
    "调强放疗",
    "冠脉搭桥",
    "胰腺癌根治术",
    "面部轮廓整形",
    # unknown or misspelled
    "心脏起博器",
    "肝癌切除术",
    "阑尾炎手术",
    "血液透折",
    "人工晶体植入",
    "牙齿美白",
    "ECM0",
    "冠心病介入治liao",
]
CODES = [
    "S19",
    "S25",
    "S06",
    "S1",
    "S11",
    "S20",
    "SH10",
    "SH13",
    "SH02",
    "CQ07",
    "CQ04",
    "G01",
    "G05",
    "G11",
    "G12",
    "hunan:S19",
    "hunan:G05",
    "hunan-2018:S19",
    "national-2022:G05",
    "national-2018:G05",
    "jilin:S20",
    "shanghai:SH13",
    "chongqing:CQ06",
    "湖南:S25",
    "X99",
    "S99",
]
JURISDICTIONS = ["national", "chongqing", "hunan", "shanghai", "jilin", "all", "湖南", "上海市"]


def main(argv: list[str]) -> None:
    n = int(argv[1]) if len(argv) > 1 and not argv[1].startswith("-") else 20_000
    seed = int(argv[argv.index("--seed") + 1]) if "--seed" in argv else 20250310

    t0 = time.perf_counter()
    from engine import catalog

    t1 = time.perf_counter()
    catalog.load_catalogs()
    t2 = time.perf_counter()
    print(
        f"start-up: import {1000 * (t1 - t0):.1f} ms + load/index {1000 * (t2 - t1):.1f} ms = {1000 * (t2 - t0):.1f} ms"
    )

    import datetime as dt

    rng = random.Random(seed)
    start = dt.date(2018, 6, 1).toordinal()
    end = dt.date(2030, 12, 31).toordinal()
    queries = []
    for _ in range(n):
        day = dt.date.fromordinal(rng.randint(start, end))
        j = rng.choice(JURISDICTIONS)
        grade = rng.choice([None, None, 1, 2, 3, 4])
        if rng.random() < 0.75:
            queries.append({"name": rng.choice(NAMES), "jurisdiction": j, "as_of": day, "surgery_grade": grade})
        else:
            queries.append({"code": rng.choice(CODES), "jurisdiction": j, "as_of": day, "surgery_grade": grade})

    times = []
    statuses: dict[str, int] = {}
    resolve = catalog.resolve
    perf = time.perf_counter
    for q in queries:
        a = perf()
        r = resolve(**q).to_dict()
        times.append(perf() - a)
        statuses[r["status"]] = statuses.get(r["status"], 0) + 1
    times.sort()
    us = [t * 1e6 for t in times]
    print(f"resolutions: {n} ({', '.join(f'{k} {v}' for k, v in sorted(statuses.items()))})")
    print(
        f"latency per resolution: mean {statistics.fmean(us):.1f} µs, p50 {us[len(us) // 2]:.1f} µs, "
        f"p99 {us[int(len(us) * 0.99)]:.1f} µs, max {us[-1]:.1f} µs"
    )


if __name__ == "__main__":
    main(sys.argv)
