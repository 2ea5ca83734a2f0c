"""What every protocol's request builder checks before anything is sent.

Each protocol's builder subclasses `RequestBuilder` and writes only its body's shape; the
checks here (messages present, streaming and tools supported, max_tokens and temperature in
the vendor's bounds, stop-sequence count, tool schemas, text UTF-8 can encode) hold for all of
them, so bad input fails fast, the same way, with a message that says what to change.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any

from providers.errors import InvalidRequestError
from providers.request_features import refusal
from providers.types import CompletionRequest, ProviderCapabilities
from providers.vendors import RequestQuirks


def _unencodable(value: object, path: str) -> str | None:
    """Where in a JSON value a string UTF-8 cannot encode sits (a lone surrogate), if anywhere."""
    if isinstance(value, str):
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            return path
    elif isinstance(value, dict):
        for key, item in value.items():
            found = _unencodable(key, f"{path} key") or _unencodable(item, f"{path}.{key}")
            if found:
                return found
    elif isinstance(value, list):
        for number, item in enumerate(value):
            found = _unencodable(item, f"{path}[{number}]")
            if found:
                return found
    return None


class RequestBuilder(ABC):
    """CompletionRequest -> one protocol's JSON body, for `complete()` and `stream()` alike."""

    def __init__(
        self,
        provider: str,
        model: str,
        quirks: RequestQuirks,
        capabilities: ProviderCapabilities,
    ) -> None:
        self._provider = provider
        self._model = model
        self._quirks = quirks
        self._capabilities = capabilities

    @abstractmethod
    def body(self, request: CompletionRequest, *, stream: bool) -> dict[str, Any]:
        """The request body; `_validate` first, `_sendable` last."""

    def model_for(self, request: CompletionRequest) -> str:
        return request.model or self._model

    def _sendable(self, body: dict[str, Any]) -> dict[str, Any]:
        """`body`, refused before anything is sent when UTF-8 cannot encode a string in it."""
        where = _unencodable(body, "request")
        if where is not None:
            raise self._invalid(
                f"{where} holds a lone surrogate (half of a UTF-16 pair, often from a bad "
                "decode): UTF-8 cannot send it; repair the text, e.g. "
                "text.encode('utf-8', 'replace').decode()"
            )
        return body

    def _invalid(self, message: str) -> InvalidRequestError:
        return InvalidRequestError(message, provider=self._provider)

    def _validate(
        self, request: CompletionRequest, *, stream: bool, max_tokens: int | None = None
    ) -> RequestQuirks:
        """Refuse what cannot be sent; the vendor's quirks for the request's model.

        `max_tokens` is the cap the body will carry when the protocol sends one unasked.
        """
        model = self.model_for(request)
        quirks = self._quirks.for_model(model)
        self._check_plain(request, quirks, stream=stream)
        problem = refusal(
            request,
            quirks,
            self._capabilities,
            vendor=self._provider,
            model=model,
            max_tokens=request.max_tokens if max_tokens is None else max_tokens,
        )
        if problem:
            raise self._invalid(problem)
        return quirks

    def _check_plain(
        self, request: CompletionRequest, quirks: RequestQuirks, *, stream: bool
    ) -> None:
        if not request.messages:
            raise self._invalid("messages is empty: add at least one UserMessage")
        if stream and not self._capabilities.streaming:
            raise self._invalid(f"{self._provider} does not support streaming: use complete()")
        if request.max_tokens is not None:
            if request.max_tokens < 1:
                raise self._invalid(f"max_tokens must be >= 1, got {request.max_tokens}")
            if request.max_tokens > self._capabilities.max_output_tokens:
                raise self._invalid(
                    f"max_tokens must be <= {self._capabilities.max_output_tokens} for "
                    f"{self._provider}, got {request.max_tokens}"
                )
        if request.temperature is not None:
            low, high = quirks.temperature_range
            if not low <= request.temperature <= high:
                raise self._invalid(
                    f"temperature must be between {low:g} and {high:g} for {self._provider}, "
                    f"got {request.temperature:g}"
                )
        limit = quirks.max_stop_sequences
        if limit is not None and len(request.stop) > limit:
            raise self._invalid(
                f"{self._provider} accepts at most {limit} stop sequence(s), got "
                f"{len(request.stop)}"
            )
        if request.tools and not self._capabilities.tool_calling:
            raise self._invalid(f"{self._provider} does not support tools: remove them")
        for tool in request.tools:
            if tool.parameters.get("type") != "object":
                raise self._invalid(
                    f"tool {tool.name!r}: parameters must be a JSON Schema with "
                    f'"type": "object", got {tool.parameters.get("type")!r}'
                )
