-- Account data, global and per room (docs/STREAMS: the "account_data" stream).
-- One row per (user, room, type) holding the latest content; `stream_id` is the
-- position of its latest change, so /sync reads the rows changed between two tokens.
CREATE TABLE account_data (
    user_id TEXT NOT NULL,
    -- '' for global account data
    room_id TEXT NOT NULL,
    type TEXT NOT NULL,
    content TEXT NOT NULL,
    stream_id BIGINT NOT NULL,
    PRIMARY KEY (user_id, room_id, type)
);
CREATE INDEX account_data_user_stream ON account_data (user_id, stream_id);
