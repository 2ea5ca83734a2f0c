"""What a failing clause shows a reader: the clause, where, why, how to fix it, and the wire.

A failure is only actionable with the bytes that produced it, so every failure carries the
request sent and the answer served, trimmed to a readable size and scrubbed of the key.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from contracts.cassettes import redact_key_shaped
from contracts.escaping import terminal
from contracts.observed import Exchange
from providers.scrub import Scrubber

#: Enough of a request or an answer to recognise it; the cassette keeps the rest.
REQUEST_CHARS = 600
BODY_CHARS = 1500
REDACTED = "[REDACTED]"
#: The answer's tail gets this share of the room: a stream's finish, usage, [DONE] or error
#: event is at its end, and it is what most checks judge.
_TAIL_SHARE = 2 / 3


def _elided(count: int, chars: int, unit: str) -> str:
    return f"... ({count} {unit}, {chars} chars not shown; the cassette has them all) ..."


def trim(text: str, limit: int) -> str:
    """Its start and its end, the middle elided: never cut where the decisive part is."""
    if len(text) <= limit:
        return text
    tail = int(limit * _TAIL_SHARE)
    head = limit - tail
    return f"{text[:head]} {_elided(1, len(text) - limit, 'span')} {text[-tail:]}"


def body_excerpt(body: str, limit: int = BODY_CHARS) -> list[str]:
    """The body as lines of text: whole when short; else its first events and its last ones,
    whole events only, with the elided middle counted."""
    if len(body) <= limit:
        return body.splitlines() or ["(empty body)"]
    events = [event for event in body.replace("\r\n", "\n").split("\n\n") if event.strip()]
    if len(events) < 3:
        return trim(body, limit).splitlines()
    head: list[str] = []
    room = limit - int(limit * _TAIL_SHARE)
    while events and len(events[0]) <= room - sum(map(len, head)):
        head.append(events.pop(0))
    tail: list[str] = []
    room = int(limit * _TAIL_SHARE)
    while events and len(events[-1]) <= room - sum(map(len, tail)):
        tail.insert(0, events.pop())
    if not tail:  # one huge last event: its end, cut to fit, is still the decisive part
        tail.append(trim(events.pop(), room))
    lines = [line for event in head for line in (*event.splitlines(), "")]
    if events:
        lines += [_elided(len(events), sum(map(len, events)), "events"), ""]
    lines += [line for event in tail for line in (*event.splitlines(), "")]
    return lines[:-1]


def _delivered(exchange: Exchange) -> str:
    """How the replica cut the body into reads, when it did."""
    return f" in {exchange.delivery}" if exchange.delivery else ""


def wire_evidence(exchanges: list[Exchange], secret: str, *, path: str = "stream") -> list[str]:
    """The exchange of the path judged (stream() goes first, complete() last), as text lines:
    the request sent and the answer served around its decisive end, without the key."""
    if not exchanges:
        return ["nothing reached the server"]
    exchange = exchanges[-1 if path == "complete" else 0]
    # Scrubbed before anything is cut: a cut through a key would leave part of it behind.
    scrubber = Scrubber([secret] if secret else [])

    def hidden(text: str) -> str:
        return redact_key_shaped(scrubber.scrub(text))

    request = hidden(json.dumps(exchange.request, ensure_ascii=False, separators=(",", ":")))
    return [
        f"request ({path}): {trim(request, REQUEST_CHARS)}",
        f"served: {exchange.status} {exchange.content_type}{_delivered(exchange)}".rstrip(),
        *(f"  {line}" if line else "" for line in body_excerpt(hidden(exchange.body))),
    ]


@dataclass(frozen=True)
class Failure:
    """One clause failing on one case, with everything needed to act on it."""

    clause: str
    vendor: str
    case: str
    reason: str
    troubleshooting: str
    wire: tuple[str, ...]

    def __str__(self) -> str:
        # Printed by pytest on a terminal: what the server said is shown, never acted on.
        lines = [
            terminal(f"[{self.vendor}] {self.clause} on {self.case}: {self.reason}"),
            f"troubleshooting: {self.troubleshooting}",
            "wire evidence:",
            *(f"  {terminal(line)}" for line in self.wire),
        ]
        return "\n".join(lines)
