"""Headless Chromium driven through Selenium, showing MiniWoB++ task pages from the local disk.

:class:`MiniWoBBrowser` owns one Chromium (the system build, never a downloaded one) with its
own throw-away profile directory. It loads a task page from the ``miniwob`` package's HTML
(``file://``, no server), starts a seeded episode with MiniWoB's own JavaScript (``core``),
reads the instruction, the DOM (as the phone's accessibility-text elements) and the reward,
takes screenshots of the 160x210 task area, and performs actions with real input events (W3C
pointer and key actions). If the browser dies, every call raises :class:`BrowserError` and
the next :meth:`MiniWoBBrowser.load` starts a fresh one. :meth:`MiniWoBBrowser.close` quits
the driver and then kills any process still using the profile directory, so nothing is left.
"""

from __future__ import annotations

import contextlib
import importlib.util
import io
import logging
import os
import shutil
import signal
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

from rewardgym.errors import RewardGymError

__all__ = ["AREA", "BrowserError", "MiniWoBBrowser", "chromium_paths", "miniwob_html_dir"]

log = logging.getLogger("rewardgym.envs.gui.browser")

#: MiniWoB's task area (instruction bar and task) in CSS pixels, at the page's top left.
AREA = (160, 210)
_CLICKABLE_TAGS = ("BUTTON", "A", "LABEL", "SELECT", "TEXTAREA")
_CLICKABLE_CLASSES = ("alink", "ui-button", "ui-tabs-anchor", "ui-dialog-titlebar-close")
_KEYS = {"enter": "\ue007", "backspace": "\ue003", "del": "\ue017", "delete": "\ue017",
         "space": " ", "tab": "\ue004"}  # fmt: skip


class BrowserError(RewardGymError, RuntimeError):
    """The browser could not start, or died; the message says what to do."""


def miniwob_html_dir() -> Path:
    """The ``miniwob`` package's ``html`` folder (found without importing the package).

    Raises:
        BrowserError: if the package is not installed.
    """
    spec = importlib.util.find_spec("miniwob")
    if spec is None or not spec.submodule_search_locations:
        raise BrowserError(
            "the MiniWoB++ task pages come from the 'miniwob' package, which is not installed; "
            "install it with: pip install --no-deps 'miniwob==1.1.0' (make setup does)"
        )
    root = Path(next(iter(spec.submodule_search_locations))) / "html"
    if not (root / "miniwob").is_dir():
        raise BrowserError(f"the miniwob package at {root.parent} has no html/miniwob pages")
    return root


def chromium_paths() -> tuple[str, str]:
    """(chromium binary, chromedriver) from MINIWOB_CHROME_BINARY / MINIWOB_CHROMEDRIVER, else
    the Debian locations. Raises BrowserError if either is missing (Selenium Manager would
    otherwise try to download a browser)."""
    binary = os.environ.get("MINIWOB_CHROME_BINARY") or "/usr/lib/chromium/chromium"
    driver = (
        os.environ.get("MINIWOB_CHROMEDRIVER")
        or shutil.which("chromedriver")
        or "/usr/bin/chromedriver"
    )
    missing = [p for p in (binary, driver) if not os.access(p, os.X_OK)]
    if missing:
        raise BrowserError(
            f"no Chromium at {missing}; install the system packages chromium and chromium-driver "
            "(make setup does) or set MINIWOB_CHROME_BINARY and MINIWOB_CHROMEDRIVER"
        )
    return binary, driver


def _processes_using(marker: str) -> list[int]:
    """Pids of processes whose command line contains ``marker``."""
    pids = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            if marker.encode() in (entry / "cmdline").read_bytes():
                pids.append(int(entry.name))
        except OSError:
            continue
    return pids


class MiniWoBBrowser:
    """One headless Chromium showing MiniWoB++ pages (see the module docstring)."""

    def __init__(self) -> None:
        self.driver: Any = None
        self.profile: str | None = None
        self.task: str | None = None

    # -- life cycle ----------------------------------------------------------------------------

    def start(self) -> None:
        """Start Chromium (a fresh profile directory each time)."""
        from selenium import webdriver
        from selenium.common.exceptions import WebDriverException
        from selenium.webdriver.chrome.service import Service

        binary, driver = chromium_paths()
        self.profile = tempfile.mkdtemp(prefix="rewardgym-chromium-")
        options = webdriver.ChromeOptions()
        options.binary_location = binary
        for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                    "--disable-background-networking", "--disable-component-update", "--disable-sync",
                    "--no-first-run", "--disable-extensions", "--window-size=500,600",
                    f"--user-data-dir={self.profile}"):  # fmt: skip
            options.add_argument(arg)
        try:
            self.driver = webdriver.Chrome(service=Service(executable_path=driver), options=options)
        except WebDriverException as exc:
            self.close()
            raise BrowserError(f"Chromium did not start: {exc.msg or exc}") from None
        self.driver.set_script_timeout(10)

    @property
    def alive(self) -> bool:
        return self.driver is not None

    def close(self) -> None:
        """Quit the browser and make sure no process of it is left (safe to call twice)."""
        driver, self.driver, self.task = self.driver, None, None
        if driver is not None:
            with contextlib.suppress(Exception):
                driver.quit()
        if self.profile is not None:
            for pid in _processes_using(self.profile):
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.kill(pid, signal.SIGKILL)
            shutil.rmtree(self.profile, ignore_errors=True)
            self.profile = None

    def processes(self) -> list[int]:
        """The pids of this browser's processes (Chromium and its helpers)."""
        return _processes_using(self.profile) if self.profile else []

    def __del__(self) -> None:
        with contextlib.suppress(Exception):
            self.close()

    # -- episodes ------------------------------------------------------------------------------

    def load(self, task: str, seed: int) -> None:
        """Show ``task``'s page and start a seeded episode (restarting a dead browser first)."""
        if self.driver is None:
            self.start()
        page = miniwob_html_dir() / "miniwob" / f"{task}.html"
        if not page.exists():
            raise BrowserError(f"MiniWoB++ has no task page {page.name}")
        self._call(self.driver.get, page.as_uri())
        for _ in range(100):
            if self._call(
                self.driver.execute_script, "return typeof core !== 'undefined' && WOB_TASK_READY;"
            ):
                break
            time.sleep(0.02)
        # One hour instead of MiniWoB's 10 s: an agent's thinking time must not end the episode.
        self._call(
            self.driver.execute_script,
            f"Math.seedrandom({int(seed)}); core.EPISODE_MAX_TIME = 3600000; core.startEpisodeReal();"
            # a blinking caret would make two screenshots of the same state differ
            "document.head.insertAdjacentHTML('beforeend', '<style>*{caret-color: transparent !important}</style>');",
        )
        self.task = task

    def utterance(self) -> str:
        return str(self._call(self.driver.execute_script, "return core.getUtterance();"))

    def status(self) -> tuple[bool, float]:
        """(episode done, MiniWoB's raw reward: +1 success, -1 failure, 0 not yet)."""
        done, raw = self._call(
            self.driver.execute_script, "return [WOB_DONE_GLOBAL, WOB_RAW_REWARD_GLOBAL];"
        )
        return bool(done), float(raw or 0.0)

    def elements(self) -> list[dict[str, Any]]:
        """The page's elements in the task area, in document order, as a11y-style dicts."""
        root = self._call(self.driver.execute_script, "return core.getDOMInfo();")
        out: list[dict[str, Any]] = []

        def visit(node: dict[str, Any]) -> None:
            tag = str(node.get("tag", ""))
            left, top = float(node.get("left", 0)), float(node.get("top", 0))
            width, height = float(node.get("width", 0)), float(node.get("height", 0))
            inside = width > 0 and height > 0 and 0 <= left < AREA[0] and 0 <= top < AREA[1]
            if inside and tag != "BODY" and node.get("id") not in ("wrap", "area"):
                classes = str(node.get("classes") or "")
                clickable = (
                    tag.startswith("INPUT")
                    or tag in _CLICKABLE_TAGS
                    or any(c in classes.split() for c in _CLICKABLE_CLASSES)
                )
                value = node.get("value") if tag not in ("INPUT_checkbox", "INPUT_radio") else None
                element = {
                    "text": str(node.get("text") or value or ""),
                    "class_name": tag,
                    "resource_id": str(node.get("id") or ""),
                    "bbox": [round(left), round(top), round(min(AREA[0], left + width)), round(min(AREA[1], top + height))],
                }  # fmt: skip
                if classes:
                    element["classes"] = classes
                if clickable:
                    element["clickable"] = True
                if tag.startswith("INPUT_text") or tag in ("INPUT_password", "TEXTAREA"):
                    element["editable"] = True
                if node.get("focused"):
                    element["focused"] = True
                if tag in ("INPUT_checkbox", "INPUT_radio"):
                    element["checked"] = bool(node.get("value"))
                out.append(element)
            for child in node.get("children", []):
                visit(child)

        visit(root)
        return out

    def screenshot(self) -> np.ndarray:
        """The task area as an RGB array of ``AREA`` (decoded from Chromium's PNG)."""
        from PIL import Image

        png = self._call(self.driver.get_screenshot_as_png)
        with Image.open(io.BytesIO(png)) as image:
            return np.asarray(image.convert("RGB").crop((0, 0, *AREA)), dtype=np.uint8)

    # -- input ---------------------------------------------------------------------------------

    def click(self, x: float, y: float, hold_s: float = 0.0) -> None:
        from selenium.webdriver.common.action_chains import ActionChains
        from selenium.webdriver.common.actions.action_builder import ActionBuilder

        chain = ActionChains(self.driver, duration=0)
        builder = ActionBuilder(self.driver, duration=0)
        builder.pointer_action.move_to_location(int(x), int(y))
        if hold_s:
            builder.pointer_action.click_and_hold().pause(hold_s).release()
        else:
            builder.pointer_action.click()
        chain.w3c_actions = builder
        self._call(chain.perform)

    def type(self, text: str) -> None:
        from selenium.webdriver.common.action_chains import ActionChains

        self._call(ActionChains(self.driver, duration=0).send_keys(text).perform)

    def key(self, name: str) -> None:
        self.type(_KEYS.get(name, name))

    def scroll(self, finger: str) -> None:
        """A wheel scroll as a finger swipe ``finger`` would make (up shows what is below)."""
        dy = {"up": 60, "down": -60}.get(finger, 0)
        dx = {"left": 60, "right": -60}.get(finger, 0)
        self._call(self.driver.execute_script, f"window.scrollBy({dx}, {dy});")

    def _call(self, fn: Any, *args: Any) -> Any:
        if self.driver is None:
            raise BrowserError("the browser is not running; call reset() to start it")
        from selenium.common.exceptions import WebDriverException

        try:
            return fn(*args)
        except (WebDriverException, ConnectionError, OSError) as exc:
            reason = (getattr(exc, "msg", None) or type(exc).__name__).splitlines()[0]
            log.warning("the browser died: %s", reason)
            self.close()
            raise BrowserError(
                f"the Chromium process died or stopped answering ({reason:.200}); the episode "
                "is lost: call reset() to start a new browser"
            ) from None
