"""A JSON web-search API as a :class:`~rewardgym.envs.search.backends.SearchBackend`, with
record/replay cassettes so that an episode that searched the web replays with no network.

:class:`WebSearchBackend` sends ``GET url?<query_param>=<query>&<params>`` (or a JSON ``POST``)
and reads a list of results from the response (``results_path``, a dotted path such as
``"web.results"``), each with a title, a URL and a snippet under configurable keys. Three
modes:

* ``live``: every search goes to the API;
* ``record``: every search goes to the API and the raw response is written to the cassette;
* ``replay``: searches are answered from the cassette only; a search that was never recorded
  raises :class:`CassetteMiss` (never an empty result list, which would silently change what
  the agent sees).

A cassette is a JSON file keyed by the normalised query (lower case, single spaces) and the
request parameters; the API key (read from the environment variable ``api_key_env``) is sent
as a header and never written.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import pathlib
import tempfile
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Mapping
from typing import Any, Literal

from rewardgym.envs.search.backends import SearchHit, make_snippet
from rewardgym.envs.search.corpus import Page
from rewardgym.errors import ConfigError, RewardGymError

__all__ = ["Cassette", "CassetteMiss", "WebSearchBackend", "WebSearchError", "cassette_key"]

log = logging.getLogger("rewardgym.envs.search.web")

_TITLE_KEYS = ("title", "name")
_URL_KEYS = ("url", "link", "href")
_SNIPPET_KEYS = ("snippet", "content", "description", "text", "body")


class CassetteMiss(RewardGymError, LookupError):
    """A replayed search was never recorded in the cassette."""


class WebSearchError(RewardGymError, RuntimeError):
    """The web-search API failed (HTTP error, unreachable, or not the expected JSON)."""


def _normalise_query(query: str) -> str:
    return " ".join(query.lower().split())


def cassette_key(query: str, params: Mapping[str, Any]) -> str:
    """The cassette key of a search: a hash of the normalised query and the parameters."""
    blob = json.dumps({"q": _normalise_query(query), "params": dict(params)}, sort_keys=True)
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()[:24]


class Cassette:
    """Recorded responses of one API, stored as JSON: ``{"version": 1, "entries": {key:
    {"query", "params", "response"}}}``."""

    VERSION = 1

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = pathlib.Path(path)
        self.entries: dict[str, dict[str, Any]] = {}
        if self.path.is_file():
            try:
                data = json.loads(self.path.read_text(encoding="utf-8"))
            except (OSError, json.JSONDecodeError) as exc:
                raise ConfigError(
                    f"cassette {str(self.path)!r} is not readable JSON: {exc}"
                ) from None
            if not isinstance(data, dict) or data.get("version") != self.VERSION:
                raise ConfigError(f"cassette {str(self.path)!r} is not a version-1 cassette")
            self.entries = dict(data.get("entries", {}))

    def get(self, key: str) -> dict[str, Any] | None:
        return self.entries.get(key)

    def put(self, key: str, query: str, params: Mapping[str, Any], response: Any) -> None:
        """Record ``response`` and write the cassette (atomically) at once."""
        self.entries[key] = {"query": query, "params": dict(params), "response": response}
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".cassette-", dir=str(self.path.parent))
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump({"version": self.VERSION, "entries": self.entries}, handle, indent=1,
                      sort_keys=True, ensure_ascii=False)  # fmt: skip
        os.replace(tmp, self.path)


def _first(item: Mapping[str, Any], keys: tuple[str, ...], override: str | None) -> str:
    if override is not None:
        value = item.get(override, "")
        return value if isinstance(value, str) else str(value)
    for key in keys:
        value = item.get(key)
        if isinstance(value, str) and value:
            return value
    return ""


class WebSearchBackend:
    """Search a JSON web-search API, through a record/replay cassette.

    Args:
        url: the API endpoint.
        mode: ``"replay"`` (default: no network), ``"record"`` or ``"live"``.
        cassette: the cassette file (required for ``record`` and ``replay``).
        params: fixed request parameters (part of the cassette key).
        query_param: the parameter that carries the query (``"q"``).
        method: ``"GET"`` (parameters in the URL) or ``"POST"`` (a JSON body).
        results_path: the dotted path of the result list in the response (``"results"``).
        title_key, url_key, snippet_key: the keys of each result (default: the usual names,
            ``title``/``url``/``link``/``snippet``/``content``/``description``).
        api_key_env: an environment variable holding the API key, sent as ``api_key_header``.
        api_key_header: the header that carries the key (``"Authorization"`` sends
            ``Bearer <key>``).
        timeout_s: the request timeout.
        snippet_chars: the longest snippet a hit carries.
        prices: the price of a search on this API.
    """

    name = "web"

    def __init__(
        self,
        url: str,
        *,
        mode: Literal["live", "record", "replay"] = "replay",
        cassette: str | None = None,
        params: Mapping[str, Any] | None = None,
        query_param: str = "q",
        method: Literal["GET", "POST"] = "GET",
        results_path: str = "results",
        title_key: str | None = None,
        url_key: str | None = None,
        snippet_key: str | None = None,
        api_key_env: str | None = None,
        api_key_header: str = "Authorization",
        timeout_s: float = 10.0,
        snippet_chars: int = 300,
        prices: Mapping[str, float] | None = None,
    ) -> None:
        if mode not in ("live", "record", "replay"):
            raise ConfigError(f"web mode must be 'live', 'record' or 'replay', not {mode!r}")
        if mode != "live" and not cassette:
            raise ConfigError(f"web mode {mode!r} needs cassette=<path of a .json cassette>")
        if mode == "replay" and not pathlib.Path(cassette or "").is_file():
            raise ConfigError(
                f"cassette {cassette!r} does not exist; record one first with mode='record'"
            )
        if method not in ("GET", "POST"):
            raise ConfigError(f"web method must be 'GET' or 'POST', not {method!r}")
        self.url = url
        self.mode = mode
        self.cassette = Cassette(cassette) if cassette else None
        self.params = dict(params or {})
        self.query_param = query_param
        self.method = method
        self.results_path = [p for p in results_path.split(".") if p]
        self.keys = (title_key, url_key, snippet_key)
        self.api_key_env = api_key_env
        self.api_key_header = api_key_header
        self.timeout_s = float(timeout_s)
        self.snippet_chars = int(snippet_chars)
        self.default_prices: Mapping[str, float] = {"search": 1.0, "open": 0.0, **(prices or {})}
        self.requests = 0  # HTTP requests actually sent (replay sends none)

    def search(self, query: str, k: int) -> list[SearchHit]:
        """The first ``k`` results of the API for ``query``.

        Raises:
            CassetteMiss: in ``replay`` mode, for a query the cassette does not hold.
            WebSearchError: when the API fails or answers something unexpected.
        """
        key = cassette_key(query, self.params)
        if self.mode == "replay":
            assert self.cassette is not None
            entry = self.cassette.get(key)
            if entry is None:
                raise CassetteMiss(
                    f"search {query!r} (params {self.params}) is not in cassette "
                    f"{str(self.cassette.path)!r}; record it with mode='record' (or run live)"
                )
            response = entry["response"]
        else:
            response = self._request(query)
            if self.mode == "record":
                assert self.cassette is not None
                self.cassette.put(key, query, self.params, response)
        return self._hits(response, query, k)

    def _request(self, query: str) -> Any:
        params = {**self.params, self.query_param: query}
        headers = {"Accept": "application/json", "User-Agent": "rewardgym-search"}
        if self.api_key_env:
            secret = os.environ.get(self.api_key_env)
            if not secret:
                raise ConfigError(f"the environment variable {self.api_key_env} holds no API key")
            bearer = self.api_key_header.lower() == "authorization"
            headers[self.api_key_header] = f"Bearer {secret}" if bearer else secret
        if self.method == "GET":
            sep = "&" if "?" in self.url else "?"
            request = urllib.request.Request(
                self.url + sep + urllib.parse.urlencode(params), headers=headers
            )
        else:
            headers["Content-Type"] = "application/json"
            body = json.dumps(params).encode("utf-8")
            request = urllib.request.Request(self.url, data=body, headers=headers, method="POST")
        self.requests += 1
        try:
            with urllib.request.urlopen(request, timeout=self.timeout_s) as reply:
                raw = reply.read()
        except urllib.error.HTTPError as exc:
            raise WebSearchError(f"{self.url} answered HTTP {exc.code} for {query!r}") from None
        except (urllib.error.URLError, OSError) as exc:
            raise WebSearchError(f"cannot reach {self.url}: {exc}") from None
        try:
            return json.loads(raw)
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise WebSearchError(f"{self.url} did not answer JSON: {exc}") from None

    def _hits(self, response: Any, query: str, k: int) -> list[SearchHit]:
        items = response
        for part in self.results_path:
            if not isinstance(items, Mapping) or part not in items:
                raise WebSearchError(
                    f"the response has no {'.'.join(self.results_path)!r} list of results"
                )
            items = items[part]
        if not isinstance(items, list):
            raise WebSearchError(f"{'.'.join(self.results_path)!r} is not a list of results")
        title_key, url_key, snippet_key = self.keys
        hits = []
        for rank, item in enumerate(items[: max(0, k)], start=1):
            if not isinstance(item, Mapping):
                continue
            url = _first(item, _URL_KEYS, url_key)
            snippet = make_snippet(_first(item, _SNIPPET_KEYS, snippet_key), query,
                                   self.snippet_chars)  # fmt: skip
            hits.append(SearchHit(url or f"result-{rank}", _first(item, _TITLE_KEYS, title_key),
                                  snippet, 1.0 / rank))  # fmt: skip
        return hits

    def page(self, page_id: str) -> Page | None:
        """Web results cannot be opened here (search snippets only)."""
        return None

    def close(self) -> None:
        """Nothing to release (each request opens and closes its own connection)."""
