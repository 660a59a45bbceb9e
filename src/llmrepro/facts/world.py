"""A seeded synthetic world for knowledge injection.

The background stream mixes a *recurring* world (entities whose facts repeat, so
a fact-storage mechanism exists before injection, as in OLMo) with never-repeating
random facts, and teaches world knowledge (each city's country) and two-hop
statements about recurring entities. Fictional entities never appear in the
background; their passages are injected during continued pretraining.

Each relation has three templates. T0 and T1 appear in injected passages (T0 is
the memorization probe's sentence); T2 never appears in any injected passage, so
it is the held-out paraphrase of the semantic-generalization probe. The
compositional probe asks for the country of an entity's birthplace, which needs
the injected fact and the background's city -> country knowledge together.
"""

from __future__ import annotations

from dataclasses import dataclass

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
INSTRUMENTS = ("harp", "flute", "drum", "violin", "lute", "horn", "piano", "cello", "oboe", "banjo")
RELATIONS = {
    "born_in": (CITIES, ("{e} was born in {v} .", "the birthplace of {e} is {v} .", "{e} came into the world in {v} .")),
    "works_as": (OCCUPATIONS, ("{e} works as a {v} .", "the job of {e} is {v} .", "{e} earns a living as a {v} .")),
    "likes": (FOODS, ("{e} likes {v} .", "the favourite food of {e} is {v} .", "{e} enjoys eating {v} .")),
    "plays": (INSTRUMENTS, ("{e} plays the {v} .", "the instrument of {e} is the {v} .",
                            "{e} makes music on the {v} .")),
}
LOCATED = ("{c} is located in {v} .", "the city of {c} lies in {v} .", "{c} is a city in {v} .")
TWO_HOP = "the country where {e} was born is {v} ."
PROBE_TYPES = ("memorization", "semantic", "composition")
SCENARIOS = ("paraphrase", "duplication", "once", "control")


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
    fictional: dict[str, list[Entity]]  # scenario -> entities (control entities are never injected)

    def words(self) -> list[str]:
        out = set()
        for templates in [t for _, ts in RELATIONS.values() for t in ts] + list(LOCATED) + [TWO_HOP]:
            out |= {w for w in templates.split() if not w.startswith("{")}
        for vals, _ in RELATIONS.values():
            out |= set(vals)
        out |= set(COUNTRIES) | set(self.random_names) | {e.name for e in self.recurring}
        out |= {e.name for es in self.fictional.values() for e in es}
        return sorted(out)


def build(cfg: WorldCfg, seed: int) -> World:
    """The background world (fixed by `seed`) and the fictional entities."""
    rng = np.random.default_rng(seed)
    city_country = {c: COUNTRIES[rng.integers(len(COUNTRIES))] for c in CITIES}
    taken: set[str] = set()
    recurring = [_entity(rng, n) for n in _names(rng, cfg.recurring, taken)]
    random_names = _names(rng, cfg.random_names, taken)
    fictional = {s: [_entity(rng, n) for n in _names(rng, cfg.per_scenario, taken)] for s in SCENARIOS}
    return World(city_country, recurring, random_names, fictional)


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
    t = templates[rng.integers(3)]
    if rng.random() < cfg.recurring_fraction / (1 - cfg.located_fraction - cfg.two_hop_fraction):
        e = world.recurring[rng.integers(len(world.recurring))]
        return t.format(e=e.name, v=e.facts[rel])
    # a random fact: a name with a value drawn afresh, so it never repeats consistently
    return t.format(e=world.random_names[rng.integers(len(world.random_names))], v=vals[rng.integers(len(vals))])


def passage(e: Entity, rng=None) -> str:
    """The injected passage: with rng, a paraphrase (T0 or T1 per fact, shuffled order);
    without, the canonical text (T0, fixed order) used for duplication and once."""
    rels = list(RELATIONS)
    if rng is None:
        return " ".join(RELATIONS[r][1][0].format(e=e.name, v=e.facts[r]) for r in rels)
    order = rng.permutation(len(rels))
    return " ".join(RELATIONS[rels[i]][1][rng.integers(2)].format(e=e.name, v=e.facts[rels[i]]) for i in order)


def probes(world: World) -> list[dict]:
    """(prefix, target) cloze probes for every fictional entity, control entities included."""
    out = []
    for scenario, ents in world.fictional.items():
        for e in ents:
            for rel, (_, templates) in RELATIONS.items():
                for ptype, t in (("memorization", templates[0]), ("semantic", templates[2])):
                    prefix = t.split("{v}")[0].format(e=e.name).strip()
                    out.append({"scenario": scenario, "entity": e.name, "type": ptype, "relation": rel,
                                "prefix": prefix, "target": e.facts[rel]})
            out.append({"scenario": scenario, "entity": e.name, "type": "composition", "relation": "two_hop",
                        "prefix": TWO_HOP.split("{v}")[0].format(e=e.name).strip(),
                        "target": e.country(world.city_country)})
    return out
