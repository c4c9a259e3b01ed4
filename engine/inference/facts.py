"""Turn a validated request and its catalogue resolution into the flat facts rules are written over.

Facts are `{dotted.path: value}`; a fact the request leaves unknown is simply absent, and
`unknown_because` says which request field would settle it. Dates become day ordinals so
both back ends compare them as integers.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from engine.inference.request import Request
from engine.kb.rules import doc_fact
from engine.kb.vocabulary import vocabulary

# facts whose value depends on the day the law is taken at (documents applicable, catalogue listings,
# the class they give); every other fact is the same on every day of one decision
DAY_DEPENDENT = (
    "class",
    "active.",
    "technology.listed_",
    "technology.out_of_scope",
    "technology.prohibited_listed",
    "technology.indication_ban.",
)

TECH_BOOLEANS = (
    "first_in_institution",
    "first_in_jurisdiction",
    "major_ethical_risk",
    "unapproved_product",
    "radiation",
)
# stated facts that may be given as null (not said): unknown unless true or false
OPTIONAL_BOOLEANS = ("approved_before_measures",)


@dataclass
class Facts:
    values: dict = field(default_factory=dict)
    unknown_because: dict = field(default_factory=dict)  # fact -> request path that would settle it

    def unknown(self, fact: str, because: str) -> None:
        self.values.pop(fact, None)
        self.unknown_because[fact] = because


def _classification_facts(f: Facts, resolution) -> None:
    if resolution is None:
        f.values["technology.given"] = False
        return
    f.values["technology.given"] = True
    query_path = "technology.code" if resolution.get("by_code") else "technology.name"
    keys = (
        "technology.listed_national",
        "technology.listed_provincial",
        "technology.out_of_scope",
        "technology.prohibited_listed",
    )
    if resolution["status"] != "recognized":
        for key in keys:
            f.unknown(key, query_path)
        return
    for scope in ("national", "provincial"):
        listed = any(x["scope"] == scope for x in resolution["listings"])
        needs_grade = any(x["scope"] == scope for x in resolution.get("grade_needed") or [])
        # a family name (血液净化技术) whose narrower member is listed: which member is meant decides
        narrower = any(x["scope"] == scope for x in resolution.get("narrower_listings") or [])
        if listed or not (needs_grade or narrower):
            f.values[f"technology.listed_{scope}"] = listed
        elif needs_grade:
            f.unknown(f"technology.listed_{scope}", "technology.surgery_grade")
        else:
            f.unknown(f"technology.listed_{scope}", query_path)
    f.values["technology.out_of_scope"] = bool(resolution.get("out_of_scope"))
    if resolution.get("narrower_prohibited") and not resolution.get("prohibited"):
        # a family whose narrower member is prohibited here (肢体延长术 / 除医疗目的以外的…): which is meant decides
        f.unknown("technology.prohibited_listed", query_path)
    else:
        f.values["technology.prohibited_listed"] = bool(resolution.get("prohibited"))


def _ground_facts(f: Facts, tech: dict, resolution, ground_ids) -> None:
    """The prohibited grounds stated; unknown for a technique another document names as prohibited
    (contract: `prohibited_elsewhere`, ask rather than answer `unlisted`) when the request is silent."""
    grounds = tech.get("prohibited_grounds") or []
    for g in ground_ids:
        f.values[f"technology.ground.{g}"] = g in grounds
    f.values["technology.any_prohibited_ground"] = bool(grounds)
    res = resolution or {}
    ask = (
        "prohibited_grounds" not in tech
        and res.get("prohibited_elsewhere")
        and not res.get("prohibited")
        and not res.get("out_of_scope")
    )
    if ask:
        for g in ground_ids:
            f.unknown(f"technology.ground.{g}", "technology.prohibited_grounds")
        f.unknown("technology.any_prohibited_ground", "technology.prohibited_grounds")


def indication_fact(ban_id: str) -> str:
    """The fact that says whether the request's indication is the one a ban for one indication names
    (catalogs/prohibited.yaml `indication`): `technology.indication_ban.<listing id>`."""
    return "technology.indication_ban." + ban_id.replace("-", "_")


def indication_matches(text: str | None, indication_id: str) -> bool | None:
    """Whether the free-text `technology.indication` names the indication: None when it is not given or
    is a broader spelling that may or may not mean it (糖尿病 for 2型糖尿病), so that the answer asks."""
    from engine.catalog.data import load_catalogs  # the catalogues, loaded on first use

    tax = load_catalogs().taxonomy
    if not text or tax.may_mean(text, indication_id):
        return None
    found = tax.indication(text)
    return found is not None and found.id == indication_id


def _indication_facts(f: Facts, tech: dict, resolution) -> None:
    """For each ban for one indication that covers the technique on the day: whether the request's
    indication is the banned one (unknown, asked as technology.indication, when not given)."""
    for ban in (resolution or {}).get("indication_bans") or []:
        fact = indication_fact(ban["id"])
        hit = indication_matches(tech.get("indication"), ban["indication"]["id"])
        if hit is None:
            f.unknown(fact, "technology.indication")
        else:
            f.values[fact] = hit


_LISTS: dict[int, tuple] = {}


def _vocabulary_lists(vocab) -> tuple[tuple[tuple[str, str], ...], frozenset, tuple[str, ...]]:
    """(document id and its `active.` fact for every document of every jurisdiction, the facts unknown
    unless the request gives them, the prohibited grounds' ids), once per vocabulary."""
    hit = _LISTS.get(id(vocab))
    if hit is None or hit[0] is not vocab:
        docs = tuple(dict.fromkeys(d for j in vocab.jurisdictions for d in j.documents))
        hit = _LISTS[id(vocab)] = (
            vocab,
            tuple((d, doc_fact(d)) for d in docs),
            frozenset(vocab.raw.get("unknown_unless_given", [])),
            tuple(vocab.ids("prohibited_grounds")),
        )
    return hit[1:]


def _first_case_in_institution(request: Request) -> bool:
    """A first_clinical_use event (首例临床应用) is the technique's first use in the institution, so what
    art 21 asks of a technique new to it (论证) follows, unless `in_use_since` says it was in use before."""
    firsts = [e.date for e in request.events if e.type == "first_clinical_use"]
    since = (request.technology or {}).get("in_use_since")
    return bool(firsts) and (since is None or since >= min(firsts))


def request_facts(request: Request, events: dict) -> Facts:
    """The facts of one decision that are the same on every day: what the request says of the
    institution and the technique, and the counted date of each event type (`events`,
    engine.inference.occurrences.counted)."""
    _, unknown_unless_given, _ = _vocabulary_lists(vocabulary())
    f = Facts()
    v = f.values
    v["as_of"] = request.as_of.toordinal()
    v["jurisdiction"] = request.jurisdiction.id
    inst = request.institution
    v["institution.category"] = inst.get("category", "hospital")
    v["institution.tcm"] = bool(inst.get("tcm", False))
    if "level" in inst:
        v["institution.level"] = inst["level"] or 0
    elif "institution.level" in unknown_unless_given:
        f.unknown("institution.level", "institution.level")
    tech = request.technology
    if tech is not None:
        first_case = _first_case_in_institution(request)
        for name in TECH_BOOLEANS:
            path = f"technology.{name}"
            if name in tech:
                v[path] = bool(tech[name])
            elif name == "first_in_institution" and first_case:
                v[path] = True
            elif path in unknown_unless_given:
                f.unknown(path, path)
            else:
                v[path] = False
        for name in OPTIONAL_BOOLEANS + ("filed",):  # true, false, or unknown when null or left out
            path = f"technology.{name}"
            if tech.get(name) is not None:
                v[path] = bool(tech[name])
            else:
                f.unknown(path, path)
        if tech.get("surgery_grade") is not None:
            v["technology.surgery_grade"] = tech["surgery_grade"]
        if tech.get("in_use_since") is not None:
            v["technology.in_use_since"] = tech["in_use_since"].toordinal()
    for etype, date in events.items():
        v[f"events.{etype}"] = date.toordinal()
    return f


def day_facts(base: Facts, request: Request, resolution: dict | None, active_documents: list[str]) -> Facts:
    """`base` (request_facts) completed with what depends on the day: the documents applicable then
    (`active_documents`) and the catalogue resolution in force then, with the prohibited grounds."""
    doc_facts, _, ground_ids = _vocabulary_lists(vocabulary())
    f = Facts(dict(base.values), dict(base.unknown_because))
    v = f.values
    for doc, fact in doc_facts:
        v[fact] = doc in active_documents
    _classification_facts(f, resolution)
    if request.technology is not None:
        _ground_facts(f, request.technology, resolution, ground_ids)
        _indication_facts(f, request.technology, resolution)
    return f


# facts every decision may set whatever the vocabulary says (see request_facts, day_facts and
# engine.inference.decision, which adds `class` after the classify stage)
_FIXED_FACTS = (
    "as_of",
    "jurisdiction",
    "institution.category",
    "institution.tcm",
    "institution.level",
    "technology.given",
    "technology.listed_national",
    "technology.listed_provincial",
    "technology.out_of_scope",
    "technology.prohibited_listed",
    "technology.any_prohibited_ground",
    "technology.surgery_grade",
    "technology.in_use_since",
    "class",
)


def _indication_listings() -> list[dict]:
    """The prohibited listings that name an indication (catalogs/prohibited.yaml), each giving a fact."""
    from engine.catalog.data import load_catalogs  # the catalogues, loaded on first use

    return [{"id": p.id} for p in load_catalogs().prohibited if p.indication]


def known_facts() -> frozenset[str]:
    """Every fact name a request field or a derived fact can define: what a rule's condition may
    name (`medtech kb check` reports any other name, e.g. a misspelling, as a problem)."""
    vocab = vocabulary()
    names = set(_FIXED_FACTS)
    names.update(f"technology.{name}" for name in TECH_BOOLEANS + OPTIONAL_BOOLEANS + ("filed",))
    names.update(indication_fact(b["id"]) for b in _indication_listings())
    names.update(f"technology.ground.{g}" for g in vocab.ids("prohibited_grounds"))
    names.update(f"events.{t}" for t in vocab.ids("event_types"))
    names.update(doc_fact(d) for d in vocab.documents)
    return frozenset(names)
