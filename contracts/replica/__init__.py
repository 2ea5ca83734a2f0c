"""The loopback vendor replica (design section 8)."""

from contracts.replica.server import (
    RecordedRequest,
    ReplicaServer,
    Responder,
    Script,
    ScriptedResponse,
)

__all__ = ["RecordedRequest", "ReplicaServer", "Responder", "Script", "ScriptedResponse"]
