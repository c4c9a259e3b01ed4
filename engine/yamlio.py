"""YAML reading with the C loader, keeping dates as ISO strings.

The knowledge base is validated by JSON Schema, which knows strings, not `datetime.date`;
so the implicit timestamp resolver is removed and dates stay exactly as written.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from engine.errors import UnreadableYaml

# the C loader when libyaml is present (it is not a subclass of SafeLoader, hence Any)
_Base: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _Loader(_Base):
    pass


_Loader.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in _Base.yaml_implicit_resolvers.items()
}


def load_yaml_text(text: str):
    """Parse YAML text; dates remain strings."""
    return yaml.load(text, Loader=_Loader)


def load_yaml(path: str | Path):
    """Read and parse one YAML file; dates remain strings. A file that is missing, not UTF-8 or not
    YAML raises UnreadableYaml naming it."""
    try:
        with open(path, encoding="utf-8") as fh:
            return yaml.load(fh, Loader=_Loader)
    except (yaml.YAMLError, UnicodeDecodeError, OSError) as exc:
        raise UnreadableYaml(path, " ".join(str(exc).split())) from None


def dump_yaml(data) -> str:
    """Serialise to block-style YAML with Chinese left readable."""
    return yaml.dump(
        data, allow_unicode=True, sort_keys=False, width=1000, Dumper=getattr(yaml, "CSafeDumper", yaml.SafeDumper)
    )
