"""Cassette replay over loopback: each recorded response is served, by the loopback server, to
the request that matches it, its body cut into reads the way the case's seed says.

A replay inside a patched HTTP client hands each body over in one piece, so a provider that
decodes every read on its own (and garbles a character split across two) would pass; over a
socket, cut mid-line, mid-character or several events to a read, it does not. Nothing in the
process is patched: the provider talks to 127.0.0.1 like any client.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlsplit

from contracts.cassettes import body_text
from contracts.replica.server import RecordedRequest, ScriptedResponse

#: Headers a recorded response keeps that the loopback server writes itself, or that no
#: longer hold for the body as stored (decoded, re-framed).
_FRAMING_HEADERS = frozenset({"content-length", "transfer-encoding", "content-encoding"})


def _endpoint(path: str) -> str:
    return path.rstrip("/").rsplit("/", 1)[-1]


def _json_or_text(text: str) -> Any:
    try:
        return json.loads(text) if text else text
    except ValueError:
        return text


def first_difference(recorded: Any, sent: Any, where: str = "") -> str | None:
    """Where two JSON values first differ, as `field.path: recorded X, sent Y`."""
    if isinstance(recorded, dict) and isinstance(sent, dict):
        for key in [*recorded, *(k for k in sent if k not in recorded)]:
            if key not in sent:
                return f"{where}{key}: recorded {recorded[key]!r}, not sent"
            if key not in recorded:
                return f"{where}{key}: sent {sent[key]!r}, not recorded"
            found = first_difference(recorded[key], sent[key], f"{where}{key}.")
            if found:
                return found
        return None
    if isinstance(recorded, list) and isinstance(sent, list) and len(recorded) == len(sent):
        for index, (old, new) in enumerate(zip(recorded, sent, strict=True)):
            found = first_difference(old, new, f"{where.rstrip('.')}[{index}].")
            if found:
                return found
        return None
    if recorded != sent:
        return f"{where.rstrip('.') or 'body'}: recorded {recorded!r}, sent {sent!r}"
    return None


def request_difference(
    recorded: dict[str, Any], sent: RecordedRequest, *, imported: bool
) -> str | None:
    """How `sent` differs from a recorded request, or None when it matches. Imported requests
    were sent by another client, often to another base URL and with another body: they match
    on the method and the endpoint (the last path segment, `completions`) alone."""
    if str(recorded.get("method", "")).upper() != sent.method.upper():
        return f"method differs: recorded {recorded.get('method')}, sent {sent.method}"
    recorded_path = urlsplit(str(recorded.get("uri", ""))).path
    sent_path = urlsplit(sent.path).path
    if imported:
        if _endpoint(recorded_path) != _endpoint(sent_path):
            return f"endpoint differs: {_endpoint(sent_path)} != {_endpoint(recorded_path)}"
        return None
    if recorded_path != sent_path:
        return f"path differs: {sent_path} != {recorded_path}"
    sent_body = sent.body.decode("utf-8", "replace")
    recorded_body = body_text(recorded.get("body") or {})
    difference = first_difference(_json_or_text(recorded_body), _json_or_text(sent_body))
    return None if difference is None else f"body differs: {difference}"


def _served(response: dict[str, Any]) -> ScriptedResponse:
    headers = {
        name: values[0]
        for name, values in (response.get("headers") or {}).items()
        if values and name.lower() not in _FRAMING_HEADERS
    }
    body = body_text(response.get("body") or {}).encode()
    return ScriptedResponse(int(response["status"]["code"]), (body,), headers)


class CassettePlayer:
    """A loopback responder playing a cassette's interactions, each once, to the requests
    that match them; what it could not match is kept, to say why the replay failed."""

    def __init__(self, interactions: list[dict[str, Any]], *, imported: bool, seed: int) -> None:
        self.interactions = interactions
        self.imported = imported
        self.seed = seed
        #: Per interaction: how its body was cut into reads, once it was played.
        self.deliveries: list[str | None] = [None] * len(interactions)
        #: Per request that matched nothing: how it differs from the closest recorded one.
        self.unmatched: list[str] = []

    @property
    def unplayed(self) -> int:
        return self.deliveries.count(None)

    def __call__(self, request: RecordedRequest) -> ScriptedResponse:
        closest = None
        for index, interaction in enumerate(self.interactions):
            if self.deliveries[index] is not None:
                continue
            difference = request_difference(interaction["request"], request, imported=self.imported)
            if difference is None:
                # One seed per case, as the replica cuts: the same body is cut the same way.
                reply = _served(interaction["response"]).delivered_in(self.seed)
                self.deliveries[index] = reply.delivery
                return reply
            closest = closest or difference
        why = closest or "every recorded interaction was already played"
        self.unmatched.append(why)
        message = f"replay: no recorded interaction matches this request: {why}"
        return ScriptedResponse.json({"error": {"message": message, "type": "replay"}}, 400)
