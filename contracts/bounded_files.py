"""Reading a file a command was pointed at, bounded: only a regular file, and at most a given
size. A symlink to `/dev/zero`, a pipe nobody writes to or a directory is refused before a
byte is read, whatever name leads to it, so no recording, cassette or certificate can make a
command read until memory runs out or wait forever."""

from __future__ import annotations

import os
import stat
from pathlib import Path

#: The largest recording, cassette or certificate read (an 18 MiB stream is the largest
#: recording seen in the wild; its cassette is a little larger).
MAX_FILE_BYTES = 256 * 1024 * 1024


class UnreadableFile(ValueError):
    """The file is not one a command reads; the message says why (it names the file)."""


def read_text(path: Path, what: str, limit: int = MAX_FILE_BYTES) -> str:
    """The UTF-8 text of the regular file at `path`, of at most `limit` bytes; a refusal
    names it as `what` (a recording, a cassette, a certificate)."""
    try:
        handle = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    except (OSError, ValueError) as exc:
        why = exc.strerror if isinstance(exc, OSError) else str(exc)
        raise UnreadableFile(f"cannot read {what} {path}: {why}") from None
    if not stat.S_ISREG(os.fstat(handle).st_mode):
        os.close(handle)
        raise UnreadableFile(
            f"{what} {path} is not a regular file (a device, pipe or directory)"
        )
    with os.fdopen(handle, "rb") as stream:
        data = stream.read(limit + 1)
    if len(data) > limit:
        raise UnreadableFile(f"{what} {path} is larger than {limit} bytes")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise UnreadableFile(f"{what} {path} is not UTF-8 text (byte {exc.start})") from None
