"""pydantic-ai's `OpenAIChatModel` as an `LlmProvider`, through `request_stream` / `request`.

Text and reasoning come from pydantic-ai's part events; tool calls, finish reason and usage
from the `ModelResponse` it builds; failures keep pydantic-ai's own error categories.
"""

from __future__ import annotations

import base64
from collections.abc import AsyncIterator
from typing import Any

import openai
from pydantic import SecretStr
from pydantic_ai import exceptions as pai
from pydantic_ai.messages import (
    BinaryContent,
    ImageUrl,
    ModelMessage,
    ModelRequest,
    ModelResponse,
    PartDeltaEvent,
    PartStartEvent,
    SystemPromptPart,
    TextPart,
    TextPartDelta,
    ThinkingPart,
    ThinkingPartDelta,
    ToolCallPart,
    ToolReturnPart,
    UserContent,
    UserPromptPart,
)
from pydantic_ai.models import ModelRequestParameters
from pydantic_ai.models.openai import OpenAIChatModel, OpenAIChatModelSettings
from pydantic_ai.output import OutputObjectDefinition
from pydantic_ai.providers.openai import OpenAIProvider
from pydantic_ai.tools import ToolDefinition

from examples.peers.common import (
    Blocks,
    HttpFailure,
    PeerProvider,
    Reported,
    connected,
    from_http,
    tool_call,
)
from providers import errors
from providers.types import (
    TOOL_CHOICE_MODES,
    AssistantMessage,
    CompletionRequest,
    CompletionResponse,
    JsonObjectFormat,
    JsonSchemaFormat,
    StopReason,
    StreamEvent,
    TextDelta,
    ThinkingDelta,
    UserMessage,
)
from providers.types import (
    TextPart as PromptText,
)

#: pydantic-ai's own finish reasons; anything else (including None) is `other`.
FINISH = {
    "stop": StopReason.END_TURN,
    "length": StopReason.MAX_TOKENS,
    "tool_call": StopReason.TOOL_USE,
    "content_filter": StopReason.CONTENT_FILTER,
}

#: pydantic-ai's error categories, most specific first.
CATEGORIES: list[tuple[type[Exception], type[errors.LlmError]]] = [
    (pai.ModelAuthenticationError, errors.AuthenticationError),
    (pai.ModelNotFoundError, errors.ModelNotFoundError),
    (pai.ModelContextWindowExceededError, errors.ContextLengthError),
    (pai.ModelRequestRejectedError, errors.InvalidRequestError),
    (pai.ModelUnavailableError, errors.ProviderUnavailableError),
    (pai.ModelServerError, errors.ProviderUnavailableError),
    (pai.ModelConnectionError, errors.ProviderUnavailableError),
    (pai.ModelRequestTimeout, errors.ProviderUnavailableError),
]


def pydantic_ai_error(exc: Exception, provider: str, *, streaming: bool) -> errors.LlmError:
    status = getattr(exc, "status_code", None)
    message = str(exc)
    if streaming or getattr(exc, "in_stream", False):
        broken = isinstance(exc, pai.ModelConnectionError)
        kind = errors.StreamTruncatedError if broken else errors.StreamError
        return kind(message, provider=provider, status_code=status)
    if isinstance(exc, pai.ModelRateLimitError):
        return errors.RateLimitError(
            message,
            provider=provider,
            status_code=status,
            retry_after=getattr(exc, "retry_after", None),
        )
    for category, mapped in CATEGORIES:
        if isinstance(exc, category):
            return mapped(message, provider=provider, status_code=status)
    if status is not None:
        return from_http(HttpFailure(status=status, message=message), provider)
    return errors.StreamError(f"{type(exc).__name__}: {exc}", provider=provider)


def prompt(message: UserMessage) -> str | list[UserContent]:
    """A user message as pydantic-ai's prompt: text, image URLs and inline image bytes."""
    if isinstance(message.content, str):
        return message.content
    parts: list[UserContent] = []
    for part in message.content:
        if isinstance(part, PromptText):
            parts.append(part.text)
        elif part.url is not None:
            parts.append(ImageUrl(url=part.url))
        else:
            assert part.data is not None, "an ImagePart without a url has data"
            assert part.media_type is not None, "and its media type"
            parts.append(BinaryContent(base64.b64decode(part.data), media_type=part.media_type))
    return parts


def history(request: CompletionRequest) -> list[ModelMessage]:
    """The conversation as pydantic-ai messages; tool results carry the calling tool's name."""
    names = {
        call.id: call.name
        for message in request.messages
        if isinstance(message, AssistantMessage)
        for call in message.tool_calls
    }
    messages: list[ModelMessage] = []
    system = [SystemPromptPart(request.system)] if request.system else []
    for message in request.messages:
        if isinstance(message, UserMessage):
            messages.append(ModelRequest(parts=[*system, UserPromptPart(prompt(message))]))
        elif isinstance(message, AssistantMessage):
            parts: list[Any] = [TextPart(message.content)] if message.content else []
            parts += [ToolCallPart(c.name, c.arguments, c.id) for c in message.tool_calls]
            messages.append(ModelResponse(parts=parts))
        else:
            part = ToolReturnPart(
                names.get(message.tool_call_id, ""), message.content, message.tool_call_id
            )
            messages.append(ModelRequest(parts=[*system, part]))
        system = []
    return messages


class PydanticAiProvider(PeerProvider):
    library = "pydantic-ai"

    def __init__(self, base_url: str, api_key: SecretStr, model: str = "contract-model") -> None:
        super().__init__(base_url, api_key, model)
        client = openai.AsyncOpenAI(
            base_url=base_url, api_key=api_key.get_secret_value(), max_retries=0
        )
        self._model = OpenAIChatModel(model, provider=OpenAIProvider(openai_client=client))

    @staticmethod
    def _settings(request: CompletionRequest) -> OpenAIChatModelSettings:
        settings = OpenAIChatModelSettings()
        if request.max_tokens is not None:
            settings["max_tokens"] = request.max_tokens
        if request.temperature is not None:
            settings["temperature"] = request.temperature
        if request.stop:
            settings["stop_sequences"] = list(request.stop)
        if request.tool_choice is not None:
            choice = request.tool_choice
            settings["tool_choice"] = choice if choice in TOOL_CHOICE_MODES else [choice]
        if request.parallel_tool_calls is not None:
            settings["parallel_tool_calls"] = request.parallel_tool_calls
        if request.thinking is not None and request.thinking.effort is not None:
            # The OpenAI model's own setting: the unified `thinking` is dropped for a model
            # name pydantic-ai does not know to reason (as documented), such as a local one.
            settings["openai_reasoning_effort"] = request.thinking.effort
        return settings

    @staticmethod
    def _parameters(request: CompletionRequest) -> ModelRequestParameters:
        tools = [
            ToolDefinition(
                name=t.name, description=t.description, parameters_json_schema=t.parameters
            )
            for t in request.tools
        ]
        response_format = request.response_format
        if isinstance(response_format, JsonSchemaFormat):
            # pydantic-ai's native output: the schema sent as the vendor's response format.
            output = OutputObjectDefinition(
                json_schema=response_format.json_schema,
                name=response_format.name,
                description=response_format.description,
                strict=response_format.strict,
            )
            return ModelRequestParameters(
                function_tools=tools, output_mode="native", output_object=output
            )
        if isinstance(response_format, JsonObjectFormat):
            # Prompted output sends {"type": "json_object"}; no template, so the prompt is ours.
            return ModelRequestParameters(
                function_tools=tools,
                output_mode="prompted",
                output_object=OutputObjectDefinition(json_schema={"type": "object"}),
                prompted_output_template=False,
            )
        return ModelRequestParameters(function_tools=tools, allow_text_output=True)

    def _reported(self, response: ModelResponse) -> Reported:
        usage = response.usage
        details = response.provider_details or {}
        reported = Reported(
            finish=details.get("finish_reason"),
            stop=FINISH.get(response.finish_reason or "", StopReason.OTHER),
            usage=(usage.input_tokens, usage.output_tokens, usage.cache_read_tokens),
            model=response.model_name or self.model,
            request_id=response.provider_response_id,
        )
        for part in response.parts:
            if isinstance(part, TextPart):
                reported.text += part.content
            elif isinstance(part, ThinkingPart):
                reported.thinking += part.content
            elif isinstance(part, ToolCallPart):
                # `args` keeps the text the vendor sent; args_as_json_str() re-serializes it.
                text = part.args if isinstance(part.args, str) else part.args_as_json_str()
                reported.tool_calls.append(
                    tool_call(part.tool_call_id, part.tool_name, text, self.name)
                )
        return reported

    async def complete(self, request: CompletionRequest) -> CompletionResponse:
        try:
            response = await self._model.request(
                history(request), self._settings(request), self._parameters(request)
            )
        except (pai.ModelAPIError, pai.UnexpectedModelBehavior) as exc:
            raise pydantic_ai_error(exc, self.name, streaming=False) from None
        return self._reported(response).response(request)

    async def stream(self, request: CompletionRequest) -> AsyncIterator[StreamEvent]:
        opened = self._model.request_stream(
            history(request), self._settings(request), self._parameters(request)
        )
        try:
            answer = await opened.__aenter__()
        except (pai.ModelAPIError, pai.UnexpectedModelBehavior) as exc:
            raise pydantic_ai_error(exc, self.name, streaming=False) from None
        blocks = Blocks()
        try:
            yield connected(self.name, self.model)
            async for event in answer:
                for out in self._deltas(event, blocks):
                    yield out
            reported = self._reported(answer.get())
        except (pai.ModelAPIError, pai.UnexpectedModelBehavior, ValueError) as exc:
            await opened.__aexit__(type(exc), exc, exc.__traceback__)
            raise pydantic_ai_error(exc, self.name, streaming=True) from exc
        await opened.__aexit__(None, None, None)
        for event in blocks.finish(reported, request):
            yield event

    @staticmethod
    def _deltas(event: Any, blocks: Blocks) -> list[StreamEvent]:
        if isinstance(event, PartStartEvent):
            part = event.part
            if isinstance(part, TextPart):
                return list(blocks.delta(TextDelta, part.content))
            if isinstance(part, ThinkingPart):
                return list(blocks.delta(ThinkingDelta, part.content))
        if isinstance(event, PartDeltaEvent):
            delta = event.delta
            if isinstance(delta, TextPartDelta):
                return list(blocks.delta(TextDelta, delta.content_delta))
            if isinstance(delta, ThinkingPartDelta):
                return list(blocks.delta(ThinkingDelta, delta.content_delta))
        return []
