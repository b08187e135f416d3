-- Each user's push rules as one JSON document (their own rules in priority order and
-- their changes to server-default rules; storage/push_rules.py): push rules are always
-- read and written whole. `stream_id` is the position of the last change on the
-- "push_rules" stream, which /sync reads as m.push_rules account data.
CREATE TABLE push_rules (
    user_id TEXT PRIMARY KEY,
    rules TEXT NOT NULL,
    stream_id BIGINT NOT NULL
);
CREATE INDEX push_rules_stream ON push_rules (stream_id);
