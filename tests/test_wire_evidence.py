"""Wire evidence shows the bytes a check judged: the answer's end (finish, usage, [DONE]) is
never trimmed away, the body is text rather than a repr, and one exchange is shown, not two."""

from __future__ import annotations

import json

from contracts.explain import BODY_CHARS, wire_evidence
from contracts.observed import Exchange
from contracts.wire import chunk, sse_body

KEY = "sk-evidence-0123456789abcdefghijkl"
REQUEST = {"model": "gpt-4o", "stream": True, "messages": [{"role": "user", "content": "Hi"}]}


def _long_stream() -> str:
    pieces = [chunk({"content": f"word{i} "}) for i in range(200)]
    return sse_body([*pieces, chunk({}, finish="novel_finish")]).decode()


def test_a_long_answer_keeps_its_end_and_says_how_much_is_elided() -> None:
    body = _long_stream()
    assert len(body) > 4 * BODY_CHARS
    lines = wire_evidence([Exchange(REQUEST, 200, "text/event-stream", body)], KEY)
    text = "\n".join(lines)
    assert '"finish_reason":"novel_finish"' in text.replace(" ", "")
    assert lines[-1] == "  data: [DONE]"
    assert "word0 " in text  # the start, too
    [elided] = [line for line in lines if "not shown" in line]
    assert "events" in elided
    assert "the cassette has them all" in elided
    assert "\\n" not in text  # text, not a Python repr


def test_the_judged_path_is_shown_once() -> None:
    stream = Exchange(REQUEST, 200, "text/event-stream", "data: [DONE]\n\n")
    answer = json.dumps({"choices": [{"message": {"content": "Hi"}, "finish_reason": "stop"}]})
    complete = Exchange({**REQUEST, "stream": False}, 200, "application/json", answer)
    for path, shown in (("stream", "data: [DONE]"), ("complete", answer)):
        lines = wire_evidence([stream, complete], KEY, path=path)
        assert sum(line.startswith("request") for line in lines) == 1
        assert lines[0].startswith(f"request ({path}): ")
        assert f"  {shown}" in lines


def test_the_key_is_never_shown() -> None:
    leaky = Exchange({"api_key": KEY}, 401, "application/json", f'{{"error": "bad key {KEY}"}}')
    assert KEY not in "\n".join(wire_evidence([leaky], KEY))
