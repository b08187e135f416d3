-- Full-text index of searchable room events (storage/search.py, POST /search).
-- One row per event, keyed by its stream_ordering (the events table's primary key),
-- holding the text of the event's searched key (content.body, .name or .topic).
-- porter + unicode61: English stemming, Unicode case folding.
CREATE VIRTUAL TABLE event_search USING fts5(body, tokenize = 'porter unicode61');

-- Index what is already stored (events persisted before this migration).
INSERT INTO event_search (rowid, body)
SELECT stream_ordering, json_extract(json, '$.content.body') FROM events
WHERE type = 'm.room.message' AND json_type(json, '$.content.body') = 'text'
  AND outlier = 0 AND rejected_reason IS NULL AND soft_failed = 0;
INSERT INTO event_search (rowid, body)
SELECT stream_ordering, json_extract(json, '$.content.name') FROM events
WHERE type = 'm.room.name' AND json_type(json, '$.content.name') = 'text'
  AND outlier = 0 AND rejected_reason IS NULL AND soft_failed = 0;
INSERT INTO event_search (rowid, body)
SELECT stream_ordering, json_extract(json, '$.content.topic') FROM events
WHERE type = 'm.room.topic' AND json_type(json, '$.content.topic') = 'text'
  AND outlier = 0 AND rejected_reason IS NULL AND soft_failed = 0;
