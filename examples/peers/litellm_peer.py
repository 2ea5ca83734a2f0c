"""litellm's `acompletion` as an `LlmProvider`, with its `openai/` route to any base URL.

litellm's chunks and responses are shaped like the SDK's, so the raw-SDK adapter reads them;
what differs is how the call is made and litellm's own error classes. The cost map is read
from the copy litellm ships (`LITELLM_LOCAL_MODEL_COST_MAP`), never fetched at import.
"""

from __future__ import annotations

import os
from typing import Any

os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
os.environ.setdefault("LITELLM_TELEMETRY", "False")

import litellm
import openai
from litellm.exceptions import MidStreamFallbackError

from examples.peers.openai_sdk import OpenAiSdkProvider, sdk_error
from providers import errors

litellm.telemetry = False
# Its "Give Feedback" banner goes to stdout on every error, into the report.
litellm.suppress_debug_info = True


class LitellmProvider(OpenAiSdkProvider):
    library = "litellm"

    async def _create(self, body: dict[str, Any]) -> Any:
        """litellm's documented call: `max_tokens`, which it translates per provider."""
        body = dict(body)
        if "max_completion_tokens" in body:
            body["max_tokens"] = body.pop("max_completion_tokens")
        return await litellm.acompletion(
            **body | {"model": f"openai/{body['model']}"},
            api_base=self.base_url,
            api_key=self.api_key.get_secret_value(),
            num_retries=0,
            max_retries=0,
        )

    def _mid_stream_error(self, exc: Exception) -> errors.LlmError:
        """litellm wraps a failure after the first chunk in `MidStreamFallbackError` (its
        signal to try a fallback model); what happened is its public `original_exception`."""
        if isinstance(exc, MidStreamFallbackError) and exc.original_exception:
            exc = exc.original_exception
        return super()._mid_stream_error(exc)

    def _error(self, exc: openai.APIError) -> errors.LlmError:
        """litellm's own classification first, where it has one."""
        if isinstance(exc, litellm.ContextWindowExceededError):
            return errors.ContextLengthError(exc.message, provider=self.name, status_code=400)
        return sdk_error(exc, self.name)
