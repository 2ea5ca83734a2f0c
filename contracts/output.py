"""One rule for every report a command makes: `--format` says what, `--out` says where.

Without `--out` the report goes to standard output. With `--out PATH` it is written to that
file (whole, or not at all) and nothing else is written anywhere; the terminal then shows the
table and the file's name, so a CI log still tells the verdict. Without `--format` the format
follows the suffix of `--out` (`.json`, `.md`, `.html`), else it is the table. `--out` may be
given several times (one run, several files, each in its suffix's format); `--format` then
has nothing single to name and is refused.
"""

from __future__ import annotations

import os
import sys
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path

from contracts.escaping import inert_json
from contracts.escaping import terminal as terminal_text
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


class OutputError(ValueError):
    """`--format` and `--out` that ask for something contradictory."""


def targets(
    given: str | None, outs: Sequence[str], allowed: Sequence[str]
) -> dict[str | None, str]:
    """Each place a report goes (None: standard output) and its format."""
    if not outs:
        return {None: given or "table"}
    for out in outs:
        _check_writable(Path(out))
    if given and len(outs) > 1:
        raise OutputError(
            "--format names one format; with several --out files each file's suffix names "
            "its own (.json, .md, .html)"
        )
    return {out: chosen_format(given, out, allowed) for out in outs}


def _check_writable(path: Path) -> None:
    """Refuse, before anything runs, an `--out` no file can take: a directory, or a path
    below a file."""
    if path.is_dir():
        raise OutputError(f"cannot write {path}: it is a directory")
    for folder in path.parents:
        if folder.exists() and not folder.is_dir():
            raise OutputError(f"cannot write {path}: {folder} is not a directory")


def render_certificate(
    certificate: Certificate,
    form: str,
    *,
    colour: bool = False,
    baseline: Certificate | None = None,
) -> str:
    """The certificate in `form`; the HTML page also shows what changed since `baseline`."""
    if form == "json":
        return inert_json(certificate.model_dump_json(indent=2)) + "\n"
    if form == "markdown":
        return render_markdown(certificate)
    if form == "html":
        return render_html(certificate, baseline)
    return render_table(certificate, colour=colour) + "\n"


def write_whole(path: Path, text: str) -> None:
    """The file appears complete or not at all (a temporary file, then a rename); a path no
    file can take (a directory, a folder below a file) is an `OutputError` naming it."""
    temporary: Path | None = None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        if path.is_dir():
            raise IsADirectoryError(21, "it is a directory")
        handle, name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
        temporary = Path(name)
        with os.fdopen(handle, "w", encoding="utf-8") as file:
            file.write(text)
        temporary.replace(path)
    except OSError as exc:
        raise OutputError(f"cannot write {path}: {exc.strerror}") from None
    finally:
        if temporary is not None:
            temporary.unlink(missing_ok=True)


def deliver(reports: Mapping[str | None, str], *, terminal: str) -> None:
    """Each report to its file, or the one to standard output; with files, the terminal gets
    `terminal` and each file's name."""
    if None in reports:
        sys.stdout.write(reports[None])
        return
    for out, report in reports.items():
        write_whole(Path(str(out)), report)
    sys.stdout.write(terminal if terminal.endswith("\n") else terminal + "\n")
    for out in reports:
        print(f"wrote {terminal_text(out)}")
