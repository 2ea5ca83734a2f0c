"""Wire drift: how a vendor's bytes changed between two recordings of the same scenario.

Each recording is summarised into its wire shape by the vendor's protocol (which fields its
payloads carry, finish values, and the protocol's own traits such as usage placement); two
shapes are compared, and a shape is compared with the vendor's `[wire]` facts, so that
`record` says both what moved and which fact no longer tells the truth.
"""

from __future__ import annotations

from contracts.observed import Exchange
from contracts.protocols import WireProtocol, WireShape


def _label(exchange: Exchange) -> str:
    return "stream" if exchange.request and exchange.request.get("stream") else "complete"


def drift(old: list[Exchange], new: list[Exchange], protocol: WireProtocol) -> list[str]:
    """What changed, one line each; empty when the wire looks the same."""
    if len(old) != len(new):
        return [f"{len(old)} interaction(s) before, {len(new)} now"]
    lines = []
    for before, after in zip(old, new, strict=True):
        was, now = protocol.wire_shape(before), protocol.wire_shape(after)
        where = _label(after)
        if was.fields - now.fields:
            lines.append(f"{where}: fields gone: {', '.join(sorted(was.fields - now.fields))}")
        if now.fields - was.fields:
            lines.append(f"{where}: fields added: {', '.join(sorted(now.fields - was.fields))}")
        pairs = {
            "status": (was.status, now.status),
            "finish_values": (was.finish_values, now.finish_values),
            **{
                name: (dict(was.traits).get(name), dict(now.traits).get(name))
                for name in dict.fromkeys(name for name, _ in (*was.traits, *now.traits))
            },
        }
        lines.extend(
            f"{where}: {name.replace('_', ' ')}: {before_value!r} -> {after_value!r}"
            for name, (before_value, after_value) in pairs.items()
            if before_value != after_value
        )
    return lines


def profile_mismatches(shapes: list[WireShape], protocol: WireProtocol) -> list[str]:
    """Where recorded exchanges contradict the vendor's `[wire]` facts."""
    return sorted({line for shape in shapes for line in protocol.mismatches(shape)})
