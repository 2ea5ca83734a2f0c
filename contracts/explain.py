"""What a failing clause shows a reader: the clause, where, why, how to fix it, and the wire.

A failure is only actionable with the bytes that produced it, so every failure carries the
request sent and the answer served, trimmed to a readable size and scrubbed of the key.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from contracts.escaping import terminal
from contracts.observed import Exchange

#: Enough of a request or an answer to recognise it; the cassette keeps the rest.
REQUEST_CHARS = 300
BODY_CHARS = 600
REDACTED = "[REDACTED]"


def trim(text: str, limit: int) -> str:
    if len(text) <= limit:
        return text
    return f"{text[: limit - 30]}... ({len(text) - limit + 30} more chars)"


def wire_evidence(exchanges: list[Exchange], secret: str) -> list[str]:
    """One line per request sent and per answer served, trimmed and without the key."""
    lines = []
    for number, exchange in enumerate(exchanges, start=1):
        request = json.dumps(exchange.request, ensure_ascii=False, separators=(",", ":"))
        lines.append(f"request {number}: {trim(request, REQUEST_CHARS)}")
        served = f"{exchange.status} {exchange.content_type}".strip()
        if exchange.delivery:
            served += f" in {exchange.delivery}"
        lines.append(f"served {number}: {served}: {trim(exchange.body, BODY_CHARS)!r}")
    if not lines:
        lines.append("nothing reached the server")
    return [line.replace(secret, REDACTED) for line in lines] if secret else lines


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
