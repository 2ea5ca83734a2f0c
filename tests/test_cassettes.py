"""Cassette hygiene: readable, scrubbed, secret-free, strict on replay."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
import yaml
from pydantic import SecretStr

from contracts import cassettes
from contracts.cli import bundled_factory
from contracts.runner import CaseSetupError, run_case
from contracts.spec import cases_for, load_scenarios
from providers import load_profile

REPO = Path(__file__).resolve().parent.parent
CASSETTES = REPO / "cassettes"


def test_no_cassette_holds_anything_key_shaped() -> None:
    findings = cassettes.scan_for_secrets(CASSETTES)
    assert not findings, "\n".join(map(str, findings))


@pytest.mark.parametrize(
    "leak",
    [
        "sk-proj-abcdefghijklmnopqrstuv",
        "AIzaSyA1234567890abcdefghijklmnopqrstu",
        "Authorization: Bearer abcdefghijklmnopqrstuvwx",
        'api_key: "abcdefghijklmnop1234"',
    ],
)
def test_secret_scan_finds_key_shaped_text(tmp_path: Path, leak: str) -> None:
    (tmp_path / "v").mkdir()
    (tmp_path / "v" / "s.yaml").write_text(f"meta: {{}}\nnote: {leak}\n")
    assert len(cassettes.scan_for_secrets(tmp_path)) == 1


def test_every_bundled_vendor_and_scenario_has_a_cassette() -> None:
    for vendor in ("openai", "gemini", "mistral", "glm", "claude_subscription"):
        profile = load_profile(vendor)
        for scenario in load_scenarios():
            if scenario.replica_only or (
                scenario.requires and not getattr(profile.capabilities, scenario.requires)
            ):
                continue
            for case in cases_for(scenario, profile):
                path = cassettes.cassette_path(CASSETTES, vendor, case.id)
                assert path.is_file(), cassettes.record_command(vendor, case.id)


def test_cassettes_are_readable_and_say_where_they_came_from() -> None:
    document = yaml.safe_load((CASSETTES / "openai" / "text_basic.yaml").read_text())
    assert document["meta"]["source"] == "replica"
    assert {"recorded_at", "model", "sdk", "base_url_host"} <= document["meta"].keys()
    stream, complete = document["interactions"]
    assert stream["request"]["body"]["json"]["messages"][0]["role"] == "system"
    assert stream["response"]["body"]["sse"].startswith("data: {")
    assert complete["response"]["body"]["json"]["object"] == "chat.completion"
    assert set(stream["request"]["headers"]) <= {"content-type", "accept"}


def test_recording_scrubs_headers_and_key_values(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MISTRAL_API_KEY", "mistral-real-looking-key-123456")
    profile = load_profile("mistral")
    case = cases_for(next(s for s in load_scenarios() if s.id == "text_basic"), profile)[0]
    base = bundled_factory(profile)

    def factory(base_url: str, api_key: SecretStr):  # type: ignore[no-untyped-def]
        provider = base(base_url, api_key)
        provider._client = provider._client.with_options(
            default_headers={
                "OpenAI-Organization": "org-secret123",
                "cookie": "session=abc",
                "x-echo": "mistral-real-looking-key-123456",
            }
        )
        return provider

    asyncio.run(run_case(case, profile, factory, mode="record-replica", cassette_root=tmp_path))
    text = (tmp_path / "mistral" / "text_basic.yaml").read_text()
    for secret in (
        "sk-contract",
        "Bearer",
        "org-secret123",
        "session=abc",
        "x-stainless",
        "user-agent",
        "mistral-real-looking-key-123456",
    ):
        assert secret not in text


def test_missing_cassette_names_the_command_that_records_it(tmp_path: Path) -> None:
    profile = load_profile("glm")
    case = cases_for(next(s for s in load_scenarios() if s.id == "text_basic"), profile)[0]
    with pytest.raises(CaseSetupError, match=r"llm-contracts record --vendor glm --scenario"):
        asyncio.run(
            run_case(case, profile, bundled_factory(profile), mode="replay", cassette_root=tmp_path)
        )


def test_changed_request_leaves_interactions_unplayed_and_fails(tmp_path: Path) -> None:
    profile = load_profile("openai")
    case = cases_for(next(s for s in load_scenarios() if s.id == "text_basic"), profile)[0]
    target = tmp_path / "openai" / "text_basic.yaml"
    target.parent.mkdir()
    text = (CASSETTES / "openai" / "text_basic.yaml").read_text()
    target.write_text(text.replace("Say hello to the world.", "Say goodbye."))
    with pytest.raises(CaseSetupError, match="never played"):
        asyncio.run(
            run_case(case, profile, bundled_factory(profile), mode="replay", cassette_root=tmp_path)
        )


def _record_text_basic(root: Path) -> Path:
    profile = load_profile("mistral")
    case = cases_for(next(s for s in load_scenarios() if s.id == "text_basic"), profile)[0]
    factory = bundled_factory(profile)
    asyncio.run(run_case(case, profile, factory, mode="record-replica", cassette_root=root))
    return cassettes.cassette_path(root, "mistral", "text_basic")


def _dated_long_ago(path: Path) -> str:
    meta = cassettes.read_meta(path)
    text = path.read_text(encoding="utf-8").replace(
        meta["recorded_at"], "2020-01-01T00:00:00+00:00"
    )
    path.write_text(text, encoding="utf-8")
    return text


def test_re_recording_unchanged_traffic_leaves_the_cassette_byte_for_byte(tmp_path: Path) -> None:
    path = _record_text_basic(tmp_path)
    before = _dated_long_ago(path)
    _record_text_basic(tmp_path)
    assert path.read_text(encoding="utf-8") == before


def test_re_recording_changed_traffic_dates_the_cassette_afresh(tmp_path: Path) -> None:
    path = _record_text_basic(tmp_path)
    path.write_text(_dated_long_ago(path).replace('"Hello"', '"Howdy"'), encoding="utf-8")
    _record_text_basic(tmp_path)
    assert '"Howdy"' not in path.read_text(encoding="utf-8")
    assert not cassettes.read_meta(path)["recorded_at"].startswith("2020")
