"""What the environment and the settings contribute: only what the vendor's profile allows,
and nothing empty or unsendable slips through to a default or to the wire."""

from __future__ import annotations

import pytest
from support import OPENAI_CHAT_VENDORS, FakeVendor, ask, run
from wires import WIRES

from contracts.cli import main
from contracts.wire import chunk
from providers import (
    InvalidRequestError,
    from_vendor,
    load_profile,
)

#: The OpenAI SDK reads these variables; the Anthropic provider's own are tested beside it.
VENDORS = OPENAI_CHAT_VENDORS
#: Every OPENAI_* variable the SDK's client reads, with a value that must not reach a vendor
#: unless its profile says so. OPENAI_LOG only sets the SDK's log level (covered by the secret
#: tests' DEBUG capture).
SDK_VARIABLES = {
    "OPENAI_API_KEY": "sk-env-openai-key-000000000000",
    "OPENAI_ADMIN_KEY": "sk-admin-env-key-000000000000",
    "OPENAI_ORG_ID": "org-env-private",
    "OPENAI_PROJECT_ID": "proj_env_private",
    "OPENAI_WEBHOOK_SECRET": "whsec_env_private",
    "OPENAI_BASE_URL": "http://127.0.0.1:9/elsewhere",
    "OPENAI_CUSTOM_HEADERS": "Authorization: Bearer sk-env-header-key\nX-Env-Header: leaked",
}
#: What each variable may contribute to a request to a vendor whose profile allows OpenAI's
#: account headers (OpenAI itself): header name -> value.
ACCOUNT_HEADERS = {
    "OPENAI_ORG_ID": ("openai-organization", "org-env-private"),
    "OPENAI_PROJECT_ID": ("openai-project", "proj_env_private"),
}
VENDOR_KEY = "sk-vendor-own-key-0123456789"


@pytest.mark.parametrize("vendor_name", VENDORS)
@pytest.mark.parametrize("variable", sorted(SDK_VARIABLES))
async def test_sdk_environment_variables_reach_a_vendor_only_through_its_profile(
    vendor: FakeVendor, monkeypatch: pytest.MonkeyPatch, vendor_name: str, variable: str
) -> None:
    profile = load_profile(vendor_name)
    value = SDK_VARIABLES[variable]
    monkeypatch.setenv(variable, value)
    if profile.api_key_env and profile.api_key_env != variable:
        monkeypatch.setenv(profile.api_key_env, VENDOR_KEY)
    vendor.sse([chunk({"content": "a"}), chunk(finish="stop")])
    provider = vendor.provider(vendor_name, api_key=None)
    async for _ in provider.stream(ask()):
        pass
    (sent,) = vendor.requests
    expected_key = (
        value
        if profile.api_key_env == variable
        else VENDOR_KEY
        if profile.api_key_env
        else profile.default_api_key
    )
    key_header = profile.request.auth_header.lower()
    bearer = key_header == "authorization"
    assert sent.headers[key_header] == (f"Bearer {expected_key}" if bearer else expected_key)
    assert str(sent.url).startswith(profile.base_url)
    allowed = ACCOUNT_HEADERS.get(variable) if profile.request.openai_account_headers else None
    for name, header in sent.headers.items():
        if (name, header) == allowed or name == key_header:
            continue
        assert value not in header, name
        assert "leaked" not in header, name
    if allowed is not None:
        assert sent.headers[allowed[0]] == allowed[1]


# -- empty and unsendable settings --------------------------------------------------------------


@pytest.mark.parametrize(
    ("setting", "value", "says"),
    [
        ("model", "", "model"),
        ("model", "   ", "model"),
        ("base_url", "", "base_url"),
        ("base_url", "http://", "host"),
        ("base_url", "http://127.0.0.1:70000/v1", "port"),
        ("base_url", "http://127.0.0.1:0/v1", "port"),
        ("base_url", "ftp://example.com", "http"),
    ],
)
@pytest.mark.parametrize("vendor_name", ["mistral", "anthropic"])
def test_empty_or_impossible_settings_are_refused_not_defaulted(
    vendor_name: str, setting: str, value: str, says: str
) -> None:
    with pytest.raises(InvalidRequestError, match=says):
        from_vendor(vendor_name, api_key=VENDOR_KEY, **{setting: value})


@pytest.mark.parametrize(
    "headers",
    [{"x-trace": "a\nb"}, {"x-trace": "caf\u00e9"}, {"x-tr\u00e4ce": "a"}, {"": "a"}],
)
@pytest.mark.parametrize("vendor_name", ["openai", "anthropic"])
def test_extra_headers_no_http_client_can_send_are_refused(
    vendor_name: str, headers: dict[str, str]
) -> None:
    with pytest.raises(InvalidRequestError, match="extra_headers"):
        from_vendor(vendor_name, api_key=VENDOR_KEY, extra_headers=headers)


@pytest.mark.parametrize("vendor_name", ["glm", "anthropic"])
@pytest.mark.parametrize("path", ["stream", "complete"])
async def test_a_lone_surrogate_is_refused_before_anything_is_sent(
    vendor: FakeVendor, vendor_name: str, path: str
) -> None:
    provider = vendor.any_provider(vendor_name)
    request = ask("half an emoji: \ud83d")
    with pytest.raises(InvalidRequestError, match=r"messages\[0\]\.content.*surrogate"):
        await run(provider, request, path)
    assert vendor.requests == []


#: Every ANTHROPIC_* variable the `anthropic` SDK reads anywhere (its Bedrock, Vertex and
#: Foundry clients included), but ANTHROPIC_LOG, which only sets the SDK's log level.
ANTHROPIC_SDK_VARIABLES = sorted(
    {
        "ANTHROPIC_API_KEY",
        "ANTHROPIC_AUTH_TOKEN",
        "ANTHROPIC_AWS_API_KEY",
        "ANTHROPIC_AWS_BASE_URL",
        "ANTHROPIC_AWS_WORKSPACE_ID",
        "ANTHROPIC_BASE_URL",
        "ANTHROPIC_BEDROCK_BASE_URL",
        "ANTHROPIC_BEDROCK_MANTLE_BASE_URL",
        "ANTHROPIC_CONFIG_DIR",
        "ANTHROPIC_CUSTOM_HEADERS",
        "ANTHROPIC_ENVIRONMENT_ID",
        "ANTHROPIC_ENVIRONMENT_KEY",
        "ANTHROPIC_FEDERATION_RULE_ID",
        "ANTHROPIC_FOUNDRY_API_KEY",
        "ANTHROPIC_FOUNDRY_BASE_URL",
        "ANTHROPIC_FOUNDRY_RESOURCE",
        "ANTHROPIC_GOOGLE_CLOUD_BASE_URL",
        "ANTHROPIC_GOOGLE_CLOUD_LOCATION",
        "ANTHROPIC_GOOGLE_CLOUD_PROJECT",
        "ANTHROPIC_GOOGLE_CLOUD_WORKSPACE_ID",
        "ANTHROPIC_IDENTITY_TOKEN",
        "ANTHROPIC_IDENTITY_TOKEN_FILE",
        "ANTHROPIC_OPEN_TELEMETRY",
        "ANTHROPIC_OPEN_TELEMETRY_PROPAGATION",
        "ANTHROPIC_OPEN_TELEMETRY_TRACES_CONTENT_MODE",
        "ANTHROPIC_OPEN_TELEMETRY_TRACES_MAX_CONTENT_BYTES",
        "ANTHROPIC_ORGANIZATION_ID",
        "ANTHROPIC_PROFILE",
        "ANTHROPIC_SCOPE",
        "ANTHROPIC_SERVICE_ACCOUNT_ID",
        "ANTHROPIC_SESSION_ID",
        "ANTHROPIC_VERTEX_BASE_URL",
        "ANTHROPIC_VERTEX_PROJECT_ID",
        "ANTHROPIC_WEBHOOK_SIGNING_KEY",
        "ANTHROPIC_WORKSPACE_ID",
        "ANTHROPIC_WORK_ID",
        "ANTHROPIC_WORK_SECRET",
    }
)


@pytest.mark.parametrize("variable", ANTHROPIC_SDK_VARIABLES)
async def test_anthropic_sdk_variables_reach_nothing_but_the_profiles_choices(
    vendor: FakeVendor, monkeypatch: pytest.MonkeyPatch, variable: str
) -> None:
    leaked = "http://127.0.0.1:9/leaked" if variable.endswith("_URL") else f"env-leaked-{variable}"
    monkeypatch.setenv(variable, leaked)
    if variable == "ANTHROPIC_CUSTOM_HEADERS":
        monkeypatch.setenv(variable, f"Authorization: Bearer {leaked}\nX-Env-Header: {leaked}")
    if variable != "ANTHROPIC_API_KEY":
        monkeypatch.setenv("ANTHROPIC_API_KEY", VENDOR_KEY)
    vendor.sse_bytes(WIRES["anthropic"].stream("a"))
    async for _ in vendor.any_provider("anthropic", api_key=None).stream(ask()):
        pass
    (sent,) = vendor.requests
    # ANTHROPIC_API_KEY is the profile's own key variable: the one variable that may count.
    own_key = leaked if variable == "ANTHROPIC_API_KEY" else VENDOR_KEY
    assert sent.headers["authorization"] == f"Bearer {own_key}"
    assert str(sent.url).startswith(load_profile("anthropic").base_url)
    for name, header in sent.headers.items():
        if name != "authorization":
            assert "leaked" not in header, name


@pytest.mark.parametrize(
    "argv",
    [
        ["certify", "--live", "--vendor", "mistral", "--base-url", ""],
        ["certify", "--vendor", "mistral", "--model", " "],
        ["new-vendor", "acme", "--base-url", "", "--model", "m"],
    ],
)
def test_the_cli_refuses_a_blank_base_url_or_model(
    argv: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(argv)
    assert exit_info.value.code == 2
    assert "must not be empty" in capsys.readouterr().err
