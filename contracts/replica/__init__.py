"""The loopback vendor replica: a server that plays whatever a protocol serves."""

from contracts.replica.server import (
    RecordedRequest,
    ReplicaServer,
    Responder,
    Script,
    ScriptedResponse,
)

__all__ = ["RecordedRequest", "ReplicaServer", "Responder", "Script", "ScriptedResponse"]
