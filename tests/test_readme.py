"""Every command and code block of the README and of docs/ works as written, offline, in a
fresh folder that is not this repository; where the README shows output, the command prints it.

How to keep this green while editing the README (each rule is an HTML comment on the line
just before a fence, invisible on GitHub):

- A ```bash block is run, command by command, in a temporary folder (network blocked at the
  proxy). `pip install`, `pytest`, `tox`, `mypy` and `ruff` lines are checked, not run (their
  extras, paths and tox envs must exist): they are what the test environment and `.ci/run`
  already do. `export KEY=...` is not applied, so a command that needs a live API must refuse
  with exit 2 and name the variable, as documented.
- A ```python block is run in a subprocess; vendor profiles are pointed at a loopback replica
  (the network edge), keys are fakes.
- `<!-- readme-test: output of: COMMAND -->` before a fence: COMMAND (one shown in a bash block)
  prints each line of the fence, in order; a `...` line stands for any lines, a line ending
  in `...` for any end. A shown `llm-contracts: error:` line means the command exits 2.
- `<!-- readme-test: skip: REASON -->` before a fence: not run; the reason says why and where
  else it is tested. Fences without a language are shown text, not run.

Replaying every bundled vendor takes a minute, so commands that certify, gate or record
(`SLOW`) run only with README_TEST_ALL=1, which the README stage of `.ci/run` sets (against
the installed wheel); the default run does everything else.
"""

from __future__ import annotations

import configparser
import os
import re
import shlex
import shutil
import subprocess
import sys
import tomllib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import yaml

from contracts.protocols import protocol_for
from contracts.replica.server import ReplicaServer
from contracts.spec import cases_for, load_scenarios
from providers import available_vendors, load_profile
from providers.vendors import find_profile

REPO = Path(__file__).resolve().parent.parent
DOCUMENTS = [REPO / "README.md", *sorted((REPO / "docs").glob("*.md"))]
RUN_ALL = os.environ.get("README_TEST_ALL") == "1"
_FENCE = re.compile(r"^```(\w*)[^\n]*\n(.*?)^```", re.S | re.M)
_MARKER = re.compile(r"<!--\s*readme-test:\s*(output of|skip):\s*(.*?)\s*-->\s*\n\s*$", re.S)
DEV_TOOLS = ("pytest", "tox", "mypy", "ruff")
#: Commands that replay or record every case of a vendor: a minute for all vendors.
SLOW = re.compile(r"^(llm-contracts|python -m contracts) (certify|gate|record)\b")


@dataclass(frozen=True)
class Block:
    where: str
    language: str
    body: str
    marker: tuple[str, str] | None

    @property
    def commands(self) -> list[str]:
        joined = self.body.replace("\\\n", " ")
        lines = [" ".join(line.split("  #")[0].split()) for line in joined.splitlines()]
        return [line for line in lines if line and not line.startswith("#")]


def blocks() -> list[Block]:
    found = []
    for document in DOCUMENTS:
        text = document.read_text(encoding="utf-8")
        for match in _FENCE.finditer(text):
            before = _MARKER.search(text[max(0, match.start() - 400) : match.start()])
            line = text[: match.start()].count("\n") + 1
            marker = (before.group(1), " ".join(before.group(2).split())) if before else None
            where = f"{document.relative_to(REPO)}:{line}"
            found.append(Block(where, match.group(1), match.group(2), marker))
    return found


BLOCKS = blocks()
OUTPUTS = {b.marker[1]: b for b in BLOCKS if b.marker and b.marker[0] == "output of"}


BASH = [b for b in BLOCKS if b.language in ("bash", "sh") and b.marker is None]


def _needs_live_key(words: list[str]) -> bool:
    return "--live" in words or (words[1:2] == ["record"] and "--replica" not in words)


def _slow(command: str) -> bool:
    words = command.split()
    return bool(SLOW.match(command)) and "--current" not in words and not _needs_live_key(words)


def _steps(block: Block) -> list[str]:
    """The block's commands in order, `a && b` as two; the slow ones only with RUN_ALL."""
    steps = [part for command in block.commands for part in command.split(" && ")]
    return [step for step in steps if RUN_ALL or not _slow(step)]


# -- checked, not run --------------------------------------------------------------------------


def _extras() -> set[str]:
    project = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    return set(project["optional-dependencies"])


def _tox_envs() -> set[str]:
    config = configparser.ConfigParser()
    config.read(REPO / "tox.ini")
    names = {section.removeprefix("testenv:") for section in config.sections()}
    expanded = {"tests-py311", "tests-py312", "tests-py313"}
    return names | expanded


def _check_setup_line(words: list[str]) -> bool:
    """pip and the development tools: true when the line is one, after checking it."""
    if words[:2] == ["pip", "install"]:
        for spec in words[2:]:
            extras = re.findall(r"\[([^\]]*)\]", spec)
            for name in ",".join(extras).split(","):
                assert not name or name in _extras(), f"no extra {name!r} in pyproject.toml"
        return True
    if words[0] in DEV_TOOLS:
        if words[0] == "tox" and "-e" in words:
            assert words[words.index("-e") + 1] in _tox_envs()
        for word in words[1:]:
            if "/" in word and not word.startswith("-"):
                assert (REPO / word.split("::")[0]).exists(), f"{word} does not exist"
        return True
    return False


# -- run ---------------------------------------------------------------------------------------


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    """A user's folder: not this repository; their recordings and a baseline of their own."""
    recordings = tmp_path / "tests" / "cassettes" / "test_chat"
    recordings.mkdir(parents=True)
    (recordings / "test_answer_streams.yaml").write_text(_vcr("POST", "chat/completions", SSE))
    (recordings / "test_upload.yaml").write_text(_vcr("GET", "files", '{"data": []}'))
    (tmp_path / "certificates").mkdir()
    baseline = REPO / "certificates" / "baseline.json"
    for name in ("certificates/baseline.json", "old.json", "new.json"):
        shutil.copy(baseline, tmp_path / name)
    git = ["git", "-c", "user.name=u", "-c", "user.email=u@example.invalid"]
    subprocess.run([*git, "init", "-q"], cwd=tmp_path, check=True)
    subprocess.run([*git, "commit", "-q", "--allow-empty", "-m", "app"], cwd=tmp_path, check=True)
    return tmp_path


SSE = (
    'data: {"id":"c1","model":"mistral-small-latest","choices":[{"index":0,"delta":'
    '{"role":"assistant","content":"Hello!"},"finish_reason":null}]}\n\n'
    'data: {"id":"c1","model":"mistral-small-latest","choices":[{"index":0,"delta":{},'
    '"finish_reason":"stop"}],"usage":{"prompt_tokens":5,"completion_tokens":2,'
    '"total_tokens":7}}\n\n'
    "data: [DONE]\n\n"
)


def _vcr(method: str, endpoint: str, body: str) -> str:
    content = "text/event-stream" if "data:" in body else "application/json"
    request = {"method": method, "uri": f"https://api.mistral.ai/v1/{endpoint}", "headers": {}}
    request["body"] = '{"model": "mistral-small-latest", "stream": true, "messages": []}'
    response = {
        "status": {"code": 200, "message": "OK"},
        "headers": {"content-type": [content]},
        "body": {"string": body},
    }
    interaction = {"request": request, "response": response}
    return str(yaml.safe_dump({"interactions": [interaction], "version": 1}))


def _environment(home: Path) -> dict[str, str]:
    """No key of any vendor, and every connection beyond loopback sent to a dead proxy."""
    keys = {load_profile(v).api_key_env for v in available_vendors()}
    env = {k: v for k, v in os.environ.items() if k not in keys and not k.startswith("LLM_")}
    dead = "http://127.0.0.1:9"
    env.update(HTTP_PROXY=dead, HTTPS_PROXY=dead, NO_PROXY="127.0.0.1,localhost", HOME=str(home))
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    env["GITHUB_STEP_SUMMARY"] = str(home / "summary.md")
    return env


def _expected_lines(block: Block) -> list[str]:
    return [line.rstrip() for line in block.body.splitlines() if line.strip()]


def _shows(output: str, expected: list[str]) -> str | None:
    """Why `output` does not show the expected lines in order (`...` skips), or None."""
    lines = [line.rstrip() for line in output.splitlines()]
    position = 0
    for want in expected:
        if want.strip() == "...":
            continue
        prefix = want[:-3] if want.endswith("...") else None
        while position < len(lines):
            got = lines[position]
            position += 1
            if got == want or (prefix is not None and got.startswith(prefix)):
                break
        else:
            return f"missing line: {want!r}"
    return None


def _run(command: str, folder: Path) -> None:
    words = shlex.split(command)
    plain = [word for word in words if "=" not in word or word.startswith("-")]
    if words[0] == "export" or _check_setup_line(plain):
        return
    result = subprocess.run(
        ["bash", "-c", command],
        cwd=folder,
        env=_environment(folder),
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    printed = result.stdout + result.stderr
    assert "Traceback" not in printed, printed
    shown = OUTPUTS.get(command)
    if _needs_live_key(words):  # its key was not exported: the refusal naming the variable
        vendor = words[words.index("--vendor") + 1]
        variable = load_profile(vendor).api_key_env if find_profile(vendor) else None
        assert result.returncode == 2, printed
        assert f"set {variable or vendor.upper() + '_API_KEY'}" in printed, printed
    elif shown is not None and "\nllm-contracts: error:" in f"\n{shown.body}":
        assert result.returncode == 2, printed
    else:
        assert result.returncode == 0, printed
    if shown is not None:
        differs = _shows(printed, _expected_lines(shown))
        assert differs is None, f"{shown.where}: {differs}\n{printed}"


@pytest.mark.parametrize("block", BASH, ids=lambda b: b.where)
def test_each_bash_block_works(block: Block, folder: Path) -> None:
    """Its commands in order, in one folder, as a user would type them."""
    for command in _steps(block):
        _run(command, folder)


def test_every_output_block_belongs_to_a_shown_command() -> None:
    commands = {part for block in BASH for c in block.commands for part in c.split(" && ")}
    for command, block in OUTPUTS.items():
        assert command in commands, f"{block.where}: output of {command!r}, not a shown command"


def test_every_skip_says_why() -> None:
    for block in BLOCKS:
        if block.marker and block.marker[0] == "skip":
            assert len(block.marker[1].split()) >= 3, f"{block.where}: skip needs a reason"


@pytest.fixture
def replica_profiles(tmp_path: Path) -> Iterator[Path]:
    """Every bundled profile, its base URL on a loopback replica answering a plain text case
    in that vendor's dialect: the README's code runs unchanged, only the network edge moves."""
    vendors = tmp_path / "vendors"
    vendors.mkdir()
    text_basic = next(s for s in load_scenarios() if s.id == "text_basic")
    servers = []
    for name in available_vendors():
        profile = load_profile(name)
        server = ReplicaServer(protocol_for(profile).responder(cases_for(text_basic, profile)[0]))
        servers.append(server.__enter__())
        text = Path(str(find_profile(name))).read_text(encoding="utf-8")
        local = f"http://127.0.0.1:{server.port}{urlsplit(profile.base_url).path}"
        (vendors / f"{name}.toml").write_text(
            re.sub(r'(?m)^base_url = ".*"$', f'base_url = "{local}"', text), encoding="utf-8"
        )
    yield vendors
    for server in servers:
        server.__exit__(None, None, None)


@pytest.mark.parametrize(
    "block",
    [b for b in BLOCKS if b.language == "python" and b.marker is None],
    ids=lambda b: b.where,
)
def test_each_python_block_runs(block: Block, replica_profiles: Path) -> None:
    env = _environment(replica_profiles.parent)
    env["LLM_CONTRACTS_VENDOR_DIRS"] = str(replica_profiles)
    for name in available_vendors():
        variable = load_profile(name).api_key_env
        if variable:
            env[variable] = "sk-readme-test-0000000000000000"
    result = subprocess.run(
        [sys.executable, "-c", block.body],
        cwd=replica_profiles.parent,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
