-- Receipts as a WITHOUT ROWID table, as 0012_compact_tables.sqlite.sql did for the event
-- tables (one B-tree fewer to write per receipt).

CREATE TABLE receipts_compact (room_id TEXT NOT NULL, receipt_type TEXT NOT NULL, user_id TEXT NOT NULL, thread_id TEXT NOT NULL, event_id TEXT NOT NULL, event_stream_ordering BIGINT NOT NULL, ts BIGINT NOT NULL, stream_id BIGINT NOT NULL, PRIMARY KEY (room_id, receipt_type, user_id, thread_id)) WITHOUT ROWID;
INSERT INTO receipts_compact (room_id, receipt_type, user_id, thread_id, event_id, event_stream_ordering, ts, stream_id) SELECT room_id, receipt_type, user_id, thread_id, event_id, event_stream_ordering, ts, stream_id FROM receipts;
DROP TABLE receipts;
ALTER TABLE receipts_compact RENAME TO receipts;
CREATE INDEX receipts_room_stream ON receipts (room_id, stream_id);
CREATE INDEX receipts_user_room ON receipts (user_id, room_id);
