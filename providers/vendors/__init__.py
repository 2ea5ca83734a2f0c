"""Vendor profiles: every way a vendor differs from plain OpenAI that a provider must know, as data.

A profile is one TOML file in this folder. Code reads the fields below and never asks which
vendor it is talking to, so a new vendor is a new file. What only the contract suite reads
(wire layout, refusals, known defects) lives beside it in `contracts/vendors/`.
"""

from __future__ import annotations

import os
import re
import tomllib
from functools import cache
from pathlib import Path
from typing import Any, Literal, TypeVar

from pydantic import BaseModel, Field, ValidationError, field_validator, model_validator

from providers.errors import InvalidRequestError
from providers.frozen import Frozen as _Section
from providers.frozen import describe_errors
from providers.protocols import (
    OPENAI_CHAT_STOP_REASONS,
    PROTOCOLS,
    ProtocolName,
    StopMapping,
    protocol_entry,
)
from providers.request_features import (
    ALL_TOOL_CHOICES,
    ModelRule,
    ResponseFormatKind,
    ThinkingQuirks,
    ToolChoiceMode,
)
from providers.types import ProviderCapabilities

PROFILE_DIR = Path(__file__).parent
VENDOR_DIRS_ENV = "LLM_CONTRACTS_VENDOR_DIRS"
NAME_PATTERN = r"[a-z][a-z0-9_]*"

#: The OpenAI Chat Completions map, which most profiles build on.
STANDARD_STOP_REASONS = OPENAI_CHAT_STOP_REASONS

__all__ = [
    "STANDARD_STOP_REASONS",
    "ErrorQuirks",
    "ProfileError",
    "ProtocolName",
    "RequestQuirks",
    "StopMapping",
    "StreamFacts",
    "VendorProfile",
    "available_vendors",
    "find_profile",
    "load_profile",
    "load_profile_file",
    "profile_dirs",
]


Section = TypeVar("Section", bound=BaseModel)


class RequestQuirks(_Section):
    """What the vendor accepts."""

    max_tokens_param: Literal["max_tokens", "max_completion_tokens"] = "max_tokens"
    #: include_usage: ask with stream_options; always: sent unasked; never: not sent at all.
    stream_usage: Literal["include_usage", "always", "never"] = "include_usage"
    temperature_range: tuple[float, float] = (0.0, 2.0)
    max_stop_sequences: int | None = None
    #: alnum9: tool-call ids sent back must be 9 characters [a-zA-Z0-9] (Mistral).
    tool_call_id_style: Literal["any", "alnum9"] = "any"
    #: Whether the SDK may send OPENAI_ORG_ID / OPENAI_PROJECT_ID from the environment:
    #: only to OpenAI itself, never to another vendor.
    openai_account_headers: bool = False
    #: The header carrying the key: `Authorization` sends it as a bearer token; any other
    #: name (Azure's `api-key`) sends the bare key there and no Authorization header.
    auth_header: str = Field(default="Authorization", pattern=r"^[A-Za-z0-9-]+$")
    #: Query parameters sent on every request (Azure's classic path: `api-version`).
    query_params: dict[str, str] = Field(default_factory=dict)
    #: The tool choices the vendor takes (`named`: one tool by name).
    tool_choice_modes: tuple[ToolChoiceMode, ...] = ALL_TOOL_CHOICES
    #: Whether the vendor takes the request's parallel_tool_calls switch.
    parallel_tool_calls: bool = True
    #: The response_format types the vendor honours.
    response_formats: tuple[ResponseFormatKind, ...] = ("json_object", "json_schema")
    #: The field a seed goes in (Mistral: `random_seed`); "": the vendor takes no seed.
    seed_param: str = "seed"
    top_p: bool = True
    thinking: ThinkingQuirks = ThinkingQuirks()
    #: Rules for some models only; the first whose glob matches the model applies.
    models: tuple[ModelRule, ...] = ()

    @model_validator(mode="after")
    def _range_ordered(self) -> RequestQuirks:
        low, high = self.temperature_range
        if low > high:
            raise ValueError("temperature_range must be [low, high] with low <= high")
        return self

    def for_model(self, model: str) -> RequestQuirks:
        """These quirks with the first model rule matching `model` applied."""
        rule = next((rule for rule in self.models if rule.matches(model)), None)
        return self if rule is None else self.model_copy(update=rule.overrides())


class ErrorQuirks(_Section):
    """How the vendor says what went wrong."""

    #: Vendor codes (error.code / error.type / status) meaning "context too long".
    context_length_codes: tuple[str, ...] = ("context_length_exceeded",)
    #: Lower-case phrases in a 400 message meaning "context too long".
    context_length_phrases: tuple[str, ...] = (
        "context length",
        "context window",
        "maximum context",
        "too many tokens",
    )
    #: 429 codes that will not clear by waiting (exhausted quota, locked account).
    non_retryable_rate_limit_codes: tuple[str, ...] = ("insufficient_quota",)


class StreamFacts(_Section):
    """What the provider must know about how the vendor streams to read it right."""

    #: Delta fields that carry reasoning text, first present wins.
    reasoning_fields: tuple[str, ...] = ("reasoning_content", "reasoning")
    #: When tool calls were emitted, the stop reason is tool_use whatever the finish value said.
    tool_calls_imply_tool_use: bool = True
    #: Where a chunk may carry usage, as dotted paths, first present wins (Groq: also
    #: `x_groq.usage`). Reports replace each other, never add up.
    usage_paths: tuple[str, ...] = ("usage",)
    #: Tool-call fields kept on the ToolCall as `provider_data` and sent back with it in the
    #: next request (Gemini 3: `extra_content`, holding the thought signature it requires).
    tool_call_data_fields: tuple[str, ...] = ()
    #: Whether completion_tokens already counts the reasoning tokens. xAI counts them only in
    #: completion_tokens_details.reasoning_tokens, so output tokens (and cost) must add them.
    reasoning_in_completion: bool = True


#: Keys that profiles once held and the contract suite's own file holds now: a profile still
#: carrying them is refused with where they went, never half-read.
MOVED_TO_SUITE = {
    "wire": (
        "role_chunk",
        "usage_placement",
        "tool_call_style",
        "done_sentinel",
        "leading_comment",
        "error_shape",
        "finish_values",
    ),
    "": ("known_defects",),
}


class VendorProfile(_Section):
    name: str = Field(pattern=rf"^{NAME_PATTERN}$")
    #: The wire protocol the vendor speaks; it picks the provider class and the standard
    #: stop map.
    protocol: ProtocolName = "openai_chat"
    display_name: str = ""
    base_url: str
    api_key_env: str | None = None
    #: The endpoint may take no key (a local server): with its key variable unset, live runs
    #: send `default_api_key` and do not try an invalid key.
    keyless: bool = False
    #: The placeholder sent to a keyless endpoint (the SDK needs some key); never a secret.
    default_api_key: str | None = None
    default_model: str
    notes: str = ""
    capabilities: ProviderCapabilities = ProviderCapabilities()
    request: RequestQuirks = RequestQuirks()
    stop_reasons: dict[str, StopMapping] = Field(default_factory=dict)
    errors: ErrorQuirks = ErrorQuirks()
    wire: StreamFacts = StreamFacts()

    @field_validator("protocol")
    @classmethod
    def _registered(cls, value: str) -> str:
        if value not in PROTOCOLS:
            raise ValueError(f"unknown protocol {value!r}: choose one of {', '.join(PROTOCOLS)}")
        return value

    @model_validator(mode="before")
    @classmethod
    def _no_suite_keys(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            return data
        moved = []
        for section, keys in MOVED_TO_SUITE.items():
            table = data.get(section) if section else data
            if isinstance(table, dict):
                moved += [f"{section}.{key}" if section else key for key in keys if key in table]
        if moved:
            raise ValueError(
                f"{', '.join(moved)} moved to the contract suite's file for this vendor "
                "(contracts/vendors/<name>.toml, or <dir>/contracts/<name>.toml beside a "
                "profile in <dir>): wire keys under its [wire], wire.finish_values "
                "and known_defects at its top"
            )
        return data

    @model_validator(mode="after")
    def _placeholder_only_when_keyless(self) -> VendorProfile:
        if self.default_api_key is not None and not self.keyless:
            raise ValueError(
                "default_api_key is a placeholder for endpoints that take no key: "
                "set keyless = true, or remove it"
            )
        return self

    def stop_mapping(self) -> dict[str, StopMapping]:
        """The protocol's standard stop-value map with this vendor's values on top."""
        return {**protocol_entry(self.protocol).stop_reasons, **self.stop_reasons}


class ProfileError(InvalidRequestError):
    """A vendor profile is missing or does not validate."""

    def __init__(self, message: str) -> None:
        super().__init__(message, provider="profiles")


def profile_dirs() -> list[Path]:
    """Where profiles are looked up, first match wins: the directories named in
    LLM_CONTRACTS_VENDOR_DIRS (os.pathsep-separated), then the bundled ones."""
    extra = os.environ.get(VENDOR_DIRS_ENV, "")
    return [Path(entry) for entry in extra.split(os.pathsep) if entry] + [PROFILE_DIR]


def available_vendors() -> list[str]:
    return sorted({path.stem for folder in profile_dirs() for path in folder.glob("*.toml")})


def find_profile(name: str) -> Path | None:
    if not re.fullmatch(NAME_PATTERN, name):
        return None
    return next(
        (d / f"{name}.toml" for d in profile_dirs() if (d / f"{name}.toml").is_file()), None
    )


def load_toml_model(path: Path, model: type[Section], kind: str) -> Section:
    """Read one TOML file into `model`, reporting a bad one by file and field."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ProfileError(f"cannot read {kind} {path}: {exc.strerror}") from None
    except UnicodeDecodeError:
        raise ProfileError(f"{path}: not UTF-8 text; save the {kind} as UTF-8") from None
    except tomllib.TOMLDecodeError as exc:
        raise ProfileError(f"{path}: not valid TOML: {exc}") from None
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise ProfileError(f"{path}: invalid {kind}: {describe_errors(exc)}") from None


def load_profile_file(path: Path) -> VendorProfile:
    """Read and validate one profile, reporting a bad one by file and field."""
    return load_toml_model(path, VendorProfile, "vendor profile")


def load_profile(name: str) -> VendorProfile:
    """The profile called `name`, e.g. "mistral" (see `profile_dirs` for where it is found)."""
    path = find_profile(name)
    if path is None:
        known = ", ".join(available_vendors())
        raise ProfileError(f"unknown vendor {name!r}: choose one of {known}")
    return _load_named(name, path, path.stat().st_mtime_ns)


@cache
def _load_named(name: str, path: Path, _mtime: int) -> VendorProfile:
    profile = load_profile_file(path)
    if profile.name != name:
        raise ProfileError(f"{path}: name = {profile.name!r} must match the file name {name!r}")
    return profile
