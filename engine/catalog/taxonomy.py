"""The canonical technology taxonomy (catalogs/taxonomy.yaml): a DAG of technologies and an alias index.

Edges run from the broader technology to the narrower one (`parent -> child`), so
`ancestors(t)` are the broader technologies a catalogue entry must be mapped to in order to
cover `t`, and `descendants(t)` are the narrower ones an entry for `t` covers.

Names are looked up in three steps (engine.catalog.textnorm):
1. exact: the compact form of the query and each successive suffix stripping of it
   (`冠心病介入治疗技术`, `冠心病介入治疗`, `冠心病介入`) against the compact forms of every name,
   alias and catalogue wording;
2. loose: the fully stripped key against the fully stripped keys of every name;
3. fuzzy: character-bigram similarity, which only ever yields suggestions.
A declared ambiguous alias (`ambiguous_aliases`) resolves to its candidates at steps 1 and 2.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import networkx as nx

from engine.catalog import textnorm
from engine.errors import NotFound, Problem


@dataclass(frozen=True)
class Technology:
    id: str
    name: str
    is_a: tuple[str, ...] = ()
    aliases: tuple[str, ...] = ()
    grades: str | None = None
    note: str | None = None
    index: int = -1  # position in the file's `technologies` list

    def ref(self) -> dict:
        return {"id": self.id, "name": self.name}


@dataclass(frozen=True)
class AmbiguousAlias:
    alias: str
    candidates: tuple[str, ...]
    note: str | None = None
    index: int = -1


@dataclass(frozen=True)
class Indication:
    """A disease a prohibited listing may name (`indications` in taxonomy.yaml): the ban is for it only."""

    id: str
    name: str
    aliases: tuple[str, ...] = ()
    note: str | None = None
    broader: tuple[str, ...] = ()  # spellings that may or may not mean it (糖尿病): the answer asks


@dataclass(frozen=True)
class Match:
    """The outcome of looking a name up: status recognized | ambiguous | not_recognized."""

    status: str
    ids: tuple[str, ...] = ()
    how: str = ""  # exact | stripped | loose | declared-ambiguous | fuzzy
    matched: str = ""  # the indexed name that matched
    note: str | None = None
    scores: tuple[float, ...] = ()


@dataclass
class _Key:
    key: str
    ids: set = field(default_factory=set)
    sources: dict = field(default_factory=dict)  # node id -> first source text


class Taxonomy:
    """Technologies by id, the is_a graph, and the name index."""

    def __init__(self, data: dict, file: str = "catalogs/taxonomy.yaml"):
        self.file = file
        self.nodes: dict[str, Technology] = {}
        self.duplicates: list[tuple[int, str]] = []
        for i, t in enumerate(data.get("technologies") or []):
            tech = Technology(
                id=t["id"],
                name=t["name"],
                is_a=tuple(t.get("is_a") or ()),
                aliases=tuple(t.get("aliases") or ()),
                grades=t.get("grades"),
                note=t.get("note"),
                index=i,
            )
            if tech.id in self.nodes:
                self.duplicates.append((i, tech.id))
                continue
            self.nodes[tech.id] = tech
        self.ambiguous = [
            AmbiguousAlias(a["alias"], tuple(a["candidates"]), a.get("note"), i)
            for i, a in enumerate(data.get("ambiguous_aliases") or [])
        ]
        self.indications: dict[str, Indication] = {}
        self._indication_keys: dict[str, str] = {}
        for d in data.get("indications") or []:
            ind = Indication(
                d["id"], d["name"], tuple(d.get("aliases") or ()), d.get("note"), tuple(d.get("broader") or ())
            )
            self.indications[ind.id] = ind
            for spelling in (ind.name, *ind.aliases):
                self._indication_keys.setdefault(textnorm.match_key(spelling), ind.id)
        self.graph = nx.DiGraph()
        self.graph.add_nodes_from(self.nodes)
        for t in self.nodes.values():
            for p in t.is_a:
                if p in self.nodes:
                    self.graph.add_edge(p, t.id)
        self._up: dict[str, frozenset[str]] = {}
        self._down: dict[str, frozenset[str]] = {}
        self.acyclic = nx.is_directed_acyclic_graph(self.graph)
        if self.acyclic:
            for n in nx.topological_sort(self.graph):
                up = {n}
                for p in self.graph.predecessors(n):
                    up |= self._up[p]
                self._up[n] = frozenset(up)
            for n in reversed(list(nx.topological_sort(self.graph))):
                down = {n}
                for c in self.graph.successors(n):
                    down |= self._down[c]
                self._down[n] = frozenset(down)
        self._extra: list[tuple[str, str, str]] = []  # (name, node id, source)
        self._built = False

    # ------------------------------------------------------------------ graph

    def get(self, tech_id: str) -> Technology:
        try:
            return self.nodes[tech_id]
        except KeyError:
            raise NotFound("technology", tech_id, sorted(self.nodes)) from None

    def up(self, tech_id: str) -> frozenset[str]:
        """The technology and every broader one (ancestors or self)."""
        if tech_id in self._up:
            return self._up[tech_id]
        return frozenset({tech_id}) | frozenset(nx.ancestors(self.graph, tech_id))

    def down(self, tech_id: str) -> frozenset[str]:
        """The technology and every narrower one (descendants or self)."""
        if tech_id in self._down:
            return self._down[tech_id]
        return frozenset({tech_id}) | frozenset(nx.descendants(self.graph, tech_id))

    def ancestors(self, tech_id: str) -> frozenset[str]:
        return self.up(tech_id) - {tech_id}

    def descendants(self, tech_id: str) -> frozenset[str]:
        return self.down(tech_id) - {tech_id}

    def depth(self, tech_id: str) -> int:
        return len(self.up(tech_id)) - 1

    # ------------------------------------------------------------------ names

    def add_names(self, names: list[tuple[str, str, str]]) -> None:
        """Index extra names (catalogue wordings): (name, technology id, source description)."""
        self._extra.extend(names)
        self._built = False

    def _entries(self):
        for t in self.nodes.values():
            yield t.name, t.id, f"name of {t.id}"
            for a in t.aliases:
                yield a, t.id, f"alias of {t.id}"
        yield from self._extra

    def _build(self) -> None:
        self.exact: dict[str, _Key] = {}
        self.loose: dict[str, _Key] = {}
        self.declared: dict[str, AmbiguousAlias] = {}  # exact key -> declaration
        self.declared_loose: dict[str, AmbiguousAlias] = {}
        for name, tid, source in self._entries():
            for v in textnorm.variants(name):
                k = self.exact.setdefault(v, _Key(v))
                k.ids.add(tid)
                k.sources.setdefault(tid, f"{name} ({source})")
                lk = textnorm.match_key(v)
                k2 = self.loose.setdefault(lk, _Key(lk))
                k2.ids.add(tid)
                k2.sources.setdefault(tid, f"{name} ({source})")
        for a in self.ambiguous:
            for v in textnorm.variants(a.alias):
                self.declared.setdefault(v, a)
                self.declared_loose.setdefault(textnorm.match_key(v), a)
        # fuzzy index over the compact keys
        self._fuzzy_keys = sorted(self.exact)
        self._fuzzy_bigrams = [textnorm.bigrams(k) for k in self._fuzzy_keys]
        self._postings: dict[str, list[int]] = {}
        for i, bg in enumerate(self._fuzzy_bigrams):
            for b in bg:
                self._postings.setdefault(b, []).append(i)
        self._built = True

    def _ensure(self) -> None:
        if not self._built:
            self._build()

    def indication(self, text: str | None) -> Indication | None:
        """The indication a free-text `technology.indication` names (its name or an alias, matched the
        way technique names are: width, spaces, punctuation and trailing 治疗 … ignored); None when
        it names none of them (another indication)."""
        if not text:
            return None
        for form in textnorm.strip_chain(text):
            hit = self._indication_keys.get(form) or self._indication_keys.get(textnorm.match_key(form))
            if hit:
                return self.indications[hit]
        return None

    def may_mean(self, text: str | None, indication_id: str) -> bool:
        """Whether `text` is a broader spelling (`broader`) that may or may not mean the indication."""
        ind = self.indications.get(indication_id)
        if not text or ind is None:
            return False
        keys = {textnorm.match_key(b) for b in ind.broader}
        return any(form in keys for form in textnorm.strip_chain(text))

    def lookup(self, name: str) -> Match:
        """Resolve a name: exact (with suffix stripping), then loose; never fuzzy (see `suggest`)."""
        self._ensure()
        forms = [name]
        bare = textnorm.without_parenthetical(name)
        if bare and bare != textnorm.normalize(name):
            forms.append(bare)
        chains = [textnorm.strip_chain(f) for f in forms]
        for chain in chains:
            for i, c in enumerate(chain):
                if c in self.declared:
                    a = self.declared[c]
                    return Match("ambiguous", a.candidates, "declared-ambiguous", a.alias, a.note)
                k = self.exact.get(c)
                if k is not None:
                    how = "exact" if i == 0 else "stripped"
                    ids = tuple(sorted(k.ids))
                    if len(ids) == 1:
                        return Match("recognized", ids, how, k.sources[ids[0]])
                    return Match("ambiguous", ids, how, c, "the name is indexed for several technologies")
        for chain in chains:
            if not chain:
                continue
            lk = chain[-1]
            if lk in self.declared_loose:
                a = self.declared_loose[lk]
                return Match("ambiguous", a.candidates, "declared-ambiguous", a.alias, a.note)
            k = self.loose.get(lk)
            if k is not None:
                ids = tuple(sorted(k.ids))
                if len(ids) == 1:
                    return Match("recognized", ids, "loose", k.sources[ids[0]])
                return Match("ambiguous", ids, "loose", lk, "the name is indexed for several technologies")
        return Match("not_recognized")

    def suggest(
        self, name: str, limit: int = 5, threshold: float = 0.3, exclude: tuple[str, ...] = ()
    ) -> list[tuple[str, float, str]]:
        """Technologies whose names resemble `name`, best first: [(id, score, matched name)].

        Score: the larger of the character-bigram Dice similarity and, when one key contains
        the other, 0.5 + 0.5 * (shorter length / longer length).
        """
        self._ensure()
        q = textnorm.compact(name)
        if not q:
            return []
        qk = textnorm.match_key(name)
        qb = textnorm.bigrams(q) | textnorm.bigrams(qk)
        seen: set[int] = set()
        for b in qb:
            seen.update(self._postings.get(b, ()))
        best: dict[str, tuple[float, str]] = {}
        for i in seen:
            key = self._fuzzy_keys[i]
            score = textnorm.dice(qb, self._fuzzy_bigrams[i])
            for probe in {q, qk}:
                if len(probe) >= 2 and (probe in key or key in probe):
                    short, long_ = sorted((len(probe), len(key)))
                    score = max(score, 0.5 + 0.5 * short / long_)
            if score < threshold:
                continue
            entry = self.exact[key]
            for tid in entry.ids:
                if tid in exclude:
                    continue
                if tid not in best or score > best[tid][0]:
                    best[tid] = (score, entry.sources[tid])
        ranked = sorted(best.items(), key=lambda kv: (-kv[1][0], self.depth(kv[0]), kv[0]))
        return [(tid, round(s, 3), src) for tid, (s, src) in ranked[:limit]]

    # ------------------------------------------------------------------ checking

    def problems(self) -> list[Problem]:
        """Duplicate ids, unknown parents, cycles, undeclared alias clashes, bad ambiguous declarations."""
        out: list[Problem] = []
        f = self.file
        for i, tid in self.duplicates:
            out.append(Problem(f, f"technologies.{i}.id", f"duplicate technology id {tid}"))
        for t in self.nodes.values():
            for j, p in enumerate(t.is_a):
                if p not in self.nodes:
                    out.append(Problem(f, f"technologies.{t.index}.is_a.{j}", f"{t.id} is_a unknown technology {p}"))
                elif p == t.id:
                    out.append(Problem(f, f"technologies.{t.index}.is_a.{j}", f"{t.id} is_a itself"))
        if not self.acyclic:
            reported: set[frozenset] = set()
            for cycle in nx.simple_cycles(self.graph):
                members = frozenset(cycle)
                if members in reported or len(cycle) < 2:
                    continue
                reported.add(members)
                # edges run parent -> child: the cycle's first node names its parent, the last one
                first = min(cycle, key=lambda n: self.nodes[n].index)
                k = cycle.index(first)
                ordered = cycle[k:] + cycle[:k]
                parent = ordered[-1]
                t = self.nodes[first]
                j = t.is_a.index(parent) if parent in t.is_a else 0
                path = " is_a ".join(reversed(ordered + [first]))
                out.append(Problem(f, f"technologies.{t.index}.is_a.{j}", f"is_a cycle: {path}"))
        for a in self.ambiguous:
            for j, c in enumerate(a.candidates):
                if c not in self.nodes:
                    out.append(Problem(f, f"ambiguous_aliases.{a.index}.candidates.{j}", f"unknown technology {c}"))
        self._ensure()
        for key, k in sorted(self.exact.items()):
            if len(k.ids) > 1 and key not in self.declared:
                where = self._where(k)
                out.append(
                    Problem(
                        f,
                        where,
                        f"name {key!r} is used for several technologies ({'; '.join(k.sources[i] for i in sorted(k.ids))}); declare it in ambiguous_aliases or remove it",
                    )
                )
            elif key in self.declared:
                a = self.declared[key]
                for tid in sorted(k.ids):
                    out.append(
                        Problem(
                            f,
                            f"ambiguous_aliases.{a.index}.alias",
                            f"{a.alias!r} is declared ambiguous but is also {k.sources[tid]}",
                        )
                    )
        for key, k in sorted(self.loose.items()):
            if len(k.ids) > 1:
                e = self.exact.get(key)
                if e is not None and e.ids == k.ids and key not in self.declared:
                    continue  # the same clash, already reported for the exact name
                declared = self.declared_loose.get(key)
                if declared is not None and k.ids <= set(declared.candidates):
                    continue
                out.append(
                    Problem(
                        f,
                        self._where(k),
                        f"names {', '.join(k.sources[i] for i in sorted(k.ids))} reduce to the same key {key!r} (after stripping 技术/术/治疗…); declare it in ambiguous_aliases or rename",
                    )
                )
        return out

    def _where(self, k: _Key) -> str:
        idx = [self.nodes[i].index for i in k.ids if i in self.nodes]
        return f"technologies.{min(idx)}.aliases" if idx else "technologies"


def load_taxonomy(path: str | Path, data: dict | None = None) -> Taxonomy:
    """Read catalogs/taxonomy.yaml (or use the given parsed data)."""
    from engine.paths import relative
    from engine.yamlio import load_yaml

    if data is None:
        data = load_yaml(path)
    return Taxonomy(data or {}, relative(path))
