"""Cassettes: readable, scrubbed recordings of real provider traffic, one per scenario, in
vcrpy's cassette model (so plain vcrpy replays them through `vcr_serializer`).

Live traffic is recorded as it streams (`contracts.recorder`), replica traffic from the
replica's own journal; replay serves them over loopback (`contracts.replay`). Nothing here
needs vcrpy.

A cassette is YAML a person can review in a diff: a `meta` block (source `live` or `replica`,
when, model, SDK version, base URL host), JSON bodies as mappings, SSE bodies as literal
blocks. Headers pass an allow-list, so credentials, cookies, organisation ids and volatile
SDK headers never reach the file, and known key values are scrubbed anywhere in the text.
Replay blocks the network (record mode `none`) and matches method, path and JSON body.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import string
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit

import yaml

from contracts import bounded_files, recorder, yaml_io
from contracts.observed import Exchange
from providers.vendors import available_vendors, load_profile

REDACTED = "REDACTED"
#: live: recorded here from a server on the wire (whichever base URL reached it: `meta`
#: keeps its host); replica: the loopback replica; imported: real traffic recorded elsewhere
#: by another client (`meta.origin` says where).
Source = Literal["live", "replica", "imported"]

_REQUEST_HEADERS = frozenset({"content-type", "accept"})
_RESPONSE_HEADERS = frozenset(
    {"content-type", "x-request-id", "request-id", "retry-after", "retry-after-ms"}
)
#: Credentials by their shape: vendor key prefixes (OpenAI and Anthropic `sk-`, Groq `gsk_`,
#: xAI `xai-`, Cerebras `csk-`, Fireworks `fw_`, Together `tgp_v1_`, Hugging Face `hf_`,
#: Replicate `r8_`, Perplexity `pplx-`, Google `AIza` and `ya29.`, GitHub, AWS), bearer
#: tokens, and the value of a credential-named header or field (`name: value`, `"name": "v"`).
#: Each vendor prefix with the characters its keys are made of: most are letters and digits
#: only, so a file name such as `vercel-ai_xai-tool-call.yaml` is not taken for a key.
_KEY_SHAPES = {
    "sk-": "[A-Za-z0-9_-]{16,}",
    "ya29.": "[A-Za-z0-9_-]{20,}",
    "tgp_v1_": "[A-Za-z0-9_-]{20,}",
    "github_pat_": "[A-Za-z0-9_]{20,}",
    **dict.fromkeys(
        ("gsk_", "xai-", "csk-", "fw_", "hf_", "r8_", "pplx-", "ghp_"), "[A-Za-z0-9]{20,}"
    ),
}
#: Prefixes no word holds: a key glued to the text before it (`Hellosk-proj-...`) is found.
_DISTINCT_PREFIXES = ("sk-proj-", "sk-ant-", "sk-svcacct-", "sk-admin-")
#: One pattern per literal prefix: the regex engine finds a literal prefix fast, an
#: alternation of them slowly (a cassette can hold megabytes). A short prefix counts only
#: where a token starts (not after a letter or digit: `risk-assessment-framework` holds no
#: `sk-` key); the check looks back from after the prefix, so the pattern still starts with
#: the literal.
_SHAPED = (
    *(
        re.compile(f"{re.escape(prefix)}(?<![A-Za-z0-9]{re.escape(prefix)}){body}")
        for prefix, body in _KEY_SHAPES.items()
    ),
    *(re.compile(re.escape(prefix) + "[A-Za-z0-9_-]{16,}") for prefix in _DISTINCT_PREFIXES),
    re.compile(r"AIza[0-9A-Za-z_-]{30,}"),
    re.compile(r"AKIA[0-9A-Z]{16}"),
    re.compile(r"Bearer [A-Za-z0-9._~+/=-]{16,}"),
)
_CREDENTIAL_WORDS = (
    "api_key", "api-key", "apikey", "secret", "password", "passwd", "credential",
    "authorization", "access_token", "access-token", "accesstoken", "refresh_token",
    "refresh-token", "id_token", "id-token", "auth_token", "auth-token", "authtoken",
    "session_token", "session-token", "private_key", "private-key", "privatekey", "cookie",
)  # fmt: skip
_CREDENTIAL_NAME = "|".join(re.escape(word) for word in _CREDENTIAL_WORDS)
#: What follows a credential word in a name (`x-api-key: value`, `"client_secret": "..."`):
#: the rest of the name, the separator, then a quoted value (any length) or a bare one that
#: looks like a key, after the auth scheme that may name it (`Authorization: Basic ...`).
_AFTER_NAME = re.compile(
    r'[\w-]{0,40}"?\s*[:=]\s*(?:"((?:[^"\\\n]|\\.)*)"|'
    r"(?:(?i:basic|bearer|token|digest|apikey|key)\s+)?([A-Za-z0-9_.~+/=-]{16,}))"
)
_NAMED = re.compile(
    rf"(?i)(?:{_CREDENTIAL_NAME})[\w-]{{0,40}}\"?\s*[:=]\s*\"?[A-Za-z0-9_.~+/=-]{{16,}}"
)
#: What the secret scan looks for, line by line.
SECRET_PATTERNS = (*_SHAPED, _NAMED)
#: Where a credential hides in a URL: its user information, and query (or fragment)
#: parameters whose name holds a credential word (`?key=`, `&access_token=`, `?sig=`,
#: `?subscription-key=`, `#id_token=`); every value is a secret, whatever its length.
_URL_USERINFO = re.compile(r"(://)[^/?#\s@\"'<>]*@")
_QUERY_CREDENTIAL = re.compile(
    r"([?&;#](?i:code|sig|[\w-]{0,40}(?:key|token|secret|signature|passw|auth|credential|"
    r"session|cookie)[\w-]{0,40})=)"
    r"[^&#\s\"'<>]+"
)
#: A field called just `token` or `key` is a credential only when its value looks like one:
#: a log-probability entry's `token` is a word of the answer.
_JSON_BARE_CREDENTIAL = re.compile(r'("(?i:token|key)"\s*:\s*)"[A-Za-z0-9_.~+/=-]{16,}"')
_ASCII_LOWER = str.maketrans(string.ascii_uppercase, string.ascii_lowercase)


#: Where `record` and `import` write by default, and what replay reads first: the folder the
#: command runs in, so a user's own cassettes never go into the installed package.
LOCAL_ROOT = Path("cassettes")
#: One folder, or several read in order (the user's own, then the bundled ones).
CassetteRoot = Path | tuple[Path, ...]


def bundled_root() -> Path:
    """The cassettes shipped with the package: inside an installed wheel, or the checkout's
    `cassettes/` folder when the package runs from source (an editable install)."""
    package = Path(__file__).resolve().parent
    shipped = package / "bundled_cassettes"
    return shipped if shipped.is_dir() else package.parent / "cassettes"


def replay_roots() -> tuple[Path, ...]:
    """What replay reads when no folder is named: `./cassettes` if there is one (a user's
    imports and recordings), then the bundled cassettes."""
    roots = [LOCAL_ROOT] if LOCAL_ROOT.is_dir() else []
    bundled = bundled_root()
    if not any(root.resolve() == bundled.resolve() for root in roots):
        roots.append(bundled)
    return tuple(roots)


def roots_of(root: CassetteRoot) -> tuple[Path, ...]:
    return (root,) if isinstance(root, Path) else root


def cassette_path(root: Path, vendor: str, scenario: str) -> Path:
    """root/vendor/scenario.yaml; a name that would lead out of `root` is refused."""
    path = root / vendor / f"{scenario}.yaml"
    inside = path.is_relative_to(root) and ".." not in path.relative_to(root).parts
    if not inside or not path.resolve().is_relative_to(root.resolve()):
        raise CassetteError(f"cassette name {vendor}/{scenario} leads outside {root}")
    return path


def find_cassette(root: CassetteRoot, vendor: str, scenario: str) -> Path:
    """The cassette in the first root that holds it; else where the first root would."""
    candidates = [cassette_path(folder, vendor, scenario) for folder in roots_of(root)]
    return next((path for path in candidates if path.is_file()), candidates[0])


def record_command(
    vendor: str, scenario: str, source: Source = "replica", model: str | None = None
) -> str:
    """The command that re-records one cassette, with the model it was recorded with; ids
    are quoted (`[...]` is a shell glob)."""
    flag = " --replica" if source == "replica" else ""
    chosen = f" --model {shlex.quote(model)}" if model else ""
    return (
        f"llm-contracts record --vendor {vendor} --scenario {shlex.quote(scenario)}{flag}{chosen}"
    )


#: Keys shorter than this (`x`, `EMPTY`, `the`) are too likely to occur by chance in an answer
#: to be replaced wherever they appear: that would garble the text and still hide nothing. Such
#: a key stays out of cassettes only because the headers that carry it are never recorded.
MIN_SCRUBBED_KEY = 8


def scrubbable(secrets: Iterable[str]) -> tuple[str, ...]:
    """The secrets long enough to be replaced in recorded text (see MIN_SCRUBBED_KEY)."""
    return tuple(secret for secret in secrets if len(secret) >= MIN_SCRUBBED_KEY)


def known_key_values() -> tuple[str, ...]:
    """Values of every key variable the bundled profiles name, as set in this environment."""
    names = {load_profile(v).api_key_env for v in available_vendors()} - {None}
    return scrubbable(os.environ.get(str(name), "") for name in names)


def scrub(text: str, secrets: Iterable[str] = ()) -> str:
    """`text` with every scrubbable secret (given or in a key variable) replaced."""
    for secret in scrubbable((*secrets, *known_key_values())):
        text = text.replace(secret, REDACTED)
    return text


def scrub_values(document: Any, secrets: Iterable[str] = ()) -> Any:
    """The document with secrets replaced inside its string values, never in its serialized
    form: replacing in YAML text can break an escape (`\\x06` with the key `x`)."""
    hidden = scrubbable((*secrets, *known_key_values()))
    if not hidden:
        return document

    def walk(value: Any) -> Any:
        if isinstance(value, str):
            for secret in hidden:
                value = value.replace(secret, REDACTED)
            return value
        if isinstance(value, dict):
            return {walk(key): walk(item) for key, item in value.items()}
        if isinstance(value, list):
            return [walk(item) for item in value]
        return value

    return walk(document)


_KEY_TAIL = re.compile(r"[A-Za-z0-9_.~+/=-]{16,}$")


def _redact_named(text: str) -> str:
    """The value after every credential word used as a name, found by plain substring
    search (case-insensitive patterns are slow on megabytes)."""
    # The same length as `text`, so positions carry over (str.lower can lengthen non-ASCII).
    lowered = text.lower() if text.isascii() else text.translate(_ASCII_LOWER)
    name_ends = set()
    for word in _CREDENTIAL_WORDS:
        at = lowered.find(word)
        while at != -1:
            name_ends.add(at + len(word))
            at = lowered.find(word, at + 1)
    pieces, done = [], 0
    for end in sorted(name_ends):
        found = _AFTER_NAME.match(text, end) if end >= done else None
        if found is None:
            continue
        quoted = found.group(1) is not None
        value_at = found.start(1) - 1 if quoted else found.start(2)
        pieces += [text[done:value_at], f'"{REDACTED}"' if quoted else REDACTED]
        done = found.end()
    return "".join([*pieces, text[done:]])


def redact_key_shaped(text: str) -> str:
    """Replace the value of anything that looks like a credential, keeping what names it
    (`Bearer`, `"api_key": "`, `?key=`, `https://`), so JSON and URLs around it stay valid."""

    def redact(match: re.Match[str]) -> str:
        found = match.group(0)
        tail = _KEY_TAIL.search(found)
        return found[: tail.start()] + REDACTED if tail else REDACTED

    text = _URL_USERINFO.sub(rf"\1{REDACTED}@", text)
    text = _QUERY_CREDENTIAL.sub(rf"\1{REDACTED}", text)
    text = _JSON_BARE_CREDENTIAL.sub(rf'\1"{REDACTED}"', text)
    text = _redact_named(text)
    for pattern in _SHAPED:
        text = pattern.sub(redact, text)
    return text


# -- the readable serializer -------------------------------------------------------------------


def _text(body: Any) -> str:
    if body is None:
        return ""
    if isinstance(body, bytes):
        return body.decode("utf-8", "replace")
    if isinstance(body, dict):  # vcrpy's response body: {"string": ...}
        return _text(body.get("string"))
    return str(body)


def _stable_uri(uri: str) -> str:
    """Loopback ports are ephemeral: drop them so re-recording does not churn the diff."""
    parts = urlsplit(uri)
    if parts.hostname in ("127.0.0.1", "localhost") and parts.port:
        return parts._replace(netloc=parts.hostname).geturl()
    return uri


def _headers(headers: dict[str, Any], allowed: frozenset[str]) -> dict[str, list[str]]:
    kept = {}
    for name, value in headers.items():
        if name.lower() in allowed:
            kept[name.lower()] = (
                [str(v) for v in value] if isinstance(value, list) else [str(value)]
            )
    return kept


def _body_out(text: str, content_type: str) -> dict[str, Any]:
    if "event-stream" in content_type:
        return {"sse": text}
    if text:
        try:
            return {"json": json.loads(text)}
        except ValueError:
            pass
    return {"text": text}


def body_text(body: dict[str, Any]) -> str:
    """A readable body back as the text that went over the wire."""
    if "json" in body:
        return json.dumps(body["json"])
    return str(body.get("sse", body.get("text", "")))


def redact_values(document: Any) -> Any:
    """`document` with `redact_key_shaped` applied to each of its strings: for what a recording
    controls outside the bodies (a header kept, a model or a date read into `meta`)."""
    if isinstance(document, str):
        return redact_key_shaped(document)
    if isinstance(document, dict):
        return {key: redact_values(value) for key, value in document.items()}
    if isinstance(document, list):
        return [redact_values(value) for value in document]
    return document


def readable(interaction: dict[str, Any]) -> dict[str, Any]:
    """One vcrpy interaction as the cassette file shows it: allowed headers, readable bodies."""
    request, response = interaction["request"], interaction["response"]
    request_headers = _headers(request.get("headers", {}), _REQUEST_HEADERS)
    # A server can echo a key anywhere, in a request id too.
    response_headers = redact_values(_headers(response.get("headers", {}), _RESPONSE_HEADERS))
    # A key can travel outside the auth header (`?key=`, `user:pass@`, a body field): the
    # URI and both bodies lose anything credential-shaped before they are written.
    return {
        "request": {
            "method": request["method"],
            "uri": redact_key_shaped(_stable_uri(request["uri"])),
            "headers": request_headers,
            "body": _body_out(
                redact_key_shaped(_text(request.get("body"))),
                request_headers.get("content-type", [""])[0],
            ),
        },
        "response": {
            "status": response["status"],
            "headers": response_headers,
            "body": _body_out(
                redact_key_shaped(_text(response.get("body"))),
                response_headers.get("content-type", [""])[0],
            ),
        },
    }


def dump(document: dict[str, Any], secrets: Iterable[str] = ()) -> str:
    """The cassette document as reviewable YAML, with every known secret scrubbed."""
    return yaml_io.dump(scrub_values(document, secrets))


def serialize(cassette: dict[str, Any]) -> str:
    """vcrpy's cassette as this module writes it (for a user recording with plain vcrpy)."""
    interactions = [readable(interaction) for interaction in cassette.get("interactions", [])]
    return dump({"meta": {}, "interactions": interactions, "version": 1})


def deserialize(text: str) -> dict[str, Any]:
    document = yaml_io.load(text) or {}
    interactions = []
    for interaction in document.get("interactions", []):
        request, response = interaction["request"], interaction["response"]
        interactions.append(
            {
                "request": {**request, "body": body_text(request["body"])},
                "response": {**response, "body": {"string": body_text(response["body"]).encode()}},
            }
        )
    return {"interactions": interactions, "version": document.get("version", 1)}


class _Serializer:
    """vcrpy's serializer interface over this module's two functions."""

    serialize = staticmethod(serialize)
    deserialize = staticmethod(deserialize)


#: Register it to read these cassettes with plain vcrpy:
#: `my_vcr.register_serializer("llm_contracts_yaml", contracts.cassettes.vcr_serializer)`.
vcr_serializer = _Serializer()


def read_document(path: Path) -> dict[str, Any]:
    return parse_document(path.read_text(encoding="utf-8"))


def parse_document(text: str) -> dict[str, Any]:
    """A cassette's text as its document (an empty file is an empty one)."""
    return dict(yaml_io.load(text) or {})


class CassetteError(ValueError):
    """A cassette file that replay cannot use; the message says why, not where."""


def _check_interactions(interactions: Any) -> None:
    """What replay relies on, refused here with where it is wrong rather than deep in vcrpy."""
    # None at all is a case whose request was refused before anything was sent.
    if not isinstance(interactions, list):
        raise CassetteError("its interactions are not a list")
    for number, interaction in enumerate(interactions, start=1):
        where = f"interaction {number}"
        if not isinstance(interaction, dict):
            raise CassetteError(f"{where} is not a mapping")
        request, response = interaction.get("request"), interaction.get("response")
        if not isinstance(request, dict) or not isinstance(response, dict):
            raise CassetteError(f"{where} lacks a request or a response mapping")
        if not isinstance(request.get("uri"), str) or not isinstance(request.get("method"), str):
            raise CassetteError(f"{where}: request uri and method must be strings")
        status = response.get("status")
        code = status.get("code") if isinstance(status, dict) else None
        if type(code) is not int or not 100 <= code <= 599:
            raise CassetteError(f"{where}: response status code must be an integer 100-599")
        for side, part in (("request", request), ("response", response)):
            if not isinstance(part.get("body"), dict):
                raise CassetteError(f"{where}: the {side} body is not a mapping")


def read_checked(path: Path) -> tuple[str, dict[str, Any]]:
    """The cassette's text and its whole document, once it is known to be complete and shaped
    as replay needs."""
    try:
        text = bounded_files.read_text(path, "cassette")
        document = yaml_io.load(text)
    except bounded_files.UnreadableFile as exc:
        # The caller names the file: the message says what is wrong with "it".
        raise CassetteError(str(exc).replace(f"cassette {path}", "it", 1)) from None
    except yaml.YAMLError as exc:
        raise CassetteError(f"not valid YAML: {str(exc).splitlines()[0]}") from None
    except RecursionError:
        raise CassetteError("it is nested too deeply") from None
    if not isinstance(document, dict) or "version" not in document:
        raise CassetteError("it is cut short: no closing `version` line")
    _check_interactions(document.get("interactions"))
    if not isinstance(document.get("meta") or {}, dict):
        raise CassetteError("its meta is not a mapping")
    return text, document


def read_meta(path: Path) -> dict[str, Any]:
    return dict(read_document(path).get("meta") or {})


def read_interactions(path: Path) -> list[dict[str, Any]]:
    return list(read_document(path).get("interactions") or [])


def exchange_of(interaction: dict[str, Any]) -> Exchange:
    """One readable interaction as the oracle reads it."""
    response = interaction["response"]
    return Exchange(
        request=interaction["request"]["body"].get("json"),
        status=int(response["status"]["code"]),
        content_type=(response.get("headers", {}).get("content-type") or [""])[0],
        body=body_text(response["body"]),
    )


def exchanges(path: Path) -> list[Exchange]:
    """The cassette's interactions as the oracle reads them."""
    return [exchange_of(interaction) for interaction in read_interactions(path)]


# -- recording ---------------------------------------------------------------------------------


@contextmanager
def recording(
    path: Path,
    meta: dict[str, Any],
    secrets: Iterable[str],
    *,
    max_bytes: int = recorder.MAX_RECORDED_BYTES,
) -> Iterator[recorder.Recording]:
    """Record afresh into `path` (replacing it) what recording clients exchange inside the
    block, with `meta` and the given secrets scrubbed. No file is left when nothing was
    exchanged (no server answered) or a response could not be kept whole (`failure`)."""
    with recorder.recorded(str(meta.get("vendor", "")), max_bytes) as taken:
        yield taken
    if taken.exchanges and taken.failure is None:
        interactions = [exchange.interaction() for exchange in taken.exchanges]
        write_recording(path, meta, interactions, secrets)
    else:
        path.unlink(missing_ok=True)


def write_recording(
    path: Path,
    meta: dict[str, Any],
    interactions: list[dict[str, Any]],
    secrets: Iterable[str] = (),
) -> None:
    """The cassette of `interactions` (vcrpy's shape), scrubbed, replacing `path`. None at all
    is a request the provider refused before sending it. When the interactions equal the
    replaced cassette's, its `recorded_at` stays."""
    previous = path.read_text(encoding="utf-8", errors="replace") if path.is_file() else None
    document = {"meta": meta, "interactions": [readable(i) for i in interactions], "version": 1}
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(dump(document, secrets), encoding="utf-8")
    if previous is not None:
        _keep_recorded_at(previous, path)


def _keep_recorded_at(previous_text: str, path: Path) -> None:
    """The earlier recording still shows exactly this traffic: keep its date, so re-recording
    everything leaves unchanged cassettes unchanged in the diff."""
    try:
        previous = yaml_io.load(previous_text)
    except yaml.YAMLError:
        return
    if not isinstance(previous, dict):
        return
    recorded_at = (previous.get("meta") or {}).get("recorded_at")
    fresh = read_document(path)
    if recorded_at is None or fresh.get("interactions") != previous.get("interactions"):
        return
    fresh["meta"] = {**(fresh.get("meta") or {}), "recorded_at": recorded_at}
    path.write_text(dump(fresh), encoding="utf-8")


# -- the secret scan ---------------------------------------------------------------------------


@dataclass(frozen=True)
class SecretFinding:
    path: Path
    line: int
    excerpt: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.excerpt}"


def scan_for_secrets(root: Path) -> list[SecretFinding]:
    """Everything under `root` that looks like a credential."""
    findings = []
    for path in sorted(root.rglob("*.yaml")):
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
            for pattern in SECRET_PATTERNS:
                match = pattern.search(line)
                if match:  # one finding a line, whichever pattern saw it first
                    findings.append(SecretFinding(path, number, match.group(0)[:12] + "..."))
                    break
    return findings
