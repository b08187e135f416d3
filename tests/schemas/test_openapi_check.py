"""The response checker finds the right schema and rejects what the spec forbids."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.schemas import bundle
from tests.schemas.openapi_check import BUNDLE, load_checker

JSON = "application/json"


def problems(method: str, path: str, status: int, body: object) -> list[str]:
    return load_checker().problems(method, path, status, json.dumps(body).encode(), JSON)


def test_committed_bundle_is_current_with_the_spec() -> None:
    spec = bundle.DEFAULT_SPEC
    if not (spec / "data" / "api" / "client-server").is_dir():
        pytest.skip(f"the spec is not at {spec}; the committed bundle is used as is")
    assert bundle.render(bundle.bundle(spec)) == BUNDLE.read_text(), (
        "tests/schemas/client_server.json is stale: run tests/schemas/bundle.py"
    )


def test_bundle_has_no_unresolved_file_references() -> None:
    text = BUNDLE.read_text()
    assert '.yaml' not in "".join(
        line for line in text.splitlines() if '"$ref"' in line
    )


def test_valid_versions_response_passes() -> None:
    assert problems("GET", "/_matrix/client/versions", 200, {"versions": ["v1.19"]}) == []


def test_versions_response_without_versions_is_reported() -> None:
    found = problems("GET", "/_matrix/client/versions", 200, {"unstable_features": {}})
    assert len(found) == 1
    assert "'versions' is a required property" in found[0]
    assert found[0].startswith("GET /_matrix/client/versions -> 200")


def test_wrong_type_nested_in_an_event_is_reported() -> None:
    body = {"chunk": [{"type": "m.room.message", "content": {}, "event_id": "$e",
                       "room_id": "!r:x", "sender": "@a:x", "origin_server_ts": "soon"}],
            "start": "t1"}
    found = problems("GET", "/_matrix/client/v3/rooms/!r:x/messages", 200, body)
    assert any("origin_server_ts" in p and "'integer'" in p for p in found), found


def test_r0_paths_are_checked_as_v3() -> None:
    found = problems("GET", "/_matrix/client/r0/account/whoami", 200, {})
    assert any("'user_id' is a required property" in p for p in found), found


def test_undocumented_error_status_needs_the_standard_error_shape() -> None:
    whoami = "/_matrix/client/v3/account/whoami"
    assert problems("GET", whoami, 418, {"errcode": "M_UNKNOWN", "error": "teapot"}) == []
    assert problems("GET", whoami, 418, {"error": "no errcode"}) != []


def test_an_undocumented_500_is_always_a_problem() -> None:
    found = problems("GET", "/_matrix/client/v3/account/whoami", 500,
                     {"errcode": "M_UNKNOWN", "error": "Internal server error"})
    assert found == [
        "GET /_matrix/client/v3/account/whoami -> 500: "
        "the spec documents no 500 response for this endpoint"
    ]


def test_paths_outside_the_spec_and_non_json_bodies_are_not_checked() -> None:
    assert problems("GET", "/_synapse/admin/v1/register", 200, {"anything": 1}) == []
    checker = load_checker()
    assert checker.problems("GET", "/_matrix/client/versions", 200, b"<html>", "text/html") == []


def test_state_event_with_empty_state_key_matches_the_state_template() -> None:
    found = load_checker().operation("GET", "/_matrix/client/v3/rooms/!r:x/state/m.room.topic/")
    assert found is not None
    assert found[0] == "/_matrix/client/v3/rooms/{roomId}/state/{eventType}/{stateKey}"


def test_encoded_slash_in_a_parameter_stays_in_one_segment() -> None:
    found = load_checker().operation(
        "PUT", "/_matrix/client/v3/rooms/!r:x/send/m.room.message/txn%2F1"
    )
    assert found is not None
    assert found[0] == "/_matrix/client/v3/rooms/{roomId}/send/{eventType}/{txnId}"


def test_overlapping_one_of_alternatives_are_accepted() -> None:
    # The spec's answer for a state event is oneOf(content, whole event); an event is
    # also an object, which strict oneOf would refuse.
    event = {"type": "m.room.topic", "state_key": "", "content": {"topic": "t"},
             "event_id": "$e", "room_id": "!r:x", "sender": "@a:x", "origin_server_ts": 1}
    path = "/_matrix/client/v3/rooms/!r:x/state/m.room.topic/"
    assert problems("GET", path, 200, event) == []


def test_bundle_script_writes_where_the_checker_reads() -> None:
    assert Path(bundle.OUTPUT) == BUNDLE


def test_an_undocumented_401_may_start_user_interactive_auth() -> None:
    path = "/_matrix/client/v3/keys/device_signing/upload"
    uia = {"flows": [{"stages": ["m.login.password"]}], "params": {}, "session": "s"}
    assert problems("POST", path, 401, uia) == []
    assert problems("POST", path, 401, {"session": "s"}) != []


def test_sync_with_an_event_fields_filter_is_not_checked() -> None:
    trimmed = {"next_batch": "s1", "rooms": {"join": {"!r:x": {
        "timeline": {"events": [{"type": "m.room.message"}]}}}}}
    assert problems("GET", "/_matrix/client/v3/sync", 200, trimmed) != []
    inline = '?filter=%7B%22event_fields%22%3A%5B%22type%22%5D%7D'
    assert problems("GET", "/_matrix/client/v3/sync" + inline, 200, trimmed) == []


def test_only_the_listed_deviation_of_turn_server_is_allowed() -> None:
    path = "/_matrix/client/v3/voip/turnServer"
    assert problems("GET", path, 200, {}) == []
    assert problems("GET", path, 200, {"uris": ["turn:x"]}) != []
