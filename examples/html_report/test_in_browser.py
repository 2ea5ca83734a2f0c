"""The HTML certificate in a real headless browser: the matrix renders and its cells open.

Run by `tox -e screenshot` (Debian's `chromium`, driven by playwright; set CHROMIUM to use
another binary). Saves the screenshot to $SCREENSHOT_OUT (tox: in its temp folder) for a
person to look at.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from contracts.cli import main

playwright = pytest.importorskip("playwright.sync_api", reason="pip install -e '.[screenshot]'")
CHROMIUM = os.environ.get("CHROMIUM") or shutil.which("chromium")
REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def page_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("html") / "certificate.html"
    code = main(
        ["certify", "--format", "html", "--out", str(out), "--cassettes", str(REPO / "cassettes")]
    )
    assert code == 0
    return out


@pytest.mark.skipif(CHROMIUM is None, reason="needs a chromium binary (apt-get install chromium)")
def test_matrix_renders_and_cells_open(page_file: Path) -> None:
    with playwright.sync_playwright() as driver:
        browser = driver.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        page.goto(page_file.as_uri())
        vendors = page.locator("th.vendor").count()
        clauses = page.locator("th.clause").count()
        cells = page.locator("td.verdict")
        assert vendors == 5
        assert clauses >= 20
        assert cells.count() == vendors * clauses
        box = cells.first.bounding_box()
        assert box is not None
        assert box["width"] > 20
        assert box["height"] > 10
        colour_of = "c => getComputedStyle(c).backgroundColor"
        colours = {cell.evaluate(colour_of) for cell in cells.all()}
        assert len(colours) >= 2, f"the matrix is not coloured by verdict: {colours}"
        unsupported = page.locator('td.verdict[data-verdict="unsupported"] summary').first
        unsupported.click()
        assert page.locator("td.verdict details[open]").count() == 1
        assert page.locator("td.verdict details[open] pre").first.is_visible()
        shot = os.environ.get("SCREENSHOT_OUT") or str(page_file.with_name("screenshot.png"))
        page.screenshot(path=shot, full_page=True)
        browser.close()
