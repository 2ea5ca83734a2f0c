"""`new-vendor`: write a commented profile with sane defaults for an OpenAI-compatible server:
the provider's side (`<dir>/<name>.toml`) and the suite's side (`<dir>/contracts/<name>.toml`)."""

from __future__ import annotations

import re
from pathlib import Path

from contracts.vendors import SUITE_SUBDIR, load_suite_file
from providers.vendors import NAME_PATTERN, ProfileError, find_profile, load_profile_file

TEMPLATE = """# {name}: written by `llm-contracts new-vendor`. Every field below is a default for a
# plain OpenAI-compatible server; `llm-contracts certify --vendor {name} --live` shows which
# ones this vendor contradicts, and `llm-contracts record --vendor {name}` prints the wire
# facts it really sends.
name = "{name}"
display_name = "{name}"
base_url = {base_url}
# The environment variable holding the key; the key itself is never written anywhere.
api_key_env = {api_key_env}
# true when the endpoint may take no key (a local server): with the variable unset, live
# runs send default_api_key (a placeholder, never a secret) and try no invalid key.
keyless = false
default_model = {model}

[capabilities]
streaming = true
tool_calling = true
vision = false
# Set to true when the vendor streams reasoning (reasoning_content / reasoning deltas).
extended_thinking = false
max_context_tokens = 128000
max_output_tokens = 16384

[request]
# "max_tokens" is what most compatible servers accept; OpenAI's reasoning models want
# "max_completion_tokens".
max_tokens_param = "max_tokens"
# include_usage: ask with stream_options; always: sent unasked; never: not sent at all.
stream_usage = "include_usage"
temperature_range = [0.0, 2.0]

[stop_reasons]
# Vendor finish values beyond the standard ones, e.g. model_length = "max_tokens".

[errors]
context_length_codes = ["context_length_exceeded"]
non_retryable_rate_limit_codes = ["insufficient_quota"]

[wire]
# Delta fields that carry reasoning text, first present wins.
reasoning_fields = ["reasoning_content", "reasoning"]
tool_calls_imply_tool_use = true
"""


SUITE_TEMPLATE = """# {name}: what the suite knows about the vendor's wire, written by
# `llm-contracts new-vendor`. The loopback replica plays these facts;
# `llm-contracts record --vendor {name}` prints where the real vendor contradicts them.
name = "{name}"
finish_values = ["stop", "length", "tool_calls", "content_filter"]
# Request fields the vendor accepts and silently ignores.
ignored_fields = []

[wire]
role_chunk = true
usage_placement = "separate_chunk"   # separate_chunk | finish_chunk | every_chunk | none
tool_call_style = "fragmented"       # fragmented | whole | whole_without_index
done_sentinel = true
error_shape = "openai"               # openai | google_list | mistral | plain_text

# What the vendor refuses, and its answer; the replica refuses the same way. For example:
# [[rejects]]
# field = "stream_options"
# status = 422
# body = {{ detail = "Extra inputs are not permitted" }}

[known_defects]
# clause id = "why this vendor is known to break it"
"""


class ScaffoldError(ValueError):
    """The profile cannot be written as asked."""


def toml_string(value: str) -> str:
    """`value` as a TOML basic string: quotes, backslashes and control characters escaped,
    so whatever a user types ends up as that value and never as TOML syntax."""
    escaped = value.replace("\\", "\\\\").replace('"', '\\"')
    return (
        '"'
        + "".join(
            f"\\u{ord(char):04x}" if ord(char) < 0x20 or ord(char) == 0x7F else char
            for char in escaped
        )
        + '"'
    )


def write_profile(
    name: str,
    *,
    base_url: str,
    model: str,
    api_key_env: str | None = None,
    directory: Path,
) -> Path:
    """Write `directory/name.toml` whole or not at all: a profile that would not validate is
    never left behind."""
    if not re.fullmatch(NAME_PATTERN, name):
        raise ScaffoldError(
            f"{name!r} is not a valid vendor name: use lower-case letters, digits and _, "
            "starting with a letter"
        )
    existing = find_profile(name)
    if existing is not None:
        raise ScaffoldError(f"vendor {name!r} exists already: {existing}")
    if not base_url.startswith(("http://", "https://")):
        raise ScaffoldError(f"--base-url must start with http:// or https://, got {base_url!r}")
    target = directory / f"{name}.toml"
    suite = directory / SUITE_SUBDIR / f"{name}.toml"
    for path in (target, suite):
        if path.exists():
            raise ScaffoldError(f"{path} exists already; pick another name or remove it")
    values = {
        "name": name,
        "base_url": toml_string(base_url.rstrip("/")),
        "model": toml_string(model),
        "api_key_env": toml_string(api_key_env or f"{name.upper()}_API_KEY"),
    }
    drafts = [
        (target, target.with_name(f".{name}.toml.draft"), TEMPLATE, load_profile_file),
        (suite, suite.with_name(f".{name}.toml.draft"), SUITE_TEMPLATE, load_suite_file),
    ]
    try:
        for _, draft, template, validate in drafts:
            draft.parent.mkdir(parents=True, exist_ok=True)
            draft.write_text(template.format(**values), encoding="utf-8")
            validate(draft)
        for final, draft, _, _ in drafts:
            draft.replace(final)
    except ProfileError as exc:
        raise ScaffoldError(
            f"the values given do not make a valid profile: {exc.message}"
        ) from None
    except OSError as exc:
        raise ScaffoldError(f"cannot write {target}: {exc.strerror}") from None
    finally:
        for _, draft, _, _ in drafts:
            draft.unlink(missing_ok=True)
    return target
