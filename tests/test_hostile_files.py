"""Hostile files and arguments through the real CLI: bombs, devices, path tricks, credentials
outside the auth header and malformed input each end in one line and exit 2, write nothing
outside the target folder and repeat no secret character."""

from __future__ import annotations

import base64
import gzip
import json
import os
from pathlib import Path
from typing import Any

import pytest
import yaml

from contracts import cassettes, importer
from contracts.cli import main
from contracts.recorder import recording_client
from contracts.replica import ReplicaServer, ScriptedResponse
from providers import InvalidRequestError, OpenAiCompatibleProvider

CHUNK = {"model": "gpt-4o", "choices": [{"index": 0, "delta": {"content": "hi"}}]}
FINISH = {"model": "gpt-4o", "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]}
SSE = "".join(f"data: {json.dumps(c)}\n\n" for c in (CHUNK, FINISH)) + "data: [DONE]\n\n"
URI = "https://api.openai.com/v1/chat/completions"
#: Credentials of several vendors and spellings; none may survive an import or a recording.
SECRETS = {
    "groq": "gsk_" + "G1" * 26,
    "xai": "xai-" + "X9" * 40,
    "anthropic": "sk-ant-api03-" + "A7" * 40,
    "google": "AIza" + "Sy" * 17 + "Q",
    "query": "qs3cr3tv4lu3",
    "token": "t0k3nv4lu3",
    "password": "pw-hunter2",
    "field": "f13ld-s3cr3t",
    "nested": "n3st3d-s3cr3t",
}


def cli(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    try:
        code = main(argv)
    except SystemExit as exit_:
        code = int(exit_.code or 0)
    out, err = capsys.readouterr()
    return code, out, err


def _refused(result: tuple[int, str, str], why: str) -> None:
    code, _, err = result
    assert code == 2
    assert len(err.strip().splitlines()) == 1, err
    assert why in err


def _vcr(body: Any, *, uri: str = URI, request: dict[str, Any] | None = None) -> dict[str, Any]:
    return {
        "interactions": [
            {
                "request": {"method": "POST", "uri": uri, "body": json.dumps(request or {})},
                "response": {
                    "status": {"code": 200, "message": "OK"},
                    "headers": {"content-type": ["text/event-stream"]},
                    "body": body,
                },
            }
        ]
    }


def _files(root: Path) -> set[Path]:
    return {path for path in root.rglob("*") if path.is_file()}


# -- secrets outside Authorization ----------------------------------------------------------------


def test_an_import_keeps_no_credential_in_urls_keys_or_fields(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    uri = (
        f"https://user:{SECRETS['password']}@api.example.com/v1/chat/completions"
        f"?key={SECRETS['query']}&access_token={SECRETS['token']}"
    )
    request = {
        "model": "gpt-4o",
        "api_key": SECRETS["field"],
        "metadata": {"deep": [{"client_secret": SECRETS["nested"]}]},
        "messages": [{"role": "user", "content": f"keys {SECRETS['groq']} {SECRETS['xai']}"}],
    }
    body = SSE.replace('"hi"', json.dumps(f"{SECRETS['anthropic']} {SECRETS['google']}"))
    source = tmp_path / "leaky.yaml"
    source.write_text(yaml.safe_dump(_vcr(body, uri=uri, request=request)), encoding="utf-8")
    code, out, err = cli(
        ["import", "--vendor", "openai", "--cassettes", str(tmp_path / "out"), str(source)],
        capsys,
    )
    assert code == 0, err
    (written,) = _files(tmp_path / "out")
    text = written.read_text(encoding="utf-8")
    for name, secret in SECRETS.items():
        assert secret not in text + out + err, name
    assert "api.example.com/v1/chat/completions" in text, "the URL stays readable"


def test_a_refused_import_does_not_repeat_the_key(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = tmp_path / "broken.yaml"
    source.write_text(
        f"interactions:\n- request: {{uri: x, headers: {{authorization: {SECRETS['xai']}\n",
        encoding="utf-8",
    )
    result = cli(["import", "--vendor", "openai", "--format", "vcr", str(source)], capsys)
    _refused(result, "not a readable vcr recording")
    assert SECRETS["xai"] not in result[1] + result[2]


async def test_a_recording_keeps_no_key_sent_as_a_query_parameter(tmp_path: Path) -> None:
    def answer(_: object) -> ScriptedResponse:
        return ScriptedResponse.json({"ok": True, "echo": f"?key={SECRETS['query']}"})

    path = tmp_path / "c.yaml"
    with ReplicaServer(answer) as server, cassettes.recording(path, {"source": "live"}, []):
        url = f"{server.base_url}/chat/completions?key={SECRETS['query']}&x=1"
        async with recording_client() as client:
            await client.post(url, json={"api_key": SECRETS["field"]})
    text = path.read_text(encoding="utf-8")
    assert SECRETS["query"] not in text
    assert SECRETS["field"] not in text
    assert "x=1" in text


@pytest.mark.parametrize("command", ["record", "certify"])
def test_a_base_url_with_a_password_is_refused_without_repeating_it(
    command: str, capsys: pytest.CaptureFixture[str]
) -> None:
    url = f"http://user:{SECRETS['password']}@127.0.0.1:9/v1"
    result = cli([command, "--vendor", "openai", "--base-url", url], capsys)
    _refused(result, "user name or password")
    assert SECRETS["password"] not in result[2]


def test_the_provider_refuses_a_base_url_with_a_password() -> None:
    url = f"https://user:{SECRETS['password']}@api.openai.com/v1"
    with pytest.raises(InvalidRequestError) as refused:
        OpenAiCompatibleProvider.from_vendor("openai", api_key="sk-x" * 5, base_url=url)
    assert SECRETS["password"] not in str(refused.value)
    assert "user name or password" in str(refused.value)


# -- bombs and files that are not files ----------------------------------------------------------


def _alias_bomb(levels: int = 9) -> str:
    lines = ["a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]"]
    for level in range(1, levels + 1):
        refs = ", ".join([f"*a{level - 1}"] * 9)
        lines.append(f"a{level}: &a{level} [{refs}]")
    lines.append(f"interactions: [{{request: {{body: {{parsed_body: *a{levels}}}}}}}]")
    return "\n".join(lines) + "\n"


def test_an_alias_bomb_is_refused_before_it_expands(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = tmp_path / "bomb.yaml"
    source.write_text(_alias_bomb(), encoding="utf-8")
    assert source.stat().st_size < 600
    result = cli(
        ["import", "--vendor", "openai", "--cassettes", str(tmp_path / "c"), str(source)], capsys
    )
    _refused(result, "alias")
    assert not (tmp_path / "c").exists()


def test_a_cassette_that_is_an_alias_bomb_is_a_cassette_problem(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = tmp_path / "c" / "openai"
    folder.mkdir(parents=True)
    (folder / "text_basic.yaml").write_text(_alias_bomb() + "version: 1\n", encoding="utf-8")
    code, _, err = cli(
        ["certify", "--vendor", "openai", "--cassettes", str(tmp_path / "c")], capsys
    )
    assert code == 2
    assert "text_basic.yaml: not valid YAML: its aliases expand" in err


def test_gzip_bodies_stop_at_the_decompressed_bound(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(importer, "MAX_DECOMPRESSED_BYTES", 1024 * 1024)
    # Each body alone fits; together they do not.
    body = gzip.compress(b" " * (600 * 1024))
    document = _vcr({"base64_string": base64.b64encode(body).decode()})
    document["interactions"] *= 2
    source = tmp_path / "zip.yaml"
    source.write_text(yaml.safe_dump(document), encoding="utf-8")
    result = cli(
        ["import", "--vendor", "openai", "--cassettes", str(tmp_path / "c"), str(source)], capsys
    )
    _refused(result, "decompress to more than 1048576 bytes")
    assert not (tmp_path / "c").exists()


@pytest.mark.parametrize("kind", ["device", "fifo", "directory", "too-large"])
def test_only_regular_files_of_bounded_size_are_read(
    kind: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    source = tmp_path / "recording.yaml"
    if kind == "device":
        source.symlink_to("/dev/zero")
    elif kind == "fifo":
        os.mkfifo(source)
    elif kind == "directory":
        source.mkdir()
    else:
        monkeypatch.setattr(importer, "MAX_FILE_BYTES", 1000)
        source.write_text(SSE * 20, encoding="utf-8")
    result = cli(
        ["import", "--vendor", "openai", "--cassettes", str(tmp_path / "c"), str(source)], capsys
    )
    _refused(result, "larger than 1000 bytes" if kind == "too-large" else "not a regular file")


# -- names that become paths ---------------------------------------------------------------------


@pytest.mark.parametrize("prefix", ["../..", "/tmp/abs", "a/b", "..", "x\x00"])
def test_an_import_prefix_cannot_leave_the_folder(
    prefix: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = tmp_path / "s.sse"
    source.write_text(SSE, encoding="utf-8")
    before = _files(tmp_path)
    root = tmp_path / "deep" / "c"
    result = cli(
        ["import", "--vendor", "openai", "--cassettes", str(root), "--prefix", prefix, str(source)],
        capsys,
    )
    _refused(result, "prefix")
    assert _files(tmp_path) == before


def test_an_imported_folder_that_is_a_symlink_outside_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source, outside, root = tmp_path / "s.sse", tmp_path / "outside", tmp_path / "c"
    source.write_text(SSE, encoding="utf-8")
    outside.mkdir()
    (root / "openai").mkdir(parents=True)
    (root / "openai" / "imported").symlink_to(outside)
    result = cli(["import", "--vendor", "openai", "--cassettes", str(root), str(source)], capsys)
    _refused(result, "leads outside")
    assert not list(outside.iterdir())


@pytest.mark.parametrize("names", [("x.sse", "x.sse"), ("X.sse", "x.sse")])
def test_two_files_of_the_same_name_do_not_overwrite_each_other(
    names: tuple[str, str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Names differing only in case clash too (a case-insensitive file system, and slugs)."""
    first, second = tmp_path / "a" / names[0], tmp_path / "b" / names[1]
    for path in (first, second):
        path.parent.mkdir()
        path.write_text(SSE.replace("hi", path.parent.name), encoding="utf-8")
    root = tmp_path / "c"
    code, _out, err = cli(
        ["import", "--vendor", "openai", "--cassettes", str(root), str(first), str(second)], capsys
    )
    assert code == 2
    assert "would replace" in err
    (kept,) = _files(root)
    assert '"a"' in kept.read_text(encoding="utf-8")


def test_a_finish_value_cannot_name_a_path(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    vendors = tmp_path / "v"
    (vendors / "contracts").mkdir(parents=True)
    (vendors / "evil.toml").write_text(
        'name = "evil"\nbase_url = "https://evil.invalid/v1"\ndefault_model = "m"\n',
        encoding="utf-8",
    )
    (vendors / "contracts" / "evil.toml").write_text(
        'name = "evil"\nfinish_values = ["../../x", "stop"]\n', encoding="utf-8"
    )
    before = _files(tmp_path)
    root = tmp_path / "deep" / "c"
    argv = ["record", "--vendor", "evil", "--replica", "--vendors-dir", str(vendors)]
    result = cli([*argv, "--cassettes", str(root)], capsys)
    _refused(result, "finish_values")
    assert _files(tmp_path) == before


def test_new_vendor_never_writes_through_a_planted_draft(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    victim = tmp_path / "victim.txt"
    victim.write_text("precious", encoding="utf-8")
    vendors = tmp_path / "v"
    (vendors / "contracts").mkdir(parents=True)
    for folder in (vendors, vendors / "contracts"):
        (folder / ".planted.toml.draft").symlink_to(victim)
    argv = ["new-vendor", "planted", "--base-url", "http://127.0.0.1:9/v1", "--model", "m"]
    code, _, err = cli([*argv, "--vendors-dir", str(vendors)], capsys)
    assert code == 0, err
    assert victim.read_text(encoding="utf-8") == "precious"
    assert 'name = "planted"' in (vendors / "planted.toml").read_text(encoding="utf-8")


# -- tracebacks become refusals ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "text", "why"),
    [
        ("deep.json", "[" * 100_000, "not a recording"),
        ("deep.har", '{"log": {"entries": ' + "[" * 100_000, "not a readable"),
        ("inf.yaml", yaml.safe_dump(_vcr(SSE)).replace("code: 200", "code: .inf"), "status"),
        ("600.yaml", yaml.safe_dump(_vcr(SSE)).replace("code: 200", "code: 600"), "status"),
        ("uri.yaml", yaml.safe_dump(_vcr(SSE, uri="x")).replace("uri: x", "uri: [1]"), "URL"),
        ("empty.yaml", "interactions: []\n", "nothing to import"),
        ("latin.yaml", "interactions: caf\xe9", "not UTF-8"),
    ],
)
def test_a_malformed_recording_is_one_line_and_exit_2(
    name: str, text: str, why: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = tmp_path / name
    if name == "latin.yaml":
        source.write_bytes(text.encode("latin-1"))
    else:
        source.write_text(text, encoding="utf-8")
    fmt = ["--format", "har"] if name.endswith(".har") else []
    result = cli(
        ["import", "--vendor", "openai", "--cassettes", str(tmp_path / "c"), *fmt, str(source)],
        capsys,
    )
    _refused(result, why)


@pytest.mark.parametrize(
    ("edit", "why"),
    [
        (lambda text: text.replace("code: 200", "code: .inf"), "status code"),
        (lambda text: text.replace("code: 200", "code: 600"), "status code"),
        (lambda text: text.replace("uri: http", "uri: [1]\n    was: http"), "uri and method"),
        (lambda text: "[" * 100_000, "not valid YAML"),
        (lambda text: "meta: {}\ninteractions: 5\nversion: 1\n", "not a list"),
    ],
)
def test_a_malformed_cassette_is_a_cassette_problem(
    edit: Any, why: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bundled = Path("cassettes/openai/text_basic.yaml")
    folder = tmp_path / "c" / "openai"
    folder.mkdir(parents=True)
    (folder / "text_basic.yaml").write_text(
        edit(bundled.read_text(encoding="utf-8")), encoding="utf-8"
    )
    code, _, err = cli(
        ["certify", "--vendor", "openai", "--cassettes", str(tmp_path / "c")], capsys
    )
    assert code == 2
    assert f"text_basic.yaml: {why}" in err or why in err


def test_a_malformed_imported_cassette_is_refused_in_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = tmp_path / "c" / "openai" / "imported"
    folder.mkdir(parents=True)
    (folder / "x.yaml").write_bytes(b"meta: \xff\n")
    result = cli(["certify", "--vendor", "openai", "--cassettes", str(tmp_path / "c")], capsys)
    _refused(result, "not UTF-8")


@pytest.mark.parametrize(
    ("argv", "why"),
    [
        (["certify", "--case-timeout", "0"], "positive number"),
        (["certify", "--case-timeout", "-1"], "positive number"),
        (["certify", "--case-timeout", "nan"], "positive number"),
        (["certify", "--replica", "--live"], "not allowed"),
        (
            ["certify", "--replica", "--base-url", "http://127.0.0.1:9/v1", "--model", "m"],
            "choose one",
        ),
        (["certify", "--base-url", "notaurl", "--model", "m"], "http:// or https://"),
        (["new-vendor", "x\udcff", "--base-url", "http://a", "--model", "m"], "not valid UTF-8"),
        (["new-vendor", "x", "--base-url", "http://a", "--model", "m\udcff"], "not valid UTF-8"),
    ],
)
def test_bad_arguments_are_one_line_and_exit_2(
    argv: list[str], why: str, capsys: pytest.CaptureFixture[str]
) -> None:
    _refused(cli(argv, capsys), why)


def test_a_baseline_that_is_not_json_says_so(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    baseline = tmp_path / "b.json"
    baseline.write_text("nope", encoding="utf-8")
    result = cli(["gate", "--baseline", str(baseline), "--current", str(baseline)], capsys)
    _refused(result, "(the whole file: Invalid JSON")


def test_a_deeply_nested_profile_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    vendors = tmp_path / "v"
    vendors.mkdir()
    (vendors / "deep.toml").write_text("x = " + "[" * 100_000, encoding="utf-8")
    result = cli(
        ["certify", "--vendor", "deep", "--replica", "--vendors-dir", str(vendors)], capsys
    )
    _refused(result, "deep.toml")
