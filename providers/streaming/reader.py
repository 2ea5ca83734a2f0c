"""What every protocol's chunk reader shares: the assembler it drives and how a stream ends.

A subclass reads one protocol's chunk (`feed`) and turns it into assembler calls; finishing,
the typed accessors, the error mapper and the profile's stop map are common.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any

from providers.error_mapping import ErrorMapper
from providers.protocols import StopMapping
from providers.streaming.assembler import BlockAssembler
from providers.streaming.wire_json import WireJson
from providers.types import StopReason, StreamEvent
from providers.vendors import VendorProfile


class ChunkReader(ABC):
    """Stateful: one instance per response. `feed` each chunk, then `finish` once."""

    def __init__(
        self, profile: VendorProfile, errors: ErrorMapper, assembler: BlockAssembler
    ) -> None:
        self.assembler = assembler
        self._errors = errors
        self._json = WireJson(errors.provider)
        self._stop_mapping: dict[str, StopMapping] = profile.stop_mapping()

    @property
    def finished(self) -> bool:
        """The protocol's normal end arrived: ending the body now is a normal end."""
        return self.assembler.finished

    @abstractmethod
    def feed(self, chunk: Any) -> list[StreamEvent]:
        """The events this chunk completes; raises the mapped error for an error payload."""

    def check_error_event(self, payload: Any) -> None:
        """Called for an SSE event named `error`, before `feed`: the name alone makes it an
        error, whatever its data says (a data without an error `type` would otherwise be read
        as nothing). A protocol whose error data has another shape overrides this."""
        raise self._errors.from_stream_payload(self._json.object(payload, "the event"))

    def finish(self) -> list[StreamEvent]:
        """The closing events (MessageDelta, Usage, Done), or the error saying why not."""
        return self.assembler.end()

    def _stop(self, raw: str) -> None:
        """The vendor's stop value, mapped by the protocol's standard map and the profile."""
        self.assembler.finish(raw, self._stop_mapping.get(raw, StopReason.OTHER))
