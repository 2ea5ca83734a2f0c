"""Vendor profiles: every way a vendor differs from plain OpenAI, kept as data (design section 6).

A profile is one TOML file in this folder. Code reads the fields below and never asks which
vendor it is talking to, so a new vendor is a new file.
"""

from __future__ import annotations

import os
import re
import tomllib
from functools import cache
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from providers.errors import InvalidRequestError
from providers.types import ProviderCapabilities, StopReason

PROFILE_DIR = Path(__file__).parent
VENDOR_DIRS_ENV = "LLM_CONTRACTS_VENDOR_DIRS"
NAME_PATTERN = r"[a-z][a-z0-9_]*"

#: What a raw finish value can map to: a unified stop reason, or a failure of the stream.
#: "error" raises StreamError; "retryable_error" raises ProviderUnavailableError.
StopMapping = StopReason | Literal["error", "retryable_error"]

STANDARD_STOP_REASONS: dict[str, StopMapping] = {
    "stop": StopReason.END_TURN,
    "length": StopReason.MAX_TOKENS,
    "tool_calls": StopReason.TOOL_USE,
    "function_call": StopReason.TOOL_USE,
    "content_filter": StopReason.CONTENT_FILTER,
}


class _Section(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


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

    @model_validator(mode="after")
    def _range_ordered(self) -> RequestQuirks:
        low, high = self.temperature_range
        if low > high:
            raise ValueError("temperature_range must be [low, high] with low <= high")
        return self


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


class WireFacts(_Section):
    """How the vendor really streams: read by the adapter and by the contract replica."""

    role_chunk: bool = True
    usage_placement: Literal["separate_chunk", "finish_chunk", "every_chunk", "none"] = (
        "separate_chunk"
    )
    tool_call_style: Literal["fragmented", "whole", "whole_without_index"] = "fragmented"
    done_sentinel: bool = True
    leading_comment: str | None = None
    error_shape: Literal["openai", "google_list", "mistral", "plain_text"] = "openai"
    #: Delta fields that carry reasoning text, first present wins.
    reasoning_fields: tuple[str, ...] = ("reasoning_content", "reasoning")
    #: When tool calls were emitted, the stop reason is tool_use whatever the finish value said.
    tool_calls_imply_tool_use: bool = True
    #: Finish values this vendor is known to send (the replica draws from these).
    finish_values: tuple[str, ...] = ("stop", "length", "tool_calls", "content_filter")


class VendorProfile(_Section):
    name: str = Field(pattern=rf"^{NAME_PATTERN}$")
    display_name: str = ""
    base_url: str
    api_key_env: str | None = None
    #: A key for servers that need none (a local proxy); never a real credential.
    default_api_key: str | None = None
    default_model: str
    notes: str = ""
    capabilities: ProviderCapabilities = ProviderCapabilities()
    request: RequestQuirks = RequestQuirks()
    stop_reasons: dict[str, StopMapping] = Field(default_factory=dict)
    errors: ErrorQuirks = ErrorQuirks()
    wire: WireFacts = WireFacts()
    #: Contract clause id -> why this vendor is known to break it (certified as xfail).
    known_defects: dict[str, str] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _defects_have_reasons(self) -> VendorProfile:
        blank = [clause for clause, reason in self.known_defects.items() if not reason.strip()]
        if blank:
            raise ValueError(f"known_defects need a reason: {blank}")
        return self

    def stop_mapping(self) -> dict[str, StopMapping]:
        """The standard finish-value map with this vendor's values on top."""
        return {**STANDARD_STOP_REASONS, **self.stop_reasons}


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


def load_profile_file(path: Path) -> VendorProfile:
    """Read and validate one profile, reporting a bad one by file and field."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ProfileError(f"cannot read vendor profile {path}: {exc.strerror}") from None
    except UnicodeDecodeError:
        raise ProfileError(f"{path}: not UTF-8 text; save it as UTF-8") from None
    except tomllib.TOMLDecodeError as exc:
        raise ProfileError(f"{path}: not valid TOML: {exc}") from None
    try:
        return VendorProfile.model_validate(data)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(part) for part in err['loc']) or '<top>'}: {err['msg']}"
            for err in exc.errors()
        )
        raise ProfileError(f"{path}: invalid vendor profile: {problems}") from None


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
