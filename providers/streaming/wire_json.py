"""Typed reads of decoded vendor JSON, so a wrong shape is a typed error, never a crash.

A chunk reader asks for a field by its path and the JSON type it needs. Absent and `null`
read as "not sent"; any other shape raises `MalformedResponseError` naming the path, the type
wanted and the type found. No vendor JSON is trusted to be the shape its protocol documents.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from providers.errors import MalformedResponseError

_JSON_TYPES: dict[type, str] = {
    dict: "object",
    list: "array",
    str: "string",
    int: "number",
    float: "number",
    bool: "boolean",
    type(None): "null",
}


def json_type(value: object) -> str:
    """The JSON name of a decoded value's type, as an error message should say it."""
    return _JSON_TYPES.get(type(value), type(value).__name__)


class WireJson:
    """Per provider: the accessors name the provider in the errors they raise."""

    __slots__ = ("provider",)

    def __init__(self, provider: str) -> None:
        self.provider = provider

    def malformed(self, path: str, wanted: str, value: object) -> MalformedResponseError:
        return MalformedResponseError(
            f"the vendor sent a malformed response: {path} must be {wanted}, got "
            f"{json_type(value)}; this is a vendor or gateway fault, retry or report it",
            provider=self.provider,
        )

    def object(self, value: object, path: str) -> dict[str, Any]:
        """`value` itself must be a JSON object."""
        if type(value) is not dict:
            raise self.malformed(path, "an object", value)
        return value

    def optional_object(self, parent: Mapping[str, Any], key: str, path: str) -> dict[str, Any]:
        """An object field; absent or null reads as an empty object."""
        value = parent.get(key)
        if value is None:
            return {}
        return self.object(value, path)

    def optional_array(self, parent: Mapping[str, Any], key: str, path: str) -> list[Any]:
        """An array field; absent or null reads as an empty array."""
        value = parent.get(key)
        if value is None:
            return []
        if type(value) is not list:
            raise self.malformed(path, "an array", value)
        return value

    def optional_objects(
        self, parent: Mapping[str, Any], key: str, path: str
    ) -> list[dict[str, Any]]:
        """An array of objects; absent or null reads as an empty array."""
        items = self.optional_array(parent, key, path)
        for item in items:
            if type(item) is not dict:
                raise self.malformed(f"{path}[]", "an object", item)
        return items

    def optional_string(self, parent: Mapping[str, Any], key: str, path: str) -> str:
        """A string field; absent or null reads as the empty string."""
        value = parent.get(key)
        if value is None:
            return ""
        if type(value) is not str:
            raise self.malformed(path, "a string", value)
        return value

    def optional_index(self, parent: Mapping[str, Any], key: str, path: str) -> int | None:
        """An integer field; absent or null reads as None. Booleans are not integers."""
        value = parent.get(key)
        if value is None:
            return None
        if type(value) is not int:
            raise self.malformed(path, "an integer", value)
        return value

    def count(self, parent: Mapping[str, Any], key: str, path: str) -> int:
        """A non-negative integer count (tokens); absent or null reads as 0."""
        value = parent.get(key)
        if value is None:
            return 0
        if type(value) is not int or value < 0:
            raise self.malformed(path, "a non-negative integer", value)
        return value
