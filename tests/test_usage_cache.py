"""Prompt-cache counts: each protocol serves them in its vendor's shape, only where the
vendor's profile says it reports them, and the independent reader and the frozen
expectations of real recordings carry them."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from contracts import cassettes
from contracts.expected import Expected, freeze
from contracts.observed import Exchange
from contracts.protocols import protocol_for
from contracts.spec import Answer, UsageSpec
from providers import load_profile

CACHED = Answer(
    text=("ok",),
    finish="stop",
    usage=UsageSpec(prompt=100, completion=2, cache_read=60, cache_write=30),
)
REQUEST = {"model": "m", "stream": True, "stream_options": {"include_usage": True}}


def _usage_payloads(vendor: str) -> list[Any]:
    body = protocol_for(load_profile(vendor)).answer_response(CACHED, REQUEST).body.decode()
    payloads = [json.loads(line[6:]) for line in body.splitlines() if line.startswith("data: {")]
    return [p for p in payloads if "usage" in json.dumps(p)]


def _read(vendor: str) -> UsageSpec:
    protocol = protocol_for(load_profile(vendor))
    response = protocol.answer_response(CACHED, REQUEST)
    answer = protocol.read(
        Exchange(REQUEST, 200, response.headers["content-type"], response.body.decode())
    )
    assert answer is not None
    assert answer.usage != "none"
    return answer.usage


def test_anthropic_counts_cached_tokens_apart_from_input_tokens() -> None:
    start = _usage_payloads("anthropic")[0]["message"]["usage"]
    assert start == {
        "input_tokens": 10,
        "cache_creation_input_tokens": 30,
        "cache_read_input_tokens": 60,
        "output_tokens": 1,
    }
    assert _read("anthropic") == CACHED.usage


def test_a_chat_vendor_that_reports_cache_reads_sends_them_inside_the_prompt_count() -> None:
    report = [p["usage"] for p in _usage_payloads("openai") if p.get("usage")][-1]
    assert report["prompt_tokens"] == 100
    assert report["prompt_tokens_details"] == {"cached_tokens": 60}
    assert _read("openai") == UsageSpec(prompt=100, completion=2, cache_read=60)


def test_a_chat_vendor_whose_profile_reports_no_cache_sends_plain_counts() -> None:
    assert all("cached_tokens" not in json.dumps(p) for p in _usage_payloads("mistral"))
    assert _read("mistral") == UsageSpec(prompt=100, completion=2)


def test_the_responses_api_reports_cache_reads_in_its_input_details() -> None:
    assert _read("openai_responses") == UsageSpec(prompt=100, completion=2, cache_read=60)


@pytest.mark.parametrize(
    ("cassette", "read"),
    [
        ("xai/imported/vercel-ai_xai-text.yaml", 11),
        ("deepseek/imported/vercel-ai_deepseek-tool-call.yaml", 320),
    ],
)
def test_a_real_recording_s_frozen_expectation_keeps_its_cached_tokens(
    cassette: str, read: int
) -> None:
    path = Path(__file__).parent.parent / "cassettes" / cassette
    document = cassettes.read_document(path)
    frozen = Expected.model_validate(document["expected"])
    assert frozen.usage is not None
    assert frozen.usage.cache_read_tokens == read
    vendor = path.parent.parent.name
    exchange = cassettes.exchange_of(document["interactions"][0])
    assert freeze(exchange, load_profile(vendor)).usage == frozen.usage
