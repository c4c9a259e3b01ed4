#!/usr/bin/env python3
"""Screenshots of the web page for docs/screenshots/, taken with Debian's chromium (Playwright drives
/usr/bin/chromium; Playwright's own browser download is never used).

    .venv/bin/python scripts/screenshots.py            # starts the service on a free loopback port
    .venv/bin/python scripts/screenshots.py --url http://127.0.0.1:8000 -o /tmp/shots

Writes desktop.png (1366x900), phone.png (390x844), missing.png (a question the answer needs),
print.pdf and print-1.png (its first A4 page, by pdftoppm), provision.png, chart.png (the
example's highlighted flowchart), downloads.png (the verdict with the downloads beside it),
new-technique.png (a technique in no catalogue: the deciding facts and how they counted),
keyboard.png (the form reached by keyboard: the skip link and a focused question) and
compare-phone.png (the comparison on a phone: one block per jurisdiction). `bash scripts/setup.sh --browser` installs chromium and
poppler-utils. The browser tests (tests/test_browser.py) use the helpers below and run `take`.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = os.environ.get("MEDTECH_CHROMIUM", "/usr/bin/chromium")
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
DESKTOP = {"width": 1366, "height": 900}
PHONE = {"width": 390, "height": 844}

# The README's example (examples/request.yaml) as the page's query string.
EXAMPLE = [
    ("jurisdiction", "hunan"),
    ("inst_name", "某市第一人民医院"),
    ("category", "hospital"),
    ("level", "3"),
    ("tech", "冠心病介入治疗"),
    ("first_in_institution", "yes"),
    ("ev", "first_clinical_use"),
    ("ed", "2025-03-03"),
    ("as_of", "2025-03-10"),
]
# examples/needs-grade-shanghai.yaml: the answer asks for the surgery grade
MISSING = [("jurisdiction", "shanghai"), ("level", "3"), ("tech", "消化内镜"), ("as_of", "2025-03-10")]
# a technique in no catalogue, answered from the facts that decide
NEW_TECHNIQUE = [
    ("jurisdiction", "hunan"),
    ("level", "3"),
    ("tech", "某新型基因编辑细胞疗法"),
    ("new_tech", "yes"),
    ("first_in_institution", "yes"),
    ("major_ethical_risk", "yes"),
    ("as_of", "2025-06-10"),
]
# the comparison: proton therapy in Hunan, filed on 2025-03-12 (Shanghai completes a filing on the spot)
COMPARE = [
    ("as_of", "2025-03-20"),
    ("jurisdiction", "hunan"),
    ("level", "3"),
    ("tech", "质子和重离子加速器放射治疗技术"),
    ("first_in_institution", "yes"),
    ("ev", "first_clinical_use"),
    ("ed", "2025-03-03"),
    ("ev", "filing_submitted"),
    ("ed", "2025-03-12"),
]


def query(pairs) -> str:
    return urllib.parse.urlencode(pairs)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def serve(timeout: float = 60):
    """Run `uvicorn engine.service.app:app` on a free loopback port; yields its base URL."""
    port = free_port()
    env = {**os.environ, "PYTHONPATH": str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    log = tempfile.TemporaryFile()  # noqa: SIM115 - closed in `finally` once the server has stopped
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "uvicorn",
            "engine.service.app:app",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--log-level",
            "warning",
        ],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + timeout
        while True:
            if proc.poll() is not None:
                log.seek(0)
                raise RuntimeError(
                    f"uvicorn exited with {proc.returncode}: {log.read().decode(errors='replace')[-2000:]}"
                )
            try:
                with urllib.request.urlopen(base + "/healthz", timeout=2) as r:
                    if r.status == 200:
                        break
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"the service did not answer /healthz within {timeout:.0f} s")
            time.sleep(0.2)
        yield base
    finally:
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(10)
        log.close()


def missing_tools() -> list[str]:
    """What the screenshots need and this machine lacks (`bash scripts/setup.sh --browser` installs it)."""
    out = []
    if not Path(CHROMIUM).exists():
        out.append(f"chromium ({CHROMIUM})")
    if shutil.which("pdftoppm") is None:
        out.append("pdftoppm (poppler-utils)")
    try:
        import playwright  # noqa: F401
    except ImportError:
        out.append("the playwright Python package (pip install -e '.[test]')")
    return out


@contextlib.contextmanager
def browser(viewport: dict = DESKTOP, **options):
    """A Chromium context with a fresh user-data-dir, launched from Debian's package."""
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory(prefix="medtech-chromium-") as profile, sync_playwright() as p:
        context = p.chromium.launch_persistent_context(
            profile,
            executable_path=CHROMIUM,
            args=FLAGS,
            headless=True,
            viewport=viewport,
            locale="zh-CN",
            timezone_id="Asia/Shanghai",
            **options,
        )
        try:
            yield context
        finally:
            context.close()


def pdf_to_png(pdf: Path, png_stem: Path, first: int = 1, last: int = 1, dpi: int = 100) -> list[Path]:
    """Pages `first`..`last` of a PDF as PNGs `<stem>-N.png` (pdftoppm)."""
    subprocess.run(
        ["pdftoppm", "-png", "-r", str(dpi), "-f", str(first), "-l", str(last), str(pdf), str(png_stem)], check=True
    )
    return sorted(png_stem.parent.glob(png_stem.name + "-*.png"))


def _rename_pages(pages: list[Path]) -> list[Path]:
    """pdftoppm numbers pages with leading zeros when there are many; call them <stem>-N.png."""
    out = []
    for p in pages:
        stem, _, n = p.stem.rpartition("-")
        target = p.with_name(f"{stem}-{int(n)}.png")
        if target != p:
            p.replace(target)
        out.append(target)
    return out


def take(base: str, out: Path) -> dict[str, Path]:
    """Every screenshot, written under `out`; returns {name: path}."""
    out.mkdir(parents=True, exist_ok=True)
    shots: dict[str, Path] = {}
    url = f"{base}/?{query(EXAMPLE)}"
    with browser(DESKTOP) as ctx:
        page = ctx.new_page()
        page.goto(url, wait_until="networkidle")
        page.screenshot(path=str(out / "desktop.png"))
        shots["desktop"] = out / "desktop.png"
        page.emulate_media(media="print")
        page.pdf(path=str(out / "print.pdf"), format="A4", print_background=True, prefer_css_page_size=True)
        shots["print.pdf"] = out / "print.pdf"
        for old in out.glob("print-*.png"):
            old.unlink()
        for p in _rename_pages(pdf_to_png(out / "print.pdf", out / "print", 1, 2)):
            shots[p.stem] = p
        page.emulate_media(media="screen")
        page.goto(f"{base}/?{query(MISSING)}", wait_until="networkidle")
        page.screenshot(path=str(out / "missing.png"))
        shots["missing"] = out / "missing.png"
        page.goto(f"{base}/provisions/nhc-2018-1/art_11__para_1", wait_until="networkidle")
        page.screenshot(path=str(out / "provision.png"))
        shots["provision"] = out / "provision.png"
        page.goto(url, wait_until="networkidle")
        box = page.locator("nav.downloads").bounding_box()
        page.screenshot(
            path=str(out / "downloads.png"),
            clip={
                "x": 0,
                "y": 0,
                "width": DESKTOP["width"],
                "height": min(DESKTOP["height"], box["y"] + box["height"] + 24),
            },
        )
        shots["downloads"] = out / "downloads.png"
        page.goto(f"{base}/?{query(NEW_TECHNIQUE)}", wait_until="networkidle")
        page.screenshot(path=str(out / "new-technique.png"))
        shots["new-technique"] = out / "new-technique.png"
        page.goto(f"{base}/", wait_until="networkidle")
        page.keyboard.press("Tab")  # the skip link, shown when focused
        page.locator("#q-major_ethical_risk input[value=yes]").focus()
        page.keyboard.press("Space")
        page.evaluate("document.querySelector('a.skip').focus()")
        page.screenshot(path=str(out / "keyboard.png"))
        shots["keyboard"] = out / "keyboard.png"
    with browser(PHONE, device_scale_factor=2, is_mobile=True, has_touch=True) as ctx:
        page = ctx.new_page()
        page.goto(url, wait_until="networkidle")
        page.screenshot(path=str(out / "phone.png"))
        shots["phone"] = out / "phone.png"
        page.goto(f"{base}/compare?{query(COMPARE)}", wait_until="networkidle")
        page.screenshot(
            path=str(out / "compare-phone.png"),
            full_page=True,
            clip={"x": 0, "y": 0, "width": PHONE["width"], "height": 1800},
        )
        shots["compare-phone"] = out / "compare-phone.png"
    shots["chart"] = _chart_png(out / "chart.png")
    return shots


def _chart_png(target: Path) -> Path:
    """The highlighted flowchart as PNG (rendered by Graphviz from the same request)."""
    import yaml

    from engine.flowchart import render_chart

    request = yaml.safe_load((ROOT / "examples" / "request.yaml").read_text(encoding="utf-8"))
    png = render_chart(None, "filing", "png", highlight=request)
    target.write_bytes(png if isinstance(png, bytes) else png.encode())
    return target


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--url", help="a running service (default: start one on a free loopback port)")
    ap.add_argument("-o", "--out", type=Path, default=ROOT / "docs" / "screenshots", help="output folder")
    args = ap.parse_args(argv)
    lacking = missing_tools()
    if lacking:
        print(
            "screenshots: missing " + "; ".join(lacking) + " — run `bash scripts/setup.sh --browser`", file=sys.stderr
        )
        return 1
    with contextlib.ExitStack() as stack:
        base = args.url.rstrip("/") if args.url else stack.enter_context(serve())
        shots = take(base, args.out)
    (args.out / "print.pdf").unlink(missing_ok=True)  # the PNGs are what the docs show
    for name, path in shots.items():
        if path.exists():
            print(f"{name}: {path.relative_to(ROOT) if path.is_relative_to(ROOT) else path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
