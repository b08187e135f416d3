-- Filters uploaded with POST /user/{userId}/filter (docs/SYNC.md). IDs count up per
-- user; `filter_hash` (SHA-256 of the canonical JSON) lets an identical upload return
-- the ID it already has.
CREATE TABLE user_filters (
    user_id TEXT NOT NULL,
    filter_id BIGINT NOT NULL,
    filter_hash TEXT NOT NULL,
    filter_json TEXT NOT NULL,
    PRIMARY KEY (user_id, filter_id)
);
CREATE UNIQUE INDEX user_filters_hash ON user_filters (user_id, filter_hash);
