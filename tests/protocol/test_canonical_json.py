from __future__ import annotations

import json
import math
from collections import OrderedDict
from typing import Any

import canonicaljson
import pytest
from hypothesis import given
from hypothesis import strategies as st

from ranvier.protocol.canonical_json import (
    MAX_SAFE_INTEGER,
    MIN_SAFE_INTEGER,
    check_strict_json,
    encode_canonical_json,
    parse_json,
)
from ranvier.protocol.errors import InvalidJson

# appendices.md "Canonical JSON" > "Examples": input text, expected canonical bytes.
SPEC_EXAMPLES = [
    ("{}", "{}"),
    ('{"one": 1, "two": "Two"}', '{"one":1,"two":"Two"}'),
    ('{"b": "2", "a": "1"}', '{"a":"1","b":"2"}'),
    ('{"b":"2","a":"1"}', '{"a":"1","b":"2"}'),
    (
        """{"auth": {"success": true, "mxid": "@john.doe:example.com", "profile": {
            "display_name": "John Doe", "three_pids": [
            {"medium": "email", "address": "john.doe@example.org"},
            {"medium": "msisdn", "address": "123456789"}]}}}""",
        '{"auth":{"mxid":"@john.doe:example.com","profile":{"display_name":"John Doe",'
        '"three_pids":[{"address":"john.doe@example.org","medium":"email"},'
        '{"address":"123456789","medium":"msisdn"}]},"success":true}}',
    ),
    ('{"a": "日本語"}', '{"a":"日本語"}'),
    ('{"本": 2, "日": 1}', '{"日":1,"本":2}'),
    ('{"a": "\\u65E5"}', '{"a":"日"}'),
    ('{"a": null}', '{"a":null}'),
    ('{"a": -0}', '{"a":0}'),
]


@pytest.mark.parametrize(("text", "expected"), SPEC_EXAMPLES)
def test_spec_examples_encode_canonically(text: str, expected: str) -> None:
    assert encode_canonical_json(parse_json(text.encode())) == expected.encode()


def test_control_characters_use_the_grammars_escapes() -> None:
    encoded = encode_canonical_json({"a": '\b\t\n\f\r"\\\x00\x1f\x7f'})
    assert encoded == b'{"a":"\\b\\t\\n\\f\\r\\"\\\\\\u0000\\u001f\x7f"}'


def test_exponent_float_keeps_the_encoding_other_servers_hash() -> None:
    # The spec's `1e10` example would become 10000000000; room versions 1-5 carry such
    # floats and every other server (canonicaljson) hashes them as written here.
    assert encode_canonical_json(parse_json(b'{"b": 1e10}')) == b'{"b":10000000000.0}'


@pytest.mark.parametrize("value", [math.nan, math.inf, -math.inf])
def test_nan_and_infinity_cannot_be_encoded(value: float) -> None:
    with pytest.raises(InvalidJson, match="canonical JSON"):
        encode_canonical_json({"a": value})


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ({"a": 1.0}, "a: float 1.0"),
        ({"a": {"b": [1, 2, 0.5]}}, r"a.b\[2\]: float 0.5"),
        ({"a": MAX_SAFE_INTEGER + 1}, "a: integer 9007199254740992 is outside"),
        ([MIN_SAFE_INTEGER - 1], r"\[0\]: integer -9007199254740992"),
        (2**64, "^integer"),
        ({"a": {1, 2}}, "a: set is not a JSON value"),
    ],
)
def test_strict_json_rejects_floats_and_unsafe_integers(value: Any, message: str) -> None:
    with pytest.raises(InvalidJson, match=message):
        check_strict_json(value)


@pytest.mark.parametrize(
    "value",
    [
        {},
        {"a": [MAX_SAFE_INTEGER, MIN_SAFE_INTEGER, 0, True, False, None, "x"]},
        ("tuple", 1),
        # subclasses of the JSON types take the slower, path-naming walk
        OrderedDict(a=[1, "x"]),
    ],
)
def test_strict_json_accepts_safe_values(value: Any) -> None:
    check_strict_json(value)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b'{"a": NaN}', "invalid JSON"),
        (b'{"a": Infinity}', "invalid JSON"),
        (b'{"a": -Infinity}', "invalid JSON"),
        (b'{"a": 1, "a": 2}', "key 'a' appears twice"),
        (b'[{"x": {"b": 1, "b": 1}}]', "key 'b' appears twice"),
        (b'{"a": "\xff"}', "invalid JSON"),
        (b'{"a": "\\ud800"}', "invalid JSON"),
        (b'{"a": 1', "invalid JSON"),
        (b"", "invalid JSON"),
    ],
)
def test_parse_json_rejects_bad_input(data: bytes, message: str) -> None:
    with pytest.raises(InvalidJson, match=message):
        parse_json(data)


def test_parse_json_reads_scalars_and_containers() -> None:
    assert parse_json(b"12") == 12
    assert parse_json(b'{"a": [1, "\\u00e9", null, true]}') == {"a": [1, "é", None, True]}


# --- properties -----------------------------------------------------------------------

safe_ints = st.integers(min_value=MIN_SAFE_INTEGER, max_value=MAX_SAFE_INTEGER)
scalars = st.none() | st.booleans() | safe_ints | st.text()
strict_json = st.recursive(
    scalars,
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(), children, max_size=4)
    ),
    max_leaves=20,
)
any_json = st.recursive(
    scalars | st.integers() | st.floats(allow_nan=False, allow_infinity=False),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(), children, max_size=4)
    ),
    max_leaves=20,
)


@given(strict_json)
def test_encoding_round_trips(value: Any) -> None:
    assert parse_json(encode_canonical_json(value)) == value


@given(st.dictionaries(st.text(), strict_json, max_size=8), st.randoms())
def test_encoding_ignores_key_order(value: dict[str, Any], random: Any) -> None:
    items = list(value.items())
    random.shuffle(items)
    assert encode_canonical_json(dict(items)) == encode_canonical_json(value)


@given(strict_json)
def test_encoding_matches_the_spec_reference_code(value: Any) -> None:
    # appendices.md "Canonical JSON" gives this Python as the definition.
    reference = json.dumps(value, ensure_ascii=False, separators=(",", ":"), sort_keys=True)
    assert encode_canonical_json(value) == reference.encode("UTF-8")


def _strictly_valid(value: Any) -> bool:
    """Reference predicate written from the spec's sentence, independent of the walk."""
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return True
    if isinstance(value, int):
        return -(2**53) + 1 <= value <= 2**53 - 1
    if isinstance(value, float):
        return False
    if isinstance(value, dict):
        return all(_strictly_valid(v) for v in value.values())
    return all(_strictly_valid(v) for v in value)


@given(any_json)
def test_strict_check_agrees_with_the_spec_predicate(value: Any) -> None:
    try:
        check_strict_json(value)
    except InvalidJson:
        accepted = False
    else:
        accepted = True
    assert accepted == _strictly_valid(value)


@given(any_json)
def test_fast_encoder_matches_the_reference_encoder(value: Any) -> None:
    # Strings, ints and the rest go through orjson; these must be the bytes that
    # matrix-org's canonicaljson (what other servers hash) makes of every value.
    assert encode_canonical_json(value) == canonicaljson.encode_canonical_json(value)


@pytest.mark.parametrize(
    "value",
    [{"a": 2**64}, {"a": -(2**70)}, {1: "non-string key"}, {"a": [1, {"b": 0.1}]}],
)
def test_values_orjson_cannot_encode_canonically_take_the_reference_encoder(
    value: Any,
) -> None:
    assert encode_canonical_json(value) == canonicaljson.encode_canonical_json(value)
