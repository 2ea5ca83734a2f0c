"""Third hostile campaign, the file and command side: every probe goes through the real CLI with
real files (and a loopback server where a server speaks), and ends as a careful user expects:
exit 0 with nothing secret written, or one line and exit 2; nothing written outside the target
folder; nothing on the terminal that acts instead of showing."""

from __future__ import annotations

import base64
import json
import os
import shlex
import zlib
from pathlib import Path
from typing import Any

import pytest
import yaml
from test_hostile_files import SSE, URI, cli
from test_hostile_reports import ACTING, hostile

from contracts import importer
from contracts.replica import ReplicaServer
from providers.vendors import VENDOR_DIRS_ENV

ANTHROPIC_KEY = "sk-ant-api03-" + "K4" * 40


def refused(result: tuple[int, str, str], why: str = "") -> None:
    code, _, err = result
    assert code == 2, err
    assert len(err.strip().splitlines()) == 1, err
    assert why in err, err
    assert "Traceback" not in err


def files(root: Path) -> set[Path]:
    return {path for path in root.rglob("*") if path.is_file() or path.is_symlink()}


def vcr(
    body: Any,
    *,
    uri: str = URI,
    headers: dict[str, list[str]] | None = None,
    status: int = 200,
) -> dict[str, Any]:
    return {
        "interactions": [
            {
                "request": {"method": "POST", "uri": uri, "body": "{}"},
                "response": {
                    "status": {"code": status, "message": "OK"},
                    "headers": headers or {"content-type": ["text/event-stream"]},
                    "body": body,
                },
            }
        ]
    }


def imported(
    document: dict[str, Any], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> tuple[tuple[int, str, str], str]:
    """Import the document; the result and the text of everything written."""
    source = tmp_path / "recording.yaml"
    source.write_text(yaml.safe_dump(document), encoding="utf-8")
    root = tmp_path / "out"
    result = cli(["import", "--vendor", "openai", "--cassettes", str(root), str(source)], capsys)
    written = (
        "".join(path.read_text(encoding="utf-8") for path in files(root)) if root.exists() else ""
    )
    return result, written


# -- secrets outside the auth header --------------------------------------------------------------


def test_a_key_shaped_request_id_is_not_kept(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    headers = {"content-type": ["text/event-stream"], "x-request-id": [ANTHROPIC_KEY]}
    (code, out, err), text = imported(vcr(SSE, headers=headers), tmp_path, capsys)
    assert code == 0, err
    assert ANTHROPIC_KEY not in text + out + err


def test_a_key_in_the_answers_model_field_is_not_kept_in_meta(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    body = SSE.replace('"gpt-4o"', json.dumps(ANTHROPIC_KEY))
    (code, _, err), text = imported(vcr(body), tmp_path, capsys)
    assert code == 0, err
    assert ANTHROPIC_KEY not in text


@pytest.mark.parametrize(
    ("where", "secret"),
    [
        ("?subscription-key={}", "0123456789abcdef0123456789abcdef"),
        ("?x-goog-api-key={}", "AIzaShort0123"),
        ("#access_token={}", "frag-t0ken-v4lue"),
        ("?apiKey={}&x=1", "camelC4seValue"),
    ],
    ids=["azure-subscription", "goog-header-as-query", "fragment", "camel-case"],
)
def test_credential_query_parameters_of_any_spelling_are_dropped(
    where: str, secret: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (code, _, err), text = imported(vcr(SSE, uri=URI + where.format(secret)), tmp_path, capsys)
    assert code == 0, err
    assert secret not in text
    assert "api.openai.com/v1/chat/completions" in text


@pytest.mark.parametrize(
    ("echo", "secret"),
    [
        ("Authorization: Basic {}", "dXNlcjpzM2NyM3QtcGFzc3dvcmQtdmFsdWU="),
        ("authorization: Token {}", "s3cr3tT0kenValue0123456789"),
        ("Cookie: sessionid={}", "s3ss10nCookieValue0123456789"),
        ("set-cookie: __Secure-token={}; Path=/", "c00kieValue0123456789abcd"),
    ],
    ids=["basic", "token-scheme", "cookie", "set-cookie"],
)
def test_credentials_a_server_echoes_in_an_error_are_dropped(
    echo: str, secret: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    echo = echo.format(secret)
    body = json.dumps({"error": {"message": f"rejected: {echo}", "type": "auth"}})
    document = vcr(body, headers={"content-type": ["application/json"]}, status=401)
    (code, _, err), text = imported(document, tmp_path, capsys)
    assert code == 0, err
    assert secret not in text, secret


def test_a_key_in_a_base_url_query_is_not_in_the_refusal(
    capsys: pytest.CaptureFixture[str],
) -> None:
    secret = "qu3ryK3yValue0123456789"
    url = f"http://127.0.0.1:9/v1?key={secret}"
    code, out, err = cli(["certify", "--base-url", url, "--model", "m", "--no-key"], capsys)
    assert code == 2
    assert secret not in out + err


# -- bombs -----------------------------------------------------------------------------------------


def test_a_file_of_countless_tiny_interactions_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(importer, "MAX_INTERACTIONS", 50)
    document = vcr(SSE)
    document["interactions"] *= 51
    (result, _) = imported(document, tmp_path, capsys)
    refused(result, "more than 50 interactions")
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("encoding", ["deflate", "br", "zstd"])
def test_bodies_in_other_encodings_are_refused_not_guessed(
    encoding: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    raw = zlib.compress(SSE.encode() * 100) if encoding == "deflate" else os.urandom(300)
    headers = {"content-type": ["text/event-stream"], "content-encoding": [encoding]}
    document = vcr({"base64_string": base64.b64encode(raw).decode()}, headers=headers)
    (result, _) = imported(document, tmp_path, capsys)
    refused(result)


SELF_REFERRING = "interactions: &loop\n- request: {body: *loop}\n  response: {body: *loop}\n"


def test_a_recording_that_refers_to_itself_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = tmp_path / "loop.yaml"
    source.write_text(SELF_REFERRING, encoding="utf-8")
    result = cli(
        ["import", "--vendor", "openai", "--cassettes", str(tmp_path / "c"), str(source)], capsys
    )
    refused(result)


def test_a_cassette_that_refers_to_itself_is_a_cassette_problem(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = tmp_path / "c" / "openai"
    folder.mkdir(parents=True)
    (folder / "text_basic.yaml").write_text(SELF_REFERRING + "version: 1\n", encoding="utf-8")
    code, _, err = cli(
        ["certify", "--vendor", "openai", "--cassettes", str(tmp_path / "c")], capsys
    )
    assert code == 2
    assert "text_basic.yaml" in err
    assert "Traceback" not in err


@pytest.mark.parametrize("kind", ["device", "fifo"])
def test_a_cassette_that_is_no_regular_file_is_refused_unread(
    kind: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = tmp_path / "c" / "openai"
    folder.mkdir(parents=True)
    cassette = folder / "text_basic.yaml"
    if kind == "device":
        cassette.symlink_to("/dev/zero")
    else:
        os.mkfifo(cassette)
    code, _, err = cli(
        ["certify", "--vendor", "openai", "--cassettes", str(tmp_path / "c")], capsys
    )
    assert code == 2, "refused, never read (a read would not end)"
    assert "text_basic" in err


@pytest.mark.parametrize("kind", ["device", "fifo", "directory"])
def test_a_baseline_that_is_no_regular_file_is_refused_unread(
    kind: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    baseline = tmp_path / "baseline.json"
    if kind == "device":
        baseline.symlink_to("/dev/zero")
    elif kind == "fifo":
        os.mkfifo(baseline)
    else:
        baseline.mkdir()
    result = cli(["gate", "--baseline", str(baseline), "--current", str(baseline)], capsys)
    refused(result, "not a regular file")


# -- names that become paths -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "argv",
    [
        ["import", "--vendor", "openai", "--cassettes", "c\x00d", "FILE"],
        ["certify", "--vendor", "openai", "--cassettes", "c\x00d"],
        ["certify", "--vendor", "openai", "--out", "cert\x00.md"],
        ["certify", "--vendor", "openai", "--vendors-dir", "v\x00"],
        ["gate", "--baseline", "b\x00.json", "--current", "b\x00.json"],
        ["new-vendor", "acme", "--base-url", "http://a", "--model", "m", "--vendors-dir", "v\x00"],
    ],
    ids=["import-cassettes", "certify-cassettes", "out", "vendors-dir", "baseline", "new-vendor"],
)
def test_a_nul_byte_in_a_path_is_one_line_and_exit_2(
    argv: list[str],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.chdir(tmp_path)
    source = tmp_path / "s.sse"
    source.write_text(SSE, encoding="utf-8")
    result = cli([str(source) if arg == "FILE" else arg for arg in argv], capsys)
    refused(result)
    assert files(tmp_path) == {source}


@pytest.mark.parametrize("where", ["directory", "below-a-file"])
def test_an_out_path_that_cannot_be_a_file_is_one_line_and_exit_2(
    where: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    blocker = tmp_path / "x.md"
    if where == "directory":
        blocker.mkdir()
        out = blocker
    else:
        blocker.write_text("mine", encoding="utf-8")
        out = blocker / "cert.md"
    result = cli(["certify", "--vendor", "openai", "--out", str(out)], capsys)
    refused(result, str(out))


def test_an_out_path_that_is_a_symlink_replaces_the_link_not_its_target(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    victim = tmp_path / "victim.txt"
    victim.write_text("precious", encoding="utf-8")
    out = tmp_path / "cert.json"
    out.symlink_to(victim)
    code, _, err = cli(["certify", "--vendor", "openai", "--out", str(out)], capsys)
    assert code == 0, err
    assert victim.read_text(encoding="utf-8") == "precious"
    assert json.loads(out.read_text(encoding="utf-8"))["vendors"]


#: Fullwidth o, Cyrillic o, capitals, a zero-width space: each looks like `openai`.
@pytest.mark.parametrize("vendor", ["\uff4fpenai", "\u043epenai", "OPENAI", "open\u200bai"])
@pytest.mark.parametrize("command", ["import", "certify", "new-vendor"])
def test_lookalike_vendor_names_are_refused(
    vendor: str, command: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = tmp_path / "s.sse"
    source.write_text(SSE, encoding="utf-8")
    argv = {
        "import": ["import", "--vendor", vendor, "--cassettes", str(tmp_path / "c"), str(source)],
        "certify": ["certify", "--vendor", vendor],
        "new-vendor": ["new-vendor", vendor, "--base-url", "http://a", "--model", "m",
                       "--vendors-dir", str(tmp_path / "v")],
    }[command]  # fmt: skip
    refused(cli(argv, capsys))
    assert files(tmp_path) == {source}


def test_record_refuses_a_vendor_folder_that_is_a_symlink_outside(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    outside, root = tmp_path / "outside", tmp_path / "c"
    outside.mkdir()
    root.mkdir()
    (root / "openai").symlink_to(outside)
    argv = ["record", "--vendor", "openai", "--replica", "--scenario", "text_basic"]
    result = cli([*argv, "--cassettes", str(root)], capsys)
    assert result[0] == 2, result
    assert "outside" in result[2]
    assert not list(outside.iterdir())


# -- what is printed -------------------------------------------------------------------------------


@pytest.mark.parametrize("variable", ["X; rm -rf ~", "KEY\x1b]0;pwned\x07", "A B", "1ABC", "$(id)"])
def test_new_vendor_refuses_a_key_variable_no_shell_can_name(
    variable: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["new-vendor", "acme", "--base-url", "http://127.0.0.1:9/v1", "--model", "m"]
    result = cli([*argv, "--api-key-env", variable, "--vendors-dir", str(tmp_path / "v")], capsys)
    refused(result, "--api-key-env")
    assert not ACTING.search(result[2])
    assert not (tmp_path / "v").exists()


def test_new_vendor_suggests_a_command_a_shell_reads_back_and_prints_nothing_acting(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    vendors = tmp_path / "my vendors; echo \x1b[2J"
    argv = ["new-vendor", "acme", "--base-url", "http://127.0.0.1:9/v1", "--model", "m"]
    code, out, err = cli([*argv, "--vendors-dir", str(vendors)], capsys)
    assert code == 0, err
    assert not ACTING.search(out)
    (suggested,) = [line for line in out.splitlines() if "llm-contracts certify" in line]
    assert shlex.split(suggested)[-1] == str(vendors).replace("\x1b", "\\x1b")


def test_the_name_of_a_written_report_is_printed_inert(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out_path = tmp_path / "cert\x1b[2J\u202e.json"
    code, out, err = cli(["certify", "--vendor", "openai", "--out", str(out_path)], capsys)
    assert code == 0, err
    assert out_path.is_file()
    assert not ACTING.search(out + err)


def test_a_json_certificate_on_the_terminal_never_acts(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    with ReplicaServer(hostile) as server:
        argv = ["certify", "--base-url", server.base_url, "--model", "m", "--no-key"]
        code, out, err = cli([*argv, "--format", "json", "--case-timeout", "10"], capsys)
    assert code in (0, 1), err
    assert "pwned" in out
    assert not ACTING.search(out + err)
    assert "\u202egnp" in json.dumps(json.loads(out), ensure_ascii=False), "the JSON keeps it"


# -- bad values ----------------------------------------------------------------------------------


@pytest.mark.parametrize("value", ["0", "-1", "1.5", "1e3", "", "0x10", "١٢"])
def test_max_recorded_bytes_must_be_a_positive_whole_number(
    value: str, capsys: pytest.CaptureFixture[str]
) -> None:
    refused(cli(["record", "--vendor", "openai", "--max-recorded-bytes", value], capsys))


@pytest.mark.parametrize("kind", ["file", "nul"])
def test_a_vendor_dirs_variable_that_names_no_folder_is_one_line(
    kind: str, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    plain = tmp_path / "plain.txt"
    plain.write_text("x", encoding="utf-8")
    monkeypatch.setenv(VENDOR_DIRS_ENV, str(plain) if kind == "file" else "v\x01\x7f")
    code, _, err = cli(["certify", "--vendor", "nosuchvendor"], capsys)
    refused((code, "", err), "nosuchvendor")


def test_a_har_of_countless_tiny_entries_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(importer, "MAX_INTERACTIONS", 50)
    entry = {
        "request": {"method": "POST", "url": URI, "postData": {"text": "{}"}},
        "response": {"status": 200, "headers": [], "content": {"text": SSE}},
    }
    source = tmp_path / "many.har"
    source.write_text(json.dumps({"log": {"entries": [entry] * 51}}), encoding="utf-8")
    result = cli(
        ["import", "--vendor", "openai", "--cassettes", str(tmp_path / "c"), str(source)], capsys
    )
    refused(result, "more than 50 interactions")
    assert not (tmp_path / "c").exists()


@pytest.mark.parametrize("name", ["..\\..\\evil.sse", "C:\\evil.sse", "con.sse", ".sse"])
def test_a_windows_style_or_empty_file_name_stays_inside_the_folder(
    name: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = tmp_path / "in" / name
    source.parent.mkdir()
    source.write_text(SSE, encoding="utf-8")
    root = tmp_path / "c"
    code, _, err = cli(
        ["import", "--vendor", "openai", "--cassettes", str(root), str(source)], capsys
    )
    assert code == 0, err
    (written,) = files(root)
    assert written.parent == root / "openai" / "imported"
    assert "\\" not in written.name
    assert files(tmp_path) == {source, written}
