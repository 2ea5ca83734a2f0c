"""Run one contract case against a provider, from the replica or from a cassette.

The provider is only ever seen through `LlmProvider`, built by a factory from a base URL and a
key, so the same runner certifies ours and anyone else's.
"""

from __future__ import annotations

import datetime as dt
import importlib.metadata
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit

from pydantic import SecretStr

from contracts import cassettes
from contracts.replica.dialect import VendorDialect
from contracts.replica.server import ReplicaServer
from contracts.spec import Case
from providers.types import CompletionResponse, LlmProvider, StreamEvent
from providers.vendors import VendorProfile

#: Shaped like a real key so that leaks are caught; valid nowhere.
CONTRACT_KEY = "sk-contract-FAKE0000000000000000000000"
ProviderFactory = Callable[[str, SecretStr], LlmProvider]
Mode = Literal["replica", "replay", "record-replica"]


class CaseSetupError(Exception):
    """The case could not be run as asked: a missing or unplayed cassette, for instance."""


@dataclass
class Outcome:
    events: list[StreamEvent] = field(default_factory=list)
    stream_error: Exception | None = None
    response: CompletionResponse | None = None
    complete_error: Exception | None = None
    ran: tuple[str, ...] = ()
    sent: list[dict[str, Any]] = field(default_factory=list)
    cassette_text: str = ""
    provenance: str = "replica"


def replica_base_url(server: ReplicaServer, profile: VendorProfile) -> str:
    """The replica's URL with the vendor's own path, so recorded paths equal the real ones."""
    return f"http://127.0.0.1:{server.port}{urlsplit(profile.base_url).path.rstrip('/')}"


async def _exercise(provider: LlmProvider, case: Case, outcome: Outcome) -> None:
    request = case.scenario.request.build()
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


def _meta(profile: VendorProfile, base_url: str, source: cassettes.Source) -> dict[str, Any]:
    return {
        "source": source,
        "vendor": profile.name,
        "model": profile.default_model,
        "recorded_at": dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat(),
        "sdk": f"openai {importlib.metadata.version('openai')}",
        "base_url_host": urlsplit(base_url).hostname or "",
    }


@contextmanager
def _replica(profile: VendorProfile, case: Case) -> Iterator[tuple[ReplicaServer, str]]:
    with ReplicaServer(VendorDialect(profile).responder(case)) as server:
        yield server, replica_base_url(server, profile)


async def run_case(
    case: Case,
    profile: VendorProfile,
    factory: ProviderFactory,
    *,
    mode: Mode = "replica",
    cassette_root: Path | None = None,
) -> Outcome:
    outcome = Outcome()
    key = SecretStr(CONTRACT_KEY)
    if mode == "replica" or case.scenario.replica_only:
        with _replica(profile, case) as (server, base_url):
            await _exercise(factory(base_url, key), case, outcome)
        outcome.sent = [r.json() for r in server.requests]
        return outcome

    assert cassette_root is not None, "cassette modes need a cassette root"
    path = cassettes.cassette_path(cassette_root, profile.name, case.id)
    if mode == "record-replica":
        with (
            _replica(profile, case) as (server, base_url),
            cassettes.recording(path, _meta(profile, base_url, "replica"), [CONTRACT_KEY]),
        ):
            await _exercise(factory(base_url, key), case, outcome)
    else:
        if not path.is_file():
            raise CaseSetupError(
                f"missing cassette {path}: record it with "
                f"`{cassettes.record_command(profile.name, case.id)}`"
            )
        with cassettes.replaying(path) as cassette:
            await _exercise(factory(profile.base_url, key), case, outcome)
        if not cassette.all_played:
            unplayed = len(cassette.data) - cassette.play_count
            raise CaseSetupError(
                f"{path}: {unplayed} recorded interaction(s) never played (the provider sent "
                f"different requests); re-record with "
                f"`{cassettes.record_command(profile.name, case.id)}` and review the diff"
            )
    outcome.cassette_text = path.read_text(encoding="utf-8")
    outcome.provenance = str(cassettes.read_meta(path).get("source", "unknown"))
    outcome.sent = cassettes.sent_bodies(path)
    return outcome
