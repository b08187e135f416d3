-- Read receipts: the latest receipt per (room, type, user, thread) (the "receipts"
-- stream). `event_stream_ordering` is the receipted event's position in the events
-- stream, so receipts only move forward and unread counts can compare against it.
CREATE TABLE receipts (
    room_id TEXT NOT NULL,
    receipt_type TEXT NOT NULL,
    user_id TEXT NOT NULL,
    -- '' for an unthreaded receipt; 'main' or a thread root's event ID otherwise
    thread_id TEXT NOT NULL,
    event_id TEXT NOT NULL,
    event_stream_ordering BIGINT NOT NULL,
    ts BIGINT NOT NULL,
    stream_id BIGINT NOT NULL,
    PRIMARY KEY (room_id, receipt_type, user_id, thread_id)
);
CREATE INDEX receipts_room_stream ON receipts (room_id, stream_id);
CREATE INDEX receipts_user_room ON receipts (user_id, room_id);
