"""A server or a file that controls text we print cannot act through it: no terminal escape
sequence reaches the terminal, no newline forges a table row, no Markdown heading, fence or
HTML reaches a rendered certificate. Driven through the real CLI against a loopback server."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from contracts.cli import main
from contracts.escaping import markdown, markdown_block, markdown_code, terminal
from contracts.replica import RecordedRequest, ReplicaServer, ScriptedResponse

#: Escape sequences of several kinds (OSC title, CSI clear screen, a C1 CSI, bidi override,
#: line separator), a forged table row, a heading, a fence and HTML, in one string.
EVIL = (
    "\x1b]0;pwned\x07\x1b[2J\x9b31m\u202egnp.exe\u2028| forged | row |\n"
    "# heading\n```\n<script>alert(1)</script>[link](http://x)\r"
)
KEY_ENV = "HOSTILE_REPORT_KEY"
ACTING = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")


def hostile(request: RecordedRequest) -> ScriptedResponse:
    """Streams answer with the evil text as model and finish value; others fail with it."""
    if request.body and request.json().get("stream"):
        chunks = [
            {"model": EVIL, "choices": [{"index": 0, "delta": {"content": "hi"}}]},
            {"model": EVIL, "choices": [{"index": 0, "delta": {}, "finish_reason": EVIL}]},
        ]
        body = b"".join(b"data: %s\n\n" % json.dumps(c).encode() for c in chunks)
        return ScriptedResponse.sse(body + b"data: [DONE]\n\n")
    return ScriptedResponse.json({"error": {"message": EVIL, "type": "invalid_request"}}, 400)


@pytest.fixture(scope="module")
def server() -> Iterator[ReplicaServer]:
    with ReplicaServer(hostile) as running:
        yield running


def _certify(
    server: ReplicaServer, fmt: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, *more: str
) -> int:
    monkeypatch.setenv(KEY_ENV, "sk-hostile-report-key-0123456789")
    monkeypatch.chdir(tmp_path)
    argv = ["certify", "--base-url", server.base_url, "--model", "m", "--api-key-env", KEY_ENV]
    return main([*argv, "--format", fmt, "--case-timeout", "10", *more])


def test_the_terminal_table_shows_vendor_text_and_never_acts(
    server: ReplicaServer,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    _certify(server, "markdown", tmp_path, monkeypatch, "--out", str(tmp_path / "cert.md"))
    out, err = capsys.readouterr()
    assert "pwned" in out, "the vendor's text is shown, escaped"
    assert not ACTING.search(out + err)
    assert not any(line.startswith(("| forged", "# heading")) for line in out.splitlines())
    markdown_copy = (tmp_path / "cert.md").read_text(encoding="utf-8")
    _assert_inert_markdown(markdown_copy)


def _outside_fences(lines: list[str]) -> list[str]:
    """The lines Markdown renders as Markdown: code blocks show their content literally."""
    outside, fence = [], ""
    for line in lines:
        if fence:
            fence = "" if line == fence else fence
        elif line.startswith("```"):
            fence = line
        else:
            outside.append(line)
    return outside


def _active(text: str) -> str:
    """What Markdown may act on: `text` without backslash-escaped characters and without
    code spans (a run of backticks up to the next run of the same length), as CommonMark
    reads them."""
    kept, at = [], 0
    while at < len(text):
        if text[at] == "\\":
            at += 2
        elif text[at] == "`":
            run = re.match(r"`+", text[at:])
            assert run is not None
            opener = run.group(0)
            closer = re.compile(rf"(?<!`){opener}(?!`)").search(text, at + len(opener))
            at = closer.end() if closer else at + len(opener)
        else:
            kept.append(text[at])
            at += 1
    return "".join(kept)


def _assert_inert_markdown(text: str) -> None:
    assert "pwned" in text
    assert not ACTING.search(text)
    lines = text.splitlines()
    rendered = _active("\n".join(_outside_fences(lines)))
    assert "<script>" not in rendered
    assert "](" not in rendered
    assert not [line for line in lines if line.startswith("#") and "heading" in line]
    # Every table row has exactly as many unescaped pipes as the header.
    rows = [line for line in lines if line.startswith("| ")]
    assert {len(re.findall(r"(?<!\\)\|", row)) for row in rows} == {3}
    # Fences come in pairs of the same length: the vendor's ``` never closes ours.
    fences = [line for line in lines if line.startswith("```")]
    assert len(fences) % 2 == 0
    assert all(a == b for a, b in zip(fences[::2], fences[1::2], strict=True))


def test_the_markdown_certificate_shows_vendor_text_and_never_acts(
    server: ReplicaServer,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    _certify(server, "markdown", tmp_path, monkeypatch)
    out, err = capsys.readouterr()
    _assert_inert_markdown(out)
    assert not ACTING.search(err)


def _certificate(vendor: str, clause: str, verdict: str) -> dict[str, object]:
    return {
        "mode": "replay",
        "vendors": [
            {
                "vendor": vendor,
                "model": "m",
                "base_url_host": "h",
                "clauses": {clause: {"verdict": verdict, "level": "must"}},
            }
        ],
    }


@pytest.mark.parametrize("fmt", ["table", "markdown"])
def test_the_gate_shows_names_from_certificate_files_and_never_acts(
    fmt: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    baseline, current = tmp_path / "baseline.json", tmp_path / "current.json"
    baseline.write_text(json.dumps(_certificate(EVIL, EVIL, "pass")), encoding="utf-8")
    current.write_text(json.dumps(_certificate(EVIL, EVIL, "fail")), encoding="utf-8")
    code = main(["gate", "--baseline", str(baseline), "--current", str(current), "--format", fmt])
    out = capsys.readouterr().out
    assert code == 1
    assert "pwned" in out
    assert not ACTING.search(out)
    assert fmt == "table" or "<script>" not in _active("\n".join(out.splitlines()))
    assert len(out.splitlines()) == 3 + (fmt == "markdown")


def test_an_error_line_naming_a_hostile_path_is_one_inert_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    missing = tmp_path / "x\x1b[2J\nforged: line"
    with pytest.raises(SystemExit) as exit_:
        main(["gate", "--baseline", str(missing), "--current", str(missing)])
    err = capsys.readouterr().err
    assert exit_.value.code == 2
    assert len(err.splitlines()) == 1
    assert not ACTING.search(err)


@pytest.mark.parametrize("text", [EVIL, "plain", "`", "``a``", "a|b", "", " "])
def test_each_escape_keeps_its_medium_inert(text: str) -> None:
    assert not ACTING.search(terminal(text))
    assert "\n" not in terminal(text)
    assert "\n" not in markdown(text)
    assert "<" not in markdown(text)
    span = markdown_code(text)
    run = len(span) - len(span.lstrip("`"))
    assert "`" * run not in span[run:-run]
    assert not re.search(r"(?<!\\)\|", span)
    block = markdown_block(text.split("\n"))
    assert block[0] == block[-1]
    assert all(block[0] not in line for line in block[1:-1])
