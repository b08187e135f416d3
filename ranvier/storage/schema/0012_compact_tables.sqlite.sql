-- The hot tables keyed by text (the event graph's edges, state, memberships, transaction
-- IDs; receipts in 0063) as WITHOUT ROWID tables: each row then lives in its primary key's B-tree
-- alone, instead of in a rowid table plus a separate index of the key. An event's
-- transaction dirties one page fewer per such table, and in WAL mode a commit costs about
-- one write per dirty page (docs/STORAGE.md). Same columns, keys and indexes as before.

CREATE TABLE event_edges_compact (event_id TEXT NOT NULL, prev_event_id TEXT NOT NULL, PRIMARY KEY (event_id, prev_event_id)) WITHOUT ROWID;
INSERT INTO event_edges_compact (event_id, prev_event_id) SELECT event_id, prev_event_id FROM event_edges;
DROP TABLE event_edges;
ALTER TABLE event_edges_compact RENAME TO event_edges;
CREATE INDEX event_edges_prev ON event_edges (prev_event_id);

CREATE TABLE event_auth_compact (event_id TEXT NOT NULL, auth_id TEXT NOT NULL, PRIMARY KEY (event_id, auth_id)) WITHOUT ROWID;
INSERT INTO event_auth_compact (event_id, auth_id) SELECT event_id, auth_id FROM event_auth;
DROP TABLE event_auth;
ALTER TABLE event_auth_compact RENAME TO event_auth;

CREATE TABLE forward_extremities_compact (room_id TEXT NOT NULL, event_id TEXT NOT NULL, PRIMARY KEY (room_id, event_id)) WITHOUT ROWID;
INSERT INTO forward_extremities_compact (room_id, event_id) SELECT room_id, event_id FROM forward_extremities;
DROP TABLE forward_extremities;
ALTER TABLE forward_extremities_compact RENAME TO forward_extremities;

CREATE TABLE state_group_entries_compact (state_group BIGINT NOT NULL, type TEXT NOT NULL, state_key TEXT NOT NULL, event_id TEXT, PRIMARY KEY (state_group, type, state_key)) WITHOUT ROWID;
INSERT INTO state_group_entries_compact (state_group, type, state_key, event_id) SELECT state_group, type, state_key, event_id FROM state_group_entries;
DROP TABLE state_group_entries;
ALTER TABLE state_group_entries_compact RENAME TO state_group_entries;

CREATE TABLE event_to_state_groups_compact (event_id TEXT PRIMARY KEY, state_group_before BIGINT NOT NULL, state_group_after BIGINT NOT NULL) WITHOUT ROWID;
INSERT INTO event_to_state_groups_compact (event_id, state_group_before, state_group_after) SELECT event_id, state_group_before, state_group_after FROM event_to_state_groups;
DROP TABLE event_to_state_groups;
ALTER TABLE event_to_state_groups_compact RENAME TO event_to_state_groups;

CREATE TABLE current_state_compact (room_id TEXT NOT NULL, type TEXT NOT NULL, state_key TEXT NOT NULL, event_id TEXT NOT NULL, membership TEXT, PRIMARY KEY (room_id, type, state_key)) WITHOUT ROWID;
INSERT INTO current_state_compact (room_id, type, state_key, event_id, membership) SELECT room_id, type, state_key, event_id, membership FROM current_state;
DROP TABLE current_state;
ALTER TABLE current_state_compact RENAME TO current_state;

CREATE TABLE room_memberships_compact (event_id TEXT PRIMARY KEY, stream_ordering BIGINT NOT NULL, room_id TEXT NOT NULL, user_id TEXT NOT NULL, sender TEXT NOT NULL, membership TEXT NOT NULL) WITHOUT ROWID;
INSERT INTO room_memberships_compact (event_id, stream_ordering, room_id, user_id, sender, membership) SELECT event_id, stream_ordering, room_id, user_id, sender, membership FROM room_memberships;
DROP TABLE room_memberships;
ALTER TABLE room_memberships_compact RENAME TO room_memberships;
CREATE INDEX room_memberships_user ON room_memberships (user_id, room_id);

CREATE TABLE local_current_membership_compact (user_id TEXT NOT NULL, room_id TEXT NOT NULL, event_id TEXT NOT NULL, membership TEXT NOT NULL, forgotten INTEGER NOT NULL DEFAULT 0, PRIMARY KEY (user_id, room_id)) WITHOUT ROWID;
INSERT INTO local_current_membership_compact (user_id, room_id, event_id, membership, forgotten) SELECT user_id, room_id, event_id, membership, forgotten FROM local_current_membership;
DROP TABLE local_current_membership;
ALTER TABLE local_current_membership_compact RENAME TO local_current_membership;

CREATE TABLE event_txn_ids_compact (user_id TEXT NOT NULL, device_id TEXT NOT NULL, txn_id TEXT NOT NULL, event_id TEXT NOT NULL, room_id TEXT NOT NULL, inserted_ts BIGINT NOT NULL, PRIMARY KEY (user_id, device_id, txn_id)) WITHOUT ROWID;
INSERT INTO event_txn_ids_compact (user_id, device_id, txn_id, event_id, room_id, inserted_ts) SELECT user_id, device_id, txn_id, event_id, room_id, inserted_ts FROM event_txn_ids;
DROP TABLE event_txn_ids;
ALTER TABLE event_txn_ids_compact RENAME TO event_txn_ids;
CREATE INDEX event_txn_ids_event ON event_txn_ids (event_id);
