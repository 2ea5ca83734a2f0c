"""The HTML certificate in real headless Chromium (Debian's `chromium` package): the page's
script runs there, its filters work from the address, and the page is painted in colour.

A `.ci/run` stage after the default suite (`pytest -p no:cacheprovider examples/html_report`);
the screenshot goes to $SCREENSHOT_OUT (default `artifacts/certificate.png`) for a person to
look at. Chromium is driven by its own command line: no browser driver to install.
"""

from __future__ import annotations

import os
import shutil
import struct
import subprocess
import zlib
from html.parser import HTMLParser
from pathlib import Path

import pytest

from contracts.gate import load_certificate
from contracts.html_report import render_html
from contracts.report import Certificate

REPO = Path(__file__).resolve().parents[2]
CHROMIUM = os.environ.get("CHROMIUM") or shutil.which("chromium")
FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--hide-scrollbars",
)
REGRESSED = ("mistral", "stream.truncation")

pytestmark = pytest.mark.skipif(
    CHROMIUM is None, reason="needs Debian's chromium (apt-get install -y chromium)"
)


def _regressed_run() -> tuple[Certificate, Certificate]:
    """The committed baseline, and a run where one clause of one vendor now fails."""
    baseline = load_certificate(REPO / "certificates" / "baseline.json")
    current = baseline.model_copy(deep=True)
    vendor = next(v for v in current.vendors if v.vendor == REGRESSED[0])
    vendor.clauses[REGRESSED[1]] = vendor.clauses[REGRESSED[1]].model_copy(
        update={
            "verdict": "fail",
            "evidence": ["truncated: stream() gave no error [events: Connected TextDelta Done]"],
            "troubleshooting": "Usually the end of the body is treated as a normal end.",
            "wire": ["request (stream): {}", "served: 200 text/event-stream", "  data: [DONE]"],
        }
    )
    return current, baseline


@pytest.fixture(scope="module")
def page(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("page")
    current, baseline = _regressed_run()
    path = folder / "certificate.html"
    path.write_text(render_html(current, baseline), encoding="utf-8")
    return path


def chromium(page: Path, *action: str, fragment: str = "") -> subprocess.CompletedProcess[bytes]:
    profile = page.parent / "profile"
    return subprocess.run(
        [str(CHROMIUM), *FLAGS, f"--user-data-dir={profile}", *action, page.as_uri() + fragment],
        capture_output=True,
        timeout=120,
        check=True,
    )


class _Shown(HTMLParser):
    """What the DOM shows after the page's script ran: matrix rows left visible, failure cards
    left visible, and the verdict boxes left checked."""

    def __init__(self) -> None:
        super().__init__()
        self.rows: list[str] = []
        self.cards: list[str] = []
        self.checked: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        hidden = "hidden" in found
        if tag == "tr" and "data-clause" in found and not hidden:
            self.rows.append(str(found["data-clause"]))
        if tag == "details" and "data-verdict" in found and not hidden:
            self.cards.append(str(found["data-filter"]))
        if tag == "input" and found.get("type") == "checkbox" and "checked" in found:
            self.checked.append(str(found["value"]))


def test_the_address_filters_the_page_to_the_failures(page: Path) -> None:
    dom = chromium(page, "--dump-dom", fragment="#verdict=fail").stdout.decode()
    shown = _Shown()
    shown.feed(dom)
    assert shown.rows == [REGRESSED[1]]
    assert shown.cards == [" ".join(REGRESSED)]
    assert 'class="regression"' in dom  # the baseline comparison names it


def test_a_text_filter_keeps_only_matching_clauses(page: Path) -> None:
    dom = chromium(page, "--dump-dom", fragment="#q=tools.").stdout.decode()
    shown = _Shown()
    shown.feed(dom)
    assert shown.rows
    assert all(row.startswith("tools.") for row in shown.rows)


def _pixels(png: bytes) -> tuple[int, int, set[tuple[int, int, int]]]:
    """Width, height and the colours of an 8-bit RGB(A) PNG, as Chromium writes it."""
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    position, data, header = 8, b"", b""
    while position < len(png):
        (length,) = struct.unpack(">I", png[position : position + 4])
        kind = png[position + 4 : position + 8]
        body = png[position + 8 : position + 8 + length]
        header = body if kind == b"IHDR" else header
        data += body if kind == b"IDAT" else b""
        position += 12 + length
    width, height, depth, colour_type = struct.unpack(">IIBB", header[:10])
    assert depth == 8
    channels = {2: 3, 6: 4}[colour_type]
    raw, stride = zlib.decompress(data), width * channels
    previous, colours = bytearray(stride), set()
    for row in range(height):
        start = row * (stride + 1)
        kind, line = raw[start], bytearray(raw[start + 1 : start + 1 + stride])
        for i in range(stride):
            left = line[i - channels] if i >= channels else 0
            up, corner = previous[i], previous[i - channels] if i >= channels else 0
            if kind == 1:
                line[i] = (line[i] + left) & 0xFF
            elif kind == 2:
                line[i] = (line[i] + up) & 0xFF
            elif kind == 3:
                line[i] = (line[i] + (left + up) // 2) & 0xFF
            elif kind == 4:
                p = left + up - corner
                pa, pb, pc = abs(p - left), abs(p - up), abs(p - corner)
                best = left if pa <= pb and pa <= pc else up if pb <= pc else corner
                line[i] = (line[i] + best) & 0xFF
        colours.update((line[i], line[i + 1], line[i + 2]) for i in range(0, stride, channels * 8))
        previous = line
    return width, height, colours


def test_the_page_is_painted_in_colour_and_saved_as_an_artifact(page: Path) -> None:
    shot = Path(os.environ.get("SCREENSHOT_OUT") or REPO / "artifacts" / "certificate.png")
    shot.parent.mkdir(parents=True, exist_ok=True)
    chromium(page, "--window-size=1400,1800", f"--screenshot={shot}")
    width, height, colours = _pixels(shot.read_bytes())
    assert (width, height) == (1400, 1800)
    assert (0xF8, 0xC9, 0xC4) in colours  # the failure banner and card
    assert (0xD4, 0xF4, 0xDD) in colours  # passing cells
