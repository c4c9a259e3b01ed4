"""The scenario checker: a request and the parts of its response that must hold (docs/scenarios.md).

Usage, from the project's root:  .venv/bin/python tests/scenario_checker.py [SCENARIOS.yaml ...] [-v]
(default: every tests/scenarios/*.yaml). Prints one line per failing scenario and, last,
"hard P/N, soft P/N" (soft: scenarios marked `soft: true`). Exit 0 only when every hard scenario passes. tests/conftest.py collects
tests/scenarios/*.yaml through `check` (plus the extensions of tests/scenario_extras.py).
"""

import json
import os
import sys

import yaml

HERE = os.path.dirname(os.path.abspath(__file__))


def jsonable(x):
    return json.loads(json.dumps(x, default=lambda o: o.isoformat() if hasattr(o, "isoformat") else str(o)))


def norm_path(p):
    p = str(p).strip().lstrip("/").replace("/", ".")
    p = p.replace("[", ".").replace("]", "")
    return p.strip(".")


def cite_match(citations, want):
    doc, _, prefix = want.partition(":")
    for c in citations or []:
        if c.get("document") != doc:
            continue
        eid = c.get("eid") or ""
        if eid == prefix or eid.startswith(prefix + "__"):
            return True
    return False


def all_citations(resp):
    out = []
    for key in ("obligations", "authority_actions", "trace"):
        for o in resp.get(key) or []:
            out += o.get("citations") or []
            for cons in o.get("consequences") or []:
                out += cons.get("citations") or []
    return out


def check(resp, exp):
    errs = []
    tech = resp.get("technology") or {}
    if "class" in exp:
        allowed = exp["class"] if isinstance(exp["class"], list) else [exp["class"]]
        if tech.get("class") not in allowed:
            errs.append(f"class {tech.get('class')!r} not in {allowed!r}")
    if "class_not" in exp and tech.get("class") == exp["class_not"]:
        errs.append(f"class is {exp['class_not']!r}")
    codes = [listing.get("code") for listing in tech.get("listings") or []]
    for code in exp.get("listing_codes", []):
        if code not in codes:
            errs.append(f"listing {code} not in {codes}")
    if "no_listing_scope" in exp and any(
        listing.get("scope") == exp["no_listing_scope"] for listing in tech.get("listings") or []
    ):
        errs.append(f"has a {exp['no_listing_scope']} listing")
    if "technology_name_contains" in exp and exp["technology_name_contains"] not in (tech.get("name") or ""):
        errs.append(f"technology name {tech.get('name')!r}")
    obligations = resp.get("obligations") or []
    for want in exp.get("obligations", []):
        cands = [o for o in obligations if o.get("action") == want["action"]]
        if "addressee" in want:
            cands = [o for o in cands if o.get("addressee") == want["addressee"]]
        if not cands:
            errs.append(f"no {want['action']}" + (f" to {want['addressee']}" if "addressee" in want else ""))
            continue
        problems = []
        for o in cands:
            p = []
            if "due" in want and str(o.get("due")) != str(want["due"]):
                p.append(f"due {o.get('due')} != {want['due']}")
            if "status" in want and o.get("status") != want["status"]:
                p.append(f"status {o.get('status')} != {want['status']}")
            if "due_range" in want:
                lo, hi = (str(x) for x in want["due_range"])
                if not (o.get("due") and lo <= str(o.get("due")) <= hi):
                    p.append(f"due {o.get('due')} not in [{lo}, {hi}]")
            for c in want.get("cites", []):
                if not cite_match(o.get("citations"), c):
                    p.append(f"no citation {c}")
            dl = o.get("deadline") or {}
            if "latest" in want and str(dl.get("latest")) != str(want["latest"]):
                p.append(f"deadline.latest {dl.get('latest')} != {want['latest']}")
            if "if_not_done" in want:
                ind = o.get("if_not_done")
                if not ind:
                    p.append("no if_not_done")
                elif (
                    isinstance(want["if_not_done"], dict)
                    and "overdue_days" in want["if_not_done"]
                    and ind.get("overdue_days") != want["if_not_done"]["overdue_days"]
                ):
                    p.append(
                        f"if_not_done.overdue_days {ind.get('overdue_days')} != {want['if_not_done']['overdue_days']}"
                    )
            if "materials_min" in want and len(o.get("materials") or []) < want["materials_min"]:
                p.append(f"{len(o.get('materials') or [])} materials < {want['materials_min']}")
            if "materials_contain" in want and not any(
                want["materials_contain"] in (m.get("text") or "") for m in o.get("materials") or []
            ):
                p.append(f"no material mentioning {want['materials_contain']}")
            if not p:
                break
            problems.append("; ".join(p))
        else:
            errs.append(f"{want['action']}: " + " | ".join(problems))
    for unwanted in exp.get("obligation_not", []):
        for o in obligations:
            if all(str(o.get(k)) == str(v) for k, v in unwanted.items()):
                errs.append(f"unexpected obligation {unwanted}")
                break
    for action in exp.get("absent", []):
        if any(o.get("action") == action for o in obligations):
            errs.append(f"unexpected {action}")
    for addr in exp.get("absent_report_to", []):
        if any(o.get("action") == "report" and o.get("addressee") == addr for o in obligations):
            errs.append(f"unexpected report to {addr}")
    codes_w = [w.get("code") for w in resp.get("warnings") or []]
    for w in exp.get("warnings", []):
        if w not in codes_w:
            errs.append(f"no warning {w} in {codes_w}")
    for w in exp.get("absent_warnings", []):
        if w in codes_w:
            errs.append(f"unexpected warning {w}")
    paths = [norm_path(m.get("path")) for m in resp.get("missing_facts") or []]
    for m in exp.get("missing", []):
        if m not in paths:
            errs.append(f"no missing fact {m} in {paths}")
    if "verdict" in exp:
        v = resp.get("verdict") or {}
        want = exp["verdict"]
        if "action" in want and v.get("action") != want["action"]:
            errs.append(f"verdict action {v.get('action')!r} != {want['action']!r}")
        if "due" in want and str(v.get("due")) != str(want["due"]):
            errs.append(f"verdict due {v.get('due')} != {want['due']}")
        if "text_contains" in want and want["text_contains"] not in (v.get("text") or ""):
            errs.append(f"verdict text {v.get('text')!r} lacks {want['text_contains']!r}")
    for want in exp.get("outcomes", []):
        facts = [m for m in resp.get("missing_facts") or [] if norm_path(m.get("path")) == norm_path(want["path"])]
        outs = [o for m in facts for o in m.get("outcomes") or [] if str(o.get("value")) == str(want["value"])]
        if not outs:
            errs.append(f"no outcome for {want['path']} = {want['value']}")
            continue
        o = outs[0]
        nxt = o.get("next") or {}
        if "class" in want and o.get("class") != want["class"]:
            errs.append(f"outcome {want['path']}={want['value']}: class {o.get('class')!r} != {want['class']!r}")
        if "action" in want and nxt.get("action") != want["action"]:
            errs.append(
                f"outcome {want['path']}={want['value']}: next action {nxt.get('action')!r} != {want['action']!r}"
            )
        if "due" in want and str(nxt.get("due")) != str(want["due"]):
            errs.append(f"outcome {want['path']}={want['value']}: next due {nxt.get('due')} != {want['due']}")
    cites = all_citations(resp)
    for c in exp.get("cites_anywhere", []):
        if not cite_match(cites, c):
            errs.append(f"no citation {c} anywhere")
    if "quote_anywhere" in exp and not any(exp["quote_anywhere"] in (c.get("quote") or "") for c in cites):
        errs.append(f"no quote containing {exp['quote_anywhere']}")
    return errs


def main():
    args = [a for a in sys.argv[1:] if not a.startswith("-")]
    verbose = "-v" in sys.argv
    if not args:
        folder = os.path.join(HERE, "scenarios")
        args = sorted(os.path.join(folder, name) for name in os.listdir(folder) if name.endswith(".yaml"))
    scenarios = []
    for path in args:
        with open(path, encoding="utf-8") as f:
            scenarios += yaml.safe_load(f) or []
    sys.path.insert(0, os.getcwd())
    try:
        from engine import decide
    except Exception as e:  # noqa: BLE001
        print(f"cannot import engine.decide: {e!r}")
        print(
            f"hard 0/{sum(1 for s in scenarios if not s.get('soft'))}, soft 0/{sum(1 for s in scenarios if s.get('soft'))}"
        )
        return 1
    score = {False: [0, 0], True: [0, 0]}
    for s in scenarios:
        soft = bool(s.get("soft"))
        score[soft][1] += 1
        req = jsonable(s["request"])
        exp = s["expect"]
        try:
            resp = decide(req)
            errs = ["accepted an invalid request"] if "error_paths" in exp else check(jsonable(resp), exp)
        except Exception as e:  # noqa: BLE001
            if "error_paths" in exp and isinstance(e, ValueError):
                got = [
                    norm_path(x.get("path") if isinstance(x, dict) else getattr(x, "path", ""))
                    for x in getattr(e, "errors", []) or []
                ]
                errs = [f"no error at {p} (got {got})" for p in exp["error_paths"] if p not in got]
            else:
                errs = [f"raised {type(e).__name__}: {str(e)[:200]}"]
        if errs:
            print(f"{s['id']}{' (soft)' if soft else ''} {s['about']}: " + " || ".join(errs))
        else:
            score[soft][0] += 1
            if verbose:
                print(f"{s['id']} ok")
    h, so = score[False], score[True]
    print(f"hard {h[0]}/{h[1]}, soft {so[0]}/{so[1]}")
    return 0 if h[0] == h[1] else 1


if __name__ == "__main__":
    sys.exit(main())
