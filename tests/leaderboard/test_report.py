"""The report: every format carries the scores; the HTML page renders in a real browser."""

from __future__ import annotations

import base64
import csv
import io
import json
import os
import pathlib
import re
import shutil

import pytest
from typer.testing import CliRunner

from rewardgym.leaderboard.cli import app
from rewardgym.leaderboard.report import build_report, render
from rewardgym.leaderboard.runner import plan, run_bench
from rewardgym.leaderboard.store import ResultsStore

COUNT = "lb_toy_envs:rewardgym-test/Count-v0"


@pytest.fixture
def db(tmp_path, with_expert):
    path = tmp_path / "r.sqlite"
    with ResultsStore(path) as store:
        run_bench(plan(["random", with_expert], [COUNT], range(4)), store)
    return path


def test_every_format_reports_every_agent(db):
    with ResultsStore(db) as store:
        report = build_report(store.rows(), source=str(db))
    data = json.loads(render(report, "json"))
    got = {s["agent"]: s["mean_return"] for s in data["scores"]}
    assert got["count-expert"] == 1.0 and set(got) == {"random", "count-expert"}
    assert {s["agent"]: s["score"] for s in data["suite"]} == {"count-expert": 1.0, "random": 0.0}
    rows = list(csv.DictReader(io.StringIO(render(report, "csv"))))
    assert {r["agent"] for r in rows} == {"random", "count-expert"}
    assert float(next(r for r in rows if r["agent"] == "count-expert")["mean_return"]) == 1.0
    md = render(report, "md")
    assert "| rewardgym-test/Count-v0 | count-expert | 1.000 |" in md
    page = render(report, "html")
    pngs = re.findall(r'src="data:image/png;base64,([^"]+)"', page)
    assert len(pngs) == 2
    assert all(base64.b64decode(p).startswith(b"\x89PNG") for p in pngs)


def test_cli_bench_then_leaderboard(tmp_path, with_expert):
    runner = CliRunner()
    db = str(tmp_path / "c.sqlite")
    res = runner.invoke(
        app,
        ["bench", "--agents", f"random,{with_expert}", "--envs", COUNT, "--seeds", "0-2",
         "--db", db],
    )  # fmt: skip
    assert res.exit_code == 0, res.output
    assert "stored 6" in res.output
    res = runner.invoke(app, ["bench", "--agents", "random", "--envs", COUNT, "--seeds", "0-2",
                              "--db", db])  # fmt: skip
    assert "3 episodes already stored" in res.output
    out = tmp_path / "lb.md"
    res = runner.invoke(app, ["leaderboard", "--db", db, "--out", str(out)])
    assert res.exit_code == 0, res.output
    assert "count-expert" in res.output and "count-expert" in out.read_text()
    res = runner.invoke(app, ["leaderboard", "--db", str(tmp_path / "none.sqlite")])
    assert res.exit_code == 2


def test_cli_refuses_a_foreign_db(tmp_path, toy_envs):
    foreign = tmp_path / "notes.sqlite"
    foreign.write_text("not a database")
    res = CliRunner().invoke(
        app, ["bench", "--agents", "random", "--envs", COUNT, "--seeds", "0", "--db", str(foreign)]
    )
    assert res.exit_code == 2
    assert foreign.read_text() == "not a database"


CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMEDRIVER = shutil.which("chromedriver") or "/usr/bin/chromedriver"


@pytest.mark.browser
@pytest.mark.slow
@pytest.mark.skipif(
    not (os.path.exists(CHROMIUM) and os.path.exists(CHROMEDRIVER)),
    reason="needs chromium and chromedriver (apt-get install chromium chromium-driver)",
)
def test_html_page_renders_table_and_plots_in_headless_chromium(db, tmp_path):
    selenium = pytest.importorskip("selenium")
    del selenium
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.common.by import By

    page = tmp_path / "leaderboard.html"
    with ResultsStore(db) as store:
        page.write_text(render(build_report(store.rows(), source=str(db)), "html"))
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
        f"--user-data-dir={tmp_path / 'profile'}",
    ):
        opts.add_argument(flag)
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=opts)
    try:
        driver.get(pathlib.Path(page).as_uri())
        rows = driver.find_elements(By.CSS_SELECTOR, "table#scores tbody tr")
        cells = [[td.text for td in r.find_elements(By.TAG_NAME, "td")] for r in rows]
        assert [c[1] for c in cells] == ["count-expert", "random"]
        assert cells[0][2] == "1.000"
        for img_id in ("plot-scores", "plot-cost"):
            width = driver.execute_script(
                "const i = document.getElementById(arguments[0]);"
                "return i.complete ? i.naturalWidth : 0;",
                img_id,
            )
            assert width > 0, f"{img_id} did not decode"
    finally:
        driver.quit()


def test_report_sections_render_in_name_order_and_a_broken_one_keeps_the_page(
    db, monkeypatch, caplog
):
    from rewardgym.leaderboard import report as report_mod

    monkeypatch.setattr(
        report_mod,
        "REPORT_SECTIONS",
        {
            "b-count": "lb_sections:count_section",
            "a-broken": "lb_sections:broken",
            "c-nothing": "lb_sections:nothing",
        },
    )
    monkeypatch.setattr(
        report_mod, "MD_SECTIONS", {"count": "lb_sections:count_md", "x": "lb_sections:broken"}
    )
    with ResultsStore(db) as store:
        report = build_report(store.rows(), source=str(db))
    page = render(report, "html")
    # the section sees the stored rows: 4 episodes per agent
    assert "<li>count-expert: 4</li><li>random: 4</li>" in page
    broken_at = page.index('id="section-a-broken"')
    assert "RuntimeError: this section is broken" in page
    # after the main tables, in name order; the empty one is left out
    assert page.index('id="scores"') < broken_at < page.index('id="count-section"')
    assert "c-nothing" not in page
    assert page.rstrip().endswith("</html>")
    assert "report section 'a-broken'" in caplog.text
    md = render(report, "md")
    assert md.index("## Per environment") < md.index("## Episode count\n\n8 episodes")
    assert "## x\n\n> this section failed to render (RuntimeError" in md
    # no rows: the counting section has nothing to say
    empty = render(build_report([], source="none"), "html")
    assert "count-section" not in empty and 'id="section-a-broken"' in empty
