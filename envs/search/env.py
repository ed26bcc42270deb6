"""``SearchQAEnv``: answer a question, paying for every search (the MASH protocol)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar, Literal

from gymnasium import spaces
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from rewardgym.envs.base import AgenticEnv
from rewardgym.envs.search.answers import exact_match, f1_score
from rewardgym.envs.search.backends import SearchBackend, SearchHit
from rewardgym.envs.search.corpus import QATask
from rewardgym.envs.search.protocol import Invalid, Move, parse_action
from rewardgym.envs.search.sources import load_source, make_backend
from rewardgym.errors import ConfigError, InvalidAction
from rewardgym.spaces import text

__all__ = ["OBSERVATION_KEYS", "SearchQAConfig", "SearchQAEnv", "render_observation"]

#: The keys of a dict observation, in rendering order.
OBSERVATION_KEYS = ("instructions", "question", "status", "transcript", "feedback")

Kind = Literal["single-hop", "bridge", "comparison", "unanswerable", "open"]


class SearchQAConfig(BaseModel):
    """The constructor arguments of :class:`SearchQAEnv` (validated at ``gym.make``)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    source: Literal["synthetic", "jsonl"] | None = None
    world_seed: int = Field(0, ge=0)
    n_pages: int = Field(2000, ge=50, le=5_000_000)
    questions_per_kind: int = Field(100, ge=1, le=1_000_000)
    tasks_path: str | None = None
    corpus_path: str | None = None
    kinds: list[Kind] | None = None
    task_ids: list[str] | None = None
    backend: Literal["bm25", "dense", "web"] = "bm25"
    dense_model: str | None = None
    web: dict[str, Any] | None = None
    index_cache: str | None = "default"
    top_k: int = Field(3, ge=1, le=50)
    max_searches: int = Field(5, ge=0, le=100)
    max_opens: int = Field(5, ge=0, le=100)
    max_turns: int | None = Field(None, ge=1, le=1000)
    prices: dict[Literal["search", "open", "token"], float] | None = None
    budget: float | None = Field(None, gt=0)
    observation_format: Literal["dict", "text"] = "dict"
    max_action_length: int = Field(65_536, ge=1)
    max_observation_length: int = Field(32_768, ge=1024)
    snippet_chars: int = Field(300, ge=20)
    reward_weights: dict[str, float] | None = None
    render_mode: Literal["ansi"] | None = None

    @model_validator(mode="after")
    def _consistent(self) -> SearchQAConfig:
        if self.source == "synthetic" and (self.tasks_path or self.corpus_path):
            raise ValueError("tasks_path/corpus_path are only used with source='jsonl'")
        if self.corpus_path and not self.tasks_path:
            raise ValueError("corpus_path needs tasks_path=<questions .jsonl>")
        if self.backend == "dense" and not self.dense_model:
            raise ValueError("backend='dense' needs dense_model=<local sentence-transformers dir>")
        if self.backend == "web" and not self.web:
            raise ValueError("backend='web' needs web={'url': ..., 'mode': ..., 'cassette': ...}")
        for name, price in (self.prices or {}).items():
            if price < 0:
                raise ValueError(f"prices[{name!r}] must be >= 0, got {price}")
        return self

    @property
    def resolved_source(self) -> str:
        if self.source is not None:
            return self.source
        return "jsonl" if self.tasks_path else "synthetic"

    @property
    def turn_limit(self) -> int:
        return self.max_turns or self.max_searches + self.max_opens + 3


#: The ASCII control characters, less the newline, tab and carriage return text may hold.
_ASCII_CONTROLS = bytes([*range(9), 11, 12, *range(14, 32), 127])


def _printable(value: str) -> str:
    """``value`` with characters outside the observation space escaped."""
    if value.isascii():
        # one C pass over the bytes; str.isprintable looks every character up in the Unicode
        # database, which costs more than the rest of a step on a transcript entry
        raw = value.encode("ascii")
        if len(raw.translate(None, _ASCII_CONTROLS)) == len(raw):
            return value
    if value.isprintable():
        return value
    plain = value.replace("\n", " ")  # newlines are allowed; str.replace is the fast way out
    if "\t" in plain or "\r" in plain:
        plain = plain.replace("\t", " ").replace("\r", " ")
    if plain.isprintable():
        return value
    return "".join(
        ch if ch.isprintable() or ch in "\n\r\t" else ch.encode("unicode_escape").decode("ascii")
        for ch in value
    )


def _clip_start(value: str, limit: int) -> str:
    """The end of ``value`` when it is longer than ``limit`` (the newest turns matter most)."""
    if len(value) <= limit:
        return value
    marker = f"[... {len(value) - limit} earlier characters cut]\n"
    return marker + value[len(value) - max(0, limit - len(marker)) :]


def render_observation(observation: dict[str, str] | str) -> str:
    """The text form of an observation (what ``observation_format="text"`` returns)."""
    if isinstance(observation, str):
        return observation
    parts = [observation.get("instructions", ""), f"Question: {observation.get('question', '')}"]
    if observation.get("transcript"):
        parts.append(observation["transcript"])
    if observation.get("feedback"):
        parts.append(observation["feedback"])
    parts.append(observation.get("status", ""))
    return "\n\n".join(p for p in parts if p) + "\n"


class SearchQAEnv(AgenticEnv):
    """Answer a question; search a corpus first if you must, and pay for every search.

    ## Description

    The tool-use family of MASH ("Pay-Per-Search Models are Abstention Models"). Each episode
    is one question over a corpus: a seeded synthetic knowledge world (``SearchQA-v0`` and its
    variants: single-hop, bridge, comparison and unanswerable questions over people, cities,
    organisations, inventions and events, with namesakes and distractor pages), or a user's
    JSONL files (``SearchQA-JSONL-v0``: NQ-open or HotpotQA style, see
    :mod:`rewardgym.envs.search.schema`). The agent may search (top-``top_k`` results with
    snippets), open pages, and must end with an answer or an explicit abstention. Every tool
    call is priced and accumulated in ``info["cost"]``: the knob MASH turns into a reward for
    knowing when to search.

    ## Action Space

    ``PrintableText(max_action_length)``: one turn in the MASH protocol, an optional
    ``<think>...</think>`` and one of ``<search>query</search>``, ``<open>page id</open>``,
    ``<answer>text</answer>`` or ``<abstain/>`` (``<answer>I don't know</answer>`` abstains
    too). OpenAI-style tool calls are accepted as well: a dict ``{"name": "search",
    "arguments": {"query": ...}}`` (also as JSON text, or wrapped as ``{"type": "function",
    "function": ...}`` or ``{"tool_calls": [...]}``) or a call written as text,
    ``search("query")``, ``open("id")``, ``answer("text")``, ``abstain()``. A whole chat
    completion message works too (its ``tool_calls``, else its ``content``); its ``usage``
    token counts go to the cost ledger. UTF-8 bytes are decoded. A turn that cannot be acted on (no action tag, an unclosed or nested tag, an empty
    query, non-UTF-8 bytes, a search beyond ``max_searches``, an unknown page) is an invalid
    action: ``info["invalid_action"]`` says why, the turn is used up, nothing is charged, and
    the episode goes on.

    ## Observation Space

    ``Dict`` of ``PrintableText`` (or one ``PrintableText`` with ``observation_format="text"``,
    rendered by :func:`render_observation`):

    * ``instructions``: the protocol, the prices and the limits;
    * ``question``: the question;
    * ``status``: searches and opens left, and the spend (and budget);
    * ``transcript``: every earlier tool call and its results (the oldest are cut first);
    * ``feedback``: why the last turn was invalid, or empty.

    Search results are also in ``info["results"]`` (page id, title, snippet, score).

    ## Rewards

    | component | meaning | default weight |
    |---|---|---|
    | ``task`` | on the final turn: exact match of the answer after SQuAD normalisation against the gold answer and its aliases; on an unanswerable question, 1 for abstaining and 0 for any answer | 1.0 |
    | ``f1`` | on the final turn: the best token F1 against the answers (unanswerable: as ``task``) | 0.0 |
    | ``format`` | 1 for a well-formed turn (one optional think block and one action, nothing else) | 0.0 |
    | ``searches`` | 1 on a turn that searched (the episode sum is the number of searches) | 0.0 |
    | ``abstained`` | 1 on the turn that abstained | 0.0 |

    Only ``task`` is rewarded: the price of searching is a shaping decision, the
    ``MashPenalty`` group transform (``--reward-recipe mash``) or a ``CostPenalty`` wrapper
    (``pay-per-search``). ``info["cost"]`` accumulates ``searches``, ``opens``,
    ``tool_calls`` and ``spend`` (the priced sum; the bench runner adds an LLM agent's
    ``llm_tokens``).

    ## Starting State

    ``reset(seed)`` draws a question uniformly with ``np_random``; ``options={"task_id": id}``
    picks one. ``info["question_kind"]`` is its kind; the gold answers and supporting pages
    stay hidden (a privileged oracle reads them from ``env.unwrapped.task``).

    ## Episode End

    Terminated by an answer or an abstention. Truncated after ``max_turns`` turns (default
    ``max_searches + max_opens + 3``; invalid turns count), when a tool call would take the
    spend over ``budget`` (the call is not made), or when the tokens a turn reports took it
    over (the turn does not act); ``info["truncation_reason"]`` says which.

    ## Arguments

    * ``source``: ``"synthetic"`` (default) or ``"jsonl"`` (implied by ``tasks_path``; without
      a path, the shipped sample).
    * ``world_seed`` (0), ``n_pages`` (2000), ``questions_per_kind`` (100): the synthetic world.
    * ``tasks_path``, ``corpus_path``: JSONL questions and a corpus file (``id,title,text``).
    * ``kinds``: keep only these question kinds; ``task_ids``: only these questions.
    * ``backend``: ``"bm25"`` (default, bm25s), ``"dense"`` (with ``dense_model``, a local
      sentence-transformers directory) or ``"web"`` (with ``web``, the arguments of
      :class:`~rewardgym.envs.search.web.WebSearchBackend`: url, mode, cassette, ...).
    * ``index_cache``: ``"default"`` (``$REWARDGYM_CACHE``), a directory, or None.
    * ``top_k`` (3), ``max_searches`` (5), ``max_opens`` (5), ``max_turns``.
    * ``prices``: per tool call, overriding the backend's (``{"search": 1.0, "open": 0.5}``),
      and ``"token"``: the price of one token an agent reports (default 0).
    * ``budget``: the most the episode may spend (None: unlimited).
    * ``observation_format``: ``"dict"`` (default) or ``"text"``.
    * ``max_action_length`` (65536), ``max_observation_length`` (32768), ``snippet_chars``
      (300).
    * ``reward_weights``: overrides of the default weights.
    * ``render_mode``: ``"ansi"`` returns the current observation as text.

    ## Version History

    * v0: initial release.
    """

    metadata: ClassVar[dict[str, Any]] = {"render_modes": ["ansi"], "render_fps": 1}
    COMPONENTS = ("task", "f1", "format", "searches", "abstained")
    DEFAULT_WEIGHTS = {"task": 1.0, "f1": 0.0, "format": 0.0, "searches": 0.0, "abstained": 0.0}
    COST_KEYS = ("searches", "opens", "tool_calls", "agent_tokens", "spend")
    RESET_OPTIONS = {"task_id": str}

    def __init__(self, **kwargs: Any) -> None:
        try:
            self.config = SearchQAConfig(**kwargs)
        except ValidationError as exc:
            raise ConfigError(f"invalid SearchQAEnv arguments:\n{exc}") from None
        super().__init__(reward_weights=self.config.reward_weights)
        cfg = self.config
        self.corpus, self.tasks = load_source(cfg)
        self._by_id = {task.task_id: task for task in self.tasks}
        self.backend: SearchBackend | None = make_backend(cfg, self.corpus)
        self.prices = {**self.backend.default_prices, **(cfg.prices or {})}
        self.render_mode = cfg.render_mode
        obs_text = text(cfg.max_observation_length)
        if cfg.observation_format == "text":
            self.observation_space: spaces.Space = obs_text
        else:
            self.observation_space = spaces.Dict({key: obs_text for key in OBSERVATION_KEYS})
        self.action_space = text(cfg.max_action_length)
        self.task: QATask | None = None
        self._turns = 0
        self._searches = 0
        self._opens = 0
        self._transcript_text = ""
        self._question_text = ""  # the episode's question as observed (escaped, cut)
        self._observation: dict[str, str] = {}
        self._instructions = self._make_instructions()
        self._turn_limit = cfg.turn_limit
        self._status_lines: dict[tuple[int, int, float], str] = {}  # see _make_observation

    # -- gymnasium API -------------------------------------------------------------------------

    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[Any, dict[str, Any]]:
        options = self._reset_options(options)
        super().reset(seed=seed)
        self.task = self._draw_task(options.get("task_id"), self.tasks, self._by_id, "question")
        self._turns = self._searches = self._opens = 0
        self._transcript_text = ""
        self._question_text = _printable(self.task.question)[
            : self.config.max_observation_length // 4
        ]
        info = self._start_episode(self.task.task_id)
        self._add_status_info(info, None, (), None)
        self._observation = self._make_observation("")
        return self._observation_out(), info

    def step(self, action: Any) -> tuple[Any, float, bool, bool, dict[str, Any]]:
        if self._done:  # also before the first reset
            self._check_running()
        if not isinstance(action, (str, bytes, bytearray, dict)):
            raise InvalidAction(
                "SearchQAEnv actions are text (str), UTF-8 bytes or a tool-call dict, got "
                f"{type(action).__name__}"
            )
        task = self.task
        assert task is not None
        self._turns += 1
        cfg = self.config
        components: dict[str, float]
        invalid: str | None = None
        results: list[SearchHit] = []
        answer: str | None = None
        terminated = truncated = False
        cut: str | None = None  # info["truncation_reason"]
        usage_problem = self._count_tokens(action) if isinstance(action, dict) else None
        parsed: Move | Invalid | None  # None: the turn is cut before it acts
        if usage_problem is not None:
            parsed = Invalid(usage_problem)
        elif len(action) > cfg.max_action_length:
            parsed = Invalid(f"the action is longer than max_action_length={cfg.max_action_length}")
        elif cfg.budget is not None and self._cost["spend"] > cfg.budget + 1e-12:
            parsed = None
            cut = (
                f"the agent's tokens took the spend to {self._cost['spend']:g}, over the budget "
                f"{cfg.budget:g}"
            )
            truncated = True
        else:
            parsed = parse_action(action)
        move = parsed if isinstance(parsed, Move) else None
        if move is None:
            components = {}
            if parsed is not None:
                invalid = parsed.reason
        elif move.kind == "search" or move.kind == "open":
            invalid, cut, results = self._tool(move)
            components = {"format": 1.0 if move.well_formed else 0.0}
            if cut is not None:
                truncated = True
            elif invalid is None and move.kind == "search":
                components["searches"] = 1.0
        else:
            terminated = True
            answer = move.argument if move.kind == "answer" else None
            components = {"format": 1.0 if move.well_formed else 0.0, **self._grade(task, answer)}
        if invalid is not None:
            components["format"] = 0.0
        if not (terminated or truncated) and self._turns >= self._turn_limit:
            truncated = True
            cut = f"max_turns={self._turn_limit} turns used without an answer"
        if cut is not None:
            feedback = f"The episode was cut: {cut}."
        else:
            feedback = f"Your last turn was not used: {invalid}." if invalid else ""
        self._observation = self._make_observation(feedback)
        done = terminated or truncated
        success = (components.get("task", 0.0) == 1.0) if done else None
        reward, info = self._finish_step(
            components,
            terminated=terminated,
            truncated=truncated,
            success=success,
            invalid_action=invalid,
        )
        # the env's keys after the contract's, as _finish_step(**extra) would put them, without
        # repacking them as keyword arguments twice
        self._add_status_info(info, move, results, answer)
        if cut is not None:
            info["truncation_reason"] = cut
        return self._observation_out(), reward, terminated, truncated, info

    def render(self) -> str | None:
        if self.render_mode is None:
            self._render_mode_missing()
            return None
        return render_observation(self._observation)

    def close(self) -> None:
        backend, self.backend = self.backend, None
        if backend is not None:
            backend.close()
        super().close()

    # -- internals -----------------------------------------------------------------------------

    def _tool(self, move: Move) -> tuple[str | None, str | None, list[SearchHit]]:
        """Run a search or open: ``(invalid reason, over-budget reason, hits)``."""
        cfg = self.config
        if move.kind == "search" and self._searches >= cfg.max_searches:
            return (f"no searches left ({cfg.max_searches} allowed); answer or abstain now",
                    None, [])  # fmt: skip
        if move.kind == "open" and self._opens >= cfg.max_opens:
            return f"no page opens left ({cfg.max_opens} allowed)", None, []
        price = float(self.prices.get(move.kind, 0.0))
        spent = self._cost.get("spend", 0.0)
        if cfg.budget is not None and spent + price > cfg.budget + 1e-12:
            return None, (f"a {move.kind} costs {price:g} and {spent:g} of the budget "
                          f"{cfg.budget:g} is spent"), []  # fmt: skip
        backend = self.backend
        if backend is None:
            raise InvalidAction("SearchQAEnv.step() after close(); make a new env")
        if move.kind == "open":
            page = backend.page(move.argument)
            if page is None:
                return f"no page with id {move.argument!r}", None, []
            self._opens += 1
            self._charge("opens", price)
            self._log(f"Open {self._opens}: [{page.page_id}] {page.title}\n{page.text.strip()}")
            return None, None, []
        hits = backend.search(move.argument, cfg.top_k)
        self._searches += 1
        self._charge("searches", price)
        entry = f"Search {self._searches}: {move.argument}\n" + (
            "\n".join([f"{i}. [{h.page_id}] {h.title}: {h.snippet}" for i, h in enumerate(hits, 1)])
            if hits
            else "(no results)"
        )
        self._log(entry)
        return None, None, hits

    def _log(self, entry: str) -> None:
        """Append a tool result to the transcript (escaped once, joined incrementally)."""
        entry = _printable(entry)
        sep = "\n\n" if self._transcript_text else ""
        self._transcript_text = f"{self._transcript_text}{sep}{entry}"

    def _count_tokens(self, message: dict[str, Any]) -> str | None:
        """Add the tokens a chat message's ``usage`` reports to the ledger; the problem, if any."""
        usage = message.get("usage")
        if usage is None:
            return None
        if not isinstance(usage, dict):
            return "usage must be an object like {'total_tokens': 123}"
        try:
            if "total_tokens" in usage:
                tokens = float(usage["total_tokens"])
            else:
                tokens = float(usage.get("prompt_tokens", 0)) + float(
                    usage.get("completion_tokens", 0)
                )
        except (TypeError, ValueError):
            return "usage token counts must be numbers"
        if not tokens >= 0 or tokens == float("inf"):
            return f"usage token counts must be finite and >= 0, got {tokens}"
        self._add_cost("agent_tokens", tokens)
        self._add_cost("spend", tokens * float(self.prices.get("token", 0.0)))
        return None

    def _charge(self, counter: str, price: float) -> None:
        cost = self._cost  # _add_cost three times over, without its calls (once per tool call)
        cost[counter] = cost.get(counter, 0.0) + 1.0
        cost["tool_calls"] = cost.get("tool_calls", 0.0) + 1.0
        cost["spend"] = cost.get("spend", 0.0) + float(price)

    @staticmethod
    def _grade(task: QATask, answer: str | None) -> dict[str, float]:
        if answer is None:  # abstained
            correct = 0.0 if task.answerable else 1.0
            return {"task": correct, "f1": correct, "abstained": 1.0}
        if not task.answerable:
            return {"task": 0.0, "f1": 0.0}
        return {"task": exact_match(answer, task.answers), "f1": f1_score(answer, task.answers)}

    def _add_status_info(
        self, info: dict[str, Any], move: Move | None, hits: Sequence[SearchHit], answer: str | None
    ) -> None:
        """Add the env's keys to ``info`` (after the contract's)."""
        task = self.task
        assert task is not None
        cfg = self.config
        info["question_kind"] = task.kind
        info["searches_left"] = cfg.max_searches - self._searches
        info["opens_left"] = cfg.max_opens - self._opens
        info["move"] = None if move is None else move.kind
        info["results"] = [hit.to_dict() for hit in hits]
        info["answer"] = answer

    def _make_instructions(self) -> str:
        cfg = self.config
        price_s, price_o = self.prices.get("search", 0.0), self.prices.get("open", 0.0)
        budget = f" Your budget is {cfg.budget:g}." if cfg.budget is not None else ""
        return (
            "Answer the question with a short answer. You may search a corpus first, but every "
            f"search costs {price_s:g} and every page you open costs {price_o:g}.{budget} "
            "Each turn: optionally think inside <think>...</think>, then exactly one action: "
            f"<search>query</search> (the top {cfg.top_k} pages, at most {cfg.max_searches} "
            "searches), <open>page id</open> (a whole page), <answer>short answer</answer>, "
            "or <abstain/> if you cannot find out. Tool calls search(query), open(page_id), "
            "answer(text) and abstain() work too."
        )

    def _make_observation(self, feedback: str) -> dict[str, str]:
        cfg = self.config
        limit = cfg.max_observation_length
        # the status line is formatted once per (searches, opens, spend): its ``:g`` formatting
        # costs more than the rest of the observation
        key = (self._searches, self._opens, self._cost.get("spend", 0.0))
        status = self._status_lines.get(key)
        if status is None:
            status = (
                f"Searches left: {cfg.max_searches - self._searches} of {cfg.max_searches}. "
                f"Page opens left: {cfg.max_opens - self._opens}. "
                f"Spent: {key[2]:g}" + (f" of {cfg.budget:g}." if cfg.budget is not None else ".")
            )
            if len(self._status_lines) >= 1024:  # spends in token prices take many values
                self._status_lines.clear()
            self._status_lines[key] = status
        transcript = self._transcript_text
        if len(transcript) > limit // 2:
            transcript = _clip_start(transcript, limit // 2)
        return {
            "instructions": self._instructions,
            "question": self._question_text,
            "status": status,
            "transcript": transcript,
            "feedback": _printable(feedback)[: limit // 8] if feedback else "",
        }

    def _observation_out(self) -> Any:
        if self.config.observation_format == "text":
            return _clip_start(render_observation(self._observation),
                               self.config.max_observation_length)  # fmt: skip
        return dict(self._observation)
