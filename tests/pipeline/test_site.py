"""The reviewers' site in a real browser: headless Chromium (Debian's package, installed by
scripts/chromium when missing) loads every committed page from the file system. Every image
loads, no relative link is broken, and each paper's verdicts are on its page. Screenshots of
the index and one paper page go to logs/screenshots/."""

from __future__ import annotations

import subprocess
from pathlib import Path
from urllib.parse import unquote, urlparse

import pytest

from llmrepro import io

from conftest import ROOT

pytestmark = pytest.mark.slow
SHOTS = ROOT / "logs" / "screenshots"


@pytest.fixture(scope="module")
def browser():
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    r = subprocess.run([str(ROOT / "scripts/chromium")], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    chromium, driver = r.stdout.split()
    opts = webdriver.ChromeOptions()
    opts.binary_location = chromium
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--allow-file-access-from-files", "--window-size=1280,2000"):
        opts.add_argument(flag)
    b = webdriver.Chrome(options=opts, service=Service(driver))  # a given driver: no download
    yield b
    b.quit()


def _pages() -> list[Path]:
    return [ROOT / "reports/index.html", ROOT / "reports/robustness.html", ROOT / "reports/bench.html",
            *sorted((ROOT / "reports").glob("*/index.html"))]


def test_every_page_loads_with_its_images_and_links(browser):
    pages = _pages()
    assert len(pages) >= 8
    for page in pages:
        assert page.exists(), page
        browser.get(page.as_uri())
        images = browser.execute_script(
            "return Array.from(document.images).map(i => [i.getAttribute('src'), i.complete && i.naturalWidth > 0])")
        broken = [src for src, ok in images if not ok]
        assert not broken, f"{page}: images that did not load: {broken}"
        hrefs = browser.execute_script("return Array.from(document.links).map(a => a.href)")
        for href in hrefs:
            url = urlparse(href)
            if url.scheme == "file":
                assert Path(unquote(url.path)).exists(), f"{page}: broken link {href}"
    SHOTS.mkdir(parents=True, exist_ok=True)
    browser.get((ROOT / "reports/index.html").as_uri())
    browser.save_screenshot(str(SHOTS / "index.png"))


def test_each_paper_page_shows_its_verdicts_and_figures(browser):
    from llmrepro.report.pages import VERDICT_MARK

    papers = sorted(p.parent.name for p in (ROOT / "reports").glob("*/claims.json"))
    for paper in papers:
        doc = io.read_json(ROOT / f"reports/{paper}/claims.json")
        browser.get((ROOT / f"reports/{paper}/index.html").as_uri())
        text = browser.find_element("tag name", "body").text
        for c in doc["claims"]:
            assert VERDICT_MARK[c["verdict"]] in text, (paper, c["id"])
        badges = browser.execute_script("return document.querySelectorAll('.badge').length")
        assert badges >= len(doc["claims"])
        assert browser.execute_script("return document.images.length") >= 1, paper
    browser.get((ROOT / f"reports/{papers[-1]}/index.html").as_uri())
    browser.save_screenshot(str(SHOTS / f"{papers[-1]}.png"))
    browser.get((ROOT / "reports/index.html").as_uri())
    index = browser.find_element("tag name", "body").text
    assert all(p in index for p in papers)
