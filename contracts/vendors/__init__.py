"""What the suite knows about a vendor's wire, beside the provider's own profile.

`providers/vendors/<name>.toml` holds what a provider reads to talk to the vendor;
`contracts/vendors/<name>.toml` holds what only the suite reads: how the vendor lays out its
bytes (the replica plays it, drift compares with it), what it refuses and with which answer
(the replica refuses the same way; `request.shape` flags it), what it silently ignores, and
its known defects. A vendor directory named in LLM_CONTRACTS_VENDOR_DIRS keeps these files in
its `contracts/` sub-folder; a vendor without one gets its protocol's plain defaults.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache
from pathlib import Path
from typing import Any

from pydantic import Field, model_validator

from providers.frozen import Frozen as _Section
from providers.vendors import NAME_PATTERN, ProfileError, load_toml_model, profile_dirs

SUITE_DIR = Path(__file__).parent
#: The sub-folder of a user's vendor directory that holds the suite's side of its vendors.
SUITE_SUBDIR = "contracts"


#: Judges a named protocol rule on a request body: whether the body breaks it.
RuleJudge = Callable[[str, dict[str, Any]], bool]


def values_at(document: Any, path: str) -> list[Any]:
    """The values a dotted path names in a JSON document; `name[]` steps into every item of a
    list (`messages[].content[].type`). Nothing found: an empty list."""
    found = [document]
    for step in path.split("."):
        each = step.endswith("[]")
        key = step.removesuffix("[]")
        found = [item[key] for item in found if isinstance(item, dict) and key in item]
        if each:
            found = [member for item in found if isinstance(item, list) for member in item]
    return found


class Rejection(_Section):
    """A request field the vendor refuses, and the answer it gives.

    `field` is a dotted path (`tool_choice`, `response_format.type`, `messages[].content[].type`).
    With no condition the field's mere presence is refused; `missing` refuses its absence
    (a required field); `values` refuses those values only; `max_items` refuses longer lists
    (a single stop string counts as one); `minimum` / `maximum` refuse numbers out of range;
    `below` refuses a number that is not below the one at that other path. `when` (with
    `when_values`, any value if unset) limits the rule to requests carrying that path.
    """

    field: str
    missing: bool = False
    values: tuple[Any, ...] | None = None
    max_items: int | None = Field(default=None, ge=0)
    minimum: float | None = None
    maximum: float | None = None
    below: str | None = None
    when: str | None = None
    when_values: tuple[Any, ...] | None = None
    #: A condition no path can state, named for the vendor's protocol to judge
    #: (`thinking_not_first`); `field` then names what it concerns.
    rule: str | None = None
    status: int = Field(ge=400, le=599)
    #: The vendor's own error body, as JSON (a string is served as plain text).
    body: Any
    #: Why we believe it: where the fact comes from.
    source: str = ""

    def refuses(self, request: dict[str, Any], breaks: RuleJudge | None = None) -> bool:
        if self.rule is not None:
            return breaks is not None and breaks(self.rule, request)
        if self.when is not None:
            condition = values_at(request, self.when)
            if not condition or (
                self.when_values is not None
                and not any(value in self.when_values for value in condition)
            ):
                return False
        found = values_at(request, self.field)
        if not found:
            return self.missing
        if self.missing:
            return False
        return any(self._refuses_value(value, request) for value in found)

    def _refuses_value(self, value: Any, request: dict[str, Any]) -> bool:
        if self.values is not None:
            return any(value == refused and type(value) is type(refused) for refused in self.values)
        if self.below is not None:
            limits = [limit for limit in values_at(request, self.below) if _number(limit)]
            return _number(value) and any(value >= limit for limit in limits)
        if self.max_items is not None:
            items = value if isinstance(value, list) else [value]
            return len(items) > self.max_items
        if self.minimum is not None or self.maximum is not None:
            if not _number(value):
                return False
            low = self.minimum if self.minimum is not None else value
            high = self.maximum if self.maximum is not None else value
            return not low <= value <= high
        return True

    def describe(self) -> str:
        if self.missing:
            what = f"no {self.field}"
        elif self.values is not None:
            what = f"{self.field} {' or '.join(map(repr, self.values))}"
        elif self.below is not None:
            what = f"{self.field} not below {self.below}"
        elif self.max_items is not None:
            what = f"more than {self.max_items} item(s) in {self.field}"
        elif self.minimum is not None or self.maximum is not None:
            what = f"{self.field} outside [{self.minimum}, {self.maximum}]"
        elif self.rule is not None:
            what = f"{self.field} ({self.rule})"
        else:
            what = self.field
        return f"{what} with {self.when}" if self.when else what


def _number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


class SuiteProfile(_Section):
    name: str = Field(pattern=rf"^{NAME_PATTERN}$")
    #: Finish values this vendor is known to send, in its protocol's words (the replica
    #: draws from these; the scenarios' own values are OpenAI's words, which every protocol
    #: translates).
    finish_values: tuple[str, ...] = ("stop", "length", "tool_calls", "content_filter")
    #: How the vendor lays out its bytes; the keys belong to the vendor's protocol.
    wire: dict[str, Any] = Field(default_factory=dict)
    rejects: tuple[Rejection, ...] = ()
    #: Request fields the vendor accepts and silently ignores (a cap sent there caps nothing).
    ignored_fields: tuple[str, ...] = ()
    #: Contract clause id -> why this vendor is known to break it (certified as xfail).
    known_defects: dict[str, str] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _defects_have_reasons(self) -> SuiteProfile:
        blank = [clause for clause, reason in self.known_defects.items() if not reason.strip()]
        if blank:
            raise ValueError(f"known_defects need a reason: {blank}")
        return self

    def rejection(
        self, request: dict[str, Any], breaks: RuleJudge | None = None
    ) -> Rejection | None:
        """The first rule this request breaks, if any; `breaks` judges the protocol's rules."""
        return next((rule for rule in self.rejects if rule.refuses(request, breaks)), None)


def suite_dirs() -> list[Path]:
    """Where suite files are looked up, first match wins: each user vendor directory's
    `contracts/` sub-folder, in the profiles' order, then the bundled ones."""
    *user_dirs, _bundled = profile_dirs()
    return [folder / SUITE_SUBDIR for folder in user_dirs] + [SUITE_DIR]


def find_suite_file(name: str) -> Path | None:
    return next((d / f"{name}.toml" for d in suite_dirs() if (d / f"{name}.toml").is_file()), None)


def load_suite_file(path: Path) -> SuiteProfile:
    return load_toml_model(path, SuiteProfile, "vendor suite file")


def load_suite_profile(name: str) -> SuiteProfile:
    """The suite's side of vendor `name`; plain defaults when it has none."""
    path = find_suite_file(name)
    if path is None:
        return SuiteProfile(name=name)
    return _load_named(name, path, path.stat().st_mtime_ns)


@cache
def _load_named(name: str, path: Path, _mtime: int) -> SuiteProfile:
    suite = load_suite_file(path)
    if suite.name != name:
        raise ProfileError(f"{path}: name = {suite.name!r} must match the file name {name!r}")
    return suite
