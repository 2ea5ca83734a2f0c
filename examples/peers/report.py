"""Certify each peer on each vendor dialect and write the README's findings section.

    python examples/peers/report.py                  # print the section
    python examples/peers/report.py --write-readme   # replace it in README.md

Each failure is explained from `findings.toml` (a defect of the library, a documented
limitation, or a gap in the adapter, with where in the library's source it comes from); a
failure with no explanation is printed as UNEXPLAINED and the command exits 1.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tomllib
from pathlib import Path

os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))

from contracts.certification import certify_vendor  # noqa: E402
from contracts.report import VendorResult  # noqa: E402
from contracts.spec import load_clauses  # noqa: E402
from examples.peers.registry import DIALECTS, PEERS, Peer  # noqa: E402
from providers.vendors import load_profile  # noqa: E402

START = "<!-- peers:start -->"
END = "<!-- peers:end -->"
FINDINGS = Path(__file__).with_name("findings.toml")
_CELL = {
    "pass": "pass",
    "fail": "**FAIL**",
    "unsupported": "n/a",
    "xfail": "xfail",
    "not-exercised": "n/e",
}


async def certify(peer: Peer) -> list[VendorResult]:
    return [
        await certify_vendor(load_profile(dialect), peer.factory(), mode="replica")
        for dialect in DIALECTS
    ]


def section(results: dict[str, list[VendorResult]], peers: list[Peer]) -> tuple[str, int]:
    findings = tomllib.loads(FINDINGS.read_text(encoding="utf-8"))
    lines = [
        START,
        "## What the suite finds in popular clients",
        "",
        "Each client is wrapped in a thin `LlmProvider` adapter (`examples/peers/`) that "
        "translates what the library reports and fixes nothing, then held to every clause "
        "against the loopback replica speaking each vendor's dialect. Regenerate with "
        "`pip install -e '.[test,peers]' && python examples/peers/report.py --write-readme`; "
        "run as tests with `tox -e peers`. Each failure is explained from the library's source "
        "and the bytes in `examples/peers/findings.toml`, with its kind (library defect, "
        "documented or library limitation); a failure without an explanation prints "
        "UNEXPLAINED and the command exits 1. n/e: not exercised (on Mistral every client's "
        "stream request is refused for its `stream_options`, so the clauses about the answer "
        "have nothing to judge there; `request.shape` carries the finding).",
        "",
    ]
    unexplained = 0
    for peer in peers:
        vendors = results[peer.library]
        lines += [f"### {peer.library} {peer.version()}", ""]
        lines.append("| clause | " + " | ".join(DIALECTS) + " |")
        lines.append("|" + "---|" * (len(DIALECTS) + 1))
        failing: dict[str, list[str]] = {}
        for clause in load_clauses():
            cells = []
            for dialect, vendor in zip(DIALECTS, vendors, strict=True):
                result = vendor.clauses[clause]
                cells.append(_CELL.get(result.verdict, result.verdict))
                if result.verdict == "fail":
                    failing.setdefault(clause, []).append(dialect)
            if set(cells) != {"pass"}:
                lines.append(f"| `{clause}` | " + " | ".join(cells) + " |")
        lines.append("")
        lines.append("Clauses not listed pass on every dialect.")
        lines.append("")
        explained = findings.get(peer.library, {})
        for clause, dialects in failing.items():
            finding = explained.get(clause)
            if finding is None:
                unexplained += 1
                lines.append(f"- `{clause}` ({', '.join(dialects)}): UNEXPLAINED")
                continue
            lines.append(
                f"- `{clause}` ({', '.join(dialects)}): **{finding['kind']}**. {finding['why']}"
            )
        lines.append("")
    lines.append(END)
    return "\n".join(lines) + "\n", unexplained


def write_readme(generated: str) -> None:
    readme = REPO / "README.md"
    text = readme.read_text(encoding="utf-8")
    if START in text:
        before, rest = text.split(START, 1)
        after = rest.split(END, 1)[1].lstrip("\n")
        text = before + generated + "\n" + after
    else:
        anchor = "## Performance"
        text = text.replace(anchor, generated + "\n" + anchor, 1)
    readme.write_text(text, encoding="utf-8")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--write-readme", action="store_true")
    parser.add_argument("--peer", action="append", help="only this library (repeatable)")
    args = parser.parse_args()
    peers = [p for p in PEERS if not args.peer or p.library in args.peer]
    results = {peer.library: asyncio.run(certify(peer)) for peer in peers}
    text, unexplained = section(results, peers)
    if args.write_readme:
        write_readme(text)
        print(f"README.md: section written ({unexplained} unexplained failure(s))")
    else:
        sys.stdout.write(text)
    return 1 if unexplained else 0


if __name__ == "__main__":
    sys.exit(main())
