-- Rooms and the event graph (docs/EVENTS.md).

CREATE TABLE rooms (
    room_id TEXT PRIMARY KEY,
    room_version TEXT NOT NULL,
    creator TEXT NOT NULL,
    -- published in the room directory (createRoom `visibility: public`)
    is_public INTEGER NOT NULL DEFAULT 0,
    created_ts BIGINT NOT NULL
);

-- Every event we hold, in the graph or as an outlier. `stream_ordering` is the
-- position in the global "events" stream; `topological_ordering` is the depth.
CREATE TABLE events (
    stream_ordering BIGINT PRIMARY KEY,
    event_id TEXT NOT NULL UNIQUE,
    room_id TEXT NOT NULL,
    -- kept per event: outliers may belong to rooms we have no row for
    room_version TEXT NOT NULL,
    topological_ordering BIGINT NOT NULL,
    type TEXT NOT NULL,
    state_key TEXT,
    sender TEXT NOT NULL,
    origin_server_ts BIGINT NOT NULL,
    json TEXT NOT NULL,
    outlier INTEGER NOT NULL DEFAULT 0,
    rejected_reason TEXT,
    soft_failed INTEGER NOT NULL DEFAULT 0,
    -- the accepted redaction that applies to this event, if any
    redacted_by TEXT
);
CREATE INDEX events_room_stream ON events (room_id, stream_ordering);
CREATE INDEX events_room_topo ON events (room_id, topological_ordering, stream_ordering);

-- prev_events edges: event_id -> prev_event_id
CREATE TABLE event_edges (
    event_id TEXT NOT NULL,
    prev_event_id TEXT NOT NULL,
    PRIMARY KEY (event_id, prev_event_id)
);
CREATE INDEX event_edges_prev ON event_edges (prev_event_id);

-- auth_events edges: event_id -> auth_id
CREATE TABLE event_auth (
    event_id TEXT NOT NULL,
    auth_id TEXT NOT NULL,
    PRIMARY KEY (event_id, auth_id)
);

-- The events of a room that no other event names as a prev_event yet.
CREATE TABLE forward_extremities (
    room_id TEXT NOT NULL,
    event_id TEXT NOT NULL,
    PRIMARY KEY (room_id, event_id)
);

-- State snapshots, each stored as a delta against `prev_group`; a group without a
-- parent holds its full state. `chain_length` counts the deltas down to that snapshot
-- and is capped (storage/state.py) so reading a group stays cheap.
CREATE TABLE state_groups (
    id BIGINT PRIMARY KEY,
    room_id TEXT NOT NULL,
    prev_group BIGINT,
    chain_length INTEGER NOT NULL
);

-- The entries of a group (or of its delta). A NULL event_id removes the key.
CREATE TABLE state_group_entries (
    state_group BIGINT NOT NULL,
    type TEXT NOT NULL,
    state_key TEXT NOT NULL,
    event_id TEXT,
    PRIMARY KEY (state_group, type, state_key)
);

-- The state before and after each non-outlier event.
CREATE TABLE event_to_state_groups (
    event_id TEXT PRIMARY KEY,
    state_group_before BIGINT NOT NULL,
    state_group_after BIGINT NOT NULL
);

-- The resolved state of each room now, for fast reads.
CREATE TABLE current_state (
    room_id TEXT NOT NULL,
    type TEXT NOT NULL,
    state_key TEXT NOT NULL,
    event_id TEXT NOT NULL,
    -- for m.room.member: the membership, so member lists need no JSON parsing
    membership TEXT,
    PRIMARY KEY (room_id, type, state_key)
);

-- Every membership event, in stream order (history).
CREATE TABLE room_memberships (
    event_id TEXT PRIMARY KEY,
    stream_ordering BIGINT NOT NULL,
    room_id TEXT NOT NULL,
    user_id TEXT NOT NULL,
    sender TEXT NOT NULL,
    membership TEXT NOT NULL
);
CREATE INDEX room_memberships_user ON room_memberships (user_id, room_id);

-- The current membership of our own users, and whether they forgot the room.
CREATE TABLE local_current_membership (
    user_id TEXT NOT NULL,
    room_id TEXT NOT NULL,
    event_id TEXT NOT NULL,
    membership TEXT NOT NULL,
    forgotten INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (user_id, room_id)
);

-- Client transaction IDs, so a retried send returns the first event.
CREATE TABLE event_txn_ids (
    user_id TEXT NOT NULL,
    device_id TEXT NOT NULL,
    txn_id TEXT NOT NULL,
    event_id TEXT NOT NULL,
    room_id TEXT NOT NULL,
    inserted_ts BIGINT NOT NULL,
    PRIMARY KEY (user_id, device_id, txn_id)
);
CREATE INDEX event_txn_ids_event ON event_txn_ids (event_id);

-- Redaction events and what they redact (the target may arrive later).
CREATE TABLE redactions (
    event_id TEXT PRIMARY KEY,
    redacts TEXT NOT NULL
);
CREATE INDEX redactions_redacts ON redactions (redacts);

-- Local room aliases (#alias:our.server -> room).
CREATE TABLE room_aliases (
    room_alias TEXT PRIMARY KEY,
    room_id TEXT NOT NULL,
    creator TEXT NOT NULL
);
CREATE INDEX room_aliases_room ON room_aliases (room_id);
