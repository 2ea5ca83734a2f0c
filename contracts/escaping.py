"""Text a server or a file controls, made safe for the medium it is printed in.

A vendor's error message, a model name, a raw finish value, a cassette path or a vendor name
read from a certificate can hold anything: terminal escape sequences that rewrite the screen,
newlines that forge table rows, Markdown that opens a heading, closes a code fence or adds
HTML a CI page renders. Everything such text reaches goes through one function here, chosen
by where it lands: `terminal` for a line on a terminal, `markdown` for Markdown prose or a
table cell, `markdown_code` for an inline code span, `markdown_block` for a fenced block,
`inert_json` for JSON that may be shown on a terminal.
"""

from __future__ import annotations

import re
import unicodedata

#: Characters that act instead of showing: C0 and C1 controls, DEL, line and paragraph
#: separators, and format characters (bidirectional overrides reorder what a reader sees).
_ACTING = frozenset({"Cc", "Cf", "Zl", "Zp", "Cs"})
#: Markdown's active punctuation; `_` only where it can open or close emphasis (`gpt_4`
#: stays readable), and at the start of the text whatever would open a block there.
_MARKDOWN_ACTIVE = re.compile(r"[\\`*\[\]|~]|(?<![0-9A-Za-z])_|_(?![0-9A-Za-z])|^[#+=-]")
_HTML = {"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;"}
_BACKTICKS = re.compile(r"`+")


def _visible(char: str) -> str:
    code = ord(char)
    if code <= 0xFF:
        return f"\\x{code:02x}"
    return f"\\u{code:04x}" if code <= 0xFFFF else f"\\U{code:08x}"


def terminal(text: object) -> str:
    """One line for a terminal: every acting character shown as a `\\xNN` escape, so no
    sequence reaches the terminal and no newline starts a line the text did not own."""
    value = str(text)
    if value.isprintable() and value.isascii():
        return value
    return "".join(
        _visible(char) if unicodedata.category(char) in _ACTING else char for char in value
    )


def markdown(text: object) -> str:
    """Markdown prose or a table cell: shown literally, never read as Markdown or HTML."""
    escaped = _MARKDOWN_ACTIVE.sub(lambda found: "\\" + found.group(0), terminal(text))
    return "".join(_HTML.get(char, char) for char in escaped)


def markdown_code(text: object) -> str:
    """An inline code span holding `text` literally, whatever backticks it contains; a pipe
    is escaped too, since a table row ends at any unescaped pipe, code span or not."""
    value = terminal(text).replace("|", "\\|")
    longest = max((len(run) for run in _BACKTICKS.findall(value)), default=0)
    fence = "`" * (longest + 1)
    pad = " " if value.startswith("`") or value.endswith("`") or not value.strip() else ""
    return f"{fence}{pad}{value}{pad}{fence}"


def markdown_block(lines: list[str]) -> list[str]:
    """A fenced code block holding `lines` literally: the fence is longer than any run of
    backticks inside, so no line can close it; each line is escaped for the terminal."""
    shown = [terminal(line) for line in lines]
    longest = max((len(run) for line in shown for run in _BACKTICKS.findall(line)), default=0)
    fence = "`" * max(3, longest + 1)
    return [fence, *shown, fence]


def inert_json(text: str) -> str:
    """JSON text with every acting character inside its strings written as a `\\uXXXX` escape:
    the same JSON to a parser, but nothing a terminal acts on (a JSON serializer escapes only
    C0 controls; C1 controls, bidirectional overrides and line separators pass through)."""
    if text.isascii() and text.isprintable():
        return text
    return "".join(
        "".join(f"\\u{unit:04x}" for unit in _utf16(char))
        if unicodedata.category(char) in _ACTING and char not in "\n"
        else char
        for char in text
    )


def _utf16(char: str) -> list[int]:
    """The UTF-16 code units of one character, as JSON's `\\u` escapes spell it."""
    data = char.encode("utf-16-be", "surrogatepass")
    return [int.from_bytes(data[at : at + 2], "big") for at in range(0, len(data), 2)]
