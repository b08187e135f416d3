-- Content reports (client-server API "Reporting content"), kept for the server's
-- admins. `kind` is 'event', 'room' or 'user'; the columns a kind does not name are NULL.
CREATE TABLE reports (
    report_id TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    reporter TEXT NOT NULL,
    room_id TEXT,
    event_id TEXT,
    target_user_id TEXT,
    reason TEXT,
    score INTEGER,
    received_ts BIGINT NOT NULL
);
CREATE INDEX reports_received ON reports (received_ts);
