"""The contract's vocabularies, read from kb/vocabulary.yaml (the single source of truth)."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property, lru_cache

from engine.errors import NotFound
from engine.paths import KB_DIR
from engine.yamlio import load_yaml


@dataclass(frozen=True)
class Jurisdiction:
    id: str
    name: str
    aliases: tuple[str, ...]
    documents: tuple[str, ...]
    level: str = "provincial"  # national (the national measures alone) | provincial


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
        return list(self._jurisdictions)

    @cached_property
    def _jurisdictions(self) -> tuple[Jurisdiction, ...]:  # read on every decision: built once
        return tuple(
            Jurisdiction(
                j["id"], j["name"], tuple(j.get("aliases", [])), tuple(j["documents"]), j.get("level", "provincial")
            )
            for j in self.raw["jurisdictions"]
        )

    def local_names(self, jurisdiction_id: str | None, key: str) -> dict[str, str]:
        """`names(key)` with the jurisdiction's own wording where its text has one (上海: 市卫生健康部门)."""
        out = self.names(key)
        for j in self.raw["jurisdictions"]:
            if j["id"] == jurisdiction_id:
                out.update({k: v for k, v in (j.get("local_names") or {}).items() if k in out})
        return out

    @property
    def documents(self) -> list[str]:
        """Every document id in the order they are cited: the national measures first, then each province's."""
        order: list[str] = []
        for j in self.jurisdictions:
            for d in j.documents:
                if d not in order:
                    order.append(d)
        return order

    def id_list(self, kind: str) -> list[str]:
        """The ids a hand-written schema takes from here (`"x-vocabulary": kind` in kb/schema/*.json):
        `jurisdictions`, `provinces` (the provincial ones) or `documents`."""
        if kind == "jurisdictions":
            return [j.id for j in self.jurisdictions]
        if kind == "provinces":
            return [j.id for j in self.jurisdictions if j.level == "provincial"]
        if kind == "documents":
            return self.documents
        raise ValueError(f"unknown x-vocabulary list {kind!r} (known: jurisdictions, provinces, documents)")

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
            raise ValueError(
                f"kb/vocabulary.yaml: supported_dates must run from a 1 January to a 31 December, not {first}..{last}"
            )
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
