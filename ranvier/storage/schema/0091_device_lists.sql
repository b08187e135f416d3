-- The "device_lists" stream (services/device_lists.py): each row says that user_id's
-- devices or cross-signing keys changed at stream_id. observer is '' when every user
-- sharing a room with user_id should hear of it, or the one user who should (a
-- signature by their user-signing key is visible to them only).
CREATE TABLE device_lists_stream (
    stream_id BIGINT NOT NULL,
    user_id TEXT NOT NULL,
    observer TEXT NOT NULL,
    PRIMARY KEY (stream_id, user_id, observer)
);
