#!/usr/bin/env python3
"""Screenshots of the register and ledger pages for docs/guide.zh.md (sections 8 and 9), taken as
scripts/screenshots.py takes the others (Debian's chromium driven by Playwright, a live service on a free port).

    .venv/bin/python scripts/screenshots_beyond.py            # writes docs/screenshots/{register,register-print-1,ledger}.png
    .venv/bin/python scripts/screenshots_beyond.py -o /tmp/shots

register.png: Shanghai on 2025-03-10, the rows that go beyond the national measures; register-print-1.png: the
first A4 page of the whole register printed; ledger.png: the ten-row ledger of tests/test_ledger.py answered.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts"))
sys.path.insert(0, str(ROOT / "tests"))
import screenshots  # noqa: E402

ROWS = [  # (技术名称或编号, 手术分级, 首例日期, 备案日期, 是否本机构首次), as tests/test_ledger.py
    ("冠心病介入治疗", None, "2025-03-03", None, "是"),
    ("血液透析", "三级", "2025-03-05", None, "是"),
    ("ECMO", None, "2025-02-27", None, "是"),
    ("S19", None, "2025-02-10", None, "否"),
    ("质子治疗", None, "2025-01-20", None, "是"),
    ("脑下垂体酒精毁损术治疗顽固性疼痛", None, "2025-03-01", None, None),
    ("放射性粒子植入治疗技术", None, "2025-03-03", "2025-03-07", "是"),
    ("肿瘤消融治疗技术", None, "2025-02-30", None, "是"),
    (None, 3, "2025-03-01", None, "是"),
    ("肿瘤消融治疗技术", None, "2025-03-10", None, "是"),
]


def ledger_file(path: Path) -> Path:
    """The template filled with ROWS."""
    import datetime as dt

    from openpyxl import load_workbook

    from engine.ledger.output import template

    wb = load_workbook(io.BytesIO(template()))
    ws = wb.worksheets[0]
    headers = [c.value for c in ws[1]]
    ws.delete_rows(2)
    for r in ROWS:
        cells = dict(zip(["技术名称或编号", "手术分级", "首例日期", "备案日期", "是否本机构首次"], r, strict=True))
        for k in ("首例日期", "备案日期"):
            with contextlib.suppress(ValueError):  # 2025-02-30 stays text: the unreadable row
                cells[k] = dt.date.fromisoformat(cells[k]) if cells[k] else None
        ws.append([cells.get(h) for h in headers])
    wb.save(path)
    return path


def take(base: str, out: Path) -> dict[str, Path]:
    out.mkdir(parents=True, exist_ok=True)
    shots = {}
    with screenshots.browser(screenshots.DESKTOP) as ctx:
        page = ctx.new_page()
        page.goto(f"{base}/register?jurisdiction=shanghai&as_of=2025-03-10&origin=narrows")
        page.screenshot(path=str(out / "register.png"))
        shots["register"] = out / "register.png"
        page.goto(f"{base}/register?jurisdiction=shanghai&as_of=2025-03-10")
        with tempfile.TemporaryDirectory() as tmp:
            pdf = Path(tmp) / "register.pdf"
            page.pdf(path=str(pdf), prefer_css_page_size=True, print_background=True)
            pages = screenshots.pdf_to_png(pdf, out / "register-print", 1, 1, dpi=80)
            shots["register-print"] = screenshots._rename_pages(pages)[0]
            page.goto(f"{base}/ledger")
            page.select_option("#l-jurisdiction", "hunan")
            page.fill("#l-inst_name", "某市第一人民医院")
            page.select_option("#l-level", "3")
            page.fill("#l-as_of", "2025-03-10")
            page.set_input_files("#l-file", str(ledger_file(Path(tmp) / "台账.xlsx")))
            page.click("#l-view")
            page.wait_for_selector("#l-rows")
            page.locator("h2").first.scroll_into_view_if_needed()
            page.screenshot(path=str(out / "ledger.png"))
            shots["ledger"] = out / "ledger.png"
    return shots


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--url", default=None, help="a running service (default: start one on a free port)")
    p.add_argument("-o", "--out", default=str(ROOT / "docs" / "screenshots"))
    args = p.parse_args(argv)
    if args.url:
        shots = take(args.url, Path(args.out))
    else:
        with screenshots.serve() as base:
            shots = take(base, Path(args.out))
    for name, path in shots.items():
        print(f"{name}: {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
