-- On SQLite only a column declared exactly `INTEGER PRIMARY KEY` is the table's rowid;
-- `BIGINT PRIMARY KEY` made events and state_groups keep a rowid B-tree plus a second
-- B-tree for their key. Rebuilt with the key as the rowid: one page fewer to write per
-- event and per state group (docs/STORAGE.md). Same columns, values and indexes.

CREATE TABLE events_keyed (
    stream_ordering INTEGER PRIMARY KEY,
    event_id TEXT NOT NULL UNIQUE,
    room_id TEXT NOT NULL,
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
    redacted_by TEXT
);
INSERT INTO events_keyed (stream_ordering, event_id, room_id, room_version,
    topological_ordering, type, state_key, sender, origin_server_ts, json, outlier,
    rejected_reason, soft_failed, redacted_by)
SELECT stream_ordering, event_id, room_id, room_version, topological_ordering, type,
    state_key, sender, origin_server_ts, json, outlier, rejected_reason, soft_failed,
    redacted_by
FROM events;
DROP TABLE events;
ALTER TABLE events_keyed RENAME TO events;
CREATE INDEX events_room_stream ON events (room_id, stream_ordering);
CREATE INDEX events_room_topo ON events (room_id, topological_ordering, stream_ordering);

CREATE TABLE state_groups_keyed (
    id INTEGER PRIMARY KEY,
    room_id TEXT NOT NULL,
    prev_group BIGINT,
    chain_length INTEGER NOT NULL
);
INSERT INTO state_groups_keyed (id, room_id, prev_group, chain_length)
SELECT id, room_id, prev_group, chain_length FROM state_groups;
DROP TABLE state_groups;
ALTER TABLE state_groups_keyed RENAME TO state_groups;
