"""The wheel works outside the repository.

`python -m build` (sdist, then the wheel from it) runs on a copy of the sources in a temporary
folder; the wheel is installed into a fresh virtual environment there (its dependencies at the
versions requirements.lock pins, from pip's cache or the registry), and the installed `medtech`
runs from that folder, with nothing of the repository on its path: `kb check`, `decide`, and
`serve` (the page, a decision, the page's chart). Without Graphviz's `dot` on PATH the flowchart
command says so in one sentence (exit 2) and the page shows the pre-rendered chart from diagrams/.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import httpx
import pytest
import yaml

from inventory import DOCUMENTS

ROOT = Path(__file__).resolve().parent.parent
# what the build reads: setup.py copies kb/, catalogs/, diagrams/*.svg and examples/ into engine/_data/
SOURCES = ["engine", "kb", "catalogs", "diagrams", "examples", "pyproject.toml", "setup.py", "MANIFEST.in",
           "README.md", "requirements.lock"]  # fmt: skip
REQUEST = yaml.safe_load((ROOT / "examples" / "request.yaml").read_text(encoding="utf-8"))


def _run(args: list, *, cwd: Path, env: dict | None = None, stdin: str | None = None, timeout: int = 600):
    return subprocess.run(
        [str(a) for a in args], cwd=cwd, env=env, input=stdin, capture_output=True, text=True, timeout=timeout
    )


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> dict:
    """{bin: the fresh venv's bin folder, home: a folder outside the repository, env: its environment}."""
    base = tmp_path_factory.mktemp("wheel")
    src = base / "src"
    src.mkdir()
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", "_data")
    for name in SOURCES:
        path = ROOT / name
        if path.is_dir():
            shutil.copytree(path, src / name, ignore=ignore)
        else:
            shutil.copy2(path, src / name)
    proc = _run([sys.executable, "-m", "build", "--outdir", base / "dist", src], cwd=base)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    wheels = list((base / "dist").glob("*.whl"))
    assert len(wheels) == 1, wheels
    venv = base / "venv"
    proc = _run([sys.executable, "-m", "venv", venv], cwd=base)
    assert proc.returncode == 0, proc.stderr
    # the lock's versions (without the hashes, which a constraints file cannot carry), for the runtime deps
    pins = [line.split()[0] for line in (ROOT / "requirements.lock").read_text(encoding="utf-8").splitlines()
            if line[:1].isalnum()]  # fmt: skip
    (base / "constraints.txt").write_text("\n".join(pins) + "\n", encoding="utf-8")
    pip = [venv / "bin" / "python", "-m", "pip", "install", "-q", "--disable-pip-version-check"]
    proc = _run([*pip, "-c", base / "constraints.txt", wheels[0]], cwd=base)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    home = base / "elsewhere"
    home.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MEDTECH_", "PYTHON"))}
    env["XDG_CACHE_HOME"] = str(base / "cache")  # validated afresh, not from the checkout's cache
    return {"bin": venv / "bin", "home": home, "env": env, "wheel": wheels[0], "base": base}


def test_wheel_contents(installed):
    names = set(zipfile.ZipFile(installed["wheel"]).namelist())
    for path in ("engine/_data/kb/vocabulary.yaml", "engine/_data/kb/documents/nhc-2018-1.yaml",
                 "engine/_data/kb/sources/nhc-2018-1.txt", "engine/_data/catalogs/taxonomy.yaml",
                 "engine/_data/diagrams/hunan-filing.svg", "engine/_data/examples/request.yaml",
                 "engine/service/templates/page.html"):  # fmt: skip
        assert path in names, path
    assert not any(n.startswith(("kb/", "catalogs/", "tests/")) for n in names)


def test_kb_check_and_decide_outside_the_repository(installed):
    medtech, home, env = installed["bin"] / "medtech", installed["home"], installed["env"]
    proc = _run([medtech, "kb", "check"], cwd=home, env=env)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert f"knowledge base OK: {len(DOCUMENTS)} documents" in proc.stdout
    proc = _run([medtech, "decide", "-", "--format", "json"], cwd=home, env=env, stdin=json.dumps(REQUEST, default=str))
    assert proc.returncode == 0, proc.stderr
    answer = json.loads(proc.stdout)
    # examples/request.yaml: first case 2025-03-03 (Mon) + 15 working days (nhc-2018-1 第十一条):
    # 3/4 1, 3/5 2, 3/6 3, 3/7 4, 3/10 5, 3/11 6, 3/12 7, 3/13 8, 3/14 9, 3/17 10, 3/18 11, 3/19 12,
    # 3/20 13, 3/21 14, 3/24 15 -> due 2025-03-24
    filing = [o for o in answer["obligations"] if o["action"] == "file"]
    assert [(o["due"], o["addressee"]) for o in filing] == [("2025-03-24", "license_issuer")]
    # the installed package answered from its own copy of the knowledge base
    probe = "import engine.paths as p; print(p.KB_DIR)"
    where = _run([installed["bin"] / "python", "-c", probe], cwd=home, env=env).stdout.strip()
    assert where.startswith(str(installed["base"] / "venv")) and where.endswith("engine/_data/kb"), where


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _serve(installed, env: dict):
    port = _free_port()
    proc = subprocess.Popen(
        [str(installed["bin"] / "medtech"), "serve", "--host", "127.0.0.1", "--port", str(port)],
        cwd=installed["home"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            if httpx.get(base + "/healthz", timeout=2).status_code < 500:
                return proc, base
        except httpx.TransportError:
            pass
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            raise AssertionError(f"medtech serve did not start: {proc.stderr.read().decode() if proc.stderr else ''}")
        time.sleep(0.2)


def _stop(proc) -> None:
    proc.terminate()
    try:
        proc.wait(10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(5)


QUERY = "jurisdiction=hunan&level=3&tech=冠心病介入治疗&first_in_institution=yes&ev=first_clinical_use&ed=2025-03-03&as_of=2025-03-10"


def test_serve_outside_the_repository(installed):
    proc, base = _serve(installed, installed["env"])
    try:
        page = httpx.get(f"{base}/?{QUERY}", timeout=60)
        assert page.status_code == 200 and "2025-03-24" in page.text and "本例所在步骤已高亮" in page.text
        decision = httpx.post(f"{base}/v1/decisions", json=json.loads(json.dumps(REQUEST, default=str)), timeout=60)
        assert decision.status_code == 200, decision.text
        assert [o["due"] for o in decision.json()["obligations"] if o["action"] == "file"] == ["2025-03-24"]
        chart = httpx.get(f"{base}/chart.svg?{QUERY}&chart=filing", timeout=60)
        assert chart.status_code == 200 and chart.text.lstrip().startswith("<?xml")
        assert "X-Chart-Source" not in chart.headers  # drawn for the case by dot
    finally:
        _stop(proc)


def test_without_graphviz(installed):
    """PATH without `dot`: the flowchart command fails in one sentence, the page falls back."""
    nodot = installed["base"] / "nodot"
    nodot.mkdir(exist_ok=True)
    env = {**installed["env"], "PATH": str(nodot)}
    proc = _run([installed["bin"] / "medtech", "flowchart", "hunan", "--format", "svg"], cwd=installed["home"], env=env)
    assert proc.returncode == 2
    message = proc.stderr.strip()
    assert "\n" not in message and "Graphviz" in message and "`dot`" in message and "Traceback" not in message, message
    server, base = _serve(installed, env)
    try:
        page = httpx.get(f"{base}/?{QUERY}", timeout=60)
        assert page.status_code == 200 and "未安装 Graphviz" in page.text
        chart = httpx.get(f"{base}/chart.svg?{QUERY}&chart=filing", timeout=60)
        assert chart.status_code == 200 and chart.headers["X-Chart-Source"] == "pre-rendered"
        assert chart.text == (ROOT / "diagrams" / "hunan-filing.svg").read_text(encoding="utf-8")
    finally:
        _stop(server)
