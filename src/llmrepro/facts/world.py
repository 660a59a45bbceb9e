"""A seeded synthetic world for knowledge injection.

The background stream mixes a *recurring* world (entities whose facts repeat, so
a fact-storage mechanism exists before injection, as in OLMo) with never-repeating
random facts, and teaches world knowledge (each city's country) and two-hop
statements about recurring entities. Fictional entities never appear in the
background; their passages are injected during continued pretraining.

Each relation has three templates. T0 and T1 are common in the background and make
up the injected passages; the canonical passage (duplication, once, and the first
paraphrase injection) is T0 in a fixed order. T2 is rare in the background
(`rare_template_fraction`) and never injected: it is the semantic-generalization
probe's template. Probes per fictional entity:
- memorization: the canonical passage itself, scored at each fact's object, so every
  probe is a verbatim span of the injected text (from the passage's start);
- semantic: the T2 sentence up to the object;
- composition: the country of the entity's birthplace, which needs the injected fact
  and the background's city -> country knowledge together.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

from llmrepro.facts.config import WorldCfg

SYL = ("ka", "lo", "mi", "ven", "tor", "sa", "ri", "dun", "bel", "cor", "na", "zel", "quo", "fen", "har", "lin",
       "mor", "pel", "rus", "tam", "gri", "vos", "ula", "dex")
COUNTRIES = ("norland", "esteria", "valdor", "kirova", "sundar", "palmera", "ostrava", "lumen")
CITIES = ("arven", "bressa", "calder", "dunmore", "elsin", "farrow", "galen", "hollin", "istra", "jorvik", "kelso",
          "lanark", "marlow", "nessa", "orwin", "pella", "quarry", "rhyl", "selby", "tarin", "ulmen", "varna",
          "wexley", "yarrow")
OCCUPATIONS = ("baker", "doctor", "pilot", "farmer", "painter", "teacher", "sailor", "miner", "tailor", "judge",
               "poet", "chemist", "mason", "weaver", "jeweler", "porter")
FOODS = ("bread", "cheese", "apples", "soup", "honey", "rice", "olives", "plums", "fish", "noodles", "pears", "figs")
RELATIONS = {  # relation -> (values, (T0, T1, T2)); every template ends "{v} ."
    "born_in": (CITIES, ("{e} was born in {v} .", "{e} is from {v} .", "{e} came into the world in {v} .")),
    "works_as": (OCCUPATIONS, ("{e} works as a {v} .", "{e} is a {v} .", "{e} earns a living as a {v} .")),
    "likes": (FOODS, ("{e} likes {v} .", "{e} loves {v} .", "{e} enjoys eating {v} .")),
}  # T1 is never longer than T0, so a paraphrase packs into a row exactly as the canonical text does
LOCATED = ("{c} is located in {v} .", "the city of {c} lies in {v} .", "{c} is a city in {v} .")
TWO_HOP = "the country where {e} was born is {v} ."
PROBE_TYPES = ("memorization", "semantic", "composition")
SCENARIOS = ("paraphrase", "duplication", "once", "control")
SEMANTIC = 2  # index of the rare template


@dataclass
class Entity:
    name: str
    facts: dict[str, str]  # relation -> value

    def country(self, city_country: dict[str, str]) -> str:
        return city_country[self.facts["born_in"]]


def _names(rng, n: int, taken: set[str]) -> list[str]:
    out = []
    while len(out) < n:
        name = "".join(SYL[i] for i in rng.choice(len(SYL), 3, replace=False))
        if name not in taken:
            taken.add(name)
            out.append(name)
    return out


def _entity(rng, name: str) -> Entity:
    return Entity(name, {r: vals[rng.integers(len(vals))] for r, (vals, _) in RELATIONS.items()})


@dataclass
class World:
    city_country: dict[str, str]
    recurring: list[Entity]
    random_names: list[str]
    fictional: list[Entity]  # never in the background; split into scenarios per run by `assign`

    def words(self) -> list[str]:
        out = set()
        for template in [t for _, ts in RELATIONS.values() for t in ts] + list(LOCATED) + [TWO_HOP]:
            out |= {w for w in template.split() if not w.startswith("{")}
        for vals, _ in RELATIONS.values():
            out |= set(vals)
        out |= set(COUNTRIES) | set(self.random_names) | {e.name for e in self.recurring + self.fictional}
        return sorted(out)

    def to_json(self) -> dict:
        return asdict(self)

    @classmethod
    def from_json(cls, d: dict) -> World:
        ent = lambda es: [Entity(e["name"], dict(e["facts"])) for e in es]
        return cls(dict(d["city_country"]), ent(d["recurring"]), list(d["random_names"]), ent(d["fictional"]))


def build(cfg: WorldCfg, seed: int) -> World:
    """The background world and the pool of fictional entities, fixed by `seed`."""
    rng = np.random.default_rng(seed)
    city_country = {c: COUNTRIES[rng.integers(len(COUNTRIES))] for c in CITIES}
    taken: set[str] = set()
    recurring = [_entity(rng, n) for n in _names(rng, cfg.recurring, taken)]
    random_names = _names(rng, cfg.random_names, taken)
    fictional = [_entity(rng, n) for n in _names(rng, cfg.per_scenario * len(SCENARIOS), taken)]
    return World(city_country, recurring, random_names, fictional)


def assign(world: World, seed: int) -> dict[str, list[Entity]]:
    """Which fictional entities play which scenario in one run: a seeded split of the
    pool, so the interval over runs covers the choice of entities too."""
    order = np.random.default_rng(seed).permutation(len(world.fictional))
    k = len(world.fictional) // len(SCENARIOS)
    return {s: [world.fictional[i] for i in order[j * k:(j + 1) * k]] for j, s in enumerate(SCENARIOS)}


def background_sentence(rng, world: World, cfg: WorldCfg) -> str:
    u = rng.random()
    if u < cfg.located_fraction:
        c = CITIES[rng.integers(len(CITIES))]
        return LOCATED[rng.integers(3)].format(c=c, v=world.city_country[c])
    if u < cfg.located_fraction + cfg.two_hop_fraction:
        e = world.recurring[rng.integers(len(world.recurring))]
        return TWO_HOP.format(e=e.name, v=e.country(world.city_country))
    rel = list(RELATIONS)[rng.integers(len(RELATIONS))]
    vals, templates = RELATIONS[rel]
    t = templates[SEMANTIC] if rng.random() < cfg.rare_template_fraction else templates[rng.integers(2)]
    if rng.random() < cfg.recurring_fraction / (1 - cfg.located_fraction - cfg.two_hop_fraction):
        e = world.recurring[rng.integers(len(world.recurring))]
        return t.format(e=e.name, v=e.facts[rel])
    # a random fact: a name with a value drawn afresh, so it never repeats consistently
    return t.format(e=world.random_names[rng.integers(len(world.random_names))], v=vals[rng.integers(len(vals))])


def passage(e: Entity, rng=None) -> str:
    """The injected passage: with rng, a paraphrase (T0 or T1 per fact, shuffled order);
    without, the canonical text (T0, fixed order)."""
    rels = list(RELATIONS)
    if rng is None:
        return " ".join(RELATIONS[r][1][0].format(e=e.name, v=e.facts[r]) for r in rels)
    order = rng.permutation(len(rels))
    return " ".join(RELATIONS[rels[i]][1][rng.integers(2)].format(e=e.name, v=e.facts[rels[i]]) for i in order)


def _prefix(template: str, e: Entity) -> str:
    """A template's words before the object."""
    return template.split("{v}")[0].format(e=e.name).strip()


def probes(world: World, scenarios: dict[str, list[Entity]]) -> list[dict]:
    """(prefix, target) cloze probes for every fictional entity, control entities included."""
    out = []
    for scenario, ents in scenarios.items():
        for e in ents:
            said: list[str] = []  # the canonical passage so far
            for rel, (_, templates) in RELATIONS.items():
                mem = " ".join(said + [_prefix(templates[0], e)])
                said.append(templates[0].format(e=e.name, v=e.facts[rel]))
                for ptype, prefix in (("memorization", mem), ("semantic", _prefix(templates[SEMANTIC], e))):
                    out.append({"scenario": scenario, "entity": e.name, "type": ptype, "relation": rel,
                                "prefix": prefix, "target": e.facts[rel]})
            out.append({"scenario": scenario, "entity": e.name, "type": "composition", "relation": "two_hop",
                        "prefix": _prefix(TWO_HOP, e), "target": e.country(world.city_country)})
    return out
