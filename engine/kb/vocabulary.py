"""The contract's vocabularies, read from kb/vocabulary.yaml (the single source of truth)."""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from engine.errors import NotFound
from engine.paths import KB_DIR
from engine.yamlio import load_yaml


@dataclass(frozen=True)
class Jurisdiction:
    id: str
    name: str
    aliases: tuple[str, ...]
    documents: tuple[str, ...]


@dataclass(frozen=True)
class Vocabulary:
    raw: dict

    def names(self, key: str) -> dict[str, str]:
        """A vocabulary as {id: Chinese label}, in file order."""
        return dict(self.raw[key])

    def ids(self, key: str) -> list[str]:
        return list(self.raw[key])

    @property
    def jurisdictions(self) -> list[Jurisdiction]:
        return [
            Jurisdiction(j["id"], j["name"], tuple(j.get("aliases", [])), tuple(j["documents"]))
            for j in self.raw["jurisdictions"]
        ]

    def jurisdiction_spellings(self) -> list[str]:
        """Every accepted spelling: ids first, then Chinese names and aliases."""
        out: list[str] = [j.id for j in self.jurisdictions]
        for j in self.jurisdictions:
            for s in (j.name, *j.aliases):
                if s not in out:
                    out.append(s)
        return out

    def supported_dates(self) -> tuple[str, str]:
        """(first, last) day a request may name, ISO strings, both included (`supported_dates`);
        whole years: the first is a 1 January, the last a 31 December."""
        span = self.raw["supported_dates"]
        first, last = str(span["from"]), str(span["to"])
        if not (first.endswith("-01-01") and last.endswith("-12-31") and first[:4] <= last[:4]):
            raise ValueError(f"kb/vocabulary.yaml: supported_dates must run from a 1 January to a 31 December, not {first}..{last}")
        return first, last

    def jurisdiction(self, spelling: str) -> Jurisdiction:
        """The jurisdiction for an id or Chinese name; NotFound lists the supported ids."""
        s = (spelling or "").strip()
        for j in self.jurisdictions:
            if s == j.id or s == j.name or s in j.aliases:
                return j
        raise NotFound("jurisdiction", spelling, [j.id for j in self.jurisdictions])


@lru_cache(maxsize=1)
def vocabulary() -> Vocabulary:
    """The vocabulary, loaded once per process."""
    return Vocabulary(load_yaml(KB_DIR / "vocabulary.yaml"))
