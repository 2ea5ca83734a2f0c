"""The deadline's one timer: it ends the read in progress, and only its own cancellation."""

from __future__ import annotations

import asyncio

import pytest

from providers.body import Deadline


async def test_reads_before_the_deadline_return_their_value() -> None:
    deadline = Deadline(30.0)
    assert await deadline.within(asyncio.sleep(0, "first")) == "first"
    assert await deadline.within(asyncio.sleep(0, "second")) == "second"
    deadline.close()


async def test_a_read_in_progress_at_the_deadline_times_out_and_so_does_the_next() -> None:
    deadline = Deadline(0.05)
    with pytest.raises(TimeoutError):
        await deadline.within(asyncio.sleep(5))
    with pytest.raises(TimeoutError):
        await deadline.within(asyncio.sleep(0))
    task = asyncio.current_task()
    assert task is not None
    assert task.cancelling() == 0  # the deadline's cancellation was taken back


async def test_a_cancellation_from_outside_stays_a_cancellation() -> None:
    deadline = Deadline(30.0)
    reading = asyncio.ensure_future(deadline.within(asyncio.sleep(5)))
    await asyncio.sleep(0.01)
    reading.cancel()
    with pytest.raises(asyncio.CancelledError):
        await reading
    deadline.close()


async def test_a_deadline_passing_between_reads_fails_the_next_read() -> None:
    deadline = Deadline(0.02)
    assert await deadline.within(asyncio.sleep(0, "ok")) == "ok"
    await asyncio.sleep(0.05)
    with pytest.raises(TimeoutError):
        await deadline.within(asyncio.sleep(0))
