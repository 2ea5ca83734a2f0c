"""The conformance suite: certifies any LlmProvider against the event contract."""
