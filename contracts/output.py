"""One rule for every report a command makes: `--format` says what, `--out` says where.

Without `--out` the report goes to standard output. With `--out PATH` it is written to that one
file (whole, or not at all) and nothing else is written anywhere; the terminal then shows the
table and the file's name, so a CI log still tells the verdict. Without `--format` the format
follows the suffix of `--out` (`.json`, `.md`, `.html`), else it is the table.
"""

from __future__ import annotations

import os
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

from contracts.html_report import render_html
from contracts.report import Certificate, render_markdown, render_table

#: The vocabulary of `--format`, for the certificate; `gate` speaks a part of it.
CERTIFICATE_FORMATS = ("table", "markdown", "json", "html")
_SUFFIXES = {".json": "json", ".md": "markdown", ".markdown": "markdown", ".html": "html"}


def chosen_format(given: str | None, out: str | None, allowed: Sequence[str]) -> str:
    """The format asked for; else the one `--out`'s suffix names, if allowed; else the table."""
    if given:
        return given
    by_suffix = _SUFFIXES.get(Path(out).suffix.lower(), "table") if out else "table"
    return by_suffix if by_suffix in allowed else "table"


def render_certificate(
    certificate: Certificate,
    form: str,
    *,
    colour: bool = False,
    baseline: Certificate | None = None,
) -> str:
    """The certificate in `form`; the HTML page also shows what changed since `baseline`."""
    if form == "json":
        return certificate.model_dump_json(indent=2) + "\n"
    if form == "markdown":
        return render_markdown(certificate)
    if form == "html":
        return render_html(certificate, baseline)
    return render_table(certificate, colour=colour) + "\n"


def write_whole(path: Path, text: str) -> None:
    """The file appears complete or not at all (a temporary file, then a rename)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as file:
            file.write(text)
        Path(temporary).replace(path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def deliver(report: str, out: str | None, *, terminal: str) -> None:
    """The report to `out`, or to standard output; with `out`, the terminal gets `terminal`."""
    if out is None:
        sys.stdout.write(report)
        return
    write_whole(Path(out), report)
    sys.stdout.write(terminal if terminal.endswith("\n") else terminal + "\n")
    print(f"wrote {out}")
