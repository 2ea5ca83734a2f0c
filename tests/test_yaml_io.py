"""Cassette YAML is parsed once per text, and each reader still gets a document of its own."""

from __future__ import annotations

import datetime as dt

import pytest

from contracts import yaml_io

TEXT = "meta: {source: replica, at: 2026-01-02}\ninteractions:\n- {body: {string: hi}}\n"


def test_a_reader_changing_its_document_changes_no_other_readers() -> None:
    first = yaml_io.load(TEXT)
    first["interactions"][0]["body"]["string"] = "changed"
    first["meta"].clear()
    assert yaml_io.load(TEXT) == {
        "meta": {"source": "replica", "at": dt.date(2026, 1, 2)},
        "interactions": [{"body": {"string": "hi"}}],
    }


def test_the_same_text_is_parsed_once() -> None:
    text = TEXT + "# parsed once\n"
    before = yaml_io._parsed.cache_info().misses
    yaml_io.load(text)
    yaml_io.load(text)
    assert yaml_io._parsed.cache_info().misses == before + 1


def test_an_alias_bomb_is_refused_every_time() -> None:
    bomb = "a: &a [x, x, x, x, x, x, x, x, x, x]\n" + "".join(
        f"{chr(98 + n)}: &{chr(98 + n)} [{', '.join(['*' + chr(97 + n)] * 10)}]\n" for n in range(6)
    )
    for _ in range(2):
        with pytest.raises(yaml_io.YamlExpansionError):
            yaml_io.load(bomb)


#: Everything besides strings, lists and string-keyed mappings that a YAML file can hold.
EVERY_KIND = """
base: &base {a: 1, b: [x, 2.5]}
derived:
  <<: *base
  c: null
flags: [yes, no, true, ~, 0x1f, 1_000, .inf, 2026-01-02 03:04:05]
1: integer key
quoted: {"3": "4", '': ''}
binary: !!binary aGk=
again: *base
"""


def test_a_document_is_built_as_pyyaml_builds_it() -> None:
    for text in (EVERY_KIND, TEXT):
        assert yaml_io.load(text) == yaml_io.yaml.safe_load(text)


def test_a_mapping_key_that_cannot_be_a_key_is_refused_as_pyyaml_refuses_it() -> None:
    with pytest.raises(yaml_io.yaml.constructor.ConstructorError, match="unhashable key"):
        yaml_io.load("? [a, b]\n: sequence key\n")
