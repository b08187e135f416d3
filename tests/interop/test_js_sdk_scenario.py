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
    "profile change drawn with the new avatar under lazy loading",
    "leave and forget",
]


def test_two_js_sdk_clients_share_the_life_of_rooms(ranvier_server: RanvierProcess) -> None:
    report = run_js_scenario(
        ranvier_server, "scenario.mjs", "--server-name", ranvier_server.server_name
    )
    assert report["steps"] == ALL_STEPS
