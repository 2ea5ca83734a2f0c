"""Keep credentials out of everything we repeat: error messages, snippets, request ids.

Protocol-neutral: every provider scrubs what a vendor (or a proxy, or an HTTP library) says
before it reaches an exception. A key can come back escaped, not verbatim: "Illegal header
value b'Bearer sk-...\\\\n'" shows a trailing newline as two characters, JSON as `\\u0000`. So each
secret is removed in every form a message is likely to carry, and always before a snippet is
cut: cutting first can leave the first half of a key that straddles the cut.
"""

from __future__ import annotations

import json
import logging
import re
import urllib.parse
import weakref
from collections.abc import Iterable, Mapping

REDACTED = "[REDACTED]"
#: Shorter values are too likely to occur by chance to be replaced everywhere.
_MIN_SECRET = 4
#: Whitespace and control characters: a pasted key's stray ends, which messages escape.
_STRAY = "".join(map(chr, range(0x21))) + "\x7f"
_CREDENTIAL_HEADER = re.compile(r"auth|key|token|secret|cookie|session|signature|password", re.I)


def credential_values(headers: Mapping[str, str]) -> list[str]:
    """Header values that are credentials by their name (x-goog-api-key, cookie, ...): they
    are scrubbed like the key; others ("x-title: MyApp") are left readable in messages."""
    return [value for name, value in headers.items() if _CREDENTIAL_HEADER.search(name)]


def _forms(secret: str) -> set[str]:
    """The secret as a message may spell it: raw, trimmed, or escaped by repr, JSON or a URL."""
    return {
        secret,
        secret.strip(_STRAY),
        secret.encode("unicode_escape").decode("ascii"),
        json.dumps(secret)[1:-1],
        repr(secret.encode("utf-8", "surrogatepass"))[2:-1],
        urllib.parse.quote(secret, safe=""),
    }


class Scrubber:
    """Replaces the given secrets, in all their forms, with `[REDACTED]`."""

    __slots__ = ("__weakref__", "_forms")

    def __init__(self, secrets: Iterable[str]) -> None:
        forms = {form for secret in secrets for form in _forms(secret) if len(form) >= _MIN_SECRET}
        # Longest first: an escaped form contains the trimmed one and must go whole.
        self._forms = sorted(forms, key=len, reverse=True)

    def scrub(self, text: str) -> str:
        for form in self._forms:
            if form in text:
                text = text.replace(form, REDACTED)
        return text

    def snippet(self, text: str | bytes, limit: int) -> str:
        """At most `limit` characters of `text`, scrubbed first, "..." marking a cut."""
        if isinstance(text, bytes):
            text = text.decode("utf-8", "replace")
        text = self.scrub(text)
        return text if len(text) <= limit else text[:limit] + "..."


#: Every scrubber of a provider still alive: their secrets are kept out of library logs.
_LIVE: weakref.WeakSet[Scrubber] = weakref.WeakSet()


class _LogScrubber(logging.Filter):
    """Rewrites a record that repeats a live secret: its message (a request id echoing the
    key) and its traceback (an SDK logs the exception it wraps, message and all)."""

    _formatter = logging.Formatter()

    def filter(self, record: logging.LogRecord) -> bool:
        scrubbers = list(_LIVE)
        if not scrubbers:
            return True

        def scrub(text: str) -> str:
            for scrubber in scrubbers:
                text = scrubber.scrub(text)
            return text

        message = record.getMessage()
        scrubbed = scrub(message)
        if scrubbed != message:
            record.msg, record.args = scrubbed, None
        if record.exc_info:
            # Handlers print `exc_text` as it stands; the live exception is dropped with it.
            record.exc_text = scrub(
                record.exc_text or self._formatter.formatException(record.exc_info)
            )
            record.exc_info = None
        if record.stack_info:
            record.stack_info = scrub(record.stack_info)
        return True


_LOG_FILTER = _LogScrubber()


def scrub_logs(scrubber: Scrubber, loggers: Iterable[str]) -> None:
    """Keep `scrubber`'s secrets out of these loggers' records for as long as it lives.

    A logger's filters see only the records logged to it by name, so the caller names the
    loggers its SDK and HTTP client write to.
    """
    _LIVE.add(scrubber)
    for name in loggers:
        logger = logging.getLogger(name)
        if _LOG_FILTER not in logger.filters:
            logger.addFilter(_LOG_FILTER)
