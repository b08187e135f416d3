-- Full-text index of searchable room events (storage/search.py, POST /search).
-- One row per event, keyed by its stream_ordering (the events table's primary key),
-- holding the tsvector of the event's searched key (content.body, .name or .topic),
-- with the 'english' configuration: stemming and stop words.
CREATE TABLE event_search (
    stream_ordering BIGINT PRIMARY KEY,
    vector TSVECTOR NOT NULL
);
CREATE INDEX event_search_vector ON event_search USING GIN (vector);

-- Index what is already stored (events persisted before this migration).
INSERT INTO event_search (stream_ordering, vector)
SELECT stream_ordering, to_tsvector('english', json::jsonb #>> ARRAY['content', k.field])
FROM events
JOIN (VALUES ('m.room.message', 'body'), ('m.room.name', 'name'), ('m.room.topic', 'topic'))
    AS k (type, field) ON k.type = events.type
WHERE jsonb_typeof(json::jsonb #> ARRAY['content', k.field]) = 'string'
  AND outlier = 0 AND rejected_reason IS NULL AND soft_failed = 0;
