"""One request and its response, for any protocol whose SDK sends and whose body we read.

The SDK sends the request (auth, retries, status errors); the body is read by `SseBody` under
one deadline for the whole response. What differs between protocols is passed in: the field
every answer has and no error body has, the sentinel that ends a stream (if any), how each
parsed event feeds the protocol's chunk reader. The rest is the same for every protocol, so a
hardening made once holds for all of them: the deadline, the event size cap, the judgment of a
200 that is not an event stream, no SDK exception chained (it holds the raw body).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar

import httpx2
import jiter

from providers.body import Deadline, SseBody, proxy_page_error
from providers.deadline_retry import current_deadline
from providers.error_mapping import ErrorMapper
from providers.errors import (
    LlmError,
    MalformedResponseError,
    ProviderUnavailableError,
    StreamTruncatedError,
)
from providers.settings import ProviderSettings
from providers.streaming.reader import ChunkReader
from providers.types import Connected, StreamEvent

_Result = TypeVar("_Result")


class SdkResponse(Protocol):
    """What an SDK's streaming call yields: its body is read from the HTTP response inside,
    not through the SDK's wrapper generator around it (one layer less for every read)."""

    @property
    def http_response(self) -> httpx2.Response: ...


@dataclass(frozen=True, slots=True)
class SdkExchange:
    """Per provider instance. `answer_key` is a field every answer has and no error body
    (`choices`, `content`); `endpoint` names the API in a hint ("an OpenAI-compatible");
    `done` is the data that ends a stream early (`[DONE]`), if the protocol has one;
    `end` names what finishes a stream normally, for the truncation message."""

    settings: ProviderSettings
    errors: ErrorMapper
    answer_key: str
    endpoint: str
    end: str
    done: bytes | None = None

    @property
    def provider(self) -> str:
        return self.errors.provider

    async def call(self, call: Awaitable[_Result], deadline: Deadline) -> _Result:
        """Await the SDK within the deadline; its errors become ours, with nothing chained.

        The SDK's exception holds the raw response body: raising outside the `except` keeps it
        out of `__context__`, where a traceback would print it.
        """
        error: LlmError
        # The SDK's retries see this deadline: none is made for a wait it cannot hold.
        token = current_deadline.set(deadline)
        try:
            async with deadline.guard():
                return await call
        except self.errors.sdk.base as exc:
            error = self.errors.from_sdk(exc, timeout=self.settings.timeout)
        except TimeoutError:
            error = deadline.before_connected(self.provider)
        finally:
            current_deadline.reset(token)
        raise error

    async def answer(
        self, open_response: Callable[[], AbstractAsyncContextManager[SdkResponse]]
    ) -> tuple[Mapping[str, str], Any]:
        """A non-streamed answer's headers and parsed JSON; a proxy's page or an error body
        is raised. `open_response` sends the request; the body is read here, bounded."""
        deadline = Deadline(self.settings.deadline)
        try:
            headers, data = await self.call(self._whole(open_response), deadline)
        finally:
            deadline.close()
        page = proxy_page_error(
            headers, data, provider=self.provider, scrubber=self.errors.scrubber
        )
        if page is not None:
            raise page
        answer = self.parse(data)
        if self._is_error_body(answer):
            raise self.errors.from_error_body_over_200(answer, headers)
        return headers, answer

    async def stream(
        self,
        open_response: Callable[[], AbstractAsyncContextManager[SdkResponse]],
        *,
        model: str,
        reader: ChunkReader,
    ) -> AsyncIterator[StreamEvent]:
        """Connected, then the reader's events for each SSE event, then its closing events.

        `open_response` is called on the first iteration: nothing is sent before.
        """
        deadline = Deadline(self.settings.deadline)
        opened = open_response()
        response = (await self.call(opened.__aenter__(), deadline)).http_response
        failure: str | None = None
        try:
            body = SseBody(
                response,
                provider=self.provider,
                scrubber=self.errors.scrubber,
                deadline=deadline,
                max_event_bytes=self.settings.max_event_bytes,
                json_answer=lambda answer: self._json_instead_of_events(answer, response.headers),
                undecodable=self.errors.undecodable,
            )
            try:
                await body.check()
                yield Connected(
                    provider=self.provider,
                    model=model,
                    request_id=self.errors.request_id(response.headers),
                )
                # One loop, no generator or call per layer: this runs for every event. The
                # deadline's timer may cancel this task only while it is inside a read.
                done, from_json, feed = self.done, jiter.from_json, reader.feed
                task, error = asyncio.current_task(), None
                try:
                    if deadline.expired:
                        raise body.timed_out()
                    deadline.reader = task
                    async for data in body.pieces():
                        deadline.reader = None
                        for payload, name in body.feed(data):
                            if payload == done:
                                break
                            try:
                                # Keys only: cached values would grow with every distinct string.
                                parsed = from_json(payload, cache_mode="keys")
                            except ValueError:
                                raise self.errors.not_json("a chunk", payload) from None
                            if name == "error":
                                reader.check_error_event(parsed)
                            for output in feed(parsed):
                                yield output
                        else:
                            if deadline.expired:
                                raise body.timed_out()
                            deadline.reader = task
                            continue
                        break  # the protocol's own end of the stream: nothing after it is read
                    else:
                        for output in self._tail(body, reader):
                            yield output
                except (asyncio.CancelledError, httpx2.DecodingError) as exc:
                    error = body.read_error(exc)
                    if error is None:
                        raise
                finally:
                    deadline.reader = None
                if error is not None:
                    raise error  # outside the handler: nothing of the failure is chained
            except httpx2.TransportError as exc:
                failure = type(exc).__name__
            if failure is not None and not reader.finished:
                raise StreamTruncatedError(
                    f"the connection failed mid-stream ({failure}) before {self.end}: the "
                    "answer is incomplete; retry the request",
                    provider=self.provider,
                )
            for output in reader.finish():
                yield output
        finally:
            deadline.close()
            await opened.__aexit__(None, None, None)

    def parse(self, data: bytes) -> Any:
        try:
            return jiter.from_json(data, cache_mode="keys")
        except ValueError:
            pass
        raise self.errors.not_json("a chunk", data)

    # -- internals ----------------------------------------------------------------------------

    async def _whole(
        self, open_response: Callable[[], AbstractAsyncContextManager[SdkResponse]]
    ) -> tuple[Mapping[str, str], bytes]:
        """The whole body, read by us rather than the SDK: a body that never ends stops at
        `max_response_bytes` instead of growing until memory runs out."""
        limit = self.settings.max_response_bytes
        error: LlmError
        async with open_response() as response:
            http = response.http_response
            body = bytearray()
            try:
                async for piece in http.aiter_bytes():
                    body += piece
                    if len(body) > limit:
                        break
                else:
                    return http.headers, bytes(body)
                error = MalformedResponseError(
                    f"the answer is larger than max_response_bytes={limit} and still not over: "
                    "the vendor sent more than any answer needs; raise max_response_bytes= if "
                    "this is expected",
                    provider=self.provider,
                )
            except httpx2.DecodingError as exc:
                error = self.errors.undecodable(exc)
            except httpx2.TimeoutException:
                error = self.errors.timed_out(self.settings.timeout)
            except httpx2.TransportError as exc:
                error = ProviderUnavailableError(
                    f"the connection failed mid-answer ({type(exc).__name__}): retry the request",
                    provider=self.provider,
                )
        raise error  # outside the handler: nothing of the transport's failure is chained

    def _tail(self, body: SseBody, reader: ChunkReader) -> list[StreamEvent]:
        """The events of the event the body ended inside of, when its JSON is whole; a cut one
        means the answer is incomplete."""
        tail = body.tail()
        if tail is None or tail[0] == self.done:
            return []
        data, name = tail
        try:
            parsed = self.parse(data)
        except MalformedResponseError:
            pass
        else:
            if name == "error":
                reader.check_error_event(parsed)
            return reader.feed(parsed)
        raise StreamTruncatedError(
            "the body ended in the middle of an event: the answer is incomplete; retry the request",
            provider=self.provider,
        )

    def _is_error_body(self, answer: Any) -> bool:
        """An error body in any vendor's shape: a list of errors, or an object with `error`."""
        return isinstance(answer, list) or (
            isinstance(answer, dict) and "error" in answer and self.answer_key not in answer
        )

    def _json_instead_of_events(self, answer: Any, headers: Mapping[str, str]) -> LlmError:
        """A JSON body where an event stream was asked for: an error body, or a protocol slip."""
        if self._is_error_body(answer):
            return self.errors.from_error_body_over_200(answer, headers)
        return MalformedResponseError(
            "the vendor answered a streaming request with one JSON document, not an event "
            f"stream: check that base_url points at {self.endpoint} endpoint",
            provider=self.provider,
        )
