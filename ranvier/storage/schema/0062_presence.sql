-- The latest published presence of each of our users (the "presence" stream).
CREATE TABLE presence (
    user_id TEXT PRIMARY KEY,
    state TEXT NOT NULL,
    status_msg TEXT,
    last_active_ts BIGINT NOT NULL,
    currently_active INTEGER NOT NULL,
    stream_id BIGINT NOT NULL
);
CREATE INDEX presence_stream ON presence (stream_id);
