"""YAML in and out of cassette files: fast where libyaml is there, bounded whatever a file holds.

PyYAML's pure-Python emitter and parser are tens of times slower than libyaml's, so the C
loader and dumper are used where PyYAML was built with them. A few hundred bytes of nested
aliases (`&a [*a, *a]`, nine levels deep) stand for gigabytes once anything walks them, so a
document is measured as if every alias were written out, before anything is built from it.
"""

from __future__ import annotations

import copy
import functools
from typing import Any

import yaml

try:
    from yaml import CSafeDumper as SafeDumper
    from yaml import CSafeLoader as SafeLoader
except ImportError:  # PyYAML built without libyaml: same output, slower
    from yaml import SafeDumper, SafeLoader  # type: ignore[assignment]

#: What a document may stand for with every alias written out (characters of its scalars
#: plus one per node): this many times its own length, plus `EXPANSION_SLACK`. Recording
#: tools alias little or nothing (a shared header mapping at most); a bomb multiplies.
EXPANSION_FACTOR = 10
EXPANSION_SLACK = 1024 * 1024


class YamlExpansionError(yaml.YAMLError):
    """The document refers to itself, or its aliases stand for far more than it holds."""


class LiteralDumper(SafeDumper):
    """Multi-line strings (SSE bodies) as literal blocks, readable in a diff."""


def _str_representer(dumper: LiteralDumper, value: str) -> yaml.ScalarNode:
    style = "|" if "\n" in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


LiteralDumper.add_representer(str, _str_representer)


def dump(document: Any) -> str:
    return yaml.dump(document, Dumper=LiteralDumper, sort_keys=False, allow_unicode=True)


def _children(node: yaml.Node) -> list[yaml.Node]:
    if isinstance(node, yaml.SequenceNode):
        return list(node.value)
    if isinstance(node, yaml.MappingNode):
        return [part for pair in node.value for part in pair]
    return []


def expanded_size(root: yaml.Node, limit: int) -> int:
    """The size of `root` with every alias written out, computed once per distinct node (so
    in time linear in the file); YamlExpansionError past `limit` or on a cycle."""
    sizes: dict[int, int] = {}
    open_nodes: set[int] = set()
    stack: list[tuple[yaml.Node, bool]] = [(root, False)]
    while stack:
        node, children_done = stack.pop()
        key = id(node)
        if children_done:
            open_nodes.discard(key)
            size = 1 + sum(sizes[id(child)] for child in _children(node))
            if size > limit:
                raise YamlExpansionError(
                    f"its aliases expand to more than {limit} characters and nodes, over "
                    f"{EXPANSION_FACTOR} times its size (an alias bomb?)"
                )
            sizes[key] = size
            continue
        if key in sizes:
            continue
        if isinstance(node, yaml.ScalarNode):
            sizes[key] = 1 + len(str(node.value))
            continue
        open_nodes.add(key)
        stack.append((node, True))
        for child in _children(node):
            if id(child) in open_nodes:
                raise YamlExpansionError("an alias refers to a node that contains it")
            if id(child) not in sizes:
                stack.append((child, False))
    return sizes[id(root)]


def load(text: str) -> Any:
    """`yaml.safe_load`, refusing a document whose aliases expand far past its own size.

    One certify run reads each cassette several times (its meta, its checks, vcrpy's
    replay): the same text is parsed once, and every caller gets its own copy to change.
    """
    return _copy(_parsed(text))


#: Parsed documents kept: enough for one vendor's cassettes read in turn by every check.
_PARSED_DOCUMENTS = 64


@functools.lru_cache(maxsize=_PARSED_DOCUMENTS)
def _parsed(text: str) -> Any:
    limit = EXPANSION_FACTOR * len(text) + EXPANSION_SLACK
    loader = SafeLoader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return None
        if "&" in text:  # without an anchor no alias can stand for more than it says
            expanded_size(node, limit)
        return _built(loader, node)
    finally:
        loader.dispose()


_STR = "tag:yaml.org,2002:str"
_SEQ = "tag:yaml.org,2002:seq"
_MAP = "tag:yaml.org,2002:map"


def _built(loader: SafeLoader, node: yaml.Node) -> Any:
    """What `construct_document` builds from `node`, with the strings, lists and string-keyed
    mappings that are nearly all of a cassette built here directly: PyYAML's constructor takes
    about as long as the C parser to go through its generic machinery for each of them. Any
    other node (a number, a date, a merge key) goes to that constructor."""
    tag = node.tag
    if tag == _STR and isinstance(node, yaml.ScalarNode):
        return node.value
    if tag == _SEQ and isinstance(node, yaml.SequenceNode):
        return [_built(loader, item) for item in node.value]
    if (
        tag == _MAP
        and isinstance(node, yaml.MappingNode)
        and all(key.tag == _STR and isinstance(key, yaml.ScalarNode) for key, _ in node.value)
    ):
        return {key.value: _built(loader, value) for key, value in node.value}
    return loader.construct_object(node, deep=True)


def _copy(value: Any) -> Any:
    """A deep copy of a parsed document: containers rebuilt, scalars shared (immutable)."""
    kind = type(value)
    if kind is dict:
        return {key: _copy(item) for key, item in value.items()}
    if kind is list:
        return [_copy(item) for item in value]
    if kind in (str, int, float, bool, bytes) or value is None:
        return value
    return copy.deepcopy(value)  # timestamps, sets: rare in a cassette
