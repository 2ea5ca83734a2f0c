"""Keep credentials out of everything we repeat: error messages, snippets, request ids.

Protocol-neutral: every provider scrubs what a vendor (or a proxy, or an HTTP library) says
before it reaches an exception. A key can come back escaped, not verbatim: "Illegal header
value b'Bearer sk-...\\\\n'" shows a trailing newline as two characters, JSON as `\\u0000`. So each
secret is removed in every form a message is likely to carry, and always before a snippet is
cut: cutting first can leave the first half of a key that straddles the cut.
"""

from __future__ import annotations

import json
import urllib.parse
from collections.abc import Iterable

REDACTED = "[REDACTED]"
#: Shorter values are too likely to occur by chance to be replaced everywhere.
_MIN_SECRET = 4


def _forms(secret: str) -> set[str]:
    """The secret as a message may spell it: raw, trimmed, or escaped by repr, JSON or a URL."""
    return {
        secret,
        secret.strip(),
        secret.encode("unicode_escape").decode("ascii"),
        json.dumps(secret)[1:-1],
        repr(secret.encode("utf-8", "surrogatepass"))[2:-1],
        urllib.parse.quote(secret, safe=""),
    }


class Scrubber:
    """Replaces the given secrets, in all their forms, with `[REDACTED]`."""

    __slots__ = ("_forms",)

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
