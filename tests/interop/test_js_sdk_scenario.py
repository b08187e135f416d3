"""matrix-js-sdk (a real JavaScript client, run by Node 22 from tests/interop/js) against
a running Ranvier: the same life of rooms as the nio scenario, driven by
tests/interop/js/scenario.mjs, which reports each step it passed as JSON."""

from __future__ import annotations

import pytest

from tests.interop.conftest import RanvierProcess
from tests.interop.js_runner import run_js_scenario

pytestmark = pytest.mark.interop

ALL_STEPS = [
    "register and start two clients",
    "public room with an alias, joined by alias",
    "private room: invite, then join",
    "messages both ways",
    "edit (m.replace)",
    "reaction (m.annotation)",
    "reply in a thread (m.thread)",
    "redaction",
    "history, paginated backwards",
    "typing notifications",
    "read receipts",
    "power levels",
    "kick",
    "ban: rejoin, banned, cannot rejoin",
    "leave and forget",
]


def test_two_js_sdk_clients_share_the_life_of_rooms(ranvier_server: RanvierProcess) -> None:
    report = run_js_scenario(
        ranvier_server, "scenario.mjs", "--server-name", ranvier_server.server_name
    )
    assert report["steps"] == ALL_STEPS


def test_elements_js_sdk_draws_a_profile_change_with_the_new_avatar(
    ranvier_server: RanvierProcess,
) -> None:
    """Element Web's own matrix-js-sdk release (31.3, lazy loading) draws a member's
    profile change with the new avatar, as on Synapse (docs/ELEMENT_WEB.md, step 5)."""
    report = run_js_scenario(
        ranvier_server, "element_profile_change.mjs", "--server-name", ranvier_server.server_name
    )
    assert report["steps"] == [
        "two lazy-loading clients in one room",
        "a profile change is drawn with the new avatar in both open sessions",
    ]
