"""`new-vendor`: write a commented profile with sane defaults for a server of one protocol:
the provider's side (`<dir>/<name>.toml`) and the suite's side (`<dir>/contracts/<name>.toml`),
from that protocol's templates in `contracts/scaffolds/`."""

from __future__ import annotations

import os
import re
import tempfile
from collections.abc import Callable
from pathlib import Path

from contracts.vendors import SUITE_SUBDIR, load_suite_file
from providers.protocols import PROTOCOLS
from providers.settings import url_has_credentials
from providers.vendors import NAME_PATTERN, ProfileError, find_profile, load_profile_file

#: Per protocol, `<protocol>.toml` (the provider's profile) and `<protocol>.suite.toml` (the
#: suite's file): commented defaults with `{name}`, `{base_url}`, `{model}`, `{api_key_env}`.
SCAFFOLD_DIR = Path(__file__).parent / "scaffolds"


#: What a shell accepts as a variable name: the profile's key variable is printed in an
#: `export NAME=...` line the user pastes.
ENV_NAME_PATTERN = r"[A-Za-z_][A-Za-z0-9_]*"


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


def _utf8(value: str) -> bool:
    """False for an argument that was not UTF-8 on the command line (kept as surrogates)."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _draft(final: Path, text: str) -> Path:
    """`text` in a new file beside `final`, under a fresh name created exclusively: a file
    or symlink planted under a predictable name is never written through."""
    final.parent.mkdir(parents=True, exist_ok=True)
    handle, name = tempfile.mkstemp(prefix=f".{final.name}.", suffix=".draft", dir=final.parent)
    with os.fdopen(handle, "w", encoding="utf-8") as out:
        out.write(text)
    return Path(name)


def write_profile(
    name: str,
    *,
    base_url: str,
    model: str,
    api_key_env: str | None = None,
    protocol: str = "openai_chat",
    directory: Path,
) -> Path:
    """Write `directory/name.toml` (and the suite's file) for a server speaking `protocol`,
    whole or not at all: a profile that would not validate is never left behind."""
    if not re.fullmatch(NAME_PATTERN, name):
        raise ScaffoldError(
            f"{name!r} is not a valid vendor name: use lower-case letters, digits and _, "
            "starting with a letter"
        )
    existing = find_profile(name)
    if existing is not None:
        raise ScaffoldError(f"vendor {name!r} exists already: {existing}")
    for option, value in (
        ("--base-url", base_url),
        ("--model", model),
        ("--api-key-env", api_key_env),
    ):
        if value is not None and not _utf8(value):
            raise ScaffoldError(f"{option} is not valid UTF-8 text: type it again")
    if api_key_env is not None and not re.fullmatch(ENV_NAME_PATTERN, api_key_env):
        raise ScaffoldError(
            "--api-key-env must be an environment variable name (letters, digits and _, not "
            "starting with a digit), such as ACME_API_KEY"
        )
    if not base_url.startswith(("http://", "https://")):
        raise ScaffoldError(f"--base-url must start with http:// or https://, got {base_url!r}")
    if url_has_credentials(base_url):
        raise ScaffoldError(
            "--base-url holds a user name or password: a profile is shared, so put the key in "
            "the environment variable instead"
        )
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
    profile_template, suite_template = _templates(protocol)
    drafts: list[tuple[Path, Path, str, Callable[[Path], object]]] = []
    try:
        for final, template, validate in (
            (target, profile_template, load_profile_file),
            (suite, suite_template, load_suite_file),
        ):
            drafts.append((final, _draft(final, template.format(**values)), template, validate))
            validate(drafts[-1][1])
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


def _templates(protocol: str) -> tuple[str, str]:
    """The provider-profile and suite-file templates of a registered protocol."""
    known = ", ".join(PROTOCOLS)
    if protocol not in PROTOCOLS:
        raise ScaffoldError(f"no protocol {protocol!r}: choose one of {known}")
    try:
        return (
            (SCAFFOLD_DIR / f"{protocol}.toml").read_text(encoding="utf-8"),
            (SCAFFOLD_DIR / f"{protocol}.suite.toml").read_text(encoding="utf-8"),
        )
    except FileNotFoundError:
        raise ScaffoldError(
            f"protocol {protocol} has no templates in {SCAFFOLD_DIR}: new-vendor cannot write "
            "a profile for it yet"
        ) from None
