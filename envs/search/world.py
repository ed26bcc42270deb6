"""A seeded synthetic knowledge world: entities, a wiki-style corpus, and questions about it.

:func:`generate_world` draws people, cities, organisations, inventions and events with
attributes and relations, renders one page per entity plus distractor pages, and asks four
kinds of question about them:

* ``single-hop``: one fact of one entity ("In which city was the chemist Alden Varo born?");
* ``bridge``: two hops through a related entity ("In which country was ... born?");
* ``comparison``: which of two entities comes first by a year;
* ``unanswerable``: about an entity that does not exist, or a fact that no page states.

Distractors make retrieval a real problem: *namesakes* (two people with one name and different
occupations), *correspondence* pages that mention people next to cities and years that are not
their facts, and pages that mention an entity without the asked fact (an organisation's page
names its founder; an event's page names its speakers). A fraction of facts is *withheld*
(never rendered): those are the "fact no page states" unanswerable questions.

Everything is drawn from one ``numpy`` generator seeded by ``seed``: the same seed gives the
same corpus and questions, byte for byte. 100k pages generate in a few seconds.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from rewardgym.envs.search.corpus import Corpus, Page, QATask

__all__ = ["Entity", "World", "generate_world"]

log = logging.getLogger("rewardgym.envs.search.world")

_CONSONANTS = [*"bcdfghklmnprstvz", "th", "br", "st", "kr"]
_VOWELS = [*"aeiou", "ae", "io"]
_ENDINGS = ["", "", "", "n", "r", "l", "s", "m"]

OCCUPATIONS = (
    "chemist", "painter", "engineer", "poet", "architect", "physician", "composer",
    "astronomer", "botanist", "cartographer", "sculptor", "economist", "linguist", "navigator",
    "mathematician", "historian",
)  # fmt: skip
_ORG_SUFFIXES = ("Institute", "Company", "Society", "Foundry", "Academy", "Trust", "Works")
_DEVICES = ("engine", "loom", "lens", "compass", "press", "valve", "telegraph", "kiln", "pump")
_EVENTS = ("Summit", "Exposition", "Congress", "Festival", "Accord", "Regatta", "Fair")
_TOPICS = (
    "early trade routes", "river navigation", "glass making", "celestial charts",
    "public health", "printing", "irrigation", "folk music", "bridge design", "mineral dyes",
)  # fmt: skip
# Every word a template writes: generated names must never collide with one of them.
_TEMPLATE_WORDS = {
    w.lower()
    for text in (
        *OCCUPATIONS, *_ORG_SUFFIXES, *_DEVICES, *_EVENTS, *_TOPICS,
        "was a born in the city of worked for is remembered work on not to be confused with",
        "located founded headquartered by lies country and inventor invented held among",
        "speakers were wrote to from describing letters catalogued archive mentions",
    )
    for w in text.split()
}  # fmt: skip

#: Entity kinds and their share of the pages (the rest are correspondence distractors).
_SHARES = {"person": 0.36, "city": 0.08, "org": 0.14, "invention": 0.14, "event": 0.12}


@dataclass
class Entity:
    """One entity of the world: its name, page, attributes and which of them are stated."""

    eid: int
    kind: str
    name: str
    attrs: dict[str, Any]
    title: str = ""
    page_id: str = ""
    hidden: set[str] = field(default_factory=set)

    def shown(self, attr: str) -> bool:
        return attr in self.attrs and attr not in self.hidden

    @property
    def ref(self) -> str:
        """How questions refer to the entity (people with their occupation: namesakes exist)."""
        if self.kind == "person":
            return f"the {self.attrs['occupation']} {self.name}"
        if self.kind in ("invention", "event"):
            return f"the {self.name}"
        if self.kind == "city":
            return f"the city of {self.name}"
        return self.name


@dataclass
class World:
    """A generated world: its entities, corpus and questions.

    Attributes:
        seed: the seed it was drawn from.
        entities: every entity (index = ``eid``).
        corpus: the pages (entity pages, then distractors).
        tasks: the questions, grouped by kind in :data:`QUESTION_KINDS` order.
        withheld: for each unanswerable question, ``(subject name, value no page states)``
            (``value`` is None for an absent entity).
    """

    seed: int
    entities: list[Entity]
    corpus: Corpus
    tasks: tuple[QATask, ...]
    withheld: dict[str, tuple[str, str | None]]


def _words(rng: np.random.Generator, count: int) -> list[str]:
    """``count`` unique capitalised pseudo-words of 2-3 syllables (none is a template word)."""
    out: list[str] = []
    seen: set[str] = set(_TEMPLATE_WORDS)
    while len(out) < count:
        n = max(64, 2 * (count - len(out)))
        cons = rng.integers(len(_CONSONANTS), size=(n, 3))
        vows = rng.integers(len(_VOWELS), size=(n, 3))
        ends = rng.integers(len(_ENDINGS), size=n)
        three = rng.random(n) < 0.5
        for i in range(n):
            k = 3 if three[i] else 2
            word = "".join(_CONSONANTS[cons[i, j]] + _VOWELS[vows[i, j]] for j in range(k))
            word = (word + _ENDINGS[ends[i]]).capitalize()
            if word.lower() not in seen:
                seen.add(word.lower())
                out.append(word)
                if len(out) == count:
                    break
    return out


class _Builder:
    """Draws one world; kept as an object so each stage reads as a short method."""

    def __init__(self, seed: int, n_pages: int, withheld_fraction: float) -> None:
        self.seed = seed
        self.rng = np.random.default_rng(seed)
        self.withheld_fraction = withheld_fraction
        self.counts = {k: max(2, int(n_pages * s)) for k, s in _SHARES.items()}
        self.n_mentions = max(1, n_pages - sum(self.counts.values()))
        self.entities: list[Entity] = []
        self.by_kind: dict[str, list[Entity]] = {k: [] for k in _SHARES}
        self.pages: list[Page] = []
        self.mentioned_in: dict[int, list[int]] = {}
        self._block: list[float] = []
        self._pos = 0

    def uniform(self) -> float:
        """The next uniform draw in [0, 1); drawn from ``rng`` in blocks (one ``rng`` call per
        draw would be most of the cost of a 100k-page world)."""
        if self._pos >= len(self._block):
            self._block = self.rng.random(65_536).tolist()
            self._pos = 0
        value = self._block[self._pos]
        self._pos += 1
        return value

    def pick(self, items: list[Any] | tuple[Any, ...]) -> Any:
        return items[int(self.uniform() * len(items))]

    def year(self, lo: int, hi: int) -> int:
        return lo + int(self.uniform() * (hi - lo))

    def add(self, kind: str, name: str, attrs: dict[str, Any]) -> Entity:
        entity = Entity(len(self.entities), kind, name, attrs)
        self.entities.append(entity)
        self.by_kind[kind].append(entity)
        return entity

    # -- entities ------------------------------------------------------------------------------

    def draw_entities(self) -> None:
        c = self.counts
        n_person = c["person"]
        n_first = max(40, int(np.sqrt(n_person) * 2))
        n_last = max(80, int(np.sqrt(n_person) * 4))
        words = _words(self.rng, 24 + c["city"] + c["org"] + c["invention"] + c["event"]
                       + n_first + n_last + 200)  # fmt: skip
        it = iter(words)
        countries = [next(it) for _ in range(24)]
        for _ in range(c["city"]):
            self.add("city", next(it), {"country": self.pick(countries),
                                         "founded": self.year(800, 1900)})  # fmt: skip
        cities = self.by_kind["city"]
        for _ in range(c["org"]):
            name = f"{next(it)} {self.pick(_ORG_SUFFIXES)}"
            self.add("org", name, {"hq": self.pick(cities), "founded": self.year(1600, 2000)})
        orgs = self.by_kind["org"]
        firsts = [next(it) for _ in range(n_first)]
        lasts = [next(it) for _ in range(n_last)]
        used: set[str] = set()
        names: list[str] = []
        for _ in range(n_person):
            # About 5% of people share the name of an earlier person: namesakes.
            if names and self.uniform() < 0.05:
                names.append(self.pick(names))
                continue
            while True:
                name = f"{self.pick(firsts)} {self.pick(lasts)}"
                if name not in used:
                    break
            used.add(name)
            names.append(name)
        occupations_of: dict[str, set[str]] = {}
        for name in names:
            taken = occupations_of.setdefault(name, set())
            occupation = self.pick([o for o in OCCUPATIONS if o not in taken])
            taken.add(occupation)
            self.add("person", name, {"occupation": occupation, "birth_year": self.year(1700, 1990),
                                       "born_in": self.pick(cities),
                                       "works_for": self.pick(orgs)})  # fmt: skip
        people = self.by_kind["person"]
        for org in orgs:
            org.attrs["founder"] = self.pick(people)
        for _ in range(c["invention"]):
            name = f"{next(it)} {self.pick(_DEVICES)}"
            self.add("invention", name, {"inventor": self.pick(people),
                                          "year": self.year(1750, 2000)})  # fmt: skip
        for _ in range(c["event"]):
            name = f"{next(it)} {self.pick(_EVENTS)}"
            speakers = [self.pick(people), self.pick(people)]
            self.add("event", name, {"city": self.pick(cities), "year": self.year(1800, 2020),
                                      "speakers": speakers})  # fmt: skip
        self.spare_words = list(it)
        self.firsts, self.lasts, self.used_names = firsts, lasts, used
        shared = {n for n, occ in occupations_of.items() if len(occ) > 1}
        for e in self.entities:
            e.title = f"{e.name} ({e.attrs['occupation']})" if e.name in shared else e.name
            e.page_id = f"{e.kind}-{e.eid:06d}"
        self.namesakes = shared
        withholdable = {"person": ("birth_year", "born_in", "works_for"), "city": ("founded",),
                        "org": ("founded", "hq"), "invention": ("year",),
                        "event": ("year",)}  # fmt: skip
        for e in self.entities:
            for attr in withholdable[e.kind]:
                if self.uniform() < self.withheld_fraction:
                    e.hidden.add(attr)

    # -- pages ---------------------------------------------------------------------------------

    def mention(self, entity: Entity) -> str:
        self.mentioned_in.setdefault(entity.eid, []).append(len(self.pages))
        return entity.name

    def render_entity(self, e: Entity) -> str:
        a, name = e.attrs, e.name
        parts: list[str] = []
        if e.kind == "person":
            born = ""
            if e.shown("birth_year"):
                born += f" in {a['birth_year']}"
            if e.shown("born_in"):
                born += f" in the city of {self.mention(a['born_in'])}"
            article = "an" if a["occupation"][0] in "aeiou" else "a"
            parts.append(
                f"{name} was {article} {a['occupation']}" + (f", born{born}." if born else ".")
            )
            if e.shown("works_for"):
                parts.append(f"{name} worked for the {self.mention(a['works_for'])}.")
            parts.append(f"{name} is remembered for work on {self.pick(_TOPICS)}.")
            if e.name in self.namesakes:
                parts.append(f"Not to be confused with other people named {name}.")
        elif e.kind == "city":
            parts.append(f"{name} is a city located in the country of {a['country']}.")
            if e.shown("founded"):
                parts.append(f"{name} was founded in {a['founded']}.")
        elif e.kind == "org":
            parts.append(f"The {name} was founded by {self.mention(a['founder'])}"
                         + (f" in {a['founded']}." if e.shown("founded") else "."))  # fmt: skip
            if e.shown("hq"):
                parts.append(f"The {name} is headquartered in {self.mention(a['hq'])}.")
        elif e.kind == "invention":
            parts.append(f"The {name} was invented by {self.mention(a['inventor'])}"
                         + (f" in {a['year']}." if e.shown("year") else "."))  # fmt: skip
        elif e.kind == "event":
            when = f" in {a['year']}" if e.shown("year") else ""
            parts.append(f"The {name} was held in {self.mention(a['city'])}{when}.")
            s1, s2 = a["speakers"]
            parts.append(f"Among its speakers were {self.mention(s1)} and {self.mention(s2)}.")
        return " ".join(parts)

    def render_pages(self) -> None:
        for e in self.entities:
            self.pages.append(Page(e.page_id, e.title, self.render_entity(e)))
        people = self.by_kind["person"]
        cities = self.by_kind["city"]
        inventions = self.by_kind["invention"]
        for i in range(self.n_mentions):
            p1, p2 = self.pick(people), self.pick(people)
            # A city and a year beside a person's name that are *not* that person's facts.
            while True:
                city, year = self.pick(cities), self.year(1700, 2000)
                if all(city is not p.attrs["born_in"] and year != p.attrs["birth_year"]
                       for p in (p1, p2)):  # fmt: skip
                    break
            text = (
                f"In {year} the {p1.attrs['occupation']} {self.mention(p1)} wrote to "
                f"{self.mention(p2)} from {self.mention(city)}, describing the "
                f"{self.mention(self.pick(inventions))}. The letters are catalogued in the "
                f"archive of {self.mention(self.pick(cities))}."
            )
            self.pages.append(Page(f"letters-{i:06d}", f"Letters of {p1.name}", text))

    # -- questions -----------------------------------------------------------------------------

    def questions(self, per_kind: int) -> tuple[list[QATask], dict[str, tuple[str, str | None]]]:
        tasks: list[QATask] = []
        withheld: dict[str, tuple[str, str | None]] = {}
        makers: dict[str, Callable[[], QATask | tuple[QATask, tuple[str, str | None]] | None]] = {
            "single-hop": self.single_hop,
            "bridge": self.bridge,
            "comparison": self.comparison,
            "unanswerable": self.unanswerable,
        }
        for kind, maker in makers.items():
            seen: set[str] = set()
            made, tries = 0, 0
            while made < per_kind and tries < per_kind * 50:
                tries += 1
                result = maker()
                if result is None:
                    continue
                task, hidden = result if isinstance(result, tuple) else (result, None)
                if task.question in seen:
                    continue
                seen.add(task.question)
                task_id = f"synth{self.seed}/{kind}/{made:05d}"
                tasks.append(QATask(task_id, task.question, task.answers, kind,
                                    task.supporting, task.subjects))  # fmt: skip
                if hidden is not None:
                    withheld[task_id] = hidden
                made += 1
            if made < per_kind:
                log.warning("world seed %d: only %d %s questions", self.seed, made, kind)
        return tasks, withheld

    @staticmethod
    def answers_for(value: Any) -> tuple[str, ...]:
        if isinstance(value, Entity):
            if value.kind == "person":
                return (value.name, value.name.split()[-1])
            if value.kind == "city":
                return (value.name, f"{value.name} city")
            if value.kind == "org":
                return (value.name, value.name.split()[0])
            return (value.name,)
        return (str(value),)

    # (subject kind, attribute, question template) of every single-hop question.
    _SINGLE = (
        ("person", "born_in", "In which city was {ref} born?"),
        ("person", "birth_year", "In what year was {ref} born?"),
        ("person", "works_for", "Which organisation did {ref} work for?"),
        ("city", "country", "In which country is {ref}?"),
        ("city", "founded", "In what year was {ref} founded?"),
        ("org", "founded", "In what year was the {name} founded?"),
        ("org", "hq", "In which city is the {name} headquartered?"),
        ("org", "founder", "Who founded the {name}?"),
        ("invention", "inventor", "Who invented {ref}?"),
        ("invention", "year", "In what year was {ref} invented?"),
        ("event", "city", "In which city was {ref} held?"),
        ("event", "year", "In what year was {ref} held?"),
    )

    def single_hop(self) -> QATask | None:
        kind, attr, template = self._SINGLE[int(self.uniform() * len(self._SINGLE))]
        e = self.pick(self.by_kind[kind])
        if not e.shown(attr):
            return None
        question = template.format(ref=e.ref, name=e.name)
        return QATask("", question, self.answers_for(e.attrs[attr]), "single-hop",
                      (e.page_id,), (e.title,))  # fmt: skip

    # (subject kind, first attribute, second attribute, question template) of bridge questions.
    _BRIDGE = (
        ("person", "born_in", "country", "In which country was {ref} born?"),
        ("person", "born_in", "founded", "In what year was the birthplace of {ref} founded?"),
        ("person", "works_for", "hq", "In which city is the employer of {ref} headquartered?"),
        ("invention", "inventor", "born_in", "In which city was the inventor of {ref} born?"),
        ("invention", "inventor", "birth_year", "In what year was the inventor of {ref} born?"),
        ("org", "founder", "birth_year", "In what year was the founder of the {name} born?"),
        ("event", "city", "country", "In which country was {ref} held?"),
    )

    def bridge(self) -> QATask | None:
        kind, first, second, template = self._BRIDGE[int(self.uniform() * len(self._BRIDGE))]
        e = self.pick(self.by_kind[kind])
        if not e.shown(first):
            return None
        mid: Entity = e.attrs[first]
        if not mid.shown(second):
            return None
        question = template.format(ref=e.ref, name=e.name)
        return QATask("", question, self.answers_for(mid.attrs[second]), "bridge",
                      (e.page_id, mid.page_id), (e.title, mid.title))  # fmt: skip

    _COMPARE = (
        ("person", "birth_year", "Who was born earlier, {a} or {b}?"),
        ("org", "founded", "Which was founded earlier, the {a} or the {b}?"),
        ("invention", "year", "Which was invented earlier, {a} or {b}?"),
        ("city", "founded", "Which city was founded earlier, {a} or {b}?"),
    )

    def comparison(self) -> QATask | None:
        kind, attr, template = self._COMPARE[int(self.uniform() * len(self._COMPARE))]
        x, y = self.pick(self.by_kind[kind]), self.pick(self.by_kind[kind])
        if x.name == y.name or not (x.shown(attr) and y.shown(attr)):
            return None
        if x.attrs[attr] == y.attrs[attr]:
            return None
        refs = {e.eid: (e.name if kind in ("org", "city") else e.ref) for e in (x, y)}
        question = template.format(a=refs[x.eid], b=refs[y.eid])
        earlier = x if x.attrs[attr] < y.attrs[attr] else y
        answers = (earlier.name, earlier.name.split()[-1]) if kind == "person" else (
            self.answers_for(earlier))  # fmt: skip
        return QATask("", question, answers, "comparison",
                      (x.page_id, y.page_id), (x.title, y.title))  # fmt: skip

    def unanswerable(self) -> tuple[QATask, tuple[str, str | None]] | None:
        if self.uniform() < 0.5:
            return self.absent_entity()
        return self.withheld_fact()

    def absent_entity(self) -> tuple[QATask, tuple[str, str | None]] | None:
        if self.uniform() < 0.5:
            # A first and a last name that each exist, in a combination nobody has.
            name = f"{self.pick(self.firsts)} {self.pick(self.lasts)}"
            if name in self.used_names:
                return None
            occupation = self.pick(OCCUPATIONS)
            template = self.pick([
                "In which city was the {occ} {name} born?",
                "In what year was the {occ} {name} born?",
                "Which organisation did the {occ} {name} work for?",
            ])  # fmt: skip
            question = template.format(occ=occupation, name=name)
        else:
            name = f"{self.pick(self.spare_words)} {self.pick(_DEVICES)}"
            question = self.pick(
                ["Who invented the {name}?", "In what year was the {name} invented?"]
            ).format(name=name)
        return QATask("", question, (), "unanswerable"), (name, None)

    def withheld_fact(self) -> tuple[QATask, tuple[str, str | None]] | None:
        kind, attr, template = self._SINGLE[int(self.uniform() * len(self._SINGLE))]
        e = self.pick(self.by_kind[kind])
        if attr not in e.hidden or e.name in self.namesakes:
            return None
        value = self.answers_for(e.attrs[attr])[0]
        # No page that names the entity may show the withheld value (a coincidence otherwise).
        for index in [e.eid, *self.mentioned_in.get(e.eid, [])]:
            if value in self.pages[index].text:
                return None
        question = template.format(ref=e.ref, name=e.name)
        return QATask("", question, (), "unanswerable", (), (e.title,)), (e.name, value)


def generate_world(
    seed: int = 0,
    n_pages: int = 2000,
    questions_per_kind: int = 100,
    withheld_fraction: float = 0.1,
) -> World:
    """Draw a world of about ``n_pages`` pages and ``questions_per_kind`` questions per kind.

    Args:
        seed: the world's seed; the same seed gives an identical world.
        n_pages: the corpus size (at least 50).
        questions_per_kind: questions of each kind (fewer, with a warning, if the world is too
            small to ask that many distinct ones).
        withheld_fraction: the chance that an attribute is never stated on any page.

    Returns:
        The :class:`World`: entities, corpus and tasks.
    """
    if n_pages < 50:
        raise ValueError(f"n_pages must be at least 50, got {n_pages}")
    builder = _Builder(int(seed), int(n_pages), float(withheld_fraction))
    builder.draw_entities()
    builder.render_pages()
    tasks, withheld = builder.questions(int(questions_per_kind))
    return World(int(seed), builder.entities, Corpus.of(builder.pages), tuple(tasks), withheld)
