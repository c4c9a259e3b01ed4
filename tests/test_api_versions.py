"""The API's compatibility promise is kept: a semantic API version apart from the knowledge base's, an
entry in docs/api-changelog.md for every change of the published schemas (by their contract digest),
and open response enums."""

from __future__ import annotations

import copy
import json
import re
import sys
from pathlib import Path

from engine.service.apiversion import api_version, contract_digest, published_contract_digest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "scripts"))
import api_contract  # noqa: E402

SCHEMAS = ROOT / "kb" / "schema"


def _entries() -> list[tuple[str, str, str]]:
    return api_contract.entries((ROOT / "docs" / "api-changelog.md").read_text(encoding="utf-8"))


def test_the_changelog_records_the_current_version_and_contract():
    entries = _entries()
    assert entries, "docs/api-changelog.md has no `## X.Y.Z — YYYY-MM-DD` entry with a `contract:` line"
    version, _, digest = entries[0]
    assert version == api_version()
    current = published_contract_digest()
    assert digest == current, (
        f"the published schemas changed: bump engine/service/api_version.yaml (docs/api-compatibility.md says how) "
        f"and add an entry to docs/api-changelog.md with contract: `{current}`"
    )
    versions = [tuple(int(x) for x in v.split(".")) for v, _, _ in entries]
    assert versions == sorted(versions, reverse=True) and len(set(versions)) == len(versions)
    assert len({d for _, _, d in entries}) == len(entries)  # each version its own contract


def test_api_and_knowledge_base_versions_are_kept_apart():
    assert re.fullmatch(r"\d+\.\d+\.\d+", api_version())
    assert "api_version" not in (ROOT / "kb" / "version.yaml").read_text(encoding="utf-8")


def _schemas():
    request = json.loads((SCHEMAS / "request.schema.json").read_text(encoding="utf-8"))
    response = json.loads((SCHEMAS / "response.schema.json").read_text(encoding="utf-8"))
    from engine.service.app import openapi_document

    return request, response, json.loads(json.dumps(openapi_document()))


def test_the_contract_digest_sees_typed_changes_and_ignores_prose():
    request, response, openapi = _schemas()
    base = contract_digest(request, response, openapi)
    worded = copy.deepcopy(response)
    worded["properties"]["as_of"]["description"] = "reworded"
    assert contract_digest(request, worded, openapi) == base
    added = copy.deepcopy(response)
    added["$defs"]["obligation"]["properties"]["action"]["enum"].append("notify_public_v2")
    assert contract_digest(request, added, openapi) != base
    field = copy.deepcopy(openapi)
    field["components"]["schemas"]["DecisionResponse"]["properties"]["new_member"] = {"type": "string"}
    assert contract_digest(request, response, field) != base


def test_check_script_fails_on_a_stale_changelog(monkeypatch, capsys, tmp_path):
    stale = tmp_path / "api-changelog.md"
    stale.write_text(f"## {api_version()} — 2026-01-01\n\ncontract: `sha256:{'0' * 64}`\n", encoding="utf-8")
    monkeypatch.setattr(api_contract, "CHANGELOG", stale)
    monkeypatch.setattr(api_contract, "ROOT", tmp_path)
    assert api_contract.main(["--check"]) == 1
    assert published_contract_digest() in capsys.readouterr().err


def test_every_response_enum_is_open_and_request_enums_closed():
    request, response, _ = _schemas()

    def enums(node, out):
        if isinstance(node, dict):
            if "enum" in node:
                out.append(node)
            for v in node.values():
                enums(v, out)
        elif isinstance(node, list):
            for v in node:
                enums(v, out)
        return out

    found = enums(response, [])
    assert len(found) >= 6  # action, actor, addressee, status, warning codes, class, document status …
    assert all(e.get("x-extensible-enum") is True and "open:" in e["description"] for e in found)
    assert not [e for e in enums(request, []) if "x-extensible-enum" in e]
