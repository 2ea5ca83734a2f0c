"""Import real traffic recorded elsewhere as this project's cassettes, with frozen expectations.

Readers turn each supported format into recorded exchanges: vcrpy cassettes (YAML or JSON;
string, base64 and gzip bodies; pydantic-ai's `parsed_body`), HAR 1.2, one JSON chunk per line
(vercel/ai's `*.chunks.txt`) and raw SSE bodies. The format is detected from the content. Only
exchanges of the vendor's wire protocol are kept (Chat Completions, Anthropic Messages or the
Responses API; for a vendor without a profile, the protocol whose endpoint the recording
called); each becomes one cassette, scrubbed, with provenance in `meta` and an `expected`
block computed by that protocol's independent reader. A file is written whole or
not at all (a temporary file, then a rename).
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import gzip
import io
import json
import os
import re
import tempfile
import zlib
from collections.abc import Callable, Iterable
from contextvars import ContextVar
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit

import yaml

from contracts import bounded_files, cassettes, yaml_io
from contracts.expected import freeze
from contracts.observed import sse_payloads
from contracts.protocols import WireProtocol, protocol_for
from providers.protocols import PROTOCOLS, load_reference
from providers.vendors import NAME_PATTERN, VendorProfile, find_profile, load_profile

Format = Literal["vcr", "har", "chunks", "sse"]
FORMATS: tuple[Format, ...] = ("vcr", "har", "chunks", "sse")
IMPORTED_DIR = "imported"
_SSE_FIELD = re.compile(r"^(data|event|id|retry):|^:")
_SUFFIXES = (".yaml", ".yml", ".json", ".har", ".txt", ".chunks", ".sse", ".xai")
#: The largest recording read.
MAX_FILE_BYTES = bounded_files.MAX_FILE_BYTES
#: Exchanges in one file: each becomes a cassette, so a few megabytes of tiny interactions
#: would otherwise write tens of thousands of files (a real recording holds a handful).
MAX_INTERACTIONS = 1000
#: What all of one file's gzip bodies may decompress to, together.
MAX_DECOMPRESSED_BYTES = 256 * 1024 * 1024
_PREFIX = re.compile(r"[a-z0-9_-]*")


class ImportRefused(ValueError):
    """The file cannot be read as recorded traffic of the vendor's protocol; the message says
    why."""


@dataclass(frozen=True)
class Recorded:
    """One exchange as another tool recorded it."""

    method: str
    uri: str | None
    request: dict[str, Any] | None
    status: int
    headers: dict[str, list[str]]
    body: str
    recorded_at: str | None = None

    @property
    def content_type(self) -> str:
        return (self.headers.get("content-type") or [""])[0]


@dataclass(frozen=True)
class Origin:
    """Where the recordings come from: a repository at a commit, or just the file."""

    repository: str | None = None
    commit: str | None = None
    root: Path | None = None
    license: str | None = None

    def describe(self, path: Path) -> dict[str, str]:
        if self.repository is None:
            return {"file": path.name}
        relative = path
        if self.root is not None:
            if not path.resolve().is_relative_to(self.root.resolve()):
                raise ImportRefused(f"{path} is not under the origin root {self.root}")
            relative = path.resolve().relative_to(self.root.resolve())
        described = {"repository": self.repository, "path": relative.as_posix()}
        if self.commit:
            described["commit"] = self.commit
        return described


@dataclass
class ImportResult:
    written: list[Path] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)


# -- bodies ------------------------------------------------------------------------------------


class _Budget:
    """What one file's compressed bodies may still decompress to: a few kilobytes of gzip can
    stand for gigabytes, one body at a time or spread over many."""

    def __init__(self, total: int) -> None:
        self.left = total

    def gunzip(self, raw: bytes) -> bytes:
        try:
            with gzip.GzipFile(fileobj=io.BytesIO(raw)) as stream:
                data = stream.read(self.left + 1)
        except (OSError, EOFError, zlib.error) as exc:
            raise ImportRefused(f"a gzip body does not decompress: {exc}") from None
        if len(data) > self.left:
            raise ImportRefused(
                f"gzip bodies decompress to more than {MAX_DECOMPRESSED_BYTES} bytes in all "
                "(a decompression bomb?)"
            )
        self.left -= len(data)
        return data


#: The budget of the file being read (set by `read`).
_budget: ContextVar[_Budget] = ContextVar("import_budget")


def _decoded(raw: bytes) -> str:
    if raw[:2] == b"\x1f\x8b":
        raw = _budget.get().gunzip(raw)
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        raise ImportRefused("a body is neither UTF-8 text nor gzip-compressed text") from None


def _base64(text: str) -> str:
    try:
        return _decoded(base64.b64decode(text, validate=True))
    except binascii.Error:
        raise ImportRefused("a body marked base64 is not valid base64") from None


def _body(value: Any) -> str:
    """A vcrpy body: a string, bytes (YAML !!binary), {"string": ...} or {"base64_string": ...}."""
    if value is None:
        return ""
    if isinstance(value, bytes):
        return _decoded(value)
    if isinstance(value, dict):
        if "base64_string" in value:
            return _base64(str(value["base64_string"]))
        return _body(value.get("string"))
    return str(value)


def _headers(raw: Any) -> dict[str, list[str]]:
    """vcrpy's {name: [values]} or HAR's [{name, value}], with lower-case names."""
    found: dict[str, list[str]] = {}
    if isinstance(raw, list):
        for header in raw:
            found.setdefault(str(header["name"]).lower(), []).append(str(header["value"]))
    elif isinstance(raw, dict):
        for name, value in raw.items():
            values = value if isinstance(value, list) else [value]
            found[str(name).lower()] = [str(v) for v in values]
    return found


def _json_or_none(text: str) -> dict[str, Any] | None:
    try:
        parsed = json.loads(text)
    except (ValueError, RecursionError):
        return None
    return parsed if isinstance(parsed, dict) else None


# -- readers -----------------------------------------------------------------------------------


def _vcr_side(side: dict[str, Any]) -> str:
    """pydantic-ai's serializer keeps JSON bodies parsed, under `parsed_body`."""
    if "parsed_body" in side:
        return json.dumps(side["parsed_body"], ensure_ascii=False)
    return _body(side.get("body"))


def _status(value: Any) -> int:
    """An HTTP status as a recording states it: an integer 100-599, or refused."""
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value)
    if type(value) is not int or not 100 <= value <= 599:
        raise ImportRefused(f"a response status is {str(value)[:20]!r}, not an HTTP status")
    return value


def _uri(value: Any) -> str | None:
    if value is not None and not isinstance(value, str):
        raise ImportRefused(f"a request URL is a {type(value).__name__}, not a string")
    return value


def _read_vcr(document: dict[str, Any]) -> list[Recorded]:
    found = []
    for interaction in document.get("interactions") or []:
        request, response = interaction["request"], interaction["response"]
        headers = _headers(response.get("headers"))
        status = response.get("status")
        found.append(
            Recorded(
                method=str(request.get("method", "POST")).upper(),
                uri=_uri(request.get("uri")),
                request=_json_or_none(_vcr_side(request)),
                status=_status(status["code"] if isinstance(status, dict) else status),
                headers=headers,
                body=_vcr_side(response),
                recorded_at=next(iter(headers.get("date") or []), None),
            )
        )
    return found


def _read_har(document: dict[str, Any]) -> list[Recorded]:
    found = []
    for entry in document["log"].get("entries") or []:
        request, response = entry["request"], entry["response"]
        content = response.get("content") or {}
        text = str(content.get("text") or "")
        headers = _headers(response.get("headers"))
        if content.get("mimeType") and "content-type" not in headers:
            headers["content-type"] = [str(content["mimeType"])]
        found.append(
            Recorded(
                method=str(request.get("method", "POST")).upper(),
                uri=_uri(request.get("url")),
                request=_json_or_none(str((request.get("postData") or {}).get("text") or "")),
                status=_status(response["status"]),
                headers=headers,
                body=_base64(text) if content.get("encoding") == "base64" else text,
                recorded_at=entry.get("startedDateTime"),
            )
        )
    return found


def _created(payloads: Iterable[Any]) -> str | None:
    for payload in payloads:
        created = payload.get("created") if isinstance(payload, dict) else None
        if isinstance(created, int) and created > 0:
            return dt.datetime.fromtimestamp(created, dt.UTC).isoformat()
    return None


def _stream(body: str) -> Recorded:
    """A bare streamed body: what was asked was not recorded."""
    return Recorded(
        method="POST",
        uri=None,
        request=None,
        status=200,
        headers={"content-type": ["text/event-stream"]},
        body=body,
    )


def _read_chunks(text: str) -> list[Recorded]:
    lines = [line for line in text.splitlines() if line.strip()]
    return [_stream("".join(f"data: {line}\n\n" for line in lines))]


def _read_sse(text: str) -> list[Recorded]:
    return [_stream(text)]


def _lines_are(text: str, test: Callable[[str], bool]) -> bool:
    lines = [line for line in text.splitlines() if line.strip()]
    return bool(lines) and all(test(line) for line in lines)


def _is_chunk_line(line: str) -> bool:
    return _json_or_none(line) is not None


def detect(text: str) -> Format:
    """The format of a recording, from its content alone."""
    whole = _json_or_none(text)
    if whole is not None:
        if isinstance(whole.get("log"), dict) and "entries" in whole["log"]:
            return "har"
        if "interactions" in whole:
            return "vcr"
    if _lines_are(text, lambda line: bool(_SSE_FIELD.match(line))) and "data:" in text:
        return "sse"
    if _lines_are(text, _is_chunk_line):
        return "chunks"
    try:
        document = yaml_io.load(text)
    except yaml_io.YamlExpansionError as exc:
        raise ImportRefused(f"not a recording: {exc}") from None
    except (yaml.YAMLError, RecursionError):
        document = None
    if isinstance(document, dict) and "interactions" in document:
        return "vcr"
    raise ImportRefused(
        "not a recording this tool reads: expected a vcrpy cassette (YAML or JSON), a HAR 1.2 "
        "file, one JSON chunk per line, or a raw SSE body (use --format to force one)"
    )


def _why_unreadable(exc: Exception) -> str:
    """What went wrong, without repeating the file's content (a key can sit next to the fault):
    a YAML error gives its problem and position, not its excerpt."""
    if isinstance(exc, yaml.MarkedYAMLError) and exc.problem_mark is not None:
        mark = exc.problem_mark
        return f"{exc.problem} at line {mark.line + 1}, column {mark.column + 1}"
    if isinstance(exc, json.JSONDecodeError):
        return f"{exc.msg} at line {exc.lineno}, column {exc.colno}"
    if isinstance(exc, RecursionError):
        return "it is nested too deeply"
    if isinstance(exc, KeyError):
        return "a field it needs is missing"
    return f"{type(exc).__name__}: {cassettes.redact_key_shaped(str(exc))[:200]}"


def read(text: str, form: Format) -> list[Recorded]:
    token = _budget.set(_Budget(MAX_DECOMPRESSED_BYTES))
    try:
        if form == "chunks":
            return _read_chunks(text)
        if form == "sse":
            return _read_sse(text)
        document = json.loads(text) if form == "har" else yaml_io.load(text)
        if not isinstance(document, dict):
            raise ImportRefused(f"not a {form} document: the top level is not a mapping")
        return _read_har(document) if form == "har" else _read_vcr(document)
    except ImportRefused:
        raise
    except (
        KeyError, TypeError, ValueError, AttributeError, RecursionError, yaml.YAMLError
    ) as exc:  # fmt: skip
        raise ImportRefused(f"not a readable {form} recording: {_why_unreadable(exc)}") from None
    finally:
        _budget.reset(token)


# -- what counts as the protocol's traffic -----------------------------------------------------


def why_not_protocol(recorded: Recorded, protocol: WireProtocol) -> str | None:
    """Why this exchange is not one of `protocol`, or None when it is."""
    if recorded.uri is not None:
        path = urlsplit(recorded.uri).path.rstrip("/")
        if not path.endswith(protocol.endpoint):
            return (
                f"{recorded.method} {path or '/'} is not a {protocol.endpoint} request "
                f"({protocol.title})"
            )
    if recorded.status >= 400:
        return None
    streamed = "event-stream" in recorded.content_type
    payloads = sse_payloads(recorded.body)[0] if streamed else [_json_or_none(recorded.body)]
    if not any(isinstance(p, dict) and protocol.is_answer(p, streamed=streamed) for p in payloads):
        where = "stream" if streamed else "response body"
        return f"the {where} carries no {protocol.title} answer"
    return None


# -- writing -----------------------------------------------------------------------------------


def _profile(vendor: str, recorded: list[Recorded]) -> tuple[VendorProfile, bool]:
    """The vendor's profile, or a plain one (its protocol's standard finish map) when none is
    installed: of the protocol whose endpoint the recording called, else Chat Completions."""
    if find_profile(vendor) is not None:
        return load_profile(vendor), True
    paths = [urlsplit(r.uri).path.rstrip("/") for r in recorded if r.uri is not None]
    called = next(
        (
            name
            for name, entry in PROTOCOLS.items()
            if any(path.endswith(load_reference(entry.suite).endpoint) for path in paths)
        ),
        "openai_chat",
    )
    return VendorProfile(
        name=vendor, protocol=called, base_url=f"https://{vendor}.invalid/v1", default_model=""
    ), False


def _model(recorded: Recorded) -> str | None:
    for payload in [_json_or_none(recorded.body), *sse_payloads(recorded.body)[0][:1]]:
        if isinstance(payload, dict) and payload.get("model"):
            return str(payload["model"])
    return str((recorded.request or {}).get("model") or "") or None


def slug(name: str) -> str:
    for suffix in _SUFFIXES * 2:
        name = name.removesuffix(suffix)
    cleaned = re.sub(r"[^a-z0-9_-]+", "_", name.lower()).strip("_-")
    return cleaned or "recording"


def _interaction(recorded: Recorded, profile: VendorProfile, endpoint: str) -> dict[str, Any]:
    """The recorded exchange as vcrpy holds one. Its bodies are redacted by `cassettes.readable`
    (once: a pass over a long body is a quarter of an import); the URI here already, since its
    user information can hold what `readable`'s URL parsing refuses."""
    uri = recorded.uri or f"{profile.base_url.rstrip('/')}/{endpoint}"
    request_body = json.dumps(recorded.request, ensure_ascii=False) if recorded.request else ""
    return {
        "request": {
            "method": recorded.method,
            "uri": cassettes.redact_key_shaped(uri),
            "headers": {"content-type": ["application/json"]} if request_body else {},
            "body": request_body,
        },
        "response": {
            "status": {"code": recorded.status, "message": ""},
            "headers": recorded.headers,
            "body": {"string": recorded.body},
        },
    }


def _write_whole(path: Path, text: str) -> None:
    """Write all of `text` or nothing: a temporary file beside `path`, then a rename."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            out.write(text)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def _meta(
    recorded: Recorded,
    *,
    vendor: str,
    form: Format,
    source_path: Path,
    origin: Origin,
    profiled: bool,
    part: str | None,
) -> dict[str, Any]:
    meta: dict[str, Any] = {
        "source": "imported",
        "vendor": vendor,
        "origin": origin.describe(source_path),
    }
    if part:
        meta["origin"]["interaction"] = part
    if origin.license:
        meta["license"] = origin.license
    created = _created([_json_or_none(recorded.body), *sse_payloads(recorded.body)[0][:1]])
    meta["recorded_at"] = recorded.recorded_at or created or "unknown"
    meta["model"] = _model(recorded) or "unknown"
    meta["format"] = form
    meta["imported_at"] = dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat()
    if recorded.request is None:
        meta["request"] = "not recorded: the request under interactions is a stand-in for replay"
    if not profiled:
        meta["profile"] = f"none for {vendor} at import: stop reasons by the standard map"
    # The model and the dates come from the recording, which may hold anything.
    return dict(cassettes.redact_values(meta))


def read_text(path: Path) -> str:
    """A recording's text: a regular file of at most `MAX_FILE_BYTES`, UTF-8."""
    try:
        return bounded_files.read_text(path, "recording", MAX_FILE_BYTES)
    except bounded_files.UnreadableFile as exc:
        raise ImportRefused(str(exc)) from None


def import_file(
    path: Path,
    *,
    vendor: str,
    root: Path,
    origin: Origin = Origin(),
    form: Format | None = None,
    prefix: str = "",
    taken: set[Path] | None = None,
) -> ImportResult:
    """Convert one recording into cassettes under root/vendor/imported/ (one per exchange).

    `taken` holds the cassettes written earlier in the same run: a file whose name would
    replace one of them is refused, not written over it.
    """
    if not re.fullmatch(NAME_PATTERN, vendor):
        raise ImportRefused(f"vendor name {vendor!r}: use lower-case letters, digits and _")
    if not _PREFIX.fullmatch(prefix):
        raise ImportRefused(
            f"prefix {prefix!r}: use lower-case letters, digits, _ and - (it names files)"
        )
    text = read_text(path)
    chosen = form or detect(text)
    recorded = read(text, chosen)
    if len(recorded) > MAX_INTERACTIONS:
        raise ImportRefused(
            f"{path} holds more than {MAX_INTERACTIONS} interactions ({len(recorded)}): split "
            "it, or import the exchanges that matter"
        )
    result = ImportResult()
    profile, profiled = _profile(vendor, recorded)
    protocol = protocol_for(profile)
    kept = []
    for number, exchange in enumerate(recorded, start=1):
        reason = why_not_protocol(exchange, protocol)
        if reason:
            result.skipped.append(f"{path}: interaction {number}: {reason}")
        else:
            kept.append((number, exchange))
    if not kept:
        reasons = "; ".join(s.split(": ", 1)[1] for s in result.skipped) or "no interactions"
        raise ImportRefused(f"{path}: nothing to import ({reasons})")
    name = prefix + slug(path.name)
    folder = _folder(root, vendor)
    suffixes = [f"_{number}" if len(kept) > 1 else "" for number, _ in kept]
    clashes = sorted({folder / f"{name}{suffix}.yaml" for suffix in suffixes} & (taken or set()))
    if clashes:
        raise ImportRefused(
            f"{path}: would replace {clashes[0]}, imported from another file in this run; "
            "import it with its own --prefix"
        )
    for (number, exchange), suffix in zip(kept, suffixes, strict=True):
        part = f"{number} of {len(recorded)}" if len(recorded) > 1 else None
        interaction = _interaction(exchange, profile, protocol.endpoint)
        readable = cassettes.readable(interaction)
        frozen = freeze(cassettes.exchange_of(readable), profile)
        document = {
            "meta": _meta(
                exchange,
                vendor=vendor,
                form=chosen,
                source_path=path,
                origin=origin,
                profiled=profiled,
                part=part,
            ),
            "expected": frozen.model_dump(mode="json"),
            "interactions": [readable],
            "version": 1,
        }
        target = folder / f"{name}{suffix}.yaml"
        _write_whole(target, cassettes.dump(document))
        result.written.append(target)
        if taken is not None:
            taken.add(target)
    return result


def _folder(root: Path, vendor: str) -> Path:
    """root/vendor/imported, refused when a symlink on the way leads outside `root`."""
    folder = root / vendor / IMPORTED_DIR
    if not folder.resolve().is_relative_to(root.resolve()):
        raise ImportRefused(f"{folder} leads outside {root} (a symlink?): nothing written")
    return folder
