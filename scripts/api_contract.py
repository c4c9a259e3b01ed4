"""Print the contract digest of the published schemas, for a new entry of docs/api-changelog.md.

    .venv/bin/python scripts/api_contract.py          # the digest and the API version
    .venv/bin/python scripts/api_contract.py --check  # exit 1 when the changelog's top entry does not match

The digest covers what generated clients type (engine.service.apiversion.contract_digest).
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from engine.service.apiversion import api_version, published_contract_digest  # noqa: E402

CHANGELOG = ROOT / "docs" / "api-changelog.md"
ENTRY = re.compile(r"^## (\d+\.\d+\.\d+) — (\d{4}-\d{2}-\d{2})\n+contract: `(sha256:[0-9a-f]{64})`", re.M)


def entries(text: str) -> list[tuple[str, str, str]]:
    """(version, date, contract digest) of each entry, newest first."""
    return ENTRY.findall(text)


def main(argv: list[str]) -> int:
    digest = published_contract_digest()
    if "--check" not in argv:
        print(f"API version {api_version()}\ncontract: `{digest}`")
        return 0
    found = entries(CHANGELOG.read_text(encoding="utf-8"))
    if not found or found[0][0] != api_version() or found[0][2] != digest:
        print(
            f"{CHANGELOG.relative_to(ROOT)}: the top entry must be API version {api_version()} with "
            f"contract: `{digest}` (bump engine/service/api_version.yaml and add an entry)",
            file=sys.stderr,
        )
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
