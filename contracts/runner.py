"""Run one contract case against a provider: from the replica, a cassette, or a live endpoint.

The provider is only ever seen through `LlmProvider`, built by a factory from a base URL and a
key, so the same runner certifies ours and anyone else's. Whatever the source, the outcome
keeps the recorded exchanges, so checks judge the events against what was really sent.
"""

from __future__ import annotations

import datetime as dt
import importlib.metadata
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit

from pydantic import SecretStr

from contracts import cassettes
from contracts.observed import Exchange
from contracts.protocols import protocol_for
from contracts.replica.server import ReplicaServer
from contracts.spec import Case
from providers.types import CompletionResponse, LlmProvider, StreamEvent
from providers.vendors import VendorProfile

#: Shaped like a real key so that leaks are caught; valid nowhere.
CONTRACT_KEY = "sk-contract-FAKE0000000000000000000000"
#: Sent on purpose where a case provokes an authentication failure live.
INVALID_KEY = "sk-llm-contracts-invalid-key-0000000000"
MISSING_MODEL = "llm-contracts-no-such-model"
ProviderFactory = Callable[[str, SecretStr], LlmProvider]
#: replica: serve from the loopback replica. record-replica: the same, recorded to a cassette.
#: replay: replay a cassette, network blocked. live: a real endpoint, recorded to a cassette.
Mode = Literal["replica", "record-replica", "replay", "live"]


class CaseSetupError(Exception):
    """The case could not be run as asked: a missing or unplayed cassette, for instance."""


@dataclass(frozen=True)
class LiveTarget:
    base_url: str
    key: SecretStr


@dataclass
class Outcome:
    events: list[StreamEvent] = field(default_factory=list)
    stream_error: Exception | None = None
    response: CompletionResponse | None = None
    complete_error: Exception | None = None
    ran: tuple[str, ...] = ()
    exchanges: list[Exchange] = field(default_factory=list)
    cassette_text: str = ""
    provenance: str = "replica"
    #: The key the provider was given: it must show up nowhere.
    secret: str = CONTRACT_KEY

    @property
    def sent(self) -> list[dict[str, Any]]:
        return [exchange.request for exchange in self.exchanges if exchange.request is not None]


def replica_base_url(server: ReplicaServer, profile: VendorProfile) -> str:
    """The replica's URL with the vendor's own path, so recorded paths equal the real ones."""
    return f"http://127.0.0.1:{server.port}{urlsplit(profile.base_url).path.rstrip('/')}"


def source_of(base_url: str, profile: VendorProfile) -> cassettes.Source:
    """`live` only for the vendor's own base URL; anything else is an override."""
    same = base_url.rstrip("/") == profile.base_url.rstrip("/")
    return "live" if same else "override"


async def _exercise(provider: LlmProvider, case: Case, outcome: Outcome, *, live: bool) -> None:
    request = case.scenario.request.build()
    if live and case.scenario.live == "bad_model":
        request = request.model_copy(update={"model": MISSING_MODEL})
    paths = case.scenario.paths
    if "stream" in paths:
        try:
            async for event in provider.stream(request):
                outcome.events.append(event)
        except Exception as exc:
            outcome.stream_error = exc
    if "complete" in paths:
        try:
            outcome.response = await provider.complete(request)
        except Exception as exc:
            outcome.complete_error = exc
    outcome.ran = tuple(paths)


def _sdk(distribution: str) -> str:
    """The SDK and its version as cassettes record it."""
    try:
        return f"{distribution} {importlib.metadata.version(distribution)}"
    except importlib.metadata.PackageNotFoundError:
        return f"{distribution} (not installed)"


def _meta(profile: VendorProfile, base_url: str, source: cassettes.Source) -> dict[str, Any]:
    return {
        "source": source,
        "vendor": profile.name,
        "model": profile.default_model,
        "recorded_at": dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat(),
        "sdk": _sdk(protocol_for(profile).sdk),
        "base_url_host": urlsplit(base_url).hostname or "",
    }


def _from_replica(server: ReplicaServer) -> list[Exchange]:
    return [
        Exchange(
            request=request.json(),
            status=reply.status,
            content_type=reply.headers.get("content-type", ""),
            body=reply.body.decode("utf-8", "replace"),
        )
        for request, reply in server.exchanges
    ]


async def _replica_run(
    case: Case, profile: VendorProfile, factory: ProviderFactory, record_to: Path | None
) -> Outcome:
    outcome = Outcome()
    with ReplicaServer(protocol_for(profile).responder(case)) as server:
        base_url = replica_base_url(server, profile)
        if record_to is None:
            await _exercise(factory(base_url, SecretStr(CONTRACT_KEY)), case, outcome, live=False)
        else:
            with cassettes.recording(
                record_to, _meta(profile, base_url, "replica"), [CONTRACT_KEY]
            ):
                await _exercise(
                    factory(base_url, SecretStr(CONTRACT_KEY)), case, outcome, live=False
                )
    outcome.exchanges = _from_replica(server)
    return outcome


async def _live_run(
    case: Case, profile: VendorProfile, factory: ProviderFactory, target: LiveTarget, path: Path
) -> Outcome:
    key = SecretStr(INVALID_KEY) if case.scenario.live == "bad_key" else target.key
    outcome = Outcome(secret=target.key.get_secret_value())
    source = source_of(target.base_url, profile)
    with cassettes.recording(
        path, _meta(profile, target.base_url, source), [target.key.get_secret_value(), INVALID_KEY]
    ):
        await _exercise(factory(target.base_url, key), case, outcome, live=True)
    return outcome


async def _replay_run(
    case: Case, profile: VendorProfile, factory: ProviderFactory, path: Path
) -> Outcome:
    if not path.is_file():
        raise CaseSetupError(
            f"missing cassette {path}: record it with "
            f"`{cassettes.record_command(profile.name, case.id)}`"
        )
    outcome = Outcome()
    source = cassettes.read_meta(path).get("source")
    with cassettes.replaying(path) as cassette:
        await _exercise(
            factory(profile.base_url, SecretStr(CONTRACT_KEY)),
            case,
            outcome,
            live=source != "replica",
        )
    if not cassette.all_played:
        unplayed = len(cassette.data) - cassette.play_count
        raise CaseSetupError(
            f"{path}: {unplayed} recorded interaction(s) never played (the provider sent "
            f"different requests); re-record with "
            f"`{cassettes.record_command(profile.name, case.id, source or 'replica')}` and "
            "review the diff"
        )
    return outcome


async def run_case(
    case: Case,
    profile: VendorProfile,
    factory: ProviderFactory,
    *,
    mode: Mode = "replica",
    cassette_root: Path | None = None,
    live: LiveTarget | None = None,
) -> Outcome:
    if mode == "replica" or (case.scenario.replica_only and mode != "live"):
        return await _replica_run(case, profile, factory, record_to=None)
    assert cassette_root is not None, f"mode {mode} needs a cassette root"
    path = cassettes.cassette_path(cassette_root, profile.name, case.id)
    if mode == "record-replica":
        outcome = await _replica_run(case, profile, factory, record_to=path)
    elif mode == "live":
        assert live is not None, "live mode needs a target"
        outcome = await _live_run(case, profile, factory, live, path)
    else:
        outcome = await _replay_run(case, profile, factory, path)
    outcome.cassette_text = path.read_text(encoding="utf-8")
    outcome.provenance = str(cassettes.read_meta(path).get("source", "unknown"))
    outcome.exchanges = cassettes.exchanges(path)
    return outcome
