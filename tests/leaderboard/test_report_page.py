"""The leaderboard page as a user sees it, in headless Chromium: sorting, drill-down, the
episode viewer playing a dungeon episode and a code attempt with its feedback."""

from __future__ import annotations

import os
import pathlib
import re
import shutil

import pytest

from rewardgym.leaderboard.report import build_report, render
from rewardgym.leaderboard.runner import plan, run_bench
from rewardgym.leaderboard.store import ResultsStore
from rewardgym.leaderboard.viewer import viewer_episodes

STAIRS = "rewardgym/Dungeon-Staircase-v0"
BANK = "rewardgym/CodeExec-Bank-v0"
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMEDRIVER = shutil.which("chromedriver") or "/usr/bin/chromedriver"


@pytest.fixture(scope="module")
def page(tmp_path_factory) -> pathlib.Path:
    tmp = tmp_path_factory.mktemp("page")
    db = tmp / "r.sqlite"
    with ResultsStore(db) as store:
        run_bench(
            plan(["random", "dungeon-expert"], [STAIRS], range(3), max_steps=40, record_steps=True),
            store,
        )
        run_bench(
            plan(["code-oracle", "cheater:exit-zero"], [BANK], range(2), record_steps=True), store
        )
    with ResultsStore(db, readonly=True) as store:
        rows = list(store.rows())
        episodes = viewer_episodes(store, rows)
    out = tmp / "leaderboard.html"
    out.write_text(render(build_report(rows, source=str(db), episodes=episodes), "html"))
    return out


def test_the_page_is_self_contained_and_holds_the_replayed_episodes(page):
    text = page.read_text()
    assert "http://" not in text and "https://" not in text  # nothing to fetch, no CDN
    assert '<table id="scores" class="sortable">' in text
    assert 'id="env-rewardgym-dungeon-staircase-v0"' in text and 'id="agent-random"' in text
    # 2 per (agent, env): a solved and a failed one where there are both
    assert len(re.findall(r'class="episode( wrap)?" id=', text)) == 8
    assert "Feedback on your previous attempt" in text  # the code grader's feedback, replayed
    assert 'class="error"' not in text.split('id="episodes"')[1]  # every replay matched


def _driver(tmp_path):
    pytest.importorskip("selenium")
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    opts = webdriver.ChromeOptions()
    opts.binary_location = CHROMIUM
    for flag in (
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        "--window-size=1400,1000",
        f"--user-data-dir={tmp_path / 'profile'}",
    ):
        opts.add_argument(flag)
    return webdriver.Chrome(service=Service(CHROMEDRIVER), options=opts)


@pytest.mark.browser
@pytest.mark.slow
@pytest.mark.skipif(
    not (os.path.exists(CHROMIUM) and os.path.exists(CHROMEDRIVER)),
    reason="needs chromium and chromedriver (make setup installs them through APT_PACKAGES)",
)
def test_sorting_drill_down_and_episode_viewer_work_in_chromium(page, tmp_path):
    from selenium.webdriver.common.by import By

    driver = _driver(tmp_path)
    try:
        driver.get(page.as_uri())
        assert driver.execute_script("return document.readyState") == "complete"

        def column(table: str, index: int) -> list[str]:
            rows = driver.find_elements(By.CSS_SELECTOR, f"table#{table} tbody tr")
            return [r.find_elements(By.TAG_NAME, "td")[index].text for r in rows]

        # sort the per-env table by agent, both ways, then by task return
        headers = driver.find_elements(By.CSS_SELECTOR, "table#scores thead th")
        headers[1].click()
        agents = column("scores", 1)
        assert agents == sorted(agents)
        assert headers[1].get_attribute("aria-sort") == "ascending"
        headers[1].click()
        assert column("scores", 1) == sorted(agents, reverse=True)
        headers[2].click()
        returns = [float(x) for x in column("scores", 2)]
        assert returns == sorted(returns)

        # drill down: the env link opens that env's details, with each agent's tasks
        details = driver.find_element(By.ID, "env-rewardgym-dungeon-staircase-v0")
        assert details.get_attribute("open") is None
        driver.find_element(
            By.CSS_SELECTOR, "table#scores a[href='#env-rewardgym-dungeon-staircase-v0']"
        ).click()
        assert details.get_attribute("open") == "true"
        tasks = details.find_elements(By.CSS_SELECTOR, "table[id$='-tasks'] tbody tr")
        assert len(tasks) == 3
        driver.find_element(By.CSS_SELECTOR, "table#suite a[href='#agent-dungeon-expert']").click()
        agent_box = driver.find_element(By.ID, "agent-dungeon-expert")
        assert agent_box.get_attribute("open") == "true"
        assert "Dungeon-Staircase-v0" in agent_box.text

        # the viewer: a dungeon episode as frames, step by step
        box = driver.find_element(By.CSS_SELECTOR, ".episode[id^='ep-dungeon-expert']")
        driver.execute_script("arguments[0].scrollIntoView()", box)
        frame = box.find_element(By.CSS_SELECTOR, "pre.frame")
        first = frame.text
        assert "@" in first  # the player on the map
        box.find_element(By.CSS_SELECTOR, "button.next").click()
        assert box.find_element(By.CSS_SELECTOR, ".stepinfo").text.startswith("step 1 of")
        assert frame.text != first
        steps = int(box.find_element(By.CSS_SELECTOR, "input.step").get_attribute("max"))
        for _ in range(steps):
            box.find_element(By.CSS_SELECTOR, "button.next").click()
        assert f"step {steps} of {steps}" in box.find_element(By.CSS_SELECTOR, ".stepinfo").text

        # a code attempt with its feedback
        code = driver.find_element(By.CSS_SELECTOR, ".episode[id^='ep-cheater-exit-zero']")
        driver.execute_script("arguments[0].scrollIntoView()", code)
        code.find_element(By.CSS_SELECTOR, "button.next").click()
        assert (
            "Feedback on your previous attempt"
            in code.find_element(By.CSS_SELECTOR, "pre.frame").text
        )
        assert code.find_element(By.CSS_SELECTOR, "pre.action").text.strip()  # the submitted code
        driver.save_screenshot(str(tmp_path / "page.png"))
        assert (tmp_path / "page.png").stat().st_size > 10_000
    finally:
        driver.quit()


def test_a_frame_that_repeats_the_task_shows_the_news_first():
    from rewardgym.leaderboard.viewer import collapse_repeated_head

    task = "".join(f"line {i} of the task statement, long enough\n" for i in range(20))
    after = task + "## Feedback\n0/3 tests passed\n"
    assert collapse_repeated_head(task, after) == (
        "[... 20 lines as in the previous frame ...]\n## Feedback\n0/3 tests passed\n"
    )
    grid_a, grid_b = "#####\n#@..#\n#####\n", "#####\n#.@.#\n#####\n"
    assert collapse_repeated_head(grid_a, grid_b) == grid_b  # maps stay whole
