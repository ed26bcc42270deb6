"""The HTTP web-search adapter against a local JSON server: live, record, replay, misses."""

from __future__ import annotations

import json
import threading
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import gymnasium as gym
import pytest

import rewardgym  # noqa: F401
from rewardgym.envs.search.web import CassetteMiss, WebSearchBackend, WebSearchError
from rewardgym.errors import ConfigError


class _Handler(BaseHTTPRequestHandler):
    def do_GET(self):
        url = urllib.parse.urlparse(self.path)
        params = urllib.parse.parse_qs(url.query)
        self.server.requests.append({"path": url.path, "params": params,
                                     "key": self.headers.get("X-Api-Key")})  # fmt: skip
        if url.path == "/broken":
            self.send_response(500)
            self.end_headers()
            return
        query = params.get("q", [""])[0]
        body = {"web": {"results": [
            {"title": f"{query} result {i}", "url": f"https://example.org/{i}",
             "description": f"About {query}, number {i}."}
            for i in range(1, 6)
        ]}}  # fmt: skip
        data = json.dumps(body).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args):
        pass


@pytest.fixture
def server():
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    httpd.requests = []
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield httpd
    httpd.shutdown()
    httpd.server_close()


def _url(server, path="/search"):
    return f"http://127.0.0.1:{server.server_address[1]}{path}"


def _backend(server, mode, cassette, **kw):
    return WebSearchBackend(_url(server), mode=mode, cassette=cassette, params={"count": 5},
                            results_path="web.results", **kw)  # fmt: skip


def test_live_search_reads_results(server, monkeypatch):
    monkeypatch.setenv("TEST_SEARCH_KEY", "sekrit")
    backend = WebSearchBackend(_url(server), mode="live", results_path="web.results",
                               api_key_env="TEST_SEARCH_KEY", api_key_header="X-Api-Key")  # fmt: skip
    hits = backend.search("Marie Curie", 3)
    assert [h.page_id for h in hits] == [f"https://example.org/{i}" for i in (1, 2, 3)]
    assert hits[0].title == "Marie Curie result 1" and "About Marie Curie" in hits[0].snippet
    assert server.requests[0]["params"]["q"] == ["Marie Curie"]
    assert server.requests[0]["key"] == "sekrit"


def test_record_then_replay_without_network(server, tmp_path):
    cassette = tmp_path / "tape.json"
    recorder = _backend(server, "record", str(cassette))
    recorded = recorder.search("Marie  CURIE born", 3)
    assert cassette.is_file() and len(server.requests) == 1
    assert "sekrit" not in cassette.read_text()
    server.shutdown()  # the network is gone: replay must not need it
    player = _backend(server, "replay", str(cassette))
    assert player.search("marie curie born", 3) == recorded  # normalised query key
    assert player.requests == 0
    with pytest.raises(CassetteMiss, match=r"'Ada Lovelace' .* not in cassette"):
        player.search("Ada Lovelace", 3)


def test_params_are_part_of_the_key(server, tmp_path):
    cassette = str(tmp_path / "tape.json")
    _backend(server, "record", cassette).search("q", 3)
    other = WebSearchBackend(_url(server), mode="replay", cassette=cassette,
                             params={"count": 10}, results_path="web.results")  # fmt: skip
    with pytest.raises(CassetteMiss):
        other.search("q", 3)


def test_recorded_episode_replays_identically(server, tmp_path):
    cassette = str(tmp_path / "episode.json")
    actions = ["<search>Marie Curie</search>", "<search>Warsaw river</search>",
               "<answer>Vistula</answer>"]  # fmt: skip

    def play(mode):
        web = {"url": _url(server), "mode": mode, "cassette": cassette,
               "results_path": "web.results"}  # fmt: skip
        env = gym.make("rewardgym/SearchQA-JSONL-v0", backend="web", web=web)
        trace = [env.reset(seed=3)]
        for action in actions:
            trace.append(env.step(action))
        env.close()
        return trace

    recorded = play("record")
    served = len(server.requests)
    replayed = play("replay")
    assert replayed == recorded and len(server.requests) == served
    assert recorded[1][4]["results"][0]["page_id"] == "https://example.org/1"


def test_errors(server, tmp_path):
    with pytest.raises(ConfigError, match="record one first"):
        WebSearchBackend(_url(server), mode="replay", cassette=str(tmp_path / "none.json"))
    with pytest.raises(ConfigError, match="needs cassette"):
        WebSearchBackend(_url(server), mode="record")
    with pytest.raises(WebSearchError, match="HTTP 500"):
        WebSearchBackend(_url(server, "/broken"), mode="live").search("x", 3)
    with pytest.raises(WebSearchError, match="no 'results' list"):
        WebSearchBackend(_url(server), mode="live").search("x", 3)
